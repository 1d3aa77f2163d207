"""The noisy-GD deletion bound, in the form of Chien et al.'s code, and ``steps_for``.

Source of the constants (see docs/science/deletion.md): Graph-COM/Langevin_unlearning at
5f8e712, ``main_lmc.py::Runner.epsilon_expression`` and ``baseline.py::epsilon_s_with_alpha``,
mapped α→q, S→k, M→L, m→λ.  The Chourasia–Shah theorem itself has **not** been checked,
so the bound is labelled ``"chien24-code"`` and a deletion is never reported as certified.

* ``eps0(q) = 4 q k² L² / (λ σ² n²)`` — converged Rényi term for ``k`` changed records;
* ``eps_dd(q, K) = eps0(q) · exp(−λ η K / q)`` — after ``K`` deletion steps;
* a sequence of requests: ``eps_s(q) = e^{−ληK_s/q}·(q−½)/(q−1)·[eps0_s(2q) + eps_{s−1}(2q)]``;
* ``(ε, δ)``: ``eps_rdp(q) + log(1/δ)/(q−1)``, minimised over ``q``.

Examples
--------
>>> from unlearn.accounting import eps0, steps_for
>>> round(eps0(2.0, k=20, n=569, lam=1e-2, sigma=0.05), 1)
395.4
>>> steps_for(1.0, k=20, n=569, lam=1e-2, sigma=0.05, eta=1 / 0.26, q=2.0)
311
>>> steps_for(1.0, k=20, n=569, lam=1e-2, sigma=0.05, eta=1 / 0.26, delta=1 / 569)
2025
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from sim.validate import check_float, check_int

__all__ = [
    "BOUND_NAME",
    "BOUND_SOURCE",
    "BOUND_CHECKED",
    "eps0",
    "eps_dd",
    "eps_sequence",
    "fresh_chain_divergence",
    "fresh_steps_for",
    "rdp_bounds",
    "rdp_to_dp",
    "steps_for",
]

BOUND_NAME = "chien24-code"
BOUND_SOURCE = (
    "Graph-COM/Langevin_unlearning@5f8e712 main_lmc.py::Runner.epsilon_expression and "
    "baseline.py::epsilon_s_with_alpha (code read; Chien et al. 2024 and Chourasia-Shah "
    "2023 theorem statements not read)"
)
BOUND_CHECKED = False  # flips only once the Chourasia–Shah theorem has been checked

DEFAULT_ORDERS = np.unique(np.concatenate([
    np.linspace(1.01, 3, 200), np.linspace(3, 64, 1221), np.geomspace(64, 8192, 300)]))


def _pos(name, v, strict=True):
    return check_float(name, v, low=0, low_open=strict)


def _order(q) -> float:
    return check_float("q", q, low=1, low_open=True)


def eps0(q: float, *, k: int, n: int, lam: float, sigma: float, L: float = 1.0) -> float:
    """Converged Rényi bound ``4 q k² L² / (λ σ² n²)`` (``k`` records of ``n`` changed).

    ``k`` may be fractional (earlier requests rescaled to the current ``n``).
    """
    q = _order(q)
    k = check_float("k", k, low=0)
    n = check_float("n", n, low=1)
    if k > n:
        raise ValueError(f"k must be <= n={n:g}, got {k:g}")
    lam, sigma, L = _pos("lam", lam), _pos("sigma", sigma), _pos("L", L)
    return 4.0 * q * k**2 * L**2 / (lam * sigma**2 * n**2)


def eps_dd(q, steps, *, k, n, lam, sigma, eta, L=1.0) -> float:
    """Rényi deletion bound after ``steps`` deletion steps: ``eps0·exp(−ληK/q)``."""
    eta = _pos("eta", eta)
    steps = check_int("steps", steps, low=0)
    return eps0(q, k=k, n=n, lam=lam, sigma=sigma, L=L) * math.exp(-lam * eta * steps / q)


def eps_sequence(q, ks: Sequence[int], steps: Sequence[int], *, n, lam, sigma, eta, L=1.0):
    """Rényi bound after a sequence of requests of sizes ``ks`` each followed by ``steps``.

    Implements the weak-triangle recursion of ``baseline.py::epsilon_s_with_alpha``; the
    order doubles at each earlier request.
    """
    if len(ks) != len(steps) or not len(ks):
        raise ValueError("ks and steps must be non-empty and of equal length")

    def rec(s, a):
        decay = math.exp(-lam * eta * steps[s] / a)
        if s == 0:
            return decay * eps0(a, k=ks[0], n=n, lam=lam, sigma=sigma, L=L)
        e_new = eps0(2 * a, k=ks[s], n=n, lam=lam, sigma=sigma, L=L)
        return decay * (a - 0.5) / (a - 1) * (e_new + rec(s - 1, 2 * a))

    return rec(len(ks) - 1, float(q))


def rdp_to_dp(eps_rdp: float, q: float, delta: float) -> float:
    """(ε, δ) from a Rényi bound of order ``q``: ``ε_q + log(1/δ)/(q−1)``."""
    q = _order(q)
    eps_rdp = check_float("eps_rdp", eps_rdp, low=0, finite=False)
    delta = check_float("delta", delta, low=0, high=1, low_open=True, high_open=True)
    return eps_rdp + math.log(1 / delta) / (q - 1)


def rdp_bounds(steps, *, k, n, lam, sigma, eta, L=1.0, q=2.0, delta=None, orders=None):
    """Dictionary of bounds after ``steps`` deletion steps for one request of ``k`` records.

    Keys: ``eps0`` (no deletion steps), ``eps_rdp`` (order ``q``), ``eps_dp`` (DP of the
    remaining records, ``k = 1``, converged), and with ``delta`` also ``eps_delta`` (best
    ``(ε, δ)`` over ``orders``) and ``q_best``.
    """
    out = {
        "q": float(q),
        "eps0": eps0(q, k=k, n=n, lam=lam, sigma=sigma, L=L),
        "eps_rdp": eps_dd(q, steps, k=k, n=n, lam=lam, sigma=sigma, eta=eta, L=L),
        "eps_dp": eps0(q, k=1, n=n, lam=lam, sigma=sigma, L=L),
    }
    if delta is not None:
        qs = DEFAULT_ORDERS if orders is None else np.asarray(orders, float)
        vals = [rdp_to_dp(eps_dd(a, steps, k=k, n=n, lam=lam, sigma=sigma, eta=eta, L=L),
                          a, delta) for a in qs]
        i = int(np.argmin(vals))
        out.update(eps_delta=float(vals[i]), q_best=float(qs[i]))
    return out


def _steps_rdp(eps, q, base, lam, eta):
    """Smallest K with base(q)·exp(−ληK/q) <= eps."""
    if base <= eps:
        return 0
    return int(math.ceil(q / (lam * eta) * math.log(base / eps) - 1e-9))


def steps_for(eps: float, *, k: int, n: int, lam: float, sigma: float, eta: float,
              L: float = 1.0, q: float | None = None, delta: float | None = None,
              orders=None, previous: Sequence[tuple[int, int]] = ()) -> int:
    """Deletion steps needed for a Rényi target (``q`` given) or an ``(ε, δ)`` target.

    ``K_U(q) = ⌈(q/(λη))·ln(ε₀(q)/ε)⌉`` (0 if ε₀ ≤ ε).  With ``delta``, the minimum over
    ``q > 1 + ln(1/δ)/ε`` of ``K_U(q)`` computed at ``ε − ln(1/δ)/(q−1)``.
    ``previous`` lists ``(k_j, K_j)`` of earlier requests (sequence recursion).
    """
    eps = _pos("eps", eps)
    _pos("eta", eta)
    if (q is None) == (delta is None):
        raise ValueError("give exactly one of q (Rényi target) or delta ((ε, δ) target)")

    def base(a):
        if not previous:
            return eps0(a, k=k, n=n, lam=lam, sigma=sigma, L=L)
        ks = [p[0] for p in previous]
        Ks = [p[1] for p in previous]
        prev = eps_sequence(2 * a, ks, Ks, n=n, lam=lam, sigma=sigma, eta=eta, L=L)
        return (a - 0.5) / (a - 1) * (eps0(2 * a, k=k, n=n, lam=lam, sigma=sigma, L=L) + prev)

    if q is not None:
        q = _order(q)
        return _steps_rdp(eps, q, base(q), lam, eta)
    delta = check_float("delta", delta, low=0, high=1, low_open=True, high_open=True)
    qs = DEFAULT_ORDERS if orders is None else np.asarray(orders, float)
    best = None
    for a in qs:
        target = eps - math.log(1 / delta) / (a - 1)
        if target <= 0:
            continue
        K = _steps_rdp(target, float(a), base(float(a)), lam, eta)
        best = K if best is None else min(best, K)
    if best is None:
        raise ValueError(f"no order q in the grid reaches eps={eps} at delta={delta}")
    return best


def fresh_chain_divergence(q: float, *, d: int, lam: float, sigma: float, L: float = 1.0):
    """Upper bound on ``D_q(N(0, σ²/λ) ‖ ν_D)`` for a chain started afresh.

    ``ν_D ∝ exp(−F/σ²)`` with ``F = f + (λ/2)||θ||²`` and ``f`` L-Lipschitz (mean of
    L-Lipschitz losses), so ``log ρ₀/ν = (f − f̄)/σ²`` and ``|f(θ) − f(0)| ≤ L||θ||``; with
    ``log E exp(t||θ||) ≤ t s √d + t² s²/2`` (``s² = σ²/λ``, Gaussian concentration)::

        D_q ≤ [(q−1)·L s √d/σ² + (q−1)² L² s²/(2σ⁴)]/(q−1) + L s √d/σ² + L² s²/(2σ⁴)

    (derived here; a worst case over all datasets, not a fit).
    """
    q, d = _order(q), check_int("d", d, low=1)
    lam, sigma, L = _pos("lam", lam), _pos("sigma", sigma), _pos("L", L)
    s = sigma / math.sqrt(lam)
    a = (q - 1) * L / sigma**2
    b = L / sigma**2
    rd = math.sqrt(d)
    return (a * s * rd + a * a * s * s / 2) / (q - 1) + b * s * rd + b * b * s * s / 2


def fresh_steps_for(eps: float, *, d: int, lam: float, sigma: float, eta: float,
                    L: float = 1.0, q: float | None = None, delta: float | None = None,
                    orders=None) -> int:
    """Steps a fresh chain from ``N(0, σ²/λ)`` needs for the same target, under the same
    ``exp(−ληK/q)`` contraction (LSI constant ``2σ²/λ``, as in the deletion bound)."""
    eps, eta = _pos("eps", eps), _pos("eta", eta)
    if (q is None) == (delta is None):
        raise ValueError("give exactly one of q or delta")
    if delta is not None:
        delta = check_float("delta", delta, low=0, high=1, low_open=True, high_open=True)
    if q is not None:
        return _steps_rdp(eps, q, fresh_chain_divergence(q, d=d, lam=lam, sigma=sigma, L=L),
                          lam, eta)
    qs = DEFAULT_ORDERS if orders is None else np.asarray(orders, float)
    best = None
    for a in qs:
        target = eps - math.log(1 / delta) / (a - 1)
        if target <= 0:
            continue
        base = fresh_chain_divergence(float(a), d=d, lam=lam, sigma=sigma, L=L)
        K = _steps_rdp(target, float(a), base, lam, eta)
        best = K if best is None else min(best, K)
    if best is None:
        raise ValueError(f"no order q in the grid reaches eps={eps} at delta={delta}")
    return best
