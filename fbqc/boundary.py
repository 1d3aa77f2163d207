"""Open boundaries: a finite ``L × L × T`` block of a fusion network, a surface-code memory.

The block holds the cells ``[0, L) × [0, L) × [0, T)`` (``z`` is time).  Its two
``x``-faces are **rough** for the primal graph (primal error chains may end there) and
**smooth** for the dual; the ``y``- and ``z``-faces are smooth for the primal and rough
for the dual.  The primal logical membrane is the plane ``x = 0``: it starts and ends on
the smooth faces, and a primal error chain joining the two rough faces flips it — the
FBQC analogue of a rotated-surface-code memory experiment.

Construction (any description whose primal group is a graph; the same code builds the
hand-built networks' blocks from their descriptions):

1. **Resource states**: those anchored in the block.
2. **Fusions**: every fusion whose two qubits are in the block.  A qubit whose partner
   lies outside is measured alone (a noiseless single-qubit measurement, part of
   preparing the boundary) in the restriction to that qubit of the outcome of the group
   that is *smooth* at the face the partner lies beyond: the dual's outcome beyond an
   ``x``-face, the primal's beyond a ``y``- or ``z``-face (``x`` first at an edge of the
   block).  These *records* enter checks and the membrane but carry no noise.
3. **Checks**: every translate of every check type, restricted to the block, that is
   still measured: each factor an outcome of a complete fusion or exactly a record.  A
   check whose factor on a dangling qubit is the *other* group's Pauli is lost; the
   outcomes it held become edges to the boundary, which makes the face rough for that
   group.
4. **Graphs**: primal checks are nodes; an outcome in two primal checks is an edge, an
   outcome in one primal check an edge to a single virtual boundary node (its detection
   event is the parity of all others, so decoders without boundary support pair defects
   with it as with any node).  Primal boundary edges must all lie at the ``x``-faces.
5. **Membrane**: the primal boundary edges at ``x = 0`` together with the records that
   make their product a stabilizer (solved over GF(2)), so it is deterministic.

:func:`verify_block` checks the result exactly on small blocks: the derived checks and the
membrane span the whole group of deterministic products of outcomes and records (dense
GF(2) on the block), the membrane is not a product of checks, and stim finds every
detector and the observable deterministic.

Examples
--------
>>> from fbqc.network import FusionNetwork
>>> net = FusionNetwork("6ring", 4, boundary="open")
>>> net.L, net.T, net.boundary, len(net.graphs)
(4, 4, 'open', 1)
>>> g = net.primal
>>> g.boundary == g.n_nodes - 1, int(g.crossing[:, 0].sum()) > 0
(True, True)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .description import FusionDescription, UnitCell, _type_span, derive
from .gf2 import nullspace, rank, solve

__all__ = ["build_block", "verify_block"]


class _Region:
    """Cells ``[-m, L+m) × [-m, L+m) × [-m, T+m)`` with a linear index."""

    def __init__(self, L: int, T: int, m: int):
        self.L, self.T, self.m = L, T, m
        self.shape = np.array([L + 2 * m, L + 2 * m, T + 2 * m])
        n = int(np.prod(self.shape))
        self.coords = np.stack(np.unravel_index(np.arange(n), tuple(self.shape)), 1) - m
        self.n = n

    def inside(self, a: np.ndarray) -> np.ndarray:
        b = a + self.m
        return np.all((b >= 0) & (b < self.shape), axis=-1)

    def rid(self, a: np.ndarray) -> np.ndarray:
        b = a + self.m
        return (b[..., 0] * self.shape[1] + b[..., 1]) * self.shape[2] + b[..., 2]

    def in_block(self, a: np.ndarray) -> np.ndarray:
        return ((a[..., 0] >= 0) & (a[..., 0] < self.L) & (a[..., 1] >= 0)
                & (a[..., 1] < self.L) & (a[..., 2] >= 0) & (a[..., 2] < self.T))

    def beyond(self, a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(beyond an x-face, beyond a y- or z-face) masks."""
        bx = (a[..., 0] < 0) | (a[..., 0] >= self.L)
        byz = ((a[..., 1] < 0) | (a[..., 1] >= self.L) | (a[..., 2] < 0)
               | (a[..., 2] >= self.T))
        return bx, byz


