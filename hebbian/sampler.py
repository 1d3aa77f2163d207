"""The ``hebbian`` sampler: recall error of stored memories under noise, as sinter counts.

Derived from the declared parameters of :mod:`hebbian.params` (one class per memory
model, chosen by the ``model`` parameter; :data:`hebbian.params.MODELS`) and the run
function :func:`hebbian.simulate.run_task` (see there for the counts).  A new model is
a :class:`hebbian.params.MemoryParams` subclass registered with
:func:`hebbian.params.register_model`.

Examples
--------
>>> import numpy as np
>>> s = MemorySampler()
>>> p = s.validate({"model": "clique", "clusters": 8, "neurons": 64, "messages": 500,
...                 "erased": 4, "queries_per_network": 500})
>>> st = s.sample(p, 1000, np.random.default_rng(0))
>>> st.shots, st.custom_counts["ambiguous"] + st.custom_counts["wrong"] == st.errors
(1000, True)
"""

from __future__ import annotations

from sim import DeclaredSampler

from .params import MODELS, MemoryParams, register_model
from .simulate import run_task

__all__ = ["MODELS", "MemorySampler", "register_model"]


class MemorySampler(DeclaredSampler):
    """Recall error of Hebbian associative memories (see the module docstring)."""

    params = MemoryParams
    run = staticmethod(run_task)
    labels = {"messages": "stored messages M", "erased": "erased clusters per cue",
              "inserted": "inserted neurons per cue", "clusters": "clusters c",
              "neurons": "neurons per cluster l", "active": "active neurons per message",
              "iterations": "retrieval iterations", "p_rel": "synapse release probability",
              "stuck": "stuck-synapse fraction",
              "errors": "retrieval error rate (per query)"}
