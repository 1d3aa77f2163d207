"""Reproduce the concept-erasure numbers of README.md (concept erasure section).

1. The headline grid (``erasurelab unlearn erase``): UCE, RECE after 1/2/4/8 rounds and
   RealEra sets × attack norm budgets × seeds → ``OUT/unlearn_erase.csv`` and ``.png``.
2. UCE's small-λ limit: erase residual and preserve drift against λ on the MiniLM keys
   → ``OUT/unlearn_uce_limit.csv``, printed with log-log slopes.

Usage::

    .venv/bin/python scripts/unlearn_erasure.py [--seeds 5] [--out-dir out]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--out-dir", default="out")
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)

    import sim
    from unlearn.erase_cli import main as erase_main
    from unlearn.erase_experiments import uce_limit

    rc = erase_main(["--methods", "none,uce,rece,realera", "--seeds", str(args.seeds),
                     "--out", str(out / "unlearn_erase.csv"),
                     *(["--no-progress"] if args.no_progress else [])])
    if rc:
        return rc
    lams = [1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-10]
    summary = sim.run_grid(uce_limit, {"lam": lams}, seeds=args.seeds,
                           out=out / "unlearn_uce_limit.csv",
                           progress=False if args.no_progress else None)
    by = {(s["lam"], s["metric"]): s["mean"] for s in summary}
    print("\n| λ | erase residual | preserve drift |\n|---|---|---|")
    for lam in lams:
        print(f"| {lam:g} | {by[(lam, 'erase_residual')]:.2e} | "
              f"{by[(lam, 'preserve_drift')]:.2e} |")
    small = [lam for lam in lams if 1e-8 <= lam <= 1e-5]
    for m in ("erase_residual", "preserve_drift"):
        slope = np.polyfit(np.log(small), np.log([by[(lam, m)] for lam in small]), 1)[0]
        print(f"log-log slope of {m} over λ in [1e-8, 1e-5]: {slope:.3f}")
    print(f"smallest squared singular value of the keys: "
          f"{by[(lams[0], 'key_sigma_min_sq')]:.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
