"""Monte Carlo simulation of a fusion network under a noise model, with a named decoder.

One shot samples the noise on both syndrome graphs (primal and dual decode
independently), decodes each, and compares the correction with the true error on the six
logical membranes.  **The logical error is the primal x-membrane** (the product of the
primal outcomes crossing the plane ``x = 0``); every membrane's failures are recorded as
custom counts ``obs_mistake_mask=…`` (sinter's convention: one character per membrane in
the order of :data:`fbqc.network.MEMBRANE_NAMES`, ``E`` where it failed, ``_`` where
not), so "any of three" and per-membrane rates come from the same counts.

The hardware-agnostic noise is homogeneous on each graph, so ``uf`` and ``mwpm`` get
uniform weights on non-erased edges (the same decoder as ``log((1 − p)/p)`` up to scale)
and weight 0 on erased edges; per-edge weights go through :mod:`fbqc.decoders`.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from .decoders import DECODERS, erasure_windings, make_decoder
from .network import MEMBRANE_NAMES, FusionNetwork
from .noise import HardwareAgnostic, bernoulli

__all__ = ["SimulationResult", "mask_key", "run_shots", "simulate"]


@dataclass
class SimulationResult:
    """Counts of a simulation: ``shots``, ``errors`` (primal-x failures), ``seconds``,
    ``custom_counts`` (``obs_mistake_mask=…`` per failing membrane pattern; for
    ``erasure-ml`` also ``winding:<membrane>``, shots whose erased set winds oddly)."""

    shots: int
    errors: int
    seconds: float
    custom_counts: Counter = field(default_factory=Counter)

    @property
    def rate(self) -> float:
        return self.errors / self.shots if self.shots else float("nan")


def mask_key(bits: np.ndarray) -> str:
    """``obs_mistake_mask=E_____``-style key for a row of 6 failure bits.

    >>> mask_key(np.array([1, 0, 0, 0, 1, 0]))
    'obs_mistake_mask=E___E_'
    """
    return "obs_mistake_mask=" + "".join("E" if b else "_" for b in bits)


class _Decoders:
    def __init__(self, net: FusionNetwork):
        self.net = net
        self._cache: dict[tuple[str, int], object] = {}

    def get(self, name: str, g: int):
        key = (name, g)
        if key not in self._cache:
            graph = self.net.graphs[g]
            self._cache[key] = make_decoder(name, graph)
        return self._cache[key]


def _check_decoder(decoder: str, model: HardwareAgnostic) -> None:
    if decoder not in DECODERS:
        raise ValueError(f"decoder must be one of {DECODERS}, got {decoder!r}")
    if decoder == "erasure-ml" and model.p_pauli != 0:
        raise ValueError("decoder 'erasure-ml' is only valid for p_pauli = 0")


def run_shots(net: FusionNetwork, model: HardwareAgnostic, decoder: str, shots: int,
              rng: np.random.Generator, decoders: _Decoders | None = None
              ) -> tuple[int, Counter]:
    """Simulate ``shots`` shots; return (primal-x errors, custom counts)."""
    _check_decoder(decoder, model)
    decoders = decoders or _Decoders(net)
    E = max(g.n_edges for g in net.graphs)
    batch = max(16, min(int(shots), (1 << 22) // E))
    errors = 0
    counts: Counter = Counter()
    done = 0
    while done < shots:
        S = min(batch, shots - done)
        done += S
        mistakes = np.zeros((S, 6), np.uint8)
        for g, graph in enumerate(net.graphs):
            if decoder == "erasure-ml":  # flips are irrelevant: ML only sees the erasure
                erased = bernoulli(rng, (S, graph.n_edges), model.edge_probabilities(graph)[0])
                basis, rank = erasure_windings(graph, erased)
                coins = rng.integers(0, 2, size=(S, 3))
                coins[np.arange(3)[None, :] >= rank[:, None]] = 0
                vec = np.bitwise_xor.reduce(coins * basis, axis=1)
                bits = (vec[:, None] >> np.arange(3)[None, :]) & 1
                mistakes[:, 3 * g:3 * g + 3] = bits
                span = np.bitwise_or.reduce(basis * (np.arange(3)[None, :] < rank[:, None]),
                                            axis=1)
                for d in range(3):
                    n_w = int(np.count_nonzero((span >> d) & 1))
                    if n_w:
                        counts[f"winding:{MEMBRANE_NAMES[3 * g + d]}"] += n_w
                continue
            erased, flips = model.sample(graph, S, rng)
            truth = graph.membrane_parity(flips)
            syn = graph.syndrome(flips)
            pred = decoders.get(decoder, g).decode_batch(syn, erased)
            mistakes[:, 3 * g:3 * g + 3] = pred ^ truth
        errors += int(np.count_nonzero(mistakes[:, 0]))
        nz = np.flatnonzero(mistakes.any(axis=1))
        if nz.size:
            codes = mistakes[nz] @ (1 << np.arange(6))
            for code, n in zip(*np.unique(codes, return_counts=True)):
                counts[mask_key((int(code) >> np.arange(6)) & 1)] += int(n)
    return errors, counts


def simulate(network: str | FusionNetwork, L: int, model: HardwareAgnostic, *,
             decoder: str = "uf", shots: int, seed: int | None = None,
             backend: str = "direct", p_state: float = 0.0) -> SimulationResult:
    """Simulate a fusion network under ``model`` and count logical errors.

    Parameters
    ----------
    network : ``"6ring"`` / ``"4star"``, or a :class:`FusionNetwork` (its ``L`` must match).
    L : lattice size.
    model : :class:`HardwareAgnostic`.
    decoder : one of :data:`fbqc.decoders.DECODERS` (``"erasure-ml"`` only for ``p_pauli = 0``).
    shots : number of shots.
    seed : seed of the :class:`numpy.random.Generator`.
    backend : ``"direct"`` (vectorised sampling of fusion outcomes on the syndrome graphs,
        the default) or ``"stim"`` (the network as a stim circuit, see
        :func:`fbqc.stim_circuit`; also accepts a :class:`fbqc.LinearOptics` model).
    p_state : ``DEPOLARIZE1`` probability on every resource-state qubit before fusion
        (correlated primal/dual flips); only with ``backend="stim"``, where
        ``decoder="mwpm-correlated"`` decodes it with PyMatching's correlated mode.

    Examples
    --------
    >>> r = simulate("6ring", 4, HardwareAgnostic(0.05, 0.0), shots=200, seed=1)
    >>> r.shots, r.errors <= r.shots
    (200, True)
    """
    if isinstance(network, FusionNetwork):
        if network.L != L:
            raise ValueError(f"L={L} does not match the network's L={network.L}")
        net = network
    else:
        net = FusionNetwork(network, L)
    if backend not in ("direct", "stim"):
        raise ValueError(f"backend must be 'direct' or 'stim', got {backend!r}")
    if backend == "stim":
        from .stim_backend import simulate_stim

        return simulate_stim(net, L, model, decoder=decoder, shots=shots, seed=seed,
                             p_state=p_state)
    if p_state:
        raise ValueError("p_state: resource-state noise needs backend='stim'")
    if not isinstance(model, HardwareAgnostic):
        raise TypeError(f"model must be a HardwareAgnostic, got {type(model).__name__}")
    if isinstance(shots, bool) or not isinstance(shots, (int, np.integer)) or shots < 0:
        raise ValueError(f"shots must be a non-negative integer, got {shots!r}")
    _check_decoder(decoder, model)
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    errors, counts = run_shots(net, model, decoder, int(shots), rng)
    return SimulationResult(int(shots), errors, time.perf_counter() - t0, counts)
