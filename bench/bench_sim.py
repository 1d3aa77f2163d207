"""Benchmark: the repetition sampler through ``sim.collect`` against calling it directly.

Both measured in the same run, so the ratio (engine throughput / direct throughput) is
meaningful on a shared machine; absolute shots/s are not.

    .venv/bin/python bench/bench_sim.py [--shots 20000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import sim
from sim.repetition import RepetitionSampler


def best_of(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shots", type=int, default=20_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--n", type=int, default=5)
    a = ap.parse_args()
    s = RepetitionSampler()
    params = s.validate({"n": a.n, "p": 0.1})
    s.sample(params, 1000, np.random.default_rng(0))  # warm
    direct = best_of(lambda: s.sample(params, a.shots, np.random.default_rng(1)), a.repeat)
    task = [("repetition", params)]
    eng1 = best_of(
        lambda: sim.collect(task, max_shots=a.shots, seed=1, workers=1, progress=False), a.repeat
    )
    eng2 = best_of(
        lambda: sim.collect(task, max_shots=a.shots, seed=1, workers=2, progress=False), 1
    )
    print(f"repetition code n={a.n}, p=0.1, {a.shots:,} shots, best of {a.repeat}\n")
    print("| path | shots/s | ratio to direct |")
    print("|---|---:|---:|")
    for name, t in [("direct `sampler.sample` (one call)", direct),
                    ("`sim.collect`, workers=1 (fixed 65 536-shot chunks)", eng1),
                    ("`sim.collect`, workers=2 (spawn pool, incl. start-up)", eng2)]:
        print(f"| {name} | {a.shots / t:,.0f} | {direct / t:.2f} |")


if __name__ == "__main__":
    main()
