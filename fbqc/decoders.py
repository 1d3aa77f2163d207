"""Decoders for the syndrome graphs of :mod:`fbqc.network` (and any matching graph), by name.

``"uf"``
    Union-find (Delfosse–Nickerson) with erasure pre-growth and peeling; growth is
    *weighted*: every edge has a length ``w_e = log((1 − p_e)/p_e)`` and all boundary
    edges of odd clusters grow at the same speed (per odd side) until the next one
    saturates, so inhomogeneous probabilities (4-star bundles, linear optics) are
    honoured; erased edges (and ``p_e = 1/2``) have length 0.
``"mwpm"``
    PyMatching on the same graph: erased edges at weight 0, others at ``log((1−p)/p)``.
    PyMatching has no per-shot weight API, so a shot with erasures rebuilds the matcher
    (``Matching.from_check_matrix`` on a cached check matrix); shots without erasures
    share one matcher and go through ``decode_batch``.
``"fusion-blossom"``
    Exact minimum-weight perfect matching by fusion-blossom (the optional extra
    ``blossom``): one solver per graph, per-shot erasures through the solver's own
    erasure input (erased edges at weight 0), integer weights derived from the flip
    probability (:class:`FusionBlossomDecoder`).  The exact reference.
``"local-mwpm"``
    Matching accuracy at union-find speed under per-shot erasure
    (:class:`LocalMatchingDecoder`): erased edges contracted per shot, an exact
    minimum-weight perfect matching (Edmonds' blossom algorithm in Numba) among each
    defect's nearby defects.  Shots without erasure go to PyMatching's ``decode_batch``
    (the graph is then the same for every shot).
``"erasure-ml"``
    Exact maximum likelihood for pure erasure: a shot's possible logical errors are the
    span of the mod-2 windings of the erased subgraph's cycles (:func:`erasure_windings`);
    ML fails with probability 1/2 on every membrane the span touches.  Not a decoder
    object: :func:`fbqc.simulate` handles it.

All Numba kernels are in :mod:`fbqc._kernels`.

Graphs
------
Every decoder takes a :class:`~fbqc.network.SyndromeGraph` (``net.primal`` /
``net.dual``) or a :class:`DecodingGraph` (any matching graph: nodes, edges, observable
masks, an optional boundary node; :meth:`fbqc.herald_decoders.HeraldGraph.decoding_graph`
builds one from a stim detector error model).  **A graph declares a boundary node by an
integer attribute** ``boundary_node`` (the node's index; ``None`` or absent: no boundary).
The boundary's syndrome entry is ignored, it absorbs any parity (a cluster or a matching
may end there, any number of times), and no path passes through it.

Entry points
------------
* :func:`make_decoder` ``(name, graph)`` → a decoder object (the one factory);
* ``decoder.decode_batch(syndromes, erased=None, weights=None)`` → ``(S, M)`` uint8
  observable flips of the corrections (``M = 3``: columns x, y, z of ``graph.crossing``);
* ``decoder.decode(syndrome, erased=None, weights=None)`` → one shot's correction (uint8
  per edge);
* :func:`decode` ``(graph, syndrome, erased=None, weights=None, *, decoder="uf")``;
* :func:`edge_weights` turns per-edge flip probabilities into weights.

Examples
--------
>>> from fbqc.network import FusionNetwork
>>> g = FusionNetwork("6ring", 4).primal
>>> flips = np.zeros(g.n_edges, np.uint8); flips[5] = 1
>>> corr = decode(g, g.syndrome(flips))
>>> np.flatnonzero(corr).tolist()
[5]
>>> erased = np.zeros(g.n_edges, bool); erased[[5, 6]] = True
>>> dec = make_decoder("local-mwpm", g)
>>> pred = dec.decode_batch(g.syndrome(flips), erased)  # membrane parities (S, 3)
>>> bool(np.array_equal(pred[0], g.membrane_parity(flips)))
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.validate import check_binary_array

from . import _kernels as K
from .network import SyndromeGraph

__all__ = [
    "DECODERS",
    "DecodingGraph",
    "FusionBlossomDecoder",
    "LocalMatchingDecoder",
    "MatchingDecoder",
    "UnionFindDecoder",
    "WeightOverflowError",
    "decode",
    "edge_weights",
    "erasure_windings",
    "make_decoder",
]

#: Decoder names accepted by :func:`fbqc.simulate` (``"erasure-ml"`` only for pure erasure).
DECODERS = ("uf", "mwpm", "erasure-ml", "fusion-blossom", "local-mwpm")
#: Decoder names that :func:`make_decoder` builds objects for.
GRAPH_DECODERS = ("uf", "mwpm", "fusion-blossom", "local-mwpm")

BLOSSOM_HINT = ("decoder 'fusion-blossom' needs the optional extra 'blossom': "
                "pip install 'erasurelab[blossom]'")


class WeightOverflowError(ValueError):
    """Edge weights that do not fit the integer range of the matching solver."""


def edge_weights(p_flip: float | np.ndarray, n_edges: int | None = None) -> np.ndarray:
    """``log((1 − p)/p)`` per edge: ``inf`` at ``p = 0``, ``0`` for ``p >= 1/2``.

    >>> edge_weights(np.array([0.0, 0.5, 0.1])).round(3).tolist()
    [inf, 0.0, 2.197]
    """
    p = np.asarray(p_flip, dtype=np.float64)
    if np.any((p < 0) | (p > 1)) or np.any(np.isnan(p)):
        raise ValueError("p_flip must lie in [0, 1]")
    if p.ndim == 0 and n_edges is not None:
        p = np.full(n_edges, float(p))
    with np.errstate(divide="ignore"):
        w = np.log((1.0 - p) / p)
    return np.where(p >= 0.5, 0.0, w)


def _csr(n_nodes: int, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR adjacency ``(indptr, adj_node, adj_edge)``, neighbours in edge order per side."""
    E = edges.shape[0]
    ends = np.concatenate([edges[:, 0], edges[:, 1]])
    other = np.concatenate([edges[:, 1], edges[:, 0]])
    eid = np.concatenate([np.arange(E)] * 2)
    order = np.argsort(ends, kind="stable")
    counts = np.bincount(ends, minlength=n_nodes)
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    return indptr, other[order].astype(np.int32), eid[order].astype(np.int32)


