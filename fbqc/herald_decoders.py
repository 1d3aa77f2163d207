"""Herald-aware decoders for sinter: ``erasure-uf`` and ``erasure-mwpm``.

sinter's built-in decoders (pymatching, fusion_blossom, …) treat a herald detector like
any other detector, so heralded erasure (stim's ``HERALDED_ERASE`` and
``HERALDED_PAULI_CHANNEL_1``) is decoded as if the erasure location were unknown.  The
decoders here work on **any** stim circuit whose heralds are declared as detectors:

1. A detector is a *herald* when its last coordinate equals ``tag``
   (default :data:`HERALD_TAG` ``= -1``), e.g. ``DETECTOR(x, y, t, -1) rec[-1]`` right
   after ``HERALDED_ERASE``.  :func:`add_heralded_erasure` inserts such heralds into an
   existing circuit.
2. From the detector error model (built with ``approximate_disjoint_errors=True``, as
   sinter does) every error mechanism that flips a herald ``h`` is what happens *when*
   ``h`` fires; its other detectors (decomposed into graph edges) are the edges ``h``
   erases, with conditional flip probability ``P(mechanism) / P(h)`` (``1/2`` for a full
   erasure, i.e. weight 0).  :func:`herald_graph` returns this map.
3. Per shot the herald bits are removed from the syndrome, and the edges of the fired
   heralds are erased (weight 0) for that shot and decoded by one of the graph decoders
   of :mod:`fbqc.decoders` on :meth:`HeraldGraph.decoding_graph` (the detectors plus a
   boundary node): ``erasure-uf`` (weighted union-find, erased edges pre-grown, peeling;
   ML for pure erasure), ``erasure-mwpm`` (PyMatching rebuilt for that shot),
   ``erasure-fusion-blossom`` (exact matching with the solver's erasure input) or
   ``erasure-local-mwpm`` (exact matching among nearby defects, erased edges
   contracted).  Every one reads the model's weights ``log((1-p)/p)``.

Examples
--------
>>> import stim
>>> base = stim.Circuit.generated("repetition_code:memory", distance=3, rounds=2,
...                               before_round_data_depolarization=0.01)
>>> circ = add_heralded_erasure(base, 0.1)
>>> g = herald_graph(circ.detector_error_model(approximate_disjoint_errors=True))
>>> g.n_heralds
6
>>> dec = sinter_decoders()["erasure-uf"]
>>> sampler = circ.compile_detector_sampler(seed=1)
>>> dets, obs = sampler.sample(200, separate_observables=True, bit_packed=True)
>>> comp = dec.compile_decoder_for_dem(dem=circ.detector_error_model(
...     approximate_disjoint_errors=True))
>>> pred = comp.decode_shots_bit_packed(bit_packed_detection_event_data=dets)
>>> pred.shape
(200, 1)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import sinter
import stim

from sim.validate import check_binary_array

from .decoders import DecodingGraph, make_decoder

__all__ = [
    "HERALD_TAG",
    "ErasureDecoder",
    "HeraldGraph",
    "add_heralded_erasure",
    "herald_detectors",
    "herald_graph",
    "sinter_decoders",
]

#: Last detector coordinate that marks a detector as an erasure herald.
HERALD_TAG = -1.0
#: Probability used for the weight of an edge that only exists through heralds.
_P_FLOOR = 1e-9
METHODS = ("uf", "mwpm", "fusion-blossom", "local-mwpm")


def _check_tag(tag: Any) -> float:
    if isinstance(tag, bool) or not isinstance(tag, (int, float, np.integer, np.floating)):
        raise TypeError(f"tag must be a number, got {tag!r}")
    return float(tag)


def herald_detectors(dem: stim.DetectorErrorModel, *, tag: float = HERALD_TAG) -> np.ndarray:
    """Indices of the herald detectors of ``dem``: those whose last coordinate is ``tag``.

    >>> dem = stim.DetectorErrorModel("detector(0, 1, -1) D0\\ndetector(2, 3) D1")
    >>> herald_detectors(dem).tolist()
    [0]
    """
    if not isinstance(dem, stim.DetectorErrorModel):
        raise TypeError(f"dem must be a stim.DetectorErrorModel, got {type(dem).__name__}")
    tag = _check_tag(tag)
    coords = dem.get_detector_coordinates()
    out = [d for d, c in coords.items() if len(c) > 0 and c[-1] == tag]
    return np.array(sorted(out), dtype=np.int64)


@dataclass
class HeraldGraph:
    """The matching graph of a detector error model with heralds.

    Attributes
    ----------
    num_detectors, num_observables : sizes of the DEM.
    heralds : (H,) int64 herald detector indices.
    nodes : (N,) int64 the non-herald detectors; graph node ``i`` is detector
        ``nodes[i]``, node ``N`` is the boundary.
    edges : (E, 2) int64 node pairs (``N`` = boundary).
    edge_obs : (E, num_observables) uint8 observable flips of each edge.
    edge_p : (E,) float64 probability of each edge without heralds (0: herald-only).
    herald_indptr, herald_edges, herald_q : CSR map herald ``i`` → the edges it erases
        (``herald_edges[herald_indptr[i]:herald_indptr[i+1]]``) and each edge's flip
        probability given the herald (``0.5`` for a full erasure).
    n_dropped : errors that could not be decomposed into edges (ignored).
    """

    num_detectors: int
    num_observables: int
    heralds: np.ndarray
    nodes: np.ndarray
    edges: np.ndarray
    edge_obs: np.ndarray
    edge_p: np.ndarray
    herald_indptr: np.ndarray
    herald_edges: np.ndarray
    herald_q: np.ndarray
    n_dropped: int

    @property
    def n_heralds(self) -> int:
        return int(self.heralds.size)

    @property
    def n_nodes(self) -> int:
        return int(self.nodes.size)

    @property
    def n_edges(self) -> int:
        return int(self.edges.shape[0])

    def edge_map(self) -> dict[int, list[tuple[int, int]]]:
        """Herald detector → sorted list of erased edges as detector pairs (-1 = boundary).

        >>> c = stim.Circuit('''
        ... R 0 1
        ... HERALDED_ERASE(0.1) 0
        ... DETECTOR(0, 0, -1) rec[-1]
        ... M 0
        ... DETECTOR(0, 1) rec[-1]''')
        >>> herald_graph(c.detector_error_model(approximate_disjoint_errors=True)).edge_map()
        {0: [(-1, 1)]}
        """
        N = self.n_nodes
        det = np.append(self.nodes, -1)
        out: dict[int, list[tuple[int, int]]] = {}
        for i, h in enumerate(self.heralds.tolist()):
            es = self.herald_edges[self.herald_indptr[i] : self.herald_indptr[i + 1]]
            pairs = []
            for e in es.tolist():
                u, v = (int(det[min(x, N)]) for x in self.edges[e])
                pairs.append((min(u, v), max(u, v)))
            out[h] = sorted(pairs)
        return out

    def fired(self, herald_bits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(shot, entry)`` pairs of the fired heralds' erased edges: entry ``i`` is edge
        ``herald_edges[i]`` with flip probability ``herald_q[i]``."""
        hb = np.asarray(herald_bits, dtype=bool)
        rows, hs = np.nonzero(hb)
        if rows.size == 0:
            return rows, rows
        starts = self.herald_indptr[hs]
        counts = self.herald_indptr[hs + 1] - starts
        rr = np.repeat(rows, counts)
        offs = np.cumsum(counts) - counts
        idx = np.repeat(starts, counts) + np.arange(int(counts.sum())) - np.repeat(offs, counts)
        return rr, idx

    def erased_edges(self, herald_bits: np.ndarray) -> np.ndarray:
        """(S, E) uint8 erased-edge masks from (S, H) herald bits (q >= 0.5 edges only
        are erased; partial heralds lower the weight instead)."""
        out = np.zeros((np.shape(herald_bits)[0], self.n_edges), np.uint8)
        rr, idx = self.fired(herald_bits)
        full = self.herald_q[idx] >= 0.5 - 1e-12
        out[rr[full], self.herald_edges[idx[full]]] = 1
        return out

    def decoding_graph(self) -> DecodingGraph:
        """The graph for :mod:`fbqc.decoders`: the detectors, then the boundary node.

        >>> c = stim.Circuit.generated("repetition_code:memory", distance=3, rounds=2,
        ...                            before_round_data_depolarization=0.01)
        >>> dg = herald_graph(c.detector_error_model()).decoding_graph()
        >>> dg.n_nodes, dg.boundary_node
        (7, 6)
        """
        return DecodingGraph(self.n_nodes + 1, self.edges, self.edge_obs,
                             boundary_node=self.n_nodes)


