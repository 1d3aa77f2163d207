"""Binary sparse associative memories under erasure, insertion, synaptic and fault noise.

Clique (Gripon–Berrou), sparse clustered (Aliabadi), Willshaw and Hopfield memories with
Numba retrieval (:mod:`hebbian._kernels`), noise models (:mod:`hebbian.noise`), closed
forms (:mod:`hebbian.theory`) and a sweep sampler (:mod:`hebbian.sampler`).
"""

from . import noise, theory
from .hopfield import Hopfield
from .network import (
    CliqueNetwork,
    RecallResult,
    SparseCliqueNetwork,
    from_activity,
    to_activity,
)
from .willshaw import Willshaw

__all__ = [
    "CliqueNetwork",
    "CountingCliqueNetwork",
    "CountingSparseCliqueNetwork",
    "Hopfield",
    "RecallResult",
    "RecurrentHebbian",
    "SparseCliqueNetwork",
    "Willshaw",
    "from_activity",
    "noise",
    "theory",
    "to_activity",
]

_LAZY = {
    "RecurrentHebbian": "hebbian.recurrent",
    "CountingCliqueNetwork": "hebbian.forgetting",
    "CountingSparseCliqueNetwork": "hebbian.forgetting",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'hebbian' has no attribute {name!r}")
