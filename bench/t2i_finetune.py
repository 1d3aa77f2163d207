"""Benchmark: the cost of each eraser of ``unlearn.t2i`` against the substrate's own training.

Each eraser runs once at the benchmark's size (``unlearn.t2i.bench.SIZES[--size]``: the
fine-tuning iterations and batch the table uses) on one target; the reference, measured in the
same run, is one training step of the substrate (batch 32, ``unlearn.t2i.train.train``).  The
table gives seconds, the cost in training steps, and the projected fraction of the
substrate's whole training run (``model.info["training"]``: 4000 steps).  Wall-clock seconds
move with machine load; the ratios are what to compare.

Usage::

    ERASURELAB_TORCH_THREADS=1 .venv/bin/python bench/t2i_finetune.py [--size bench]
        [--target seven] [--methods esd-x,esd-u,...] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import timeit

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]


def main(argv=None) -> None:
    from unlearn.t2i import erase, pretrained
    from unlearn.t2i.bench import METHODS_ORDER, plan_grid
    from unlearn.t2i.train import train

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", default="bench")
    p.add_argument("--target", default="seven")
    p.add_argument("--methods", default=",".join(m for m in METHODS_ORDER if m != "none"))
    p.add_argument("--repeat", type=int, default=3, help="repeats of the training step")
    args = p.parse_args(argv)

    model = pretrained("digits")
    info = model.info.get("training", {})
    steps_total = int(info.get("steps", 4000))
    scratch = model.copy()

    def one_step():
        train(scratch, steps=1, batch_size=32, warmup=0, ema=0.0)

    one_step()
    t_step = min(timeit.repeat(one_step, number=1, repeat=args.repeat))
    rows = []
    for prm in plan_grid([args.target], args.methods.split(","), size=args.size):
        t0 = time.perf_counter()
        erase(model, prm["target"], method=prm["method"], **prm["options"])
        rows.append((prm["method"], prm["options"], time.perf_counter() - t0))
    print(f"one training step (batch 32): {t_step:.3f} s; the substrate's training: "
          f"{steps_total} steps ({info.get('seconds', 'n/a')} s when it was trained)\n")
    print("| eraser (target " + args.target + ", size " + args.size + ") | seconds | "
          "training steps | fraction of the training run |")
    print("|---|---|---|---|")
    for m, opts, t in rows:
        it = opts.get("iterations")
        label = m + (f" ({it} iterations)" if it else " (closed form)")
        print(f"| {label} | {t:.2f} | {t / t_step:.1f} | {t / (t_step * steps_total):.4f} |")


if __name__ == "__main__":
    main()
