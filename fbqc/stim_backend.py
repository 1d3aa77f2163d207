"""``backend="stim"``: simulate a fusion network by sampling its stim circuit.

:func:`simulate_stim` builds :func:`fbqc.stim_circuits.stim_circuit`, samples it with
``compile_detector_sampler`` (fast: no reference-sample tableau), and decodes with the
herald-aware decoders of :mod:`fbqc.herald_decoders`.  It returns the same
:class:`fbqc.simulate.SimulationResult` as the direct sampler: ``errors`` counts primal
x-membrane failures, custom counts ``obs_mistake_mask=…`` cover the six membranes.

Decoders: ``"uf"`` / ``"erasure-uf"`` (union-find, erased edges pre-grown),
``"mwpm"`` / ``"erasure-mwpm"`` (PyMatching, erased edges at weight 0),
``"fusion-blossom"`` / ``"erasure-fusion-blossom"`` and ``"local-mwpm"`` /
``"erasure-local-mwpm"`` (see :mod:`fbqc.decoders`), ``"erasure-ml"``
(union-find on a pure-erasure model, where peeling is maximum likelihood), and
``"mwpm-correlated"`` (PyMatching's correlated matching on the decomposed DEM; Pauli
noise only, e.g. resource-state noise ``p_state``).

Examples
--------
>>> from fbqc.noise import HardwareAgnostic
>>> r = simulate_stim("6ring", 4, HardwareAgnostic(0.05, 0.0), decoder="uf", shots=100,
...                   seed=1)
>>> r.shots, r.errors <= 100
(100, True)
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import numpy as np

from .herald_decoders import ErasureDecoder, herald_detectors
from .simulate import SimulationResult, mask_key
from .stim_circuits import _network, stim_circuit

__all__ = ["STIM_DECODERS", "StimSimulator", "simulate_stim"]

STIM_DECODERS = ("uf", "mwpm", "erasure-ml", "erasure-uf", "erasure-mwpm", "mwpm-correlated",
                 "fusion-blossom", "erasure-fusion-blossom", "local-mwpm",
                 "erasure-local-mwpm")


class StimSimulator:
    """A compiled stim circuit, its detector error model and a decoder (reusable).

    Parameters are those of :func:`simulate_stim`; :meth:`run` draws shots.
    """

    def __init__(self, network: Any, L: int, model: Any, *, decoder: str = "uf",
                 p_state: float = 0.0, circuit_seed: int | None = None):
        if decoder not in STIM_DECODERS:
            raise ValueError(f"decoder must be one of {STIM_DECODERS}, got {decoder!r}")
        self.net = _network(network, L)
        if decoder == "erasure-ml" and (getattr(model, "p_pauli", 0.0) != 0 or p_state):
            raise ValueError("decoder 'erasure-ml' is only valid for pure erasure")
        self.circuit = stim_circuit(self.net, L, model, p_state=p_state, seed=circuit_seed)
        self.decoder = decoder
        if decoder == "mwpm-correlated":
            import pymatching

            dem = self.circuit.detector_error_model(decompose_errors=True,
                                                    approximate_disjoint_errors=True)
            if herald_detectors(dem).size:
                raise ValueError("decoder 'mwpm-correlated' does not read heralds; "
                                 "use it without erasure")
            self._m = pymatching.Matching.from_detector_error_model(dem,
                                                                     enable_correlations=True)
            self._dec = None
        else:
            dem = self.circuit.detector_error_model(approximate_disjoint_errors=True)
            method = "uf" if decoder == "erasure-ml" else decoder.removeprefix("erasure-")
            self._dec = ErasureDecoder(method).compile_decoder_for_dem(dem=dem)
        self.dem = dem

    def run(self, shots: int, rng: np.random.Generator) -> tuple[int, Counter]:
        """Sample and decode ``shots`` shots; (primal-x errors, custom counts)."""
        sampler = self.circuit.compile_detector_sampler(seed=int(rng.integers(2**63)))
        errors = 0
        counts: Counter = Counter()
        batch = max(16, min(int(shots), (1 << 24) // max(1, self.circuit.num_detectors)))
        done = 0
        while done < shots:
            S = min(batch, int(shots) - done)
            done += S
            dets, obs = sampler.sample(S, separate_observables=True)
            if self._dec is None:
                pred = self._m.decode_batch(dets, enable_correlations=True).astype(bool)
            else:
                pred = self._dec.decode(dets.astype(np.uint8)).astype(bool)
            mis = (pred ^ obs).astype(np.uint8)
            errors += int(np.count_nonzero(mis[:, 0]))
            nz = np.flatnonzero(mis.any(axis=1))
            if nz.size:
                codes = mis[nz] @ (1 << np.arange(6))
                for code, n in zip(*np.unique(codes, return_counts=True)):
                    counts[mask_key((int(code) >> np.arange(6)) & 1)] += int(n)
        return errors, counts


def simulate_stim(network: Any, L: int, model: Any, *, decoder: str = "uf", shots: int,
                  seed: int | None = None, p_state: float = 0.0) -> SimulationResult:
    """Simulate a fusion network by sampling its stim circuit (``backend="stim"``).

    Parameters
    ----------
    network : ``"6ring"``, ``"4star"`` or a :class:`~fbqc.network.FusionNetwork`.
    L : lattice size.
    model : :class:`~fbqc.noise.HardwareAgnostic` or unencoded
        :class:`~fbqc.optics.LinearOptics`.
    decoder : one of :data:`STIM_DECODERS`.
    shots : number of shots.
    seed : seed of the numpy generator that seeds stim (and a frozen random basis).
    p_state : resource-state ``DEPOLARIZE1`` probability.
    """
    if isinstance(shots, bool) or not isinstance(shots, (int, np.integer)) or shots < 0:
        raise ValueError(f"shots must be a non-negative integer, got {shots!r}")
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    sim = StimSimulator(network, L, model, decoder=decoder, p_state=p_state,
                        circuit_seed=int(rng.integers(2**31)))
    errors, counts = sim.run(int(shots), rng)
    return SimulationResult(int(shots), errors, time.perf_counter() - t0, counts)
