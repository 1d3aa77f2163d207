"""unlearn: certified deletion, audits, worst-case forget sets, continual forgetting and
closed-form concept erasure, on numpy/SciPy (no torch).

Submodules load on first access (``unlearn.certified``, ``unlearn.metrics``, ...), so
``import unlearn`` stays cheap and optional dependencies (scikit-learn, the MiniLM
encoder) are only needed by the parts that use them.

Examples
--------
>>> import unlearn
>>> unlearn.accounting.steps_for(1.0, k=20, n=569, lam=1e-2, sigma=0.05, eta=1 / 0.26, q=2.0)
311
"""

from __future__ import annotations

import importlib

__all__ = [
    "accounting",
    "attacks",
    "certified",
    "closed_form",
    "data",
    "embed",
    "experiments",
    "gslora",
    "llm",
    "metrics",
    "models",
    "worstcase",
]


def __getattr__(name: str):
    if name == "__version__":  # the distribution's version, without importing more now
        from sim import __version__

        return __version__
    if name in __all__:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'unlearn' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
