"""Numba kernels of fbqc: union-find decoding, erasure windings, exact matching.

Arrays in, arrays out; no randomness; nothing imported from the package.  The validated
wrappers live in :mod:`fbqc.decoders` and :mod:`fbqc.herald_decoders`; plain-Python
references in ``tests/fbqc/reference.py``.

Graph arguments (see :class:`fbqc.network.SyndromeGraph`): ``indptr`` (N+1,) int32,
``adj_node`` / ``adj_edge`` (2E,) int32 CSR adjacency, ``eu`` / ``ev`` (E,) int32 edge
endpoints, ``boundary`` the index of the boundary node (``-1``: none), ``obs`` (E, M)
uint8 observable masks (the membranes of a fusion network, the logical observables of a
detector error model).

The boundary node is an ordinary node of the graph except that its syndrome entry is
ignored, a cluster that contains it is never odd (the boundary absorbs any parity), and
paths never pass through it (it is an end point only).

Kernels:

* :func:`uf_decode_batch` -- union-find (Delfosse--Nickerson, arXiv:1709.06218) with
  erased (and weight-0) edges pre-grown, weighted growth (:func:`_grow`), and peeling
  (Delfosse--Zemor, arXiv:1703.01517; :func:`_peel`);
* :func:`local_mwpm_decode_batch` -- erased edges contracted, an exact minimum-weight
  perfect matching (:func:`max_weight_matching`, Edmonds' blossom algorithm) among
  nearby defects, then the same peeling inside the erased components;
* :func:`erasure_windings` -- the homology of the erased subgraph (exact ML for erasure).
"""

from __future__ import annotations

import numpy as np
from numba import njit

# ---------------------------------------------------------------------------------------
# union-find growth and peeling


@njit(cache=True, nogil=True)
def _find(parent, x):
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


@njit(cache=True, nogil=True)
def _union(parent, size, parity, bnd, head, tail, nxt, a, b):
    ra = _find(parent, a)
    rb = _find(parent, b)
    if ra == rb:
        return ra
    if size[ra] < size[rb]:
        ra, rb = rb, ra
    parent[rb] = ra
    size[ra] += size[rb]
    parity[ra] ^= parity[rb]
    bnd[ra] |= bnd[rb]
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
def _grow(indptr, adj_node, adj_edge, eu, ev, boundary, w, syn, erased, parent, size,
          parity, bnd, head, tail, nxt, rem, rate, full, stamp, odd, odd2, touched,
          newfull, visited):
    """Union-find growth of one shot; returns 0, or -1 if an odd cluster cannot grow.

    On return ``parent`` holds the clusters, ``bnd[root]`` whether a cluster holds the
    boundary, and ``full[e]`` is 1 for pre-grown edges (erased, or weight 0), 2 for grown
    edges, 0 otherwise.  Every cluster without the boundary is even unless it returns -1.

    Growth is weighted: edge ``e`` has length ``w[e]`` (``inf``: never grows); each round,
    every boundary edge of an odd cluster grows at rate 1 per odd side until the next
    edge saturates, then the clusters joined by saturated edges merge.
    """
    N = parent.shape[0]
    E = eu.shape[0]
    for u in range(N):
        parent[u] = u
        size[u] = 1
        parity[u] = syn[u] & 1
        bnd[u] = 0
        head[u] = u
        tail[u] = u
        nxt[u] = -1
        stamp[u] = -1
        visited[u] = 0
    if boundary >= 0:
        parity[boundary] = 0
        bnd[boundary] = 1
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
            _union(parent, size, parity, bnd, head, tail, nxt, eu[e], ev[e])
    n_odd = 0
    for u in range(N):
        if parity[u] and u != boundary:
            r = _find(parent, u)
            if parity[r] and not bnd[r] and stamp[r] != 0:
                stamp[r] = 0
                odd[n_odd] = r
                n_odd += 1
    rnd = 0
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
            return -1
        delta = np.inf
        for i in range(n_t):
            e = touched[i]
            d = rem[e] / rate[e]
            if d < delta:
                delta = d
        if not np.isfinite(delta):
            for i in range(n_t):
                rate[touched[i]] = 0
            return -1
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
            _union(parent, size, parity, bnd, head, tail, nxt, eu[e], ev[e])
        n2 = 0
        for i in range(n_odd):
            r = _find(parent, odd[i])
            if parity[r] and not bnd[r] and stamp[r] != rnd:
                stamp[r] = rnd
                odd2[n2] = r
                n2 += 1
        for i in range(n2):
            odd[i] = odd2[i]
        n_odd = n2
    return 0


@njit(cache=True, nogil=True)
def _peel(indptr, adj_node, adj_edge, eu, ev, boundary, full, s, order, pedge, visited,
          gbuf, corr, corr_list, n_corr):
    """Peel the syndrome ``s`` (modified) over the full edges; toggles ``corr``.

    A spanning forest of the full edges, rooted at the boundary first and then at each
    remaining defect in index order, is peeled leaves first.  Each tree is a BFS over the
    pre-grown (``full == 1``) components, each entered by one grown (``full == 2``) edge
    and then spanned by its pre-grown edges, so the tree holds as few grown edges as
    possible (an erased edge flips with probability 1/2, a grown one with p << 1/2).
    Without pre-grown edges this is the plain BFS tree.  Toggled edges are appended to
    ``corr_list`` from ``n_corr`` on.  Returns the new count, or ``-1 - count`` when a
    defect is left that no tree could move (a tree without the boundary was odd).
    """
    N = s.shape[0]
    for u in range(N):
        visited[u] = 0
    bad = False
    for k0 in range(-1, N):
        if k0 < 0:
            if boundary < 0:
                continue
            u0 = boundary
        else:
            u0 = k0
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
        if u0 == boundary:
            s[u0] = 0
        elif s[u0]:
            bad = True
    if bad:
        return -1 - n_corr
    return n_corr


@njit(cache=True, nogil=True)
def _emit(n, corr, corr_list, obs, out_obs, sh, out_corr, write_corr):
    """Observable flips of the edges toggled in ``corr_list[:n]``; resets ``corr``."""
    M = obs.shape[1]
    for m in range(M):
        out_obs[sh, m] = 0
    for i in range(n):
        e = corr_list[i]
        if corr[e]:
            for m in range(M):
                out_obs[sh, m] ^= obs[e, m]
            if write_corr:
                out_corr[sh, e] = 1
            corr[e] = 0


