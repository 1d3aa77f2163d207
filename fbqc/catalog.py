"""Built-in fusion-network descriptions and the registry of network names.

Every network here is a :class:`fbqc.description.FusionDescription`; its checks, syndrome
graphs and membranes are *derived* (:func:`fbqc.description.derive`), not hand-coded.
All of them live on the Raussendorf (RHG) lattice: six sites per cell, the faces
``F(a, k)`` (⊥ k, lower corner ``a``, centre ``a + (e_{k+1} + e_{k+2})/2``) and the
edges ``E(a, k)`` (from ``a`` along ``k``, centre ``a + e_k/2``).

``"6ring-d"``
    Bartolucci et al.'s 6-ring network from its description: two 6-ring graph states per
    cell, ``A(a)`` around the corner ``a`` and ``B(a)`` around ``a + (1, 1, 1)``; the two
    copies of every site are fused (``XX``, ``ZZ``).  Identical to the hand-built
    ``"6ring"`` up to relabelling (tests).
``"4star-d"``
    The 4-star network from its description: one 4-qubit GHZ state per site, one fusion
    per RHG edge (face qubit, edge qubit) measuring ``XZ`` and ``ZX``.  Identical to the
    hand-built ``"4star"`` up to relabelling.
``"12ring"``
    One 12-qubit ring per cell.  The RHG edges are split into cycles by choosing, at
    every site, how its four RHG edges pair up into the two cycles through its two
    copies (turning pairings only); the 6-ring network is one choice, and this one
    (pairings ``(0, 0, 0, 1, 1, 1)``: faces as the 6-ring, edges flipped) closes every
    cycle after 12 sites.  Each site's copies are fused (``XX``, ``ZZ``).  The primal graph
    is the cubic lattice plus ``±(e_i + e_j)``-type diagonals (not FCC), the dual is FCC:
    the two graphs differ.
``"3ghz"``
    Every RHG site split into two 3-qubit GHZ states joined by a fusion (``XX``, ``ZZ``),
    each half holding two of the site's four RHG edges (the half-split turns at a corner,
    as the 6-ring does); RHG edges are fusions ``XZ`` / ``ZX`` as in the 4-star.  The
    smallest entangled photonic resource state: 12 states, 36 qubits, 18 fusions per cell.
``"4star-bell"``
    One 4-qubit GHZ state per site and one Bell pair (2-qubit graph state) per RHG edge;
    each end of the pair is fused (``XX``, ``ZZ``) with the GHZ qubit of its site:
    entanglement between sites is distributed by Bell pairs.  Each syndrome-graph edge
    bundles 8 outcomes.

:func:`register_network` adds a description under its name; :func:`get_description`
returns one by name; :data:`NETWORKS` lists every name a sampler accepts (the hand-built
``"6ring"`` / ``"4star"`` and the registered descriptions).

Examples
--------
>>> d = get_description("12ring")
>>> cell = d.derive()
>>> [t.weight for t in cell.types], cell.hypergraph
([12, 12], (False, False))
"""

from __future__ import annotations

import numpy as np

from .description import Fusion, FusionDescription, Instance, ResourceState

__all__ = ["NETWORKS", "get_description", "network_names", "register_network",
           "ring_decomposition", "three_ghz"]

_E = np.eye(3, dtype=np.int64)


def _t(v) -> tuple[int, int, int]:
    return tuple(int(x) for x in v)  # type: ignore[return-value]


def _fpos(k: int) -> np.ndarray:
    return 0.5 * (_E[(k + 1) % 3] + _E[(k + 2) % 3])


def _epos(k: int) -> np.ndarray:
    return 0.5 * _E[k]


# --------------------------------------------------------------- ring decompositions
# A site's four RHG edges, by slot.  Face F(a,k): 'k2lo' E(a,k1), 'k2hi' E(a+e_k2,k1),
# 'k1lo' E(a,k2), 'k1hi' E(a+e_k1,k2).  Edge E(a,k): '+k2' F(a,k1), '-k2' F(a-e_k2,k1),
# '+k1' F(a,k2), '-k1' F(a-e_k1,k2)   (k1 = k+1, k2 = k+2 mod 3).
_FACE_PAIRS = {0: (("k2lo", "k1lo"), ("k2hi", "k1hi")), 1: (("k2lo", "k1hi"), ("k2hi", "k1lo"))}
_EDGE_PAIRS = {0: (("+k2", "+k1"), ("-k2", "-k1")), 1: (("+k2", "-k1"), ("-k2", "+k1"))}