def _odd(keys: list) -> list:
    """The keys that occur an odd number of times, in first-seen order."""
    cnt: dict = {}
    for k in keys:
        cnt[k] = cnt.get(k, 0) ^ 1
    return [k for k, c in cnt.items() if c]


def _decompose(dets: frozenset, obs: int, known: dict) -> list | None:
    """Split a symptom (detectors, obs mask) into known edges; None if impossible."""
    dl = sorted(dets)
    if len(dl) > 12:
        return None

    def rec(rem: tuple, acc_obs: int) -> list | None:
        if not rem:
            return [] if acc_obs == obs else None
        a = rem[0]
        rest = rem[1:]
        options = [((a, b), rest[:i] + rest[i + 1 :]) for i, b in enumerate(rest)]
        options.append(((a, -1), rest))
        for key, r2 in options:
            if key in known:
                sub = rec(r2, acc_obs ^ known[key])
                if sub is not None:
                    return [key, *sub]
        return None

    res = rec(tuple(dl), 0)
    if res is None:  # accept a detector-consistent decomposition if observables disagree
        def rec2(rem: tuple) -> list | None:
            if not rem:
                return []
            a, rest = rem[0], rem[1:]
            for i, b in [*enumerate(rest), (-1, -1)]:
                key = (a, b)
                r2 = rest if i < 0 else rest[:i] + rest[i + 1 :]
                if key in known:
                    sub = rec2(r2)
                    if sub is not None:
                        return [key, *sub]
            return None

        res = rec2(tuple(dl))
    return res