@dataclass(frozen=True)
class DecodingGraph:
    """A matching graph for the decoders: nodes, edges, observable masks, a boundary.

    Parameters
    ----------
    n_nodes : number of nodes (the boundary node included).
    edges : (E, 2) node pairs.
    crossing : (E, M) 0/1, the observables each edge flips (named like the membrane
        masks of :class:`~fbqc.network.SyndromeGraph`).
    boundary_node : the boundary node's index, or ``None``.

    Examples
    --------
    >>> g = DecodingGraph(4, np.array([[0, 1], [1, 2], [2, 3]]), np.array([[1], [0], [0]]),
    ...                   boundary_node=3)
    >>> UnionFindDecoder(g).decode_batch(np.array([[1, 0, 0, 0]])).tolist()
    [[1]]
    """

    n_nodes: int
    edges: np.ndarray
    crossing: np.ndarray
    boundary_node: int | None = None
    indptr: np.ndarray = field(init=False, repr=False)
    adj_node: np.ndarray = field(init=False, repr=False)
    adj_edge: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        n = self.n_nodes
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"n_nodes must be a positive integer, got {n!r}")
        edges = np.asarray(self.edges)
        if edges.ndim != 2 or edges.shape[1] != 2 or not np.issubdtype(edges.dtype, np.integer):
            raise ValueError(f"edges must be an (E, 2) integer array, got shape {edges.shape}")
        if edges.size and (edges.min() < 0 or edges.max() >= n):
            raise ValueError(f"edges must hold node indices in [0, {n})")
        if np.any(edges[:, 0] == edges[:, 1]):
            raise ValueError("edges must not be self-loops")
        cross = np.asarray(self.crossing)
        if cross.ndim != 2 or cross.shape[0] != edges.shape[0]:
            raise ValueError(f"crossing must have shape ({edges.shape[0]}, M), got {cross.shape}")
        b = self.boundary_node
        if b is not None and (isinstance(b, bool) or not isinstance(b, (int, np.integer))
                              or not 0 <= b < n):
            raise ValueError(f"boundary_node must be a node index in [0, {n}) or None, got {b!r}")
        object.__setattr__(self, "n_nodes", int(n))
        object.__setattr__(self, "edges", np.ascontiguousarray(edges, np.int32))
        object.__setattr__(self, "crossing", np.ascontiguousarray(cross != 0))
        object.__setattr__(self, "boundary_node", None if b is None else int(b))
        indptr, adj_node, adj_edge = _csr(int(n), self.edges)
        object.__setattr__(self, "indptr", indptr)
        object.__setattr__(self, "adj_node", adj_node)
        object.__setattr__(self, "adj_edge", adj_edge)

    @property
    def n_edges(self) -> int:
        return int(self.edges.shape[0])