@njit(cache=True, nogil=True)
def uf_decode_batch(indptr, adj_node, adj_edge, eu, ev, boundary, weights, syndromes,
                    erased, obs, out_obs, out_corr, write_corr):
    """Union-find decode a batch of shots.

    Parameters
    ----------
    boundary : the boundary node (``-1``: none).
    weights : (1 or S, E) float64 growth lengths (``log((1-p)/p)``; 0 = pre-grown,
        ``inf`` = never grows).  Row 0 is used for every shot when there is one row.
    syndromes : (S, N) uint8 detection events (the boundary's entry is ignored).
    erased : (S, E) uint8 erasure flags (erased edges are pre-grown).
    obs : (E, M) uint8 observable masks.
    out_obs : (S, M) uint8, written: observable flips of the correction.
    out_corr : (S, E) uint8, written when ``write_corr`` (else may be (1, E)).

    Returns
    -------
    int : the number of shots where decoding failed to neutralise a cluster (0 normally).
    """
    S = syndromes.shape[0]
    N = indptr.shape[0] - 1
    E = eu.shape[0]
    parent = np.empty(N, np.int32)
    size = np.empty(N, np.int32)
    parity = np.empty(N, np.uint8)
    bnd = np.empty(N, np.uint8)
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
    gbuf = np.empty(2 * E, np.int32)  # adjacency slots of grown edges, per tree
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
        syn = syndromes[sh]
        st = _grow(indptr, adj_node, adj_edge, eu, ev, boundary, w, syn, erased[sh], parent,
                   size, parity, bnd, head, tail, nxt, rem, rate, full, stamp, odd, odd2,
                   touched, newfull, visited)
        for u in range(N):
            s[u] = syn[u] & 1
        if boundary >= 0:
            s[boundary] = 0
        n = _peel(indptr, adj_node, adj_edge, eu, ev, boundary, full, s, order, pedge,
                  visited, gbuf, corr, corr_list, 0)
        if n < 0 or st < 0:
            n_bad += 1
            if n < 0:
                n = -1 - n
        _emit(n, corr, corr_list, obs, out_obs, sh, out_corr, write_corr)
    return n_bad


# ---------------------------------------------------------------------------------------
# erasure windings


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


# ---------------------------------------------------------------------------------------
# maximum-weight matching (blossom)


@njit(cache=True, nogil=True)
def _leaves(b, n, childs, nchild, out, stack):
    """The vertices of blossom ``b`` (``b < n``: itself) into ``out``; returns their count."""
    if b < n:
        out[0] = b
        return 1
    cnt = 0
    sp = 1
    stack[0] = b
    while sp > 0:
        sp -= 1
        x = stack[sp]
        for i in range(nchild[x]):
            t = childs[x, i]
            if t < n:
                out[cnt] = t
                cnt += 1
            else:
                stack[sp] = t
                sp += 1
    return cnt