def herald_graph(dem: stim.DetectorErrorModel, *, tag: float = HERALD_TAG) -> HeraldGraph:
    """Build the matching graph and the herald → erased-edge map of ``dem``.

    ``dem`` may be decomposed (``^`` separators, as sinter builds it when it can) or not;
    hyperedges are split into edges that occur elsewhere in the model, and a herald
    mechanism's hyperedge that is the XOR of its other mechanisms is dropped (e.g. the
    ``Y`` of ``HERALDED_ERASE``).
    """
    hs = herald_detectors(dem, tag=tag)
    is_h = np.zeros(dem.num_detectors, bool)
    is_h[hs] = True
    mechs = []  # (p, herald tuple, list of components (dets frozenset, obs int), decomposed)
    for inst in dem.flattened():
        if inst.type != "error":
            continue
        p = float(inst.args_copy()[0])
        if p <= 0:
            continue
        comps: list[tuple[frozenset, int]] = []
        cur: set = set()
        cur_obs = 0
        herald_set: set = set()
        sep = False
        for t in [*inst.targets_copy(), None]:
            if t is None or t.is_separator():
                if t is not None:
                    sep = True
                comps.append((frozenset(cur), cur_obs))
                cur, cur_obs = set(), 0
            elif t.is_relative_detector_id():
                d = t.val
                if is_h[d]:
                    herald_set ^= {d}
                else:
                    cur ^= {d}
            elif t.is_logical_observable_id():
                cur_obs ^= 1 << t.val
        comps = [c for c in comps if c[0] or c[1]]
        mechs.append((p, tuple(sorted(herald_set)), comps, sep))
    # graphlike components form the known edge set
    base: dict[tuple[int, int], list] = {}  # key -> [obs, p_base, p_max]
    known: dict[tuple[int, int], int] = {}

    def key_of(d: frozenset) -> tuple[int, int] | None:
        dl = sorted(d)
        if len(dl) == 1:
            return (dl[0], -1)
        if len(dl) == 2:
            return (dl[0], dl[1])
        return None

    for _p, _hset, comps, _sep in mechs:
        for d, o in comps:
            k = key_of(d)
            if k is not None and k not in known:
                known[k] = o
    n_dropped = 0
    herald_edges: dict[int, dict[tuple[int, int], float]] = {int(h): {} for h in hs}
    herald_p: dict[int, float] = {int(h): 0.0 for h in hs}
    by_herald: dict[int, list] = {int(h): [] for h in hs}
    nd = dem.num_detectors
    for p, hset, comps, sep in mechs:
        if hset:
            for h in hset:
                by_herald[h].append((p, comps, sep))
            continue
        keys: list[tuple[int, int]] = []
        ok = True
        for d, o in comps:
            if not d:
                continue  # undetectable observable flip
            k = key_of(d)
            if k is None:
                sub = _decompose(d, o, known)
                if sub is None:
                    ok = False
                    break
                keys.extend(sub)
            else:
                keys.append(k)
        if not ok:
            n_dropped += 1
            continue
        for k in _odd(keys):
            if k in base:
                q = base[k][1]
                base[k][1] = q * (1 - p) + p * (1 - q)
            else:
                base[k] = [known.get(k, 0), p]
    for h, ms in by_herald.items():
        # total symptom of each mechanism as a bit mask (detectors, then observables)
        entries = []
        for p, comps, sep in ms:
            herald_p[h] += p
            mask = 0
            for d, o in comps:
                for x in d:
                    mask ^= 1 << x
                mask ^= o << nd
            entries.append((p, mask, comps, sep))
        # greedy GF(2) basis, lightest symptoms first
        basis: list[tuple[int, int, int]] = []  # (reduced vector, pivot, combo of kept ids)
        kept: list[tuple[int, list, bool]] = []
        for _p, mask, comps, sep in sorted(entries,
                                           key=lambda t: (bin(t[1]).count("1"), t[1])):
            if mask == 0:
                continue
            v, combo = mask, 0
            for bv, piv, bc in basis:
                if (v >> piv) & 1:
                    v ^= bv
                    combo ^= bc
            if v:
                kid = len(kept)
                kept.append((mask, comps, sep))
                basis.append((v, v.bit_length() - 1, combo ^ (1 << kid)))
        qk = [0.0] * len(kept)
        for p, mask, _c, _s in entries:
            v, combo = mask, 0
            for bv, piv, bc in basis:
                if (v >> piv) & 1:
                    v ^= bv
                    combo ^= bc
            for kid in range(len(kept)):
                if (combo >> kid) & 1:
                    qk[kid] += p
        for kid, (mask, comps, sep) in enumerate(kept):
            dets = frozenset()
            for d, _o in comps:
                dets = dets ^ d
            obs = mask >> nd
            k = key_of(dets)
            if k is not None:
                keys = [k]
            elif sep and all(key_of(d) is not None for d, _o in comps if d):
                keys = [key_of(d) for d, _o in comps if d]
            else:
                keys = _decompose(dets, obs, known)
                if keys is None:
                    n_dropped += 1
                    continue
            for k2 in _odd(keys):
                herald_edges[h][k2] = herald_edges[h].get(k2, 0.0) + qk[kid]
                base.setdefault(k2, [known.get(k2, 0), 0.0])
    nodes = np.flatnonzero(~is_h).astype(np.int64)
    node_of = np.full(dem.num_detectors + 1, -1, np.int64)
    node_of[nodes] = np.arange(nodes.size)
    N = nodes.size
    node_of[-1] = N  # key -1 -> boundary
    keys_sorted = sorted(base)
    eidx = {k: i for i, k in enumerate(keys_sorted)}
    E = len(keys_sorted)
    M = dem.num_observables
    edges = np.zeros((E, 2), np.int64)
    edge_obs = np.zeros((E, M), np.uint8)
    edge_p = np.zeros(E)
    for i, k in enumerate(keys_sorted):
        edges[i] = (node_of[k[0]], node_of[k[1]])
        o = base[k][0]
        for m in range(M):
            edge_obs[i, m] = (o >> m) & 1
        edge_p[i] = base[k][1]
    indptr = [0]
    hedges: list[int] = []
    hq: list[float] = []
    for h in hs.tolist():
        ph = herald_p[h]
        for k in sorted(herald_edges[h]):
            hedges.append(eidx[k])
            hq.append(min(0.5, herald_edges[h][k] / ph) if ph > 0 else 0.0)
        indptr.append(len(hedges))
    return HeraldGraph(
        num_detectors=dem.num_detectors, num_observables=M, heralds=hs, nodes=nodes,
        edges=edges, edge_obs=edge_obs, edge_p=edge_p,
        herald_indptr=np.array(indptr, np.int64), herald_edges=np.array(hedges, np.int64),
        herald_q=np.array(hq, float), n_dropped=n_dropped,
    )


