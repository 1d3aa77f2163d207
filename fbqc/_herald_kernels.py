"""Numba kernel of the herald-aware decoders: union-find with erasure and a boundary node.

Arrays in, arrays out; no randomness; nothing imported from the package.  The validated
wrapper lives in :mod:`fbqc.herald_decoders`; the plain-Python reference is
``tests/fbqc/reference_herald.py``.

This is the Delfosse–Nickerson union-find decoder (arXiv:1709.06218): erased edges are
pre-grown, every odd cluster that does not contain the boundary node grows by half an
edge per round on all its edges, fully grown edges merge clusters, and the grown
subgraph is peeled (Delfosse–Zémor, arXiv:1703.01517) along a spanning forest rooted at
the boundary node first, then at each remaining defect.  Each tree is a BFS over the
erased components, each entered by one grown edge and spanned by its erased edges, so it
holds as few grown edges as possible (as in the fbqc core kernel).  Unlike the fbqc core
kernel (periodic graphs, weighted growth) it supports a boundary node, which any
detector error model with single-detector errors needs.

Graph arguments: ``indptr`` (N+1,) int32 and ``adj_node`` / ``adj_edge`` (2E,) int32 CSR
adjacency, ``eu`` / ``ev`` (E,) int32 endpoints, ``boundary`` the boundary node index
(``-1`` if none), ``edge_obs`` (E, M) uint8 observable masks.
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
def _union(parent, size, parity, bnd, a, b):
    ra = _find(parent, a)
    rb = _find(parent, b)
    if ra == rb:
        return
    if size[ra] < size[rb]:
        ra, rb = rb, ra
    parent[rb] = ra
    size[ra] += size[rb]
    parity[ra] ^= parity[rb]
    bnd[ra] |= bnd[rb]


@njit(cache=True, nogil=True, inline="always")
def _span_erased(indptr, adj_node, adj_edge, grown, visited, pedge, order, m, n_o, gbuf,
                 n_g):
    """BFS over erased edges (``grown == 3``) from ``order[m:n_o]``, one scan per node.

    Grown edges (``grown == 2``) are queued in ``gbuf`` (adjacency slots) for the BFS
    over components.  Returns the new ``(n_o, n_g)``.
    """
    while m < n_o:
        u = order[m]
        m += 1
        for j in range(indptr[u], indptr[u + 1]):
            g = grown[adj_edge[j]]
            if g == 3:
                v = adj_node[j]
                if not visited[v]:
                    visited[v] = 1
                    pedge[v] = adj_edge[j]
                    order[n_o] = v
                    n_o += 1
            elif g == 2:
                gbuf[n_g] = j
                n_g += 1
    return n_o, n_g


@njit(cache=True, nogil=True)
def uf_boundary_decode_batch(indptr, adj_node, adj_edge, eu, ev, boundary, edge_obs,
                             syndromes, erased, out):
    """Union-find decode a batch of shots on a graph with an optional boundary node.

    Parameters
    ----------
    syndromes : (S, N) uint8 detection events (the boundary node's entry is ignored).
    erased : (S, E) uint8 erasure flags (erased edges start fully grown).
    out : (S, M) uint8, written: the observable flips of the correction.

    Returns
    -------
    int : the number of shots left with an unneutralised odd cluster (0 normally).
    """
    S = syndromes.shape[0]
    N = indptr.shape[0] - 1
    E = eu.shape[0]
    M = edge_obs.shape[1]
    parent = np.empty(N, np.int32)
    size = np.empty(N, np.int32)
    parity = np.empty(N, np.uint8)
    bnd = np.empty(N, np.uint8)
    grown = np.empty(E, np.uint8)
    newfull = np.empty(E, np.int32)
    s = np.empty(N, np.uint8)
    order = np.empty(N, np.int32)
    pedge = np.empty(N, np.int32)
    visited = np.empty(N, np.uint8)
    gbuf = np.empty(2 * E, np.int32)  # adjacency slots of grown edges, per tree
    n_bad = 0
    for sh in range(S):
        for u in range(N):
            parent[u] = u
            size[u] = 1
            parity[u] = syndromes[sh, u] & 1
            bnd[u] = 0
            visited[u] = 0
        if boundary >= 0:
            parity[boundary] = 0
            bnd[boundary] = 1
        for e in range(E):
            if erased[sh, e]:
                grown[e] = 3  # pre-grown (erased); 2 = grown, both count as full
                _union(parent, size, parity, bnd, eu[e], ev[e])
            else:
                grown[e] = 0
        while True:
            n_new = 0
            any_growth = False
            for e in range(E):
                if grown[e] >= 2:
                    continue
                ru = _find(parent, eu[e])
                rv = _find(parent, ev[e])
                inc = 0
                if parity[ru] == 1 and bnd[ru] == 0:
                    inc += 1
                if parity[rv] == 1 and bnd[rv] == 0:
                    inc += 1
                if inc > 0:
                    any_growth = True
                    g = grown[e] + inc
                    if g >= 2:
                        grown[e] = 2
                        newfull[n_new] = e
                        n_new += 1
                    else:
                        grown[e] = g
            if not any_growth:
                break
            for i in range(n_new):
                e = newfull[i]
                _union(parent, size, parity, bnd, eu[e], ev[e])
        # peeling
        for u in range(N):
            s[u] = syndromes[sh, u] & 1
        if boundary >= 0:
            s[boundary] = 0
        for m in range(M):
            out[sh, m] = 0
        bad = False
        for pass_ in range(N + 1):
            if pass_ == 0:
                if boundary < 0:
                    continue
                u0 = boundary
            else:
                u0 = pass_ - 1
                if s[u0] == 0 or visited[u0]:
                    continue
            if visited[u0]:
                continue
            visited[u0] = 1
            pedge[u0] = -1
            order[0] = u0
            n_o, n_g = _span_erased(indptr, adj_node, adj_edge, grown, visited, pedge, order,
                                    0, 1, gbuf, 0)
            k = 0
            while k < n_g:  # grown edges in BFS order over erased components
                j = gbuf[k]
                k += 1
                v = adj_node[j]
                if not visited[v]:
                    visited[v] = 1
                    pedge[v] = adj_edge[j]
                    order[n_o] = v
                    n_o, n_g = _span_erased(indptr, adj_node, adj_edge, grown, visited, pedge,
                                            order, n_o, n_o + 1, gbuf, n_g)
            for k in range(n_o - 1, 0, -1):
                u = order[k]
                if s[u]:
                    e = pedge[u]
                    s[u] = 0
                    v = eu[e] if ev[e] == u else ev[e]
                    s[v] ^= 1
                    for m in range(M):
                        out[sh, m] ^= edge_obs[e, m]
            if u0 != boundary and s[u0]:
                bad = True
            if u0 == boundary:
                s[u0] = 0
        if bad:
            n_bad += 1
    return n_bad
