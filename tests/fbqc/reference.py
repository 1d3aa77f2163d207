"""Plain-Python/networkx references for the Numba kernels of :mod:`fbqc._kernels`.

* :func:`uf_decode` -- the union-find kernel: continuous weighted growth of odd clusters
  (all boundary edges of odd clusters grow at one speed per odd side until the next
  saturates; a cluster holding the boundary node is never odd), then peeling of a
  spanning forest grown from the boundary first and then from each defect, as a BFS over
  the pre-grown (erased or weight-0) components, each entered by one grown edge (nodes
  and edges in index order, as the kernel does), so the corrections must agree exactly.
* :func:`min_weight_perfect_matching` -- brute force over all perfect matchings.
* :func:`local_matching_cost` -- the matching the ``local-mwpm`` kernel must find: its
  candidate rule and an exact optimum among the candidates, by brute force.
* :func:`winding_span` -- the span of erased-cycle windings.
"""

from __future__ import annotations

from functools import cache

import networkx as nx
import numpy as np

WEIGHT_SCALE = 1 << 20  # as fbqc._kernels.WEIGHT_SCALE


def uf_decode(edges: np.ndarray, n_nodes: int, weights: np.ndarray, syndrome: np.ndarray,
              erased: np.ndarray, boundary: int = -1) -> np.ndarray:
    """Union-find decoding of one shot; returns the correction (uint8 per edge)."""
    E = len(edges)
    syndrome = np.asarray(syndrome, np.uint8) & 1
    if boundary >= 0:
        syndrome = syndrome.copy()
        syndrome[boundary] = 0
    full = np.array([bool(erased[e]) or weights[e] <= 0 for e in range(E)])
    pre = full.copy()
    rem = np.where(full, 0.0, np.asarray(weights, float))

    def clusters():
        g = nx.Graph()
        g.add_nodes_from(range(n_nodes))
        g.add_edges_from(edges[e] for e in range(E) if full[e])
        comp = {}
        for i, c in enumerate(nx.connected_components(g)):
            for u in c:
                comp[u] = i
        par, has_b = {}, {}
        for u in range(n_nodes):
            par[comp[u]] = par.get(comp[u], 0) ^ int(syndrome[u])
            has_b[comp[u]] = has_b.get(comp[u], False) or u == boundary
        odd = {c: bool(p) and not has_b[c] for c, p in par.items()}
        return comp, odd

    while True:
        comp, odd = clusters()
        rate = {}
        for e in range(E):
            if full[e]:
                continue
            a, b = comp[edges[e][0]], comp[edges[e][1]]
            if a == b:
                continue
            r = odd[a] + odd[b]
            if r:
                rate[e] = r
        if not any(odd.values()):
            break
        if not rate:
            raise ValueError("odd cluster cannot grow")
        delta = min(rem[e] / r for e, r in rate.items())
        if not np.isfinite(delta):
            raise ValueError("odd cluster cannot grow")
        for e, r in rate.items():
            rem[e] -= delta * r
            if rem[e] <= 1e-9 * weights[e] and np.isfinite(rem[e]):
                full[e] = True
    return _peel(edges, n_nodes, syndrome, full, pre, boundary)


def _adjacency(edges: np.ndarray, n_nodes: int) -> list[list[tuple[int, int]]]:
    adj: list[list[tuple[int, int]]] = [[] for _ in range(n_nodes)]
    for side in (0, 1):  # CSR order of the graph: edges with u first, then with u second
        for e in range(len(edges)):
            adj[int(edges[e][side])].append((e, int(edges[e][1 - side])))
    return adj