def _as_2d(a: Any, S: int, E: int, name: str, dtype) -> np.ndarray:
    arr = np.asarray(a)
    if arr.dtype == np.bool_ and np.dtype(dtype) == np.uint8:
        arr = arr.view(np.uint8)  # same bytes, no copy
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != E or arr.shape[0] not in (1, S):
        raise ValueError(f"{name} must have shape ({S}, {E}) or ({E},), got {np.shape(a)}")
    if np.dtype(dtype) in (np.uint8, bool):  # a mask: 0/1 only (256 or 0.5 are refused)
        arr = check_binary_array(name, arr)
    return np.ascontiguousarray(arr, dtype=dtype)


class _Decoder:
    """Shared validation: the graph, the shots, the erasures and the weights."""

    name = ""

    def __init__(self, graph: SyndromeGraph | DecodingGraph):
        if not isinstance(graph, (SyndromeGraph, DecodingGraph)):
            raise TypeError("graph must be a SyndromeGraph or a DecodingGraph, got "
                            f"{type(graph).__name__}")
        self.graph = graph
        b = getattr(graph, "boundary_node", None)
        if b is None and isinstance(graph, SyndromeGraph):
            b = graph.boundary if graph.boundary >= 0 else None  # an open block's graph
        self.boundary = -1 if b is None else int(b)
        self._eu = np.ascontiguousarray(graph.edges[:, 0], np.int32)
        self._ev = np.ascontiguousarray(graph.edges[:, 1], np.int32)
        self._obs = np.ascontiguousarray(graph.crossing, np.uint8)

    @property
    def n_observables(self) -> int:
        return int(self._obs.shape[1])

    def _syndromes(self, syndromes: Any) -> np.ndarray:
        g = self.graph
        syn = np.asarray(syndromes)
        if syn.ndim == 1:
            syn = syn[None, :]
        if syn.ndim != 2 or syn.shape[1] != g.n_nodes:
            raise ValueError(f"syndromes must have shape (S, {g.n_nodes}), got {syn.shape}")
        syn = check_binary_array("syndromes", syn)  # 0/1 only: 0.5 or 2 are refused
        if self.boundary >= 0 and syn[:, self.boundary].any():
            syn = syn.copy()
            syn[:, self.boundary] = 0
        return syn

    def _erased(self, erased: Any, S: int) -> np.ndarray | None:
        if erased is None:
            return None
        return _as_2d(erased, S, self.graph.n_edges, "erased", np.uint8)

    def _weights(self, weights: Any, S: int) -> np.ndarray:
        E = self.graph.n_edges
        w = np.ones((1, E)) if weights is None else _as_2d(weights, S, E, "weights",
                                                             np.float64)
        if np.any(w < 0) or np.any(np.isnan(w)):
            raise ValueError("weights must be >= 0 (use edge_weights(p))")
        return w

    def decode_batch(self, syndromes: np.ndarray, erased: np.ndarray | None = None,
                     weights: np.ndarray | None = None) -> np.ndarray:
        """Observable flips ``(S, M)`` uint8 of the corrections of ``S`` shots.

        ``syndromes`` (S, N); ``erased`` (S, E) or (E,) bool; ``weights`` (S, E) or (E,)
        non-negative edge lengths, e.g. ``edge_weights(p)`` (default: all 1).
        """
        syn = self._syndromes(syndromes)
        S = syn.shape[0]
        return self._decode(syn, self._erased(erased, S), self._weights(weights, S),
                            False)[0]

    def decode(self, syndrome: np.ndarray, erased: np.ndarray | None = None,
               weights: np.ndarray | None = None) -> np.ndarray:
        """The correction (uint8 per edge) of one shot."""
        syn = np.asarray(syndrome)
        if syn.ndim != 1:
            raise ValueError(f"syndrome must be 1-D, got shape {syn.shape}")
        syn = self._syndromes(syn)
        return self._decode(syn, self._erased(erased, 1), self._weights(weights, 1),
                            True)[1][0]

    def _decode(self, syn, er, w, write_corr):  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.graph!r})"


