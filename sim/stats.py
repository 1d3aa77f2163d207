"""Binomial confidence intervals (through sinter's likelihood fit, or Wilson)."""

from __future__ import annotations

import math

import sinter
from scipy.stats import norm

__all__ = ["binomial_ci", "rate_ci"]


def binomial_ci(hits: int, shots: int, *, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for ``hits`` out of ``shots``.

    >>> lo, hi = binomial_ci(50, 1000)
    >>> round(lo, 4), round(hi, 4)
    (0.0381, 0.0653)
    """
    if shots <= 0:
        raise ValueError(f"shots must be positive, got {shots}")
    if not 0 <= hits <= shots:
        raise ValueError(f"hits must lie in [0, shots], got {hits}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    z = norm.ppf(0.5 + confidence / 2)
    p = hits / shots
    den = 1 + z * z / shots
    mid = (p + z * z / (2 * shots)) / den
    half = z * math.sqrt(p * (1 - p) / shots + z * z / (4 * shots * shots)) / den
    return float(max(0.0, mid - half)), float(min(1.0, mid + half))


def rate_ci(hits: int, shots: int, *, max_likelihood_factor: float = 1000.0) -> sinter.Fit:
    """sinter's likelihood-ratio fit of a binomial rate (``low``, ``best``, ``high``)."""
    return sinter.fit_binomial(
        num_shots=shots, num_hits=hits, max_likelihood_factor=max_likelihood_factor
    )
