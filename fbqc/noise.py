"""Noise models on fusion outcomes.

:class:`HardwareAgnostic` is the model of Bartolucci et al.: every fusion outcome is
first flipped with probability ``p_pauli``, then erased with probability ``p_erasure``
(an erased outcome is replaced by a uniformly random bit and heralded, so its earlier
flip no longer matters).  Primal and dual outcomes are independent.

On a syndrome graph whose edges bundle ``m`` outcomes (the 4-star's 4) the model is
collapsed exactly: an edge is erased with ``1 − (1 − p_E)^m`` and, if not erased, flipped
with ``(1 − (1 − 2 p_P)^m) / 2`` (the parity of ``m`` independent flips, which are
independent of the erasures).

Randomness comes from a :class:`numpy.random.Generator`; sparse Bernoulli masks are
drawn exactly through geometric gaps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from sim.validate import check_probability

from .network import SyndromeGraph

__all__ = ["HardwareAgnostic", "bernoulli"]


def bernoulli(rng: np.random.Generator, shape: tuple[int, ...], p: float) -> np.ndarray:
    """An exact i.i.d. Bernoulli(``p``) bool array; sparse ``p`` uses geometric gaps.

    >>> m = bernoulli(np.random.default_rng(0), (1000, 100), 0.01)
    >>> m.shape, 700 < int(m.sum()) < 1300
    ((1000, 100), True)
    """
    n = int(np.prod(shape))
    if p <= 0.0:
        return np.zeros(shape, bool)
    if p >= 1.0:
        return np.ones(shape, bool)
    if p > 0.2:
        return rng.random(shape) < p
    out = np.zeros(n, bool)
    pos = -1
    block = int(n * p * 1.1) + 64
    while True:
        gaps = rng.geometric(p, size=block)
        idx = pos + np.cumsum(gaps)
        if idx[-1] >= n:
            out[idx[idx < n]] = True
            break
        out[idx] = True
        pos = int(idx[-1])
    return out.reshape(shape)


@dataclass(frozen=True)
class HardwareAgnostic:
    """Erasure ``p_erasure`` and flip ``p_pauli`` on every fusion outcome (frozen).

    Parameters
    ----------
    p_erasure, p_pauli : probabilities in [0, 1].

    Examples
    --------
    >>> from fbqc.network import FusionNetwork
    >>> g = FusionNetwork("4star", 3).primal
    >>> model = HardwareAgnostic(0.069, 0.0)
    >>> round(model.edge_probabilities(g)[0], 4)
    0.2487
    >>> HardwareAgnostic(1.5, 0)
    Traceback (most recent call last):
    ...
    ValueError: p_erasure must be a finite number in [0, 1], got 1.5
    """

    p_erasure: float
    p_pauli: float

    #: What :func:`fbqc.simulate` counts as ``errors`` unless told otherwise.
    default_errors: ClassVar[str] = "primal-x"

    def __post_init__(self) -> None:
        object.__setattr__(self, "p_erasure", check_probability("p_erasure", self.p_erasure))
        object.__setattr__(self, "p_pauli", check_probability("p_pauli", self.p_pauli))

    @property
    def has_erasure(self) -> bool:
        return self.p_erasure > 0

    @property
    def has_flips(self) -> bool:
        return self.p_pauli > 0

    def edge_probabilities(self, graph: SyndromeGraph) -> tuple[float, float]:
        """(erasure, flip-if-not-erased) probability of one edge of ``graph``."""
        m = graph.bundle_size
        pe = 1.0 - (1.0 - self.p_erasure) ** m
        pp = (1.0 - (1.0 - 2.0 * self.p_pauli) ** m) / 2.0
        return pe, pp

    def sample(
        self, graph: SyndromeGraph, shots: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Erased and flipped edges, two ``(shots, n_edges)`` bool arrays.

        The flip of an erased edge is its random value (a fair coin).
        """
        pe, pp = self.edge_probabilities(graph)
        shape = (int(shots), graph.n_edges)
        flips = bernoulli(rng, shape, pp)
        erased = bernoulli(rng, shape, pe)
        idx = np.flatnonzero(erased)
        if idx.size:
            flips.reshape(-1)[idx] = rng.integers(0, 2, size=idx.size, dtype=np.uint8).astype(bool)
        return erased, flips

    def sample_outcomes(
        self, n_outcomes: int, shots: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per-outcome erased and flipped masks ``(shots, n_outcomes)`` (uncollapsed)."""
        shape = (int(shots), int(n_outcomes))
        flips = bernoulli(rng, shape, self.p_pauli)
        erased = bernoulli(rng, shape, self.p_erasure)
        idx = np.flatnonzero(erased)
        if idx.size:
            flips.reshape(-1)[idx] = rng.integers(0, 2, size=idx.size, dtype=np.uint8).astype(bool)
        return erased, flips
