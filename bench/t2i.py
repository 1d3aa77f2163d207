"""Benchmark: unlearn.t2i — erasers, attacks and generation against references in the same run.

Every row is a ratio against a reference measured in the same run (wall-clock times move
with machine load; ratios are what to compare):

- ``erase(method=uce|rece|realera)`` against **one training step** of the substrate (batch
  32), i.e. the cost of an erasure in training steps; the substrate's training run is
  ``model.info["training"]["steps"]`` steps.
- ``textual-inversion`` (``--ti-iterations``) against the same training step.
- UCE's edit of the eight cross-attention maps (the solve only, keys given) against the
  textbook formula ``(λW + Σ v cᵀ + Σ W c cᵀ) · inv(λI + Σ c cᵀ + Σ c cᵀ)`` with an explicit
  384×384 inverse.
- ``generate`` of 64 images (batched) against the same 64 images one at a time.
- The transformers MiniLM (``TextEncoder``) against the numpy MiniLM (``unlearn.embed``) on
  the 160 digit prompts.

Usage::

    .venv/bin/python bench/t2i.py [--repeat 3] [--ti-iterations 50]
"""

from __future__ import annotations

import argparse
import os
import sys
import timeit

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

import numpy as np


def _time(fn, repeat: int) -> float:
    """Best of ``repeat`` timed calls after one warm-up call."""
    fn()
    return min(timeit.repeat(fn, number=1, repeat=repeat))


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--ti-iterations", type=int, default=50)
    args = p.parse_args(argv)

    from unlearn.embed import MiniLM
    from unlearn.t2i import attack, data, erase, pretrained
    from unlearn.t2i.erasers import erase_keys, projections, spec_for
    from unlearn.t2i.text import TextEncoder
    from unlearn.t2i.train import train

    model = pretrained("digits")
    rows = []

    scratch = model.copy()
    t_step = _time(lambda: train(scratch, steps=1, batch_size=32, warmup=0, ema=0.0),
                   args.repeat)
    for m in ("uce", "rece", "realera"):
        t = _time(lambda m=m: erase(model, "seven", method=m), args.repeat)
        rows.append((f"erase {m} ('seven')", "one training step (batch 32)", t, t_step))
    t_ti = _time(lambda: attack(model, "seven", method="textual-inversion",
                                iterations=args.ti_iterations, n_images=8, steps=10), 1)
    rows.append((f"textual inversion, {args.ti_iterations} iterations",
                 "one training step (batch 32)", t_ti, t_step))

    from unlearn.closed_form import uce

    E, G, P = erase_keys(model, spec_for(model, "seven"))
    Ws = [lin.weight.detach().numpy().astype(np.float64) for _, lin in projections(model)]

    def textbook():
        lam = 0.5
        out = []
        for W in Ws:
            A = lam * np.eye(W.shape[1]) + E.T @ E + P.T @ P
            B = lam * W + (W @ G.T) @ E + (W @ P.T) @ P
            out.append(B @ np.linalg.inv(A))
        return out

    ours = [uce(W, E, G, P, lam=0.5) for W in Ws]
    assert all(np.allclose(a, b, atol=1e-6) for a, b in zip(ours, textbook()))
    t_uce = _time(lambda: [uce(W, E, G, P, lam=0.5) for W in Ws], args.repeat)
    t_tb = _time(textbook, args.repeat)
    rows.append((f"UCE solve, 8 maps, {len(E)} erase + {len(P)} preserve keys",
                 "explicit inverse B·inv(A)", t_uce, t_tb))

    ps = data.prompts("seven", "heldout")[:4]
    t_b = _time(lambda: model.generate(ps, n_per_prompt=16, seed=0), 1)
    t_1 = _time(lambda: model.generate(ps, n_per_prompt=16, seed=0, batch_size=1), 1)
    rows.append(("generate 64 images (25 DDIM steps, guidance 1.5)", "batch size 1", t_b, t_1))

    texts = [q for d in data.DIGITS for ph in ("train", "heldout") for q in data.prompts(d, ph)]
    enc, ref = TextEncoder(), MiniLM()
    t_enc = _time(lambda: enc.encode(texts), args.repeat)
    t_np = _time(lambda: ref.encode(texts), args.repeat)
    rows.append((f"MiniLM token states, {len(texts)} prompts (transformers)",
                 "numpy MiniLM (unlearn.embed)", t_enc, t_np))

    tr = model.info.get("training", {})
    print(f"substrate: {tr.get('steps')} training steps in {tr.get('seconds')} s when made "
          f"({tr.get('steps_per_second')} steps/s); one step now {1e3 * t_step:.0f} ms\n")
    print("| operation | reference | ours (ms) | reference (ms) | ratio ref/ours |")
    print("|---|---|---|---|---|")
    for name, ref_name, a, b in rows:
        print(f"| {name} | {ref_name} | {1e3 * a:.4g} | {1e3 * b:.4g} | {b / a:.3g} |")


if __name__ == "__main__":
    main()