def _weight(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, float), _P_FLOOR, 0.5)
    return np.log((1 - p) / p)


class _CompiledErasureDecoder(sinter.CompiledDecoder):
    def __init__(self, graph: HeraldGraph, method: str, **options: Any):
        self.g = graph
        self.method = method
        self.base_w = _weight(graph.edge_p)
        self.herald_w = _weight(graph.herald_q)
        self.dec = make_decoder(method, graph.decoding_graph(), **options)

    def decode_shots_bit_packed(self, *, bit_packed_detection_event_data: np.ndarray
                                ) -> np.ndarray:
        g = self.g
        dets = np.unpackbits(bit_packed_detection_event_data, axis=1, count=g.num_detectors,
                             bitorder="little")
        pred = self.decode(dets)
        return np.packbits(pred, axis=1, bitorder="little")

    def weights(self, herald_bits: np.ndarray) -> np.ndarray:
        """Edge weights ``(1, E)``, or ``(S, E)`` when a partial herald fired: an edge a
        fired herald flips with probability ``q < 1/2`` gets ``min(w, log((1-q)/q))``."""
        rows, idx = self.g.fired(herald_bits)
        part = self.g.herald_q[idx] < 0.5 - 1e-12
        if not part.any():
            return self.base_w[None, :]
        w = np.repeat(self.base_w[None, :], herald_bits.shape[0], axis=0)
        np.minimum.at(w, (rows[part], self.g.herald_edges[idx[part]]), self.herald_w[idx[part]])
        return w

    def decode(self, dets: np.ndarray) -> np.ndarray:
        """Decode unpacked (S, num_detectors) detection events → (S, num_observables)."""
        g = self.g
        dets = check_binary_array("dets", dets, ndim=2)  # 0/1 only: 2 or 0.5 are refused
        if dets.shape[1] != g.num_detectors:
            raise ValueError(f"dets must have shape (S, {g.num_detectors}), got {dets.shape}")
        S = dets.shape[0]
        hb = dets[:, g.heralds].astype(bool)
        syn = np.zeros((S, g.n_nodes + 1), np.uint8)
        syn[:, : g.n_nodes] = dets[:, g.nodes]
        return self.dec.decode_batch(syn, g.erased_edges(hb), self.weights(hb))


