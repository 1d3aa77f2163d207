"""Fusion networks as stim circuits, with heralded erasure.

:func:`stim_circuit` prepares every resource state (``H`` then ``CZ`` around each
6-ring; ``H`` + ``CNOT`` for the 4-star's GHZ state), optionally applies Pauli noise to
the resource-state qubits (``DEPOLARIZE1(p_state)``, which flips primal and dual
outcomes together), erases outcomes with heralded channels, and performs every fusion as
two two-qubit Pauli measurements (``MPP``, with the flip probability ``p_pauli`` of the
model).  Then it declares

* one ``DETECTOR(x, y, z, g)`` per check (``g = 0`` primal cube, ``1`` dual vertex, at
  the check's centre), primal checks first, in the order of ``network.checks``;
* one ``DETECTOR(x, y, z, -1)`` per herald (last coordinate :data:`HERALD_TAG`, at the
  fusion's position), which is how :mod:`fbqc.herald_decoders` finds them;
* ``OBSERVABLE_INCLUDE(k)`` for the six membranes of ``network.membranes`` (``k`` in the
  order of :data:`fbqc.network.MEMBRANE_NAMES`; ``0`` is the primal x-membrane).

Erasure channels, applied to the fusion's first qubit just before it is measured:

* one outcome (hardware-agnostic erasure, fusion failure): basis 0 (``XX`` / ``XZ``)
  with ``HERALDED_PAULI_CHANNEL_1(p/2, 0, 0, p/2)`` (a herald, then ``Z`` half the time),
  basis 1 (``ZZ`` / ``ZX``) with ``HERALDED_PAULI_CHANNEL_1(p/2, p/2, 0, 0)``;
* the whole fusion (photon loss): ``HERALDED_ERASE(p)``.

Models: :class:`fbqc.noise.HardwareAgnostic` (each outcome erased with ``p_erasure``,
flipped with ``p_pauli``) or :class:`fbqc.optics.LinearOptics` (unencoded, fixed basis
per fusion; ``basis="random"`` is frozen into one random pattern drawn from ``seed``,
since a stim circuit cannot pick a channel per shot).  For ``LinearOptics`` a lost fusion
gets ``HERALDED_ERASE(loss_per_fusion)`` and a failure ``HERALDED_PAULI_CHANNEL_1`` with
``fusion_failure`` on the outcome its basis erases; the two channels are independent, so
loss and failure combine exactly as in the model.

Examples
--------
>>> from fbqc.noise import HardwareAgnostic
>>> c = stim_circuit("6ring", 3, HardwareAgnostic(0.1, 0.0))
>>> c.num_qubits, c.num_detectors, c.num_observables
(324, 378, 6)
>>> dem = c.detector_error_model(approximate_disjoint_errors=True)
>>> dets = c.compile_detector_sampler(seed=0).sample(2)
>>> dets.shape
(2, 378)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import stim

from sim.validate import check_probability

from .herald_decoders import HERALD_TAG
from .network import FusionNetwork
from .noise import HardwareAgnostic
from .optics import LinearOptics, basis_pattern

__all__ = ["check_detectors", "herald_outcomes", "stim_circuit"]


def _network(network: str | FusionNetwork, L: int) -> FusionNetwork:
    if isinstance(network, FusionNetwork):
        if network.L != L:
            raise ValueError(f"L={L} does not match the network's L={network.L}")
        return network
    if not isinstance(network, str):
        raise TypeError(f"network must be a network name or a FusionNetwork, got {network!r}")
    return FusionNetwork(network, L)


def _prepare_states(net: FusionNetwork) -> stim.Circuit:
    """Prepare every resource state of a derived network: ``H`` + ``CZ`` for graph states,
    stim's stabilizer-tableau synthesis for states given by stabilizers."""
    desc = net.description
    ni = len(desc.instances)
    c = stim.Circuit()
    sq = net.state_qubits
    graph_h: list[np.ndarray] = []
    graph_cz: list[np.ndarray] = []
    for i, inst in enumerate(desc.instances):
        rows = sq[np.arange(net.n_states // ni) * ni + i, :inst.state.n]
        if inst.state.edges is not None:
            graph_h.append(rows.reshape(-1))
            e = np.array(inst.state.edges, np.int64).reshape(-1, 2)
            if e.size:
                graph_cz.append(rows[:, e].reshape(-1))
            continue
        tab = stim.Tableau.from_stabilizers(
            [stim.PauliString(s) for s in inst.state.stabilizers])
        prep = tab.to_circuit("elimination")
        for inst_ in prep:
            targets = inst_.targets_copy()
            qs = np.array([t.value for t in targets])
            mapped = rows[:, qs]  # (copies, len(targets))
            c.append(inst_.name, mapped.reshape(-1).tolist(), inst_.gate_args_copy())
    if graph_h:
        c += _line("H", np.concatenate(graph_h))
    if graph_cz:
        c.append("TICK")
        c += _line("CZ", np.concatenate(graph_cz))
    return c


def _erasure_plan(net: FusionNetwork, model: Any, seed: int | None
                  ) -> tuple[np.ndarray, np.ndarray, float]:
    """Per-outcome one-outcome erasure probability, per-fusion loss, flip probability."""
    if isinstance(model, HardwareAgnostic):
        return (np.full(net.n_outcomes, model.p_erasure), np.zeros(net.n_fusions),
                model.p_pauli)
    if isinstance(model, LinearOptics):
        if model.encoding is not None:
            raise ValueError("stim_circuit: model encoding 'shor22' has no stim circuit "
                             "here (a logical fusion is 4 physical ones); use encoding=None")
        if isinstance(model.basis, str):
            if model.basis == "random":
                rot = basis_pattern(net, "random", rng=np.random.default_rng(seed))
            else:
                rot = basis_pattern(net, model.basis)
        else:
            rot = model._basis_array(net.n_fusions).astype(np.int8)
        one = np.zeros(net.n_outcomes)
        one[2 * np.arange(net.n_fusions) + rot] = model.fusion_failure
        return one, np.full(net.n_fusions, model.loss_per_fusion), 0.0
    raise TypeError(f"model must be HardwareAgnostic or LinearOptics, got {type(model).__name__}")


def _line(gate: str, targets: np.ndarray) -> stim.Circuit:
    return stim.Circuit(gate + " " + " ".join(map(str, np.asarray(targets).reshape(-1).tolist())))


def _prepare_hand_built(net: FusionNetwork) -> stim.Circuit:
    """6-ring: ``H`` and a ring of ``CZ``; 4-star: GHZ by ``H`` and ``CNOT`` fan-out."""
    c = stim.Circuit()
    sq = net.state_qubits
    if net.kind == "6ring":
        c += _line("H", sq.reshape(-1))
        c.append("TICK")
        for j in range(6):  # two layers of disjoint CZs would do; six keeps it readable
            pairs = np.stack([sq[:, j], sq[:, (j + 1) % 6]], axis=1).reshape(-1)
            c += _line("CZ", pairs)
    else:
        c += _line("H", sq[:, 0])
        c.append("TICK")
        for j in range(1, 4):
            c += _line("CNOT", np.stack([sq[:, 0], sq[:, j]], axis=1).reshape(-1))
    return c


def _detector_lines(net: FusionNetwork, rec0: int, recR: int) -> list[str]:
    """One ``DETECTOR`` per check (primal, then dual): its outcomes (record ``rec0 + o``)
    and, in an open block, its boundary records (``recR + r``)."""
    lines = []
    crec = getattr(net, "check_records", None)
    for g in range(len(net.checks)):
        coords = net.check_coords[g].tolist()
        for ci, row in enumerate(np.asarray(net.checks[g]).tolist()):
            x, y, z = coords[ci]
            recs = sorted(r + rec0 for r in row if r >= 0)
            if crec is not None:
                recs += sorted(r + recR for r in crec[g][ci] if r >= 0)
            lines.append(f"DETECTOR({x:g}, {y:g}, {z:g}, {g}) "
                         + " ".join(f"rec[{r}]" for r in recs))
    return lines


def _observable_lines(net: FusionNetwork, rec0: int, recR: int) -> list[str]:
    """The six membranes of a periodic network, the one membrane of an open block."""
    lines = []
    n_obs = 1 if net.boundary == "open" else 6
    mrec = getattr(net, "membrane_records", None)
    for k in range(n_obs):
        recs = (np.flatnonzero(net.membranes[k]) + rec0).tolist()
        if mrec is not None:
            recs += (np.flatnonzero(mrec[k]) + recR).tolist()
        lines.append(f"OBSERVABLE_INCLUDE({k}) " + " ".join(f"rec[{r}]" for r in recs))
    return lines


def stim_circuit(network: str | FusionNetwork, L: int, model: Any, *, p_state: float = 0.0,
                 seed: int | None = None) -> stim.Circuit:
    """The stim circuit of a fusion network under ``model``.

    Parameters
    ----------
    network : a network name (``"6ring"``, ``"4star"``, a registered description) or a
        :class:`~fbqc.network.FusionNetwork` (periodic or an open block).
    L : lattice size.
    model : :class:`~fbqc.noise.HardwareAgnostic` or unencoded
        :class:`~fbqc.optics.LinearOptics`.
    p_state : ``DEPOLARIZE1`` probability on every resource-state qubit before fusion.
    seed : seed of the frozen pattern for ``LinearOptics(basis="random")``.

    Returns
    -------
    stim.Circuit : detectors = checks (``n_checks`` primal, then dual), then heralds;
        observables: the six membranes (periodic) or the block's one membrane (open).

    Examples
    --------
    >>> from fbqc.noise import HardwareAgnostic
    >>> c = stim_circuit("4star", 3, HardwareAgnostic(0.0, 0.0))
    >>> c.detector_error_model().num_detectors      # deterministic checks, no heralds
    54
    >>> stim_circuit("6ring", 3, HardwareAgnostic(0.0, 0.0), p_state=2.0)
    Traceback (most recent call last):
    ...
    ValueError: p_state must be a finite number in [0, 1], got 2.0
    """
    net = _network(network, L)
    p_state = check_probability("p_state", p_state)
    one, loss, p_flip = _erasure_plan(net, model, seed)
    sc = net.qubit_coords
    c = stim.Circuit("\n".join(
        f"QUBIT_COORDS({x:g}, {y:g}, {z:g}) {q}" for q, (x, y, z) in enumerate(sc.tolist())))
    c += _prepare_states(net) if net.description is not None else _prepare_hand_built(net)
    c.append("TICK")
    if p_state > 0:
        c += _line(f"DEPOLARIZE1({p_state!r})", np.arange(net.n_qubits))
        c.append("TICK")
    # heralded erasure, recorded before the fusion measurements
    heralds: list[tuple[int, tuple[float, ...]]] = []  # (outcome or -1-fusion, coords)
    qa = net.fusion_qubits[:, 0]
    noise = []
    for f in np.flatnonzero(loss > 0).tolist():
        noise.append(f"HERALDED_ERASE({float(loss[f])!r}) {int(qa[f])}")
        heralds.append((-1 - f, tuple(net.fusion_coords[f])))
    for o in np.flatnonzero(one > 0).tolist():
        f = int(net.outcome_fusion[o])
        h = float(one[o]) / 2
        # a Pauli on the first qubit that flips outcome o and not the fusion's other one:
        # the other outcome's factor on that qubit
        q = str(net.outcome_paulis[o ^ 1])[0]
        args = {"X": f"{h!r}, 0, 0", "Y": f"0, {h!r}, 0", "Z": f"0, 0, {h!r}"}[q]
        noise.append(f"HERALDED_PAULI_CHANNEL_1({h!r}, {args}) {int(qa[f])}")
        heralds.append((o, tuple(net.fusion_coords[f])))
    if noise:
        c += stim.Circuit("\n".join(noise))
    n_h = len(heralds)
    # fusions: outcome o = 2f + b is measurement record n_h + o
    prods = [f"{p[0]}{a}*{p[1]}{b}" for (a, b), pair in
             zip(net.fusion_qubits.tolist(), np.asarray(net.outcome_paulis).reshape(-1, 2))
             for p in pair]
    p_arg = f"({p_flip!r})" if p_flip > 0 else ""
    c += stim.Circuit(f"MPP{p_arg} " + " ".join(prods))
    # boundary records of an open block: noiseless single-qubit measurements of the
    # qubits whose fusion partner lies outside the block (part of preparing the boundary)
    n_rec = int(getattr(net, "n_records", 0))
    if n_rec:
        c += stim.Circuit("MPP " + " ".join(
            f"{p}{q}" for q, p in zip(net.record_qubits.tolist(), net.record_paulis.tolist())))
    c.append("TICK")
    total = n_h + net.n_outcomes + n_rec
    rec0 = n_h - total  # rec index of outcome 0
    recR = n_h + net.n_outcomes - total  # rec index of record 0

    lines = _detector_lines(net, rec0, recR)
    for i, (_o, (x, y, z)) in enumerate(heralds):
        lines.append(f"DETECTOR({x:g}, {y:g}, {z:g}, {HERALD_TAG:g}) rec[{i - total}]")
    lines += _observable_lines(net, rec0, recR)
    c += stim.Circuit("\n".join(lines))
    return c


def check_detectors(network: FusionNetwork) -> np.ndarray:
    """``(n_checks0 + n_checks1,)``: detector index → (graph, check) as ``g·n0 + c``;
    i.e. primal check ``c`` is detector ``c`` and dual check ``c`` is ``n0 + c``."""
    return np.arange(network.checks[0].shape[0] + network.checks[1].shape[0])


def herald_outcomes(network: str | FusionNetwork, L: int, model: Any, *,
                    seed: int | None = None) -> list[np.ndarray]:
    """The outcomes each herald detector erases, in herald order (after the checks).

    >>> from fbqc.noise import HardwareAgnostic
    >>> h = herald_outcomes("6ring", 3, HardwareAgnostic(0.1, 0.0))
    >>> len(h), h[0].tolist()
    (324, [0])
    """
    net = _network(network, L)
    one, loss, _ = _erasure_plan(net, model, seed)
    out = [np.array([2 * f, 2 * f + 1]) for f in np.flatnonzero(loss > 0).tolist()]
    out += [np.array([o]) for o in np.flatnonzero(one > 0).tolist()]
    return out
