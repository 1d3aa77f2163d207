"""Plain-Python reference of :func:`fbqc._herald_kernels.uf_boundary_decode_batch`.

Same algorithm (half-edge growth of odd clusters not containing the boundary; peeling
from the boundary first, then from each remaining defect in index order, along a BFS over
erased components, each entered by one grown edge), written with dicts and lists, so
tests can compare outputs exactly.
"""

from __future__ import annotations

import numpy as np


def uf_boundary_reference(n_nodes: int, edges: np.ndarray, boundary: int,
                          edge_obs: np.ndarray, syndrome: np.ndarray, erased: np.ndarray
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Decode one shot; returns (observable flips (M,), correction edge mask (E,))."""
    E = len(edges)
    parent = list(range(n_nodes))
    parity = [int(x) & 1 for x in syndrome]
    bnd = [False] * n_nodes
    if boundary >= 0:
        parity[boundary] = 0
        bnd[boundary] = True
    members = {u: {u} for u in range(n_nodes)}

    def find(x: int) -> int:
        while parent[x] != x:
            x = parent[x]
        return x

    def union(a: int, b: int) -> None:
        ra, rb = find(a), find(b)
        if ra == rb:
            return
        if len(members[ra]) < len(members[rb]):
            ra, rb = rb, ra
        parent[rb] = ra
        members[ra] |= members.pop(rb)
        parity[ra] ^= parity[rb]
        bnd[ra] = bnd[ra] or bnd[rb]

    grown = [2 if erased[e] else 0 for e in range(E)]
    for e in range(E):
        if erased[e]:
            union(int(edges[e][0]), int(edges[e][1]))
    while True:
        roots = [find(u) for u in range(n_nodes)]
        active = {r for r in set(roots) if parity[r] == 1 and not bnd[r]}
        new = []
        grew = False
        for e in range(E):
            if grown[e] >= 2:
                continue
            inc = (roots[edges[e][0]] in active) + (roots[edges[e][1]] in active)
            if inc:
                grew = True
                grown[e] = min(2, grown[e] + inc)
                if grown[e] == 2:
                    new.append(e)
        if not grew:
            break
        for e in new:
            union(int(edges[e][0]), int(edges[e][1]))
    adj: dict[int, list[tuple[int, int]]] = {u: [] for u in range(n_nodes)}
    for side in (0, 1):  # same neighbour order as the kernel's CSR (stable by endpoint)
        for e in range(E):
            u, v = int(edges[e][side]), int(edges[e][1 - side])
            adj[u].append((v, e))
    s = [int(x) & 1 for x in syndrome]
    if boundary >= 0:
        s[boundary] = 0
    visited = [False] * n_nodes
    corr = np.zeros(E, np.uint8)
    roots_order = ([boundary] if boundary >= 0 else []) + list(range(n_nodes))
    for u0 in roots_order:
        if visited[u0] or (u0 != boundary and not s[u0]):
            continue
        visited[u0] = True
        order, pedge = [u0], {u0: -1}

        def span_erased(m, order=order, pedge=pedge):
            # BFS over erased edges from order[m:], appending what it reaches
            while m < len(order):
                u = order[m]
                m += 1
                for v, e in adj[u]:
                    if erased[e] and not visited[v]:
                        visited[v] = True
                        pedge[v] = e
                        order.append(v)

        # a BFS over erased components, each entered by one grown edge
        span_erased(0)
        k = 0
        while k < len(order):
            u = order[k]
            k += 1
            for v, e in adj[u]:
                if grown[e] >= 2 and not erased[e] and not visited[v]:
                    visited[v] = True
                    pedge[v] = e
                    order.append(v)
                    span_erased(len(order) - 1)
        for u in reversed(order[1:]):
            if s[u]:
                e = pedge[u]
                s[u] = 0
                v = int(edges[e][0]) if int(edges[e][1]) == u else int(edges[e][1])
                s[v] ^= 1
                corr[e] ^= 1
        if u0 == boundary:
            s[u0] = 0
    obs = (corr.astype(np.int64) @ edge_obs.astype(np.int64)) % 2
    return obs.astype(np.uint8), corr
