"""The concept-erasure benchmark of ``unlearn.t2i``: every eraser, the same targets, seeds,
prompts and attacks, one table with CIs, the papers' claims as measured, and figures.

Runs :func:`unlearn.t2i.bench.run_bench` (tidy CSV through ``sim.run_grid``: an interrupted
run resumes; erased models are kept under ``OUT/models``).  Writes ``OUT/t2i_bench.csv``,
``OUT/t2i_bench.md`` (the table and the claims), ``OUT/t2i_bench_<target>.png`` (sample
grids before/after each method and after its strongest attack) and ``OUT/t2i_bench_cost.png``
(combined score against seconds).

Usage::

    ERASURELAB_TORCH_THREADS=1 nice -n 5 .venv/bin/python scripts/t2i_bench.py \
        --size bench [--targets seven,two,bold] [--methods none,uce,...] [--seeds 5] \
        [--attacks paraphrase,prompt-search,textual-inversion,editing] [--out-dir out/t2i_bench]
"""

from __future__ import annotations

import argparse
import sys


def main(argv=None) -> int:
    from unlearn.t2i.bench import ATTACKS_ORDER, METHODS_ORDER, SIZES, run_bench

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", default="bench", choices=sorted(SIZES))
    p.add_argument("--targets", default=None, help="comma-separated (default: the size's)")
    p.add_argument("--methods", default=",".join(METHODS_ORDER))
    p.add_argument("--attacks", default=",".join(ATTACKS_ORDER))
    p.add_argument("--seeds", type=int, default=None, help="generation seeds (default: size's)")
    p.add_argument("--seed-list", default=None,
                   help="explicit comma-separated seeds (e.g. 1,3 for a second process)")
    p.add_argument("--reverse", action="store_true",
                   help="run the methods in reverse order (a second process then erases "
                        "the last methods first; erased models are shared through OUT/models)")
    p.add_argument("--no-figure", action="store_true")
    p.add_argument("--out-dir", default="out/t2i_bench")
    p.add_argument("--csv", default="t2i_bench.csv", help="result file inside --out-dir")
    p.add_argument("--table-only", action="store_true",
                   help="write the table and figures from the runs in the file; run nothing")
    args = p.parse_args(argv)
    res = run_bench(args.out_dir, size=args.size,
                    targets=None if args.targets is None else args.targets.split(","),
                    methods=args.methods.split(",")[::-1 if args.reverse else 1],
                    attacks=[a for a in args.attacks.split(",") if a],
                    seeds=([int(x) for x in args.seed_list.split(",")] if args.seed_list
                           else args.seeds), figure=not args.no_figure, csv=args.csv,
                    table_only=args.table_only)
    print(res["markdown"])
    print(f"\n{res['seconds']:.0f} s; wrote " + ", ".join(res["paths"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