class ErasureDecoder(sinter.Decoder):
    """A herald-aware :class:`sinter.Decoder` on one of the graph decoders.

    Parameters
    ----------
    method : ``"uf"`` (weighted union-find with erased edges pre-grown, see
        :class:`fbqc.decoders.UnionFindDecoder`), ``"mwpm"`` (PyMatching, erased edges at
        weight 0, rebuilt for each shot with a fired herald), ``"fusion-blossom"``
        (exact matching, erasures through the solver's erasure input; optional extra
        ``blossom``) or ``"local-mwpm"`` (exact matching among nearby defects, erased
        edges contracted, :class:`fbqc.decoders.LocalMatchingDecoder`).  Every method reads
        the detector error model's weights ``log((1-p)/p)``; an edge of a fired herald is
        erased (``q = 1/2``) or reweighted with its conditional flip probability ``q``.
    tag : the last detector coordinate that marks a herald.
    **options : passed to the graph decoder (``knn``, ``max_half_weight``).
    """

    def __init__(self, method: str = "uf", *, tag: float = HERALD_TAG, **options: Any):
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")
        self.method = method
        self.tag = _check_tag(tag)
        self.options = options

    def compile_decoder_for_dem(self, *, dem: stim.DetectorErrorModel
                                ) -> _CompiledErasureDecoder:
        return _CompiledErasureDecoder(herald_graph(dem, tag=self.tag), self.method,
                                       **self.options)

    def __repr__(self) -> str:
        return f"ErasureDecoder({self.method!r}, tag={self.tag})"


