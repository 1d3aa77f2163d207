"""The right-to-be-forgotten table and the forget-quality-vs-utility figure for unlearn.llm.

    python scripts/rtbf_llm.py --seeds 5 --out out/llm          # everything (hours on 2 cores)
    python scripts/rtbf_llm.py --seeds 5 --out out/llm --part table

Parts (each a tidy CSV through ``sim.run_grid``, so an interrupted run resumes):

* ``table``    — every method at its defaults on forget10, full audit
                 → ``table.csv``, ``table.md``;
* ``tradeoff`` — gradient ascent, NPO and RMU over a strength sweep (learning rate), forget quality
                 and utility → ``tradeoff.csv``, ``tradeoff.png`` (with the table's points);
* ``dp``       — DP-SGD from the start at several ε → ``dp.csv`` (MIA AUC, utility vs ε);
                 ``--dp-steps N`` trains N steps instead of the default → ``dp-N.csv``.

Means over seeds with 95 % Student-t intervals.  Nothing is tuned here: the defaults are
``unlearn.llm.methods.DEFAULTS``.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

METHODS = ["none", "retrain", "gradient-ascent", "npo", "rmu", "edit", "guardrail", "dp"]
#: Strength sweeps: the learning rate at the default 40 steps.
SWEEP = {"gradient-ascent": [5e-5, 1e-4, 2e-4, 4e-4, 8e-4], "npo": [5e-5, 1e-4, 2e-4, 4e-4, 8e-4],
         "rmu": [2.5e-4, 5e-4, 1e-3, 2e-3, 4e-3]}
COLUMNS = [("forget_quality", "forget quality"), ("utility", "utility"),
           ("extraction", "extraction (any attack)"), ("extraction_direct", "direct"),
           ("extraction_paraphrase", "paraphrase"),
           ("extraction_indirect", "indirect"), ("extraction_context", "in-context"),
           ("relearn_extraction", "after relearning"), ("mia_auc", "MIA AUC (loss)"),
           ("mia_auc_mink", "MIA AUC (min-k%)"), ("seconds", "seconds")]


def _fmt(s):
    from sim import format_summary

    return format_summary(s, floor=0.0)  # every table quantity is >= 0


def table(summary, out: Path) -> str:
    by = {(s["method"], s["metric"]): s for s in summary}
    ref = {(s["method"], s["metric"]): s for s in summary}
    head = "| method | " + " | ".join(c for _, c in COLUMNS) + " |"
    lines = [head, "|" + "---|" * (len(COLUMNS) + 1)]
    for m in METHODS:
        if (m, "utility") not in by:
            continue
        lines.append(f"| {m} | " + " | ".join(_fmt(by.get((m, k))) for k, _ in COLUMNS) + " |")
    r = ref.get(("none", "extraction_retain"))
    if r:
        lines.append("")
        lines.append(f"Retain model (the reference): extraction {_fmt(r)}, "
                     f"utility {_fmt(ref.get(('none', 'utility_retain')))}, "
                     f"MIA AUC {_fmt(ref.get(('none', 'mia_auc_retain')))}, "
                     f"after relearning {_fmt(ref.get(('none', 'relearn_extraction_retain')))}.")
    text = "\n".join(lines) + "\n"
    (out / "table.md").write_text(text)
    return text


def matched(rows, a="gradient-ascent", b="npo", metric="utility"):
    """Per seed and per step count of ``a``: ``b``'s utility interpolated (in log forget
    quality) at ``a``'s forget quality, minus ``a``'s utility.  Returns lines of text."""
    import numpy as np
    from scipy import stats

    val = {}
    for r in rows:
        p = r["params"]
        val[(p["method"], p["lr"], r["seed"], r["metric"])] = r["value"]
    seeds = sorted({k[2] for k in val})
    lines = []
    for k in SWEEP[a]:
        diffs, fqs = [], []
        for s in seeds:
            fa = val.get((a, k, s, "forget_quality"))
            ua = val.get((a, k, s, metric))
            curve = sorted((max(val[(b, j, s, "forget_quality")], 1e-300),
                            val[(b, j, s, metric)]) for j in SWEEP[b]
                           if (b, j, s, "forget_quality") in val and (b, j, s, metric) in val)
            if fa is None or ua is None or len(curve) < 2:
                continue
            x = np.log10([c[0] for c in curve])
            lx = np.log10(max(fa, 1e-300))
            if not x.min() <= lx <= x.max():
                continue
            order = np.argsort(x)
            ub = float(np.interp(lx, x[order], np.array([c[1] for c in curve])[order]))
            diffs.append(ub - ua)
            fqs.append(fa)
        if len(diffs) >= 2:
            d = np.array(diffs)
            half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
            lines.append(f"{a} lr {k:g}: median forget quality {np.median(fqs):.2g}; "
                         f"{b} − {a} {metric} at equal forget quality = {d.mean():+.3f} "
                         f"[{d.mean() - half:+.3f}, {d.mean() + half:+.3f}] "
                         f"({len(d)} seeds in range)")
        else:
            lines.append(f"{a} lr {k:g}: {b}'s curve does not reach this forget quality "
                         f"on enough seeds ({len(diffs)})")
    return lines


def figure(trade, tab, path: Path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.5))

    def pt(rows, metric):
        return {s.get("lr", 0): s for s in rows if s["metric"] == metric}

    for m in SWEEP:
        rows = [s for s in trade if s["method"] == m]
        fq, ut = pt(rows, "forget_quality"), pt(rows, "utility")
        lrs = sorted(set(fq) & set(ut))
        if not lrs:
            continue
        x = [max(fq[k]["mean"], 1e-30) for k in lrs]
        y = [ut[k]["mean"] for k in lrs]
        yerr = [[ut[k]["mean"] - ut[k]["ci_low"] if math.isfinite(ut[k]["ci_low"]) else 0
                 for k in lrs], [ut[k]["ci_high"] - ut[k]["mean"]
                                 if math.isfinite(ut[k]["ci_high"]) else 0 for k in lrs]]
        ax.errorbar(x, y, yerr=yerr, marker="o", capsize=2,
                    label=f"{m} (lr {lrs[0]:g}…{lrs[-1]:g})")
    for m in ("none", "retrain", "edit", "guardrail", "dp"):
        f = [s for s in tab if s["method"] == m and s["metric"] == "forget_quality"]
        u = [s for s in tab if s["method"] == m and s["metric"] == "utility"]
        if f and u:
            ax.scatter([max(f[0]["mean"], 1e-30)], [u[0]["mean"]], marker="s", s=40, label=m)
    ax.set_xscale("log")
    ax.set_xlabel("forget quality (KS p-value vs retain model; 1 = retrained)")
    ax.set_ylabel("utility (held-out accuracy, retained people)")
    ax.set_title("unlearn.llm: forget10, mean over seeds (95% CI)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="unlearn.llm right-to-be-forgotten table")
    ap.add_argument("--seeds", default="5",
                    help="a count N (seeds 0..N-1) or a list 'a,b,c' (separate runs, each into "
                         "its own --out, can be merged: the CSVs are tidy rows)")
    ap.add_argument("--out", default="out/llm")
    ap.add_argument("--part", default="table,tradeoff,dp")
    ap.add_argument("--split", default="forget10")
    ap.add_argument("--methods", default=",".join(METHODS),
                    help="methods of the table part (default: all)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--eps", default="1,8,64,inf",
                    help="DP epsilons for the dp part ('inf': the no-noise control)")
    ap.add_argument("--dp-steps", type=int, default=None,
                    help="DP-SGD steps of the dp part (default: the method's, 150)")
    args = ap.parse_args(argv)
    if args.dp_steps is not None and args.dp_steps < 1:  # refused before anything runs
        ap.error(f"--dp-steps must be >= 1, got {args.dp_steps}")
    seeds = ([int(v) for v in args.seeds.split(",") if v.strip()] if "," in args.seeds
             else list(range(int(args.seeds))))
    if len(seeds) < 5:
        print("note: fewer than 5 seeds; the intervals are wide", file=sys.stderr)
    import sim
    from unlearn.llm import _torch
    from unlearn.llm.experiments import rtbf

    _torch.set_threads(args.threads)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    parts = set(args.part.split(","))
    tab, trade = [], []
    if "table" in parts:
        methods = [m for m in args.methods.split(",") if m]
        bad = [m for m in methods if m not in METHODS]
        if bad:
            ap.error(f"--methods: unknown {bad}; choose from {METHODS}")
        grid = [{"method": m, "split": args.split} for m in methods]
        tab = sim.run_grid(rtbf, grid, seeds=seeds, out=out / "table.csv")
        print(table(tab, out))
    if "tradeoff" in parts:
        grid = [{"method": m, "split": args.split, "lr": k, "light": True}
                for m, ks in SWEEP.items() for k in ks]
        trade = sim.run_grid(rtbf, grid, seeds=seeds, out=out / "tradeoff.csv")
        for m in SWEEP:
            for k in SWEEP[m]:
                f = [s for s in trade if s["method"] == m and s.get("lr") == k]
                d = {s["metric"]: s for s in f}
                if d:
                    print(f"{m:16s} lr {k:7.2g}: forget quality {_fmt(d['forget_quality'])}, "
                          f"utility {_fmt(d['utility'])}")
        lines = matched(sim.read_grid(out / "tradeoff.csv"))
        print("\n".join(lines))
        (out / "matched.md").write_text("\n".join(f"- {x}" for x in lines) + "\n")
        if not tab and (out / "table.csv").is_file():
            tab = sim.summarize_grid(sim.read_grid(out / "table.csv"))
        figure(trade, tab, out / "tradeoff.png")
    if "dp" in parts:
        steps = {} if args.dp_steps is None else {"steps": args.dp_steps}
        grid = [{"method": "dp", "split": args.split, "epsilon": e, "relearn": False, **steps}
                for e in args.eps.split(",")]
        name = "dp.csv" if args.dp_steps is None else f"dp-{args.dp_steps}.csv"
        dp = sim.run_grid(rtbf, grid, seeds=seeds, out=out / name)
        for e in args.eps.split(","):
            d = {s["metric"]: s for s in dp if s.get("epsilon") == e}
            if d:
                print(f"dp ε={e}: MIA AUC {_fmt(d['mia_auc'])} (retain "
                      f"{_fmt(d['mia_auc_retain'])}), utility {_fmt(d['utility'])}, "
                      f"forget quality {_fmt(d['forget_quality'])}, "
                      f"seconds {_fmt(d['seconds'])}")
    print(f"wrote {out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
