"""Benchmark of the hebbian retrieval kernels against a NumPy/BLAS reference of the same rule.

Prints a markdown table: queries (or messages) per second of the Numba kernels and of a
NumPy reference measured in the same run (dense float32 matrix products through BLAS,
the same rule and filter), and their ratio.  JIT is warmed before timing; each figure is
the best of ``--repeat`` runs.

    python bench/hebbian.py            # c=8, l=256, M=10000, 4 erased (issue #5 targets)
    python bench/hebbian.py --quick    # smaller query batches
"""

from __future__ import annotations

import argparse
import os
import sys
import time

# this file is named like the package: keep bench/ itself off the import path
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

import numba
import numpy as np

from hebbian import CliqueNetwork, SparseCliqueNetwork, noise


def best(fn, repeat):
    t = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        t.append(time.perf_counter() - t0)
    return min(t)


class Ref:
    """Dense NumPy reference: V @ W through BLAS, WTA by reshape, iterate."""

    def __init__(self, net):
        self.C, self.L = net.clusters, net.neurons_per_cluster
        self.W = net.adjacency().astype(np.float32)

    def start(self, cues, ins=None, fill=False):
        Q = len(cues)
        v = np.zeros((Q, self.C, self.L), np.float32)
        for j in range(self.C):
            known = cues[:, j] >= 0
            v[np.flatnonzero(known), j, cues[known, j]] = 1
            if fill:
                v[~known, j, :] = 1
        v = v.reshape(Q, -1)
        if ins is not None:
            v[np.repeat(np.arange(Q), ins.shape[1]), ins.ravel()] = 1
        return v

    def step(self, v, rule):
        if rule == "sos":
            s = v @ self.W
        else:
            s = np.zeros_like(v)
            for k in range(self.C):
                blk = slice(k * self.L, (k + 1) * self.L)
                s += (v[:, blk] @ self.W[blk]) > 0
        s += v
        s = s.reshape(len(v), self.C, self.L)
        m = s.max(axis=2, keepdims=True)
        return ((s == m) & (m > 0)).reshape(len(v), -1).astype(np.float32)

    def recall(self, cues, rule, iterations, ins=None):
        v = self.start(cues, ins, fill=rule == "som")
        for _ in range(iterations):
            new = self.step(v, rule)
            if np.array_equal(new, v):
                break
            v = new
        return v


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=min(2, numba.config.NUMBA_NUM_THREADS))
    a = ap.parse_args(argv)
    Q = 50_000 if a.quick else 400_000
    Qref = 2_000 if a.quick else 8_000
    rng = np.random.default_rng(0)
    C, L, M = 8, 256, 10_000
    msgs = rng.integers(0, L, size=(M, C))
    net = CliqueNetwork(C, L).store(msgs)
    target = msgs[rng.integers(0, M, Q)]
    cues = noise.erase(target, 4, rng)
    ins_cues = target.copy()
    ins = noise.insert(ins_cues, 4, L, rng)
    ref = Ref(net)
    rows = []

    def add(name, threads, n_fast, t_fast, n_ref, t_ref, target_rate):
        fast, slow = n_fast / t_fast, n_ref / t_ref
        ok = "yes" if fast >= target_rate else "no"
        rows.append((name, threads, fast, slow, fast / slow, target_rate, ok))

    # warm
    net.recall(cues[:10], rule="som", iterations=None)
    net.recall(cues[:10])
    net.recall(ins_cues[:10], insertions=ins[:10], iterations=4)

    # storing
    big = rng.integers(0, L, size=(200_000 if not a.quick else 50_000, C))
    numba.set_num_threads(1)
    t_store = best(lambda: CliqueNetwork(C, L).store(big), a.repeat)
    W = np.zeros((C * L, C * L), bool)
    ids = big[:20_000] + np.arange(C) * L

    def ref_store():
        W[:] = False
        for i in range(C):
            for j in range(C):
                if i != j:
                    W[ids[:, i], ids[:, j]] = True

    t_rstore = best(ref_store, a.repeat)
    add("store (messages/s)", 1, len(big), t_store, 20_000, t_rstore, 10e6)

    # one-iteration SoS, 1 thread
    numba.set_num_threads(1)
    t = best(lambda: net.recall(cues), a.repeat)
    tr = best(lambda: ref.recall(cues[:Qref], "sos", 1), a.repeat)
    add("SoS, 1 iteration, 4 erased", 1, Q, t, Qref, tr, 5e6)

    # iterated SoM
    numba.set_num_threads(a.threads)
    t = best(lambda: net.recall(cues, rule="som", iterations=None), a.repeat)
    tr = best(lambda: ref.recall(cues[:Qref], "som", 100), a.repeat)
    add("SoM iterated, 4 erased", a.threads, Q, t, Qref, tr, 2e6)

    # SoS with 4 insertions (iterated WTA, 4 steps)
    t = best(lambda: net.recall(ins_cues, insertions=ins, iterations=4), a.repeat)
    tr = best(lambda: ref.recall(ins_cues[:Qref], "sos", 4, ins=ins[:Qref]), a.repeat)
    add("SoS+WTA, 4 insertions, 4 iterations", a.threads, Q, t, Qref, tr, 1e6)

    # sparse network: chi=100, l=64, c=12, 3 erased, M=103k (guided 4 it, blind 1 it)
    sp = SparseCliqueNetwork(100, 64, 12)
    smsgs = sp.random_messages(103_000, rng)
    sp.store(smsgs)
    Qs = Q // 8
    st = smsgs[rng.integers(0, len(smsgs), Qs)]
    scues = noise.erase(st, 3, rng)
    sp.recall(scues[:10], guide=st[:10] // 64, iterations=4)
    sp.recall(scues[:10])
    sref = Ref(sp)
    Wd = sref.W

    def sparse_ref(n, guided):
        v = np.zeros((n, sp.n), np.float32)
        v[np.repeat(np.arange(n), 12), np.where(scues[:n] < 0, 0, scues[:n]).ravel()] = 1
        v[:, 0] = 0
        v[np.flatnonzero((scues[:n] == 0).any(axis=1)), 0] = 1
        for _ in range(4 if guided else 1):
            s = v @ Wd + v
            if guided:
                s = s.reshape(n, 100, 64)
                m = s.max(axis=2, keepdims=True)
                v = ((s == m) & (m > 0)).reshape(n, -1).astype(np.float32)
            else:
                th = -np.partition(-s, 11, axis=1)[:, 11:12]
                v = ((s >= th) & (s > 0)).astype(np.float32)

    t = best(lambda: sp.recall(scues, guide=st // 64, iterations=4), a.repeat)
    tr = best(lambda: sparse_ref(Qref // 4, True), a.repeat)
    add("sparse guided SoS+WTA, 4 it (χ=100, l=64, c=12)", a.threads, Qs, t, Qref // 4, tr, 1e5)
    t = best(lambda: sp.recall(scues), a.repeat)
    tr = best(lambda: sparse_ref(Qref // 4, False), a.repeat)
    add("sparse blind SoS+GWsTA, 1 it", a.threads, Qs, t, Qref // 4, tr, 1e5)

    print(f"hebbian benchmark: c=8, l=256, M=10000, 4 erased; numba threads as listed; "
          f"NumPy/BLAS reference in the same run ({os.cpu_count()} CPUs visible)\n")
    print("| case | numba threads | numba /s | NumPy ref /s | ratio | target /s | met |")
    print("|---|---|---|---|---|---|---|")
    for name, th, f, s, r, tg, ok in rows:
        print(f"| {name} | {th} | {f:,.0f} | {s:,.0f} | {r:,.1f}x | {tg:,.0f} | {ok} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
