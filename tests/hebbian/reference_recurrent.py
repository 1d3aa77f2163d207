"""Plain NumPy/Python references of :mod:`hebbian._recurrent_kernels` (small sizes only)."""

from __future__ import annotations

import math

import numpy as np

MASK = (1 << 64) - 1
GOLD = 0x9E3779B97F4A7C15
MIX1 = 0xBF58476D1CE4E5B9
MIX2 = 0x94D049BB133111EB
TIE = 0xD1B54A32D192ED03
REL = 0x8CB92BA72F3D8DD7


def mix64(z: int) -> int:
    z = ((z ^ (z >> 30)) * MIX1) & MASK
    z = ((z ^ (z >> 27)) * MIX2) & MASK
    return z ^ (z >> 31)


def uniform3(seed: int, a: int, b: int, c: int) -> float:
    z = mix64((seed + GOLD * (a + 1)) & MASK)
    z = mix64((z + GOLD * (b + 1)) & MASK)
    z = mix64((z + GOLD * (c + 1)) & MASK)
    return (z >> 11) * (1.0 / 9007199254740992.0)


def sigma(w: float) -> float:
    return 0.5 * (1.0 + math.tanh(math.tan(math.pi * (w - 0.5))))


def present(W, L, inputs, spont, drive, gamma, eps, steps, cap, per_cluster, plastic, clamp,
            stable, prune, seed, step0, n_syn, p_rel):
    """Same contract as the kernel; returns (msg, nwin, steps) and updates ``W``."""
    n = W.shape[0]
    C = n // L
    M = inputs.shape[0]
    seed = int(seed)
    out_msg = np.full((M, C), -1, np.int64)
    out_nwin = np.zeros((M, C), np.int64)
    out_steps = np.zeros(M, np.int64)
    for m in range(M):
        act: list[int] = []
        rep = 0
        t_run = 0
        driven = set(int(u) for u in inputs[m] if u >= 0)
        for t in range(steps):
            g = step0 + m * steps + t
            s = np.zeros(n)
            for a in act:
                if n_syn > 0:
                    for u in range(n):
                        w = W[a, u]
                        if w > 0:
                            k = sum(uniform3(seed ^ REL, g, a * n + u, j) < p_rel
                                    for j in range(n_syn))
                            s[u] += float(w) * (k * (1.0 / (n_syn * p_rel)))
                else:
                    s += W[a].astype(np.float64)
                s[a] += gamma
            for u in driven:
                s[u] += drive
            if clamp:
                mask = np.zeros(n, bool)
                mask[list(driven)] = True
                s[~mask] = 0.0
            cand: list[tuple[int, float]] = []
            for k in range(C):
                blk = s[k * L:(k + 1) * L]
                mx = blk.max()
                if mx > 0:
                    cand += [(k * L + int(i), float(mx)) for i in np.flatnonzero(blk == mx)]
            if per_cluster:
                strength = {}
                for u, v in cand:
                    strength.setdefault(u // L, v)
                if len(strength) > cap:
                    vals = sorted(strength.values())
                    theta = vals[len(vals) - cap]
                    keep = {k for k, v in strength.items() if v > theta}
                    tied = [k for k, v in strength.items() if v == theta]
                    tied.sort(key=lambda k: -uniform3(seed ^ TIE, g, k, 1))
                    keep |= set(tied[:cap - len(keep)])
                    cand = [(u, v) for u, v in cand if u // L in keep]
            elif len(cand) > cap:
                vals = sorted(v for _, v in cand)
                theta = vals[len(vals) - cap]
                keepu = {u for u, v in cand if v > theta}
                tied = [u for u, v in cand if v == theta]
                tied.sort(key=lambda u: -uniform3(seed ^ TIE, g, u, 0))
                keepu |= set(tied[:cap - len(keepu)])
                cand = [(u, v) for u, v in cand if u in keepu]
            new = [u for u, _ in cand]
            if spont.shape[0] > 0:
                used = len({u // L for u in new}) if per_cluster else len(new)
                for k in range(C):
                    if used >= cap:
                        break
                    p = spont[m, t, k]
                    if p >= 0 and all(u // L != k for u in new):
                        new.append(k * L + int(p))
                        used += 1
            new.sort()
            rep = rep + 1 if new == act else 0
            act = new
            if plastic:
                for a in act:
                    for b in act:
                        if a // L != b // L:
                            W[a, b] = np.float32(min(1.0, float(W[a, b]) + eps))
                for a in act:
                    for u in range(n):
                        w = float(W[a, u])
                        if 0.0 < w < 1.0:
                            v = sigma(w)
                            W[a, u] = 1.0 if v >= 1.0 else (0.0 if v < prune else v)
            t_run = t + 1
            if stable > 0 and rep + 1 >= stable:
                break
        out_steps[m] = t_run
        for u in act:
            out_nwin[m, u // L] += 1
            out_msg[m, u // L] = u % L
        out_msg[m, out_nwin[m] != 1] = -1
    return out_msg, out_nwin, out_steps


def counts_dense(units, n: int, L: int) -> np.ndarray:
    """Dense (n, n) directed pair counts of messages given as global ids (-1 padding)."""
    out = np.zeros((n, n), np.int64)
    for row in np.asarray(units):
        u = [int(x) for x in row if x >= 0]
        for a in u:
            for b in u:
                if a // L != b // L:
                    out[a, b] += 1
    return out


def to_layout(dense: np.ndarray, L: int) -> np.ndarray:
    """Dense (n, n) -> (n, C - 1, L) inter-cluster layout of the counting kernels."""
    n = dense.shape[0]
    C = n // L
    blocks = dense.reshape(n, C, L)
    own = np.arange(n) // L
    keep = np.ones((n, C), bool)
    keep[np.arange(n), own] = False
    return blocks[keep].reshape(n, C - 1, L)