def _nbrs(site: tuple) -> dict[str, tuple]:
    t, k, a = site
    a = np.array(a)
    k1, k2 = (k + 1) % 3, (k + 2) % 3
    if t == "F":
        return {"k2lo": ("E", k1, _t(a)), "k2hi": ("E", k1, _t(a + _E[k2])),
                "k1lo": ("E", k2, _t(a)), "k1hi": ("E", k2, _t(a + _E[k1]))}
    return {"+k2": ("F", k1, _t(a)), "-k2": ("F", k1, _t(a - _E[k2])),
            "+k1": ("F", k2, _t(a)), "-k1": ("F", k2, _t(a - _E[k1]))}


def _site_pos(site: tuple) -> np.ndarray:
    t, k, a = site
    return np.array(a, float) + (_fpos(k) if t == "F" else _epos(k))


def _walk_cycle(pairs: dict, pairing: tuple[int, ...], t: str, k: int, pi: int
                ) -> list[tuple]:
    """The cycle through copy ``pi`` of site ``(t, k)`` at cell 0: ``[(site, copy), ...]``."""

    def partner(site, slot):
        for p, q in pairs[(site[0], site[1])]:
            if slot == p:
                return q
            if slot == q:
                return p
        raise AssertionError(slot)

    def slot_of(site, other):
        return next(s for s, n in _nbrs(site).items() if n == other)

    start = (t, k, (0, 0, 0))
    slot = pairs[(t, k)][pi][1]
    cyc = [(start, pi)]
    cur = start
    for _ in range(64):
        nxt = _nbrs(cur)[slot]
        back = slot_of(nxt, cur)
        npi = next(i for i, pr in enumerate(pairs[(nxt[0], nxt[1])]) if back in pr)
        slot = partner(nxt, back)
        cur = nxt
        if (cur[0], cur[1]) == (t, k) and npi == pi:
            if cur[2] != (0, 0, 0):
                raise ValueError(f"pairing {pairing}: a cycle does not close "
                                 "(it winds around the lattice)")
            return cyc
        cyc.append((cur, npi))
    raise ValueError(f"pairing {pairing}: a cycle is longer than 64 sites")


def ring_decomposition(pairing: tuple[int, ...], name: str, doc: str = "") -> FusionDescription:
    """The ring network of a turning pairing of the RHG sites' edges (``6`` bits: faces
    ``k = 0, 1, 2`` then edges ``k = 0, 1, 2``; 0/1 as in ``_FACE_PAIRS``/``_EDGE_PAIRS``).

    Each site's two copies (one per cycle through it) are fused with ``XX``/``ZZ``; the
    cycles (translation classes of them) become ring graph states.  Raises if a cycle
    does not close within 64 sites or a cycle class holds a site type twice (the unit
    cell would have to be enlarged).
    """
    if len(pairing) != 6 or any(p not in (0, 1) for p in pairing):
        raise ValueError(f"pairing must be six bits, got {pairing!r}")
    pairs = {("F", k): _FACE_PAIRS[pairing[k]] for k in range(3)}
    pairs.update({("E", k): _EDGE_PAIRS[pairing[3 + k]] for k in range(3)})

    # copy of a site = (type, k, pair index 0/1); walk the cycles of cell-0 copies
    seen: dict[tuple, tuple[int, int, tuple]] = {}  # (t,k,pair) -> (ring, position, offset)
    rings: list[list[tuple]] = []
    for t in "FE":
        for k in range(3):
            for pi in (0, 1):
                if (t, k, pi) in seen:
                    continue
                cyc = _walk_cycle(pairs, pairing, t, k, pi)
                r = len(rings)
                for pos, (s, i) in enumerate(cyc):
                    k2 = (s[0], s[1], i)
                    if k2 in seen:
                        raise ValueError(f"pairing {pairing}: a cycle holds a site type twice")
                    seen[k2] = (r, pos, s[2])
                rings.append(cyc)
    # ring r is anchored at cell 0 with its first site at offset 0; its qubit at position
    # p is the copy of site cyc[p] (at cell offset s[2] from the ring's cell)
    instances = []
    for r, cyc in enumerate(rings):
        n = len(cyc)
        pos = tuple(tuple(float(v) for v in _site_pos(s)) for s, _ in cyc)
        instances.append(Instance(f"R{r}", ResourceState.ring(n), pos))
    fusions = []
    for t in "FE":
        for k in range(3):
            # copies (t,k,0) and (t,k,1) of the site at cell 0: ring r_i at cell -offset
            ends = []
            for pi in (0, 1):
                r, p, off = seen[(t, k, pi)]
                ends.append((f"R{r}", p, _t(-np.array(off))))
            fusions.append(Fusion(f"{t}{k}", ends[0], ends[1], ("XX", "ZZ")))
    return FusionDescription(name, tuple(instances), tuple(fusions), doc=doc)


