"""Plain-Python/networkx references for the Numba kernels of :mod:`fbqc._kernels`.

Same semantics, written for clarity: continuous weighted growth of odd clusters (all
boundary edges of odd clusters grow at one speed per odd side until the next saturates),
then peeling of a spanning forest grown from each defect as a BFS over the pre-grown
(erased or weight-0) components, each entered by one grown edge (nodes and edges in index
order, as the kernel does), so the corrections must agree exactly.
"""

from __future__ import annotations

import networkx as nx
import numpy as np


def uf_decode(edges: np.ndarray, n_nodes: int, weights: np.ndarray, syndrome: np.ndarray,
              erased: np.ndarray) -> np.ndarray:
    """Union-find decoding of one shot; returns the correction (uint8 per edge)."""
    E = len(edges)
    full = np.array([bool(erased[e]) or weights[e] <= 0 for e in range(E)])
    rem = np.where(full, 0.0, np.asarray(weights, float))

    def clusters():
        g = nx.Graph()
        g.add_nodes_from(range(n_nodes))
        g.add_edges_from(edges[e] for e in range(E) if full[e])
        comp = {}
        for i, c in enumerate(nx.connected_components(g)):
            for u in c:
                comp[u] = i
        par = {}
        for u in range(n_nodes):
            par[comp[u]] = par.get(comp[u], 0) ^ int(syndrome[u])
        return comp, par

    while True:
        comp, par = clusters()
        rate = {}
        for e in range(E):
            if full[e]:
                continue
            a, b = comp[edges[e][0]], comp[edges[e][1]]
            if a == b:
                continue
            r = par[a] + par[b]
            if r:
                rate[e] = r
        if not any(par.values()):
            break
        if not rate:
            raise ValueError("odd cluster cannot grow")
        delta = min(rem[e] / r for e, r in rate.items())
        for e, r in rate.items():
            rem[e] -= delta * r
            if rem[e] <= 1e-9 * weights[e] and np.isfinite(rem[e]):
                full[e] = True
    adj = [[] for _ in range(n_nodes)]
    for side in (0, 1):  # CSR order of the graph: edges with u first, then with u second
        for e in range(E):
            adj[edges[e][side]].append((e, edges[e][1 - side]))
    s = np.array(syndrome, np.uint8).copy()
    visited = np.zeros(n_nodes, bool)
    corr = np.zeros(E, np.uint8)
    pre = [bool(erased[e]) or not weights[e] > 0 for e in range(E)]

    def span_pregrown(order, m):
        # BFS over full pre-grown edges from order[m:], appending what it reaches
        while m < len(order):
            u = order[m]
            m += 1
            for e, v in adj[u]:
                if full[e] and pre[e] and not visited[v]:
                    visited[v] = True
                    pedge[v] = e
                    order.append(v)

    for u0 in range(n_nodes):
        if not s[u0] or visited[u0]:
            continue
        # a BFS over pre-grown components: each is entered by one grown edge, then
        # spanned by its pre-grown edges (fewest grown edges in the tree)
        visited[u0] = True
        order, pedge = [u0], {u0: -1}
        span_pregrown(order, 0)
        k = 0
        while k < len(order):
            u = order[k]
            k += 1
            for e, v in adj[u]:
                if full[e] and not pre[e] and not visited[v]:
                    visited[v] = True
                    pedge[v] = e
                    order.append(v)
                    span_pregrown(order, len(order) - 1)
        for u in reversed(order[1:]):
            if s[u]:
                e = pedge[u]
                v = edges[e][0] if edges[e][1] == u else edges[e][1]
                s[u] = 0
                s[v] ^= 1
                corr[e] ^= 1
    return corr


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
        # BFS assigning potentials
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
