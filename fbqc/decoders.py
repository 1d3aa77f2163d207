"""Decoders for the syndrome graphs of :mod:`fbqc.network`, by name.

``"uf"``
    Union-find (Delfosse–Nickerson) with erasure pre-growth and peeling; growth is
    *weighted*: every edge has a length ``w_e = log((1 − p_e)/p_e)`` and all boundary
    edges of odd clusters grow at the same speed (per odd side) until the next one
    saturates, so inhomogeneous probabilities (4-star bundles, linear optics) are
    honoured; erased edges (and ``p_e = 1/2``) have length 0.  Numba kernels in
    :mod:`fbqc._kernels`.
``"mwpm"``
    PyMatching on the same graph: erased edges at weight 0, others at ``log((1−p)/p)``.
    PyMatching has no per-shot weight API, so a shot with erasures rebuilds the matcher
    (``Matching.from_check_matrix`` on a cached check matrix); shots without erasures
    share one matcher and go through ``decode_batch``.
``"erasure-ml"``
    Exact maximum likelihood for pure erasure: a shot's possible logical errors are the
    span of the mod-2 windings of the erased subgraph's cycles (:func:`erasure_windings`);
    ML fails with probability 1/2 on every membrane the span touches.

Entry points for other code (e.g. the linear-optics model with per-edge probabilities):

* :func:`decode` ``(graph, syndrome, erased=None, weights=None, *, decoder="uf")`` →
  one shot's correction (uint8 per edge);
* :class:`UnionFindDecoder` / :class:`MatchingDecoder` ``(graph)`` with
  ``.decode_batch(syndromes, erased=None, weights=None)`` → ``(S, 3)`` uint8 membrane
  parities of the corrections (columns x, y, z of ``graph.crossing``);
* :func:`edge_weights` turns per-edge flip probabilities into weights.

Examples
--------
>>> from fbqc.network import FusionNetwork
>>> g = FusionNetwork("6ring", 4).primal
>>> flips = np.zeros(g.n_edges, np.uint8); flips[5] = 1
>>> corr = decode(g, g.syndrome(flips))
>>> np.flatnonzero(corr).tolist()
[5]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.validate import check_binary_array

from . import _kernels as K
from .network import SyndromeGraph

__all__ = [
    "DECODERS",
    "MatchingDecoder",
    "UnionFindDecoder",
    "decode",
    "edge_weights",
    "erasure_windings",
    "make_decoder",
]

DECODERS = ("uf", "mwpm", "erasure-ml")


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


def _as_2d(a: Any, S: int, E: int, name: str, dtype) -> np.ndarray:
    arr = np.asarray(a)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != E or arr.shape[0] not in (1, S):
        raise ValueError(f"{name} must have shape ({S}, {E}) or ({E},), got {np.shape(a)}")
    if np.dtype(dtype) in (np.uint8, bool):  # a mask: 0/1 only (256 or 0.5 are refused)
        arr = check_binary_array(name, arr)
    return np.ascontiguousarray(arr, dtype=dtype)


class UnionFindDecoder:
    """Weighted union-find decoder with erasure pre-growth and peeling, on one graph.

    Parameters
    ----------
    graph : :class:`~fbqc.network.SyndromeGraph`.

    Examples
    --------
    >>> from fbqc.network import FusionNetwork
    >>> g = FusionNetwork("4star", 3).primal
    >>> dec = UnionFindDecoder(g)
    >>> syn = np.zeros((2, g.n_nodes), np.uint8)
    >>> dec.decode_batch(syn).tolist()
    [[0, 0, 0], [0, 0, 0]]
    """

    def __init__(self, graph: SyndromeGraph):
        if not isinstance(graph, SyndromeGraph):
            raise TypeError(f"graph must be a SyndromeGraph, got {type(graph).__name__}")
        self.graph = graph
        self._eu = np.ascontiguousarray(graph.edges[:, 0])
        self._ev = np.ascontiguousarray(graph.edges[:, 1])
        self._cross = np.ascontiguousarray(graph.crossing, np.uint8)
        self._unit = np.ones((1, graph.n_edges))

    def _run(self, syndromes, erased, weights, write_corr):
        g = self.graph
        syn = np.asarray(syndromes)
        if syn.ndim == 1:
            syn = syn[None, :]
        if syn.ndim != 2 or syn.shape[1] != g.n_nodes:
            raise ValueError(f"syndromes must have shape (S, {g.n_nodes}), got {syn.shape}")
        syn = check_binary_array("syndromes", syn)  # 0/1 only: 0.5 or 2 are refused
        S, E = syn.shape[0], g.n_edges
        er = (np.zeros((S, E), np.uint8) if erased is None
              else _as_2d(erased, S, E, "erased", np.uint8))
        if er.shape[0] == 1 and S > 1:
            er = np.ascontiguousarray(np.broadcast_to(er, (S, E)))
        w = self._unit if weights is None else _as_2d(weights, S, E, "weights", np.float64)
        if np.any(w < 0) or np.any(np.isnan(w)):
            raise ValueError("weights must be >= 0 (use edge_weights(p))")
        par = np.empty((S, self._cross.shape[1]), np.uint8)
        if getattr(g, "boundary", -1) >= 0 and weights is None and not write_corr:
            # open block: the union-find kernel with a boundary node (unweighted growth)
            from ._herald_kernels import uf_boundary_decode_batch

            par[:] = 0
            bad = uf_boundary_decode_batch(g.indptr, g.adj_node, g.adj_edge, self._eu,
                                           self._ev, g.boundary, self._cross, syn, er, par)
            if bad:
                raise ValueError(f"{bad} shot(s) left an odd cluster without the boundary")
            return par, None
        corr = np.zeros((S, E) if write_corr else (1, 1), np.uint8)
        bad = K.uf_decode_batch(g.indptr, g.adj_node, g.adj_edge, self._eu, self._ev, w, syn,
                                er, self._cross, par, corr, write_corr)
        if bad:
            raise ValueError(
                f"{bad} shot(s) have a syndrome that no growable edge can explain "
                "(check erased/weights: an odd cluster was surrounded by infinite weights)")
        return par, corr

    def decode_batch(self, syndromes: np.ndarray, erased: np.ndarray | None = None,
                     weights: np.ndarray | None = None) -> np.ndarray:
        """Membrane parities ``(S, 3)`` uint8 of the corrections of ``S`` shots.

        ``syndromes`` (S, N); ``erased`` (S, E) or (E,) bool; ``weights`` (S, E) or (E,)
        non-negative edge lengths (default: all 1, i.e. homogeneous).
        """
        return self._run(syndromes, erased, weights, False)[0]

    def decode(self, syndrome: np.ndarray, erased: np.ndarray | None = None,
               weights: np.ndarray | None = None) -> np.ndarray:
        """The correction (uint8 per edge) of one shot."""
        syn = np.asarray(syndrome)
        if syn.ndim != 1:
            raise ValueError(f"syndrome must be 1-D, got shape {syn.shape}")
        return self._run(syn, erased, weights, True)[1][0]


class MatchingDecoder:
    """Minimum-weight perfect matching (PyMatching) with weight-0 erased edges.

    Parameters
    ----------
    graph : :class:`~fbqc.network.SyndromeGraph`.

    Examples
    --------
    >>> from fbqc.network import FusionNetwork
    >>> g = FusionNetwork("6ring", 3).primal
    >>> flips = np.zeros(g.n_edges, np.uint8); flips[7] = 1
    >>> np.flatnonzero(MatchingDecoder(g).decode(g.syndrome(flips))).tolist()
    [7]
    """

    #: finite stand-in for an infinite weight (p = 0 edges)
    MAX_WEIGHT = 1e4

    def __init__(self, graph: SyndromeGraph):
        if not isinstance(graph, SyndromeGraph):
            raise TypeError(f"graph must be a SyndromeGraph, got {type(graph).__name__}")
        from scipy.sparse import csc_matrix

        self.graph = graph
        self._H = graph.incidence()
        self._F = csc_matrix(np.ascontiguousarray(graph.crossing.T, np.uint8))
        self._H.eliminate_zeros()
        self._ep = -np.ones(graph.n_edges)
        self._fast = True
        self._Fcorr = None
        self._cache: dict[bytes, Any] = {}

    def _weights(self, w: np.ndarray) -> np.ndarray:
        return np.minimum(w, self.MAX_WEIGHT)

    def _matching(self, w: np.ndarray, faults=None):
        """A matcher with weights ``w``.  PyMatching has no per-shot reweighting, so this
        rebuilds only the C++ matching graph from the cached check matrix (skipping the
        Python-side checks of ``from_check_matrix``), falling back to the public path."""
        import pymatching

        w = np.ascontiguousarray(self._weights(w), dtype=np.float64)
        F = self._F if faults is None else faults
        if self._fast:
            try:
                from pymatching import _cpp_pymatching as cpp

                m = pymatching.Matching()
                m._matching_graph = cpp.sparse_column_check_matrix_to_matching_graph(
                    self._H, w, self._ep, "smallest-weight", False, 1, None, None, F)
                return m
            except (ImportError, AttributeError, TypeError):
                self._fast = False
        return pymatching.Matching.from_check_matrix(
            self._H, weights=w, faults_matrix=F, use_virtual_boundary_node=False)

    def _base(self, w_row: np.ndarray):
        key = w_row.tobytes()
        m = self._cache.get(key)
        if m is None:
            if len(self._cache) > 4:
                self._cache.clear()
            m = self._matching(w_row)
            self._cache[key] = m
        return m

    def decode_batch(self, syndromes: np.ndarray, erased: np.ndarray | None = None,
                     weights: np.ndarray | None = None) -> np.ndarray:
        """Membrane parities ``(S, 3)`` uint8 of the corrections (same API as UF)."""
        g = self.graph
        syn = np.asarray(syndromes)
        if syn.ndim == 1:
            syn = syn[None, :]
        if syn.ndim != 2 or syn.shape[1] != g.n_nodes:
            raise ValueError(f"syndromes must have shape (S, {g.n_nodes}), got {syn.shape}")
        syn = check_binary_array("syndromes", syn)  # 0/1 only: 0.5 or 2 are refused
        S, E = syn.shape[0], g.n_edges
        w = (np.ones((1, E)) if weights is None
             else _as_2d(weights, S, E, "weights", np.float64))
        if np.any(w < 0) or np.any(np.isnan(w)):
            raise ValueError("weights must be >= 0 (use edge_weights(p))")
        er = None if erased is None else _as_2d(erased, S, E, "erased", bool)
        out = np.zeros((S, 3), np.uint8)
        has_er = (np.zeros(S, bool) if er is None
                  else (er.any(axis=1) if er.shape[0] == S else np.full(S, er.any())))
        if w.shape[0] == 1:
            plain = np.flatnonzero(~has_er)
            if plain.size:
                out[plain] = self._base(w[0]).decode_batch(syn[plain])
            rest = np.flatnonzero(has_er)
        else:
            rest = np.arange(S)
        for s in rest:
            ws = (w[s] if w.shape[0] > 1 else w[0]).copy()
            if er is not None:
                ws[er[s] if er.shape[0] > 1 else er[0]] = 0.0
            if not syn[s].any():
                continue
            out[s] = self._matching(ws).decode(syn[s])
        return out

    def decode(self, syndrome: np.ndarray, erased: np.ndarray | None = None,
               weights: np.ndarray | None = None) -> np.ndarray:
        """The correction (uint8 per edge) of one shot."""
        from scipy.sparse import identity

        g = self.graph
        syn = np.asarray(syndrome, np.uint8)
        if syn.shape != (g.n_nodes,):
            raise ValueError(f"syndrome must have shape ({g.n_nodes},), got {syn.shape}")
        w = np.ones(g.n_edges) if weights is None else _as_2d(weights, 1, g.n_edges,
                                                             "weights", np.float64)[0].copy()
        if erased is not None:
            w[_as_2d(erased, 1, g.n_edges, "erased", bool)[0]] = 0.0
        if self._Fcorr is None:
            self._Fcorr = identity(g.n_edges, dtype=np.uint8, format="csc")
        return self._matching(w, self._Fcorr).decode(syn).astype(np.uint8)


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


def make_decoder(name: str, graph: SyndromeGraph) -> UnionFindDecoder | MatchingDecoder:
    """A decoder object by name (``"uf"`` or ``"mwpm"``)."""
    if name == "uf":
        return UnionFindDecoder(graph)
    if name == "mwpm":
        return MatchingDecoder(graph)
    raise ValueError(f"decoder must be 'uf' or 'mwpm' here, got {name!r}")


def decode(graph: SyndromeGraph, syndrome: np.ndarray, erased: np.ndarray | None = None,
           weights: np.ndarray | None = None, *, decoder: str = "uf") -> np.ndarray:
    """Decode one shot on ``graph``: the correction, a uint8 array over its edges.

    Parameters
    ----------
    graph : :class:`~fbqc.network.SyndromeGraph` (``net.primal`` or ``net.dual``).
    syndrome : (n_nodes,) detection events.
    erased : (n_edges,) bool, heralded erased edges (optional).
    weights : (n_edges,) non-negative edge weights, e.g. ``edge_weights(p_edge)`` for
        per-edge flip probabilities (optional; default homogeneous).
    decoder : ``"uf"`` or ``"mwpm"``.
    """
    return make_decoder(decoder, graph).decode(syndrome, erased, weights)
