"""Train the shipped ``unlearn.t2i`` weights from a seed: the digits model and the evaluator.

Usage::

    nice -n 5 .venv/bin/python scripts/t2i_train.py model --steps 4000 --seed 0 \
        --out unlearn/t2i/weights/digits.safetensors --log out/t2i_train.log
    .venv/bin/python scripts/t2i_train.py evaluator --seed 0 \
        --out unlearn/t2i/weights/evaluator.safetensors

The recipe (``unlearn.t2i.train.RECIPE`` plus ``--steps`` and ``--seed``), the thread count,
the library versions and the cost (seconds, steps per second) are stored in the model file's
metadata (``model.info["training"]``) and printed with the file's sha256, which goes into
``unlearn.t2i.model.PRETRAINED`` (or ``unlearn.t2i.evaluator.SHA256``).  Training is
deterministic given the seed and the thread count on one machine; bit-identical weights
across CPUs or torch versions are not promised, so the shipped files are pinned by hash.
``--checkpoint-every N`` also writes the EMA model every N steps beside ``--out``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path


def _versions() -> dict:
    import diffusers
    import torch
    import transformers

    return {"torch": torch.__version__, "diffusers": diffusers.__version__,
            "transformers": transformers.__version__, "python": platform.python_version()}


def train_model(args) -> int:
    from unlearn.t2i.model import T2IModel
    from unlearn.t2i.train import RECIPE, train

    out = Path(args.out)
    logf = open(args.log, "a") if args.log else sys.stdout  # noqa: SIM115

    def log(row):
        print(json.dumps(row), file=logf, flush=True)

    def checkpoint(m, step):
        p = out.with_name(f"{out.stem}.step{step}.safetensors")
        m.save(p)
        log({"checkpoint": str(p), "step": step})

    model = T2IModel(seed=args.seed)
    recipe = dict(RECIPE)
    for k in ("batch_size", "lr", "ema"):
        if getattr(args, k) is not None:
            recipe[k] = getattr(args, k)
    log({"start": time.strftime("%Y-%m-%d %H:%M:%S"), "steps": args.steps, "seed": args.seed,
         **recipe})
    hist = train(model, steps=args.steps, seed=args.seed, log=log, log_every=50,
                 checkpoint=checkpoint if args.checkpoint_every else None,
                 checkpoint_every=args.checkpoint_every, **recipe)
    model.info["training"] = {
        **hist["recipe"], "seconds": round(hist["seconds"], 1),
        "steps_per_second": round(hist["steps_per_second"], 3),
        "final_loss": round(float(sum(hist["loss"][-100:]) / min(100, len(hist["loss"]))), 5),
        "versions": _versions(), "script": "scripts/t2i_train.py",
    }
    digest = model.save(out)
    log({"done": str(out), "sha256": digest, **model.info["training"]})
    print(f"wrote {out} sha256 {digest} in {hist['seconds']:.0f} s")
    return 0


def train_evaluator(args) -> int:
    from unlearn.t2i import evaluator

    t0 = time.perf_counter()
    ev, report = evaluator.train_evaluator(seed=args.seed)
    digest = ev.save(args.out, info={**report, "seconds": round(time.perf_counter() - t0, 1),
                                     "versions": _versions(), "seed": args.seed})
    print(json.dumps(report))
    print(f"wrote {args.out} sha256 {digest}")
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("what", choices=["model", "evaluator"])
    p.add_argument("--steps", type=int, default=4000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", dest="batch_size", type=int, default=None)
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--ema", type=float, default=None)
    p.add_argument("--out", required=True)
    p.add_argument("--log", default=None)
    p.add_argument("--checkpoint-every", type=int, default=0)
    args = p.parse_args(argv)
    return train_model(args) if args.what == "model" else train_evaluator(args)


if __name__ == "__main__":
    sys.exit(main())
