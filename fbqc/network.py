"""Fusion networks of fusion-based quantum computation (FBQC) on a periodic L×L×L lattice.

Two networks of Bartolucci et al. (arXiv:2101.09310) are built, both foliating the
Raussendorf (RHG) lattice:

``"6ring"``
    Two 6-qubit ring graph states per cell (``A(a)`` and ``B(a)``), each RHG site in
    exactly two rings, the two copies of a site fused by one fusion measuring ``XX`` and
    ``ZZ``.  Per cell: 2 states, 12 qubits, 6 fusions.  Each syndrome graph is the FCC
    lattice (degree 12); every edge is one fusion outcome.
``"4star"``
    One 4-qubit GHZ state (≅ 4-star graph state) per RHG site, one fusion per RHG edge
    (face ``f``, edge ``e``) measuring ``X_f Z_e`` and ``Z_f X_e``.  Per cell: 6 states,
    24 qubits, 12 fusions.  Each syndrome graph is simple cubic; every edge is a
    *bundle* of 4 outcomes (the 4 fusions of one face, or of one RHG edge).

Everything is exposed as NumPy arrays, so other code (stim circuits, the linear-optics
model, decoders) can be built on it without Python loops.

Indexing conventions
--------------------
* cell ``a = (x, y, z)`` has index ``c = (x·L + y)·L + z``; ``e_k`` is the unit vector.
* RHG sites, 6 per cell: site ``6c + k`` is the face ``F(a, k)`` (⊥ k, lower corner a),
  site ``6c + 3 + k`` is the edge ``E(a, k)`` (from a along k).  ``site_coords`` are the
  site centres.
* Qubits belong to resource states: ``state_qubits[s]`` lists the qubits of state ``s``
  (6-ring: in cyclic ring order, the state is ``H`` on all then ``CZ`` around the cycle;
  4-star: a GHZ state, stabilisers ``X⊗4`` and ``Z_i Z_j``).  ``qubit_site[q]`` is the
  RHG site the qubit stands for.
* Fusion ``f`` acts on ``fusion_qubits[f] = (qa, qb)`` and yields two outcomes
  ``2f`` (basis 0) and ``2f + 1`` (basis 1).  ``outcome_paulis[o]`` is the measured
  two-qubit Pauli on ``(qa, qb)``: 6-ring ``"XX"`` (basis 0) and ``"ZZ"`` (basis 1);
  4-star ``"XZ"`` (basis 0, X on the face-side qubit) and ``"ZX"`` (basis 1).  A failed
  linear-optics fusion erases one basis (``outcome_basis``).
* Each outcome belongs to one decoding graph, ``outcome_graph[o]`` (0 = primal,
  1 = dual), and to exactly two of its checks, ``outcome_checks[o]``.  Primal check
  ``c`` is the cube of cell ``c``; dual check ``c`` is the RHG vertex at cell ``c``'s
  lower corner.  ``checks[g]`` is a ``(n_checks, 12 or 24)`` table of outcome indices.
* ``graphs[g]`` is the :class:`SyndromeGraph` of graph ``g``: nodes = checks,
  edges = outcomes (6-ring) or bundles of 4 outcomes (4-star).  ``outcome_edge[o]``
  maps an outcome to its edge in its graph.
* Logical membranes: ``membranes`` is a ``(6, n_outcomes)`` bool array, rows in the
  order of :data:`MEMBRANE_NAMES` (primal x/y/z, dual x/y/z).  The primal x-membrane is
  the product of the primal outcomes whose syndrome-graph edge crosses the plane between
  ``x = L − 1`` and ``x = 0`` (3L² outcomes for the 6-ring, 4L² for the 4-star); it is a
  deterministic stabiliser of the resource states, and a residual primal error flips it
  iff it winds an odd number of times in x.  On a syndrome graph the same membranes are
  ``graph.crossing[:, d]`` (edge masks).

Decoders (:mod:`fbqc.decoders`) take a :class:`SyndromeGraph`, per-edge erasures and
per-edge weights, so inhomogeneous noise (linear optics, bundles) uses the same entry
point: see :func:`fbqc.decoders.decode`.

Examples
--------
>>> net = FusionNetwork("6ring", 4)
>>> net.n_qubits, net.n_fusions, net.n_outcomes
(768, 384, 768)
>>> net.primal.n_nodes, net.primal.n_edges, net.primal.degree
(64, 384, 12)
>>> int(net.membranes[0].sum()) == 3 * 4**2
True
>>> star = FusionNetwork("4star", 3)
>>> star.primal.bundle_size, star.checks[0].shape
(4, (27, 24))
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["BOUNDARIES", "KINDS", "MEMBRANE_NAMES", "FusionNetwork", "SyndromeGraph",
           "network_params"]

KINDS = ("6ring", "4star")
#: Boundary conditions of :class:`FusionNetwork`.
BOUNDARIES = ("periodic", "open")
#: Row order of :attr:`FusionNetwork.membranes` (and of the ``obs_mistake_mask`` bits).
MEMBRANE_NAMES = ("primal-x", "primal-y", "primal-z", "dual-x", "dual-y", "dual-z")

_E = np.eye(3, dtype=np.int64)


@dataclass
class SyndromeGraph:
    """One decoding graph (primal or dual) of a fusion network.

    Attributes
    ----------
    name : ``"primal"`` or ``"dual"``.
    L : lattice size.
    n_nodes, n_edges : counts (nodes = checks, edges = outcomes or 4-outcome bundles).
    edges : ``(n_edges, 2)`` int32 endpoints.
    edge_outcomes : ``(n_edges, bundle_size)`` int32 outcome indices of each edge.
    edge_shift : ``(n_edges, 3)`` int8, ``node(v) = node(u) + shift`` (mod L).
    node_coords, edge_coords : ``(n, 3)`` float coordinates (edge: midpoint, mod L).
    node_cells : optional ``(n_nodes, 3)`` int cell of each node (default:
        ``floor(node_coords)``); edge crossings are computed from it.
    boundary : index of the virtual boundary node of an open block (``-1``: none).  Its
        edges are the outcomes in only one check; its detection event is the parity of
        all the others (:meth:`syndrome` gives it), so every decoder sees an even number
        of defects and may pair a defect with the boundary.
    crossing : ``(n_edges, 3)`` bool, edge crosses the plane ``d = 0`` (the d-membrane);
        computed from ``node_cells`` and ``edge_shift`` unless given (open blocks).
    indptr, adj_node, adj_edge : CSR adjacency (int32): the edges at node ``u`` are
        ``adj_edge[indptr[u]:indptr[u+1]]``, leading to ``adj_node[...]``.
    node_edges : ``(n_nodes, degree)`` int32 incident edges when every node has the same
        degree, else ``None``.
    """

    name: str
    L: int
    edges: np.ndarray
    edge_outcomes: np.ndarray
    edge_shift: np.ndarray
    node_coords: np.ndarray
    node_cells: np.ndarray | None = None
    boundary: int = -1
    crossing: np.ndarray | None = None
    edge_coords: np.ndarray = field(init=False)
    indptr: np.ndarray = field(init=False)
    adj_node: np.ndarray = field(init=False)
    adj_edge: np.ndarray = field(init=False)
    node_edges: np.ndarray | None = field(init=False)

    def __post_init__(self) -> None:
        L = self.L
        u = self.edges[:, 0]
        cu = self.node_coords[u]
        base = (np.floor(cu).astype(np.int64) if self.node_cells is None
                else np.asarray(self.node_cells, np.int64)[u])
        if self.crossing is None:
            tgt = base + self.edge_shift
            self.crossing = (tgt < 0) | (tgt >= L)
        self.edge_coords = np.mod(cu + 0.5 * self.edge_shift, L)
        n = self.n_nodes
        ends = np.concatenate([self.edges[:, 0], self.edges[:, 1]])
        other = np.concatenate([self.edges[:, 1], self.edges[:, 0]])
        eid = np.concatenate([np.arange(self.n_edges)] * 2)
        order = np.argsort(ends, kind="stable")
        counts = np.bincount(ends, minlength=n)
        self.indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
        self.adj_node = other[order].astype(np.int32)
        self.adj_edge = eid[order].astype(np.int32)
        # node_edges: (n_nodes, degree) when every node has the same degree, else None
        self.node_edges = (self.adj_edge.reshape(n, int(counts[0]))
                           if n and counts.min() == counts.max() else None)

    @property
    def n_nodes(self) -> int:
        return int(self.node_coords.shape[0])

    @property
    def n_edges(self) -> int:
        return int(self.edges.shape[0])

    @property
    def degree(self) -> int:
        """The degree of every node (regular graphs), else the largest degree."""
        return int(np.diff(self.indptr).max()) if self.n_nodes else 0

    @property
    def is_regular(self) -> bool:
        return self.node_edges is not None

    @property
    def bundle_size(self) -> int:
        return int(self.edge_outcomes.shape[1])

    def syndrome(self, flips: np.ndarray) -> np.ndarray:
        """Detection events (uint8) of edge flips ``(..., n_edges)`` → ``(..., n_nodes)``.

        >>> g = FusionNetwork("6ring", 3).primal
        >>> flips = np.zeros(g.n_edges, bool); flips[0] = True
        >>> np.flatnonzero(g.syndrome(flips)).tolist() == sorted(g.edges[0].tolist())
        True
        """
        f = np.asarray(flips)
        if f.shape[-1] != self.n_edges:
            raise ValueError(f"flips must have last dimension {self.n_edges}, got {f.shape}")
        lead = f.shape[:-1]
        flat = f.reshape(-1, self.n_edges)
        idx = np.flatnonzero(flat)  # sparse: cost follows the number of flips
        shot, e = np.divmod(idx, self.n_edges)
        base = shot * self.n_nodes
        n = flat.shape[0] * self.n_nodes
        cnt = np.bincount(base + self.edges[e, 0], minlength=n)
        cnt += np.bincount(base + self.edges[e, 1], minlength=n)
        return (cnt & 1).astype(np.uint8).reshape(*lead, self.n_nodes)

    def membrane_parity(self, flips: np.ndarray) -> np.ndarray:
        """Parity ``(..., 3)`` uint8 of edge flips ``(..., n_edges)`` across the membranes."""
        f = np.asarray(flips)
        out = np.empty((*f.shape[:-1], 3), np.uint8)
        for d in range(3):
            cols = np.flatnonzero(self.crossing[:, d])
            out[..., d] = np.count_nonzero(f[..., cols], axis=-1) & 1
        return out

    def bundle(
        self, outcome_erased: np.ndarray, outcome_flipped: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Collapse per-outcome erasures/flips ``(..., n_outcomes)`` onto this graph's edges.

        An edge is erased if any of its outcomes is; it is flipped if an odd number of its
        outcomes are flipped (an erased outcome's random value counts as its flip).
        Returns ``(erased, flipped)`` bool arrays of shape ``(..., n_edges)``.
        """
        er = np.asarray(outcome_erased, bool)[..., self.edge_outcomes]
        fl = np.asarray(outcome_flipped, bool)[..., self.edge_outcomes]
        return er.any(axis=-1), np.bitwise_xor.reduce(fl, axis=-1)

    def edge_probabilities(
        self, p_erasure: float | np.ndarray, p_pauli: float | np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per-edge erasure and (non-erased) flip probabilities from per-outcome ones.

        Scalars or ``(n_outcomes_of_network,)`` arrays indexed by outcome.  Bundles:
        ``1 − Π(1 − p_E)`` and ``(1 − Π(1 − 2 p_P)) / 2``.

        >>> g = FusionNetwork("4star", 3).primal
        >>> pe, pp = g.edge_probabilities(0.069, 0.0)
        >>> round(float(pe[0]), 4)
        0.2487
        """
        pe = np.asarray(p_erasure, float)
        pp = np.asarray(p_pauli, float)
        pe = pe[self.edge_outcomes] if pe.ndim else np.full(self.edge_outcomes.shape, pe)
        pp = pp[self.edge_outcomes] if pp.ndim else np.full(self.edge_outcomes.shape, pp)
        pe_edge = 1.0 - np.prod(1.0 - pe, axis=1)
        pp_edge = (1.0 - np.prod(1.0 - 2.0 * pp, axis=1)) / 2.0
        return pe_edge, pp_edge

    def incidence(self) -> Any:
        """The ``(n_nodes, n_edges)`` check matrix as a ``scipy.sparse.csc_matrix`` (uint8).

        With a boundary node (the last node) its row is left out: boundary edges are then
        the columns with one nonzero, and PyMatching (``use_virtual_boundary_node=False``)
        makes node ``n_nodes − 1`` its boundary and ignores that node's detection event.
        """
        from scipy.sparse import csc_matrix

        E = self.n_edges
        rows = self.edges.T.reshape(-1)
        cols = np.concatenate([np.arange(E), np.arange(E)])
        n = self.n_nodes
        if self.boundary >= 0:
            if self.boundary != n - 1:
                raise ValueError("the boundary node must be the last node")
            keep = rows != self.boundary
            rows, cols, n = rows[keep], cols[keep], n - 1
        return csc_matrix((np.ones(rows.size, np.uint8), (rows, cols)), shape=(n, E))

    def to_networkx(self) -> Any:
        """A ``networkx.MultiGraph`` (node/edge attributes: coords, outcomes, crossing)."""
        import networkx as nx

        g = nx.MultiGraph()
        for u in range(self.n_nodes):
            g.add_node(u, coords=tuple(self.node_coords[u]))
        for e, (u, v) in enumerate(self.edges.tolist()):
            g.add_edge(
                u, v, key=e, outcomes=self.edge_outcomes[e].tolist(),
                crossing=tuple(bool(c) for c in self.crossing[e]),
            )
        return g


def _check_L(L: Any, name: str = "L") -> int:
    if isinstance(L, bool) or not isinstance(L, (int, np.integer)):
        raise TypeError(f"{name} must be an integer >= 3, got {L!r}")
    if L < 3:
        raise ValueError(f"{name} must be an integer >= 3, got {L}")
    return int(L)


def network_params(network: Any, L: int, boundary: Any = None, T: Any = None
                   ) -> dict[str, Any]:
    """Validate a network's name and shape for a sampler; the keys to record.

    Returns ``{}`` for a periodic network (so built-in task ids stay as they were),
    ``{"boundary": "open"}`` (and ``"T"`` when it differs from ``L``) for an open block.

    >>> network_params("6ring", 8, "open", 12)
    {'boundary': 'open', 'T': 12}
    >>> network_params("hexagon", 8)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: network must be one of ('6ring', '4star', ...), got 'hexagon'
    """
    from .catalog import NETWORKS

    if not isinstance(network, str) or network not in NETWORKS:
        raise ValueError(f"network must be one of {tuple(NETWORKS)}, got {network!r}")
    boundary = "periodic" if boundary is None else boundary
    if boundary not in BOUNDARIES:
        raise ValueError(f"boundary must be one of {BOUNDARIES}, got {boundary!r}")
    if boundary == "periodic":
        if T is not None and T != L:
            raise ValueError("T: only an open block has a separate time extent T")
        return {}
    T = L if T is None else _check_L(T, "T")
    return {"boundary": "open", **({"T": T} if T != L else {})}


class FusionNetwork:
    """A fusion network: resource states, fusions, outcomes, checks, syndrome graphs,
    membranes.

    Parameters
    ----------
    kind : a network name: the hand-built ``"6ring"`` and ``"4star"`` (see the module
        docstring), or any registered description (:data:`fbqc.catalog.NETWORKS`, e.g.
        ``"12ring"``, ``"3ghz"``, ``"4star-bell"``), which is derived by
        :meth:`from_description`.
    L : int >= 3, the lattice size.
    boundary : ``"periodic"`` (an ``L³`` torus, the default) or ``"open"`` (an
        ``L × L × T`` block with rough primal boundaries at ``x = 0, L`` and smooth ones
        elsewhere: one logical membrane; see :mod:`fbqc.boundary`).  Open blocks of the
        hand-built networks are built from their descriptions (identical in the bulk).
    T : the block's extent in ``z`` (time) for ``boundary="open"``; default ``L``.

    Notes
    -----
    See the module docstring for every array and its indexing.

    Attributes beyond the module docstring: ``boundary``, ``T``, ``description`` (the
    :class:`~fbqc.description.FusionDescription`, ``None`` for hand-built),
    ``hypergraph`` (per group: an outcome in more than two checks; then :attr:`graphs`
    refuses), ``qubit_coords``.

    Examples
    --------
    >>> net = FusionNetwork("4star", 3)
    >>> net.counts()["per_cell"]
    {'states': 6, 'qubits': 24, 'fusions': 12}
    >>> FusionNetwork("12ring", 3).primal.degree
    12
    >>> FusionNetwork("8ring", 3)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: kind must be one of ('6ring', '4star', '6ring-d', ...), got '8ring'
    """

    boundary = "periodic"
    description = None
    hypergraph: tuple[bool, ...] = (False, False)
    _hyper_msg = ""

    def __init__(self, kind: str, L: int, *, boundary: str = "periodic", T: int | None = None):
        from .catalog import NETWORKS

        if not isinstance(kind, str) or kind not in NETWORKS:
            raise ValueError(f"kind must be one of {tuple(NETWORKS)}, got {kind!r}")
        if boundary not in BOUNDARIES:
            raise ValueError(f"boundary must be one of {BOUNDARIES}, got {boundary!r}")
        if kind not in KINDS or boundary != "periodic":
            from .catalog import get_description

            other = FusionNetwork.from_description(get_description(kind), L,
                                                   boundary=boundary, T=T)
            self.__dict__.update(other.__dict__)
            self.kind = kind
            return
        if T is not None and T != L:
            raise ValueError("T: a periodic network is L×L×L (T only for boundary='open')")
        self.kind = kind
        self.L = _check_L(L)
        self.T = self.L
        L = self.L
        self.n_cells = L**3
        cells = np.arange(self.n_cells)
        self.cell_coords = np.stack(np.unravel_index(cells, (L, L, L)), axis=1).astype(np.int64)
        sc = np.zeros((self.n_cells, 6, 3))
        for k in range(3):
            sc[:, k, :] = self.cell_coords + 0.5 * (_E[(k + 1) % 3] + _E[(k + 2) % 3])
            sc[:, 3 + k, :] = self.cell_coords + 0.5 * _E[k]
        self.site_coords = sc.reshape(-1, 3)
        if kind == "6ring":
            self._build_6ring()
        else:
            self._build_4star()
        self._build_graphs()
        self.qubit_coords = self.site_coords[self.qubit_site]

    @classmethod
    def from_description(cls, description: Any, L: int, *, boundary: str = "periodic",
                         T: int | None = None) -> FusionNetwork:
        """Build the network of a :class:`~fbqc.description.FusionDescription`.

        Parameters
        ----------
        description : a :class:`~fbqc.description.FusionDescription`, or the name of a
            registered one (:data:`fbqc.catalog.NETWORKS`).
        L : lattice size (``L³`` cells periodic; ``L × L × T`` open).
        boundary : ``"periodic"`` or ``"open"``.
        T : the open block's extent in ``z`` (default ``L``).

        The checks, syndrome graphs (or hypergraphs) and membranes are derived by GF(2)
        linear algebra (:func:`fbqc.description.derive`); everything downstream (noise
        models, decoders, stim circuits, linear optics, samplers) uses the result exactly
        as a hand-built network.

        Examples
        --------
        >>> from fbqc.description import FusionDescription, Fusion, Instance, ResourceState
        >>> from fbqc.catalog import get_description
        >>> net = FusionNetwork.from_description(get_description("6ring-d"), 4)
        >>> net.counts()["per_cell"], net.primal.degree
        ({'states': 2, 'qubits': 12, 'fusions': 6}, 12)
        """
        from .build import build_open, build_periodic
        from .catalog import get_description
        from .description import FusionDescription

        if isinstance(description, str):
            description = get_description(description)
        if not isinstance(description, FusionDescription):
            raise TypeError("description must be a FusionDescription or a registered name, "
                            f"got {type(description).__name__}")
        if boundary not in BOUNDARIES:
            raise ValueError(f"boundary must be one of {BOUNDARIES}, got {boundary!r}")
        L = _check_L(L)
        net = cls.__new__(cls)
        if boundary == "periodic":
            if T is not None and T != L:
                raise ValueError("T: a periodic network is L×L×L (T only for boundary='open')")
            build_periodic(net, description, L)
        else:
            build_open(net, description, L, _check_L(L if T is None else T, "T"))
        return net

    @property
    def graphs(self) -> tuple[SyndromeGraph, ...]:
        """The syndrome graphs (primal, dual); an open block has only the primal.

        Raises ``ValueError`` for a network whose checks form a hypergraph (an outcome in
        more than two checks of one group): graph decoders do not apply there.
        """
        if self._graphs is None:
            raise ValueError(self._hyper_msg)
        return self._graphs

    @graphs.setter
    def graphs(self, value: tuple[SyndromeGraph, ...]) -> None:
        self._graphs = value

    # ---------------------------------------------------------------- helpers
    def _cell(self, a: np.ndarray) -> np.ndarray:
        a = np.mod(a, self.L)
        return (a[..., 0] * self.L + a[..., 1]) * self.L + a[..., 2]

    def _F(self, a: np.ndarray, k: int) -> np.ndarray:
        return 6 * self._cell(a) + k

    def _Ed(self, a: np.ndarray, k: int) -> np.ndarray:
        return 6 * self._cell(a) + 3 + k

    def _rhg_edges(self) -> np.ndarray:
        """``(12 L³, 2)`` RHG edges (face site, edge site), 4 per face, face-major."""
        a = self.cell_coords
        out = np.empty((self.n_cells, 3, 4, 2), np.int64)
        for k in range(3):
            k1, k2 = (k + 1) % 3, (k + 2) % 3
            f = self._F(a, k)
            for i, es in enumerate(
                (self._Ed(a, k1), self._Ed(a, k2), self._Ed(a + _E[k2], k1),
                 self._Ed(a + _E[k1], k2))
            ):
                out[:, k, i, 0] = f
                out[:, k, i, 1] = es
        return out.reshape(-1, 2)

    # ---------------------------------------------------------------- 6-ring
    def _build_6ring(self) -> None:
        a = self.cell_coords
        b = a + 1
        ringA = np.stack(
            [self._Ed(a, 0), self._F(a, 2), self._Ed(a, 1), self._F(a, 0), self._Ed(a, 2),
             self._F(a, 1)], axis=1)
        ringB = np.stack(
            [self._Ed(b - _E[0], 0), self._F(a + _E[2], 2), self._Ed(b - _E[1], 1),
             self._F(a + _E[0], 0), self._Ed(b - _E[2], 2), self._F(a + _E[1], 1)], axis=1)
        ring_sites = np.stack([ringA, ringB], axis=1).reshape(-1, 6)  # state 2c + (0|1)
        self.n_states = ring_sites.shape[0]
        self.state_qubits = np.arange(6 * self.n_states, dtype=np.int32).reshape(-1, 6)
        self.qubit_site = ring_sites.reshape(-1).astype(np.int32)
        self.qubit_state = np.repeat(np.arange(self.n_states, dtype=np.int32), 6)
        self.n_qubits = self.qubit_site.size
        n_sites = 6 * self.n_cells
        order = np.argsort(self.qubit_site, kind="stable")
        if not np.array_equal(np.bincount(self.qubit_site, minlength=n_sites),
                              np.full(n_sites, 2)):
            raise RuntimeError("6-ring: a site is not in exactly two rings")
        pairs = order.reshape(n_sites, 2)  # fusion f = site f
        self.fusion_qubits = pairs.astype(np.int32)
        self.fusion_sites = np.stack([np.arange(n_sites)] * 2, axis=1).astype(np.int32)
        self.fusion_coords = self.site_coords.copy()
        self.basis_names = ("XX", "ZZ")
        # ring id of every RHG edge (face, edge), from consecutive ring members
        ring_of = {}
        rs = ring_sites
        for j in range(6):
            s1, s2 = rs[:, j], rs[:, (j + 1) % 6]
            f = np.where(s1 % 6 < 3, s1, s2)
            e = np.where(s1 % 6 < 3, s2, s1)
            for r, ff, ee in zip(range(len(rs)), f.tolist(), e.tolist()):
                ring_of[(ff, ee)] = r
        rhg = self._rhg_edges()
        if len(ring_of) != len(rhg):
            raise RuntimeError("6-ring: RHG edges not covered exactly once")
        self._ring_of = ring_of
        XX = lambda site: 2 * site  # noqa: E731  outcome index of the XX of site's fusion
        ZZ = lambda site: 2 * site + 1  # noqa: E731
        # primal check(a): XX on faces of a, ZZ on cube edges whose two cube-faces differ
        prim = []
        dual = []
        for ca in self.cell_coords:
            row = []
            for k in range(3):
                row += [XX(int(self._F(ca, k))), XX(int(self._F(ca + _E[k], k)))]
            for k in range(3):
                k1, k2 = (k + 1) % 3, (k + 2) % 3
                for d1 in (0, 1):
                    for d2 in (0, 1):
                        off = d1 * _E[k1] + d2 * _E[k2]
                        e = int(self._Ed(ca + off, k))
                        f1 = int(self._F(ca + d1 * _E[k1], k1))
                        f2 = int(self._F(ca + d2 * _E[k2], k2))
                        if ring_of[(f1, e)] != ring_of[(f2, e)]:
                            row.append(ZZ(e))
            prim.append(row)
            # dual check(v = ca): XX on the 6 edges at v, ZZ on faces at v (same rule)
            row = []
            for k in range(3):
                row += [XX(int(self._Ed(ca, k))), XX(int(self._Ed(ca - _E[k], k)))]
            for j in range(3):
                j1, j2 = (j + 1) % 3, (j + 2) % 3
                for d1 in (0, 1):
                    for d2 in (0, 1):
                        f = int(self._F(ca - d1 * _E[j1] - d2 * _E[j2], j))
                        e1 = int(self._Ed(ca - d1 * _E[j1], j1))
                        e2 = int(self._Ed(ca - d2 * _E[j2], j2))
                        if ring_of[(f, e1)] != ring_of[(f, e2)]:
                            row.append(ZZ(f))
            dual.append(row)
        self.checks = (np.array(prim, np.int32), np.array(dual, np.int32))

    # ---------------------------------------------------------------- 4-star
    def _build_4star(self) -> None:
        rhg = self._rhg_edges()  # fusion f = RHG edge f
        n_sites = 6 * self.n_cells
        self.n_states = n_sites
        # slot of each fusion's qubit within its site's GHZ state
        flat = rhg.reshape(-1)  # [f0 face, f0 edge, f1 face, ...]
        order = np.argsort(flat, kind="stable")
        if not np.array_equal(np.bincount(flat, minlength=n_sites), np.full(n_sites, 4)):
            raise RuntimeError("4-star: a site is not in exactly four fusions")
        qubit_of_slot = np.empty(flat.size, np.int64)
        qubit_of_slot[order] = np.arange(flat.size)  # qubit q = 4*site + slot
        self.fusion_qubits = qubit_of_slot.reshape(-1, 2).astype(np.int32)
        self.fusion_sites = rhg.astype(np.int32)
        self.qubit_site = (np.arange(4 * n_sites) // 4).astype(np.int32)
        self.qubit_state = self.qubit_site.copy()
        self.state_qubits = np.arange(4 * n_sites, dtype=np.int32).reshape(-1, 4)
        self.n_qubits = 4 * n_sites
        fc = self.site_coords[rhg[:, 0]]
        ec = self.site_coords[rhg[:, 1]]
        d = ec - fc
        d = d - self.L * np.round(d / self.L)
        self.fusion_coords = np.mod(fc + 0.5 * d, self.L)
        self.basis_names = ("XZ", "ZX")
        n_f = rhg.shape[0]
        by_face = np.arange(n_f).reshape(-1, 4)  # fusions of face site 6c+k: row 3c+k
        # fusions touching each edge site
        by_edge_site = np.argsort(rhg[:, 1], kind="stable").reshape(-1, 4)
        a = self.cell_coords
        prim = np.empty((self.n_cells, 24), np.int64)
        dual = np.empty((self.n_cells, 24), np.int64)
        for k in range(3):
            for side in (0, 1):
                face = self._F(a + side * _E[k], k)  # site 6c'+k
                row = (face // 6) * 3 + k
                prim[:, (2 * k + side) * 4:(2 * k + side + 1) * 4] = 2 * by_face[row]
                es = self._Ed(a - side * _E[k], k)
                idx = (es // 6) * 3 + (es % 6 - 3)
                dual[:, (2 * k + side) * 4:(2 * k + side + 1) * 4] = 2 * by_edge_site[idx] + 1
        self.checks = (prim.astype(np.int32), dual.astype(np.int32))

    # ---------------------------------------------------------------- graphs
    def _build_graphs(self) -> None:
        self.n_fusions = int(self.fusion_qubits.shape[0])
        self.n_outcomes = 2 * self.n_fusions
        self.outcome_fusion = np.repeat(np.arange(self.n_fusions, dtype=np.int32), 2)
        self.outcome_basis = np.tile(np.array([0, 1], np.int8), self.n_fusions)
        self.outcome_paulis = np.array(self.basis_names)[self.outcome_basis]
        self.outcome_coords = self.fusion_coords[self.outcome_fusion]
        self.outcome_graph = np.full(self.n_outcomes, -1, np.int8)
        self.outcome_checks = np.full((self.n_outcomes, 2), -1, np.int32)
        self.outcome_edge = np.full(self.n_outcomes, -1, np.int32)
        cnt = np.zeros(self.n_outcomes, np.int64)
        for g in (0, 1):
            ch = self.checks[g]
            flat = ch.reshape(-1)
            rows = np.repeat(np.arange(ch.shape[0]), ch.shape[1])
            if np.any(self.outcome_graph[flat] == 1 - g):
                raise RuntimeError("an outcome is in checks of both graphs")
            self.outcome_graph[flat] = g
            order = np.argsort(flat, kind="stable")
            fs, rs = flat[order], rows[order]
            np.add.at(cnt, flat, 1)
            starts = np.flatnonzero(np.r_[True, fs[1:] != fs[:-1]])
            self.outcome_checks[fs[starts], 0] = rs[starts]
            self.outcome_checks[fs[starts], 1] = rs[np.minimum(starts + 1, fs.size - 1)]
        if np.any(cnt != 2):
            raise RuntimeError("an outcome is not in exactly two checks")
        self.check_coords = (self.cell_coords + 0.5, self.cell_coords.astype(float))
        graphs = []
        for g, name in ((0, "primal"), (1, "dual")):
            outs = np.flatnonzero(self.outcome_graph == g)
            if self.kind == "6ring":
                bundles = outs[:, None]
            else:  # bundle by face (primal) or by RHG edge site (dual)
                key = self.fusion_sites[self.outcome_fusion[outs], g]
                order = np.lexsort((outs, key))
                bundles = outs[order].reshape(-1, 4)
            ends = self.outcome_checks[bundles[:, 0]]
            if np.any(self.outcome_checks[bundles] != ends[:, None, :]):
                raise RuntimeError("bundle outcomes do not share their checks")
            cu = self.cell_coords[ends[:, 0]]
            cv = self.cell_coords[ends[:, 1]]
            shift = np.mod(cv - cu + 1, self.L) - 1
            graphs.append(SyndromeGraph(
                name=name, L=self.L, edges=ends.astype(np.int32),
                edge_outcomes=bundles.astype(np.int32), edge_shift=shift.astype(np.int8),
                node_coords=self.check_coords[g],
            ))
            self.outcome_edge[bundles.reshape(-1)] = np.repeat(
                np.arange(bundles.shape[0], dtype=np.int32), bundles.shape[1])
        self.graphs = tuple(graphs)
        mem = np.zeros((6, self.n_outcomes), bool)
        for g in (0, 1):
            gr = self.graphs[g]
            for d in range(3):
                mem[3 * g + d, gr.edge_outcomes[gr.crossing[:, d]].reshape(-1)] = True
        self.membranes = mem

    # ---------------------------------------------------------------- public
    @property
    def primal(self) -> SyndromeGraph:
        """The primal syndrome graph (``graphs[0]``)."""
        return self.graphs[0]

    @property
    def dual(self) -> SyndromeGraph:
        """The dual syndrome graph (``graphs[1]``)."""
        return self.graphs[1]

    def counts(self) -> dict[str, Any]:
        """Totals and per-cell counts of states, qubits, fusions, outcomes and checks.

        ``per_cell`` is the unit cell's (an open block's totals include its boundary).
        """
        n = self.n_cells
        ch = [np.asarray(c) for c in self.checks]
        per_cell = getattr(self, "_per_cell", None) or {
            "states": self.n_states // n, "qubits": self.n_qubits // n,
            "fusions": self.n_fusions // n}
        return {
            "states": self.n_states, "qubits": self.n_qubits, "fusions": self.n_fusions,
            "outcomes": self.n_outcomes,
            "checks": tuple(int(c.shape[0]) for c in ch),
            "check_weights": tuple(int((c >= 0).sum(axis=1).max()) if c.size else 0
                                   for c in ch),
            "per_cell": dict(per_cell),
        }

    def state_edges(self) -> np.ndarray:
        """``(n, 2)`` qubit pairs of the entangling graph of the resource states.

        6-ring: the ring edges (``CZ`` after ``H``).  4-star: a star from the first
        qubit of each GHZ state (the graph state LC-equivalent to GHZ; to prepare the
        GHZ itself use ``H`` on the first qubit and ``CNOT`` to the others).  Derived
        networks: the graphs of their graph states (a state given by stabilizers only has
        no graph: ``ValueError``).
        """
        if self.description is not None:
            from .build import state_edges

            return state_edges(self)
        sq = self.state_qubits
        if self.kind == "6ring":
            return np.stack([sq, np.roll(sq, -1, axis=1)], axis=2).reshape(-1, 2)
        return np.stack([np.repeat(sq[:, :1], 3, axis=1), sq[:, 1:]], axis=2).reshape(-1, 2)

    def stabilizer_generators(self) -> tuple[np.ndarray, np.ndarray]:
        """Dense ``(x, z)`` bool matrices ``(n_qubits, n_qubits)`` of the resource states.

        6-ring: ``X_j Z_{j−1} Z_{j+1}`` around each ring.  4-star (GHZ): ``X⊗4`` and
        ``Z_0 Z_i`` (i = 1, 2, 3).  Derived: the description's generators.  Meant for
        tests at small L.
        """
        if self.description is not None:
            from .build import stabilizer_generators

            return stabilizer_generators(self)
        nq = self.n_qubits
        x = np.zeros((nq, nq), bool)
        z = np.zeros((nq, nq), bool)
        sq = self.state_qubits
        if self.kind == "6ring":
            for j in range(6):
                rows = sq[:, j]
                x[rows, sq[:, j]] = True
                z[rows, sq[:, (j - 1) % 6]] = True
                z[rows, sq[:, (j + 1) % 6]] = True
        else:
            rows = sq[:, 0]
            for j in range(4):
                x[rows, sq[:, j]] = True
            for j in range(1, 4):
                rows = sq[:, j]
                z[rows, sq[:, 0]] = True
                z[rows, sq[:, j]] = True
        return x, z

    def outcome_operators(self) -> tuple[np.ndarray, np.ndarray]:
        """Dense ``(x, z)`` bool matrices ``(n_outcomes, n_qubits)``: the measured Paulis."""
        x = np.zeros((self.n_outcomes, self.n_qubits), bool)
        z = np.zeros_like(x)
        o = np.arange(self.n_outcomes)
        qa = self.fusion_qubits[self.outcome_fusion, 0]
        qb = self.fusion_qubits[self.outcome_fusion, 1]
        for side, q in ((0, qa), (1, qb)):
            p = np.array([s[side] for s in self.outcome_paulis])
            x[o, q] = (p == "X") | (p == "Y")
            z[o, q] = (p == "Z") | (p == "Y")
        return x, z

    def to_networkx(self) -> Any:
        """A ``networkx.Graph`` of qubits: ``kind="state"`` and ``kind="fusion"`` edges."""
        import networkx as nx

        g = nx.Graph()
        for q in range(self.n_qubits):
            g.add_node(q, state=int(self.qubit_state[q]),
                       coords=tuple(float(c) for c in self.qubit_coords[q]))
        try:
            state_edges = self.state_edges().tolist()
        except ValueError:  # resource states given by stabilizers have no graph
            state_edges = []
        for u, v in state_edges:
            g.add_edge(u, v, kind="state")
        for f, (u, v) in enumerate(self.fusion_qubits.tolist()):
            g.add_edge(u, v, kind="fusion", fusion=f)
        return g

    def __repr__(self) -> str:
        extra = "" if self.boundary == "periodic" else f", boundary='open', T={self.T}"
        return f"FusionNetwork({self.kind!r}, L={self.L}{extra})"