@njit(cache=True, nogil=True)
def max_weight_matching(n, eu, ev, wt, out_mate, out_edge):
    """Maximum-weight matching of maximum cardinality on a general graph.

    Edmonds' blossom algorithm in the O(n^3) primal-dual form of Galil (ACM Comput.
    Surv. 18, 23 (1986)), laid out on integer arrays after J. van Rantwijk's reference
    implementation (``mwmatching.py``, also behind networkx's ``max_weight_matching``).
    Blossom best-edge lists are recomputed from the leaves instead of cached, and the
    recursions are explicit stacks.

    Parameters
    ----------
    n : number of vertices.
    eu, ev : (m,) int64 edge endpoints (no self-loops).
    wt : (m,) int64 **even** edge weights (all arithmetic then stays integral).
    out_mate : (n,) int64, written: the partner of each vertex, ``-1`` if unmatched.
    out_edge : (n,) int64, written: the index of each vertex's matched edge (or ``-1``).
    """
    m = eu.shape[0]
    n2 = 2 * n
    endpoint = np.empty(2 * m, np.int64)
    nbptr = np.zeros(n + 1, np.int64)
    maxweight = 0
    for k in range(m):
        endpoint[2 * k] = eu[k]
        endpoint[2 * k + 1] = ev[k]
        nbptr[eu[k] + 1] += 1
        nbptr[ev[k] + 1] += 1
        if wt[k] > maxweight:
            maxweight = wt[k]
    for v in range(n):
        nbptr[v + 1] += nbptr[v]
    fill = nbptr[:n].copy()
    neighbend = np.empty(2 * m, np.int64)
    for k in range(m):
        neighbend[fill[eu[k]]] = 2 * k + 1
        fill[eu[k]] += 1
        neighbend[fill[ev[k]]] = 2 * k
        fill[ev[k]] += 1
    mate = np.full(n, -1, np.int64)
    label = np.zeros(n2, np.int64)
    labelend = np.full(n2, -1, np.int64)
    inblossom = np.arange(n)
    blossomparent = np.full(n2, -1, np.int64)
    childs = np.empty((n2, n + 1), np.int64)
    endps = np.empty((n2, n + 1), np.int64)
    nchild = np.zeros(n2, np.int64)
    blossombase = np.full(n2, -1, np.int64)
    for v in range(n):
        blossombase[v] = v
    bestedge = np.full(n2, -1, np.int64)
    unused = np.empty(n, np.int64)
    unused_n = np.full(1, n, np.int64)
    touchbuf = np.empty(n2, np.int64)
    stackb = np.empty(n2 + 1, np.int64)
    for i in range(n):
        unused[i] = n + i
    dualvar = np.zeros(n2, np.int64)
    for v in range(n):
        dualvar[v] = maxweight
    allowedge = np.zeros(m, np.bool_)
    queue = np.empty(4 * n + m + 16, np.int64)
    leafbuf = np.empty(n, np.int64)
    stackbuf = np.empty(n2 + 1, np.int64)
    stack2 = np.empty((n2 + 1, 2), np.int64)
    pathbuf = np.empty(n2 + 1, np.int64)
    endpbuf = np.empty(n2 + 1, np.int64)
    tmp = np.empty(n + 1, np.int64)
    bestedgeto = np.full(n2, -1, np.int64)

    def slack(k):
        return dualvar[endpoint[2 * k]] + dualvar[endpoint[2 * k + 1]] - 2 * wt[k]

    def assign_label(w, t, p, qn):
        while True:
            b = inblossom[w]
            label[w] = t
            label[b] = t
            labelend[w] = p
            labelend[b] = p
            bestedge[w] = -1
            bestedge[b] = -1
            if t == 1:
                c = _leaves(b, n, childs, nchild, leafbuf, stackbuf)
                for i in range(c):
                    queue[qn] = leafbuf[i]
                    qn += 1
                return qn
            base = blossombase[b]
            w = endpoint[mate[base]]
            p = mate[base] ^ 1
            t = 1

    def scan_blossom(v, w):
        npath = 0
        base = -1
        while v != -1 or w != -1:
            b = inblossom[v]
            if label[b] & 4:
                base = blossombase[b]
                break
            pathbuf[npath] = b
            npath += 1
            label[b] = 5
            if labelend[b] == -1:
                v = -1
            else:
                v = endpoint[labelend[b]]
                b = inblossom[v]
                v = endpoint[labelend[b]]
            if w != -1:
                v, w = w, v
        for i in range(npath):
            label[pathbuf[i]] = 1
        return base

    def find_child(b, t):
        for i in range(nchild[b]):
            if childs[b, i] == t:
                return i
        return -1

    def augment_blossom(b0, v0):
        sp = 1
        stack2[0, 0] = b0
        stack2[0, 1] = v0
        while sp > 0:
            sp -= 1
            b = stack2[sp, 0]
            v = stack2[sp, 1]
            t = v
            while blossomparent[t] != b:
                t = blossomparent[t]
            if t >= n:
                stack2[sp, 0] = t
                stack2[sp, 1] = v
                sp += 1
            L = nchild[b]
            i = find_child(b, t)
            j = i
            if i & 1:
                j -= L
                jstep = 1
                endptrick = 0
            else:
                jstep = -1
                endptrick = 1
            while j != 0:
                j += jstep
                t = childs[b, j % L]
                p = endps[b, (j - endptrick) % L] ^ endptrick
                if t >= n:
                    stack2[sp, 0] = t
                    stack2[sp, 1] = endpoint[p]
                    sp += 1
                j += jstep
                t = childs[b, j % L]
                if t >= n:
                    stack2[sp, 0] = t
                    stack2[sp, 1] = endpoint[p ^ 1]
                    sp += 1
                mate[endpoint[p]] = p ^ 1
                mate[endpoint[p ^ 1]] = p
            for r in range(L):
                tmp[r] = childs[b, (r + i) % L]
            for r in range(L):
                childs[b, r] = tmp[r]
            for r in range(L):
                tmp[r] = endps[b, (r + i) % L]
            for r in range(L):
                endps[b, r] = tmp[r]
            blossombase[b] = v

    def augment_matching(k):
        for side in range(2):
            if side == 0:
                s = endpoint[2 * k]
                p = 2 * k + 1
            else:
                s = endpoint[2 * k + 1]
                p = 2 * k
            while True:
                bs = inblossom[s]
                if bs >= n:
                    augment_blossom(bs, s)
                mate[s] = p
                if labelend[bs] == -1:
                    break
                t = endpoint[labelend[bs]]
                bt = inblossom[t]
                s = endpoint[labelend[bt]]
                j = endpoint[labelend[bt] ^ 1]
                if bt >= n:
                    augment_blossom(bt, j)
                mate[j] = labelend[bt]
                p = labelend[bt] ^ 1


    def add_blossom(base, k, qn):
        v = endpoint[2 * k]
        w = endpoint[2 * k + 1]
        bb = inblossom[base]
        bv = inblossom[v]
        bw = inblossom[w]
        unused_n[0] -= 1
        b = unused[unused_n[0]]
        blossombase[b] = base
        blossomparent[b] = -1
        blossomparent[bb] = b
        npath = 0
        while bv != bb:
            blossomparent[bv] = b
            pathbuf[npath] = bv
            endpbuf[npath] = labelend[bv]
            npath += 1
            v = endpoint[labelend[bv]]
            bv = inblossom[v]
        # children: bb, then the v-side path reversed, then the w-side path
        childs[b, 0] = bb
        for i in range(npath):
            childs[b, 1 + i] = pathbuf[npath - 1 - i]
            endps[b, i] = endpbuf[npath - 1 - i]
        endps[b, npath] = 2 * k
        c = npath + 1
        while bw != bb:
            blossomparent[bw] = b
            childs[b, c] = bw
            endps[b, c] = labelend[bw] ^ 1
            c += 1
            w = endpoint[labelend[bw]]
            bw = inblossom[w]
        nchild[b] = c
        label[b] = 1
        labelend[b] = labelend[bb]
        dualvar[b] = 0
        cnt = _leaves(b, n, childs, nchild, leafbuf, stackbuf)
        for i in range(cnt):
            x = leafbuf[i]
            if label[inblossom[x]] == 2:
                queue[qn] = x
                qn += 1
            inblossom[x] = b
        # least-slack edges from the new blossom to each neighbouring S-blossom
        ntouch = 0
        for ci in range(c):
            bc = childs[b, ci]
            cnt = _leaves(bc, n, childs, nchild, leafbuf, stackbuf)
            for li in range(cnt):
                x = leafbuf[li]
                for ii in range(nbptr[x], nbptr[x + 1]):
                    kk = neighbend[ii] // 2
                    j = endpoint[neighbend[ii]]
                    bj = inblossom[j]
                    if bj != b and label[bj] == 1:
                        if bestedgeto[bj] == -1:
                            bestedgeto[bj] = kk
                            touchbuf[ntouch] = bj
                            ntouch += 1
                        elif slack(kk) < slack(bestedgeto[bj]):
                            bestedgeto[bj] = kk
            bestedge[bc] = -1
        bestedge[b] = -1
        # the same order as scanning bestedgeto by blossom index
        for i in range(ntouch):
            bj = touchbuf[i]
            kk = bestedgeto[bj]
            if bestedge[b] == -1 or slack(kk) < slack(bestedge[b]):
                bestedge[b] = kk
            bestedgeto[bj] = -1
        return qn

    def expand_blossom(b0, endstage, qn):
        sp = 1
        stackb[0] = b0
        while sp > 0:
            sp -= 1
            b = stackb[sp]
            for ci in range(nchild[b]):
                s = childs[b, ci]
                blossomparent[s] = -1
                if s < n:
                    inblossom[s] = s
                elif endstage and dualvar[s] == 0:
                    stackb[sp] = s
                    sp += 1
                else:
                    cnt = _leaves(s, n, childs, nchild, leafbuf, stackbuf)
                    for i in range(cnt):
                        inblossom[leafbuf[i]] = s
            if (not endstage) and label[b] == 2:
                L = nchild[b]
                entrychild = inblossom[endpoint[labelend[b] ^ 1]]
                j = find_child(b, entrychild)
                if j & 1:
                    j -= L
                    jstep = 1
                    endptrick = 0
                else:
                    jstep = -1
                    endptrick = 1
                p = labelend[b]
                while j != 0:
                    label[endpoint[p ^ 1]] = 0
                    label[endpoint[endps[b, (j - endptrick) % L] ^ endptrick ^ 1]] = 0
                    qn = assign_label(endpoint[p ^ 1], 2, p, qn)
                    allowedge[endps[b, (j - endptrick) % L] // 2] = True
                    j += jstep
                    p = endps[b, (j - endptrick) % L] ^ endptrick
                    allowedge[p // 2] = True
                    j += jstep
                bv = childs[b, j % L]
                label[endpoint[p ^ 1]] = 2
                label[bv] = 2
                labelend[endpoint[p ^ 1]] = p
                labelend[bv] = p
                bestedge[bv] = -1
                j += jstep
                while childs[b, j % L] != entrychild:
                    bv = childs[b, j % L]
                    if label[bv] == 1:
                        j += jstep
                        continue
                    cnt = _leaves(bv, n, childs, nchild, leafbuf, stackbuf)
                    found = -1
                    for i in range(cnt):
                        if label[leafbuf[i]] != 0:
                            found = leafbuf[i]
                            break
                    if found >= 0:
                        label[found] = 0
                        label[endpoint[mate[blossombase[bv]]]] = 0
                        qn = assign_label(found, 2, labelend[found], qn)
                    j += jstep
            label[b] = -1
            labelend[b] = -1
            nchild[b] = 0
            blossombase[b] = -1
            bestedge[b] = -1
            unused[unused_n[0]] = b
            unused_n[0] += 1
        return qn

    # warm start: vertex duals at their largest incident weight (feasible), then the
    # tight edges (mutual heaviest neighbours) matched greedily
    for v in range(n):
        dualvar[v] = 0
    for k in range(m):
        if wt[k] > dualvar[eu[k]]:
            dualvar[eu[k]] = wt[k]
        if wt[k] > dualvar[ev[k]]:
            dualvar[ev[k]] = wt[k]
    for v in range(n):
        if mate[v] != -1:
            continue
        for ii in range(nbptr[v], nbptr[v + 1]):
            p = neighbend[ii]
            w = endpoint[p]
            if mate[w] == -1 and slack(p // 2) == 0:
                mate[v] = p
                mate[w] = p ^ 1
                break
    # main loop: one augmenting path per stage
    for _stage in range(n):
        for b in range(n2):
            label[b] = 0
            bestedge[b] = -1
        for k in range(m):
            allowedge[k] = False
        qn = 0
        for v in range(n):
            if mate[v] == -1 and label[inblossom[v]] == 0:
                qn = assign_label(v, 1, -1, qn)
        augmented = False
        while True:
            while qn > 0 and not augmented:
                qn -= 1
                v = queue[qn]
                for ii in range(nbptr[v], nbptr[v + 1]):
                    p = neighbend[ii]
                    k = p // 2
                    w = endpoint[p]
                    if inblossom[v] == inblossom[w]:
                        continue
                    kslack = 0
                    if not allowedge[k]:
                        kslack = slack(k)
                        if kslack <= 0:
                            allowedge[k] = True
                    if allowedge[k]:
                        if label[inblossom[w]] == 0:
                            qn = assign_label(w, 2, p ^ 1, qn)
                        elif label[inblossom[w]] == 1:
                            base = scan_blossom(v, w)
                            if base >= 0:
                                qn = add_blossom(base, k, qn)
                            else:
                                augment_matching(k)
                                augmented = True
                                break
                        elif label[w] == 0:
                            label[w] = 2
                            labelend[w] = p ^ 1
                    elif label[inblossom[w]] == 1:
                        b = inblossom[v]
                        if bestedge[b] == -1 or kslack < slack(bestedge[b]):
                            bestedge[b] = k
                    elif label[w] == 0:
                        if bestedge[w] == -1 or kslack < slack(bestedge[w]):
                            bestedge[w] = k
            if augmented:
                break
            deltatype = -1
            delta = 0
            deltaedge = -1
            deltablossom = -1
            for v in range(n):
                if label[inblossom[v]] == 0 and bestedge[v] != -1:
                    d = slack(bestedge[v])
                    if deltatype == -1 or d < delta:
                        delta = d
                        deltatype = 2
                        deltaedge = bestedge[v]
            for b in range(n2):
                if blossomparent[b] == -1 and label[b] == 1 and bestedge[b] != -1:
                    d = slack(bestedge[b]) // 2
                    if deltatype == -1 or d < delta:
                        delta = d
                        deltatype = 3
                        deltaedge = bestedge[b]
            for b in range(n, n2):
                if (blossombase[b] >= 0 and blossomparent[b] == -1 and label[b] == 2
                        and (deltatype == -1 or dualvar[b] < delta)):
                    delta = dualvar[b]
                    deltatype = 4
                    deltablossom = b
            if deltatype == -1:
                deltatype = 1
                delta = dualvar[0]
                for v in range(n):
                    if dualvar[v] < delta:
                        delta = dualvar[v]
                if delta < 0:
                    delta = 0
            for v in range(n):
                lb = label[inblossom[v]]
                if lb == 1:
                    dualvar[v] -= delta
                elif lb == 2:
                    dualvar[v] += delta
            for b in range(n, n2):
                if blossombase[b] >= 0 and blossomparent[b] == -1:
                    if label[b] == 1:
                        dualvar[b] += delta
                    elif label[b] == 2:
                        dualvar[b] -= delta
            if deltatype == 1:
                break
            elif deltatype == 2:
                allowedge[deltaedge] = True
                i = endpoint[2 * deltaedge]
                if label[inblossom[i]] == 0:
                    i = endpoint[2 * deltaedge + 1]
                queue[qn] = i
                qn += 1
            elif deltatype == 3:
                allowedge[deltaedge] = True
                queue[qn] = endpoint[2 * deltaedge]
                qn += 1
            else:
                qn = expand_blossom(deltablossom, False, qn)
        if not augmented:
            break
        for b in range(n, n2):
            if (blossomparent[b] == -1 and blossombase[b] >= 0 and label[b] == 1
                    and dualvar[b] == 0):
                expand_blossom(b, True, 0)
    for v in range(n):
        out_mate[v] = endpoint[mate[v]] if mate[v] >= 0 else -1
        out_edge[v] = mate[v] // 2 if mate[v] >= 0 else -1


# ---------------------------------------------------------------------------------------
# exact matching inside union-find clusters

#: integer length of the longest finite edge (weights are scaled to integers for matching)
WEIGHT_SCALE = 1 << 20


@njit(cache=True, nogil=True)
def int_weights(w, wi):
    """Integer edge lengths ``rint(w * WEIGHT_SCALE / max finite w)`` (``-1``: infinite)
    into ``wi``; returns the common length when all positive lengths are equal, else -1.
    """
    wmax = 0.0
    for e in range(w.shape[0]):
        if np.isfinite(w[e]) and w[e] > wmax:
            wmax = w[e]
    scale = WEIGHT_SCALE / wmax if wmax > 0.0 else 1.0
    common = 0
    for e in range(w.shape[0]):
        if np.isfinite(w[e]):
            wi[e] = np.int64(np.rint(max(w[e], 0.0) * scale))
            if wi[e] > 0:
                if common == 0:
                    common = wi[e]
                elif common != wi[e]:
                    common = -1
        else:
            wi[e] = -1
    return common if common > 0 else -1


@njit(cache=True, nogil=True, inline="always")
def _heap_push(hk, hv, n, key, v):
    i = n
    while i > 0:
        p = (i - 1) >> 1
        if hk[p] <= key:
            break
        hk[i] = hk[p]
        hv[i] = hv[p]
        i = p
    hk[i] = key
    hv[i] = v
    return n + 1


@njit(cache=True, nogil=True, inline="always")
def _heap_pop(hk, hv, n):
    """Removes the top; returns ``(key, node, new size)``."""
    key = hk[0]
    v = hv[0]
    n -= 1
    if n > 0:
        lk = hk[n]
        lv = hv[n]
        i = 0
        while True:
            c = 2 * i + 1
            if c >= n:
                break
            if c + 1 < n and hk[c + 1] < hk[c]:
                c += 1
            if hk[c] >= lk:
                break
            hk[i] = hk[c]
            hv[i] = hv[c]
            i = c
        hk[i] = lk
        hv[i] = lv
    return key, v, n


@njit(cache=True, nogil=True)
def _queue_pop(hk, hv, nh, qh, uni):
    """Pop from the binary heap (``uni <= 0``) or the front of the 0-1 BFS deque."""
    if uni > 0:
        d = hk[qh]
        u = hv[qh]
        qh += 1
        if qh == hk.shape[0]:
            qh = 0
        return d, u, nh - 1, qh
    d, u, nh = _heap_pop(hk, hv, nh)
    return d, u, nh, qh


@njit(cache=True, nogil=True)
def _queue_push(hk, hv, nh, qh, qt, uni, key, v, zero):
    """Push onto the heap, or onto the deque (front for a 0-length edge, else back)."""
    if uni <= 0:
        return _heap_push(hk, hv, nh, key, v), qh, qt
    cap = hk.shape[0]
    if zero:
        qh = qh - 1 if qh > 0 else cap - 1
        hk[qh] = key
        hv[qh] = v
    else:
        hk[qt] = key
        hv[qt] = v
        qt = qt + 1 if qt + 1 < cap else 0
    return nh + 1, qh, qt


@njit(cache=True, nogil=True, inline="always")
def _relax(u, d, indptr, adj_node, adj_edge, wi, uni, pre, dist, pred, touched, n_t, hk, hv,
           nh, qh, qt):
    """Relax the edges of node ``u`` (at distance ``d``); newly reached nodes are appended
    to ``touched``.  Returns the new ``(n_t, nh, qh, qt)``."""
    INF = np.iinfo(np.int64).max
    for j in range(indptr[u], indptr[u + 1]):
        e = adj_edge[j]
        we = 0 if pre[e] else wi[e]
        if we < 0:
            continue
        v = adj_node[j]
        nd = d + we
        if nd < dist[v]:
            if dist[v] == INF:
                touched[n_t] = v
                n_t += 1
            dist[v] = nd
            pred[v] = e
            nh, qh, qt = _queue_push(hk, hv, nh, qh, qt, uni, nd, v, we == 0)
    return n_t, nh, qh, qt


@njit(cache=True, nogil=True)
def _search(src, want, reach, tgt, indptr, adj_node, adj_edge, eu, ev, bcomp, wi, uni, pre,
            comp, defidx, dist, pred, seen, hk, hv, touched, cand_j, cand_d, corr, corr_list,
            n_corr, inlist):
    """Shortest paths from node ``src``: pre-grown edges have length 0, the others
    ``wi`` (``-1``: no edge); never through the boundary's component ``bcomp`` (a path
    that touches it is two matches to the boundary).  ``dist`` must be all
    ``INT64_MAX`` on entry and is restored on exit.

    Candidate mode (``tgt < 0``): settles every node up to the larger of the distance of
    the ``want``-th other defect found (components ``c`` with ``defidx[c] >= 0``) and the
    distance of the first one plus ``reach`` (ties included); writes the defects' indices
    and distances to ``cand_j`` / ``cand_d`` and returns ``(count, n_corr)``.  Path mode:
    stops at the first node of component ``tgt``, toggles the path's edges in ``corr``
    and returns ``(distance or -1, n_corr)``.
    """
    INF = np.iinfo(np.int64).max
    ca = comp[src]
    n_t = 1
    touched[0] = src
    dist[src] = 0
    pred[src] = -1
    hk[0] = 0
    hv[0] = src
    nh = 1
    qh = 0
    qt = 1
    n_found = 0
    dstop = INF
    dfirst = INF
    result = -1
    while nh > 0:
        d, u, nh, qh = _queue_pop(hk, hv, nh, qh, uni)
        if d > dist[u]:
            continue
        if d > dstop:
            break
        c = comp[u]
        if tgt >= 0:
            if c == tgt:
                n_corr = _trace(u, pred, eu, ev, corr, corr_list, n_corr, inlist)
                result = d
                break
        elif c != ca and defidx[c] >= 0 and seen[c] != src:
            seen[c] = src
            cand_j[n_found] = defidx[c]
            cand_d[n_found] = d
            if n_found == 0:
                dfirst = d
            n_found += 1
            if n_found >= want and dstop == INF:
                dstop = max(d, dfirst + reach)
        if c == bcomp:
            continue
        n_t, nh, qh, qt = _relax(u, d, indptr, adj_node, adj_edge, wi, uni, pre, dist, pred,
                                 touched, n_t, hk, hv, nh, qh, qt)
    for i in range(n_t):
        dist[touched[i]] = INF
    if tgt >= 0:
        return result, n_corr
    return n_found, n_corr


@njit(cache=True, nogil=True)
def _trace(x, pred, eu, ev, corr, corr_list, n_corr, inlist):
    """Toggle the edges of the tree path from node ``x`` back to its root."""
    while pred[x] >= 0:
        e = pred[x]
        corr[e] ^= 1
        if not inlist[e]:
            inlist[e] = 1
            corr_list[n_corr] = e
            n_corr += 1
        x = eu[e] if ev[e] == x else ev[e]
    return n_corr


@njit(cache=True, nogil=True)
def _boundary_distances(indptr, adj_node, adj_edge, bcomp, wi, uni, pre, comp, dist, pred,
                        touched, hk, hv, defs, n, db):
    """``db[i]``: the shortest path length from defect ``defs[i]`` to the boundary's
    component (one search from the boundary's component outwards); ``-1`` if none."""
    INF = np.iinfo(np.int64).max
    N = dist.shape[0]
    nh = 0
    qt = 0
    for u in range(N):
        if comp[u] == bcomp:
            dist[u] = 0
            touched[qt] = u
            hk[qt] = 0
            hv[qt] = u
            qt += 1
    nh = qt
    n_t = qt
    qh = 0
    while nh > 0:
        d, u, nh, qh = _queue_pop(hk, hv, nh, qh, uni)
        if d <= dist[u]:
            n_t, nh, qh, qt = _relax(u, d, indptr, adj_node, adj_edge, wi, uni, pre, dist,
                                     pred, touched, n_t, hk, hv, nh, qh, qt)
    for i in range(n):
        x = dist[defs[i]]
        db[i] = -1 if x == INF else x
    for i in range(n_t):
        dist[touched[i]] = INF


@njit(cache=True, nogil=True, inline="always")
def _ctz(x):
    """Index of the lowest set bit of a non-zero uint64 (binary search on halves)."""
    i = 0
    for k in (32, 16, 8, 4, 2, 1):
        low = (np.uint64(1) << np.uint64(k)) - np.uint64(1)
        if (x & low) == 0:
            x >>= np.uint64(k)
            i += k
    return i


@njit(cache=True, nogil=True)
def _knn_bits(defs, n, want, reach, indptr, adj_node, adj_edge, bcomp, wi, pre, comp,
              defidx, mhead, mnext, visited, front, nextb, flist, nlist, inlist_c, found,
              first, active, keys, dd):
    """Nearest defects of every defect at once, for uniform edge lengths.

    A breadth-first search over the contracted graph (pre-grown components as nodes,
    the other edges at length 1) that carries one bit per source defect (64 sources per
    word): level by level, each component's new source bits are those of its
    neighbours' frontiers it has not seen.  A source stops after the level at which it
    has reached ``want`` other defects and ``reach`` levels beyond its nearest one (ties
    included).  The boundary's component ``bcomp`` is never entered.  Writes candidate pairs
    ``keys = min(i, j) * n + max(i, j)`` and their lengths (in edges) to ``keys`` /
    ``dd``; returns their count (pairs may repeat), or minus the count needed when
    ``keys`` is too short.
    """
    W = (n + 63) // 64
    nk = 0
    for w in range(W):
        active[w] = np.uint64(0)
    n_f = 0
    for i in range(n):
        c = defs[i]
        found[i] = 0
        first[i] = 0
        word = i >> 6
        bit = np.uint64(1) << np.uint64(i & 63)
        active[word] |= bit
        if not inlist_c[c]:
            inlist_c[c] = 1
            flist[n_f] = c
            n_f += 1
            for w in range(W):
                visited[c, w] = np.uint64(0)
                front[c, w] = np.uint64(0)
                nextb[c, w] = np.uint64(0)
        visited[c, word] |= bit
        front[c, word] |= bit
    n_touch = n_f
    for t in range(n_f):  # ``nlist`` holds every touched component, to reset at the end
        nlist[t] = flist[t]
    level = 0
    cur = 0  # start of the current frontier in ``flist``
    n_cur = n_f
    while n_cur > 0:
        level += 1
        n_new = 0
        new_start = cur + n_cur
        for t in range(cur, cur + n_cur):
            c = flist[t]
            live = False
            for w in range(W):
                front[c, w] &= active[w]
                if front[c, w] != 0:
                    live = True
            if not live:
                continue
            u = mhead[c]
            while u >= 0:
                for j in range(indptr[u], indptr[u + 1]):
                    e = adj_edge[j]
                    if pre[e] or wi[e] < 0:
                        continue
                    c2 = comp[adj_node[j]]
                    if c2 == c or c2 == bcomp:
                        continue
                    if inlist_c[c2] == 0:
                        inlist_c[c2] = 1
                        nlist[n_touch] = c2
                        n_touch += 1
                        for w in range(W):
                            visited[c2, w] = np.uint64(0)
                            front[c2, w] = np.uint64(0)
                            nextb[c2, w] = np.uint64(0)
                    fresh = False
                    for w in range(W):
                        x = front[c, w] & ~visited[c2, w] & ~nextb[c2, w]
                        if x != 0:
                            nextb[c2, w] |= x
                            fresh = True
                    if fresh and inlist_c[c2] != 2:
                        inlist_c[c2] = 2
                        flist[new_start + n_new] = c2
                        n_new += 1
                u = mnext[u]
        for t in range(cur, cur + n_cur):
            c = flist[t]
            for w in range(W):
                front[c, w] = np.uint64(0)
        for t in range(new_start, new_start + n_new):
            c2 = flist[t]
            inlist_c[c2] = 1
            j = defidx[c2]
            for w in range(W):
                x = nextb[c2, w]
                nextb[c2, w] = np.uint64(0)
                visited[c2, w] |= x
                front[c2, w] = x
                if j >= 0:
                    while x != 0:
                        i = w * 64 + _ctz(x)
                        x &= x - np.uint64(1)
                        found[i] += 1
                        if first[i] == 0:
                            first[i] = level
                        if nk < keys.shape[0]:
                            keys[nk] = min(i, j) * n + max(i, j)
                            dd[nk] = level
                        nk += 1
        for i in range(n):
            if found[i] >= want and level >= first[i] + reach:
                active[i >> 6] &= ~(np.uint64(1) << np.uint64(i & 63))
        # compact: the new frontier becomes the current one
        for t in range(n_new):
            flist[t] = flist[new_start + t]
        cur = 0
        n_cur = n_new
        any_active = False
        for w in range(W):
            if active[w] != 0:
                any_active = True
        if not any_active:
            break
    for t in range(n_touch):
        inlist_c[nlist[t]] = 0
    return nk if nk <= keys.shape[0] else -nk


@njit(cache=True, nogil=True)
def _solve(defs, n, has_b, db, keys, dd, nk, unit, indptr, adj_node, adj_edge, eu, ev,
           bcomp, wi, uni, pre, comp, defidx, dist, pred, seen, hk, hv, touched,
           cand_j, cand_d, corr, corr_list, n_corr, inlist):
    """Minimum-length perfect matching of the defects among the candidate pairs ``keys``
    (lengths ``dd * unit``), with the boundary (``db``) when ``has_b``; toggles the
    matched paths.  Returns ``(n_corr, total length)``; the length is ``-1`` when no
    perfect matching exists among the candidates (nothing toggled), ``-2`` when a matched
    pair has no path (cannot happen for candidates found by a search)."""
    order = np.argsort(keys[:nk], kind="mergesort")
    nv = 2 * n if has_b else n
    bu = np.empty(2 * nk + n, np.int64)
    bv = np.empty(2 * nk + n, np.int64)
    bd = np.empty(2 * nk + n, np.int64)
    m = 0
    last = -1
    for t in range(nk):
        key = keys[order[t]]
        if key == last:
            continue
        last = key
        a = key // n
        b = key % n
        bu[m] = a
        bv[m] = b
        bd[m] = dd[order[t]] * unit
        m += 1
        if has_b:
            bu[m] = n + a
            bv[m] = n + b
            bd[m] = 0
            m += 1
    if has_b:
        for i in range(n):
            if db[i] >= 0:
                bu[m] = i
                bv[m] = n + i
                bd[m] = db[i]
                m += 1
    dmax = np.int64(0)
    for t in range(m):
        if bd[t] > dmax:
            dmax = bd[t]
    wt = np.empty(m, np.int64)
    for t in range(m):
        wt[t] = 2 * (dmax + 1 - bd[t])
    mate = np.empty(nv, np.int64)
    medge = np.empty(nv, np.int64)
    max_weight_matching(nv, bu[:m], bv[:m], wt, mate, medge)
    for v in range(nv):
        if mate[v] < 0:
            return n_corr, np.int64(-1)
    total = np.int64(0)
    for i in range(n):
        j = mate[i]
        if j > i:
            tgt = bcomp if j >= n else defs[j]
            d, n_corr = _search(defs[i], 0, 0, tgt, indptr, adj_node, adj_edge, eu, ev, bcomp,
                                wi, uni, pre, comp, defidx, dist, pred, seen, hk, hv, touched,
                                cand_j, cand_d, corr, corr_list, n_corr, inlist)
            if d < 0:
                return n_corr, np.int64(-2)
            total += d
    return n_corr, total


@njit(cache=True, nogil=True)
def local_mwpm_decode_batch(indptr, adj_node, adj_edge, eu, ev, boundary, weights,
                            syndromes, erased, obs, knn, reach, out_obs, out_corr,
                            write_corr, out_cost):
    """Minimum-weight perfect matching among nearest defects, erasures contracted.

    Per shot: the pre-grown edges (erased, or weight 0) are contracted, and a component
    with an odd number of detection events is one *defect*.  A defect's candidate
    partners are the defects up to the larger of the distance of its ``knn``-th nearest
    defect and the distance of its nearest one plus ``reach`` edges (of the longest
    length; ties included), found by one bit-parallel breadth-first search for every
    defect at once when all non-zero edge lengths are equal (:func:`_knn_bits`), else by
    one shortest-path search per defect; with a boundary node every defect may also match
    the boundary at its distance to it.  :func:`max_weight_matching` (Edmonds' blossom
    algorithm) finds the minimum-length perfect matching among the candidates (``knn``
    is doubled until one exists).  The matched shortest paths, then a peeling of the
    pre-grown forest, give the correction.  Lengths are the integers of
    :func:`int_weights`.

    Parameters
    ----------
    Those of :func:`uf_decode_batch`, plus ``knn`` (>= 1), ``reach`` (>= 0) and
    ``out_cost`` (S,) int64, written: the total length of the matching (``-1`` if it
    failed).

    Returns
    -------
    int : the number of shots that could not be matched (0 normally).
    """
    S = syndromes.shape[0]
    N = indptr.shape[0] - 1
    E = eu.shape[0]
    INF = np.iinfo(np.int64).max
    wi = np.empty(E, np.int64)
    pre = np.empty(E, np.uint8)
    head = np.empty(N, np.int32)
    comp = np.empty(N, np.int32)
    cpar = np.empty(N, np.uint8)
    mhead = np.full(N, -1, np.int32)
    mnext = np.empty(N, np.int32)
    defs = np.empty(N, np.int32)
    defidx = np.full(N, -1, np.int64)
    seen = np.full(N, -1, np.int64)
    dist = np.full(N, INF, np.int64)
    pred = np.empty(N, np.int32)
    hk = np.empty(2 * E + N + 1, np.int64)
    hv = np.empty(2 * E + N + 1, np.int32)
    touched = np.empty(N, np.int32)
    cand_j = np.empty(N, np.int64)
    cand_d = np.empty(N, np.int64)
    db = np.empty(N, np.int64)
    flist = np.empty(2 * N + 1, np.int32)
    nlist = np.empty(N, np.int32)
    inlist_c = np.zeros(N, np.uint8)
    found = np.empty(N, np.int64)
    first = np.empty(N, np.int64)
    wcap = 1
    visited = np.empty((N, wcap), np.uint64)
    front = np.empty((N, wcap), np.uint64)
    nextb = np.empty((N, wcap), np.uint64)
    active = np.empty(wcap, np.uint64)
    s = np.empty(N, np.uint8)
    order = np.empty(N, np.int32)
    pedge = np.empty(N, np.int32)
    visited_p = np.empty(N, np.uint8)
    gbuf = np.empty(2 * E, np.int32)
    corr = np.zeros(E, np.uint8)
    inlist = np.zeros(E, np.uint8)
    corr_list = np.empty(E + N, np.int32)
    uni = -1
    n_bad = 0
    for sh in range(S):
        if sh == 0 or weights.shape[0] > 1:
            uni = int_weights(weights[sh] if weights.shape[0] > 1 else weights[0], wi)
        syn = syndromes[sh]
        er = erased[sh]
        # contract the pre-grown components (root: the smallest node)
        for u in range(N):
            head[u] = u
            cpar[u] = 0
        for e in range(E):
            pre[e] = 1 if (er[e] or wi[e] == 0) else 0
            if pre[e]:
                ra = _find(head, eu[e])
                rb = _find(head, ev[e])
                if ra < rb:
                    head[rb] = ra
                elif rb < ra:
                    head[ra] = rb
        for u in range(N - 1, -1, -1):
            c = _find(head, u)
            comp[u] = c
            mnext[u] = mhead[c]
            mhead[c] = u
            if syn[u] & 1 and u != boundary:
                cpar[c] ^= 1
        bcomp = comp[boundary] if boundary >= 0 else -1
        n = 0
        for u in range(N):
            if comp[u] == u and cpar[u] and u != bcomp:
                defidx[u] = n
                defs[n] = u
                n += 1
        n_corr = 0
        total = np.int64(0)
        failed = False
        if n > 0:
            has_b = bcomp >= 0
            if has_b:
                _boundary_distances(indptr, adj_node, adj_edge, bcomp, wi, uni, pre, comp,
                                    dist, pred, touched, hk, hv, defs, n, db)
            want = min(knn, n - 1)
            while True:
                cap = n * max(want, 1) * 2 + 64
                keys = np.empty(cap, np.int64)
                dd = np.empty(cap, np.int64)
                nk = 0
                unit = np.int64(1)
                if want > 0 and uni > 0:
                    W = (n + 63) // 64
                    if W > wcap:
                        wcap = W
                        visited = np.empty((N, wcap), np.uint64)
                        front = np.empty((N, wcap), np.uint64)
                        nextb = np.empty((N, wcap), np.uint64)
                        active = np.empty(wcap, np.uint64)
                    nk = -1
                    while nk < 0:
                        nk = _knn_bits(defs, n, want, reach, indptr, adj_node, adj_edge,
                                       bcomp, wi, pre, comp, defidx, mhead, mnext, visited,
                                       front, nextb, flist, nlist, inlist_c, found, first,
                                       active, keys, dd)
                        if nk < 0:
                            keys = np.empty(-nk, np.int64)
                            dd = np.empty(-nk, np.int64)
                    unit = uni
                elif want > 0:
                    for i in range(n):
                        nf, n_corr = _search(defs[i], want, reach * WEIGHT_SCALE, -1, indptr,
                                             adj_node, adj_edge, eu, ev, bcomp, wi, uni,
                                             pre, comp, defidx, dist, pred, seen, hk, hv,
                                             touched, cand_j, cand_d, corr, corr_list,
                                             n_corr, inlist)
                        if nk + nf > keys.shape[0]:
                            cap = 2 * (nk + nf)
                            k2 = np.empty(cap, np.int64)
                            d2 = np.empty(cap, np.int64)
                            k2[:nk] = keys[:nk]
                            d2[:nk] = dd[:nk]
                            keys = k2
                            dd = d2
                        for t in range(nf):
                            j = cand_j[t]
                            keys[nk] = min(i, j) * n + max(i, j)
                            dd[nk] = cand_d[t]
                            nk += 1
                    for i in range(n):
                        seen[defs[i]] = -1
                n_corr, total = _solve(defs, n, has_b, db, keys, dd, nk, unit, indptr,
                                       adj_node, adj_edge, eu, ev, bcomp, wi, uni,
                                       pre, comp, defidx, dist, pred, seen, hk, hv, touched,
                                       cand_j, cand_d, corr, corr_list, n_corr, inlist)
                if total != -1 or want >= n - 1:
                    break
                want = min(2 * want, n - 1)
            if total < 0:
                failed = True
        for i in range(n):
            defidx[defs[i]] = -1
        for u in range(N):
            mhead[u] = -1
        # the residual syndrome lies inside pre-grown components: peel it there
        for u in range(N):
            s[u] = syn[u] & 1
        for i in range(n_corr):
            e = corr_list[i]
            inlist[e] = 0
            if corr[e]:
                s[eu[e]] ^= 1
                s[ev[e]] ^= 1
        if boundary >= 0:
            s[boundary] = 0
        nn = _peel(indptr, adj_node, adj_edge, eu, ev, boundary, pre, s, order, pedge,
                   visited_p, gbuf, corr, corr_list, n_corr)
        if nn < 0:
            failed = True
            nn = -1 - nn
        if failed:
            n_bad += 1
        out_cost[sh] = -1 if failed else total
        _emit(nn, corr, corr_list, obs, out_obs, sh, out_corr, write_corr)
    return n_bad
