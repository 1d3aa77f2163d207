"""Sub-threshold scaling of open-boundary blocks and resource estimates.

A memory experiment on an ``L × L × T`` block (:mod:`fbqc.boundary`) fails with
probability ``P``; its logical error **per layer** is ``p_L = 1 − (1 − P)^{1/T}``.  Below
threshold the data follow

    p_L(L) ≈ A · Λ^{−(L+1)/2},

the surface-code form with suppression factor ``Λ`` per two units of size.
:func:`fit_scaling` fits it by maximum likelihood on the binomial counts of every block
(zero-error points included: they bound the fit) with a parametric-bootstrap CI, and
reports the reduced χ² so a bad form shows.

From the fit, :func:`resource_table` gives, per target ``p_L`` (``1e-6``, ``1e-9``,
``1e-12`` by default), the smallest ``L`` that reaches it and the cost of one logical
qubit per layer at that size — fusions, resource-state photons, and physical fusions and
photons for a linear-optics model (boosted fusions have extra ancilla photons; an encoded
fusion is four physical ones).  The per-layer counts of an open block are exact:
:func:`layer_counts` counts the block at ``T = 4`` minus ``T = 3`` (a bulk layer), which
is a quadratic in ``L``; it is evaluated at three sizes and extrapolated (exact for a
quadratic; checked in the tests).

Examples
--------
>>> fit = fit_scaling([(5, 5, 300, 10_000), (7, 7, 60, 10_000), (9, 9, 12, 10_000)],
...                   bootstrap=50, seed=1)
>>> 5 < fit.Lambda < 9, fit.required_L(1e-6)
(True, 15)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

__all__ = ["ScalingFit", "fit_scaling", "layer_counts", "per_layer", "resource_table",
           "scaling_points"]


def per_layer(P: float | np.ndarray, T: float | np.ndarray) -> np.ndarray:
    """Logical error per layer ``1 − (1 − P)^{1/T}`` of a block failing with ``P``.

    >>> round(float(per_layer(0.19, 2)), 4)
    0.1
    """
    P = np.asarray(P, float)
    return 1.0 - np.power(1.0 - np.clip(P, 0.0, 1.0), 1.0 / np.asarray(T, float))


def _model(theta: np.ndarray, L: np.ndarray) -> np.ndarray:
    logA, logLam = theta
    return np.exp(logA - 0.5 * (L + 1.0) * logLam)


def _nll(theta: np.ndarray, L: np.ndarray, T: np.ndarray, k: np.ndarray, n: np.ndarray
         ) -> tuple[float, np.ndarray]:
    """Negative binomial log-likelihood of the block counts and its gradient."""
    p = np.clip(_model(theta, L), 1e-300, 1 - 1e-12)
    q = np.exp(T * np.log1p(-p))  # 1 - P
    P = np.clip(1.0 - q, 1e-300, 1 - 1e-15)
    nll = float(-(k * np.log(P) + (n - k) * np.log1p(-P)).sum())
    dP = -(k / P - (n - k) / np.clip(1.0 - P, 1e-300, None))  # d nll / d P
    dPdp = T * q / (1.0 - p)
    g = dP * dPdp * p  # d nll / d log A
    return nll, np.array([g.sum(), (-0.5 * (L + 1.0) * g).sum()])


def _mle(L, T, k, n, start=None) -> np.ndarray:
    from scipy.optimize import minimize

    if start is None:
        rate = per_layer((k + 0.5) / (n + 1.0), T)
        slope, icpt = np.polyfit(0.5 * (L + 1.0), np.log(rate), 1)
        start = np.array([icpt, max(-slope, 1e-3)])
    res = minimize(_nll, start, args=(L, T, k, n), jac=True, method="BFGS",
                   options={"gtol": 1e-8, "maxiter": 500})
    return np.asarray(res.x)


@dataclass
class ScalingFit:
    """A fit ``p_L = A · Λ^{−(L+1)/2}`` (per layer) with bootstrap CIs.

    Attributes
    ----------
    A, Lambda : fitted values; ``A_ci``, ``Lambda_ci`` their 95 % CIs.
    chi2_dof : Pearson χ² per degree of freedom of the block counts.
    points : ``(L, T, errors, shots)`` rows used.
    boot : ``(n_boot, 2)`` bootstrap ``(log A, log Λ)`` samples.
    """

    A: float
    Lambda: float
    A_ci: tuple[float, float]
    Lambda_ci: tuple[float, float]
    chi2_dof: float
    points: np.ndarray
    boot: np.ndarray = field(repr=False)

    def p_L(self, L: float | np.ndarray) -> np.ndarray:
        """The fitted logical error per layer at size ``L``."""
        return _model(np.array([math.log(self.A), math.log(self.Lambda)]), np.asarray(L, float))

    def required_L(self, target: float, *, theta: np.ndarray | None = None,
                   L_min: int = 3) -> int:
        """Smallest integer ``L >= L_min`` with ``p_L(L) <= target`` (``-1`` if the fit
        does not decrease, i.e. ``Λ <= 1``)."""
        logA, logLam = (math.log(self.A), math.log(self.Lambda)) if theta is None else theta
        if logLam <= 0:
            return -1
        L = 2.0 * (logA - math.log(target)) / logLam - 1.0
        return max(L_min, int(math.ceil(L - 1e-9)))

    def required_L_ci(self, target: float) -> tuple[int, int]:
        """95 % range of :meth:`required_L` over the bootstrap fits."""
        Ls = [self.required_L(target, theta=t) for t in self.boot]
        Ls = [x if x > 0 else 10**9 for x in Ls]
        return int(np.percentile(Ls, 2.5)), int(np.percentile(Ls, 97.5))

    def summary(self) -> str:
        return (f"p_L = A·Λ^(−(L+1)/2): Λ = {self.Lambda:.3g} [{self.Lambda_ci[0]:.3g}, "
                f"{self.Lambda_ci[1]:.3g}], A = {self.A:.3g} [{self.A_ci[0]:.3g}, "
                f"{self.A_ci[1]:.3g}], χ²/dof = {self.chi2_dof:.2g} "
                f"({len(self.points)} sizes)")


def scaling_points(stats: Iterable[Any], *, membrane: int = 0) -> np.ndarray:
    """``(L, T, errors, shots)`` rows from sinter stats of open blocks (merged per size).

    ``membrane``: which membrane's failures count (``0``, the block's only one; the
    ``errors`` column of the fbqc samplers).
    """
    acc: dict[tuple[int, int], list[int]] = {}
    for s in stats:
        m = s.json_metadata
        L = int(m["L"])
        T = int(m.get("T", L))
        if membrane == 0:
            e = s.errors
        else:
            e = sum(v for k, v in s.custom_counts.items()
                    if k.startswith("obs_mistake_mask=") and k[17 + membrane] == "E")
        a = acc.setdefault((L, T), [0, 0])
        a[0] += int(e)
        a[1] += int(s.shots)
    rows = [(L, T, k, n) for (L, T), (k, n) in sorted(acc.items()) if n > 0]
    return np.array(rows, dtype=np.int64).reshape(-1, 4)


def fit_scaling(points: Any, *, bootstrap: int = 400, seed: int | None = 0) -> ScalingFit:
    """Maximum-likelihood fit of ``p_L = A·Λ^{−(L+1)/2}`` to block failure counts.

    Parameters
    ----------
    points : ``(L, T, errors, shots)`` rows, or sinter stats of open blocks
        (:func:`scaling_points`).  At least two sizes, and at least one error in total.
    bootstrap : parametric-bootstrap resamples (counts redrawn from the fitted model).
    seed : seed of the bootstrap.
    """
    pts = np.asarray(points) if isinstance(points, np.ndarray) else None
    if pts is None:
        seq = list(points)
        if seq and hasattr(seq[0], "json_metadata"):
            pts = scaling_points(seq)
        else:
            pts = np.asarray(seq, dtype=np.int64).reshape(-1, 4)
    pts = pts.astype(np.int64)
    if pts.shape[0] < 2 or len(set(pts[:, 0].tolist())) < 2:
        raise ValueError("points: need block counts at two or more sizes L")
    if pts[:, 2].sum() == 0:
        raise ValueError("points: no logical errors at all; the fit needs some")
    if np.any(pts[:, 3] <= 0) or np.any(pts[:, 2] > pts[:, 3]) or np.any(pts[:, 2] < 0):
        raise ValueError("points: need 0 <= errors <= shots and shots > 0")
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, (int, np.integer)) \
            or bootstrap < 0:
        raise ValueError(f"bootstrap must be a non-negative integer, got {bootstrap!r}")
    L, T, k, n = (pts[:, i].astype(float) for i in range(4))
    theta = _mle(L, T, k, n)
    p = _model(theta, L)
    P = -np.expm1(T * np.log1p(-np.clip(p, 0, 1 - 1e-12)))
    dof = max(1, len(L) - 2)
    chi2 = float((((k - n * P) ** 2) / np.maximum(n * P * (1 - P), 1e-12)).sum()) / dof
    rng = np.random.default_rng(seed)
    boot = []
    for _ in range(int(bootstrap)):
        kb = rng.binomial(n.astype(np.int64), P).astype(float)
        if kb.sum() == 0:
            continue
        boot.append(_mle(L, T, kb, n, start=theta))
    B = np.array(boot).reshape(-1, 2) if boot else np.tile(theta, (1, 1))
    A_ci = tuple(float(v) for v in np.exp(np.percentile(B[:, 0], [2.5, 97.5])))
    Lam_ci = tuple(float(v) for v in np.exp(np.percentile(B[:, 1], [2.5, 97.5])))
    return ScalingFit(float(math.exp(theta[0])), float(math.exp(theta[1])), A_ci, Lam_ci,
                      chi2, pts, B)


# ------------------------------------------------------------------ resource counts
@lru_cache(maxsize=256)
def _block_layer(network: str, L: int) -> tuple[int, int]:
    """(fusions, qubits) of one bulk layer of the ``L × L`` open block of ``network``."""
    from .network import FusionNetwork

    a = FusionNetwork(network, L, boundary="open", T=3)
    b = FusionNetwork(network, L, boundary="open", T=4)
    return b.n_fusions - a.n_fusions, b.n_qubits - a.n_qubits


def layer_counts(network: str, L: int) -> dict[str, int]:
    """Fusions and qubits (resource-state photons) per layer of an ``L × L`` open block.

    Exact at ``L <= 8``; beyond, the quadratic through ``L = 6, 7, 8`` (the per-layer
    count of a block is a quadratic in ``L``: bulk ``∝ L²`` plus face terms ``∝ L``).

    >>> c = layer_counts("6ring", 10)
    >>> c["fusions"] > 6 * 8 * 8
    True
    """
    if isinstance(L, bool) or not isinstance(L, (int, np.integer)) or L < 3:
        raise ValueError(f"L must be an integer >= 3, got {L!r}")
    if L <= 8:
        f, q = _block_layer(network, int(L))
    else:
        xs = np.array([6, 7, 8], float)
        vals = np.array([_block_layer(network, int(x)) for x in xs], float)
        coef = [np.polyfit(xs, vals[:, i], 2) for i in range(2)]
        f, q = (int(round(float(np.polyval(c, L)))) for c in coef)
    return {"fusions": int(f), "qubits": int(q)}


def resource_table(fit: ScalingFit, network: str, *, targets: Sequence[float] = (1e-6, 1e-9,
                   1e-12), physical_per_fusion: int = 1, photons_per_fusion: int = 2
                   ) -> list[dict[str, Any]]:
    """Per target: the size ``L`` (and its 95 % range) and the cost per logical qubit per
    layer at that size.

    ``physical_per_fusion``: physical fusions per network fusion (4 for a (2,2)-Shor
    encoded fusion); ``photons_per_fusion``: photons measured by one physical fusion (2;
    4 when boosted with a Bell pair).  ``photons`` counts every photon a layer measures:
    ``physical fusions × photons per fusion`` plus the boundary's single-qubit
    measurements (``qubits − 2·fusions`` qubits, one photon each, four if encoded).
    """
    rows = []
    for tgt in targets:
        if not 0 < tgt < 1:
            raise ValueError(f"targets must lie in (0, 1), got {tgt!r}")
        L = fit.required_L(tgt)
        lo, hi = fit.required_L_ci(tgt)
        row: dict[str, Any] = {"target": tgt, "L": L, "L_lo": lo, "L_hi": hi}
        for tag, size in (("", L), ("_lo", lo), ("_hi", hi)):
            if size < 0 or size > 10**5:
                row[f"fusions{tag}"] = row[f"photons{tag}"] = float("inf")
                continue
            c = layer_counts(network, size)
            phys = c["fusions"] * physical_per_fusion
            single = c["qubits"] - 2 * c["fusions"]
            row[f"fusions{tag}"] = phys
            row[f"photons{tag}"] = phys * photons_per_fusion + single * physical_per_fusion
        rows.append(row)
    return rows
