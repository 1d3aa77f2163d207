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

Three decoders share the union-find growth :func:`_grow` and the peeling :func:`_peel`:

* :func:`uf_decode_batch` -- union-find (Delfosse--Nickerson, arXiv:1709.06218) with
  erased (and weight-0) edges pre-grown, weighted growth, and peeling (Delfosse--Zemor,
  arXiv:1703.01517);
* :func:`cluster_mwpm_decode_batch` -- the same clusters, then an exact minimum-weight
  perfect matching of the defects inside each cluster (:func:`max_weight_matching`,
  Edmonds' blossom algorithm), with erased edges at weight 0;
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
def _grow_margin(indptr, adj_node, adj_edge, eu, ev, seeds, n_seeds, margin, parent, size,
                 parity, bnd, head, tail, nxt, rem, rate, full, stamp, roots, touched,
                 newfull):
    """One more growth step of ``margin`` (per side) for every cluster that holds one of
    the nodes ``seeds[:n_seeds]``, odd or not; clusters joined by saturated edges merge."""
    n_r = 0
    for i in range(n_seeds):
        stamp[_find(parent, seeds[i])] = -1
    for i in range(n_seeds):
        r = _find(parent, seeds[i])
        if stamp[r] != -2:
            stamp[r] = -2
            roots[n_r] = r
            n_r += 1
    n_t = 0
    for i in range(n_r):
        r = roots[i]
        u = head[r]
        while u != -1:
            for j in range(indptr[u], indptr[u + 1]):
                e = adj_edge[j]
                if full[e] or _find(parent, adj_node[j]) == r:
                    continue
                if rate[e] == 0:
                    touched[n_t] = e
                    n_t += 1
                rate[e] += 1
            u = nxt[u]
    n_new = 0
    for i in range(n_t):
        e = touched[i]
        rem[e] -= margin * rate[e]
        rate[e] = 0
        if rem[e] <= 1e-9:
            rem[e] = 0.0
            full[e] = 2
            newfull[n_new] = e
            n_new += 1
    for i in range(n_new):
        e = newfull[i]
        _union(parent, size, parity, bnd, head, tail, nxt, eu[e], ev[e])


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
def max_weight_matching(n, eu, ev, wt, out_mate):
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
def _search(src, want, need_b, tgt, indptr, adj_node, adj_edge, eu, ev, boundary, bcomp,
            wi, full, comp, defidx, dist, pred, seen, hk, hv, touched, cand_j, cand_d,
            corr, corr_list, n_corr, inlist, clu, region, uni):
    """Dijkstra from node ``src`` (pre-grown edges have length 0; never through the
    boundary node).

    Candidate mode (``tgt < 0``): stops once ``want`` other defects of the cluster
    (``defidx[comp] >= 0``) and, if ``need_b``, the boundary's component are settled,
    after settling every node at that distance (ties); writes the defects found to
    ``cand_j`` / ``cand_d`` and returns ``(count, boundary distance or -1, 0)``.
    Path mode: stops at the first node of component ``tgt``, toggles the edges of the
    path in ``corr`` and returns ``(0, distance or -1, new n_corr)``.

    With ``uni > 0`` (every non-zero length equals ``uni``) the queue is the deque of a
    0-1 breadth-first search instead of a binary heap.
    """
    ca = comp[src]
    n_t = 1
    touched[0] = src
    dist[src] = 0
    pred[src] = -1
    cap = hk.shape[0]
    qh = 0
    qt = 1
    hk[0] = 0
    hv[0] = src
    nh = 1
    n_found = 0
    db = -1
    dstop = -1
    done = False
    while nh > 0:
        if uni > 0:
            d = hk[qh]
            u = hv[qh]
            qh += 1
            if qh == cap:
                qh = 0
            nh -= 1
        else:
            d, u, nh = _heap_pop(hk, hv, nh)
        if d > dist[u]:
            continue
        if done and d > dstop:
            break
        c = comp[u]
        if tgt >= 0:
            if c == tgt:
                x = u
                while pred[x] >= 0:
                    e = pred[x]
                    corr[e] ^= 1
                    if not inlist[e]:
                        inlist[e] = 1
                        corr_list[n_corr] = e
                        n_corr += 1
                    x = eu[e] if ev[e] == x else ev[e]
                for i in range(n_t):
                    dist[touched[i]] = np.iinfo(np.int64).max
                return 0, d, n_corr
        else:
            if c != ca and defidx[c] >= 0 and seen[c] != src:
                seen[c] = src
                cand_j[n_found] = defidx[c]
                cand_d[n_found] = d
                n_found += 1
            if c == bcomp and db < 0:
                db = d
            if not done and n_found >= want and (db >= 0 or not need_b):
                done = True
                dstop = d
        if u == boundary:
            continue
        for j in range(indptr[u], indptr[u + 1]):
            e = adj_edge[j]
            we = 0 if full[e] == 1 else wi[e]
            if we < 0:
                continue
            v = adj_node[j]
            if region >= 0 and clu[v] != region:
                continue
            nd = d + we
            if nd < dist[v]:
                if dist[v] == np.iinfo(np.int64).max:
                    touched[n_t] = v
                    n_t += 1
                dist[v] = nd
                pred[v] = e
                if uni <= 0:
                    nh = _heap_push(hk, hv, nh, nd, v)
                else:
                    if we == 0:
                        qh = qh - 1 if qh > 0 else cap - 1
                        hk[qh] = nd
                        hv[qh] = v
                    else:
                        hk[qt] = nd
                        hv[qt] = v
                        qt = qt + 1 if qt + 1 < cap else 0
                    nh += 1
    for i in range(n_t):
        dist[touched[i]] = np.iinfo(np.int64).max
    if tgt >= 0:
        return 0, -1, n_corr
    return n_found, db, 0


@njit(cache=True, nogil=True)
def _match_cluster(defs, k, has_b, knn, indptr, adj_node, adj_edge, eu, ev, boundary, bcomp,
                   wi, full, comp, defidx, dist, pred, seen, hk, hv, touched, cand_j, cand_d,
                   corr, corr_list, n_corr, inlist, clu, region, uni):
    """Minimum-weight perfect matching of the ``k`` defects ``defs`` of one cluster (with
    the boundary when ``has_b``); toggles the matched paths.  Returns ``(n_corr, cost)``,
    cost ``-1`` if no perfect matching was found."""
    for i in range(k):
        defidx[defs[i]] = i
    want = min(knn, k - 1)
    cost = np.int64(-1)
    mate = np.empty(2 * k, np.int64)
    db = np.empty(k, np.int64)
    while True:
        keys = np.empty(k * max(want, 1) + 8, np.int64)
        dd = np.empty(k * max(want, 1) + 8, np.int64)
        nk = 0
        for i in range(k):
            nf, db[i], _ = _search(defs[i], want, has_b, -1, indptr, adj_node, adj_edge, eu,
                                   ev, boundary, bcomp, wi, full, comp, defidx, dist, pred,
                                   seen, hk, hv, touched, cand_j, cand_d, corr, corr_list,
                                   n_corr, inlist, clu, region, uni)
            if nk + nf > keys.shape[0]:
                grow = max(2 * keys.shape[0], nk + nf)
                k2 = np.empty(grow, np.int64)
                d2 = np.empty(grow, np.int64)
                k2[:nk] = keys[:nk]
                d2[:nk] = dd[:nk]
                keys = k2
                dd = d2
            for t in range(nf):
                j = cand_j[t]
                keys[nk] = min(i, j) * k + max(i, j)
                dd[nk] = cand_d[t]
                nk += 1
        for i in range(k):  # ``seen[target] = source``: clear for a retry or next cluster
            seen[defs[i]] = -1
        order = np.argsort(keys[:nk], kind="mergesort")
        nv = 2 * k if has_b else k
        m_max = 2 * nk + k
        bu = np.empty(m_max, np.int64)
        bv = np.empty(m_max, np.int64)
        bd = np.empty(m_max, np.int64)
        m = 0
        last = -1
        for t in range(nk):
            key = keys[order[t]]
            if key == last:
                continue
            last = key
            a = key // k
            b = key % k
            bu[m] = a
            bv[m] = b
            bd[m] = dd[order[t]]
            m += 1
            if has_b:
                bu[m] = k + a
                bv[m] = k + b
                bd[m] = 0
                m += 1
        if has_b:
            for i in range(k):
                if db[i] >= 0:
                    bu[m] = i
                    bv[m] = k + i
                    bd[m] = db[i]
                    m += 1
        dmax = np.int64(0)
        for t in range(m):
            if bd[t] > dmax:
                dmax = bd[t]
        wt = np.empty(m, np.int64)
        for t in range(m):
            wt[t] = 2 * (dmax + 1 - bd[t])
        max_weight_matching(nv, bu[:m], bv[:m], wt, mate[:nv])
        perfect = True
        for v in range(nv):
            if mate[v] < 0:
                perfect = False
        if perfect or want >= k - 1:
            break
        want = min(2 * want, k - 1)
    if perfect:
        cost = 0
        for i in range(k):
            j = mate[i]
            if j > i or j >= k:
                tgt = bcomp if j >= k else defs[j]
                _, d, n_corr = _search(defs[i], 0, False, tgt, indptr, adj_node, adj_edge, eu,
                                       ev, boundary, bcomp, wi, full, comp, defidx, dist, pred,
                                       seen, hk, hv, touched, cand_j, cand_d, corr, corr_list,
                                       n_corr, inlist, clu, region, uni)
                cost += d
    for i in range(k):
        defidx[defs[i]] = -1
    return n_corr, cost


@njit(cache=True, nogil=True)
def cluster_mwpm_decode_batch(indptr, adj_node, adj_edge, eu, ev, boundary, weights,
                              syndromes, erased, obs, knn, restrict, margin, out_obs,
                              out_corr, write_corr, out_cost):
    """Union-find clusters, then exact matching inside each cluster, for a batch of shots.

    Per shot: the union-find growth of :func:`uf_decode_batch` gives the clusters; the
    pre-grown (erased or weight-0) components are contracted, and a component with an odd
    number of detection events is one *defect*.  Inside each cluster the defects are
    matched by minimum total path length (pre-grown edges at length 0, others at the
    integer lengths of :func:`int_weights`, the boundary as a partner for any defect of a
    cluster that holds it): each defect's ``knn`` nearest defects of its cluster (all
    those at the last distance included) are candidate partners, and
    :func:`max_weight_matching` finds the optimum among them (``knn`` is doubled until
    the matching is perfect).  The matched paths, then a peeling of the pre-grown forest,
    give the correction.

    Parameters are those of :func:`uf_decode_batch`, plus ``knn`` (>= 1) and
    ``out_cost`` (S,) int64, written: the total path length of the matching (``-1`` when
    a cluster could not be matched).

    Returns
    -------
    int : the number of shots with a cluster that could not be neutralised (0 normally).
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
    gbuf = np.empty(2 * E, np.int32)
    rem = np.empty(E, np.float64)
    rate = np.zeros(E, np.int32)
    full = np.empty(E, np.uint8)
    pre = np.empty(E, np.uint8)
    touched_e = np.empty(E, np.int32)
    newfull = np.empty(E, np.int32)
    corr = np.zeros(E, np.uint8)
    inlist = np.zeros(E, np.uint8)
    corr_list = np.empty(E + N, np.int32)
    wi = np.empty(E, np.int64)
    comp = np.empty(N, np.int32)
    cpar = np.empty(N, np.uint8)
    defidx = np.full(N, -1, np.int64)
    seen = np.full(N, -1, np.int64)
    dist = np.full(N, np.iinfo(np.int64).max, np.int64)
    pred = np.empty(N, np.int32)
    hk = np.empty(2 * E + N + 1, np.int64)
    hv = np.empty(2 * E + N + 1, np.int32)
    touched = np.empty(N, np.int32)
    cand_j = np.empty(N, np.int64)
    cand_d = np.empty(N, np.int64)
    defs = np.empty(N, np.int32)
    clu = np.empty(N, np.int32)
    kcnt = np.empty(N, np.int32)
    dclus = np.empty(N, np.int32)
    chead = np.full(N, -1, np.int32)
    cnext = np.empty(N, np.int32)
    croots = np.empty(N, np.int32)
    n_bad = 0
    for sh in range(S):
        w = weights[sh] if weights.shape[0] > 1 else weights[0]
        if sh == 0 or weights.shape[0] > 1:
            uni = int_weights(w, wi)
            wmax = 0.0
            for e in range(E):
                if np.isfinite(w[e]) and w[e] > wmax:
                    wmax = w[e]
        syn = syndromes[sh]
        st = _grow(indptr, adj_node, adj_edge, eu, ev, boundary, w, syn, erased[sh], parent,
                   size, parity, bnd, head, tail, nxt, rem, rate, full, stamp, odd, odd2,
                   touched_e, newfull, visited)
        # pre-grown components (reuse ``size``/``head`` as a second union-find)
        for u in range(N):
            head[u] = u
            cpar[u] = 0
        for e in range(E):
            pre[e] = 1 if full[e] == 1 else 0
            if pre[e]:
                ra = _find(head, eu[e])
                rb = _find(head, ev[e])
                if ra != rb:
                    if ra < rb:
                        head[rb] = ra
                    else:
                        head[ra] = rb
        for u in range(N):
            comp[u] = _find(head, u)
            if syn[u] & 1 and u != boundary:
                cpar[comp[u]] ^= 1
        bcomp = comp[boundary] if boundary >= 0 else -1
        if margin > 0.0:  # clusters with three or more defects grow by ``margin``
            for u in range(N):
                if comp[u] == u and cpar[u] and u != bcomp:
                    kcnt[_find(parent, u)] = 0
            for u in range(N):
                if comp[u] == u and cpar[u] and u != bcomp:
                    kcnt[_find(parent, u)] += 1
            n_seed = 0
            for u in range(N):
                if comp[u] == u and cpar[u] and u != bcomp and kcnt[_find(parent, u)] >= 3:
                    defs[n_seed] = u
                    n_seed += 1
            _grow_margin(indptr, adj_node, adj_edge, eu, ev, defs, n_seed, margin * wmax,
                         parent, size, parity, bnd, head, tail, nxt, rem, rate, full, stamp,
                         odd, touched_e, newfull)
        for u in range(N):
            clu[u] = _find(parent, u)
        # defects grouped by cluster, clusters in order of their first defect
        n_def = 0
        n_cl = 0
        for u in range(N):
            if comp[u] == u and cpar[u] and u != bcomp:
                r = _find(parent, u)
                if chead[r] < 0:
                    croots[n_cl] = r
                    n_cl += 1
                defs[n_def] = u
                cnext[n_def] = -1
                # append to the cluster's list (kept in node order)
                if chead[r] < 0:
                    chead[r] = n_def
                else:
                    cnext[dclus[r]] = n_def
                dclus[r] = n_def
                n_def += 1
        n_corr = 0
        total = np.int64(0)
        failed = st < 0
        members = np.empty(max(n_def, 1), np.int32)
        for ci in range(n_cl):
            r = croots[ci]
            k = 0
            x = chead[r]
            while x >= 0:
                members[k] = defs[x]
                k += 1
                x = cnext[x]
            chead[r] = -1
            has_b = bnd[r] == 1
            region = r if restrict else -1
            if k == 2 and not has_b:
                _, d, n_corr = _search(members[0], 0, False, members[1], indptr, adj_node,
                                       adj_edge, eu, ev, boundary, bcomp, wi, full, comp,
                                       defidx, dist, pred, seen, hk, hv, touched, cand_j,
                                       cand_d, corr, corr_list, n_corr, inlist, clu, region, uni)
            elif k == 1 and has_b:
                _, d, n_corr = _search(members[0], 0, False, bcomp, indptr, adj_node,
                                       adj_edge, eu, ev, boundary, bcomp, wi, full, comp,
                                       defidx, dist, pred, seen, hk, hv, touched, cand_j,
                                       cand_d, corr, corr_list, n_corr, inlist, clu, region, uni)
            else:
                n_corr, d = _match_cluster(members, k, has_b, knn, indptr, adj_node,
                                           adj_edge, eu, ev, boundary, bcomp, wi, full, comp,
                                           defidx, dist, pred, seen, hk, hv, touched, cand_j,
                                           cand_d, corr, corr_list, n_corr, inlist, clu, region, uni)
            if d < 0:
                failed = True
            else:
                total += d
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
        n = _peel(indptr, adj_node, adj_edge, eu, ev, boundary, pre, s, order, pedge, visited,
                  gbuf, corr, corr_list, n_corr)
        if n < 0:
            failed = True
            n = -1 - n
        if failed:
            n_bad += 1
        out_cost[sh] = -1 if failed else total
        _emit(n, corr, corr_list, obs, out_obs, sh, out_corr, write_corr)
    return n_bad
