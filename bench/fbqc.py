"""fbqc benchmarks: union-find against PyMatching, measured in one run (ratios only).

1. Mixed noise (p_E, p_P) = (0.06, 0.0015), 6-ring primal graph, L = 8, 12, 16: ``uf``
   (erasure pre-growth, one kernel call per batch) against ``mwpm`` with per-shot
   reweighting (PyMatching rebuilt each shot, erased edges at weight 0), on the same
   sampled shots; logical error rates with 95 % Wilson CIs.
2. Pauli only, p_P = 1 %, L = 12: ``uf`` against PyMatching ``decode_batch``.
3. ``--threshold``: wall time of the 6-ring erasure threshold (``erasure-ml`` through
   :func:`sim.collect` on ``--workers`` processes and :func:`sim.threshold`), and of the
   Pauli threshold with ``mwpm``, with the CI half-widths reached.

Decoding time only (sampling excluded) in parts 1–2; JIT warmed before timing.

    python bench/fbqc.py [--shots 2000] [--threshold]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

# this file is named like the package: drop bench/ from the path, put the checkout first
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [os.path.dirname(_HERE)] + [
    q for q in sys.path if os.path.abspath(q or ".") != _HERE]

import numpy as np  # noqa: E402

import sim  # noqa: E402
from fbqc import FusionNetwork, HardwareAgnostic  # noqa: E402
from fbqc.decoders import MatchingDecoder, UnionFindDecoder  # noqa: E402


def _shots(g, model, S, seed):
    rng = np.random.default_rng(seed)
    erased, flips = model.sample(g, S, rng)
    truth = (flips.astype(np.uint8) @ g.crossing.astype(np.uint8)) & 1
    return g.syndrome(flips), erased, truth


def _time(fn, args, reps=1):
    best = np.inf
    out = None
    for _ in range(reps):
        t0 = time.perf_counter()
        out = fn(*args)
        best = min(best, time.perf_counter() - t0)
    return best, out


def _rate(pred, truth):
    k = int(np.count_nonzero(pred[:, 0] != truth[:, 0]))
    lo, hi = sim.binomial_ci(k, pred.shape[0])
    return k / pred.shape[0], lo, hi


def mixed(args):
    print("\n### Mixed noise (p_E, p_P) = (0.06, 0.0015), 6-ring primal graph\n")
    print("| L | uf µs/shot | mwpm (rebuild/shot) µs/shot | speed-up | uf rate [CI] | "
          "mwpm rate [CI] |")
    print("|---|---|---|---|---|---|")
    model = HardwareAgnostic(0.06, 0.0015)
    for L in args.sizes:
        g = FusionNetwork("6ring", L).primal
        uf, mw = UnionFindDecoder(g), MatchingDecoder(g)
        pP = model.edge_probabilities(g)[1]
        w = np.full(g.n_edges, np.log((1 - pP) / pP))
        syn, er, truth = _shots(g, model, args.shots, 1)
        uf.decode_batch(syn[:8], er[:8], w)
        t_uf, p_uf = _time(uf.decode_batch, (syn, er, w), 2)
        n_mw = max(50, args.shots // (4 if L <= 8 else 10))
        t_mw, p_mw = _time(mw.decode_batch, (syn[:n_mw], er[:n_mw], w))
        # error rates on a common, larger set for the comparison
        r_uf = _rate(p_uf, truth)
        r_mw = _rate(p_mw, truth[:n_mw])
        a, b = t_uf / args.shots * 1e6, t_mw / n_mw * 1e6
        print(f"| {L} | {a:.0f} | {b:.0f} | {b / a:.1f}× | {r_uf[0]:.4f} [{r_uf[1]:.4f}, "
              f"{r_uf[2]:.4f}] | {r_mw[0]:.4f} [{r_mw[1]:.4f}, {r_mw[2]:.4f}] |")


def pauli(args):
    print("\n### Pauli only p_P = 1 %, 6-ring primal graph\n")
    print("| L | uf µs/shot | PyMatching decode_batch µs/shot | uf speed-up | uf rate | "
          "mwpm rate |")
    print("|---|---|---|---|---|---|")
    model = HardwareAgnostic(0.0, 0.01)
    for L in args.pauli_sizes:
        g = FusionNetwork("6ring", L).primal
        uf, mw = UnionFindDecoder(g), MatchingDecoder(g)
        syn, _, truth = _shots(g, model, args.shots, 2)
        uf.decode_batch(syn[:8])
        mw.decode_batch(syn[:8])
        t_uf, p_uf = _time(uf.decode_batch, (syn,), 3)
        t_mw, p_mw = _time(mw.decode_batch, (syn,), 3)
        a, b = t_uf / args.shots * 1e6, t_mw / args.shots * 1e6
        print(f"| {L} | {a:.0f} | {b:.0f} | {b / a:.2f}× | {_rate(p_uf, truth)[0]:.4f} | "
              f"{_rate(p_mw, truth)[0]:.4f} |")


def thresholds(args):
    print(f"\n### Threshold wall time ({args.workers} workers)\n")
    print("| quantity | grid | seconds | estimate | 95 % CI half-width | reference |")
    print("|---|---|---|---|---|---|")
    ps = [0.1175, 0.119, 0.1205, 0.122, 0.1235]
    tasks = [("fbqc", {"network": "6ring", "L": L, "p_erasure": p, "decoder": "erasure-ml"})
             for L in (12, 16, 20) for p in ps]
    t0 = time.perf_counter()
    st = sim.collect(tasks, max_shots=args.threshold_shots, seed=3, workers=args.workers)
    res = sim.threshold(st, x="p_erasure", size="L")
    dt = time.perf_counter() - t0
    print(f"| 6-ring erasure | L 12/16/20 × 5 p × {args.threshold_shots} | {dt:.0f} | "
          f"{res.value:.5f} | {res.half_width:.5f} | 0.1201635 |")
    ps = [0.0098, 0.0103, 0.0108, 0.0113]
    tasks = [("fbqc", {"network": "6ring", "L": L, "p_pauli": p, "decoder": "mwpm"})
             for L in (8, 12, 16) for p in ps]
    t0 = time.perf_counter()
    st = sim.collect(tasks, max_shots=args.pauli_shots, seed=3, workers=args.workers)
    res = sim.threshold(st, x="p_pauli", size="L")
    dt = time.perf_counter() - t0
    print(f"| 6-ring Pauli (mwpm) | L 8/12/16 × 4 p × {args.pauli_shots} | {dt:.0f} | "
          f"{res.value:.5f} | {res.half_width:.5f} | 0.0107 |")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="fbqc: uf vs PyMatching, ratios in one run")
    p.add_argument("--shots", type=int, default=2000)
    p.add_argument("--sizes", type=int, nargs="+", default=[8, 12, 16])
    p.add_argument("--pauli-sizes", type=int, nargs="+", default=[12])
    p.add_argument("--threshold", action="store_true", help="also time threshold runs")
    p.add_argument("--threshold-shots", type=int, default=5000)
    p.add_argument("--pauli-shots", type=int, default=8000)
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args(argv)
    mixed(args)
    pauli(args)
    if args.threshold:
        thresholds(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
