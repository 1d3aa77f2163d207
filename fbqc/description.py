"""Fusion networks as descriptions: resource states, their placement in a unit cell, fusions.

A :class:`FusionDescription` states a translation-invariant fusion network on the cubic
lattice ``Z³``:

* **resource states** (:class:`ResourceState`): a graph state given by its graph
  (:meth:`ResourceState.graph`, :meth:`~ResourceState.ring`, :meth:`~ResourceState.star`)
  or any stabilizer state given by ``n`` independent commuting Pauli strings
  (:meth:`ResourceState.from_stabilizers`, :meth:`~ResourceState.ghz`);
* **instances** (:class:`Instance`): the copies of resource states in one unit cell, with
  optional qubit positions (cell units; used for coordinates only);
* **fusions** (:class:`Fusion`): which two qubits are fused — each named by
  ``(instance, qubit, cell offset)`` relative to the fusion's own cell — and the two
  commuting two-qubit Paulis measured (basis 0 and basis 1, e.g. ``("XX", "ZZ")``).  Every
  qubit must be in exactly one fusion.

From it :func:`derive` works out, by linear algebra over GF(2) on the binary symplectic
representation, everything a decoder needs (the result is a :class:`UnitCell`):

1. **Checks.**  A product of fusion outcomes is a check when it lies in the resource-state
   stabilizer group, i.e. commutes with every stabilizer generator (the group of a
   product of stabilizer states is maximal, so commuting with it means belonging to it
   up to sign).  The check group is the null space of the outcome × generator
   anticommutation matrix.  Local generators are found in growing windows of cells
   (``1³, 2³, 3³``), lightest first (a minimum-weight basis of each window's null space
   modulo the translates already found), and kept as translation classes (*check types*).
   Completeness is proved by counting: on periodic lattices of two sizes, the dimension
   of the full check group minus the rank of all translates of the types must be the
   same constant (the number of non-local, i.e. logical, checks), otherwise a local check
   is missing.  Declared checks (``checks=``) are verified instead of searched: each must
   commute with every generator (else the offending check is named) and together they
   must generate the local check group.
2. **Syndrome graphs.**  Check types that share an outcome are in the same group; there
   must be one or two groups (primal, and dual).  When every outcome lies in exactly two
   checks of its group the group is a *syndrome graph* (nodes = checks, edges =
   outcomes; outcomes with the same two checks form one edge, a *bundle*, when all
   bundles of the graph have the same size); when an outcome lies in more than two
   checks the group is a *hypergraph* and graph decoders are refused.
3. **Membranes** (in :class:`fbqc.network.FusionNetwork`): the product of a graph's
   outcomes whose edge crosses a lattice plane, verified to commute with every
   generator, i.e. a deterministic logical check.

Examples
--------
>>> ring = ResourceState.ring(6)
>>> ring.n, ring.stabilizers[0]
(6, 'XZIIIZ')
>>> ghz = ResourceState.ghz(3)
>>> ghz.stabilizers
('XXX', 'ZZI', 'ZIZ')
>>> ResourceState.from_stabilizers(["XX", "XZ"])
Traceback (most recent call last):
...
ValueError: stabilizers: generators 0 ('XX') and 1 ('XZ') anticommute
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from .gf2 import anticommutes, nullspace, rank, rref, symplectic

__all__ = [
    "CheckType",
    "Fusion",
    "FusionDescription",
    "Instance",
    "ResourceState",
    "UnitCell",
    "derive",
]

_PAULI = set("IXYZ")


# ------------------------------------------------------------------ resource states
@dataclass(frozen=True)
class ResourceState:
    """A stabilizer resource state: ``n`` independent commuting Pauli generators.

    Use the constructors: :meth:`graph`, :meth:`ring`, :meth:`star`, :meth:`ghz`,
    :meth:`from_stabilizers`.  ``edges`` is the graph of a graph state (``None`` for a
    state given by its stabilizers).
    """

    name: str
    stabilizers: tuple[str, ...]
    edges: tuple[tuple[int, int], ...] | None = None

    def __post_init__(self) -> None:
        st = self.stabilizers
        if not isinstance(st, tuple) or not st or not all(isinstance(s, str) for s in st):
            raise TypeError("stabilizers must be a non-empty tuple of Pauli strings")
        n = len(st)
        for i, s in enumerate(st):
            if len(s) != n or set(s.upper()) - _PAULI:
                raise ValueError(f"stabilizers: generator {i} ({s!r}) must be a Pauli string "
                                 f"of length {n} over I, X, Y, Z")
        x, z = self.symplectic()
        anti = anticommutes(x, z, x, z)
        if anti.any():
            i, j = map(int, np.argwhere(anti)[0])
            raise ValueError(f"stabilizers: generators {i} ({st[i]!r}) and {j} ({st[j]!r}) "
                             "anticommute")
        if rank(np.concatenate([x, z], axis=1)) != n:
            raise ValueError(f"stabilizers: the {n} generators are not independent, so they "
                             "do not fix a state")

    @property
    def n(self) -> int:
        """Number of qubits."""
        return len(self.stabilizers)

    def symplectic(self) -> tuple[np.ndarray, np.ndarray]:
        """``(x, z)`` bool ``(n, n)``: row ``i`` is generator ``i``."""
        rows = [symplectic(s) for s in self.stabilizers]
        return np.array([r[0] for r in rows]), np.array([r[1] for r in rows])

    @classmethod
    def graph(cls, n: int, edges: Any, name: str | None = None) -> ResourceState:
        """The graph state of a graph on ``n`` vertices (``H`` on all, ``CZ`` per edge).

        >>> ResourceState.graph(3, [(0, 1), (1, 2)]).stabilizers
        ('XZI', 'ZXZ', 'IZX')
        """
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"n must be a positive integer, got {n!r}")
        es = []
        for e in edges:
            a, b = (int(v) for v in e)
            if not (0 <= a < n and 0 <= b < n) or a == b:
                raise ValueError(f"edges: {tuple(e)!r} is not an edge of a graph on {n} vertices")
            es.append((min(a, b), max(a, b)))
        if len(set(es)) != len(es):
            raise ValueError("edges: repeated edge")
        rows = []
        for v in range(n):
            s = ["I"] * n
            s[v] = "X"
            for a, b in es:
                if v in (a, b):
                    s[b if a == v else a] = "Z"
            rows.append("".join(s))
        return cls(name or f"graph{n}", tuple(rows), tuple(es))

    @classmethod
    def ring(cls, n: int) -> ResourceState:
        """The ``n``-qubit ring (cycle) graph state, qubits in cyclic order."""
        return cls.graph(n, [(i, (i + 1) % n) for i in range(n)], name=f"{n}-ring")

    @classmethod
    def star(cls, n: int) -> ResourceState:
        """The ``n``-qubit star graph state (centre 0), local-Clifford equivalent to GHZ."""
        return cls.graph(n, [(0, i) for i in range(1, n)], name=f"{n}-star")

    @classmethod
    def ghz(cls, n: int) -> ResourceState:
        """The ``n``-qubit GHZ state: ``X⊗n`` and ``Z_0 Z_i``."""
        rows = ["X" * n] + ["Z" + "I" * (i - 1) + "Z" + "I" * (n - 1 - i) for i in range(1, n)]
        return cls(f"{n}-GHZ", tuple(rows))

    @classmethod
    def from_stabilizers(cls, stabilizers: Any, name: str | None = None) -> ResourceState:
        """A state from ``n`` Pauli strings of length ``n`` (signs ignored)."""
        st = tuple(str(s).upper().lstrip("+-") for s in stabilizers)
        return cls(name or f"state{len(st)}", st)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "stabilizers": list(self.stabilizers)}
        if self.edges is not None:
            d["edges"] = [list(e) for e in self.edges]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ResourceState:
        if "edges" in d and "stabilizers" not in d:
            return cls.graph(int(d["n"]), d["edges"], name=d.get("name"))
        edges = tuple(tuple(int(v) for v in e) for e in d["edges"]) if d.get("edges") else None
        return cls(str(d["name"]), tuple(str(s) for s in d["stabilizers"]), edges)


# ------------------------------------------------------------------ placement and fusions
def _offset(o: Any, what: str) -> tuple[int, int, int]:
    try:
        t = tuple(int(v) for v in o)
    except (TypeError, ValueError):
        raise ValueError(f"{what}: cell offset must be three integers, got {o!r}") from None
    if len(t) != 3 or any(float(a) != b for a, b in zip(o, t)):
        raise ValueError(f"{what}: cell offset must be three integers, got {o!r}")
    return t  # type: ignore[return-value]


@dataclass(frozen=True)
class Instance:
    """A resource state placed in the unit cell.

    ``positions``: optional ``(n, 3)`` qubit positions in cell units (relative to the
    cell's lower corner); default: all qubits at ``position``.
    """

    name: str
    state: ResourceState
    positions: tuple[tuple[float, float, float], ...] | None = None
    position: tuple[float, float, float] = (0.5, 0.5, 0.5)

    def qubit_positions(self) -> np.ndarray:
        if self.positions is None:
            return np.tile(np.asarray(self.position, float), (self.state.n, 1))
        p = np.asarray(self.positions, float)
        if p.shape != (self.state.n, 3):
            raise ValueError(f"instance {self.name!r}: positions must have shape "
                             f"({self.state.n}, 3), got {p.shape}")
        return p


QubitRef = tuple[str, int, tuple[int, int, int]]


@dataclass(frozen=True)
class Fusion:
    """A fusion of qubit ``a`` and qubit ``b``, measuring ``paulis`` (basis 0, basis 1).

    A qubit reference is ``(instance name, qubit index, (dx, dy, dz))``: the qubit of
    that instance in the cell at the given offset from the fusion's cell.
    """

    name: str
    a: QubitRef
    b: QubitRef
    paulis: tuple[str, str] = ("XX", "ZZ")


CheckSpec = tuple[str, tuple[tuple[str, int, tuple[int, int, int]], ...]]


@dataclass(frozen=True)
class FusionDescription:
    """A translation-invariant fusion network: instances and fusions of one unit cell.

    Parameters
    ----------
    name : the network's name (its ``kind``).
    instances : the resource states of one cell (:class:`Instance`).
    fusions : the fusions of one cell (:class:`Fusion`); fusion ``j`` of cell ``c`` is
        network fusion ``c · n_fusions_per_cell + j``, its outcomes ``2f`` (basis 0)
        and ``2f + 1`` (basis 1).
    checks : optional declared check types ``(name, ((fusion, basis, offset), …))``,
        verified instead of searched.
    primal : ``(fusion name, basis)`` of an outcome of the primal graph (default: the
        first fusion's basis 0).
    doc : a one-line description.
    """

    name: str
    instances: tuple[Instance, ...]
    fusions: tuple[Fusion, ...]
    checks: tuple[CheckSpec, ...] | None = None
    primal: tuple[str, int] | None = None
    doc: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"name must be a non-empty string, got {self.name!r}")
        object.__setattr__(self, "instances", tuple(self.instances))
        object.__setattr__(self, "fusions", tuple(self.fusions))
        if self.checks is not None:
            object.__setattr__(self, "checks", tuple(
                (str(n), tuple((str(f), int(b), _offset(o, f"check {n!r}")) for f, b, o in c))
                for n, c in self.checks))
        if not self.instances:
            raise ValueError("instances: a unit cell needs at least one resource state")
        if not self.fusions:
            raise ValueError("fusions: a unit cell needs at least one fusion")

    # -------------------------------------------------------------- (de)serialisation
    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (:meth:`from_dict` reads it back)."""
        d: dict[str, Any] = {
            "name": self.name, "doc": self.doc,
            "states": {},
            "instances": [],
            "fusions": [{"name": f.name, "a": [f.a[0], f.a[1], list(f.a[2])],
                         "b": [f.b[0], f.b[1], list(f.b[2])], "paulis": list(f.paulis)}
                        for f in self.fusions],
        }
        for inst in self.instances:
            d["states"][inst.state.name] = inst.state.to_dict()
            e: dict[str, Any] = {"name": inst.name, "state": inst.state.name,
                                 "position": list(inst.position)}
            if inst.positions is not None:
                e["positions"] = [list(p) for p in inst.positions]
            d["instances"].append(e)
        if self.checks is not None:
            d["checks"] = [{"name": n, "outcomes": [[f, b, list(o)] for f, b, o in c]}
                           for n, c in self.checks]
        if self.primal is not None:
            d["primal"] = list(self.primal)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FusionDescription:
        """Read a description from :meth:`to_dict`'s format (e.g. a JSON file)."""
        if not isinstance(d, dict):
            raise TypeError(f"description must be a dict, got {type(d).__name__}")
        states = {k: ResourceState.from_dict(v) for k, v in d.get("states", {}).items()}
        insts = []
        for e in d.get("instances", []):
            if e["state"] not in states:
                raise ValueError(f"instance {e.get('name')!r}: unknown state {e['state']!r}")
            pos = tuple(tuple(float(v) for v in p) for p in e["positions"]) \
                if e.get("positions") is not None else None
            insts.append(Instance(str(e["name"]), states[e["state"]], pos,
                                  tuple(float(v) for v in e.get("position", (0.5,) * 3))))
        fus = [Fusion(str(f["name"]), (str(f["a"][0]), int(f["a"][1]), tuple(f["a"][2])),
                      (str(f["b"][0]), int(f["b"][1]), tuple(f["b"][2])),
                      tuple(f.get("paulis", ("XX", "ZZ"))))
               for f in d.get("fusions", [])]
        checks = None
        if d.get("checks") is not None:
            checks = tuple((c["name"], tuple((o[0], o[1], tuple(o[2])) for o in c["outcomes"]))
                           for c in d["checks"])
        primal = tuple(d["primal"]) if d.get("primal") is not None else None
        return cls(str(d["name"]), tuple(insts), tuple(fus), checks, primal, d.get("doc", ""))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)

    @classmethod
    def from_json(cls, text: str) -> FusionDescription:
        return cls.from_dict(json.loads(text))

    def derive(self) -> UnitCell:
        """The derived unit cell (checks, groups, graph structure); cached."""
        return derive(self)


# ------------------------------------------------------------------ derived unit cell
@dataclass
class CheckType:
    """A translation class of checks: outcomes ``outcomes[i]`` (local outcome index
    ``2j + basis`` of the cell's fusion ``j``) in the cells ``anchor + offsets[i]``."""

    name: str
    group: int
    offsets: np.ndarray
    outcomes: np.ndarray
    centroid: np.ndarray  # position of the check relative to its anchor cell

    @property
    def weight(self) -> int:
        return int(self.outcomes.size)

    def key(self) -> tuple:
        return tuple(sorted(zip(map(tuple, self.offsets.tolist()), self.outcomes.tolist())))


@dataclass
class UnitCell:
    """Per-cell arrays of a description and everything derived from it.

    Qubits: ``q_inst``, ``q_idx`` (instance and index in its state), ``q_pos``.
    Generators: ``g_x`` / ``g_z`` ``(ng, nq)`` on the cell's own qubits.  Fusions:
    ``f_qa`` / ``f_qb`` (local qubit), ``f_oa`` / ``f_ob`` (cell offsets), ``f_paulis``
    ``(nf, 2)``, ``f_pos``.  Checks: ``types`` (:class:`CheckType`), ``n_groups``
    (groups ordered primal first), ``multiplicity`` ``(2 nf, n_groups)`` (checks of each
    group that contain each local outcome), ``outcome_group`` ``(2 nf,)`` (−1: none),
    ``hypergraph`` (per group), ``n_nonlocal`` (dimension of the check group not
    generated by the local checks: logical membranes and global relations' duals).
    """

    desc: FusionDescription
    nq: int
    q_inst: np.ndarray
    q_idx: np.ndarray
    q_pos: np.ndarray
    inst_start: np.ndarray
    g_x: np.ndarray
    g_z: np.ndarray
    g_inst: np.ndarray
    nf: int
    f_qa: np.ndarray
    f_qb: np.ndarray
    f_oa: np.ndarray
    f_ob: np.ndarray
    f_paulis: np.ndarray
    f_pos: np.ndarray
    reach: int
    types: list[CheckType] = field(default_factory=list)
    n_groups: int = 0
    multiplicity: np.ndarray | None = None
    outcome_group: np.ndarray | None = None
    hypergraph: tuple[bool, ...] = ()
    n_nonlocal: int = 0
    # anticommutation of outcome (2j + b) side s with the generators of its qubit's
    # instance: list of local generator indices
    _anti: list = field(default_factory=list, repr=False)

    @property
    def ng(self) -> int:
        return int(self.g_x.shape[0])

    def outcome_name(self, lo: int) -> str:
        """``"XX of fusion 'F0'"`` for local outcome ``lo``."""
        f, b = divmod(int(lo), 2)
        return f"{self.f_paulis[f, b]} (basis {b}) of fusion {self.desc.fusions[f].name!r}"

    def group_types(self, g: int) -> list[CheckType]:
        return [t for t in self.types if t.group == g]

    def check_specs(self) -> tuple:
        """The check types as a description's ``checks=`` argument (to pin them, e.g. in a
        JSON file, or to declare a modified set)."""
        fus = self.desc.fusions
        return tuple((t.name, tuple((fus[lo // 2].name, lo % 2, tuple(int(v) for v in off))
                                    for off, lo in zip(t.offsets.tolist(),
                                                       t.outcomes.tolist())))
                     for t in self.types)


def _fusion_qubit(desc: FusionDescription, name: str, ref: Any, index: dict[str, int],
                  start: np.ndarray) -> tuple[int, np.ndarray]:
    """Cell-qubit id and cell offset of a fusion's qubit reference ``ref``."""
    if not isinstance(ref, (tuple, list)) or len(ref) not in (2, 3):
        raise ValueError(f"fusion {name!r}: qubit must be (instance, index, offset), "
                         f"got {ref!r}")
    inst, i = ref[0], ref[1]
    off = _offset(ref[2] if len(ref) == 3 else (0, 0, 0), f"fusion {name!r}")
    if inst not in index:
        raise ValueError(f"fusion {name!r}: unknown instance {inst!r}")
    k = index[inst]
    n_k = desc.instances[k].state.n
    if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not 0 <= i < n_k:
        raise ValueError(f"fusion {name!r}: qubit index {i!r} out of range for "
                         f"instance {inst!r} ({n_k} qubits)")
    return int(start[k] + int(i)), off


def _fusion_paulis(f: Fusion) -> list[str]:
    """The fusion's two measured two-qubit Paulis (upper case), checked to commute."""
    if len(f.paulis) != 2:
        raise ValueError(f"fusion {f.name!r}: paulis must be two two-qubit Paulis")
    out, xs, zs = [], [], []
    for b, p in enumerate(f.paulis):
        if not isinstance(p, str) or len(p) != 2 or set(p.upper()) - set("XYZ"):
            raise ValueError(f"fusion {f.name!r}: basis {b} must be a two-qubit Pauli over "
                             f"X, Y, Z acting on both qubits, got {p!r}")
        out.append(p.upper())
        x, z = symplectic(p)
        xs.append(x)
        zs.append(z)
    if anticommutes(np.array(xs[:1]), np.array(zs[:1]), np.array(xs[1:]),
                    np.array(zs[1:]))[0, 0]:
        raise ValueError(f"fusion {f.name!r}: {out[0]} and {out[1]} anticommute; "
                         "a fusion measures two commuting Paulis")
    if out[0] == out[1]:
        raise ValueError(f"fusion {f.name!r}: the two measured Paulis are equal")
    return out


def _validate(desc: FusionDescription) -> UnitCell:
    if not isinstance(desc, FusionDescription):
        raise TypeError(f"description must be a FusionDescription, got {type(desc).__name__}")
    names = [i.name for i in desc.instances]
    if len(set(names)) != len(names):
        raise ValueError(f"instances: repeated instance name in {names}")
    for inst in desc.instances:
        if not isinstance(inst.state, ResourceState):
            raise TypeError(f"instance {inst.name!r}: state must be a ResourceState")
    start = np.cumsum([0] + [i.state.n for i in desc.instances])
    nq = int(start[-1])
    q_inst = np.repeat(np.arange(len(names)), [i.state.n for i in desc.instances])
    q_idx = np.concatenate([np.arange(i.state.n) for i in desc.instances])
    q_pos = np.concatenate([i.qubit_positions() for i in desc.instances])
    gx = np.zeros((nq, nq), bool)
    gz = np.zeros((nq, nq), bool)
    for k, inst in enumerate(desc.instances):
        x, z = inst.state.symplectic()
        s = slice(start[k], start[k + 1])
        gx[s, s] = x
        gz[s, s] = z
    fnames = [f.name for f in desc.fusions]
    if len(set(fnames)) != len(fnames):
        raise ValueError(f"fusions: repeated fusion name in {fnames}")
    nf = len(desc.fusions)
    qa = np.zeros(nf, np.int64)
    qb = np.zeros(nf, np.int64)
    oa = np.zeros((nf, 3), np.int64)
    ob = np.zeros((nf, 3), np.int64)
    paulis = np.empty((nf, 2), object)
    index = {n: k for k, n in enumerate(names)}
    used: dict[int, list[str]] = {}
    for j, f in enumerate(desc.fusions):
        if len(f.paulis) != 2:
            raise ValueError(f"fusion {f.name!r}: paulis must be two two-qubit Paulis")
        for ref, q_out, o_out in ((f.a, qa, oa), (f.b, qb, ob)):
            q_out[j], o_out[j] = _fusion_qubit(desc, f.name, ref, index, start)
            used.setdefault(int(q_out[j]), []).append(f.name)
        paulis[j] = _fusion_paulis(f)
        if np.array_equal(np.abs(oa[j] - ob[j]), [0, 0, 0]) and qa[j] == qb[j]:
            raise ValueError(f"fusion {f.name!r}: fuses a qubit with itself")
    for q in range(nq):
        fl = used.get(q, [])
        if len(fl) != 1:
            inst = desc.instances[q_inst[q]].name
            what = "no fusion" if not fl else f"{len(fl)} fusions ({', '.join(map(repr, fl))})"
            raise ValueError(f"qubit {int(q_idx[q])} of instance {inst!r} is in {what}; every "
                             "qubit must be in exactly one fusion")
    # fusion positions: midpoint of its qubits (absolute, in the fusion's cell frame)
    f_pos = 0.5 * (q_pos[qa] + oa + q_pos[qb] + ob)
    reach = int(max(1, np.abs(oa).max(), np.abs(ob).max()))
    cell = UnitCell(desc, nq, q_inst, q_idx, q_pos, start[:-1].astype(np.int64), gx, gz,
                    q_inst.copy(), nf, qa, qb, oa, ob, paulis, f_pos, reach)
    cell._anti = _anticommuting(cell)
    return cell


def _anticommuting(cell: UnitCell) -> list[list[np.ndarray]]:
    """Per outcome and side: the local generators its single-qubit factor anticommutes
    with."""
    anti = []
    for j in range(cell.nf):
        for b in range(2):
            row = []
            for side, q in ((0, cell.f_qa[j]), (1, cell.f_qb[j])):
                x, z = symplectic(cell.f_paulis[j, b][side])
                gens = np.flatnonzero(cell.g_inst == cell.q_inst[q])  # q's instance
                a = (cell.g_x[gens, q] & z[0]) ^ (cell.g_z[gens, q] & x[0])
                row.append(gens[a])
            anti.append(row)
    return anti


class _Lattice:
    """A periodic ``L³`` copy of a unit cell's qubits, fusions and generators.

    Cell ``(x, y, z)`` is ``c = (x·L + y)·L + z``; qubit ``c·nq + q``; fusion
    ``c·nf + j``; outcome ``2·fusion + basis``; generator ``c·nq + g``.
    """

    def __init__(self, cell: UnitCell, L: int):
        self.cell = cell
        self.L = L
        self.n_cells = L**3
        self.coords = np.stack(np.unravel_index(np.arange(self.n_cells), (L, L, L)), 1)

    def cid(self, a: np.ndarray) -> np.ndarray:
        a = np.mod(a, self.L)
        return (a[..., 0] * self.L + a[..., 1]) * self.L + a[..., 2]

    def anti_matrix(self, outcomes: np.ndarray) -> np.ndarray:
        """``(len(outcomes), n_gens)`` anticommutation of global outcomes with generators."""
        cell = self.cell
        nfo = 2 * cell.nf
        outcomes = np.asarray(outcomes, np.int64)
        c, lo = np.divmod(outcomes, nfo)
        M = np.zeros((outcomes.size, self.n_cells * cell.ng), bool)
        base = self.coords[c]
        for r, (cc, l) in enumerate(zip(base, lo.tolist())):
            j = l // 2
            for side, off in ((0, cell.f_oa[j]), (1, cell.f_ob[j])):
                gens = cell._anti[l][side]
                if gens.size:
                    M[r, self.cid(cc + off) * cell.ng + gens] ^= True
        return M

    def outcomes_in(self, cells: np.ndarray) -> np.ndarray:
        nfo = 2 * self.cell.nf
        return (np.asarray(cells)[:, None] * nfo + np.arange(nfo)[None, :]).reshape(-1)

    def type_vectors(self, types: list[CheckType], anchors: np.ndarray | None = None
                     ) -> np.ndarray:
        """Indicator vectors ``(n_types · n_anchors, n_outcomes)`` of check translates."""
        nfo = 2 * self.cell.nf
        anchors = self.coords if anchors is None else np.asarray(anchors)
        rows = []
        for t in types:
            for a in anchors:
                v = np.zeros(self.n_cells * nfo, bool)
                idx = self.cid(a + t.offsets) * nfo + t.outcomes
                np.logical_xor.at(v, idx, True)
                rows.append(v)
        return np.array(rows, bool).reshape(-1, self.n_cells * nfo)


def _canonical(cell: UnitCell, offsets: np.ndarray, outcomes: np.ndarray, group: int = -1,
               name: str = "") -> CheckType:
    """Translate a check so that the floor of its centroid is the anchor cell ``0``."""
    pos = offsets + cell.f_pos[outcomes // 2]
    cen = pos.mean(axis=0)
    anchor = np.floor(cen + 1e-9).astype(np.int64)
    off = offsets - anchor
    order = np.lexsort((outcomes, off[:, 2], off[:, 1], off[:, 0]))
    return CheckType(name, group, off[order], outcomes[order], cen - anchor)


def _vector_to_type(cell: UnitCell, lat: _Lattice, v: np.ndarray) -> CheckType:
    nfo = 2 * cell.nf
    idx = np.flatnonzero(v)
    c, lo = np.divmod(idx, nfo)
    off = lat.coords[c]
    # unwrap around the first outcome's cell (the window is far from the wrap)
    ref = off[0]
    off = ref + np.mod(off - ref + lat.L // 2, lat.L) - lat.L // 2
    return _canonical(cell, off, lo)


def _span_dim(M: np.ndarray) -> int:
    return rank(M) if M.size else 0


def _lighten(v: np.ndarray, rows: list[np.ndarray]) -> np.ndarray:
    """Add rows to ``v`` while one lowers its weight (a local minimum)."""
    w = int(v.sum())
    improved = True
    while improved and rows:
        improved = False
        for t in rows:
            u = v ^ t
            wu = int(u.sum())
            if wu < w:
                v, w, improved = u, wu, True
    return v


def _min_weight_new(N: np.ndarray, T: np.ndarray) -> list[np.ndarray]:
    """Light elements of span(N) that extend span(T), greedily (a matroid basis).

    Enumerates the combinations of the directions of ``N`` not in ``span(T)`` (up to
    2^14), lowers each one's weight by adding rows of ``T`` while that helps, and keeps the
    lightest independent ones.
    """
    if T.size:
        R, piv = rref(T)
    else:
        R, piv = np.zeros((0, N.shape[1]), bool), []

    def reduce(v: np.ndarray) -> np.ndarray:
        v = v.copy()
        for i, c in enumerate(piv):
            if v[c]:
                v ^= R[i]
        return v

    new = [v for v in N if reduce(v).any()]
    if not new:
        return []
    # a basis of the new directions modulo span(T)
    basis: list[np.ndarray] = []
    Rb = R.copy()
    for v in new:
        if rank(np.vstack([Rb, v[None]])) > Rb.shape[0]:
            basis.append(v)
            Rb = rref(np.vstack([Rb, v[None]]))[0]
    k = len(basis)
    B = np.array(basis)
    if k <= 14:
        cands = []
        for mask in range(1, 1 << k):
            sel = [(mask >> i) & 1 for i in range(k)]
            cands.append(np.bitwise_xor.reduce(B[np.array(sel, bool)], axis=0))
    else:
        cands = list(B)
    out = [_lighten(v, list(T)) for v in cands]
    out.sort(key=lambda v: (int(v.sum()), tuple(np.flatnonzero(v)[:4])))
    chosen: list[np.ndarray] = []
    cur = R.copy()
    r0 = cur.shape[0]
    for v in out:
        test = np.vstack([cur, v[None]]) if cur.size else v[None]
        rr = rank(test)
        if rr > r0:
            chosen.append(v)
            cur = rref(test)[0]
            r0 = rr
    return chosen


def _window_cells(lat: _Lattice, lo: int, r: int) -> np.ndarray:
    rng = np.arange(lo, lo + r)
    g = np.stack(np.meshgrid(rng, rng, rng, indexing="ij"), -1).reshape(-1, 3)
    return lat.cid(g)


def _translates_in(lat: _Lattice, types: list[CheckType], cells_set: set, lo: int, r: int
                   ) -> np.ndarray:
    """Vectors of all translates of ``types`` whose support lies in the window."""
    nfo = 2 * lat.cell.nf
    rows = []
    for t in types:
        span_lo = t.offsets.min(axis=0)
        span_hi = t.offsets.max(axis=0)
        for a0 in itertools.product(*[range(lo - int(span_lo[d]), lo + r - int(span_hi[d]))
                                      for d in range(3)]):
            a = np.array(a0)
            cells = lat.cid(a + t.offsets)
            if not all(int(c) in cells_set for c in cells):
                continue
            v = np.zeros(lat.n_cells * nfo, bool)
            np.logical_xor.at(v, cells * nfo + t.outcomes, True)
            rows.append(v)
    return np.array(rows, bool) if rows else np.zeros((0, lat.n_cells * nfo), bool)


def _deficit(cell: UnitCell, types: list[CheckType], L: int) -> tuple[int, int]:
    """(dim of the check group, rank of all translates of ``types``) on the periodic L³."""
    lat = _Lattice(cell, L)
    n_out = lat.n_cells * 2 * cell.nf
    A = lat.anti_matrix(np.arange(n_out))
    dim_k = n_out - _span_dim(A.T)
    V = lat.type_vectors(types) if types else np.zeros((0, n_out), bool)
    return dim_k, _span_dim(V)


def _type_span(types: list[CheckType]) -> int:
    if not types:
        return 1
    return int(max((t.offsets.max(axis=0) - t.offsets.min(axis=0)).max() for t in types)) + 1


def _search_types(cell: UnitCell) -> tuple[list[CheckType], int]:
    types: list[CheckType] = []
    keys: set = set()
    R = cell.reach
    for r in (1, 2, 3):
        L = r + 2 * R + 2
        lat = _Lattice(cell, L)
        lo = R + 1
        wcells = _window_cells(lat, lo, r)
        cset = set(int(c) for c in wcells)
        rows = lat.outcomes_in(wcells)
        A = lat.anti_matrix(rows)
        A = A[:, A.any(axis=0)]
        N = nullspace(A.T)
        if N.shape[0]:
            full = np.zeros((N.shape[0], lat.n_cells * 2 * cell.nf), bool)
            full[:, rows] = N
            T = _translates_in(lat, types, cset, lo, r)
            for v in _min_weight_new(full, T):
                t = _vector_to_type(cell, lat, v)
                if t.key() not in keys:
                    keys.add(t.key())
                    types.append(t)
        span = _type_span(types)
        d1 = _deficit(cell, types, span + 1)
        d2 = _deficit(cell, types, span + 2)
        if d1[0] - d1[1] == d2[0] - d2[1]:
            return types, d2[0] - d2[1]
    covered = set()
    for t in types:
        covered |= set(t.outcomes.tolist())
    missing = [lo for lo in range(2 * cell.nf) if lo not in covered]
    hint = (f"outcome {cell.outcome_name(missing[0])} is in no local check (a wrong fusion?); "
            if missing else "")
    raise ValueError(f"description {cell.desc.name!r}: {hint}the check group has elements "
                     "not generated by checks within 3×3×3 cells; if they are local, declare "
                     "them with checks=")


def _declared_types(cell: UnitCell) -> list[CheckType]:
    desc = cell.desc
    fidx = {f.name: j for j, f in enumerate(desc.fusions)}
    types = []
    for name, outs in desc.checks or ():
        off, lo = [], []
        for f, b, o in outs:
            if f not in fidx:
                raise ValueError(f"check {name!r}: unknown fusion {f!r}")
            if b not in (0, 1):
                raise ValueError(f"check {name!r}: basis must be 0 or 1, got {b!r}")
            off.append(o)
            lo.append(2 * fidx[f] + b)
        if not lo:
            raise ValueError(f"check {name!r} is empty")
        t = _canonical(cell, np.array(off, np.int64).reshape(-1, 3), np.array(lo, np.int64),
                       name=name)
        types.append(t)
    # verify: each check commutes with every generator (on a lattice where it fits)
    span = _type_span(types)
    L = 2 * span + 2 * cell.reach + 1
    lat = _Lattice(cell, L)
    for t in types:
        v = lat.type_vectors([t], np.array([[cell.reach + 1] * 3]))[0]
        if np.flatnonzero(v).size != t.weight:
            raise ValueError(f"check {t.name!r} lists an outcome twice")
        A = lat.anti_matrix(np.flatnonzero(v))
        bad = np.flatnonzero(np.bitwise_xor.reduce(A, axis=0))
        if bad.size:
            g = int(bad[0])
            c, lg = divmod(g, cell.ng)
            inst = desc.instances[cell.g_inst[lg]]
            stab = inst.state.stabilizers[int(cell.q_idx[lg])]
            # the check's outcomes acting on that state copy (the fusion at fault is there)
            gen_state = {int(x) for x in np.flatnonzero(
                cell.g_inst == cell.g_inst[lg])} | {lg}
            on_state = []
            for r, o in enumerate(np.flatnonzero(v).tolist()):
                if any(int(x) // cell.ng == c and int(x) % cell.ng in gen_state
                       for x in np.flatnonzero(A[r])) or A[r, g]:
                    on_state.append(cell.outcome_name(o % (2 * cell.nf)))
            raise ValueError(
                f"check {t.name!r} is not a stabilizer of the resource states: it "
                f"anticommutes with generator {stab} of instance {inst.name!r} (the check's "
                f"outcomes on that state: {', '.join(on_state)})")
    return types


def _primal_outcome(desc: FusionDescription) -> int:
    """The local outcome that defines the primal group (``desc.primal``, else outcome 0)."""
    if desc.primal is None:
        return 0
    fname, b = desc.primal
    names = [f.name for f in desc.fusions]
    if fname not in names or b not in (0, 1):
        raise ValueError(f"primal: {desc.primal!r} is not (fusion name, basis 0 or 1)")
    return 2 * names.index(fname) + int(b)


def _name_types(types: list[CheckType], n_groups: int) -> None:
    """Unnamed check types are called ``primal``/``dual`` (numbered when several)."""
    for g in range(n_groups):
        mine = [t for t in types if t.group == g and not t.name]
        base = "primal" if g == 0 else "dual"
        for k, t in enumerate(mine):
            t.name = base if len(mine) == 1 else f"{base}{k}"


def _groups(cell: UnitCell, types: list[CheckType]) -> None:
    """Group the check types (shared outcome = same group), primal first; multiplicities."""
    nfo = 2 * cell.nf
    occ = [[] for _ in range(nfo)]  # local outcome -> [(type, offset)]
    for i, t in enumerate(types):
        for lo in t.outcomes.tolist():
            occ[lo].append(i)
    parent = list(range(len(types)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for ts in occ:
        for a in ts[1:]:
            parent[find(a)] = find(ts[0])
    roots = sorted({find(i) for i in range(len(types))}, key=lambda r: min(
        i for i in range(len(types)) if find(i) == r))
    desc = cell.desc
    lo0 = _primal_outcome(desc)
    if not occ[lo0]:
        raise ValueError(f"primal: outcome {cell.outcome_name(lo0)} is in no check")
    proot = find(occ[lo0][0])
    roots.remove(proot)
    roots = [proot] + roots
    if len(roots) > 2:
        raise ValueError(f"description {desc.name!r}: the checks form {len(roots)} independent "
                         "groups; a fusion network here has one or two (primal, dual)")
    gid = {r: g for g, r in enumerate(roots)}
    for i, t in enumerate(types):
        t.group = gid[find(i)]
    _name_types(types, len(roots))
    mult = np.zeros((nfo, len(roots)), np.int64)
    for lo in range(nfo):
        for i in occ[lo]:
            mult[lo, types[i].group] += 1
    none = np.flatnonzero(mult.sum(axis=1) == 0)
    if none.size:
        raise ValueError(f"description {desc.name!r}: outcome {cell.outcome_name(int(none[0]))} "
                         "is in no check, so its errors are not detected (a wrong fusion?)")
    one = np.flatnonzero(mult.max(axis=1) == 1)
    if one.size:
        raise ValueError(f"description {desc.name!r}: outcome {cell.outcome_name(int(one[0]))} "
                         "is in exactly one check of a periodic network (a wrong fusion?)")
    cell.types = types
    cell.n_groups = len(roots)
    cell.multiplicity = mult
    cell.outcome_group = np.where(mult.sum(axis=1) > 0, mult.argmax(axis=1), -1)
    cell.hypergraph = tuple(bool(mult[:, g].max() > 2) for g in range(len(roots)))


@lru_cache(maxsize=64)
def derive(desc: FusionDescription) -> UnitCell:
    """Validate a description and derive its checks (see the module docstring).

    Raises ``ValueError`` naming the offending state, fusion, qubit, outcome or check.
    """
    cell = _validate(desc)
    if desc.checks is not None:
        types = _declared_types(cell)
        span = _type_span(types)
        d1 = _deficit(cell, types, span + 1)
        d2 = _deficit(cell, types, span + 2)
        if d1[0] - d1[1] != d2[0] - d2[1]:
            L1, L2 = span + 1, span + 2
            per = ((d2[0] - d2[1]) - (d1[0] - d1[1])) / (L2**3 - L1**3)
            raise ValueError(f"checks: the declared checks do not generate the check group "
                             f"(about {per:g} independent local checks per cell are missing)")
        n_nonlocal = d2[0] - d2[1]
    else:
        types, n_nonlocal = _search_types(cell)
    _groups(cell, types)
    cell.n_nonlocal = int(n_nonlocal)
    return cell
