"""``erasurelab unlearn llm train | forget | audit``.

* ``train`` — train a model from scratch with the shipped recipe (``--model original`` or
  ``retain-<split>``) and write it to ``--out`` (one ``.safetensors`` file).  Slow: the
  shipped models took tens of minutes on 2 cores (see the manifest).
* ``forget`` — apply a method to a model (default: the shipped one) for a forget split or
  a list of person ids; writes the new model to ``--out``.
* ``audit`` — audit a model (default: the shipped one) against the retain model (default:
  the shipped retain model of ``--split``); prints JSON (and writes it with ``--json``).

Bad input prints one line naming the argument and exits with status 2, before anything is
written.

Examples
--------
>>> main(["forget", "--method", "nope", "--out", "never-written.safetensors"])
2
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise ValueError(message)


def _parser():
    from .corpus import FORGET_SPLITS
    from .methods import METHODS

    p = _Parser(prog="erasurelab unlearn llm",
                description="the right to be forgotten in a small language model")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def who(sp):
        g = sp.add_mutually_exclusive_group()
        g.add_argument("--split", choices=sorted(FORGET_SPLITS), default=None,
                       help="a TOFU-style forget split (default forget10)")
        g.add_argument("--people", default=None, help="comma-separated person ids")

    t = sub.add_parser("train", help="train a model from scratch (the shipped recipe)")
    t.add_argument("--model", required=True, help="'original' or 'retain-<split>'")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--epochs", type=float, default=None, help="override the recipe")
    t.add_argument("--extra-epochs", type=float, default=None,
                   help="override the recipe's second phase (epochs at the final rate)")
    t.add_argument("--resume", default=None,
                   help="a model that finished the first phase: run the second only")
    t.add_argument("--threads", type=int, default=2)
    t.add_argument("--out", required=True, help="output .safetensors file")
    t.add_argument("--ship", action="store_true",
                   help="also record it in the package manifest (developers)")
    t.add_argument("--quiet", action="store_true")

    f = sub.add_parser("forget", help="forget people with one method")
    f.add_argument("--method", required=True, help="|".join(METHODS))
    f.add_argument("--model", default=None, help="model file (default: the shipped one)")
    who(f)
    f.add_argument("--seed", type=int, default=0)
    f.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="method option, e.g. steps=80 or epsilon=8 (repeatable)")
    f.add_argument("--threads", type=int, default=2)
    f.add_argument("--out", required=True, help="output .safetensors file")

    a = sub.add_parser("audit", help="audit a model against the retain model")
    a.add_argument("--model", default=None, help="model file (default: the shipped one)")
    a.add_argument("--retain", default=None,
                   help="retain model file (default: the shipped one for --split)")
    who(a)
    a.add_argument("--seed", type=int, default=0)
    a.add_argument("--no-relearn", action="store_true", help="skip the relearning attack")
    a.add_argument("--quick", action="store_true",
                   help="forget quality and utility only (no attacks, MIA or relearning)")
    a.add_argument("--threads", type=int, default=2)
    a.add_argument("--json", default=None, help="also write the result here")
    return p


def _value(text: str):
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    return {"none": None, "true": True, "false": False}.get(text.lower(), text)


def _options(items):
    out = {}
    for it in items:
        if "=" not in it:
            raise ValueError(f"--option must be KEY=VALUE, got {it!r}")
        k, v = it.split("=", 1)
        out[k.strip()] = _value(v.strip())
    return out


def _people(args, model):
    from .corpus import forget_split, people

    if args.people is None:
        return forget_split(args.split or "forget10"), args.split or "forget10"
    try:
        ids = [int(x) for x in args.people.split(",") if x.strip()]
    except ValueError:
        raise ValueError(f"--people must be comma-separated ids, got {args.people!r}") from None
    corpus = people(seed=int(model.meta.get("corpus_seed", 0)),
                    n=int(model.meta.get("corpus_n", 240)))
    bad = [i for i in ids if not 0 <= i < len(corpus)]
    if bad:
        raise ValueError(f"--people: id {bad[0]} is not in the corpus (0..{len(corpus) - 1})")
    return [corpus[i] for i in ids], None


def _load(path, what):
    from .model import LM

    if path is None:
        return None
    if not Path(path).is_file():
        raise ValueError(f"{what}: no file {path!r}")
    try:
        return LM.load(path)
    except ValueError as exc:
        raise ValueError(f"{what}: {exc}") from None


def main(argv: list[str] | None = None) -> int:
    """Entry point; 0 on success, 2 on bad input (nothing written)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = _parser().parse_args(argv)
        if args.command is None:
            raise ValueError("a subcommand is required: train|forget|audit")
        from . import _torch

        _torch.set_threads(args.threads)
        if args.command == "train":
            return _train(args)
        if args.command == "forget":
            job = _prepare_forget(args)
        else:
            job = _prepare_audit(args)
    except (ValueError, TypeError) as exc:
        print(f"erasurelab unlearn llm: error: {exc}", file=sys.stderr)
        return 2
    return job()


