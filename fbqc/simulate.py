"""Monte Carlo simulation of a fusion network under a noise model, with a named decoder.

One code path serves :func:`simulate` (a network and a model object) and the sweep
samplers (:func:`run_task`, declared parameters from :mod:`fbqc.params`).  One shot
samples the noise on both syndrome graphs (primal and dual decode independently),
decodes each, and compares the correction with the true error on the six logical
membranes.  Which failure counts as ``errors`` is one explicit choice, ``errors=``:
``"primal-x"`` (the primal x-membrane, the product of the primal outcomes crossing the
plane ``x = 0``) or ``"any-x"`` (primal or dual x).  Every membrane's failures are
recorded as custom counts ``obs_mistake_mask=…`` (sinter's convention: one character
per membrane in the order of :data:`fbqc.network.MEMBRANE_NAMES`, ``E`` where it
failed, ``_`` where not), so per-membrane rates come from the same counts.

Models: :class:`~fbqc.noise.HardwareAgnostic` (erasure and flips on every outcome) and
:class:`~fbqc.optics.LinearOptics` (per-fusion loss and failure: pure erasure), on the
``direct`` backend (vectorised sampling on the syndrome graphs) or the ``stim`` backend
(:mod:`fbqc.stim_backend`).  Decoders: ``uf`` and ``mwpm`` (:func:`fbqc.decoders.make_decoder`;
hardware-agnostic noise is homogeneous on each graph, so both get uniform weights on
non-erased edges and weight 0 on erased ones) and ``erasure-ml`` (exact maximum
likelihood for pure erasure: a membrane in the span of the erased windings fails with a
fair coin; shots whose erased set winds oddly are counted as ``winding:<membrane>`` for
hardware-agnostic noise).
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import numpy as np
import sinter

from sim.result import SimulationResult
from sim.validate import check_int

from .decoders import erasure_windings, make_decoder
from .network import MEMBRANE_NAMES, FusionNetwork, SyndromeGraph, network_params
from .noise import HardwareAgnostic, bernoulli
from .optics import LinearOptics
from .params import FusionParams, OpticsParams, check_run_options

__all__ = [
    "SimulationResult",
    "as_network",
    "erasure_ml",
    "mask_key",
    "run_task",
    "simulate",
    "tally",
]

Model = HardwareAgnostic | LinearOptics
_MASK_BITS = 1 << np.arange(6)


def mask_key(bits: np.ndarray) -> str:
    """``obs_mistake_mask=E_____``-style key for a row of 6 failure bits.

    >>> mask_key(np.array([1, 0, 0, 0, 1, 0]))
    'obs_mistake_mask=E___E_'
    """
    return "obs_mistake_mask=" + "".join("E" if b else "_" for b in bits)


def tally(mistakes: np.ndarray, errors: str, counts: Counter) -> int:
    """Count a batch of membrane failures ``mistakes`` (S, 6): add one
    ``obs_mistake_mask=…`` count per failing pattern to ``counts`` and return the number
    of shots that count as errors (``"primal-x"``: column 0; ``"any-x"``: column 0 or 3).

    >>> c = Counter()
    >>> m = np.array([[1, 0, 0, 0, 0, 0], [0, 0, 0, 1, 0, 0], [0, 0, 0, 0, 0, 0]], np.uint8)
    >>> tally(m, "primal-x", c), tally(m, "any-x", Counter()), sorted(c)
    (1, 2, ['obs_mistake_mask=E_____', 'obs_mistake_mask=___E__'])
    """
    if mistakes.shape[1] < 6:  # an open block's stim circuit has one observable
        mistakes = np.pad(mistakes, ((0, 0), (0, 6 - mistakes.shape[1])))
    if errors == "primal-x":
        n_err = int(np.count_nonzero(mistakes[:, 0]))
    elif errors == "any-x":
        n_err = int(np.count_nonzero(mistakes[:, 0] | mistakes[:, 3]))
    else:
        raise ValueError(f"errors must be 'primal-x' or 'any-x', got {errors!r}")
    nz = np.flatnonzero(mistakes.any(axis=1))
    if nz.size:
        codes = mistakes[nz].astype(np.int64) @ _MASK_BITS
        for code, n in zip(*np.unique(codes, return_counts=True)):
            counts[mask_key((int(code) >> np.arange(6)) & 1)] += int(n)
    return n_err


def erasure_ml(graph: SyndromeGraph, erased: np.ndarray, rng: np.random.Generator,
               windings: Counter | None = None, *, offset: int) -> np.ndarray:
    """Maximum-likelihood membrane failures (S, 3) of erased edges ``erased`` (S, n_edges).

    A uniformly random element of the span of the erased windings fails (a fair coin
    per basis vector); with ``windings``, shots whose erased set winds across membrane
    ``d`` are counted as ``winding:<MEMBRANE_NAMES[offset + d]>`` (``offset``: 0 for the
    primal graph, 3 for the dual).
    """
    S = erased.shape[0]
    basis, rank = erasure_windings(graph, erased)
    coins = rng.integers(2, size=(S, 3))
    coins[np.arange(3)[None, :] >= rank[:, None]] = 0
    vec = np.bitwise_xor.reduce(coins * basis, axis=1)
    if windings is not None:
        span = np.bitwise_or.reduce(basis * (np.arange(3)[None, :] < rank[:, None]), axis=1)
        for d in range(3):
            n_w = int(np.count_nonzero((span >> d) & 1))
            if n_w:
                windings[f"winding:{MEMBRANE_NAMES[offset + d]}"] += n_w
    return ((vec[:, None] >> np.arange(3)[None, :]) & 1).astype(np.uint8)


class _DecoderCache:
    """``make_decoder(name, graph)``, built once per (decoder, graph) and process."""

    def __init__(self, size: int = 32):  # pragma: no mutate
        self.size = size
        self._items: dict[tuple[str, int], tuple[SyndromeGraph, Any]] = {}

    def get(self, name: str, graph: SyndromeGraph) -> Any:
        key = (name, id(graph))
        hit = self._items.get(key)
        if hit is None or hit[0] is not graph:
            if len(self._items) >= self.size:
                self._items.pop(next(iter(self._items)))
            hit = self._items[key] = (graph, make_decoder(name, graph))
        return hit[1]


DECODER_CACHE = _DecoderCache()
_NETWORKS: dict[tuple[str, int, str, int | None], FusionNetwork] = {}


def as_network(network: str | FusionNetwork, L: int | None = None, *,
               boundary: str | None = None, T: int | None = None) -> FusionNetwork:
    """The network a ``simulate`` call means: a :class:`FusionNetwork` (its ``L``,
    ``boundary`` and ``T``; given ones must match), or a network name with ``L`` (and
    optionally ``boundary``/``T``; built once per process).

    >>> as_network("6ring", 4, boundary="open", T=5)
    FusionNetwork('6ring', L=4, boundary='open', T=5)
    """
    if isinstance(network, FusionNetwork):
        if L is not None and check_int("L", L) != network.L:
            raise ValueError(f"L={L} does not match the network's L={network.L}")
        if boundary is not None and boundary != network.boundary:
            raise ValueError(f"boundary={boundary!r} does not match the network's "
                             f"boundary={network.boundary!r}")
        if T is not None and check_int("T", T) != network.T:
            raise ValueError(f"T={T} does not match the network's T={network.T}")
        return network
    if not isinstance(network, str):
        raise TypeError(f"network must be a network name or a FusionNetwork, got {network!r}")
    if L is None:
        raise ValueError(f"L: a network given by name ({network!r}) needs L=")
    L = check_int("L", L)
    boundary = "periodic" if boundary is None else boundary
    shape = network_params(network, L, boundary, T)
    key = (network, L, boundary, shape.get("T"))
    if key not in _NETWORKS:
        if len(_NETWORKS) >= 8:  # pragma: no mutate
            _NETWORKS.pop(next(iter(_NETWORKS)))
        _NETWORKS[key] = FusionNetwork(network, L, boundary=boundary, T=key[3])
    return _NETWORKS[key]


def _direct_batch(net: FusionNetwork, model: Model, shots: int) -> int:
    if isinstance(model, LinearOptics):
        return max(1, (1 << 22) // (net.n_fusions * (4 if model.encoding else 1)))
    E = max(g.n_edges for g in net.graphs)
    return max(16, min(int(shots), (1 << 22) // E))


def _direct_mistakes(net: FusionNetwork, model: Model, decoder: str, S: int,
                     rng: np.random.Generator, counts: Counter) -> np.ndarray:
    """(S, 6) membrane failures of ``S`` shots sampled on the syndrome graphs."""
    mistakes = np.zeros((S, 2, 3), np.uint8)  # (shot, graph, membrane)
    optics = isinstance(model, LinearOptics)
    outcome_erased = model.sample(net, S, rng) if optics else None
    for g, graph in enumerate(net.graphs):
        if optics:
            erased = outcome_erased[:, graph.edge_outcomes].any(axis=-1)
        elif decoder == "erasure-ml":  # flips are irrelevant: ML only sees the erasure
            erased = bernoulli(rng, (S, graph.n_edges), model.edge_probabilities(graph)[0])
        if decoder == "erasure-ml":
            mistakes[:, g] = erasure_ml(graph, erased, rng, None if optics else counts,
                                        offset=3 * g)
            continue
        if optics:  # an erased outcome takes a random value
            flips = erased & (rng.random(erased.shape) < 0.5)
        else:
            erased, flips = model.sample(graph, S, rng)
        truth = graph.membrane_parity(flips)
        pred = DECODER_CACHE.get(decoder, graph).decode_batch(graph.syndrome(flips), erased)
        mistakes[:, g] = pred ^ truth
    return mistakes.reshape(S, 6)


def _run_direct(net: FusionNetwork, model: Model, decoder: str, errors: str, shots: int,
                rng: np.random.Generator) -> tuple[int, Counter]:
    n_err = 0
    counts: Counter = Counter()
    batch = _direct_batch(net, model, shots)
    done = 0
    while done < shots:
        S = min(batch, shots - done)
        done += S
        n_err += tally(_direct_mistakes(net, model, decoder, S, rng, counts), errors, counts)
    return n_err, counts


def _check_model(model: Any) -> None:
    if not isinstance(model, (HardwareAgnostic, LinearOptics)):
        raise TypeError(f"model must be a HardwareAgnostic or a LinearOptics, got "
                        f"{type(model).__name__}")


def simulate(network: str | FusionNetwork, model: Model, *, L: int | None = None,
             decoder: str = "uf", shots: int, seed: int | None = None,
             backend: str = "direct", p_state: float = 0.0, errors: str | None = None,
             boundary: str | None = None, T: int | None = None) -> SimulationResult:
    """Simulate a fusion network under ``model`` and count logical errors.

    Parameters
    ----------
    network : a :class:`FusionNetwork` (``L``, ``boundary`` and ``T`` are taken from
        it), or a network name (``"6ring"``, ``"4star"``, or any registered description,
        :data:`fbqc.catalog.NETWORKS`) together with ``L=``.
    model : :class:`HardwareAgnostic` or :class:`LinearOptics` (both backends).
    L : lattice size, for a network given by name.
    boundary, T : for a network given by name: ``"periodic"`` (default) or ``"open"``
        (an ``L × L × T`` block, ``T`` default ``L``: one membrane, the primal x; its
        failures are the errors, see :mod:`fbqc.boundary`).
    decoder : one of :data:`fbqc.decoders.DECODERS` (``"erasure-ml"``: pure erasure only);
        the stim backend also takes :data:`fbqc.params.STIM_DECODERS` (``"erasure-uf"``,
        ``"erasure-mwpm"``, ``"erasure-fusion-blossom"``, ``"erasure-local-mwpm"``,
        ``"mwpm-correlated"`` for no erasure).
    shots : number of shots.
    seed : seed of the :class:`numpy.random.Generator`.
    backend : ``"direct"`` (vectorised sampling of fusion outcomes on the syndrome graphs)
        or ``"stim"`` (the network as a stim circuit, see :func:`fbqc.stim_circuit`).
    p_state : ``DEPOLARIZE1`` probability on every resource-state qubit before fusion
        (stim backend only).
    errors : ``"primal-x"`` or ``"any-x"`` (primal or dual x-membrane); default: the
        model's ``default_errors`` (``primal-x`` for hardware-agnostic noise, ``any-x``
        for linear optics, the choices of the ``fbqc`` and ``fbqc-optics`` samplers).

    Returns
    -------
    sim.SimulationResult
        ``shots``, ``errors``, ``seconds``, ``custom_counts`` (``obs_mistake_mask=…``;
        for ``erasure-ml`` on hardware-agnostic noise also ``winding:<membrane>``) and
        ``errors_counted``; results add with ``+``.

    Examples
    --------
    >>> r = simulate("6ring", HardwareAgnostic(0.05, 0.0), L=4, shots=200, seed=1)
    >>> r.shots, r.errors_counted
    (200, 'primal-x')
    >>> net = FusionNetwork("6ring", 4)
    >>> lo = LinearOptics(0.0, fusion_failure=0.1)
    >>> simulate(net, lo, decoder="erasure-ml", shots=100, seed=1).errors_counted
    'any-x'
    >>> simulate("12ring", HardwareAgnostic(0.05, 0.0), L=4, boundary="open", shots=100,
    ...          seed=1).shots
    100
    """
    _check_model(model)
    net = as_network(network, L, boundary=boundary, T=T)
    errors = model.default_errors if errors is None else errors
    check_run_options(decoder=decoder, backend=backend, erasure=model.has_erasure,
                      pauli=model.has_flips, p_state=p_state, errors=errors)
    shots = check_int("shots", shots, low=0)
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    if backend == "stim":
        from .stim_backend import StimSimulator

        stim_sim = StimSimulator(net, model, decoder=decoder, p_state=p_state,
                                 circuit_seed=int(rng.integers(2**31)))
        n_err, counts = stim_sim.run(shots, rng, errors=errors)
    else:
        n_err, counts = _run_direct(net, model, decoder, errors, shots, rng)
    return SimulationResult(shots, n_err, time.perf_counter() - t0, counts,
                            errors_counted=errors)


# ----- the run function of the declared samplers ----------------------------------------
_TASK_CACHE: dict[Any, Any] = {}


def _cached(key: Any, build: Any) -> Any:
    hit = _TASK_CACHE.get(key)
    if hit is None:
        if len(_TASK_CACHE) >= 16:  # pragma: no mutate
            _TASK_CACHE.pop(next(iter(_TASK_CACHE)))
        hit = _TASK_CACHE[key] = build()
    return hit


def run_task(params: FusionParams | OpticsParams, shots: int, rng: np.random.Generator
             ) -> sinter.AnonTaskStats:
    """Sample ``shots`` shots of a declared fbqc task (the samplers' run function).

    The same code as :func:`simulate`: networks, models, decoders and stim circuits are
    built once per task and process.

    >>> from fbqc.params import OpticsParams
    >>> st = run_task(OpticsParams(L=3, fusion_failure=0.1), 50, np.random.default_rng(0))
    >>> st.shots
    50
    """
    net = as_network(params.network, params.L, boundary=params.boundary, T=params.T)
    if isinstance(params, OpticsParams):
        model = _cached((LinearOptics, params), lambda: params.model(net))
    else:
        model = params.model()
    if getattr(params, "backend", None) == "stim":
        from .stim_backend import StimSimulator

        stim_sim = _cached((StimSimulator, params), lambda: StimSimulator(
            net, model, decoder=params.decoder, p_state=params.p_state))
        n_err, counts = stim_sim.run(shots, rng, errors=params.errors)
    else:
        n_err, counts = _run_direct(net, model, params.decoder, params.errors, shots, rng)
    return sinter.AnonTaskStats(shots=shots, errors=n_err, custom_counts=counts)