# --------------------------------------------------------------- the catalog
def _six_ring() -> FusionDescription:
    ring = ResourceState.ring(6)
    iF = {0: 3, 1: 5, 2: 1}  # ring position of F(., k)
    iE = {0: 0, 1: 2, 2: 4}
    posA = [None] * 6
    posB = [None] * 6
    one = np.ones(3)
    for k in range(3):
        posA[iF[k]] = _fpos(k)
        posA[iE[k]] = _epos(k)
        posB[iF[k]] = _E[k] + _fpos(k)
        posB[iE[k]] = one - 0.5 * _E[k]
    A = Instance("A", ring, tuple(tuple(map(float, p)) for p in posA))
    B = Instance("B", ring, tuple(tuple(map(float, p)) for p in posB))
    fus = [Fusion(f"F{k}", ("A", iF[k], (0, 0, 0)), ("B", iF[k], _t(-_E[k])), ("XX", "ZZ"))
           for k in range(3)]
    fus += [Fusion(f"E{k}", ("A", iE[k], (0, 0, 0)), ("B", iE[k], _t(_E[k] - 1)), ("XX", "ZZ"))
            for k in range(3)]
    return FusionDescription(
        "6ring-d", (A, B), tuple(fus),
        doc="Bartolucci et al.'s 6-ring network: two 6-rings per cell, sites fused XX/ZZ")


def _star_slots() -> list[tuple[int, int, int, np.ndarray]]:
    """(face k, slot i, edge direction, edge cell offset) of the 12 RHG edges of a cell."""
    out = []
    for k in range(3):
        k1, k2 = (k + 1) % 3, (k + 2) % 3
        out += [(k, 0, k1, 0 * _E[0]), (k, 1, k2, 0 * _E[0]), (k, 2, k1, _E[k2]),
                (k, 3, k2, _E[k1])]
    return out


def _four_star() -> FusionDescription:
    ghz = ResourceState.ghz(4)
    inst = [Instance(f"F{k}", ghz, position=tuple(map(float, _fpos(k)))) for k in range(3)]
    inst += [Instance(f"E{k}", ghz, position=tuple(map(float, _epos(k)))) for k in range(3)]
    # the edge GHZ's slot i is fused with the face of slot i (see the hand-built network)
    fus = [Fusion(f"F{k}.{i}", (f"F{k}", i, (0, 0, 0)), (f"E{ke}", i, _t(off)), ("XZ", "ZX"))
           for k, i, ke, off in _star_slots()]
    return FusionDescription(
        "4star-d", tuple(inst), tuple(fus),
        doc="the 4-star network: a 4-GHZ per RHG site, one XZ/ZX fusion per RHG edge")


def three_ghz(split: str = "turning", name: str | None = None) -> FusionDescription:
    """RHG sites split into two 3-GHZ states joined by an ``XX``/``ZZ`` fusion.

    ``split="turning"`` (the registered ``"3ghz"``): each half holds two RHG edges that
    meet at a corner of the site (slots ``{0, 1}`` and ``{2, 3}``), so every link ``ZZ``
    lies in two checks: a graph.  ``split="straight"``: each half holds two parallel
    edges (slots ``{0, 2}`` and ``{1, 3}``); then a link ``ZZ`` lies in four checks and
    the syndrome is a hypergraph (graph decoders refuse it).
    """
    if split not in ("turning", "straight"):
        raise ValueError(f"split must be 'turning' or 'straight', got {split!r}")
    ghz = ResourceState.ghz(3)
    # The edge GHZ's slots (see _star_slots): 0: F(a,k'+2), 1: F(a,k'+1),
    # 2: F(a-e_{k'+1},k'+2), 3: F(a-e_{k'+2},k'+1); a face's: 0: E(a,k1), 1: E(a,k2),
    # 2: E(a+e_k2,k1), 3: E(a+e_k1,k2).  Qubits 0, 1 of a half hold its two slots, qubit 2
    # is the link fused (XX, ZZ) with the other half.
    halves = {"turning": ((0, 1), (2, 3)), "straight": ((0, 2), (1, 3))}[split]
    where = {slot: (h, i) for h, pair in enumerate(halves) for i, slot in enumerate(pair)}
    inst = [Instance(f"{t}{k}{'ab'[h]}", ghz, position=tuple(map(float, pos(k))))
            for t, pos in (("F", _fpos), ("E", _epos)) for k in range(3) for h in (0, 1)]
    fus = []
    for k, i, ke, off in _star_slots():
        h, q = where[i]
        fus.append(Fusion(f"F{k}.{i}", (f"F{k}{'ab'[h]}", q, (0, 0, 0)),
                          (f"E{ke}{'ab'[h]}", q, _t(off)), ("XZ", "ZX")))
    fus += [Fusion(f"{t}{k}.link", (f"{t}{k}a", 2, (0, 0, 0)), (f"{t}{k}b", 2, (0, 0, 0)),
                   ("XX", "ZZ")) for t in "FE" for k in range(3)]
    return FusionDescription(
        name or ("3ghz" if split == "turning" else "3ghz-straight"), tuple(inst), tuple(fus),
        doc=f"RHG sites split into two 3-GHZ states ({split} halves), XZ/ZX fusions on RHG "
            "edges, XX/ZZ links")


