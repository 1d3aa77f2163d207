"""``backend="stim"``: simulate a fusion network by sampling its stim circuit.

:class:`StimSimulator` builds :func:`fbqc.stim_circuits.stim_circuit`, samples it with
``compile_detector_sampler`` (fast: no reference-sample tableau), and decodes with the
herald-aware decoders of :mod:`fbqc.herald_decoders`.  :func:`fbqc.simulate` with
``backend="stim"`` and the ``fbqc`` sampler with ``backend: stim`` both run it; its
counts are tallied by :func:`fbqc.simulate.tally`, as on the direct backend.

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
>>> s = StimSimulator("6ring", HardwareAgnostic(0.05, 0.0), L=4, decoder="uf")
>>> errors, counts = s.run(100, np.random.default_rng(1))
>>> errors <= 100
True
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from .herald_decoders import ErasureDecoder, herald_detectors
from .params import STIM_DECODERS, check_run_options
from .simulate import as_network, tally
from .stim_circuits import stim_circuit

__all__ = ["STIM_DECODERS", "StimSimulator"]


class StimSimulator:
    """A compiled stim circuit, its detector error model and a decoder (reusable).

    Parameters
    ----------
    network : a :class:`~fbqc.network.FusionNetwork`, or a kind name with ``L=``.
    model : :class:`~fbqc.noise.HardwareAgnostic` or unencoded
        :class:`~fbqc.optics.LinearOptics`.
    decoder : one of :data:`STIM_DECODERS`.
    p_state : resource-state ``DEPOLARIZE1`` probability.
    circuit_seed : seed of a frozen random basis pattern (``LinearOptics(basis="random")``).
    """

    def __init__(self, network: Any, model: Any, *, L: int | None = None,
                 decoder: str = "uf", p_state: float = 0.0,
                 circuit_seed: int | None = None):
        self.net = as_network(network, L)
        check_run_options(decoder=decoder, backend="stim", erasure=model.has_erasure,
                          pauli=model.has_flips, p_state=p_state, errors="primal-x")
        self.circuit = stim_circuit(self.net, self.net.L, model, p_state=p_state,
                                    seed=circuit_seed)
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

    def run(self, shots: int, rng: np.random.Generator, *, errors: str = "primal-x"
            ) -> tuple[int, Counter]:
        """Sample and decode ``shots`` shots: (errors, custom counts); ``errors`` is
        ``"primal-x"`` or ``"any-x"`` (see :func:`fbqc.simulate.tally`)."""
        sampler = self.circuit.compile_detector_sampler(seed=int(rng.integers(2**63)))
        n_err = 0
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
            n_err += tally((pred ^ obs).astype(np.uint8), errors, counts)
        return n_err, counts
