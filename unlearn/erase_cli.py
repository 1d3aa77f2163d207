"""``erasurelab unlearn erase ...``: closed-form concept erasure and the circumvention attack.

Runs :func:`unlearn.erase_experiments.erase` through :func:`sim.run_grid` over methods
(UCE, RECE after each number of rounds, RealEra) × attack norm budgets × seeds, appends tidy
CSV to ``--out`` and draws the headline figure beside it (``--figure``, default
``OUT.png``): attack success against the norm budget, and the held-out detection of the
erased digit and accuracy on the other digits.

Examples
--------
>>> main(["--methods", "uce,esd", "--out", "x.csv"])
2
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from sim.validate import check_float, check_seeds

__all__ = ["main"]

_DEFAULT_BUDGETS = "0.25,0.5,0.75,1,1.5,2,3,inf"


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise ValueError(message)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="erasurelab unlearn erase",
                description="Erase a digit concept from a MiniLM-keyed linear map (UCE / RECE "
                            "/ RealEra) and attack it with norm-budgeted embedding inversion.")
    p.add_argument("--methods", default="uce,rece,realera",
                   help="comma list of none,uce,rece,realera (default: uce,rece,realera)")
    p.add_argument("--rounds", default="1,2,4,8",
                   help="RECE rounds, one curve each (list or START:STOP:COUNT)")
    p.add_argument("--budgets", default=_DEFAULT_BUDGETS,
                   help="attack norm budgets ('inf' = unbudgeted; list or START:STOP:COUNT)")
    p.add_argument("--target", type=int, default=7, help="digit to erase (default 7)")
    p.add_argument("--lam", type=float, default=0.1, help="UCE ridge strength λ")
    p.add_argument("--s-preserve", type=float, default=1.0)
    p.add_argument("--mode", default="regzero", help="RECE embedding: regzero|standard|surrogate")
    p.add_argument("--reg", type=float, default=1e-2, help="RECE embedding regulariser")
    p.add_argument("--seeds", default="3", help="a count N (seeds 0..N-1) or a list 'a,b,c'")
    p.add_argument("--out", required=True, help="tidy CSV (appended to; resumes)")
    p.add_argument("--figure", default=None, help="figure path (default OUT.png)")
    p.add_argument("--no-progress", action="store_true")
    return p


def _values(text: str, name: str) -> list[float]:
    out = []
    for part in text.split(","):
        part = part.strip()
        if part.lower() in ("inf", "infinity"):
            out.append(math.inf)
            continue
        from sim import parse_values

        try:
            out.extend(float(v) for v in parse_values(part))
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from None
    if not out:
        raise ValueError(f"{name} must not be empty")
    return out


def _seeds(text: str) -> list[int]:
    parts = [s.strip() for s in text.split(",") if s.strip()]
    try:
        vals = [int(s) for s in parts]
    except ValueError:
        raise ValueError(f"--seeds must be a count or a list of ints, got {text!r}") from None
    if len(vals) == 1 and "," not in text:
        if vals[0] < 1:
            raise ValueError(f"--seeds must be >= 1, got {vals[0]}")
        return list(range(vals[0]))
    if not vals:
        raise ValueError("--seeds must not be empty")
    return check_seeds("--seeds", vals)


def grid_from_args(args) -> list[dict]:
    """The list of parameter dicts that ``args`` asks for (validated)."""
    from .erase_experiments import METHODS, check_params

    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    bad = [m for m in methods if m not in METHODS]
    if bad or not methods:
        raise ValueError(f"--methods: unknown method(s) {bad}; choose from {METHODS}")
    budgets = _values(args.budgets, "--budgets")
    if any(b < 0 or math.isnan(b) for b in budgets):
        raise ValueError("--budgets must be >= 0")
    rounds = [int(r) for r in _values(args.rounds, "--rounds")] if "rece" in methods else []
    if any(r < 0 for r in rounds):
        raise ValueError("--rounds must be >= 0")
    check_float("--lam", args.lam)  # named here: the grid check would only say "nan"
    check_float("--s-preserve", args.s_preserve, low=0)
    check_float("--reg", args.reg, low=0, low_open=True)
    base = {"target": args.target, "lam": args.lam, "s_preserve": args.s_preserve}
    # sim.run_grid keeps parameters finite: the unbudgeted attack is the string "inf".
    budgets = ["inf" if math.isinf(b) else b for b in budgets]
    grid = []
    for m in methods:
        for b in budgets:
            if m == "rece":
                grid.extend({**base, "method": m, "rounds": r, "mode": args.mode,
                             "reg": args.reg, "budget": b} for r in rounds)
            else:
                grid.append({**base, "method": m, "budget": b})
    for g in grid:
        check_params(g)
    if not args.reg > 0:
        raise ValueError(f"--reg must be > 0, got {args.reg}")
    if args.s_preserve < 0:
        raise ValueError(f"--s-preserve must be >= 0, got {args.s_preserve}")
    return grid


def _budget(s: dict) -> float:
    return float(s["budget"])


def _label(s: dict) -> str:
    return f"RECE ×{s['rounds']}" if s["method"] == "rece" else {
        "none": "no edit", "uce": "UCE", "realera": "RealEra sets"}[s["method"]]


def _figure(summary: list[dict], path: Path, target: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    curves: dict[str, list[dict]] = {}
    for s in summary:
        curves.setdefault(_label(s), []).append(s)
    finite = [_budget(s) for s in summary if math.isfinite(_budget(s))]
    inf_x = (max(finite) * 1.25) if finite else 1.0
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [3, 2]})
    for name, rows in curves.items():
        rows = sorted((r for r in rows if r["metric"] == "attack_success"),
                      key=_budget)
        xs = np.array([_budget(r) if math.isfinite(_budget(r)) else inf_x for r in rows])
        mu = np.array([r["mean"] for r in rows])
        lo = np.array([r["ci_low"] if math.isfinite(r["ci_low"]) else r["mean"] for r in rows])
        hi = np.array([r["ci_high"] if math.isfinite(r["ci_high"]) else r["mean"] for r in rows])
        ax.plot(xs, mu, marker="o", label=name)
        ax.fill_between(xs, np.clip(lo, 0, 1), np.clip(hi, 0, 1), alpha=0.15)
    if any(not math.isfinite(_budget(s)) for s in summary):
        ax.axvline(inf_x, color="grey", lw=0.5, ls=":")
        ticks = [t for t in ax.get_xticks() if 0 <= t < inf_x * 0.9]
        ax.set_xticks([*ticks, inf_x], [f"{t:g}" for t in ticks] + ["∞"])
    ax.set_xlabel("attack norm budget ‖v‖ (keys have unit norm)")
    ax.set_ylabel(f"attack success (detected as {target})")
    ax.set_ylim(-0.03, 1.03)
    ax.set_title("circumvention by embedding inversion")
    ax.legend(fontsize=8)
    names = list(curves)
    width = 0.4
    for k, (metric, lab) in enumerate((("detect_target", f"detection of {target}"),
                                       ("acc_other", "other digits accuracy"))):
        vals = []
        for n in names:
            rows = [r for r in curves[n] if r["metric"] == metric]
            vals.append(float(np.mean([r["mean"] for r in rows])) if rows else np.nan)
        bx.bar(np.arange(len(names)) + (k - 0.5) * width, vals, width, label=lab)
    bx.set_xticks(range(len(names)), names, rotation=30, ha="right", fontsize=8)
    bx.set_ylim(0, 1.05)
    bx.set_title("held-out paraphrases after the edit")
    bx.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def _table(summary: list[dict]) -> str:
    rows = {}
    for s in summary:
        rows.setdefault((_label(s), _budget(s)), {})[s["metric"]] = s
    lines = ["| method | budget | attack success | P(target) | detect (held-out) | "
             "other digits |", "|---|---|---|---|---|---|"]
    for (name, b), m in rows.items():
        def f(k, m=m):
            s = m[k]
            half = s["ci_high"] - s["mean"]
            return f"{s['mean']:.2f}" + (f" ± {half:.2f}" if math.isfinite(half) else "")
        lines.append(f"| {name} | {b:g} | {f('attack_success')} | {f('attack_p_target')} | "
                     f"{f('detect_target')} | {f('acc_other')} |")
    return "\n".join(lines)


def _paths(args) -> Path:
    """Check ``--out`` (a tidy CSV) and the figure path before anything is written;
    returns the figure path."""
    from sim.csvio import check_result_path
    from sim.validate import FIGURE_SUFFIXES, check_output_path

    out = check_result_path("--out", args.out, "grid")
    fig = check_output_path("--figure" if args.figure else "--out (its figure)",
                            args.figure or Path(args.out).with_suffix(".png"),
                            suffixes=FIGURE_SUFFIXES)
    if fig.resolve() == out.resolve():
        raise ValueError(f"--figure {fig}: the same file as --out")
    return fig


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns 0 on success, 2 on bad input (nothing written)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = _parser().parse_args(argv)
        grid = grid_from_args(args)
        seeds = _seeds(args.seeds)
        fig = _paths(args)
    except SystemExit as exc:  # -h / --help
        return int(exc.code or 0)
    except (ValueError, TypeError) as exc:
        print(f"erasurelab unlearn erase: error: {exc}", file=sys.stderr)
        return 2
    try:
        from .embed import model_path

        model_path()
    except ImportError as exc:
        print(f"erasurelab unlearn erase: error: {exc}", file=sys.stderr)
        return 2
    import sim

    from .erase_experiments import erase

    summary = sim.run_grid(erase, grid, seeds=seeds, out=args.out,
                           progress=False if args.no_progress else None)
    _figure(summary, fig, args.target)
    print(_table(summary))
    print(f"wrote {args.out} and {fig}")
    return 0