def _full_erased(er: np.ndarray | None, S: int, E: int) -> np.ndarray:
    if er is None:
        return np.zeros((S, E), np.uint8)
    if er.shape[0] == 1 and S > 1:
        return np.ascontiguousarray(np.broadcast_to(er, (S, E)))
    return er


class UnionFindDecoder(_Decoder):
    """Weighted union-find decoder with erasure pre-growth and peeling, on one graph.

    Parameters
    ----------
    graph : :class:`~fbqc.network.SyndromeGraph` or :class:`DecodingGraph`.

    Examples
    --------
    >>> from fbqc.network import FusionNetwork
    >>> g = FusionNetwork("4star", 3).primal
    >>> dec = UnionFindDecoder(g)
    >>> syn = np.zeros((2, g.n_nodes), np.uint8)
    >>> dec.decode_batch(syn).tolist()
    [[0, 0, 0], [0, 0, 0]]
    """

    name = "uf"

    def _decode(self, syn, er, w, write_corr):
        g = self.graph
        S, E = syn.shape[0], g.n_edges
        par = np.empty((S, self.n_observables), np.uint8)
        corr = np.zeros((S, E) if write_corr else (1, 1), np.uint8)
        bad = K.uf_decode_batch(g.indptr, g.adj_node, g.adj_edge, self._eu, self._ev,
                                self.boundary, w, syn, _full_erased(er, S, E), self._obs, par,
                                corr, write_corr)
        if bad:
            raise ValueError(
                f"{bad} shot(s) have a syndrome that no growable edge can explain "
                "(check erased/weights: an odd cluster was surrounded by infinite weights)")
        return par, corr