def sinter_decoders(*, tag: float = HERALD_TAG) -> dict[str, ErasureDecoder]:
    """``{"erasure-uf": …, "erasure-mwpm": …, …}`` for ``sinter.collect(custom_decoders=…)``.

    >>> sorted(sinter_decoders())
    ['erasure-fusion-blossom', 'erasure-local-mwpm', 'erasure-mwpm', 'erasure-uf']
    """
    return {f"erasure-{m}": ErasureDecoder(m, tag=tag) for m in METHODS}


def add_heralded_erasure(circuit: stim.Circuit, p: float, *, after: str = "DEPOLARIZE1",
                         tag: float = HERALD_TAG) -> stim.Circuit:
    """Insert ``HERALDED_ERASE(p)`` (plus one herald detector per qubit) after every
    ``after`` instruction, on the same qubits.

    The circuit is flattened; measurement-record lookbacks of later detectors,
    observables and feedback are rewritten to skip the inserted herald records.  Herald
    detectors get coordinates ``(*qubit_coords, k, tag)`` with ``k`` the insertion index.

    >>> c = stim.Circuit.generated("surface_code:rotated_memory_x", distance=3, rounds=3,
    ...                            before_round_data_depolarization=0.001)
    >>> e = add_heralded_erasure(c, 0.05)
    >>> e.num_detectors - c.num_detectors
    27
    >>> _ = e.detector_error_model(approximate_disjoint_errors=True)
    """
    if not isinstance(circuit, stim.Circuit):
        raise TypeError(f"circuit must be a stim.Circuit, got {type(circuit).__name__}")
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
        raise ValueError(f"p must be a probability in [0, 1], got {p!r}")
    tag = _check_tag(tag)
    flat = circuit.flattened()
    qc = circuit.get_final_qubit_coordinates()
    out = stim.Circuit()
    orig_to_new: list[int] = []
    n_new = 0
    k = 0
    for inst in flat:
        targets = inst.targets_copy()
        if any(t.is_measurement_record_target for t in targets):
            nt = []
            for t in targets:
                if t.is_measurement_record_target:
                    abs_orig = len(orig_to_new) + t.value
                    nt.append(stim.target_rec(orig_to_new[abs_orig] - n_new))
                else:
                    nt.append(t)
            inst = stim.CircuitInstruction(inst.name, nt, inst.gate_args_copy())
        out.append(inst)
        one = stim.Circuit()
        one.append(inst)
        m = one.num_measurements
        orig_to_new.extend(range(n_new, n_new + m))
        n_new += m
        if inst.name == after and p > 0:
            qs = [t.value for t in targets if t.is_qubit_target]
            out.append("HERALDED_ERASE", qs, p)
            n_new += len(qs)
            for i, q in enumerate(qs):
                c = [*qc.get(q, []), float(k), tag]
                out.append("DETECTOR", [stim.target_rec(i - len(qs))], c)
            k += 1
    return out
