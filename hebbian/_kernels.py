"""Numba kernels of the clustered binary memories (arrays in, arrays out, no randomness).

Adjacency layout (shared by every kernel and by :class:`hebbian.CliqueNetwork`)
-------------------------------------------------------------------------------
``bits`` is a C-contiguous ``uint64`` array of shape ``(n, C - 1, wl)`` with
``n = C * L`` units (``C`` clusters of ``L`` units; unit ``a`` lies in cluster
``a // L`` at position ``a % L``) and ``wl = ceil(L / 64)`` words per cluster.
``bits[a, jj, w] >> b & 1`` is the synapse from unit ``a`` to the unit at position
``64 * w + b`` of cluster ``j = jj + (jj >= a // L)``: only the inter-cluster blocks
are stored, one bit per directed synapse.  Unused high bits of the last word are 0.

A state (a set of active units) is a ``uint64`` array ``(C, wl)`` with the same bit
order.  Scores are kept in bit-sliced counters: ``planes[p, j, w]`` holds bit ``p`` of
the score of every unit of cluster ``j`` covered by word ``w``, so adding a row of 64
synapses is a ripple-carry over a few machine words.

Codes used by the kernels: rule 0 = sum-of-sum (SoS), 1 = sum-of-max (SoM); filter
0 = WTA (per cluster), 1 = GWTA, 2 = GWsTA (``select``-th largest), 3 = GLsKO.
Release noise (``nsyn > 0`` in :func:`recall_int`) draws each synapse's
``Bin(nsyn, p)`` by inverting ``cdf`` with a counter-based hash (splitmix64) of a
per-query key, so results do not depend on thread count or chunking.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

_M1 = np.uint64(0x5555555555555555)
_M2 = np.uint64(0x3333333333333333)
_M4 = np.uint64(0x0F0F0F0F0F0F0F0F)
_H01 = np.uint64(0x0101010101010101)
_ONE = np.uint64(1)
_ZERO = np.uint64(0)
_ALL = np.uint64(0xFFFFFFFFFFFFFFFF)
_GOLD = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


@njit(cache=True, inline="always")
def popcount(x):
    """Number of set bits of a uint64."""
    x = x - ((x >> np.uint64(1)) & _M1)
    x = (x & _M2) + ((x >> np.uint64(2)) & _M2)
    x = (x + (x >> np.uint64(4))) & _M4
    return np.int64((x * _H01) >> np.uint64(56))


@njit(cache=True, inline="always")
def lowbit_index(x):
    """Index of the lowest set bit of a non-zero uint64."""
    t = x & (~x + _ONE)
    return popcount(t - _ONE)


@njit(cache=True, inline="always")
def nth_bit(x, k):
    """Index of the ``k``-th (0-based) set bit of ``x``."""
    for _ in range(k):
        x = x & (x - _ONE)
    return lowbit_index(x)


@njit(cache=True)
def splitmix(key, counter):
    z = key + np.uint64(counter) * _GOLD
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


@njit(cache=True)
def store_units(bits, units, L):
    """Set the synapses of every stored message (serial; no races).

    bits : uint64 (n, C-1, wl), updated in place.
    units : int64 (M, k) global unit ids of each message, -1 ignored.
    """
    n, C1, wl = bits.shape
    M, k = units.shape
    flat = bits.reshape(n * C1 * wl)
    row = np.empty(k, np.int64)
    cl = np.empty(k, np.int64)
    off = np.empty(k, np.int64)
    mask = np.empty(k, np.uint64)
    rs = C1 * wl
    for m in range(M):
        nv = 0
        for x in range(k):
            a = units[m, x]
            if a < 0:
                continue
            c = a // L
            ob = a - c * L
            row[nv] = a * rs
            cl[nv] = c
            off[nv] = c * wl + (ob >> 6)
            mask[nv] = _ONE << np.uint64(ob & 63)
            nv += 1
        for x in range(nv):
            ia = cl[x]
            r = row[x]
            for y in range(nv):
                ib = cl[y]
                if ib == ia:
                    continue
                p = r + off[y] - (wl if ib > ia else 0)
                flat[p] |= mask[y]


@njit(cache=True)
def cluster_or(bits, L):
    """``out[i, jj, w]`` = OR of the rows of all units of cluster ``i`` (shape (C, C-1, wl))."""
    n, C1, wl = bits.shape
    C = n // L
    out = np.zeros((C, C1, wl), np.uint64)
    for a in range(n):
        i = a // L
        for jj in range(C1):
            for w in range(wl):
                out[i, jj, w] |= bits[a, jj, w]
    return out


@njit(cache=True, inline="always")
def _add(planes, nb, j, w, x, start):
    # no early exit on x == 0: a fixed trip count predicts better than the carry
    for p in range(start, nb):
        t = planes[p, j, w] & x
        planes[p, j, w] ^= x
        x = t


@njit(cache=True)
def _bitlen(v):
    b = 0
    while v > 0:
        b += 1
        v >>= 1
    return b


@njit(cache=True)
def _init_state(state, q, cues, ins, fill, fill_mode, L, lastmask):
    C, wl = state.shape
    state[:, :] = _ZERO
    for x in range(cues.shape[1]):
        a = cues[q, x]
        if a >= 0:
            o = a % L
            state[a // L, o >> 6] |= _ONE << np.uint64(o & 63)
    if fill_mode == 1:
        for j in range(C):
            empty = True
            for w in range(wl):
                if state[j, w] != _ZERO:
                    empty = False
            if empty:
                for w in range(wl):
                    state[j, w] = lastmask if w == wl - 1 else _ALL
    elif fill_mode == 2:
        for j in range(C):
            if fill[q, j] != 0:
                for w in range(wl):
                    state[j, w] = lastmask if w == wl - 1 else _ALL
    for x in range(ins.shape[1]):
        a = ins[q, x]
        if a >= 0:
            o = a % L
            state[a // L, o >> 6] |= _ONE << np.uint64(o & 63)


@njit(cache=True, inline="always")
def _rip(r0, r1, r2, r3, r4, r5, r6, r7, x, nb):
    """Add the 64 one-bit numbers of ``x`` to the ``nb``-bit sliced counter ``r0..r7``.

    The scores stay below ``2**nb`` (``nb <= 8``), so the carry out of plane ``nb - 1``
    is zero; branching on ``nb`` (fixed per step) is predictable, unlike on the carry.
    """
    t = r0 & x
    r0 ^= x
    x = t
    if nb > 1:
        t = r1 & x
        r1 ^= x
        x = t
        if nb > 2:
            t = r2 & x
            r2 ^= x
            x = t
            if nb > 3:
                t = r3 & x
                r3 ^= x
                x = t
                if nb > 4:
                    t = r4 & x
                    r4 ^= x
                    x = t
                    if nb > 5:
                        t = r5 & x
                        r5 ^= x
                        x = t
                        if nb > 6:
                            t = r6 & x
                            r6 ^= x
                            x = t
                            r7 ^= x
    return r0, r1, r2, r3, r4, r5, r6, r7


@njit(cache=True, inline="always")
def _rip4(r0, r1, r2, r3, x):
    """:func:`_rip` for scores below 16 (four planes), without branches."""
    t = r0 & x
    r0 ^= x
    x = t
    t = r1 & x
    r1 ^= x
    x = t
    t = r2 & x
    r2 ^= x
    r3 ^= t
    return r0, r1, r2, r3


@njit(cache=True, inline="always")
def _store_planes(planes, nb, j, w, r0, r1, r2, r3, r4, r5, r6, r7):
    """Write the ``nb`` (<= 8) register planes ``r0..`` of word ``w`` of cluster ``j``."""
    planes[0, j, w] = r0
    if nb > 1:
        planes[1, j, w] = r1
    if nb > 2:
        planes[2, j, w] = r2
    if nb > 3:
        planes[3, j, w] = r3
    if nb > 4:
        planes[4, j, w] = r4
    if nb > 5:
        planes[5, j, w] = r5
    if nb > 6:
        planes[6, j, w] = r6
    if nb > 7:
        planes[7, j, w] = r7


@njit(cache=True)
def _score_planes(
    bits, state, planes, rule, gamma, L, allow, allow_mode, q, ids, cstart, aclus, rows
):
    """Fill ``planes`` with the scores of ``state``; return the number of planes used.

    Each target word is accumulated in eight registers (scores < 256) and written once;
    larger scores fall back to ripple-carry in memory.  With ``allow_mode == 1`` only
    the allowed target clusters are scored (the others are left at 0).  ``rows`` is
    scratch (n,): the flat offsets of the active units' rows in ``bits``.
    """
    C, wl = state.shape
    rs = bits.shape[1] * wl
    flat = bits.reshape(bits.size)
    total = 0
    nac = 0
    for i in range(C):
        cstart[i] = total
        cnt = 0
        for w in range(wl):
            x = state[i, w]
            while x != _ZERO:
                t = x & (~x + _ONE)
                a = i * L + w * 64 + popcount(t - _ONE)
                ids[total] = a
                rows[total] = a * rs
                total += 1
                cnt += 1
                x ^= t
        if cnt > 0:
            aclus[nac] = i
            nac += 1
    cstart[C] = total
    bound = gamma + (total if rule == 0 else C - 1)
    nb = max(_bitlen(bound), 1)
    for j in range(C):
        if allow_mode == 1 and allow[q, j] == 0:
            for p in range(nb):
                for w in range(wl):
                    planes[p, j, w] = _ZERO
            continue
        if rule == 0 and nb <= 8:
            # sources in clusters < j use block jj = j - 1, those > j block jj = j; the
            # memory term (gamma == 1) is one more row, the state itself
            lo = cstart[j]
            hi = cstart[j + 1]
            for w in range(wl):
                r0 = r1 = r2 = r3 = r4 = r5 = r6 = r7 = _ZERO
                ol = (j - 1) * wl + w
                oh = j * wl + w
                if nb <= 4:  # scores < 16: four planes, no branch (higher carries are 0)
                    for s in range(lo):
                        r0, r1, r2, r3 = _rip4(r0, r1, r2, r3, flat[rows[s] + ol])
                    for s in range(hi, total):
                        r0, r1, r2, r3 = _rip4(r0, r1, r2, r3, flat[rows[s] + oh])
                    if gamma == 1:
                        r0, r1, r2, r3 = _rip4(r0, r1, r2, r3, state[j, w])
                else:
                    for s in range(lo):
                        r0, r1, r2, r3, r4, r5, r6, r7 = _rip(
                            r0, r1, r2, r3, r4, r5, r6, r7, flat[rows[s] + ol], nb
                        )
                    for s in range(hi, total):
                        r0, r1, r2, r3, r4, r5, r6, r7 = _rip(
                            r0, r1, r2, r3, r4, r5, r6, r7, flat[rows[s] + oh], nb
                        )
                    if gamma == 1:
                        r0, r1, r2, r3, r4, r5, r6, r7 = _rip(
                            r0, r1, r2, r3, r4, r5, r6, r7, state[j, w], nb
                        )
                _store_planes(planes, nb, j, w, r0, r1, r2, r3, r4, r5, r6, r7)
            continue
        for w in range(wl):
            if nb <= 8:
                r0 = r1 = r2 = r3 = r4 = r5 = r6 = r7 = _ZERO
                for k in range(nac):
                    i = aclus[k]
                    if i == j:
                        continue
                    jj = j - 1 if j > i else j
                    if rule == 0:
                        for s in range(cstart[i], cstart[i + 1]):
                            r0, r1, r2, r3, r4, r5, r6, r7 = _rip(
                                r0, r1, r2, r3, r4, r5, r6, r7, bits[ids[s], jj, w], nb
                            )
                    else:
                        acc = _ZERO
                        for s in range(cstart[i], cstart[i + 1]):
                            acc |= bits[ids[s], jj, w]
                        r0, r1, r2, r3, r4, r5, r6, r7 = _rip(
                            r0, r1, r2, r3, r4, r5, r6, r7, acc, nb
                        )
                _store_planes(planes, nb, j, w, r0, r1, r2, r3, r4, r5, r6, r7)
            else:
                for p in range(nb):
                    planes[p, j, w] = _ZERO
                for k in range(nac):
                    i = aclus[k]
                    if i == j:
                        continue
                    jj = j - 1 if j > i else j
                    if rule == 0:
                        for s in range(cstart[i], cstart[i + 1]):
                            _add(planes, nb, j, w, bits[ids[s], jj, w], 0)
                    else:
                        acc = _ZERO
                        for s in range(cstart[i], cstart[i + 1]):
                            acc |= bits[ids[s], jj, w]
                        _add(planes, nb, j, w, acc, 0)
    if gamma > 0 and not (rule == 0 and nb <= 8 and gamma == 1):  # (else added above)
        # memory: only the active clusters hold active units
        g = gamma
        p = 0
        while g > 0:
            if g & 1:
                for k in range(nac):
                    j = aclus[k]
                    if allow_mode == 1 and allow[q, j] == 0:
                        continue
                    for w in range(wl):
                        _add(planes, nb, j, w, state[j, w], p)
            g >>= 1
            p += 1
    return nb


@njit(cache=True)
def _filter_planes(
    planes, nb, state, new, filt, select, first, lastmask, allow, allow_mode, q, cand, t
):
    C, wl = state.shape
    if filt == 0:  # WTA per cluster
        for j in range(C):
            if allow_mode == 1 and allow[q, j] == 0:
                for w in range(wl):
                    new[j, w] = _ZERO
                continue
            for w in range(wl):
                cand[j, w] = lastmask if w == wl - 1 else _ALL
            pos = _ZERO
            for p in range(nb - 1, -1, -1):
                anyb = _ZERO
                for w in range(wl):
                    anyb |= cand[j, w] & planes[p, j, w]
                # branch-free: narrow to plane p iff some candidate has that bit
                keep = _ZERO - np.uint64(anyb == _ZERO)
                pos |= anyb
                for w in range(wl):
                    cand[j, w] &= planes[p, j, w] | keep
            for w in range(wl):
                new[j, w] = cand[j, w] if pos != _ZERO else _ZERO
        return
    if filt == 3 and not first:  # GLsKO: kick out the active units with the minimum score
        for j in range(C):
            for w in range(wl):
                cand[j, w] = state[j, w]
        mx = 0
        for p in range(nb - 1, -1, -1):
            anyb = False
            for j in range(C):
                for w in range(wl):
                    t[j, w] = cand[j, w] & planes[p, j, w]
                    if t[j, w] != _ZERO:
                        anyb = True
            if anyb:
                mx |= 1 << p
                for j in range(C):
                    for w in range(wl):
                        cand[j, w] = t[j, w]
        for j in range(C):
            for w in range(wl):
                cand[j, w] = state[j, w]
        mn = 0
        for p in range(nb - 1, -1, -1):
            anyb = False
            for j in range(C):
                for w in range(wl):
                    t[j, w] = cand[j, w] & ~planes[p, j, w]
                    if t[j, w] != _ZERO:
                        anyb = True
            if anyb:
                for j in range(C):
                    for w in range(wl):
                        cand[j, w] = t[j, w]
            else:
                mn |= 1 << p
        for j in range(C):
            for w in range(wl):
                new[j, w] = state[j, w] if mn == mx else state[j, w] & ~cand[j, w]
        return
    for j in range(C):
        for w in range(wl):
            cand[j, w] = lastmask if w == wl - 1 else _ALL
            new[j, w] = _ZERO
    if filt == 1:  # GWTA: global maximum
        pos = False
        for p in range(nb - 1, -1, -1):
            anyb = False
            for j in range(C):
                for w in range(wl):
                    t[j, w] = cand[j, w] & planes[p, j, w]
                    if t[j, w] != _ZERO:
                        anyb = True
            if anyb:
                pos = True
                for j in range(C):
                    for w in range(wl):
                        cand[j, w] = t[j, w]
        if pos:
            for j in range(C):
                for w in range(wl):
                    new[j, w] = cand[j, w]
        return
    # GWsTA (and the first GLsKO step): keep s >= the select-th largest score, s > 0
    kk = select
    theta = 0
    for p in range(nb - 1, -1, -1):
        cnt = 0
        for j in range(C):
            for w in range(wl):
                t[j, w] = cand[j, w] & planes[p, j, w]
                cnt += popcount(t[j, w])
        if cnt >= kk:
            theta |= 1 << p
            for j in range(C):
                for w in range(wl):
                    cand[j, w] = t[j, w]
        else:
            kk -= cnt
            for j in range(C):
                for w in range(wl):
                    new[j, w] |= t[j, w]
                    cand[j, w] &= ~planes[p, j, w]
    if theta > 0:
        for j in range(C):
            for w in range(wl):
                new[j, w] |= cand[j, w]


@njit(cache=True)
def _emit(state, q, tie_u, use_tie, L, out_msg, out_nwin):
    C, wl = state.shape
    for j in range(C):
        cnt = 0
        for w in range(wl):
            cnt += popcount(state[j, w])
        out_nwin[q, j] = cnt
        pick = -1
        if cnt == 1 or (cnt > 1 and use_tie):
            k = 0
            if cnt > 1:
                k = min(int(tie_u[q, j] * cnt), cnt - 1)
            for w in range(wl):
                c = popcount(state[j, w])
                if k < c:
                    pick = w * 64 + nth_bit(state[j, w], k)
                    break
                k -= c
        out_msg[q, j] = pick


@njit(cache=True)
def memory_bound(gamma, n, C, rule, nsyn):
    """The memory ``gamma`` cut to one more than the largest score other units can give.

    A unit's score is ``others + gamma * active`` with ``0 <= others <= B``, where
    ``B = n`` (SoS) or ``C - 1`` (SoM), times ``nsyn`` under release noise.  Any
    ``gamma > B`` puts every active unit above every silent one and leaves all other
    comparisons (ties, ``> 0``, ranks) unchanged, so ``min(gamma, B + 1)`` gives the same
    recall for every filter, and keeps the scores (and the bit planes that hold them)
    small whatever ``gamma`` the caller passes.  Negative ``gamma`` is taken as 0.
    """
    b = n if rule == 0 else C - 1
    if nsyn > 1:
        b = b * nsyn
    if gamma < 0:
        return 0
    return min(gamma, b + 1)


@njit(cache=True, parallel=True)
def recall_bitsliced(
    bits, L, cues, ins, fill, fill_mode, allow, allow_mode, rule, filt, gamma, select,
    maxit, tie_u, use_tie, out_msg, out_nwin, out_iter, out_conv,
):
    """General noiseless recall with bit-sliced score counters.

    bits : uint64 (n, C-1, wl).  cues, ins : int64 (Q, k), (Q, j) global ids, -1 padding.
    fill : uint8 (Q, C), clusters started fully active when ``fill_mode == 2``;
    ``fill_mode == 1`` fills every cluster without a cue unit (SoM start), 0 none.
    allow : uint8 (Q, C); with ``allow_mode == 1`` units outside the allowed clusters
    are switched off after each step (guided recall).
    rule, filt : codes (module docstring).  gamma : memory (int >= 0).  select : GWsTA k.
    maxit : iterations (stops early at a fixed point).  tie_u : float64 (Q, C) uniforms
    used to pick a winner among ties when ``use_tie``.
    Outputs: out_msg int64 (Q, C) position in cluster or -1; out_nwin int64 (Q, C);
    out_iter int64 (Q,) steps run; out_conv bool (Q,) fixed point reached.
    """
    n, C1, wl = bits.shape
    C = n // L
    Q = cues.shape[0]
    rem = L % 64
    lastmask = _ALL if rem == 0 else (_ONE << np.uint64(rem)) - _ONE
    gamma = memory_bound(gamma, n, C, rule, 0)
    # every score is <= gamma + (n or C - 1), so that many bit planes always suffice
    nplanes = max(_bitlen(gamma + (n if rule == 0 else C - 1)), 1)
    B = 64
    for blk in prange((Q + B - 1) // B):
        state = np.empty((C, wl), np.uint64)
        new = np.empty((C, wl), np.uint64)
        cand = np.empty((C, wl), np.uint64)
        tt = np.empty((C, wl), np.uint64)
        planes = np.empty((nplanes, C, wl), np.uint64)
        ids = np.empty(n, np.int64)
        cstart = np.empty(C + 1, np.int64)
        aclus = np.empty(C, np.int64)
        rows = np.empty(n, np.int64)
        for q in range(blk * B, min(Q, (blk + 1) * B)):
            _init_state(state, q, cues, ins, fill, fill_mode, L, lastmask)
            conv = False
            it = 0
            while it < maxit:
                nb = _score_planes(
                    bits, state, planes, rule, gamma, L, allow, allow_mode, q, ids, cstart, aclus,
                    rows,
                )
                _filter_planes(
                    planes, nb, state, new, filt, select, it == 0, lastmask, allow, allow_mode, q,
                    cand, tt,
                )
                if allow_mode == 1:
                    for j in range(C):
                        if allow[q, j] == 0:
                            for w in range(wl):
                                new[j, w] = _ZERO
                it += 1
                same = True
                for j in range(C):
                    for w in range(wl):
                        if new[j, w] != state[j, w]:
                            same = False
                        state[j, w] = new[j, w]
                if same:
                    conv = True
                    break
            out_iter[q] = it
            out_conv[q] = conv
            _emit(state, q, tie_u, use_tie, L, out_msg, out_nwin)


@njit(cache=True)
def _int_filter(s, act, new, C, L, filt, select, first):
    n = C * L
    new[:] = False
    if filt == 0:
        for j in range(C):
            m = 0
            for u in range(j * L, (j + 1) * L):
                m = max(m, s[u])
            if m > 0:
                for u in range(j * L, (j + 1) * L):
                    new[u] = s[u] == m
    elif filt == 1:
        m = s.max()
        if m > 0:
            for u in range(n):
                new[u] = s[u] == m
    elif filt == 3 and not first:
        mn = -1
        mx = -1
        for u in range(n):
            if act[u]:
                if mn < 0 or s[u] < mn:
                    mn = s[u]
                mx = max(mx, s[u])
        for u in range(n):
            new[u] = act[u] and (mn == mx or s[u] != mn)
    else:
        srt = np.sort(s)
        theta = srt[n - select] if select <= n else 0
        for u in range(n):
            new[u] = s[u] >= theta and s[u] > 0


@njit(cache=True, parallel=True)
def recall_int(
    bits, L, cues, ins, fill, fill_mode, allow, allow_mode, rule, filt, gamma, select,
    maxit, tie_u, use_tie, nsyn, cdf, keys, out_msg, out_nwin, out_iter, out_conv,
):
    """Recall with integer scores; with ``nsyn > 0`` each present synapse carries
    ``Bin(nsyn, p)`` (inverse of ``cdf``, float64 (nsyn+1,)) redrawn at every step from
    the hash of ``keys[q]`` (uint64 (Q,)).  Same arguments and outputs as
    :func:`recall_bitsliced` otherwise; with ``nsyn == 0`` it gives the same results.
    """
    n, C1, wl = bits.shape
    C = n // L
    Q = cues.shape[0]
    rem = L % 64
    lastmask = _ALL if rem == 0 else (_ONE << np.uint64(rem)) - _ONE
    gamma = memory_bound(gamma, n, C, rule, nsyn)  # no int64 overflow in the scores
    for q in prange(Q):
        st = np.empty((C, wl), np.uint64)
        _init_state(st, q, cues, ins, fill, fill_mode, L, lastmask)
        act = np.zeros(n, np.bool_)
        for j in range(C):
            for o in range(L):
                act[j * L + o] = ((st[j, o >> 6] >> np.uint64(o & 63)) & _ONE) != _ZERO
        new = np.zeros(n, np.bool_)
        s = np.zeros(n, np.int64)
        best = np.zeros(L, np.int64)
        conv = False
        it = 0
        while it < maxit:
            s[:] = 0
            for i in range(C):
                nact = 0
                for o in range(L):
                    nact += act[i * L + o]
                if nact == 0:
                    continue
                for jj in range(C1):
                    j = jj + 1 if jj >= i else jj
                    best[:] = 0
                    for o in range(L):
                        a = i * L + o
                        if not act[a]:
                            continue
                        for ob in range(L):
                            if ((bits[a, jj, ob >> 6] >> np.uint64(ob & 63)) & _ONE) != _ZERO:
                                v = 1
                                if nsyn > 0:
                                    h = splitmix(keys[q], (it * n + a) * n + j * L + ob)
                                    r = (h >> np.uint64(11)) * (1.0 / 9007199254740992.0)
                                    v = 0
                                    while v < nsyn and r >= cdf[v]:
                                        v += 1
                                if rule == 0:
                                    s[j * L + ob] += v
                                elif v > best[ob]:
                                    best[ob] = v
                    if rule == 1:
                        for ob in range(L):
                            s[j * L + ob] += best[ob]
            for u in range(n):
                if act[u]:
                    s[u] += gamma
            _int_filter(s, act, new, C, L, filt, select, it == 0)
            if allow_mode == 1:
                for u in range(n):
                    if allow[q, u // L] == 0:
                        new[u] = False
            it += 1
            same = True
            for u in range(n):
                if new[u] != act[u]:
                    same = False
                act[u] = new[u]
            if same:
                conv = True
                break
        st[:, :] = _ZERO
        for u in range(n):
            if act[u]:
                j = u // L
                o = u % L
                st[j, o >> 6] |= _ONE << np.uint64(o & 63)
        out_iter[q] = it
        out_conv[q] = conv
        _emit(st, q, tie_u, use_tie, L, out_msg, out_nwin)


@njit(cache=True, parallel=True)
def sos1_fast(bits, L, cues, tie_u, use_tie, out_msg, out_nwin, out_conv, flag):
    """One SoS+WTA step (memory >= 1) for clique cues with erasures only.

    cues : int64 (Q, C) positions in cluster, -1 erased.  Erased cluster ``j`` gets the
    AND of the known units' rows (the units with the full score ``c_k``); a known unit
    stays alone.  ``flag[q] = 1`` when that shortcut is not exact (no known unit, a
    known unit not linked to every other known unit, or an empty AND): the caller then
    reruns query ``q`` with :func:`recall_bitsliced`.  ``out_conv[q]`` (bool) is set
    for every query: one step is a fixed point iff no cluster was erased.
    """
    n, C1, wl = bits.shape
    C = n // L
    Q = cues.shape[0]
    B = 64
    for blk in prange((Q + B - 1) // B):
        acc_w = np.empty(wl, np.uint64)
        kc = np.empty(C, np.int64)
        ka = np.empty(C, np.int64)
        kv = np.empty(C, np.int64)
        for q in range(blk * B, min(Q, (blk + 1) * B)):
            flag[q] = 0
            nk = 0
            for i in range(C):
                v = cues[q, i]
                if v >= 0:
                    kc[nk] = i
                    ka[nk] = i * L + v
                    kv[nk] = v
                    nk += 1
            out_conv[q] = nk == C
            if nk == 0:
                flag[q] = 1
                continue
            ok = True
            for x in range(nk):
                i = kc[x]
                a = ka[x]
                for y in range(nk):
                    if y == x:
                        continue
                    j = kc[y]
                    vj = kv[y]
                    jj = j - 1 if j > i else j
                    if ((bits[a, jj, vj >> 6] >> np.uint64(vj & 63)) & _ONE) == _ZERO:
                        ok = False
            if not ok:
                flag[q] = 1
                continue
            for j in range(C):
                vj = cues[q, j]
                if vj >= 0:
                    out_msg[q, j] = vj
                    out_nwin[q, j] = 1
                    continue
                i = kc[0]
                jj = j - 1 if j > i else j
                a = ka[0]
                for w in range(wl):
                    acc_w[w] = bits[a, jj, w]
                for x in range(1, nk):
                    i = kc[x]
                    jj = j - 1 if j > i else j
                    a = ka[x]
                    for w in range(wl):
                        acc_w[w] &= bits[a, jj, w]
                cnt = 0
                for w in range(wl):
                    cnt += popcount(acc_w[w])
                if cnt == 0:
                    ok = False
                    break
                out_nwin[q, j] = cnt
                pick = -1
                if cnt == 1 or use_tie:
                    k = 0
                    if cnt > 1:
                        k = min(int(tie_u[q, j] * cnt), cnt - 1)
                    for w in range(wl):
                        c = popcount(acc_w[w])
                        if k < c:
                            pick = w * 64 + nth_bit(acc_w[w], k)
                            break
                        k -= c
                out_msg[q, j] = pick
            if not ok:
                flag[q] = 1


@njit(cache=True, parallel=True)
def som_fast(
    bits, nbr, L, cues, ins, maxit, shortcut, tie_u, use_tie, out_msg, out_nwin, out_iter,
    out_conv, flag,
):
    """Iterated SoM+WTA (memory >= 1) as the AND rule, restricted to candidates.

    v[j] <- v[j] AND (AND over i != j of OR over active a in i of row(a -> j)); erased
    clusters start fully active, and their OR at the first step is ``nbr`` (uint64
    (C, C-1, wl), :func:`cluster_or`).  Only clusters whose sources changed are
    recomputed.  With ``shortcut`` the first step only ANDs the single-unit clusters'
    rows into the erased clusters (the SoS-1 step): a superset of the first SoM state, so
    the fixed point reached is the same (the rule is monotone) though the step count may
    differ by one; use it only when iterating to convergence.
    This equals SoM+WTA exactly while every cluster keeps a unit with
    the full score; ``flag[q] = 1`` otherwise (an emptied cluster), and the caller
    reruns query ``q`` with :func:`recall_bitsliced`.
    cues : int64 (Q, C) positions, -1 erased; ins : int64 (Q, j) global ids.
    """
    n, C1, wl = bits.shape
    C = n // L
    Q = cues.shape[0]
    rem = L % 64
    lastmask = _ALL if rem == 0 else (_ONE << np.uint64(rem)) - _ONE
    B = 64
    for blk in prange((Q + B - 1) // B):
        state = np.empty((C, wl), np.uint64)
        full = np.empty(C, np.bool_)
        changed = np.empty(C, np.bool_)
        nchg = np.empty(C, np.bool_)
        actl = np.empty((C, L), np.int64)
        na = np.empty(C, np.int64)
        src = np.empty(C, np.int64)
        new = np.empty((C, wl), np.uint64)
        for q in range(blk * B, min(Q, (blk + 1) * B)):
            flag[q] = 0
            for i in range(C):
                v = cues[q, i]
                changed[i] = True
                for w in range(wl):
                    state[i, w] = _ZERO
                if v >= 0:
                    full[i] = False
                    state[i, v >> 6] = _ONE << np.uint64(v & 63)
                else:
                    full[i] = True
                    for w in range(wl):
                        state[i, w] = lastmask if w == wl - 1 else _ALL
            for x in range(ins.shape[1]):
                a = ins[q, x]
                if a >= 0:
                    o = a % L
                    state[a // L, o >> 6] |= _ONE << np.uint64(o & 63)
            conv = False
            it = 0
            bad = False
            while it < maxit:
                # active units of the source clusters (single-unit ones first: words die early)
                ns = 0
                ncg = 0
                for i in range(C):
                    if changed[i]:
                        ncg += 1
                    if it == 0 and full[i]:
                        continue
                    if changed[i] or (it == 1 and full[i]):
                        c = 0
                        for w in range(wl):
                            x = state[i, w]
                            while x != _ZERO:
                                t = x & (~x + _ONE)
                                actl[i, c] = i * L + w * 64 + popcount(t - _ONE)
                                c += 1
                                x ^= t
                        na[i] = c
                    if na[i] == 1:
                        src[ns] = i
                        ns += 1
                nsrc = ns
                for i in range(C):
                    if (it == 0 and full[i]) or na[i] == 1:
                        continue
                    src[nsrc] = i
                    nsrc += 1
                for j in range(C):
                    nchg[j] = False
                    for w in range(wl):
                        new[j, w] = state[j, w]
                    if shortcut and it == 0 and not full[j]:
                        continue
                    if ncg - (1 if changed[j] else 0) == 0:
                        continue
                    for k in range(nsrc):
                        i = src[k]
                        if i == j:
                            continue
                        jj = j - 1 if j > i else j
                        if k < ns:
                            a = actl[i, 0]
                            for w in range(wl):
                                new[j, w] &= bits[a, jj, w]
                        else:
                            for w in range(wl):
                                if new[j, w] == _ZERO:
                                    continue
                                acc = _ZERO
                                for s_ in range(na[i]):
                                    acc |= bits[actl[i, s_], jj, w]
                                new[j, w] &= acc
                    if it == 0 and not shortcut:
                        for i in range(C):
                            if i != j and full[i]:
                                jj = j - 1 if j > i else j
                                for w in range(wl):
                                    new[j, w] &= nbr[i, jj, w]
                    empty = True
                    for w in range(wl):
                        if new[j, w] != _ZERO:
                            empty = False
                        if new[j, w] != state[j, w]:
                            nchg[j] = True
                    if empty:
                        bad = True
                        break
                if bad:
                    break
                it += 1
                anyc = False
                for j in range(C):
                    changed[j] = nchg[j]
                    if nchg[j]:
                        anyc = True
                        for w in range(wl):
                            state[j, w] = new[j, w]
                if shortcut and it == 1 and not anyc:
                    # the shortcut step skipped the known clusters (e.g. their
                    # insertions), so "unchanged" proves no fixed point: run a full SoM
                    # step (if some cluster changed, every other one is recomputed anyway)
                    for j in range(C):
                        changed[j] = True
                    continue
                if not anyc:
                    conv = True
                    break
            if bad:
                flag[q] = 1
                continue
            out_iter[q] = it
            out_conv[q] = conv
            _emit(state, q, tie_u, use_tie, L, out_msg, out_nwin)


@njit(cache=True, parallel=True)
def willshaw_recall(bits, cues, keep_known, out, out_count):
    """One-step Willshaw retrieval: the units linked to every known unit.

    bits : uint64 (n, nw) packed symmetric adjacency.  cues : int64 (Q, k), -1 padding.
    keep_known : also keep the cue units.  out : uint64 (Q, nw) retrieved set;
    out_count : int64 (Q,) its size.
    """
    Q = cues.shape[0]
    nw = bits.shape[1]
    for q in prange(Q):
        for w in range(nw):
            acc = _ALL
            for x in range(cues.shape[1]):
                a = cues[q, x]
                if a >= 0:
                    acc &= bits[a, w]
            out[q, w] = acc
        if keep_known:
            for x in range(cues.shape[1]):
                a = cues[q, x]
                if a >= 0:
                    out[q, a >> 6] |= _ONE << np.uint64(a & 63)
        c = 0
        for w in range(nw):
            c += popcount(out[q, w])
        out_count[q] = c


@njit(cache=True)
def willshaw_store(bits, units):
    """Set bit (a, b) and (b, a) for every pair of distinct units of each message."""
    M, k = units.shape
    for m in range(M):
        for x in range(k):
            a = units[m, x]
            if a < 0:
                continue
            for y in range(k):
                b = units[m, y]
                if y != x and b >= 0 and b != a:
                    bits[a, b >> 6] |= _ONE << np.uint64(b & 63)