class MatchingDecoder(_Decoder):
    """Minimum-weight perfect matching (PyMatching) with weight-0 erased edges.

    Uses PyMatching's public API only: ``Matching.from_check_matrix`` (rebuilt for every
    shot whose weights differ from the shared ones, i.e. every shot with an erasure) and
    ``decode`` / ``decode_batch``.

    Parameters
    ----------
    graph : the graph (a syndrome graph of a network, or a :class:`DecodingGraph`).

    Examples
    --------
    >>> from fbqc import FusionNetwork
    >>> g = FusionNetwork("6ring", 3).primal
    >>> flips = np.zeros(g.n_edges, np.uint8); flips[7] = 1
    >>> np.flatnonzero(MatchingDecoder(g).decode(g.syndrome(flips))).tolist()
    [7]
    """

    name = "mwpm"
    #: finite stand-in for an infinite weight (p = 0 edges)
    MAX_WEIGHT = 1e4

    def __init__(self, graph: SyndromeGraph | DecodingGraph):
        super().__init__(graph)
        from scipy.sparse import csc_matrix

        # checks = the non-boundary nodes; an edge to the boundary has one check
        # (PyMatching's convention for a boundary edge)
        n, E = graph.n_nodes, graph.n_edges
        row_of = np.arange(n)
        if self.boundary >= 0:
            row_of = np.where(row_of < self.boundary, row_of, row_of - 1)
            row_of[self.boundary] = -1
        ends = row_of[np.asarray(graph.edges)]
        keep = ends >= 0
        cols = np.broadcast_to(np.arange(E)[:, None], ends.shape)
        self._H = csc_matrix((np.ones(int(keep.sum()), np.uint8), (ends[keep], cols[keep])),
                             shape=(n - (self.boundary >= 0), E))
        self._rows = (np.flatnonzero(np.arange(n) != self.boundary)
                      if self.boundary >= 0 else None)
        self._F = csc_matrix(self._obs.T)
        self._Fcorr = None
        self._cache: dict[bytes, Any] = {}

    def _matching(self, w: np.ndarray, faults=None):
        import pymatching

        w = np.ascontiguousarray(np.minimum(w, self.MAX_WEIGHT), dtype=np.float64)
        return pymatching.Matching.from_check_matrix(
            self._H, weights=w, faults_matrix=self._F if faults is None else faults,
            use_virtual_boundary_node=False)

    def _base(self, w_row: np.ndarray):
        key = w_row.tobytes()
        m = self._cache.get(key)
        if m is None:
            if len(self._cache) > 4:
                self._cache.clear()
            m = self._matching(w_row)
            self._cache[key] = m
        return m

    def _checks(self, syn: np.ndarray) -> np.ndarray:
        return syn if self._rows is None else np.ascontiguousarray(syn[:, self._rows])

    def _decode(self, syn, er, w, write_corr):
        S, E = syn.shape[0], self.graph.n_edges
        chk = self._checks(syn)
        if write_corr:
            from scipy.sparse import identity

            if self._Fcorr is None:
                self._Fcorr = identity(E, dtype=np.uint8, format="csc")
            ws = w[0].copy()
            if er is not None:
                ws[er[0].astype(bool)] = 0.0
            corr = self._matching(ws, self._Fcorr).decode(chk[0]).astype(np.uint8)
            return None, corr[None, :]
        out = np.zeros((S, self.n_observables), np.uint8)
        has_er = (np.zeros(S, bool) if er is None
                  else (er.any(axis=1) if er.shape[0] == S else np.full(S, er.any())))
        if w.shape[0] == 1:
            if not has_er.any():
                out[:] = self._base(w[0]).decode_batch(chk)
                return out, None
            plain = np.flatnonzero(~has_er)
            if plain.size:
                out[plain] = self._base(w[0]).decode_batch(chk[plain])
            rest = np.flatnonzero(has_er)
        else:
            rest = np.arange(S)
        for s in rest.tolist():
            if not chk[s].any():
                continue
            ws = (w[s] if w.shape[0] > 1 else w[0]).copy()
            if er is not None:
                ws[(er[s] if er.shape[0] > 1 else er[0]).astype(bool)] = 0.0
            out[s] = self._matching(ws).decode(chk[s])
        return out, None


