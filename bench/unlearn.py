"""Benchmark: vectorised noisy GD (400 chains × 2000 steps on breast_cancer).

Prints a markdown table of wall times and ratios against a reference measured in the same
run: the same number of chain-steps done one chain at a time (a plain per-chain loop), on
a subset of chains, scaled.

    python bench/unlearn.py [--chains 400] [--steps 2000] [--ref-chains 8]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

# this file is named unlearn.py: drop its folder from sys.path so it does not shadow the
# `unlearn` package
_here = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _here]

from unlearn.certified import noisy_gd  # noqa: E402
from unlearn.data import load  # noqa: E402


def _time(fn, repeat=1):
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--chains", type=int, default=400)
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--ref-chains", type=int, default=8)
    p.add_argument("--repeat", type=int, default=2)
    a = p.parse_args(argv)
    X, y = load("breast_cancer", unit_norm=True)
    kw = dict(lam=1e-2, sigma=0.05, eta=1 / 0.26, steps=a.steps, clip=1.0)
    noisy_gd(X, y, **{**kw, "steps": 5}, chains=4, seed=0)  # warm caches
    rows = []
    t_ref = _time(lambda: [noisy_gd(X, y, **kw, chains=1, seed=i) for i in range(a.ref_chains)])
    t_ref_full = t_ref * a.chains / a.ref_chains
    rows.append(("per-chain loop (reference, scaled)", t_ref_full, 1.0))
    for dt, th in ((np.float64, 1), (np.float32, 1), (np.float32, None)):
        t = _time(lambda dt=dt, th=th: noisy_gd(X, y, **kw, chains=a.chains, seed=0, dtype=dt,
                                                threads=th), a.repeat)
        name = f"vectorised, {np.dtype(dt).name}, BLAS threads {'default' if th is None else th}"
        rows.append((name, t, t_ref_full / t))
    print(f"noisy GD, breast_cancer (569×30), {a.chains} chains × {a.steps} steps, clip on; "
          f"reference: {a.ref_chains} single chains in a loop, scaled to {a.chains}\n")
    print("| variant | seconds | speed-up vs reference |")
    print("|---|---|---|")
    for name, t, r in rows:
        print(f"| {name} | {t:.2f} | {r:.1f}× |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
