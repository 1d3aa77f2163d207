"""DP-SGD accounting: Rényi DP of the sampled Gaussian mechanism, composed over steps.

For Poisson sampling with rate ``q`` and noise multiplier ``σ`` (noise std ``σ·C`` on a
sum of gradients clipped to norm ``C``), at integer order ``α ≥ 2`` (Mironov, Talwar and
Zhang 2019, Sec. 3.3)::

    A_α = Σ_{k=0}^{α} C(α, k) (1−q)^{α−k} q^k exp((k² − k) / (2σ²)),   ε(α) = log A_α / (α−1)

``T`` steps compose to ``T·ε(α)``, and the conversion to ``(ε, δ)`` is the package's
:func:`unlearn.accounting.rdp_to_dp` (``ε(α) + log(1/δ)/(α−1)``), minimised over orders.

Examples
--------
>>> round(sgm_rdp(1.0, 1.0, 2), 6)        # q = 1: the Gaussian mechanism, α/(2σ²)
1.0
>>> round(dpsgd_epsilon(q=256 / 60_000, sigma=1.1, steps=60 * 235, delta=1e-5), 2)
3.01
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import gammaln, logsumexp

from ..accounting import rdp_to_dp

__all__ = ["ORDERS", "calibrate_sigma", "dpsgd_epsilon", "sgm_rdp"]

#: Integer Rényi orders used by the accountant.
ORDERS = tuple(range(2, 257))


def _check(q, sigma):
    q, sigma = float(q), float(sigma)
    if not 0 < q <= 1:
        raise ValueError(f"q (sampling rate) must lie in (0, 1], got {q}")
    if not sigma > 0 or not np.isfinite(sigma):
        raise ValueError(f"sigma (noise multiplier) must be > 0, got {sigma}")
    return q, sigma


def sgm_rdp(q: float, sigma: float, alpha: int) -> float:
    """Rényi DP of one step of the sampled Gaussian mechanism at integer order ``alpha``."""
    q, sigma = _check(q, sigma)
    if isinstance(alpha, bool) or int(alpha) != alpha or alpha < 2:
        raise ValueError(f"alpha must be an integer >= 2, got {alpha}")
    a = int(alpha)
    if q == 1.0:
        return a / (2 * sigma**2)
    k = np.arange(a + 1)
    log_binom = gammaln(a + 1) - gammaln(k + 1) - gammaln(a - k + 1)
    terms = log_binom + (a - k) * math.log1p(-q) + k * math.log(q) + (k * k - k) / (2 * sigma**2)
    return float(logsumexp(terms) / (a - 1))


def dpsgd_epsilon(*, q: float, sigma: float, steps: int, delta: float,
                  orders=ORDERS) -> float:
    """``(ε, δ)``-DP of ``steps`` DP-SGD steps (best order of ``orders``)."""
    if isinstance(steps, bool) or int(steps) != steps or steps < 1:
        raise ValueError(f"steps must be an int >= 1, got {steps}")
    return min(rdp_to_dp(steps * sgm_rdp(q, sigma, a), a, delta) for a in orders)


def calibrate_sigma(epsilon: float, *, q: float, steps: int, delta: float,
                    lo: float = 0.3, hi: float = 200.0) -> float:
    """The smallest noise multiplier (to 0.1 %) whose ``(ε, δ)`` is at most ``epsilon``."""
    if not epsilon > 0:
        raise ValueError(f"epsilon must be > 0, got {epsilon}")
    if dpsgd_epsilon(q=q, sigma=hi, steps=steps, delta=delta) > epsilon:
        raise ValueError(f"epsilon={epsilon} is out of reach at q={q}, steps={steps}")
    if dpsgd_epsilon(q=q, sigma=lo, steps=steps, delta=delta) <= epsilon:
        return lo
    while hi / lo > 1.001:
        mid = math.sqrt(lo * hi)
        if dpsgd_epsilon(q=q, sigma=mid, steps=steps, delta=delta) <= epsilon:
            hi = mid
        else:
            lo = mid
    return hi
