"""Numba kernels of fbqc: weighted union-find decoding with peeling, and erasure windings.

Arrays in, arrays out; no randomness; nothing imported from the package.  The validated
wrappers live in :mod:`fbqc.decoders`; plain-Python references in ``tests/fbqc/reference.py``.

Graph arguments (see :class:`fbqc.network.SyndromeGraph`): ``indptr`` (N+1,) int32,
``adj_node`` / ``adj_edge`` (2E,) int32 CSR adjacency, ``eu`` / ``ev`` (E,) int32 edge
endpoints, ``crossing`` (E, M) uint8 membrane masks.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _find(parent, x):
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


@njit(cache=True, nogil=True)
def _union(parent, size, parity, head, tail, nxt, a, b):
    ra = _find(parent, a)
    rb = _find(parent, b)
    if ra == rb:
        return ra
    if size[ra] < size[rb]:
        ra, rb = rb, ra
    parent[rb] = ra
    size[ra] += size[rb]
    parity[ra] ^= parity[rb]
    nxt[tail[ra]] = head[rb]
    tail[ra] = tail[rb]
    return ra


@njit(cache=True, nogil=True, inline="always")
def _span_pregrown(indptr, adj_node, adj_edge, full, visited, pedge, order, m, n_o, gbuf,
                   n_g):
    """BFS over pre-grown full edges (``full == 1``) from ``order[m:n_o]``.

    Scans each reached node's adjacency once: pre-grown neighbours join ``order``,
    grown full edges (``full == 2``) are queued in ``gbuf`` (adjacency slots) for the
    BFS over components.  Returns the new ``(n_o, n_g)``.
    """
    while m < n_o:
        u = order[m]
        m += 1
        for j in range(indptr[u], indptr[u + 1]):
            f = full[adj_edge[j]]
            if f == 1:
                v = adj_node[j]
                if not visited[v]:
                    visited[v] = 1
                    pedge[v] = adj_edge[j]
                    order[n_o] = v
                    n_o += 1
            elif f == 2:
                gbuf[n_g] = j
                n_g += 1
    return n_o, n_g


@njit(cache=True, nogil=True)
def _uf_core(indptr, adj_node, adj_edge, eu, ev, w, syn, erased, corr, corr_list,
             parent, size, parity, head, tail, nxt, rem, rate, full, stamp,
             odd, odd2, touched, newfull, s, order, pedge, visited, gbuf):
    """Decode one shot; sets ``corr[e] = 1`` on the correction and returns its length.

    Edges in ``corr_list[:n]`` are the corrected ones (the caller resets them).  Returns
    ``-1`` if an odd cluster cannot grow (every boundary edge has infinite weight).
    """
    N = parent.shape[0]
    E = eu.shape[0]
    for u in range(N):
        parent[u] = u
        size[u] = 1
        parity[u] = syn[u]
        head[u] = u
        tail[u] = u
        nxt[u] = -1
        stamp[u] = -1
        visited[u] = 0
    for e in range(E):
        rate[e] = 0
        if erased[e]:
            rem[e] = 0.0
            full[e] = 1
        else:
            rem[e] = w[e] if w[e] > 0.0 else 0.0
            full[e] = 1 if rem[e] == 0.0 else 0
    for e in range(E):
        if full[e]:
            _union(parent, size, parity, head, tail, nxt, eu[e], ev[e])
    n_odd = 0
    for u in range(N):
        if syn[u]:
            r = _find(parent, u)
            if parity[r] and stamp[r] != 0:
                stamp[r] = 0
                odd[n_odd] = r
                n_odd += 1
    rnd = 0
    status = 0
    while n_odd > 0:
        rnd += 1
        n_t = 0
        for i in range(n_odd):
            r = odd[i]
            u = head[r]
            while u != -1:
                if visited[u]:  # interior: no growable edge left (stays so)
                    u = nxt[u]
                    continue
                growable = False
                for j in range(indptr[u], indptr[u + 1]):
                    e = adj_edge[j]
                    if full[e]:
                        continue
                    if _find(parent, adj_node[j]) == r:
                        continue
                    growable = True
                    if rate[e] == 0:
                        touched[n_t] = e
                        n_t += 1
                    rate[e] += 1
                if not growable:
                    visited[u] = 1
                u = nxt[u]
        if n_t == 0:
            status = -1
            break
        delta = np.inf
        for i in range(n_t):
            e = touched[i]
            d = rem[e] / rate[e]
            if d < delta:
                delta = d
        if not np.isfinite(delta):
            for i in range(n_t):
                rate[touched[i]] = 0
            status = -1
            break
        n_new = 0
        for i in range(n_t):
            e = touched[i]
            rem[e] -= delta * rate[e]
            rate[e] = 0
            if rem[e] <= 1e-9 * w[e] and rem[e] < np.inf:
                rem[e] = 0.0
                full[e] = 2  # grown (1 = pre-grown: erased or weight 0)
                newfull[n_new] = e
                n_new += 1
        for i in range(n_new):
            e = newfull[i]
            _union(parent, size, parity, head, tail, nxt, eu[e], ev[e])
        n2 = 0
        for i in range(n_odd):
            r = _find(parent, odd[i])
            if parity[r] and stamp[r] != rnd:
                stamp[r] = rnd
                odd2[n2] = r
                n2 += 1
        for i in range(n2):
            odd[i] = odd2[i]
        n_odd = n2
    # peeling: a spanning forest of the full edges from each defect, leaves first.  Each
    # tree is a BFS over the clusters' pre-grown (erased or weight-0) components: a
    # component is entered by one grown edge and then spanned by its pre-grown edges, so
    # the tree holds as few grown edges as possible (an erased edge flips with
    # probability 1/2, a grown one with p << 1/2).  Without pre-grown edges this is the
    # plain BFS tree.  ``order`` lists nodes parent first.
    for u in range(N):
        s[u] = syn[u]
        visited[u] = 0
    n_corr = 0
    for u0 in range(N):
        if s[u0] == 0 or visited[u0]:
            continue
        visited[u0] = 1
        pedge[u0] = -1
        order[0] = u0
        n_o, n_g = _span_pregrown(indptr, adj_node, adj_edge, full, visited, pedge, order,
                                  0, 1, gbuf, 0)
        k = 0
        while k < n_g:  # grown edges in BFS order over components
            j = gbuf[k]
            k += 1
            v = adj_node[j]
            if not visited[v]:
                visited[v] = 1
                pedge[v] = adj_edge[j]
                order[n_o] = v
                n_o, n_g = _span_pregrown(indptr, adj_node, adj_edge, full, visited, pedge,
                                          order, n_o, n_o + 1, gbuf, n_g)
        for k in range(n_o - 1, 0, -1):
            u = order[k]
            if s[u]:
                e = pedge[u]
                s[u] = 0
                v = eu[e] if ev[e] == u else ev[e]
                s[v] ^= 1
                corr[e] ^= 1
                corr_list[n_corr] = e
                n_corr += 1
        if s[u0]:
            status = -1
    if status < 0:
        return -1 - n_corr
    return n_corr


@njit(cache=True, nogil=True)
def uf_decode_batch(indptr, adj_node, adj_edge, eu, ev, weights, syndromes, erased,
                    crossing, out_parity, out_corr, write_corr):
    """Union-find decode a batch of shots.

    Parameters
    ----------
    weights : (1 or S, E) float64 growth lengths (``log((1-p)/p)``; 0 = pre-grown,
        ``inf`` = never grows).  Row 0 is used for every shot when there is one row.
    syndromes : (S, N) uint8 detection events.
    erased : (S, E) uint8 erasure flags (erased edges are pre-grown).
    crossing : (E, M) uint8 membrane masks.
    out_parity : (S, M) uint8, written: membrane parities of the correction.
    out_corr : (S, E) uint8, written when ``write_corr`` (else may be (1, E)).

    Returns
    -------
    int : the number of shots where decoding failed to neutralise a cluster (0 normally).
    """
    S = syndromes.shape[0]
    N = indptr.shape[0] - 1
    E = eu.shape[0]
    M = crossing.shape[1]
    parent = np.empty(N, np.int32)
    size = np.empty(N, np.int32)
    parity = np.empty(N, np.uint8)
    head = np.empty(N, np.int32)
    tail = np.empty(N, np.int32)
    nxt = np.empty(N, np.int32)
    stamp = np.empty(N, np.int32)
    odd = np.empty(N, np.int32)
    odd2 = np.empty(N, np.int32)
    s = np.empty(N, np.uint8)
    order = np.empty(N, np.int32)
    pedge = np.empty(N, np.int32)
    visited = np.empty(N, np.uint8)
    gbuf = np.empty(2 * E, np.int32)  # adjacency slots of grown edges, per cluster
    rem = np.empty(E, np.float64)
    rate = np.zeros(E, np.int32)
    full = np.empty(E, np.uint8)
    touched = np.empty(E, np.int32)
    newfull = np.empty(E, np.int32)
    corr = np.zeros(E, np.uint8)
    corr_list = np.empty(N, np.int32)
    n_bad = 0
    for sh in range(S):
        w = weights[sh] if weights.shape[0] > 1 else weights[0]
        n = _uf_core(indptr, adj_node, adj_edge, eu, ev, w, syndromes[sh], erased[sh], corr,
                     corr_list, parent, size, parity, head, tail, nxt, rem, rate, full, stamp,
                     odd, odd2, touched, newfull, s, order, pedge, visited, gbuf)
        if n < 0:
            n_bad += 1
            n = -1 - n
        for m in range(M):
            out_parity[sh, m] = 0
        for i in range(n):
            e = corr_list[i]
            if corr[e]:
                for m in range(M):
                    out_parity[sh, m] ^= crossing[e, m]
                if write_corr:
                    out_corr[sh, e] = 1
                corr[e] = 0
    return n_bad


@njit(cache=True, nogil=True)
def _find_pot(parent, pot, x):
    p = 0
    while parent[x] != x:
        p ^= pot[x]
        x = parent[x]
    return x, p


@njit(cache=True, nogil=True)
def erasure_windings(N, eu, ev, crossing, erased, out_basis, out_rank):
    """Homology (mod 2 windings) of the erased subgraph, per shot.

    A union-find that tracks, for every node, the parity of its path to the root across
    each membrane.  Closing a cycle whose crossing parities are not all zero adds that
    vector to the span of the shot's winding vectors.

    Parameters
    ----------
    N : number of nodes.
    crossing : (E, M) uint8 with M <= 8 membranes (bit m of a vector = membrane m).
    erased : (S, E) uint8.
    out_basis : (S, M) int64, written: a basis of the winding span (first rank rows).
    out_rank : (S,) int64, written: dimension of the span.
    """
    S = erased.shape[0]
    E = eu.shape[0]
    M = crossing.shape[1]
    wvec = np.zeros(E, np.int64)
    for e in range(E):
        for m in range(M):
            if crossing[e, m]:
                wvec[e] |= 1 << m
    parent = np.empty(N, np.int32)
    size = np.empty(N, np.int32)
    pot = np.empty(N, np.int64)
    for sh in range(S):
        for u in range(N):
            parent[u] = u
            size[u] = 1
            pot[u] = 0
        rank = 0
        for m in range(M):
            out_basis[sh, m] = 0
        for e in range(E):
            if not erased[sh, e]:
                continue
            ru, pu = _find_pot(parent, pot, eu[e])
            rv, pv = _find_pot(parent, pot, ev[e])
            c = pu ^ pv ^ wvec[e]
            if ru == rv:
                if c == 0 or rank == M:
                    continue
                # reduce c against the basis (kept in echelon form by leading bit)
                for i in range(rank):
                    b = out_basis[sh, i]
                    hb = 63
                    while not (b >> hb) & 1:
                        hb -= 1
                    if (c >> hb) & 1:
                        c ^= b
                if c != 0:
                    out_basis[sh, rank] = c
                    rank += 1
                    # keep sorted by leading bit, descending
                    i = rank - 1
                    while i > 0 and out_basis[sh, i] > out_basis[sh, i - 1]:
                        t = out_basis[sh, i]
                        out_basis[sh, i] = out_basis[sh, i - 1]
                        out_basis[sh, i - 1] = t
                        i -= 1
            else:
                if size[ru] < size[rv]:
                    ru, rv = rv, ru
                parent[rv] = ru
                pot[rv] = c
                size[ru] += size[rv]
        out_rank[sh] = rank