def _train(args) -> int:
    from . import corpus
    from .train import RECIPE, heldout_accuracy, train

    trained = corpus.trained_people()
    if args.model == "original":
        ps = trained
    elif args.model.startswith("retain-") and args.model[7:] in corpus.FORGET_SPLITS:
        ps = corpus.retain_people(corpus.forget_split(args.model[7:]), trained=trained)
    else:
        raise ValueError(f"--model must be 'original' or 'retain-<split>', got {args.model!r}")
    out = Path(args.out)
    if out.suffix != ".safetensors":
        raise ValueError(f"--out must end in .safetensors, got {args.out!r}")
    if args.ship:
        from .weights import WEIGHTS_DIR

        if out.resolve().parent != WEIGHTS_DIR or out.stem != args.model:
            raise ValueError(f"--ship needs --out {WEIGHTS_DIR / (args.model + '.safetensors')}")
    recipe = dict(RECIPE)
    if args.epochs is not None:
        if not args.epochs > 0:
            raise ValueError(f"--epochs must be > 0, got {args.epochs}")
        recipe["epochs"] = args.epochs
    if args.extra_epochs is not None:
        if args.extra_epochs < 0:
            raise ValueError(f"--extra-epochs must be >= 0, got {args.extra_epochs}")
        recipe["extra_epochs"] = args.extra_epochs
    resume = _load(args.resume, "--resume")

    def log(rec):
        if not args.quiet:
            print(json.dumps({k: round(v, 4) if isinstance(v, float) else v
                              for k, v in rec.items()}), flush=True)

    from .model import LM

    lm = train(ps, seed=args.seed, recipe=recipe, log=log, eval_people=ps[-30:],
               eval_every=500, resume=resume)
    sha = lm.save(out, dtype="float16")
    saved = LM.load(out, sha256=sha)  # the accuracies of what is written (float16)
    acc = {s: heldout_accuracy(saved, ps, split=s) for s in ("train", "heldout", "indirect")}
    print(json.dumps({"file": str(out), "sha256": sha, "train_seconds":
                      round(lm.meta["train_seconds"], 1), **acc}), flush=True)
    if args.ship:
        from .weights import record

        record(args.model, sha=sha, seconds=lm.meta["train_seconds"], metrics=acc,
               threads=args.threads)
    return 0


def _prepare_forget(args):
    from .methods import METHODS, forget, pretrained

    if args.method not in METHODS:
        raise ValueError(f"--method must be one of {METHODS}, got {args.method!r}")
    out = Path(args.out)
    if out.suffix != ".safetensors":
        raise ValueError(f"--out must end in .safetensors, got {args.out!r}")
    opts = _options(args.option)
    model = _load(args.model, "--model") or pretrained()
    ps, _ = _people(args, model)
    from .methods import DEFAULTS, check_forget_request

    check_forget_request(model, ps)
    bad = set(opts) - set(DEFAULTS[args.method])
    if bad:
        raise ValueError(f"--option: method {args.method!r} takes no option(s) {sorted(bad)}")

    def job():
        new = forget(model, ps, method=args.method, seed=args.seed, **opts)
        sha = new.save(out)
        print(json.dumps({"file": str(out), "sha256": sha, "method": args.method,
                          "forgotten": len(ps),
                          "seconds": round(new.meta["forget_seconds"], 2)}))
        return 0

    return job


def _prepare_audit(args):
    from .auditing import audit
    from .methods import pretrained, retain_model

    model = _load(args.model, "--model") or pretrained()
    ps, split = _people(args, model)
    ref = _load(args.retain, "--retain")
    if ref is None:
        if split is None:
            raise ValueError("--retain is required with --people (the shipped retain models "
                             "cover the forget splits)")
        ref = retain_model(split)
    from .auditing import _check

    _check(model, ps, ref)

    def job():
        if args.quick:
            res = audit(model, ps, retain_model=ref, seed=args.seed, attacks=(),
                        relearn=False, mia=False)
        else:
            res = audit(model, ps, retain_model=ref, seed=args.seed,
                        relearn=not args.no_relearn)
        text = json.dumps({k: round(v, 6) for k, v in res.items()}, indent=1)
        print(text)
        if args.json:
            Path(args.json).parent.mkdir(parents=True, exist_ok=True)
            Path(args.json).write_text(text + "\n")
        return 0

    return job