def build_block(net: Any, desc: FusionDescription, L: int, T: int) -> None:
    """Fill ``net`` with the open ``L × L × T`` block of ``desc`` (module docstring)."""
    cell = derive(desc)
    if cell.n_groups != 2:
        raise ValueError(f"network {desc.name!r}: an open block needs a primal and a dual group")
    if cell.hypergraph[0]:
        raise ValueError(f"network {desc.name!r}: its primal checks form a hypergraph; an open "
                         "block is built for graph networks only")
    span = _type_span(cell.types)
    m = span + cell.reach + 2
    R = _Region(L, T, m)
    ni = len(desc.instances)
    nq, nf = cell.nq, cell.nf
    inst_of_q = cell.q_inst
    # ---------------------------------------------------------------- 1. states
    incl = np.zeros(R.n * ni, bool)
    blk = R.in_block(R.coords)
    incl.reshape(R.n, ni)[blk] = True
    sids = np.flatnonzero(incl)  # included states, in region order
    s_cell = R.coords[sids // ni]
    s_inst = sids % ni
    sizes = np.array([i.state.n for i in desc.instances])
    s_size = sizes[s_inst]
    q_base = np.concatenate([[0], np.cumsum(s_size)])
    n_qubits = int(q_base[-1])
    sid_index = -np.ones(R.n * ni, np.int64)
    sid_index[sids] = np.arange(sids.size)

    def qid(cells: np.ndarray, lq: np.ndarray) -> np.ndarray:
        """Block qubit id of local qubit ``lq`` of the cell ``cells`` (-1 if excluded)."""
        ok = R.inside(cells)
        out = -np.ones(len(cells), np.int64)
        st = R.rid(cells[ok]) * ni + inst_of_q[lq[ok] if np.ndim(lq) else lq]
        k = sid_index[st]
        lqo = lq[ok] if np.ndim(lq) else np.full(ok.sum(), lq)
        good = k >= 0
        val = -np.ones(ok.sum(), np.int64)
        val[good] = q_base[k[good]] + cell.q_idx[lqo[good]]
        out[ok] = val
        return out

    # ---------------------------------------------------------------- 2. fusions, records
    fa = np.repeat(np.arange(R.n), nf)
    fj = np.tile(np.arange(nf), R.n)
    fc = R.coords[fa]
    qa = qid(fc + cell.f_oa[fj], cell.f_qa[fj])
    qb = qid(fc + cell.f_ob[fj], cell.f_qb[fj])
    complete = (qa >= 0) & (qb >= 0)
    dangling = (qa >= 0) ^ (qb >= 0)
    fus = np.flatnonzero(complete)  # region fusion ids (rid * nf + j) kept
    fus_index = -np.ones(R.n * nf, np.int64)
    fus_index[fus] = np.arange(fus.size)
    # records: the dangling qubits
    dfus = np.flatnonzero(dangling)
    d_side = np.where(qa[dfus] >= 0, 0, 1)
    d_q = np.where(d_side == 0, qa[dfus], qb[dfus])
    d_j = fj[dfus]
    partner_cell = fc[dfus] + np.where(d_side[:, None] == 0, cell.f_ob[d_j], cell.f_oa[d_j])
    bx, byz = R.beyond(partner_cell)
    # smooth group at that face: dual (1) beyond x, primal (0) beyond y/z
    smooth = np.where(bx, 1, 0)
    grp = cell.outcome_group  # local outcome -> group
    b_meas = np.where(grp[2 * d_j] == smooth, 0, 1)
    if np.any(grp[2 * d_j + b_meas] != smooth):
        raise ValueError(f"network {desc.name!r}: a fusion's two outcomes are in the same "
                         "group; no single-qubit measurement makes a smooth boundary")
    rec_pauli = np.array([cell.f_paulis[j, b][s] for j, b, s in zip(d_j, b_meas, d_side)],
                         dtype="<U1")
    rec_index = -np.ones(R.n * nf, np.int64)
    rec_index[dfus] = np.arange(dfus.size)
    if np.unique(d_q).size != d_q.size:
        raise RuntimeError("a qubit is measured twice")  # construction bug
    # ---------------------------------------------------------------- 3. checks
    checks = _block_checks(cell, R, span, fus_index, rec_index, b_meas)
    # ---------------------------------------------------------------- fill the network
    net.description = desc
    net.unit_cell = cell
    net.kind = desc.name
    net.L, net.T = L, T
    net.boundary = "open"
    net.n_cells = L * L * T
    net.cell_coords = R.coords[R.in_block(R.coords)].astype(np.int64)
    net._per_cell = {"states": ni, "qubits": nq, "fusions": nf}
    net.n_states = int(sids.size)
    sq = -np.ones((sids.size, int(sizes.max())), np.int64)
    for k in range(int(sizes.max())):
        has = s_size > k
        sq[has, k] = q_base[:-1][has] + k
    net.state_qubits = sq.astype(np.int32)
    net.state_sizes = s_size.astype(np.int32)
    net.state_cells = s_cell
    net.state_instance = s_inst
    net.n_qubits = n_qubits
    net.qubit_state = np.repeat(np.arange(sids.size), s_size).astype(np.int32)
    lq = cell.inst_start[s_inst][:, None] + np.arange(int(sizes.max()))[None]
    qpos = np.zeros((n_qubits, 3))
    for k in range(int(sizes.max())):
        has = s_size > k
        qpos[q_base[:-1][has] + k] = s_cell[has] + cell.q_pos[lq[has, k]]
    net.qubit_coords = qpos
    net.n_fusions = int(fus.size)
    net.fusion_qubits = np.stack([qa[fus], qb[fus]], 1).astype(np.int32)
    net.fusion_cells = fc[fus]
    net.fusion_types = fj[fus]
    net.fusion_coords = fc[fus] + cell.f_pos[fj[fus]]
    net.n_outcomes = 2 * net.n_fusions
    net.outcome_fusion = np.repeat(np.arange(net.n_fusions, dtype=np.int32), 2)
    net.outcome_basis = np.tile(np.array([0, 1], np.int8), net.n_fusions)
    net.outcome_paulis = cell.f_paulis.reshape(-1)[
        2 * np.repeat(fj[fus], 2) + net.outcome_basis].astype(str)
    uniqp = {tuple(p) for p in cell.f_paulis.tolist()}
    net.basis_names = next(iter(uniqp)) if len(uniqp) == 1 else None
    net.outcome_coords = net.fusion_coords[net.outcome_fusion]
    net.n_records = int(dfus.size)
    net.record_qubits = d_q.astype(np.int32)
    net.record_paulis = rec_pauli
    net.record_coords = qpos[d_q]
    net.hypergraph = tuple(cell.hypergraph)
    _group_checks(net, checks)
    # ---------------------------------------------------------------- 4. graphs
    graphs = _block_graphs(net, cell, desc)
    net.all_graphs = tuple(graphs)
    net._graphs = (graphs[0],)
    net._hyper_msg = ""
    # ---------------------------------------------------------------- 5. membrane
    mem = np.zeros((6, net.n_outcomes), bool)
    left = graphs[0].edge_outcomes[graphs[0].crossing[:, 0]].reshape(-1)

    if not left.size:
        raise ValueError(f"network {desc.name!r}: the block has no primal boundary edges at x=0")
    mem[0, left] = True
    recs = _membrane_records(net, cell, left)
    if recs is None:
        raise ValueError(f"network {desc.name!r}: no deterministic primal membrane ends on the "
                         "block's smooth faces (the x=0 boundary outcomes are not a stabilizer "
                         "up to boundary records)")
    net.membranes = mem
    mr = np.zeros((6, net.n_records), bool)
    mr[0, recs] = True
    net.membrane_records = mr


def _block_checks(cell: UnitCell, R: _Region, span: int, fus_index: np.ndarray,
                  rec_index: np.ndarray, b_meas: np.ndarray) -> list[tuple]:
    """Every translate of every check type, restricted to the block, that is still
    measured: ``(outcomes, records, group, anchor)``, one per distinct outcome set."""
    L, T, nf = R.L, R.T, cell.nf
    checks = []  # (outcomes, records, group, anchor)
    lo_r = -span - 1
    a_rng = [np.arange(lo_r, L - lo_r), np.arange(lo_r, L - lo_r), np.arange(lo_r, T - lo_r)]
    A = np.stack(np.meshgrid(*a_rng, indexing="ij"), -1).reshape(-1, 3)
    for t in cell.types:
        cells = A[:, None, :] + t.offsets[None]  # (nA, w, 3)
        ok = R.inside(cells)
        rid_f = (R.rid(np.where(ok[..., None], cells, 0)) * nf + (t.outcomes // 2)[None])
        b = np.broadcast_to((t.outcomes % 2)[None], rid_f.shape)
        fi = np.where(ok, fus_index[rid_f], -1)
        ri = np.where(ok, rec_index[rid_f], -1)
        # a factor on a dangling qubit is measured iff its basis is the record's basis
        bad = (ri >= 0) & (b != np.where(ri >= 0, b_meas[np.maximum(ri, 0)], -1))
        keep = ~bad.any(axis=1) & (fi >= 0).any(axis=1)
        for k in np.flatnonzero(keep):
            sel = fi[k] >= 0
            rs = ri[k] >= 0
            checks.append((np.sort(fi[k][sel] * 2 + b[k][sel]), np.sort(ri[k][rs]), t.group,
                           A[k]))
    # dedupe (same outcome set)
    seen: dict[tuple, int] = {}
    uniq = []
    for ch in checks:
        key = (ch[2], tuple(ch[0].tolist()))  # same outcomes: the records agree too
        if key in seen:
            continue
        seen[key] = len(uniq)
        uniq.append(ch)
    return uniq


def _group_checks(net: Any, checks: list[tuple]) -> None:
    """``net.checks`` / ``check_records`` / ``check_coords`` / ``check_cells`` per group
    (rows padded with ``-1``)."""
    groups = []
    for g in (0, 1):
        mine = [c for c in checks if c[2] == g]
        w = max(len(c[0]) for c in mine)
        wr = max([len(c[1]) for c in mine] + [1])
        ch = -np.ones((len(mine), w), np.int32)
        cr = -np.ones((len(mine), wr), np.int32)
        co = np.zeros((len(mine), 3))
        anc = np.zeros((len(mine), 3), np.int64)
        for i, c in enumerate(mine):
            ch[i, :len(c[0])] = c[0]
            cr[i, :len(c[1])] = c[1]
            co[i] = net.outcome_coords[c[0]].mean(axis=0)
            anc[i] = c[3]
        groups.append((ch, cr, co, anc))
    net.checks = tuple(gr[0] for gr in groups)
    net.check_records = tuple(gr[1] for gr in groups)
    net.check_coords = tuple(gr[2] for gr in groups)
    net.check_cells = tuple(gr[3] for gr in groups)


def _block_graphs(net: Any, cell: UnitCell, desc: FusionDescription) -> list:
    """The primal (and, when it is a graph, the dual) syndrome graph of the block, with a
    virtual boundary node for the outcomes in one check."""
    L, T = net.L, net.T
    net.outcome_graph = np.full(net.n_outcomes, -1, np.int8)
    net.outcome_checks = np.full((net.n_outcomes, 2), -1, np.int32)
    net.outcome_edge = np.full(net.n_outcomes, -1, np.int32)
    graphs = []
    for g in (0, 1):
        ch = net.checks[g]
        n_c = ch.shape[0]
        flat = ch.reshape(-1)
        rows = np.repeat(np.arange(n_c), ch.shape[1])
        keep = flat >= 0
        flat, rows = flat[keep], rows[keep]
        cnt = np.bincount(flat, minlength=net.n_outcomes)
        if cnt.max() > 2:
            if g == 0:
                raise ValueError(f"network {desc.name!r}: a primal outcome lies in more than "
                                 "two checks of the block")
            graphs.append(None)
            continue
        order = np.argsort(flat, kind="stable")
        fs, rs = flat[order], rows[order]
        starts = np.flatnonzero(np.r_[True, fs[1:] != fs[:-1]])
        outs = fs[starts]
        first = rs[starts]
        second = np.where(cnt[outs] == 2, rs[np.minimum(starts + 1, fs.size - 1)], n_c)
        net.outcome_graph[outs] = g
        net.outcome_checks[outs, 0] = first
        net.outcome_checks[outs, 1] = np.where(second == n_c, -1, second)
        # boundary side of the one-check outcomes: where the bulk's other check is
        side = np.zeros(outs.size, np.int8)  # 0 internal, -1 toward x=0, +1 toward x=L
        one = np.flatnonzero(cnt[outs] == 1)
        if one.size:
            dx = _missing_dx(cell, net, outs[one], net.check_cells[g][first[one]], g)
            side[one] = np.sign(dx)
            if g == 0 and np.any(dx == 0):
                bad = outs[one][dx == 0][0]
                raise ValueError(
                    f"network {desc.name!r}: the block's primal graph has a boundary edge away "
                    f"from the rough x-faces (outcome {net.outcome_paulis[bad]} at "
                    f"{net.outcome_coords[bad].tolist()}): this boundary construction does not "
                    "give a clean memory for this network")
        node_coords = np.vstack([net.check_coords[g], [[-1.0, L / 2, T / 2]]])
        node_cells = np.vstack([net.check_cells[g], [[-1, 0, 0]]])
        crossing = np.zeros((outs.size, 3), bool)
        if g == 0:
            crossing[:, 0] = side == -1
        shift = node_cells[second] - node_cells[first]
        sg = _graph(f"{'primal' if g == 0 else 'dual'}", L, first, second, outs, shift,
                    node_coords, node_cells, n_c, crossing)
        net.outcome_edge[outs] = np.arange(outs.size, dtype=np.int32)
        graphs.append(sg)
    return graphs


def _missing_dx(cell: UnitCell, net: Any, outs: np.ndarray, anchors: np.ndarray, g: int
                ) -> np.ndarray:
    """x-step from the surviving check of each one-check outcome to the bulk's other check
    containing it (``0`` when that check is not displaced in x)."""
    occ: list[list[np.ndarray]] = [[] for _ in range(2 * cell.nf)]
    for t in cell.group_types(g):
        for off, lo in zip(t.offsets, t.outcomes.tolist()):
            occ[lo].append(off)
    f = outs // 2
    lo = 2 * net.fusion_types[f] + outs % 2
    fcell = net.fusion_cells[f]
    dx = np.zeros(outs.size, np.int64)
    for i in range(outs.size):
        cands = [fcell[i] - off for off in occ[lo[i]]]
        others = [a for a in cands if not np.array_equal(a, anchors[i])]
        if len(others) == 1:
            dx[i] = int(others[0][0] - anchors[i][0])
    return dx


def _graph(name: str, L: int, first: np.ndarray, second: np.ndarray, outs: np.ndarray,
           shift: np.ndarray, node_coords: np.ndarray, node_cells: np.ndarray, boundary: int,
           crossing: np.ndarray) -> Any:
    from .network import SyndromeGraph

    sg = SyndromeGraph(name=name, L=L, edges=np.stack([first, second], 1).astype(np.int32),
                       edge_outcomes=outs[:, None].astype(np.int32),
                       edge_shift=np.clip(shift, -127, 127).astype(np.int8),
                       node_coords=node_coords, node_cells=node_cells, boundary=boundary,
                       crossing=crossing)
    sg.edge_coords = 0.5 * (node_coords[first] + node_coords[second])
    return sg


def _anti_of(net: Any, cell: UnitCell, outcomes: np.ndarray, records: np.ndarray
             ) -> np.ndarray:
    """Anticommutation (bool over block generators ``state·max_n + index``) of the
    product of block ``outcomes`` and ``records``."""
    from .gf2 import symplectic

    nmax = net.state_qubits.shape[1]
    par = np.zeros(net.n_states * nmax, np.int64)
    ops: list[tuple[int, str]] = []
    for o in np.asarray(outcomes).tolist():
        f = o // 2
        p = net.outcome_paulis[o]
        ops.append((int(net.fusion_qubits[f, 0]), p[0]))
        ops.append((int(net.fusion_qubits[f, 1]), p[1]))
    ops += [(int(net.record_qubits[r]), str(net.record_paulis[r]))
            for r in np.asarray(records).tolist()]
    sq_of = net.qubit_state
    first_q = net.state_qubits[:, 0]
    for q, p in ops:
        s = int(sq_of[q])
        lqs = int(cell.inst_start[net.state_instance[s]])
        li = q - int(first_q[s])  # index within the state
        x, z = symplectic(p)
        gx = cell.g_x[lqs:lqs + net.state_sizes[s], lqs + li]
        gz = cell.g_z[lqs:lqs + net.state_sizes[s], lqs + li]
        a = (gx & z[0]) ^ (gz & x[0])
        par[s * nmax + np.flatnonzero(a)] += 1
    return (par & 1).astype(bool)


def _membrane_records(net: Any, cell: UnitCell, left: np.ndarray) -> np.ndarray | None:
    """Records ``R`` with ``left ⊕ R`` a stabilizer (``None`` if there are none)."""
    target = _anti_of(net, cell, left, np.zeros(0, np.int64))
    if not target.any():
        return np.zeros(0, np.int64)
    # candidate records: those on states the target touches
    nmax = net.state_qubits.shape[1]
    touched = np.unique(np.flatnonzero(target) // nmax)
    rec_state = net.qubit_state[net.record_qubits]
    cand = np.flatnonzero(np.isin(rec_state, touched))
    cols = [_anti_of(net, cell, np.zeros(0, np.int64), np.array([r])) for r in cand]
    if not cols:
        return None
    A = np.array(cols).T
    rows = np.flatnonzero(A.any(axis=1) | target)
    x = solve(A[rows], target[rows])
    return None if x is None else cand[x]


def verify_block(net: Any) -> dict[str, int]:
    """Exact GF(2) check of an open block (small sizes: dense algebra on the block).

    Returns ``{"dim_group", "rank_checks", "logical"}``: the dimension of the group of
    deterministic products of outcomes and records, the rank of the derived checks, and
    1 when the membrane is deterministic and not a product of checks.  Raises
    ``ValueError`` if the checks and the membrane do not span the group up to the
    group's non-local part, or a check is not deterministic.
    """
    cell = net.unit_cell
    n_o, n_r = net.n_outcomes, net.n_records
    none = np.zeros(0, np.int64)
    cols = [_anti_of(net, cell, np.array([o]), none) for o in range(n_o)]
    cols += [_anti_of(net, cell, none, np.array([r])) for r in range(n_r)]
    A = np.array(cols)  # (n_o + n_r, n_gens)
    K = nullspace(A.T)  # deterministic products of outcomes and records
    dim = int(rank(K[:, :n_o])) if K.size else 0  # their outcome parts (records are noiseless)
    vecs = []
    for g in range(len(net.checks)):
        for row, rr in zip(net.checks[g], net.check_records[g]):
            v = np.zeros(n_o + n_r, bool)
            v[row[row >= 0]] = True
            v[n_o + rr[rr >= 0]] = True
            if (A[v].sum(axis=0) & 1).any():
                raise ValueError("a block check is not deterministic")
            vecs.append(v)
    mv = np.zeros(n_o + n_r, bool)
    mv[np.flatnonzero(net.membranes[0])] = True
    mv[n_o + np.flatnonzero(net.membrane_records[0])] = True
    if (A[mv].sum(axis=0) & 1).any():
        raise ValueError("the membrane is not deterministic")
    V = np.array(vecs)[:, :n_o]
    rc = rank(V)
    rm = rank(np.vstack([V, mv[:n_o]]))
    return {"dim_group": int(dim), "rank_checks": int(rc), "logical": int(rm - rc)}
