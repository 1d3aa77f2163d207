"""Benchmark of the recurrent Hebbian kernels and of the counting (forgettable) memory.

Prints markdown tables:

* learning (presentations of T = 60 steps, c = 8, l = 256, clean input): the Numba
  kernel against a vectorised NumPy implementation of the same dynamics, measured in
  the same run on the same messages (the final weights are checked equal);
* recurrent recall (queries/s) on the learned network, plastic and not;
* counting network: store/forget throughput against the binary ``CliqueNetwork.store``,
  and the memory of counts vs bits.

    python bench/hebbian_recurrent.py            # 20 000 messages learned (< 60 s target)
    python bench/hebbian_recurrent.py --quick
"""

from __future__ import annotations

import argparse
import os
import sys
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

import numpy as np

from hebbian import CliqueNetwork, CountingCliqueNetwork, RecurrentHebbian


def numpy_learn(W, msgs, L, steps=60, eps=0.141, drive=8.0, gamma=1.0, prune=1e-4):
    """Vectorised NumPy version of the clean-input learning dynamics (chi = c, no noise)."""
    n = W.shape[0]
    C = n // L
    cl = np.arange(n) // L
    for msg in msgs:
        inp = msg + np.arange(C) * L
        act = np.zeros(0, np.int64)
        for _ in range(steps):
            s = W[act].astype(np.float64).sum(axis=0)
            s[act] += gamma
            s[inp] += drive
            blk = s.reshape(C, L)
            mx = blk.max(axis=1, keepdims=True)
            win = (blk == mx) & (mx > 0)
            act = np.flatnonzero(win.ravel())
            sub = W[np.ix_(act, act)]
            other = cl[act][:, None] != cl[act][None, :]
            sub[other] = np.minimum(1.0, sub[other] + eps).astype(np.float32)
            W[np.ix_(act, act)] = sub
            rows = W[act]
            tr = (rows > 0) & (rows < 1)
            v = 0.5 * (1 + np.tanh(np.tan(np.pi * (rows[tr].astype(np.float64) - 0.5))))
            v = np.where(v >= 1.0, 1.0, np.where(v < prune, 0.0, v))
            rows[tr] = v
            W[act] = rows
    return W


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args(argv)
    C, L = 8, 256
    n_full = 2000 if a.quick else 20000
    n_ref = 20 if a.quick else 100
    rng = np.random.default_rng(0)
    msgs = rng.integers(0, L, size=(n_full, C))
    RecurrentHebbian(C, 16, seed=0).learn(rng.integers(0, 16, size=(5, C)))  # warm JIT

    t0 = time.perf_counter()
    ref_W = numpy_learn(np.zeros((C * L, C * L), np.float32), msgs[:n_ref], L)
    t_ref = time.perf_counter() - t0
    net = RecurrentHebbian(C, L, seed=0)
    t0 = time.perf_counter()
    net.learn(msgs[:n_ref])
    t_small = time.perf_counter() - t0
    same = bool((net.weights == ref_W).all())
    t0 = time.perf_counter()
    net.learn(msgs[n_ref:])
    t_big = time.perf_counter() - t0
    rate_nb = (n_full - n_ref) / t_big
    print(f"## Learning, c = {C}, l = {L}, T = 60, clean input (weights equal to NumPy: {same})")
    print()
    print("| implementation | messages | seconds | messages/s | ratio |")
    print("|---|---|---|---|---|")
    print(f"| NumPy (vectorised per step) | {n_ref} | {t_ref:.2f} | {n_ref / t_ref:.0f} | 1.0 |")
    print(f"| Numba, same messages | {n_ref} | {t_small:.3f} | {n_ref / t_small:.0f} | "
          f"{t_ref / t_small:.0f} |")
    print(f"| Numba, messages {n_ref}..{n_full} | {n_full - n_ref} | {t_big:.1f} | "
          f"{rate_nb:.0f} | {rate_nb / (n_ref / t_ref):.0f} |")
    print(f"\nlearning {n_full} messages: {t_small + t_big:.1f} s "
          f"(target for 20 000: < 60 s on 2 cores)\n")

    Q = 2000
    truth = msgs[rng.integers(0, n_full, size=Q)]
    cues = truth.copy()
    cues[:, :4] = -1
    w0 = net.weights.copy()
    print("## Recurrent recall (4 of 8 erased)\n")
    print("| mode | queries/s | error |")
    print("|---|---|---|")
    for plastic in (False, True):
        net.weights[:] = w0
        t0 = time.perf_counter()
        res = net.recall(cues, plastic=plastic)
        dt = time.perf_counter() - t0
        err = (res.messages != truth).any(axis=1).mean()
        print(f"| plastic_recall={plastic} | {Q / dt:.0f} | {err:.4f} |")

    print("\n## Counting network (exact forgetting) vs binary store\n")
    M = n_full
    binary = CliqueNetwork(C, L)
    t0 = time.perf_counter()
    binary.store(msgs)
    t_bin = time.perf_counter() - t0
    cnt = CountingCliqueNetwork(C, L)
    cnt.store(msgs[:10])
    cnt.forget(msgs[:10])  # warm
    t0 = time.perf_counter()
    cnt.store(msgs)
    t_cnt = time.perf_counter() - t0
    t0 = time.perf_counter()
    cnt.forget(msgs[: M // 10])
    t_fgt = time.perf_counter() - t0
    print("| operation | messages/s | ratio to binary store |")
    print("|---|---|---|")
    print(f"| binary store | {M / t_bin:.0f} | 1.0 |")
    print(f"| counting store (uint8) | {M / t_cnt:.0f} | {t_bin / t_cnt:.2f} |")
    print(f"| counting forget | {M // 10 / t_fgt:.0f} | {(t_bin / M) / (t_fgt / (M // 10)):.2f} |")
    mb = cnt.memory_bytes()
    mb16 = CountingCliqueNetwork(C, L, dtype="uint16").memory_bytes()
    print(f"\nmemory: bits {mb['bits'] / 2**10:.0f} KiB, uint8 counts "
          f"{mb['counts'] / 2**10:.0f} KiB ({mb['counts'] / mb['bits']:.0f}x), uint16 counts "
          f"{mb16['counts'] / 2**10:.0f} KiB ({mb16['counts'] / mb16['bits']:.0f}x); "
          f"max count after {M} messages: {int(cnt.counts.max())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
