"""Binary sparse associative memories under erasure, insertion, synaptic and fault noise.

Clique (Gripon–Berrou), sparse clustered (Aliabadi), Willshaw and Hopfield memories with
Numba retrieval (:mod:`hebbian._kernels`), noise models (:mod:`hebbian.noise`), closed
forms (:mod:`hebbian.theory`), declared sweep parameters (:mod:`hebbian.params`), the
model-level :func:`simulate` and the sweep sampler (:mod:`hebbian.sampler`).

>>> import hebbian
>>> r = hebbian.simulate(model="clique", clusters=8, neurons=64, messages=300, erased=4,
...                      shots=200, seed=1)
>>> r.shots, r.errors_counted
(200, 'message')
"""

from sim import SimulationResult, __version__

from . import noise, theory
from .hopfield import Hopfield
from .network import (
    CliqueNetwork,
    RecallResult,
    SparseCliqueNetwork,
    from_activity,
    to_activity,
)
from .params import MODELS, MemoryParams, register_model
from .simulate import simulate
from .willshaw import Willshaw

__all__ = [
    "MODELS",
    "CliqueNetwork",
    "CountingCliqueNetwork",
    "CountingSparseCliqueNetwork",
    "Hopfield",
    "MemoryParams",
    "RecallResult",
    "RecurrentHebbian",
    "SimulationResult",
    "SparseCliqueNetwork",
    "Willshaw",
    "from_activity",
    "__version__",
    "noise",
    "register_model",
    "simulate",
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
