"""Lay a derived unit cell (:mod:`fbqc.description`) out on a periodic ``L³`` lattice.

:func:`build_periodic` fills a :class:`fbqc.network.FusionNetwork` with the same arrays a
hand-built network has (module docstring of :mod:`fbqc.network`), so every consumer
works unchanged.  Indexing: cell ``c = (x·L + y)·L + z``; qubit ``c·nq + q``; state
``c·n_instances + i``; fusion ``c·nf + j`` (outcomes ``2f``, ``2f + 1``); check
``c·n_types + t`` within its group.  Open blocks are :mod:`fbqc.boundary`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .description import CheckType, FusionDescription, UnitCell, _Lattice, _type_span, derive

__all__ = ["build_periodic", "membrane_anti", "stabilizer_generators", "state_edges"]


def _layout(net: Any, cell: UnitCell, lat: _Lattice) -> None:
    """Qubits, states, fusions and outcomes of every cell of ``lat``."""
    desc = cell.desc
    coords = lat.coords
    n = lat.n_cells
    nq, nf = cell.nq, cell.nf
    ni = len(desc.instances)
    net.description = desc
    net.unit_cell = cell
    net.n_cells = n
    net.cell_coords = coords.astype(np.int64)
    net.n_qubits = n * nq
    net.qubit_coords = (coords[:, None, :] + cell.q_pos[None]).reshape(-1, 3)
    net.qubit_state = (np.arange(n)[:, None] * ni + cell.q_inst[None]).reshape(-1).astype(np.int32)
    sizes = np.array([i.state.n for i in desc.instances])
    net.n_states = n * ni
    sq = -np.ones((n, ni, int(sizes.max())), np.int64)
    for i in range(ni):
        sq[:, i, :sizes[i]] = np.arange(n)[:, None] * nq + cell.inst_start[i] + np.arange(sizes[i])
    net.state_qubits = sq.reshape(n * ni, -1).astype(np.int32)
    net.state_sizes = np.tile(sizes, n).astype(np.int32)
    qa = lat.cid(coords[:, None, :] + cell.f_oa[None]) * nq + cell.f_qa[None]
    qb = lat.cid(coords[:, None, :] + cell.f_ob[None]) * nq + cell.f_qb[None]
    net.n_fusions = n * nf
    net.fusion_qubits = np.stack([qa.reshape(-1), qb.reshape(-1)], 1).astype(np.int32)
    net.fusion_coords = np.mod(coords[:, None, :] + cell.f_pos[None], lat.L).reshape(-1, 3)
    net.n_outcomes = 2 * net.n_fusions
    net.outcome_fusion = np.repeat(np.arange(net.n_fusions, dtype=np.int32), 2)
    net.outcome_basis = np.tile(np.array([0, 1], np.int8), net.n_fusions)
    net.outcome_paulis = cell.f_paulis.reshape(-1)[
        2 * (net.outcome_fusion % nf) + net.outcome_basis].astype(str)
    uniq = {tuple(p) for p in cell.f_paulis.tolist()}
    net.basis_names = next(iter(uniq)) if len(uniq) == 1 else None
    net.outcome_coords = net.fusion_coords[net.outcome_fusion]
    net._per_cell = {"states": ni, "qubits": nq, "fusions": nf}


def _anti_entries(cell: UnitCell) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """CSR over local outcomes of (cell offset, local generator) anticommuting entries."""
    ptr = [0]
    offs, gens = [], []
    for lo in range(2 * cell.nf):
        j = lo // 2
        for side, off in ((0, cell.f_oa[j]), (1, cell.f_ob[j])):
            g = cell._anti[lo][side]
            offs += [off] * g.size
            gens += g.tolist()
        ptr.append(len(gens))
    return (np.array(ptr), np.array(offs, np.int64).reshape(-1, 3), np.array(gens, np.int64),
            np.diff(ptr))


def membrane_anti(net: Any, outcomes: np.ndarray) -> np.ndarray:
    """Generators (global indices) that anticommute with the product of ``outcomes``.

    Empty exactly when the product is a stabilizer of the resource states (a
    deterministic check).
    """
    cell = net.unit_cell
    lat = _Lattice(cell, net.L) if getattr(net, "_lattice", None) is None else net._lattice
    ptr, offs, gens, cnt = _anti_entries(cell)
    nfo = 2 * cell.nf
    outcomes = np.asarray(outcomes, np.int64)
    c, lo = np.divmod(outcomes, nfo)
    k = cnt[lo]
    rep_c = np.repeat(c, k)
    idx = np.concatenate([np.arange(ptr[v], ptr[v + 1]) for v in lo]) if lo.size else \
        np.zeros(0, np.int64)
    g = lat.cid(lat.coords[rep_c] + offs[idx]) * cell.ng + gens[idx]
    par = np.bincount(g, minlength=lat.n_cells * cell.ng) & 1
    return np.flatnonzero(par)


def _group_nodes(cell: UnitCell, g: int) -> list[CheckType]:
    return cell.group_types(g)


def build_periodic(net: Any, desc: FusionDescription, L: int) -> None:
    """Fill ``net`` with the periodic ``L³`` network of ``desc``."""
    cell = derive(desc)
    span = _type_span(cell.types)
    need = max(3, 2 * span + 1 if any(cell.hypergraph) else 2 * (span - 1) + 1)
    if L < need:
        raise ValueError(f"L must be >= {need} for network {desc.name!r} (its checks span "
                         f"{span} cells)")
    lat = _Lattice(cell, L)
    net._lattice = lat
    net.kind = desc.name
    net.L = L
    net.T = L
    net.boundary = "periodic"
    _layout(net, cell, lat)
    nfo = 2 * cell.nf
    coords = lat.coords
    n = lat.n_cells
    checks, check_coords, node_cells = [], [], []
    occ: list[list[list[tuple[int, np.ndarray]]]] = []  # [g][lo] -> [(type idx, offset)]
    for g in range(cell.n_groups):
        types = cell.group_types(g)
        nt = len(types)
        maxw = max(t.weight for t in types)
        ch = -np.ones((n, nt, maxw), np.int64)
        cc = np.zeros((n, nt, 3))
        o_g: list[list[tuple[int, np.ndarray]]] = [[] for _ in range(nfo)]
        for ti, t in enumerate(types):
            ch[:, ti, :t.weight] = (lat.cid(coords[:, None, :] + t.offsets[None]) * nfo
                                    + t.outcomes[None])
            cc[:, ti] = coords + t.centroid
            for off, lo in zip(t.offsets, t.outcomes.tolist()):
                o_g[lo].append((ti, off))
        checks.append(ch.reshape(n * nt, maxw).astype(np.int32))
        check_coords.append(cc.reshape(n * nt, 3))
        node_cells.append(np.repeat(coords, nt, axis=0))
        occ.append(o_g)
    net.checks = tuple(checks)
    net.check_coords = tuple(check_coords)
    net.hypergraph = tuple(cell.hypergraph) + (False,) * (2 - cell.n_groups)
    net.outcome_graph = np.repeat(cell.outcome_group[None], n, 0).reshape(-1).astype(np.int8)
    net.outcome_checks = np.full((net.n_outcomes, 2), -1, np.int32)
    net.outcome_edge = np.full(net.n_outcomes, -1, np.int32)
    mem = np.zeros((6, net.n_outcomes), bool)
    graphs = []
    hyper_msg = ""
    for g in range(cell.n_groups):
        name = "primal" if g == 0 else "dual"
        nt = len(cell.group_types(g))
        if cell.hypergraph[g]:
            lo = int(np.argmax(cell.multiplicity[:, g]))
            hyper_msg = hyper_msg or (
                f"network {desc.name!r}: outcome {cell.outcome_name(lo)} lies in "
                f"{int(cell.multiplicity[lo, g])} checks of the {name} group, so its syndrome "
                "is a hypergraph, not a graph; graph decoders (uf, mwpm, erasure-ml and the "
                "herald-aware stim decoders) do not apply — sample its stim circuit "
                "(fbqc.stim_circuit) with a hypergraph decoder instead")
            mem[3 * g:3 * g + 3] = _halfspace_membranes(net, lat, cell, g, occ[g])
            continue
        us, vs, sh, outs = [], [], [], []
        for lo in range(nfo):
            oc = occ[g][lo]
            if not oc:
                continue
            (t1, o1), (t2, o2) = oc
            us.append(lat.cid(coords - o1) * nt + t1)
            vs.append(lat.cid(coords - o2) * nt + t2)
            sh.append(np.repeat((o1 - o2)[None], n, 0))
            outs.append(np.arange(n) * nfo + lo)
        u = np.concatenate(us)
        v = np.concatenate(vs)
        shift = np.concatenate(sh)
        out = np.concatenate(outs)
        lo_pair = np.minimum(u, v).astype(np.int64) * (n * nt) + np.maximum(u, v)
        uniq, inv, cnt = np.unique(lo_pair, return_inverse=True, return_counts=True)
        if cnt.min() == cnt.max() and cnt.max() > 1:
            order = np.argsort(inv, kind="stable")
            bundles = out[order].reshape(-1, int(cnt[0]))
            first = order.reshape(-1, int(cnt[0]))[:, 0]
            e_u, e_v, e_sh = u[first], v[first], shift[first]
        else:
            bundles = out[:, None]
            e_u, e_v, e_sh = u, v, shift
        sg = _make_graph(name, L, e_u, e_v, bundles, e_sh, check_coords[g], node_cells[g])
        graphs.append(sg)
        net.outcome_edge[bundles.reshape(-1)] = np.repeat(
            np.arange(bundles.shape[0], dtype=np.int32), bundles.shape[1])
        ends = np.stack([e_u, e_v], 1)
        net.outcome_checks[bundles.reshape(-1)] = np.repeat(ends, bundles.shape[1], axis=0)
        for d in range(3):
            mem[3 * g + d, bundles[sg.crossing[:, d]].reshape(-1)] = True
    net.membranes = mem
    net._hyper_msg = hyper_msg
    net._graphs = None if hyper_msg else tuple(graphs)
    for m in range(6):
        if mem[m].any():
            bad = membrane_anti(net, np.flatnonzero(mem[m]))
            if bad.size:  # a derivation bug, not a user error
                raise RuntimeError(f"{desc.name}: membrane {m} is not a stabilizer")


def _make_graph(name: str, L: int, u: np.ndarray, v: np.ndarray, bundles: np.ndarray,
                shift: np.ndarray, node_coords: np.ndarray, node_cells: np.ndarray,
                **kw: Any) -> Any:
    from .network import SyndromeGraph

    return SyndromeGraph(name=name, L=L, edges=np.stack([u, v], 1).astype(np.int32),
                         edge_outcomes=bundles.astype(np.int32),
                         edge_shift=np.asarray(shift).astype(np.int8),
                         node_coords=node_coords, node_cells=node_cells, **kw)


def _halfspace_membranes(net: Any, lat: _Lattice, cell: UnitCell, g: int, occ: list
                         ) -> np.ndarray:
    """Membranes of a hypergraph group: outcomes in an odd number of the group's checks
    anchored in ``d ∈ [0, L/2)``, taken near the plane ``d = 0``."""
    L = lat.L
    nfo = 2 * cell.nf
    out = np.zeros((3, net.n_outcomes), bool)
    coords = lat.coords
    for d in range(3):
        cnt = np.zeros(net.n_outcomes, np.int64)
        for lo in range(nfo):
            for _ti, off in occ[lo]:
                anc = np.mod(coords[:, d] - off[d], L)
                cnt[np.arange(lat.n_cells) * nfo + lo] += anc < L // 2
        odd = (cnt & 1).astype(bool)
        x = coords[np.arange(net.n_outcomes) // nfo, d]
        near0 = np.minimum(x, L - x) < np.abs(x - L // 2)
        out[d] = odd & near0
    return out


def state_edges(net: Any) -> np.ndarray:
    """Entangling-graph edges (qubit pairs) of a derived network's graph states."""
    desc = net.description
    rows = []
    ni = len(desc.instances)
    for i, inst in enumerate(desc.instances):
        if inst.state.edges is None:
            raise ValueError(f"instance {inst.name!r} ({inst.state.name}) is given by its "
                             "stabilizers, not a graph")
        e = np.array(inst.state.edges, np.int64).reshape(-1, 2)
        sq = net.state_qubits[np.arange(net.n_states // ni) * ni + i]
        rows.append(sq[:, e].reshape(-1, 2))
    return np.concatenate(rows).astype(np.int32)


def stabilizer_generators(net: Any) -> tuple[np.ndarray, np.ndarray]:
    """Dense ``(x, z)`` ``(n_qubits, n_qubits)`` of a derived network (small sizes)."""
    cell = net.unit_cell
    nq = cell.nq
    n = net.n_qubits
    x = np.zeros((n, n), bool)
    z = np.zeros((n, n), bool)
    cells = getattr(net, "_state_cells", None)
    ids = np.arange(net.n_cells) if cells is None else cells
    for k in range(len(ids)):
        s = slice(k * nq, (k + 1) * nq)
        x[s, s] = cell.g_x
        z[s, s] = cell.g_z
    return x, z


def build_open(net: Any, desc: FusionDescription, L: int, T: int) -> None:
    from .boundary import build_block

    build_block(net, desc, L, T)
