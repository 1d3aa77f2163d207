"""Numba kernels of the recurrent Hebbian network and of the counting clique memories.

Arrays in, arrays out; nothing is imported from the package.  Randomness comes from the
caller: erasures, insertions and spontaneous activity arrive as arrays drawn from a NumPy
``Generator``; the two draws that are too many to pass in (tie-breaks at the energy
limit and synaptic release noise) use a counter-based hash (splitmix64) of a ``seed``
given by the caller and of the global step / unit indices, so a result depends only on
the arguments.  The plain-NumPy reference is ``tests/hebbian/reference_recurrent.py``.

Recurrent dynamics (one step, see :func:`present`)
---------------------------------------------------
``W`` is a float32 ``(n, n)`` array, ``W[a, u]`` the link from unit ``a`` to unit ``u``
(``n = C * L``, unit ``a`` in cluster ``a // L``).  With ``act`` the active units of
the previous step (sorted):

1. ``s[u] = sum_{a in act} W[a, u] * r[a, u] + gamma * [u in act] + drive * [u in input]``
   where ``r = 1`` without release noise and ``Bin(n_syn, p_rel) / (n_syn * p_rel)``
   with it;
2. winner-take-all per cluster: the units with the cluster's maximal score, if > 0
   (ties kept); with ``clamp`` only driven units compete;
3. energy limit: with ``per_cluster`` (the default of the wrapper) at most ``cap``
   active clusters: the ``cap`` clusters whose winners score highest are kept (with all
   their tied winners); otherwise at most ``cap`` active units, the strongest.  Ties at
   the cut are broken by a hashed priority;
4. spontaneous activity: a silent cluster lights ``spont[m, t, k]`` (if >= 0) while
   fewer than ``cap`` clusters (units) are active;
5. if plastic, consolidated Hebb: ``W[a, b] = min(1, W[a, b] + eps)`` for co-active
   ``a, b`` in different clusters, then every link ``0 < w < 1`` leaving an active unit
   becomes ``sigma(w) = (1 + tanh(tan(pi (w - 1/2)))) / 2``; results >= 1 become 1 and
   results < ``prune`` are removed (set to 0).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_GOLD = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_TIE = np.uint64(0xD1B54A32D192ED03)
_REL = np.uint64(0x8CB92BA72F3D8DD7)


@njit(cache=True, inline="always")
def mix64(z):
    """splitmix64 finaliser of a uint64."""
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


@njit(cache=True, inline="always")
def uniform3(seed, a, b, c):
    """Uniform [0, 1) double from a hash of ``seed`` and three non-negative counters."""
    z = mix64(seed + _GOLD * (np.uint64(a) + np.uint64(1)))
    z = mix64(z + _GOLD * (np.uint64(b) + np.uint64(1)))
    z = mix64(z + _GOLD * (np.uint64(c) + np.uint64(1)))
    return np.float64(z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True, inline="always")
def sigma(w):
    """Bistable consolidation map on (0, 1)."""
    return 0.5 * (1.0 + math.tanh(math.tan(math.pi * (w - 0.5))))


@njit(cache=True)
def present(
    W, L, inputs, spont, drive, gamma, eps, steps, cap, per_cluster, plastic, clamp, stable,
    prune, seed, step0, n_syn, p_rel, out_msg, out_nwin, out_steps,
):
    """Present each row of ``inputs`` for up to ``steps`` steps, in order.

    Parameters
    ----------
    W : float32 (n, n), updated in place when ``plastic``.
    L : int, units per cluster.
    inputs : int64 (M, C), global ids of the driven units, -1 for none.
    spont : int64 (M, steps, C) positions lit spontaneously (-1 none), or shape
        (0, 1, 1) for no spontaneous activity.
    drive, gamma, eps, prune, p_rel : float.
    steps, cap, stable, n_syn : int.  ``stable > 0`` stops a presentation once the
        last ``stable`` states are identical; ``n_syn = 0`` means no release noise.
    plastic : bool.
    clamp : bool, if true only the driven units (and spontaneously lit ones) may fire.
    seed, step0 : uint64 / int, hash key and global step offset (tie-breaks, release).
    per_cluster : bool, energy limit on clusters (True) or on units (False).
    out_msg : int64 (M, C), final position of the single active unit of each cluster
        (-1 if the cluster is silent or has several active units).
    out_nwin : int64 (M, C), number of active units of each cluster at the end.
    out_steps : int64 (M,), steps run.
    """
    n = W.shape[0]
    C = n // L
    M = inputs.shape[0]
    has_spont = spont.shape[0] > 0
    s = np.zeros(n, np.float64)
    act = np.empty(n, np.int64)
    nact = 0
    new = np.empty(n, np.int64)
    cand_s = np.empty(n, np.float64)
    tied = np.empty(n, np.int64)
    pri = np.empty(n, np.float64)
    keep = np.zeros(n, np.uint8)
    driven = np.zeros(n, np.uint8)
    cl_s = np.empty(C, np.float64)
    cl_id = np.empty(C, np.int64)
    keepc = np.zeros(C, np.uint8)
    inv = 1.0 / (n_syn * p_rel) if n_syn > 0 else 1.0
    # number of transient links (0 < w < 1) of each row: rows without any need no scan
    ntr = np.zeros(n, np.int64)
    if plastic:
        for a in range(n):
            for u in range(n):
                if W[a, u] > 0.0 and W[a, u] < 1.0:
                    ntr[a] += 1
    for m in range(M):
        nact = 0
        rep = 0
        t_run = 0
        if clamp:
            driven[:] = 0
            for k in range(C):
                if inputs[m, k] >= 0:
                    driven[inputs[m, k]] = 1
        for t in range(steps):
            g = np.uint64(step0 + m * steps + t)
            s[:] = 0.0
            # 1. potentials
            for i in range(nact):
                a = act[i]
                row = W[a]
                if n_syn > 0:
                    for u in range(n):
                        w = row[u]
                        if w > 0:
                            k = 0
                            for j in range(n_syn):
                                if uniform3(seed ^ _REL, g, a * n + u, j) < p_rel:
                                    k += 1
                            s[u] += w * (k * inv)
                else:
                    for u in range(n):
                        s[u] += row[u]
                s[a] += gamma
            for k in range(C):
                u = inputs[m, k]
                if u >= 0:
                    s[u] += drive
            # 2. winner-take-all per cluster (ties kept)
            nc = 0
            if clamp:
                for u in range(n):
                    if driven[u] == 0:
                        s[u] = 0.0
            for k in range(C):
                mx = 0.0
                for u in range(k * L, (k + 1) * L):
                    if s[u] > mx:
                        mx = s[u]
                if mx > 0.0:
                    for u in range(k * L, (k + 1) * L):
                        if s[u] == mx:
                            new[nc] = u
                            cand_s[nc] = mx
                            nc += 1
            # 3. energy limit
            if per_cluster:
                # candidates are grouped by cluster (ascending); one strength per cluster
                ncl = 0
                for i in range(nc):
                    if i == 0 or new[i] // L != new[i - 1] // L:
                        cl_s[ncl] = cand_s[i]
                        cl_id[ncl] = new[i] // L
                        ncl += 1
                if ncl > cap:
                    srt = np.sort(cl_s[:ncl])
                    theta = srt[ncl - cap]
                    ngt = 0
                    nt = 0
                    for i in range(ncl):
                        keepc[cl_id[i]] = 0
                        if cl_s[i] > theta:
                            ngt += 1
                            keepc[cl_id[i]] = 1
                        elif cl_s[i] == theta:
                            tied[nt] = cl_id[i]
                            pri[nt] = uniform3(seed ^ _TIE, g, cl_id[i], 1)
                            nt += 1
                    order = np.argsort(-pri[:nt])
                    for i in range(cap - ngt):
                        keepc[tied[order[i]]] = 1
                    j = 0
                    for i in range(nc):
                        if keepc[new[i] // L] == 1:
                            new[j] = new[i]
                            cand_s[j] = cand_s[i]
                            j += 1
                    nc = j
            elif nc > cap:
                srt = np.sort(cand_s[:nc])
                theta = srt[nc - cap]
                ngt = 0
                nt = 0
                for i in range(nc):
                    if cand_s[i] > theta:
                        ngt += 1
                    elif cand_s[i] == theta:
                        tied[nt] = new[i]
                        pri[nt] = uniform3(seed ^ _TIE, g, new[i], 0)
                        nt += 1
                need = cap - ngt
                order = np.argsort(-pri[:nt])
                for i in range(nc):
                    keep[new[i]] = 1 if cand_s[i] > theta else 0
                for i in range(need):
                    keep[tied[order[i]]] = 1
                j = 0
                for i in range(nc):
                    if keep[new[i]] == 1:
                        new[j] = new[i]
                        j += 1
                    keep[new[i]] = 0
                nc = j
            # 4. spontaneous activity in silent clusters
            if has_spont:
                used = nc
                if per_cluster:
                    used = 0
                    for i in range(nc):
                        if i == 0 or new[i] // L != new[i - 1] // L:
                            used += 1
                for k in range(C):
                    if used >= cap:
                        break
                    p = spont[m, t, k]
                    if p < 0:
                        continue
                    silent = True
                    for i in range(nc):
                        if new[i] // L == k:
                            silent = False
                            break
                    if silent:
                        new[nc] = k * L + p
                        nc += 1
                        used += 1
            new[:nc].sort()
            same = nc == nact
            if same:
                for i in range(nc):
                    if new[i] != act[i]:
                        same = False
                        break
            rep = rep + 1 if same else 0
            for i in range(nc):
                act[i] = new[i]
            nact = nc
            # 5. consolidated Hebbian learning
            if plastic:
                for i in range(nact):
                    a = act[i]
                    row = W[a]
                    # co-active links: increment, then consolidate
                    for j in range(nact):
                        b = act[j]
                        if a // L == b // L:
                            continue
                        w0 = row[b]
                        w = np.float64(np.float32(min(1.0, w0 + eps)))
                        if w < 1.0:
                            v = sigma(w)
                            w = 1.0 if v >= 1.0 else (0.0 if v < prune else v)
                        row[b] = w
                        ntr[a] += (1 if 0.0 < w < 1.0 else 0) - (1 if 0.0 < w0 < 1.0 else 0)
                        keep[b] = 1
                    # other transient links of the row (ntr counts them all)
                    inside = 0
                    for j in range(nact):
                        w = row[act[j]]
                        if 0.0 < w < 1.0 and act[j] // L != a // L:
                            inside += 1
                    if ntr[a] > inside:
                        cnt = 0
                        for u in range(n):
                            w = row[u]
                            if w > 0.0 and w < 1.0:
                                if keep[u] == 0:
                                    v = sigma(np.float64(w))
                                    w = 1.0 if v >= 1.0 else (0.0 if v < prune else v)
                                    row[u] = w
                                if 0.0 < w < 1.0:
                                    cnt += 1
                        ntr[a] = cnt
                    for j in range(nact):
                        keep[act[j]] = 0
            t_run = t + 1
            if stable > 0 and rep + 1 >= stable:
                break
        out_steps[m] = t_run
        for k in range(C):
            out_nwin[m, k] = 0
            out_msg[m, k] = -1
        for i in range(nact):
            k = act[i] // L
            out_nwin[m, k] += 1
            out_msg[m, k] = act[i] % L
        for k in range(C):
            if out_nwin[m, k] != 1:
                out_msg[m, k] = -1


@njit(cache=True)
def count_update(counts, units, L, delta, maxval):
    """Add ``delta`` (+1 or -1) to the count of every directed pair of each message.

    ``counts`` has shape ``(n, C - 1, L)`` (the inter-cluster blocks, in the layout of
    the binary kernels), ``units`` is int64 (M, k) global ids with -1 padding.  Returns
    -1 on success; otherwise the index of the first message whose update would leave
    ``[0, maxval]``, after undoing every change made by this call.
    """
    M, k = units.shape
    bad = -1
    done = 0
    for m in range(M):
        ok = True
        for i in range(k):
            a = units[m, i]
            if a < 0:
                continue
            ca = a // L
            for j in range(k):
                b = units[m, j]
                if b < 0 or j == i:
                    continue
                cb = b // L
                if cb == ca:
                    continue
                jj = cb - 1 if cb > ca else cb
                v = np.int64(counts[a, jj, b % L]) + delta
                if v < 0 or v > maxval:
                    ok = False
        if not ok:
            bad = m
            break
        for i in range(k):
            a = units[m, i]
            if a < 0:
                continue
            ca = a // L
            for j in range(k):
                b = units[m, j]
                if b < 0 or j == i:
                    continue
                cb = b // L
                if cb == ca:
                    continue
                jj = cb - 1 if cb > ca else cb
                counts[a, jj, b % L] += delta
        done = m + 1
    if bad >= 0:
        for m in range(done):
            for i in range(k):
                a = units[m, i]
                if a < 0:
                    continue
                ca = a // L
                for j in range(k):
                    b = units[m, j]
                    if b < 0 or j == i:
                        continue
                    cb = b // L
                    if cb == ca:
                        continue
                    jj = cb - 1 if cb > ca else cb
                    counts[a, jj, b % L] -= delta
    return bad


@njit(cache=True)
def pack_rows(counts, rows, bits):
    """Set ``bits[a]`` to the packed view ``counts[a] > 0`` for every ``a`` in ``rows``."""
    L = counts.shape[2]
    wl = bits.shape[2]
    for r in range(rows.shape[0]):
        a = rows[r]
        for jj in range(counts.shape[1]):
            for w in range(wl):
                word = np.uint64(0)
                for b in range(64):
                    p = w * 64 + b
                    if p < L and counts[a, jj, p] > 0:
                        word |= np.uint64(1) << np.uint64(b)
                bits[a, jj, w] = word