def _peel(edges, n_nodes, syndrome, full, pre, boundary) -> np.ndarray:
    """Peel ``syndrome`` over the ``full`` edges (``pre``: the pre-grown ones)."""
    adj = _adjacency(edges, n_nodes)
    s = np.array(syndrome, np.uint8).copy()
    visited = np.zeros(n_nodes, bool)
    corr = np.zeros(len(edges), np.uint8)
    roots = ([boundary] if boundary >= 0 else []) + list(range(n_nodes))
    for u0 in roots:
        if visited[u0] or (u0 != boundary and not s[u0]):
            continue
        # a BFS over pre-grown components: each is entered by one grown edge, then
        # spanned by its pre-grown edges (fewest grown edges in the tree)
        visited[u0] = True
        order, pedge = [u0], {u0: -1}

        def span_pregrown(m, order=order, pedge=pedge):
            while m < len(order):
                u = order[m]
                m += 1
                for e, v in adj[u]:
                    if full[e] and pre[e] and not visited[v]:
                        visited[v] = True
                        pedge[v] = e
                        order.append(v)

        span_pregrown(0)
        k = 0
        while k < len(order):
            u = order[k]
            k += 1
            for e, v in adj[u]:
                if full[e] and not pre[e] and not visited[v]:
                    visited[v] = True
                    pedge[v] = e
                    order.append(v)
                    span_pregrown(len(order) - 1)
        for u in reversed(order[1:]):
            if s[u]:
                e = pedge[u]
                v = edges[e][0] if edges[e][1] == u else edges[e][1]
                s[u] = 0
                s[v] ^= 1
                corr[e] ^= 1
        if u0 == boundary:
            s[u0] = 0
    return corr


def min_weight_perfect_matching(n: int, pairs: dict[tuple[int, int], int]) -> int | None:
    """The least total weight of a perfect matching of ``0..n-1`` using ``pairs``
    (``{(i, j): weight}``, i < j), or ``None`` if there is none (brute force)."""

    @cache
    def best(mask: int) -> int | None:
        if mask == 0:
            return 0
        i = (mask & -mask).bit_length() - 1
        out = None
        for j in range(i + 1, n):
            if mask >> j & 1 and (i, j) in pairs:
                rest = best(mask & ~(1 << i) & ~(1 << j))
                if rest is not None and (out is None or pairs[(i, j)] + rest < out):
                    out = pairs[(i, j)] + rest
        return out

    return best((1 << n) - 1)


def int_lengths(weights: np.ndarray) -> np.ndarray:
    """Integer edge lengths as the kernel's ``int_weights`` (``-1``: infinite)."""
    w = np.asarray(weights, float)
    fin = np.isfinite(w)
    wmax = w[fin].max() if fin.any() and w[fin].max() > 0 else 0.0
    scale = WEIGHT_SCALE / wmax if wmax > 0 else 1.0
    out = np.full(w.shape, -1, np.int64)
    out[fin] = np.rint(np.maximum(w[fin], 0.0) * scale).astype(np.int64)
    return out


