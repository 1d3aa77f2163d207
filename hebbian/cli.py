"""``erasurelab hebbian …``: memory sweeps into sinter CSV, and closed forms.

Subcommands
-----------
``sweep``
    ``erasurelab hebbian sweep --clusters 8 --neurons 256 --messages 5000:30000:6
    --erased 4 --rule som --iterations 4 --out stats.csv``.  Every option takes a value
    list (``1,2,3`` or ``START:STOP:COUNT``); the sweep is their Cartesian product.
    ``--model`` takes any key of :data:`hebbian.sampler.MODELS`.
``theory``
    Print the closed-form error (and, with ``--capacity P``, the capacity M* and
    efficiency at target error P) for the same options.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["main"]

#: CLI option -> sampler parameter.
PARAMS = {
    "model": "model",
    "clusters": "clusters",
    "neurons": "neurons",
    "active": "active",
    "messages": "messages",
    "erased": "erased",
    "inserted": "inserted",
    "rule": "rule",
    "filter": "filter",
    "iterations": "iterations",
    "memory": "memory",
    "tie": "tie",
    "p_rel": "p_rel",
    "n_syn": "n_syn",
    "stuck": "stuck",
    "stuck_at": "stuck_at",
    "guided": "guided",
    "queries_per_network": "queries_per_network",
    # the recurrent Hebbian model (hebbian.recurrent.build_for_sampler)
    "recall": "recall",
    "plastic_recall": "plastic_recall",
    "steps": "steps",
    "p_erase": "p_erase",
    "p_insert": "p_insert",
    "p_spont": "p_spont",
    "rounds": "rounds",
    "threshold": "threshold",
    "max_steps": "max_steps",
    "stable": "stable",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        raise ValueError(f"{self.prog}: error: {message}")


def _add_params(p: argparse.ArgumentParser) -> None:
    for opt in PARAMS:
        p.add_argument("--" + opt.replace("_", "-"), dest=opt, default=None, metavar="VALUES")


def _grid(a: argparse.Namespace) -> list[dict]:
    from sim import parse_values, product

    from .sampler import MODELS

    grid = {}
    for opt, name in PARAMS.items():
        text = getattr(a, opt)
        if text is None:
            continue
        vals = parse_values(text)
        if opt == "iterations":
            vals = [None if str(v).lower() in ("none", "null", "converge") else v for v in vals]
        if opt == "guided":
            conv = []
            for v in vals:
                s = str(v).lower()
                if s not in ("true", "false", "1", "0"):
                    raise ValueError(f"--guided: expected true/false, got {v!r}")
                conv.append(s in ("true", "1"))
            vals = conv
        if opt == "model":
            for v in vals:
                if v not in MODELS:
                    raise ValueError(f"--model: unknown model {v!r}; known: {', '.join(MODELS)}")
        grid[name] = vals
    rows = product(grid) if grid else [{}]
    if len(grid.get("model", [])) > 1:  # several models: give each only its own parameters
        from .sampler import accepted_params

        rows = [{k: v for k, v in r.items() if k in accepted_params(r["model"])} for r in rows]
    return rows


def _cmd_sweep(a: argparse.Namespace) -> int:
    from sim import collect, make_task

    from .sampler import MemorySampler

    if a.max_shots is None or a.max_shots < 1:
        raise ValueError("--max-shots must be a positive integer")
    tasks = [make_task("hebbian", p)[0] for p in _grid(a)]  # validates everything first
    MemorySampler().warm()
    stats = collect(
        tasks,
        max_shots=a.max_shots,
        max_errors=a.max_errors,
        seed=a.seed,
        workers=a.workers,
        save_resume_filepath=a.out,
        progress=False if a.no_progress else None,
    )
    for s in stats:
        m = s.json_metadata
        rate = s.errors / s.shots if s.shots else float("nan")
        print(f"{s.decoder} M={m.get('messages')} erased={m.get('erased')}: "
              f"{s.errors}/{s.shots} = {rate:.4g}")
    return 0


def _cmd_theory(a: argparse.Namespace) -> int:
    from .sampler import MemorySampler
    from .theory import capacity, theory_curve

    s = MemorySampler()
    rows = [s.validate(p) for p in _grid(a)]
    for p in rows:
        try:
            val = f"{theory_curve(p):.6g}"
        except ValueError as exc:
            val = f"n/a ({exc})"
        print(f"{s.decoder(p)} M={p['messages']} erased={p['erased']}: {val}")
    if a.capacity is not None:
        seen = set()
        for p in rows:
            model = p["model"]
            keys = {"clique": ("clusters", "neurons", "erased"),
                    "sparse": ("clusters", "neurons", "active", "erased", "guided"),
                    "willshaw": ("neurons", "active", "erased"),
                    "hopfield": ("neurons", "erased")}.get(model)
            if keys is None:
                raise ValueError(f"--capacity: no closed form for model {model!r}")
            kw = {k: p[k] for k in keys}
            if tuple(kw.items()) in seen:
                continue
            seen.add(tuple(kw.items()))
            cap = capacity(model, a.capacity, **kw)
            print(f"capacity {model} {kw} at P*={a.capacity}: M*={cap.messages}, "
                  f"eta={cap.efficiency:.4f} ({cap.bits:.1f} bits/message, Q={cap.resource:.4g})")
    return 0


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="erasurelab hebbian", description="Hebbian associative memories.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sw = sub.add_parser("sweep", help="simulate recall errors into sinter CSV")
    _add_params(sw)
    sw.add_argument("--max-shots", type=int, default=20_000)
    sw.add_argument("--max-errors", type=int, default=None)
    sw.add_argument("--seed", type=int, default=None)
    sw.add_argument("--workers", type=int, default=None)
    sw.add_argument("--out", required=True, help="CSV file (appended to; resumes)")
    sw.add_argument("--no-progress", action="store_true")
    th = sub.add_parser("theory", help="print closed-form error rates / capacity")
    _add_params(th)
    th.add_argument("--capacity", type=float, default=None, metavar="P",
                    help="also print M* and efficiency at target error P")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``erasurelab hebbian``; returns 0, or 2 on bad input.

    >>> main(["theory", "--clusters", "8", "--neurons", "256", "--messages", "10000",
    ...       "--erased", "4"])
    clique-sos-wta M=10000 erased=4: 0.371204
    0
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        p = _parser()
        a = p.parse_args(argv)
        if a.command is None:
            p.print_help()
            return 2
        if a.command == "sweep":
            return _cmd_sweep(a)
        return _cmd_theory(a)
    except (ValueError, TypeError) as exc:
        print(f"erasurelab hebbian: {exc}", file=sys.stderr)
        return 2
