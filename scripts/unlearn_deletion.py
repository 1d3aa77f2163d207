"""Reproduce the certified-deletion numbers (docs/results/unlearning.md) and the cost comparison.

1. Unlearned vs retrained chains sharing one noise stream (breast_cancer, λ=1e-2, σ=0.05,
   k=20): ``||θ_U − θ_R||`` against ``(1−ηλ)^K·d₀`` at K = 0, 50, 100, 200.
2. ``steps_for``: deletion steps for ε ≤ 1 (Rényi q=2, and (ε, δ=1/n)).
3. Cost: deletion steps / fresh-chain steps for the same target across k, n, ε, δ
   (tidy CSV through sim.run_grid).

    python scripts/unlearn_deletion.py --out out/unlearn_cost.csv [--seeds 3] [--chains 8]
"""

from __future__ import annotations

import argparse

import numpy as np

import sim
from unlearn import accounting, experiments


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out", default="out/unlearn_cost.csv")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--chains", type=int, default=8)
    a = p.parse_args(argv)

    print("## shared noise stream: ||θ_U − θ_R|| vs (1−ηλ)^K d₀ (mean over chains, seeds)\n")
    print("| K_U | ‖θ_U − θ_R‖ | (1−ηλ)^K·d₀ |")
    print("|---|---|---|")
    for K in (0, 50, 100, 200):
        r = [experiments.deletion_distance({"k": 20, "steps": K, "chains": a.chains}, s)
             for s in range(a.seeds)]
        print(f"| {K} | {np.mean([x['dist'] for x in r]):.4g} | "
              f"{np.mean([x['bound'] for x in r]):.4g} |")

    eta = 1 / 0.26
    kw = dict(n=569, lam=1e-2, sigma=0.05, eta=eta)
    print("\n## steps_for (n=569, λ=1e-2, σ=0.05, η=1/0.26)\n")
    print("| k | ε₀(q=2) | K_U, q=2, ε≤1 | K_U, ε=1, δ=1/n |")
    print("|---|---|---|---|")
    for k in (1, 20):
        print(f"| {k} | {accounting.eps0(2.0, k=k, n=569, lam=1e-2, sigma=0.05):.3g} | "
              f"{accounting.steps_for(1.0, k=k, q=2.0, **kw)} | "
              f"{accounting.steps_for(1.0, k=k, delta=1 / 569, **kw)} |")

    grid = {"k": [1, 5, 20, 50, 100, 200, 400], "n_records": [569, 5690], "eps": [0.1, 1.0, 10.0],
            "delta": [0.0, 1e-5]}
    summary = sim.run_grid(experiments.deletion_cost, grid, seeds=[0], out=a.out)
    print(f"\n## deletion / fresh-chain steps (wrote {a.out}); δ=0 means Rényi q=2\n")
    print("| n | ε | δ | " + " | ".join(f"k={k}" for k in grid["k"]) + " |")
    print("|---|---|---|" + "---|" * len(grid["k"]))
    ratio = {(s["n_records"], s["eps"], s["delta"], s["k"]): s["mean"] for s in summary
             if s["metric"] == "ratio"}
    for n in grid["n_records"]:
        for e in grid["eps"]:
            for d in grid["delta"]:
                cells = " | ".join(f"{ratio[(n, e, d, k)]:.2f}" for k in grid["k"])
                print(f"| {n} | {e} | {d:g} | {cells} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