def local_matching_cost(edges: np.ndarray, n_nodes: int, weights: np.ndarray,
                        syndrome: np.ndarray, erased: np.ndarray, knn: int, reach: int,
                        boundary: int = -1, exact: bool = False) -> int | None:
    """Total length of the matching ``local-mwpm`` must find (``None``: none exists).

    Pre-grown edges (erased, or length 0) are contracted; an odd component is a defect;
    each defect's candidates are the defects up to ``max(d_knn, d_1 + reach * scale)``
    (``d_k``: its k-th nearest distance); the matching is the cheapest perfect matching
    among the candidates (``knn`` doubled until one exists), each defect free to match
    the boundary at its distance to the boundary's component.  ``exact``: instead the
    minimum-weight perfect matching of all defects (networkx's blossom; no boundary).
    """
    wi = int_lengths(weights)
    E = len(edges)
    pre = [bool(erased[e]) or wi[e] == 0 for e in range(E)]
    g0 = nx.Graph()
    g0.add_nodes_from(range(n_nodes))
    g0.add_edges_from(edges[e] for e in range(E) if pre[e])
    comp = {}
    for c in nx.connected_components(g0):
        r = min(c)
        for u in c:
            comp[u] = r
    par: dict[int, int] = {}
    for u in range(n_nodes):
        if syndrome[u] and u != boundary:
            par[comp[u]] = par.get(comp[u], 0) ^ 1
    bcomp = comp[boundary] if boundary >= 0 else None
    defs = sorted(c for c, p in par.items() if p and c != bcomp)
    n = len(defs)
    if n == 0:
        return 0
    # the contracted graph; a path between defects never enters the boundary's component
    g = nx.MultiGraph()
    g.add_nodes_from(set(comp.values()))
    for e in range(E):
        a, b = comp[int(edges[e][0])], comp[int(edges[e][1])]
        if not pre[e] and wi[e] >= 0 and a != b:
            g.add_edge(a, b, weight=int(wi[e]))
    inner = g.copy()
    if bcomp is not None:
        inner.remove_node(bcomp)
    dd = {a: nx.single_source_dijkstra_path_length(inner, a, weight="weight") for a in defs}
    if bcomp is not None:
        to_b = nx.single_source_dijkstra_path_length(g, bcomp, weight="weight")
        db = [to_b.get(a) for a in defs]
    if exact:
        k = nx.Graph()
        k.add_weighted_edges_from((a, b, dd[a][b]) for a in defs for b in defs
                                  if a < b and b in dd[a])
        m = nx.min_weight_matching(k)
        assert 2 * len(m) == n
        return sum(dd[a][b] for a, b in m)
    want = min(knn, n - 1)
    while True:
        pairs: dict[tuple[int, int], int] = {}
        for i, a in enumerate(defs):
            others = sorted(dd[a][b] for b in defs if b != a and b in dd[a])
            if not others or want == 0:
                continue
            d_k = others[min(want, len(others)) - 1]
            limit = max(d_k, others[0] + reach * WEIGHT_SCALE)
            for j, b in enumerate(defs):
                if b != a and b in dd[a] and dd[a][b] <= limit:
                    pairs[(min(i, j), max(i, j))] = dd[a][b]
        if bcomp is not None:  # twins: i + n is defect i's copy at the boundary
            full_pairs = dict(pairs)
            for (i, j) in pairs:
                full_pairs[(i + n, j + n)] = 0
            for i in range(n):
                if db[i] is not None:
                    full_pairs[(i, i + n)] = db[i]
            cost = min_weight_perfect_matching(2 * n, full_pairs)
        else:
            cost = min_weight_perfect_matching(n, pairs)
        if cost is not None or want >= n - 1:
            return cost
        want = min(2 * want, n - 1)


def winding_span(edges: np.ndarray, n_nodes: int, crossing: np.ndarray,
                 erased: np.ndarray) -> set[int]:
    """The set of winding vectors (bit d: odd crossing of membrane d) of erased cycles."""
    g = nx.MultiGraph()
    g.add_nodes_from(range(n_nodes))
    wvec = [int(sum(int(c) << d for d, c in enumerate(row))) for row in crossing]
    for e in np.flatnonzero(erased):
        g.add_edge(int(edges[e][0]), int(edges[e][1]), key=int(e))
    pot = {}
    span = {0}
    for comp in nx.connected_components(g):
        root = min(comp)
        pot[root] = 0
        tree = set()
        queue = [root]
        seen = {root}
        while queue:
            u = queue.pop()
            for _, v, key in g.edges(u, keys=True):
                if v not in seen:
                    seen.add(v)
                    pot[v] = pot[u] ^ wvec[key]
                    tree.add(key)
                    queue.append(v)
        for u, v, key in g.subgraph(comp).edges(keys=True):
            if key in tree:
                continue
            c = pot[u] ^ pot[v] ^ wvec[key]
            span |= {x ^ c for x in span}
    return span


def straight_loop(g, step=(1, 0, 0)) -> np.ndarray:
    """Edge mask of a straight loop from node 0 in direction ``step`` (wraps once)."""
    loop = np.zeros(g.n_edges, bool)
    u = 0
    for _ in range(g.L):
        e = next(e for e in g.node_edges[u]
                 if (g.edges[e, 0] == u and g.edge_shift[e].tolist() == list(step))
                 or (g.edges[e, 1] == u and (-g.edge_shift[e]).tolist() == list(step)))
        loop[e] = True
        u = g.edges[e, 1] if g.edges[e, 0] == u else g.edges[e, 0]
    assert u == 0
    return loop
