"""``erasurelab unlearn t2i generate | erase | attack | evaluate | bench``.

- ``generate``: images for prompts from a model (``--model digits`` or a saved file) into a
  PNG grid (one row per prompt) or a ``.npy`` array.
- ``erase``: erase a concept from a model and save the result (``.safetensors``).
- ``attack``: attack a model for a concept; writes a JSON summary and a PNG of the images.
- ``evaluate``: the harness over seeds through ``sim.run_grid`` (tidy CSV, resumable), on a
  saved model or on the shipped model erased with ``--method``; prints the table with CIs.
- ``bench``: every eraser against every attack on the same targets and seeds
  (:mod:`unlearn.t2i.bench`): table with CIs, the papers' claims as measured, figures.

Bad input exits with status 2 and one line naming the argument, before anything is written.

Examples
--------
>>> main(["erase", "--target", "seven", "--method", "nope", "--out", "never.safetensors"])
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


def _options(items) -> dict:
    out = {}
    for it in items or []:
        if "=" not in it:
            raise ValueError(f"--option must look like NAME=VALUE, got {it!r}")
        k, v = it.split("=", 1)
        try:
            out[k] = json.loads(v)
        except json.JSONDecodeError:
            out[k] = v
    return out


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="erasurelab unlearn t2i",
                description="concept erasure in a small text-to-image diffusion model")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def model_arg(sp):
        sp.add_argument("--model", default="digits",
                        help="'digits' (the shipped model) or a saved .safetensors model")

    def sampling(sp):
        sp.add_argument("--steps", type=int, default=None, help="DDIM steps (default 25)")
        sp.add_argument("--guidance", type=float, default=None,
                        help="classifier-free guidance (default 1.5)")

    g = sub.add_parser("generate", help="images for prompts (PNG grid or .npy)")
    model_arg(g)
    sampling(g)
    g.add_argument("--prompt", action="append", required=True, help="repeat for more prompts")
    g.add_argument("--n", type=int, default=8, help="images per prompt")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--out", required=True, help="a .png grid or a .npy array")

    e = sub.add_parser("erase", help="erase a concept; save the erased model")
    model_arg(e)
    e.add_argument("--target", required=True, help="a digit (seven, 7) or a style (bold)")
    e.add_argument("--method", required=True, help="uce, rece, realera, ...")
    e.add_argument("--anchor", default="")
    e.add_argument("--preserve", default=None,
                   help="comma-separated concepts to preserve (default: all others)")
    e.add_argument("--option", action="append", help="method option NAME=VALUE (repeat)")
    e.add_argument("--out", required=True, help="the erased model (.safetensors)")

    a = sub.add_parser("attack", help="attack a model to regenerate a concept")
    model_arg(a)
    a.add_argument("--target", required=True)
    a.add_argument("--method", required=True,
                   help="paraphrase, textual-inversion, prompt-search")
    a.add_argument("--seed", type=int, default=0)
    a.add_argument("--option", action="append", help="attack option NAME=VALUE (repeat)")
    a.add_argument("--out", required=True, help="JSON summary (a PNG of the images beside it)")

    v = sub.add_parser("evaluate", help="the evaluation harness over seeds (tidy CSV)")
    model_arg(v)
    v.add_argument("--target", required=True)
    v.add_argument("--method", default="none",
                   help="erase the model with this method first (default: evaluate as is)")
    v.add_argument("--anchor", default="")
    v.add_argument("--option", action="append", help="eraser option NAME=VALUE (repeat)")
    v.add_argument("--seeds", default="3", help="a count N (seeds 0..N-1) or a list 'a,b,c'")
    v.add_argument("--images-per-set", type=int, default=48)
    v.add_argument("--attacks", default="paraphrase",
                   help="comma-separated attacks (paraphrase, textual-inversion, prompt-search)")
    sampling(v)
    v.add_argument("--out", required=True, help="tidy CSV (appended to; resumes)")
    v.add_argument("--no-progress", action="store_true")

    b = sub.add_parser("bench", help="every eraser against every attack: table, claims, "
                                     "figures (resumable)")
    b.add_argument("--size", default="quick", help="quick (< 15 min on 2 cores) or bench")
    b.add_argument("--targets", default=None, help="comma-separated (default: the size's)")
    b.add_argument("--methods", default=None, help="comma-separated (default: every eraser)")
    b.add_argument("--attacks", default=None, help="comma-separated (default: every attack)")
    b.add_argument("--seeds", type=int, default=None, help="generation seeds (default: size's)")
    b.add_argument("--no-figure", action="store_true")
    b.add_argument("--out", required=True, help="output folder (resumes what is there)")
    return p


def _load(spec: str):
    from .model import T2IModel, pretrained

    if spec == "digits":
        return pretrained("digits")
    if not Path(spec).is_file():
        raise ValueError(f"--model: no model file {spec!r} (use 'digits' or a saved file)")
    return T2IModel.load(spec)


def _seeds(text: str) -> list[int]:
    from ..cli import _seeds as seeds  # the unlearn domain's --seeds rule

    return seeds(text)


def save_grid(images, path, *, rows: int, labels=None) -> None:
    """Save ``(n, H, W)`` images as a grid of ``rows`` rows (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    x = np.asarray(images)
    cols = max(1, -(-len(x) // rows))
    fig, axes = plt.subplots(rows, cols, figsize=(0.7 * cols + (2.2 if labels else 0.2),
                                                  0.7 * rows + 0.2), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(x):
            ax.imshow(x[i], cmap="gray", vmin=0, vmax=1)
    if labels:
        for r, lab in enumerate(labels):
            axes[r, 0].text(-0.5, 0.5, lab, transform=axes[r, 0].transAxes, ha="right",
                            va="center", fontsize=7)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _generate(args) -> int:
    import numpy as np

    if args.n < 1:
        raise ValueError(f"--n must be >= 1, got {args.n}")
    out = Path(args.out)
    if out.suffix not in (".png", ".npy"):
        raise ValueError(f"--out must end in .png or .npy, got {args.out!r}")
    model = _load(args.model)
    kw = {k: getattr(args, k) for k in ("steps", "guidance") if getattr(args, k) is not None}
    x = model.generate(args.prompt, n_per_prompt=args.n, seed=args.seed, **kw)
    if out.suffix == ".npy":
        out.parent.mkdir(parents=True, exist_ok=True)
        np.save(out, x)
    else:
        save_grid(x, out, rows=len(args.prompt), labels=args.prompt)
    print(f"wrote {out} ({len(x)} images)")
    return 0


def _erase(args) -> int:
    from .erasers import erase

    if not args.out.endswith(".safetensors"):
        raise ValueError(f"--out must end in .safetensors, got {args.out!r}")
    model = _load(args.model)
    preserve = None if args.preserve is None else [
        s.strip() for s in args.preserve.split(",") if s.strip()]
    new = erase(model, args.target, method=args.method, anchor=args.anchor,
                preserve=preserve, **_options(args.option))
    digest = new.save(args.out)
    rec = new.info["erasure"][-1]
    print(f"{rec['method']} erased {rec['target']!r} in {rec['seconds']:.2f} s, "
          f"{rec['params_changed']} parameters changed; wrote {args.out} (sha256 "
          f"{digest[:12]})")
    return 0


def _attack(args) -> int:
    from .attacks import attack

    if not args.out.endswith(".json"):
        raise ValueError(f"--out must end in .json, got {args.out!r}")
    model = _load(args.model)
    res = attack(model, args.target, method=args.method, seed=args.seed,
                 **_options(args.option))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res.summary(), indent=2))
    save_grid(res.images[:64], out.with_suffix(".png"), rows=max(1, min(8, len(res.images)
                                                                       // 8)))
    print(f"{res.method} on {res.target!r}: recovery {res.recovery:.3f} in "
          f"{res.seconds:.1f} s; wrote {out} and {out.with_suffix('.png')}")
    return 0


def _evaluate(args) -> int:
    import sim

    from . import data
    from .attacks import ATTACKS
    from .erasers import METHODS
    from .harness import experiment

    target = data.concept(args.target)
    if args.method not in METHODS:
        raise ValueError(f"--method must be one of {sorted(METHODS)}, got {args.method!r}")
    attacks = [a.strip() for a in args.attacks.split(",") if a.strip()]
    bad = [a for a in attacks if a not in ATTACKS]
    if bad:
        raise ValueError(f"--attacks: unknown attack {bad[0]!r}; known: {sorted(ATTACKS)}")
    if args.model != "digits" and not Path(args.model).is_file():
        raise ValueError(f"--model: no model file {args.model!r}")
    if args.images_per_set < 1:
        raise ValueError(f"--images-per-set must be >= 1, got {args.images_per_set}")
    opts = _options(args.option)
    unknown = [k for k in opts if k not in METHODS[args.method].options]
    if unknown:
        raise ValueError(f"--option: method {args.method!r} takes no option {unknown[0]!r}")
    params = {"target": target, "method": args.method, "anchor": args.anchor, "options": opts,
              "attacks": attacks, "images_per_set": args.images_per_set,
              "model": args.model if args.model == "digits" else str(Path(args.model).resolve())}
    for k in ("steps", "guidance"):
        if getattr(args, k) is not None:
            params[k] = getattr(args, k)
    summary = sim.run_grid(experiment, [params], seeds=_seeds(args.seeds), out=args.out,
                           progress=False if args.no_progress else None)
    show = ["erasure_train", "erasure_heldout", "erasure_implicit", "others", "related",
            "fd_real", "attack_recovery", "seconds", "score"]
    by = {s["metric"]: s for s in summary}
    for k in show:
        if k in by:
            s = by[k]
            ref = by.get(f"{k}_ref")
            tail = f"   (reference {ref['mean']:.3f})" if ref else ""
            print(f"{k:18s} {s['mean']:.3f} [{s['ci_low']:.3f}, {s['ci_high']:.3f}] "
                  f"n={s['n']}{tail}")
    print(f"wrote {args.out}")
    return 0


def _bench(args) -> int:
    from .bench import ATTACKS_ORDER, METHODS_ORDER, SIZES, plan_grid, run_bench

    if args.size not in SIZES:
        raise ValueError(f"--size must be one of {sorted(SIZES)}, got {args.size!r}")
    if args.seeds is not None and args.seeds < 1:
        raise ValueError(f"--seeds must be >= 1, got {args.seeds}")

    def split(v, default):
        return list(default) if v is None else [x.strip() for x in v.split(",") if x.strip()]

    targets = split(args.targets, SIZES[args.size]["targets"])
    methods = split(args.methods, METHODS_ORDER)
    attacks = split(args.attacks, ATTACKS_ORDER)
    plan_grid(targets, methods, size=args.size, attacks=attacks)  # validates, writes nothing
    res = run_bench(args.out, size=args.size, targets=targets, methods=methods,
                    attacks=attacks, seeds=args.seeds, figure=not args.no_figure,
                    progress=False)
    print(res["markdown"])
    print(f"{res['seconds']:.0f} s; wrote " + ", ".join(res["paths"]))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point; 0 on success, 2 on bad input (nothing written) or a missing extra."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = _parser().parse_args(argv)
        if args.command is None:
            raise ValueError("a subcommand is required: generate|erase|attack|evaluate|bench")
        for k in ("steps",):
            v = getattr(args, k, None)
            if v is not None and v < 1:
                raise ValueError(f"--{k} must be >= 1, got {v}")
        run = {"generate": _generate, "erase": _erase, "attack": _attack,
               "evaluate": _evaluate, "bench": _bench}[args.command]
        return run(args)
    except (ValueError, TypeError) as exc:
        print(f"erasurelab unlearn t2i: error: {exc}", file=sys.stderr)
        return 2
    except ImportError as exc:  # the torch extra: one line naming it (sim.extras)
        from sim.extras import missing_extra_message

        msg = missing_extra_message(exc, "erasurelab unlearn t2i")
        if msg is None:
            raise
        print(msg, file=sys.stderr)
        return 2