class FusionBlossomDecoder(_Decoder):
    """Exact minimum-weight perfect matching with fusion-blossom, erasures per shot.

    One ``fusion_blossom.SolverSerial`` per graph (the boundary node, if any, is its
    virtual vertex).  Edge weights become even integers,
    ``2 * round(max_half_weight * w / w_max)`` (``w_max``: the largest finite weight; an
    infinite weight becomes one larger than all finite weights together, so it is used
    only when nothing else can explain the syndrome).  Per shot, erased edges go through
    the solver's erasure input (weight 0 for that shot); per-shot weights go through its
    dynamic weights.

    Parameters
    ----------
    graph : :class:`~fbqc.network.SyndromeGraph` or :class:`DecodingGraph`.
    max_half_weight : half the integer weight of the heaviest finite edge (the weight
        resolution; fusion-blossom's own convention).

    Raises
    ------
    ImportError
        Without the optional extra: ``pip install 'erasurelab[blossom]'``.
    WeightOverflowError
        When the integer weights could overflow the solver's 64-bit arithmetic: the sum
        of all integer edge weights times ``n_nodes + 1`` must stay below ``2**62``.

    Examples
    --------
    >>> from fbqc.network import FusionNetwork
    >>> g = FusionNetwork("4star", 3).dual
    >>> erased = np.zeros((2, g.n_edges), bool); erased[:, [4, 9]] = True
    >>> flips = erased & np.array([[True], [False]])          # shot 0: both erased flip
    >>> pred = FusionBlossomDecoder(g).decode_batch(g.syndrome(flips), erased)
    >>> bool(np.array_equal(pred, g.membrane_parity(flips)))
    True
    """

    name = "fusion-blossom"
    #: ``sum(integer weights) * (n_nodes + 1)`` must stay below this
    INT_LIMIT = 2**62

    def __init__(self, graph: SyndromeGraph | DecodingGraph, *,
                 max_half_weight: int = 5000):
        super().__init__(graph)
        try:
            import fusion_blossom
        except ImportError as exc:
            raise ImportError(BLOSSOM_HINT) from exc
        if (isinstance(max_half_weight, bool)
                or not isinstance(max_half_weight, (int, np.integer)) or max_half_weight < 1):
            raise ValueError(f"max_half_weight must be a positive integer, got "
                             f"{max_half_weight!r}")
        self._fb = fusion_blossom
        self.max_half_weight = int(max_half_weight)
        self._virtual = [] if self.boundary < 0 else [self.boundary]
        self._solvers: dict[bytes, tuple[Any, np.ndarray]] = {}

    def integer_weights(self, w: np.ndarray) -> np.ndarray:
        """The even integer weights (int64) fusion-blossom gets for float weights ``w``.

        >>> from fbqc.network import FusionNetwork
        >>> dec = FusionBlossomDecoder(FusionNetwork("6ring", 3).primal, max_half_weight=10)
        >>> dec.integer_weights(np.array([2.0, 1.0, 0.0, np.inf] + [2.0] * 158))[:4].tolist()
        [20, 10, 0, 3192]
        """
        w = np.asarray(w, np.float64)
        fin = np.isfinite(w)
        wmax = float(w[fin].max()) if fin.any() else 0.0
        half = (np.rint(w[fin] / wmax * self.max_half_weight) if wmax > 0
                else np.zeros(int(fin.sum())))
        finite_total = 2 * sum(int(x) for x in half)  # exact, in Python integers
        forbidden = finite_total + 2
        total = finite_total + forbidden * int((~fin).sum())
        if total * (self.graph.n_nodes + 1) >= self.INT_LIMIT:
            raise WeightOverflowError(
                f"weights overflow fusion-blossom's integer range: the integer weights sum "
                f"to {total}, and {total} * (n_nodes + 1) must stay below 2**62 "
                "(reduce max_half_weight)")
        out = np.empty(w.shape, np.int64)
        out[fin] = 2 * half.astype(np.int64)
        out[~fin] = forbidden
        return out

    def _solver(self, w_row: np.ndarray):
        key = w_row.tobytes()
        hit = self._solvers.get(key)
        if hit is None:
            wi = self.integer_weights(w_row)
            g = self.graph
            edges = [(int(u), int(v), int(x)) for (u, v), x in zip(g.edges.tolist(), wi)]
            init = self._fb.SolverInitializer(g.n_nodes, edges, self._virtual)
            if len(self._solvers) > 4:
                self._solvers.clear()
            hit = (self._fb.SolverSerial(init), wi)
            self._solvers[key] = hit
        return hit

    def _decode(self, syn, er, w, write_corr):
        S, E = syn.shape[0], self.graph.n_edges
        obs = self._obs.astype(bool)
        out = np.zeros((S, self.n_observables), np.uint8)
        corr = np.zeros((S, E) if write_corr else (1, 1), np.uint8)
        solver, base = self._solver(w[0])
        pattern = self._fb.SyndromePattern
        for s in range(S):
            defects = np.flatnonzero(syn[s]).tolist()
            if not defects:
                continue
            erased = ([] if er is None else
                      np.flatnonzero(er[s] if er.shape[0] > 1 else er[0]).tolist())
            if w.shape[0] > 1 and not np.array_equal(w[s], w[0]):
                wi = self.integer_weights(w[s])
                if erased:
                    wi[erased] = 0
                diff = np.flatnonzero(wi != base)
                solver.solve(pattern(defect_vertices=defects,
                                     dynamic_weights=list(zip(diff.tolist(),
                                                              wi[diff].tolist()))))
            else:
                solver.solve(pattern(defect_vertices=defects, erasures=erased))
            sub = np.asarray(solver.subgraph(), np.int64)
            solver.clear()
            if sub.size:
                out[s] = np.bitwise_xor.reduce(obs[sub], axis=0)
                if write_corr:
                    corr[s, sub] = 1
        return out, corr