def _four_star_bell() -> FusionDescription:
    ghz = ResourceState.ghz(4)
    bell = ResourceState.graph(2, [(0, 1)], name="Bell")
    inst = [Instance(f"F{k}", ghz, position=tuple(map(float, _fpos(k)))) for k in range(3)]
    inst += [Instance(f"E{k}", ghz, position=tuple(map(float, _epos(k)))) for k in range(3)]
    fus = []
    for k, i, ke, off in _star_slots():
        mid = 0.5 * (_fpos(k) + off + _epos(ke))
        pf = 0.5 * (_fpos(k) + mid)
        pe = 0.5 * (off + _epos(ke) + mid)
        inst.append(Instance(f"B{k}.{i}", bell, ((*map(float, pf),), (*map(float, pe),))))
        fus.append(Fusion(f"F{k}.{i}", (f"F{k}", i, (0, 0, 0)), (f"B{k}.{i}", 0, (0, 0, 0)),
                          ("XX", "ZZ")))
        fus.append(Fusion(f"E{k}.{i}", (f"B{k}.{i}", 1, (0, 0, 0)), (f"E{ke}", i, _t(off)),
                          ("XX", "ZZ")))
    return FusionDescription(
        "4star-bell", tuple(inst), tuple(fus),
        doc="a 4-GHZ per RHG site linked by one Bell pair per RHG edge, all fusions XX/ZZ")


_REGISTRY: dict[str, FusionDescription] = {}
#: Hand-built networks (``fbqc.network.FusionNetwork(kind, L)``).
HAND_BUILT = ("6ring", "4star")
#: Every network name a sampler accepts: hand-built first, then the registered descriptions.
NETWORKS: list[str] = list(HAND_BUILT)
#: The description each hand-built network is derived from (identical up to relabelling).
HAND_BUILT_DESCRIPTION = {"6ring": "6ring-d", "4star": "4star-d"}


def register_network(desc: FusionDescription, *, replace: bool = False) -> None:
    """Register ``desc`` under ``desc.name`` (samplers and the CLI accept the name).

    Registration is per process: a sweep with worker processes needs the description
    registered at import time (e.g. in a module the workers import), or use the built-in
    ones.
    """
    if not isinstance(desc, FusionDescription):
        raise TypeError(f"desc must be a FusionDescription, got {type(desc).__name__}")
    if desc.name in HAND_BUILT:
        raise ValueError(f"{desc.name!r} is a hand-built network name")
    if desc.name in _REGISTRY and not replace and _REGISTRY[desc.name] != desc:
        raise ValueError(f"a different network is already registered as {desc.name!r} "
                         "(pass replace=True)")
    _REGISTRY[desc.name] = desc
    if desc.name not in NETWORKS:
        NETWORKS.append(desc.name)


def get_description(name: str) -> FusionDescription:
    """The registered description called ``name`` (or of a hand-built network)."""
    name = HAND_BUILT_DESCRIPTION.get(name, name)
    if name not in _REGISTRY:
        raise ValueError(f"network must be one of {tuple(NETWORKS)}, got {name!r}")
    return _REGISTRY[name]


def network_names() -> tuple[str, ...]:
    """Every accepted network name."""
    return tuple(NETWORKS)


for _d in (_six_ring(), _four_star(),
           ring_decomposition((0, 0, 0, 1, 1, 1), "12ring",
                              doc="one 12-ring per cell (RHG cycles with flipped edge "
                                  "pairings); primal graph not FCC, dual FCC"),
           three_ghz(), _four_star_bell()):
    register_network(_d)
