"""The sweep samplers of fbqc, derived from the declared parameters of :mod:`fbqc.params`.

``fbqc`` (:class:`FusionSampler`): hardware-agnostic noise, one task =
:class:`~fbqc.params.FusionParams`.  ``fbqc-optics`` (:class:`OpticsSampler`): the
linear-optics model, one task = :class:`~fbqc.params.OpticsParams`.  Both run
:func:`fbqc.simulate.run_task`, the code path of :func:`fbqc.simulate`.  Counts:
``errors`` as the task's ``errors`` parameter says (``primal-x`` for ``fbqc``,
``any-x`` for ``fbqc-optics`` by default); custom counts ``obs_mistake_mask=…`` over the
six membranes (:data:`fbqc.network.MEMBRANE_NAMES`) and, for ``erasure-ml`` on
hardware-agnostic noise, ``winding:<membrane>``.

Examples
--------
>>> import numpy as np
>>> s = FusionSampler()
>>> p = s.validate({"network": "6ring", "L": 4, "p_erasure": 0.05, "p_pauli": 0.0,
...                 "decoder": "erasure-ml"})
>>> s.sample(p, 100, np.random.default_rng(0)).shots
100
>>> o = OpticsSampler().validate({"network": "6ring", "L": 4, "fusion_failure": 0.1})
>>> o["basis"], o["encoding"], o["decoder"]
('random', 'none', 'erasure-ml')
"""

from __future__ import annotations

from sim import DeclaredSampler

from .network import MEMBRANE_NAMES
from .params import UF_MIXED_VERSION, FusionParams, OpticsParams
from .simulate import run_task

__all__ = ["FusionSampler", "OpticsSampler", "UF_MIXED_VERSION"]


class FusionSampler(DeclaredSampler):
    """Hardware-agnostic noise on a periodic fusion network, decoded by name."""

    params = FusionParams
    run = staticmethod(run_task)
    observables = MEMBRANE_NAMES
    labels = {"p_erasure": "erasure probability per fusion outcome $p_E$",
              "p_pauli": "Pauli error probability per fusion outcome $p_P$",
              "p_state": "resource-state Pauli probability $p_{state}$",
              "L": "lattice size L",
              "errors": "logical error rate (primal x-membrane)"}


class OpticsSampler(DeclaredSampler):
    """Linear-optics erasure (loss, fusion failure and its basis, encoding) on a network."""

    params = OpticsParams
    run = staticmethod(run_task)
    observables = MEMBRANE_NAMES
    labels = {"loss_per_photon": "photon loss probability ℓ",
              "fusion_failure": "fusion failure probability $p_f$",
              "photons_per_fusion": "photons per fusion",
              "L": "lattice size L",
              "errors": "logical error rate (primal or dual x-membrane)"}