class LocalMatchingDecoder(_Decoder):
    """``"local-mwpm"``: minimum-weight perfect matching among nearby defects, erasures
    contracted per shot.

    Per shot with erasures: the erased (and weight-0) edges are contracted, so an
    erased component with an odd number of detection events is one defect and paths
    cross erased components for free (erased edges at weight 0, as for ``"mwpm"``).
    Every defect's candidate partners are the defects up to the larger of the distance
    of its ``knn``-th nearest defect and the distance of its nearest one plus ``reach``
    edges (ties included); on graphs whose weights are all equal one bit-parallel
    breadth-first search finds them for all defects at once.  An exact minimum-weight
    perfect matching among the candidates (Edmonds' blossom algorithm, in Numba) is then
    the matching of the whole graph unless the optimum pairs two defects that are not
    candidates of each other (none in 2500 shots at L = 12 with the defaults; more
    candidates are added whenever no perfect matching exists).  Shortest paths between
    the matched defects, then peeling inside the erased components, give the correction.
    Shots without erasure (when all shots share the weights) go to PyMatching's
    ``decode_batch``, which is exact and faster there.

    Parameters
    ----------
    graph : :class:`~fbqc.network.SyndromeGraph` or :class:`DecodingGraph`.
    knn : at least this many candidate partners per defect (>= 1).
    reach : candidates up to this many edges (of the largest weight) beyond the nearest
        defect (>= 0).
    pymatching_without_erasure : send erasure-free shots to PyMatching (default) rather
        than through the local matching.

    Examples
    --------
    >>> from fbqc.network import FusionNetwork
    >>> g = FusionNetwork("6ring", 4).primal
    >>> flips = np.zeros(g.n_edges, np.uint8); flips[[3, 40]] = 1
    >>> erased = np.zeros(g.n_edges, bool); erased[40] = True
    >>> corr = LocalMatchingDecoder(g).decode(g.syndrome(flips), erased)
    >>> bool(np.array_equal(g.syndrome(corr), g.syndrome(flips)))
    True
    """

    name = "local-mwpm"

    def __init__(self, graph: SyndromeGraph | DecodingGraph, *, knn: int = 1, reach: int = 1,
                 pymatching_without_erasure: bool = True):
        super().__init__(graph)
        if isinstance(knn, bool) or not isinstance(knn, (int, np.integer)) or knn < 1:
            raise ValueError(f"knn must be a positive integer, got {knn!r}")
        if isinstance(reach, bool) or not isinstance(reach, (int, np.integer)) or reach < 0:
            raise ValueError(f"reach must be a non-negative integer, got {reach!r}")
        self.knn = int(knn)
        self.reach = int(reach)
        self.pymatching_without_erasure = bool(pymatching_without_erasure)
        self._mwpm: MatchingDecoder | None = None
        #: total matching length per shot of the last local decode (integer units of
        #: :data:`fbqc._kernels.WEIGHT_SCALE` per edge of the largest weight)
        self.last_cost: np.ndarray | None = None

    def _local(self, syn, er, w, write_corr):
        g = self.graph
        S, E = syn.shape[0], g.n_edges
        par = np.empty((S, self.n_observables), np.uint8)
        corr = np.zeros((S, E) if write_corr else (1, 1), np.uint8)
        cost = np.empty(S, np.int64)
        bad = K.local_mwpm_decode_batch(g.indptr, g.adj_node, g.adj_edge, self._eu, self._ev,
                                        self.boundary, w, syn, _full_erased(er, S, E),
                                        self._obs, self.knn, self.reach, par, corr,
                                        write_corr, cost)
        self.last_cost = cost
        if bad:
            raise ValueError(
                f"{bad} shot(s) have a syndrome that no path can explain "
                "(check erased/weights: an odd set of defects is cut off by infinite weights)")
        return par, corr

    def _decode(self, syn, er, w, write_corr):
        S = syn.shape[0]
        if write_corr or not self.pymatching_without_erasure or w.shape[0] > 1:
            return self._local(syn, er, w, write_corr)
        has_er = (np.zeros(S, bool) if er is None
                  else (er.any(axis=1) if er.shape[0] == S else np.full(S, er.any())))
        if has_er.all():
            return self._local(syn, er, w, False)
        if self._mwpm is None:
            self._mwpm = MatchingDecoder(self.graph)
        if not has_er.any():
            return self._mwpm._decode(syn, None, w, False)
        out = np.empty((S, self.n_observables), np.uint8)
        plain = np.flatnonzero(~has_er)
        out[plain] = self._mwpm._decode(syn[plain], None, w, False)[0]
        rest = np.flatnonzero(has_er)
        if rest.size:
            er_r = er if er.shape[0] == 1 else er[rest]
            out[rest] = self._local(np.ascontiguousarray(syn[rest]), er_r, w, False)[0]
        return out, None


