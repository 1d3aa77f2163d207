"""fbqc decoders on identical shots: uf, mwpm, fusion-blossom and local-mwpm in one run.

1. Table: for each network (6-ring, 4-star) and each point -- (p_E, p_P) = (0.06, 0.0015)
   at L = 8 and 12, Pauli only 1 % at L = 12, (0.06, 0.0065) at L = 12 (``--L`` puts every
   point at the given sizes instead) -- sample ``--shots`` shots of the primal graph
   once, decode them with all four decoders, and report the logical (primal-x)
   error rate with its 95 % Wilson CI, the CPU time per shot (``time.process_time``,
   decoding only, kernels warmed first), the speed-up of ``local-mwpm`` over
   fusion-blossom and over ``mwpm`` (PyMatching: rebuilt per shot with erasures,
   ``decode_batch`` without; it decodes the first ``--mwpm-shots`` shots only, the
   slowest decoder by far), and two-sided McNemar p-values on the shared shots
   (``local-mwpm`` and ``uf`` against fusion-blossom, ``local-mwpm`` against ``mwpm``).
2. Scaling: CPU time per shot against L (``--scaling-L``) at the two mixed points on the
   6-ring primal graph, with the log-log slope of each decoder; writes the plot.

Writes ``decoders_table.md``, ``decoders_scaling.png`` and ``decoders.json`` to
``--out``; the table is also printed.

    python bench/fbqc_decoders.py [--shots 20000] [--L 8 12] [--out out/bench]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [os.path.dirname(_HERE)] + [
    q for q in sys.path if os.path.abspath(q or ".") != _HERE]

import numpy as np  # noqa: E402
from scipy.stats import binomtest  # noqa: E402

import sim  # noqa: E402
from fbqc import FusionNetwork, HardwareAgnostic  # noqa: E402
from fbqc.decoders import make_decoder  # noqa: E402

DECODERS = ("uf", "mwpm", "fusion-blossom", "local-mwpm")
POINTS = {"(0.06, 0.0015)": (0.06, 0.0015), "Pauli 1 %": (0.0, 0.01),
          "(0.06, 0.0065)": (0.06, 0.0065)}
#: the default table: (point, L)
TABLE = (("(0.06, 0.0015)", 8), ("(0.06, 0.0015)", 12), ("Pauli 1 %", 12),
         ("(0.06, 0.0065)", 12))


def _shots(g, model, S, seed):
    erased, flips = model.sample(g, S, np.random.default_rng(seed))
    return g.syndrome(flips), erased, g.membrane_parity(flips)[:, 0]


def _decode(dec, syn, erased, chunk=2000):
    """Predictions and CPU seconds (decoding only, in chunks to bound memory)."""
    out = np.empty(syn.shape[0], np.uint8)
    cpu = 0.0
    for a in range(0, syn.shape[0], chunk):
        b = min(a + chunk, syn.shape[0])
        t0 = time.process_time()
        out[a:b] = dec.decode_batch(syn[a:b], erased[a:b])[:, 0]
        cpu += time.process_time() - t0
    return out, cpu


def _mcnemar(fa, fb):
    b = int(np.count_nonzero(fa & ~fb))
    c = int(np.count_nonzero(~fa & fb))
    return (binomtest(b, b + c).pvalue if b + c else 1.0), b, c


def table(args) -> list[dict]:
    rows = []
    points = ([(label, L) for L in args.L for label in POINTS] if args.L else TABLE)
    points = [(label, L) for label, L in points if not args.points or label in args.points]
    for kind in args.networks:
        for label, L in points:
            pe, pp = POINTS[label]
            g = FusionNetwork(kind, L).primal
            decs = {n: make_decoder(n, g) for n in DECODERS}
            syn, er, truth = _shots(g, HardwareAgnostic(pe, pp), args.shots, args.seed)
            for d in decs.values():  # warm up (Numba compilation, PyMatching caches)
                d.decode_batch(syn[:20], er[:20])
            row = {"network": kind, "L": L, "point": label, "p_erasure": pe,
                   "p_pauli": pp, "shots": args.shots}
            fails = {}
            for n, d in decs.items():
                m = args.shots if n != "mwpm" else min(args.shots, args.mwpm_shots)
                pred, cpu = _decode(d, syn[:m], er[:m])
                fails[n] = pred != truth[:m]
                k = int(fails[n].sum())
                lo, hi = sim.binomial_ci(k, m)
                row[n] = {"errors": k, "shots": m, "rate": k / m, "ci": [lo, hi],
                          "us_per_shot": cpu / m * 1e6}
                print(f"  {kind} L={L} {label} {n}: {k}/{m}, "
                      f"{row[n]['us_per_shot']:.0f} µs/shot", flush=True)
            for a, b in (("local-mwpm", "fusion-blossom"), ("local-mwpm", "mwpm"),
                         ("uf", "fusion-blossom"), ("mwpm", "fusion-blossom")):
                m = min(fails[a].size, fails[b].size)  # mwpm: the first shots only
                p, nb, nc = _mcnemar(fails[a][:m], fails[b][:m])
                row[f"mcnemar {a} vs {b}"] = {"p": p, "only_a": nb, "only_b": nc}
            row["speedup vs fusion-blossom"] = (row["fusion-blossom"]["us_per_shot"]
                                                / row["local-mwpm"]["us_per_shot"])
            row["speedup vs mwpm"] = row["mwpm"]["us_per_shot"] / row["local-mwpm"]["us_per_shot"]
            fb = row["fusion-blossom"]["rate"]
            row["relative rate vs fusion-blossom"] = (row["local-mwpm"]["rate"] / fb - 1
                                                     if fb else float("nan"))
            rows.append(row)
    return rows


def scaling(args) -> list[dict]:
    rows = []
    g_cache = {}
    for label in ("(0.06, 0.0015)", "(0.06, 0.0065)"):
        pe, pp = POINTS[label]
        for L in args.scaling_L:
            g = g_cache.setdefault(L, FusionNetwork("6ring", L).primal)
            S = max(50, int(args.scaling_shots * (12 / L) ** 3))
            syn, er, _ = _shots(g, HardwareAgnostic(pe, pp), S, args.seed + L)
            for n in DECODERS:
                d = make_decoder(n, g)
                d.decode_batch(syn[:5], er[:5])
                m = S if n in ("uf", "local-mwpm") else max(20, S // 10)
                _, cpu = _decode(d, syn[:m], er[:m])
                rows.append({"point": label, "L": L, "decoder": n, "shots": m,
                             "us_per_shot": cpu / m * 1e6})
                print(f"  scaling {label} L={L} {n}: {cpu / m * 1e6:.0f} µs/shot", flush=True)
    return rows


def _slopes(rows):
    out = {}
    for label in sorted({r["point"] for r in rows}):
        for n in DECODERS:
            pts = [(r["L"], r["us_per_shot"]) for r in rows
                   if r["point"] == label and r["decoder"] == n]
            if len(pts) >= 2:
                x, y = np.log([p[0] for p in pts]), np.log([p[1] for p in pts])
                out[(label, n)] = float(np.polyfit(x, y, 1)[0])
    return out


def _fmt_rate(r, shots):
    n = f" ({r['shots']} shots)" if r["shots"] != shots else ""
    return f"{r['rate']:.4f} [{r['ci'][0]:.4f}, {r['ci'][1]:.4f}]{n}"


def markdown(rows, srows) -> str:
    lines = ["| network | point | uf | mwpm | fusion-blossom | local-mwpm | "
             "µs/shot uf / mwpm / fusion-blossom / local-mwpm | local-mwpm speed-up vs "
             "fusion-blossom / mwpm | McNemar p: local vs fb; local vs mwpm; uf vs fb | "
             "local vs fb rate |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        us = " / ".join(f"{r[n]['us_per_shot']:.0f}" for n in DECODERS)
        mc = "; ".join(f"{r[k]['p']:.3g}" for k in (
            "mcnemar local-mwpm vs fusion-blossom", "mcnemar local-mwpm vs mwpm",
            "mcnemar uf vs fusion-blossom"))
        lines.append(
            f"| {r['network']} L={r['L']} | {r['point']} ({r['shots']} shots) | " + " | ".join(
                _fmt_rate(r[n], r["shots"]) for n in DECODERS)
            + f" | {us} | {r['speedup vs fusion-blossom']:.1f}× / {r['speedup vs mwpm']:.2f}×"
            f" | {mc} | {100 * r['relative rate vs fusion-blossom']:+.1f} % |")
    if srows:
        sl = _slopes(srows)
        Ls = sorted({r["L"] for r in srows})
        lines += ["", "| point | decoder | " + " | ".join(f"L={L} µs" for L in Ls)
                  + " | log-log slope |", "|---|---|" + "---|" * (len(Ls) + 1)]
        for label in sorted({r["point"] for r in srows}):
            for n in DECODERS:
                v = {r["L"]: r["us_per_shot"] for r in srows
                     if r["point"] == label and r["decoder"] == n}
                lines.append(f"| {label} | {n} | " + " | ".join(
                    f"{v[L]:.0f}" if L in v else "–" for L in Ls)
                    + f" | {sl.get((label, n), float('nan')):.2f} |")
    return "\n".join(lines)


def plot(srows, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sl = _slopes(srows)
    labels = sorted({r["point"] for r in srows})
    fig, axes = plt.subplots(1, len(labels), figsize=(5.5 * len(labels), 4.2), squeeze=False)
    for ax, label in zip(axes[0], labels):
        for i, n in enumerate(DECODERS):
            pts = sorted((r["L"], r["us_per_shot"]) for r in srows
                         if r["point"] == label and r["decoder"] == n)
            ax.loglog([p[0] for p in pts], [p[1] for p in pts], "o-", color=f"C{i}",
                      label=f"{n} (slope {sl.get((label, n), float('nan')):.2f})")
        ax.set_xlabel("L")
        ax.set_ylabel("CPU µs per shot (primal graph)")
        ax.set_title(f"6-ring, (p_E, p_P) = {label}")
        ax.legend(fontsize=8)
        ax.grid(True, which="both", alpha=0.3)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--shots", type=int, default=20000)
    p.add_argument("--L", type=int, nargs="*", default=[],
                   help="sizes of every point (default: the issue's table, see above)")
    p.add_argument("--networks", nargs="+", default=["6ring", "4star"])
    p.add_argument("--points", nargs="*", default=[], choices=list(POINTS),
                   help="only these points of the table (default: all)")
    p.add_argument("--scaling-L", type=int, nargs="*", default=[8, 12, 16, 20, 24])
    p.add_argument("--scaling-shots", type=int, default=2000,
                   help="shots at L = 12 for uf/local-mwpm (fewer at larger L, 1/10 for "
                        "the exact matchers)")
    p.add_argument("--mwpm-shots", type=int, default=4000,
                   help="mwpm (PyMatching rebuilt per shot with erasures) decodes only the "
                        "first this many of the table's shots")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--out", default="out/bench")
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    rows = table(args) if args.shots > 0 else []
    srows = scaling(args) if args.scaling_L else []
    md = markdown(rows, srows)
    print()
    print(md)
    (out / "decoders_table.md").write_text(md + "\n")
    (out / "decoders.json").write_text(json.dumps({"table": rows, "scaling": srows},
                                                  indent=1))
    if srows:
        plot(srows, out / "decoders_scaling.png")
    print(f"\ndone in {time.time() - t0:.0f} s; results in {out}/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