def erasure_windings(graph: SyndromeGraph, erased: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Basis and rank of the span of erased-cycle windings, per shot.

    Returns ``(basis, rank)``: ``basis`` (S, 3) int64 bit vectors (bit d = odd winding
    across membrane d), only the first ``rank[s]`` rows meaningful.

    >>> from fbqc.network import FusionNetwork
    >>> g = FusionNetwork("6ring", 4).primal
    >>> basis, rank = erasure_windings(g, np.ones(g.n_edges, bool))  # everything erased
    >>> rank.tolist(), sorted(basis[0].tolist())
    ([3], [1, 2, 4])
    """
    er = np.asarray(erased)
    if er.ndim == 1:
        er = er[None, :]
    if er.ndim != 2 or er.shape[1] != graph.n_edges:
        raise ValueError(f"erased must have shape (S, {graph.n_edges}), got {er.shape}")
    er = check_binary_array("erased", er)
    S = er.shape[0]
    basis = np.zeros((S, 3), np.int64)
    rank = np.zeros(S, np.int64)
    K.erasure_windings(graph.n_nodes, np.ascontiguousarray(graph.edges[:, 0]),
                       np.ascontiguousarray(graph.edges[:, 1]),
                       np.ascontiguousarray(graph.crossing, np.uint8), er, basis, rank)
    return basis, rank


_CLASSES = {"uf": UnionFindDecoder, "mwpm": MatchingDecoder,
            "fusion-blossom": FusionBlossomDecoder, "local-mwpm": LocalMatchingDecoder}


def make_decoder(name: str, graph: SyndromeGraph | DecodingGraph, **options: Any) -> _Decoder:
    """A decoder object by name: one of :data:`GRAPH_DECODERS`.

    ``options`` go to the class (``knn`` / ``reach`` for ``"local-mwpm"``,
    ``max_half_weight`` for ``"fusion-blossom"``).

    >>> from fbqc.network import FusionNetwork
    >>> make_decoder("local-mwpm", FusionNetwork("6ring", 3).primal).name
    'local-mwpm'
    >>> make_decoder("bp", FusionNetwork("6ring", 3).primal)
    Traceback (most recent call last):
    ...
    ValueError: decoder must be one of ('uf', 'mwpm', 'fusion-blossom', 'local-mwpm'), got 'bp'
    """
    cls = _CLASSES.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(f"decoder must be one of {GRAPH_DECODERS}, got {name!r}")
    return cls(graph, **options)


def decode(graph: SyndromeGraph | DecodingGraph, syndrome: np.ndarray,
           erased: np.ndarray | None = None, weights: np.ndarray | None = None, *,
           decoder: str = "uf") -> np.ndarray:
    """Decode one shot on ``graph``: the correction, a uint8 array over its edges.

    Parameters
    ----------
    graph : :class:`~fbqc.network.SyndromeGraph` (``net.primal`` or ``net.dual``) or
        :class:`DecodingGraph`.
    syndrome : (n_nodes,) detection events.
    erased : (n_edges,) bool, heralded erased edges (optional).
    weights : (n_edges,) non-negative edge weights, e.g. ``edge_weights(p_edge)`` for
        per-edge flip probabilities (optional; default homogeneous).
    decoder : one of :data:`GRAPH_DECODERS`.
    """
    return make_decoder(decoder, graph).decode(syndrome, erased, weights)
