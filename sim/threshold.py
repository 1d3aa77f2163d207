"""Threshold estimates: a finite-size-scaling fit with bootstrap CIs, plus pairwise crossings.

The fit is the standard quadratic data collapse

    P_L(p) ≈ a + b·u + c·u²,    u = (p − p_c)·L^{1/ν},

with ``p_c`` and ``ν`` free, weighted by each point's binomial standard error.  Points
whose error rate exceeds ``max_rate`` (default 0.4, where the quadratic form no longer
holds) are dropped, and after a first fit so are points far outside the scaling window
(``|u| > window``; by default three times the median ``|u|``).  The confidence interval
comes from a parametric bootstrap over the binomial uncertainty of every point (each
count redrawn from Binomial(shots, rate), the whole fit redone), widened by the scale
factor sqrt(χ²/dof) when the fit is worse than its error bars (χ²/dof > 1).

The crossings of neighbouring sizes (linear interpolation of the difference of the two
curves on their common x values) are reported beside it, and their spread is the
*drift*: a systematic error (finite-size corrections) the statistical CI does not cover.

A fit never pools rows that differ in anything but ``x`` and the size: :func:`threshold`
refuses such rows with a message naming the varying field (the decoder, the network, …),
and :func:`thresholds` fits each group separately.  Every result carries ``warnings``
when it should not be read as a threshold: the estimate lies outside the sampled range,
no pair of sizes crosses, χ²/dof > 3, or the CI is wider than the sampled range.
``result.ok`` is False then, and ``result.text()`` says "no threshold in range".
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sinter
from scipy.optimize import least_squares

from .selection import Where, axis_label, format_group, load, select, split, varying_fields
from .validate import check_float, check_int

__all__ = ["Crossing", "ThresholdResult", "points", "threshold", "thresholds"]

#: χ²/dof above which a collapse fit is reported as not describing the data.
MAX_CHI2_DOF = 3.0


@dataclass(frozen=True)
class Crossing:
    """Where the curves of sizes ``size_a < size_b`` cross (``None`` if they do not)."""

    size_a: float
    size_b: float
    value: float | None
    ci: tuple[float, float] | None


@dataclass
class ThresholdResult:
    """The result of :func:`threshold`.

    Attributes
    ----------
    value, ci : the fitted threshold and its bootstrap confidence interval.
    nu, nu_ci : the fitted scaling exponent ν and its CI.
    crossings : pairwise crossings of neighbouring sizes (:class:`Crossing`).
    drift : spread (max − min) of the crossings: a systematic error.
    systematic : largest distance of a crossing from ``value``.
    coefficients : (a, b, c[, d]) of the collapse polynomial, lowest order first.
    chi2_dof : reduced χ² of the fit.
    n_points, n_dropped : points fitted and points dropped.
    group : the fields that single out these rows from others (``{}`` if none did).
    x_name, size_name : names of the swept parameter and of the size (for labels).
    x_label : the swept parameter in words (from the sampler's labels), for figures.
    x_range : the sampled range of ``x`` (min, max).
    warnings : why the fit should not be read as a threshold (empty when it can).
    """

    value: float
    ci: tuple[float, float]
    nu: float
    nu_ci: tuple[float, float]
    crossings: list[Crossing]
    drift: float
    systematic: float
    coefficients: tuple[float, ...]
    chi2_dof: float
    n_points: int
    n_dropped: int
    confidence: float = 0.95
    data: dict[str, Any] = field(default_factory=dict, repr=False)
    group: dict[str, Any] = field(default_factory=dict)
    x_name: str = "x"
    size_name: str = "L"
    x_range: tuple[float, float] = (math.nan, math.nan)
    warnings: list[str] = field(default_factory=list)
    x_label: str = ""

    @property
    def half_width(self) -> float:
        """Half the width of the CI."""
        return (self.ci[1] - self.ci[0]) / 2

    @property
    def ok(self) -> bool:
        """True when no warning applies: the estimate can be read as a threshold."""
        return not self.warnings

    def text(self, fmt: str = ".5g") -> str:
        """``"0.12029 [0.1198, 0.12072]"``, or ``"no threshold in range"`` when not :attr:`ok`."""
        if not self.ok:
            return "no threshold in range"
        return f"{self.value:{fmt}} [{self.ci[0]:{fmt}}, {self.ci[1]:{fmt}}]"

    def summary(self) -> str:
        """A human-readable multi-line summary (warnings included)."""
        level = f"{int(round(self.confidence * 100))}% CI"
        head = f"[{format_group(self.group)}] " if self.group else ""
        fit = (f"{self.value:.6g}  {level} [{self.ci[0]:.6g}, {self.ci[1]:.6g}] "
               f"(±{self.half_width:.3g})")
        lines = [f"{head}threshold {fit}" if self.ok else
                 f"{head}threshold: no threshold in range (the fit gave {fit})"]
        lines.append(
            f"ν {self.nu:.4g}  CI [{self.nu_ci[0]:.4g}, {self.nu_ci[1]:.4g}]   "
            f"χ²/dof {self.chi2_dof:.3g}   points {self.n_points} (dropped {self.n_dropped})"
        )
        name = self.size_name
        for c in self.crossings:
            pair = f"{name}={c.size_a:g}/{c.size_b:g}"
            if c.value is None:
                lines.append(f"crossing {pair}: none in range")
            else:
                ci = f" [{c.ci[0]:.6g}, {c.ci[1]:.6g}]" if c.ci else ""
                lines.append(f"crossing {pair}: {c.value:.6g}{ci}")
        lines.append(
            f"crossing drift {self.drift:.3g} (systematic, max |crossing - fit| "
            f"{self.systematic:.3g})"
        )
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def _getter(spec: str | Callable[[sinter.TaskStats], Any], arg: str) -> Callable:
    if callable(spec):
        return spec
    if not isinstance(spec, str):
        raise TypeError(f"{arg} must be a json_metadata key or a callable, got {spec!r}")

    def get(s: sinter.TaskStats) -> Any:
        meta = s.json_metadata if isinstance(s.json_metadata, dict) else {}
        if spec not in meta:
            raise ValueError(f"{arg}: key {spec!r} not in json_metadata {meta}")
        return meta[spec]

    return get


def _load(stats: Any) -> list[sinter.TaskStats]:
    return load(stats)


def _pooled_message(vary: dict[str, list[Any]], x: Any, size: Any) -> str:
    named = "; ".join(f"{k} ({', '.join(map(str, v[:6]))}{', …' if len(v) > 6 else ''})"
                      for k, v in vary.items())
    k, v = next(iter(vary.items()))
    xs = x if isinstance(x, str) else "x"
    ss = size if isinstance(size, str) else "size"
    return (f"the rows differ in {named} besides {xs} and {ss}; pooling them would "
            f"mix curves. Fit one group with where={{{k!r}: {v[0]!r}}} "
            f"(command line: --where {k}={v[0]}), or each with sim.thresholds(...)")


def _checked_rows(stats: Any, x: Any, size: Any, where: Where) -> list:
    rows = select(load(stats), where)
    for arg, key in (("x", x), ("size", size)):
        if isinstance(key, str) and any(key not in (s.json_metadata or {}) for s in rows):
            known = sorted({k for s in rows for k in (s.json_metadata or {})})
            raise ValueError(f"{arg}: key {key!r} is not in the rows' json_metadata "
                             f"(keys: {', '.join(known)})")
    exclude = [k for k in (x, size) if isinstance(k, str)]
    funcs = [f for f in (x, size) if callable(f)]
    vary = varying_fields(rows, exclude=exclude, functions_of=funcs)
    if vary:
        raise ValueError(_pooled_message(vary, x, size))
    return rows


def points(
    stats: Any,
    *,
    x: str | Callable,
    size: str | Callable,
    where: Where = None,
    observable: Any = None,
) -> dict[str, np.ndarray]:
    """Aggregate rows into arrays ``x``, ``size``, ``shots``, ``errors`` (one per point).

    Rows that differ in any field besides ``x`` and ``size`` are refused (``ValueError``
    naming the field): select one group with ``where``.  ``observable`` counts the
    failures of named observables instead of ``errors`` (:func:`sim.observable_stats`).
    """
    fx, fs = _getter(x, "x"), _getter(size, "size")
    rows = _checked_rows(stats, x, size, where)
    if observable is not None:
        from .observables import observable_stats

        rows = observable_stats(rows, observable)
    acc: dict[tuple[float, float], list[int]] = {}
    for s in rows:
        key = (float(fx(s)), float(fs(s)))
        a = acc.setdefault(key, [0, 0])
        a[0] += s.shots - s.discards
        a[1] += s.errors
    keys = sorted(acc)
    return {
        "x": np.array([k[0] for k in keys]),
        "size": np.array([k[1] for k in keys]),
        "shots": np.array([acc[k][0] for k in keys], dtype=np.int64),
        "errors": np.array([acc[k][1] for k in keys], dtype=np.int64),
    }


def _sigma(errors: np.ndarray, shots: np.ndarray) -> np.ndarray:
    r = (errors + 0.5) / (shots + 1.0)
    return np.sqrt(r * (1 - r) / shots)


def _fit(x, L, rate, sig, start):
    def resid(theta):
        pc, lognu = theta[0], theta[1]
        # the optimiser may probe absurd nu; keep those steps finite and heavily penalised
        with np.errstate(over="ignore", invalid="ignore"):
            u = (x - pc) * L ** (1.0 / math.exp(np.clip(lognu, -5.0, 5.0)))
            r = (np.polyval(theta[:1:-1], u) - rate) / sig
        return np.where(np.isfinite(r), r, 1e6)

    best = None
    for s in start:
        try:
            r = least_squares(resid, s, method="lm", max_nfev=4000)
        except (ValueError, FloatingPointError):
            continue
        if np.all(np.isfinite(r.x)) and (best is None or r.cost < best.cost):
            best = r
    if best is None:
        raise ValueError("threshold: the scaling fit did not converge")
    return best


def _crossing(x1, r1, x2, r2, near):
    common = np.intersect1d(x1, x2)
    if common.size < 2:
        return None
    d = np.interp(common, x2, r2) - np.interp(common, x1, r1)
    roots = []
    for i in range(common.size - 1):
        if d[i] == 0:
            roots.append(common[i])
        elif d[i] * d[i + 1] < 0:
            t = d[i] / (d[i] - d[i + 1])
            roots.append(common[i] + t * (common[i + 1] - common[i]))
    if d[-1] == 0:
        roots.append(common[-1])
    if not roots:
        return None
    return float(min(roots, key=lambda v: abs(v - near)))


def threshold(
    stats: Any,
    *,
    x: str | Callable = "p",
    size: str | Callable = "L",
    where: Where = None,
    max_rate: float | None = 0.4,
    window: float | None = None,
    bootstrap: int = 200,
    confidence: float = 0.95,
    seed: int | None = 0,
    order: int = 2,
    observable: Any = None,
) -> ThresholdResult:
    """Estimate a threshold with a confidence interval from sweep results.

    Parameters
    ----------
    stats
        ``sinter.TaskStats`` rows or CSV path(s).
    x, size
        json_metadata keys (or callables on a row) for the physical parameter and the
        system size.
    where
        Keep only rows whose fields match this dict (or satisfy this predicate).  The rows
        left must differ only in ``x`` and ``size``: any other varying field (decoder,
        network, …) raises ``ValueError`` naming it (:func:`thresholds` fits each group).
    max_rate
        Drop points with error rate above this (``None`` keeps all).
    window
        Drop points with ``|u| > window`` after a first fit (default: 3× median ``|u|``;
        ``float('inf')`` keeps all).
    bootstrap, confidence, seed
        Parametric bootstrap replicas, CI level and the bootstrap's seed.
    order
        Degree of the collapse polynomial (2, the standard quadratic form; 3 adds the
        odd term that curves symmetric about threshold, like the repetition code's, need
        at high precision).
    observable
        Fit the failure rate of named observables instead of ``errors`` (a name such as
        ``"primal-x"``, or a list meaning "any of them"; see :func:`sim.observable_stats`).

    Returns
    -------
    ThresholdResult
        With ``warnings`` (and ``ok`` False) when the estimate lies outside the sampled
        range, no pair of sizes crosses, χ²/dof > 3, or the CI is wider than the range.

    Examples
    --------
    >>> import sim
    >>> tasks = [("repetition", {"n": n, "p": p}) for n in (9, 25, 49)
    ...          for p in (0.44, 0.47, 0.5, 0.52, 0.55)]
    >>> st = sim.collect(tasks, max_shots=20_000, seed=1, workers=1)
    >>> res = sim.threshold(st, x="p", size="n", max_rate=None, bootstrap=50)
    >>> abs(res.value - 0.5) < 0.01, res.ok
    (True, True)
    """
    if order not in (2, 3):
        raise ValueError(f"order must be 2 or 3, got {order!r}")
    bootstrap = check_int("bootstrap", bootstrap, low=0)  # numpy ints too, bools refused
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    if max_rate is not None:  # a number in (0, 1]: "0.4" or NaN named, not a deep TypeError
        max_rate = check_float("max_rate", max_rate, low=0, high=1, low_open=True)
    rows = _checked_rows(stats, x, size, where)
    pts = points(rows, x=x, size=size, observable=observable)
    xs, Ls, n, k = pts["x"], pts["size"], pts["shots"], pts["errors"]
    if np.any(n <= 0):
        keep = n > 0
        xs, Ls, n, k = xs[keep], Ls[keep], n[keep], k[keep]
    total = xs.size
    rate = k / n
    keep = np.ones(total, bool) if max_rate is None else rate <= max_rate
    sizes = np.unique(Ls[keep])
    if sizes.size < 2:
        raise ValueError(f"threshold: need points at >= 2 sizes, got sizes {np.unique(Ls)}")
    if np.count_nonzero(keep) < 4 + order:
        raise ValueError(f"threshold: need >= 6 points after filtering, got {keep.sum()}")
    if np.any(Ls <= 0):
        raise ValueError("size: sizes must be positive")

    # pairwise crossings on the raw curves give the starting point
    def crossings_of(rate_arr):
        out = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            ma, mb = keep & (Ls == a), keep & (Ls == b)
            out.append(_crossing(xs[ma], rate_arr[ma], xs[mb], rate_arr[mb], near=np.median(xs)))
        return out

    raw_cross = crossings_of(rate)
    found = [c for c in raw_cross if c is not None]
    pc0 = float(np.median(found)) if found else float(np.median(xs[keep]))
    r0 = float(np.mean(rate[keep]))
    starts = [
        np.array([pc0, math.log(nu0), r0, 1.0] + [0.0] * (order - 1))
        for nu0 in (0.5, 1.0, 2.0, 4.0)
    ]

    def fit_mask(mask, kk, start):
        sig = _sigma(kk[mask], n[mask])
        return _fit(xs[mask], Ls[mask], kk[mask] / n[mask], sig, start)

    res = fit_mask(keep, k, starts)
    pc, lognu = res.x[0], res.x[1]
    u = (xs - pc) * Ls ** (1.0 / math.exp(lognu))
    win = window
    if win is None:
        med = float(np.median(np.abs(u[keep])))
        win = 3.0 * med if med > 0 else math.inf
    mask = keep & (np.abs(u) <= win)
    if np.count_nonzero(mask) >= 6 and len(np.unique(Ls[mask])) >= 2 and not mask.all():
        res = fit_mask(mask, k, [res.x] + starts)
    else:
        mask = keep
    theta = res.x
    dof = max(1, int(mask.sum()) - theta.size)
    chi2 = float(2 * res.cost / dof)

    rng = np.random.default_rng(seed)
    boots, nus, bcross = [], [], []
    p_hat = np.clip(k / n, 0, 1)
    for _ in range(bootstrap):
        kb = rng.binomial(n, p_hat)
        try:
            rb = fit_mask(mask, kb, [theta])
        except ValueError:
            continue
        boots.append(rb.x[0])
        nus.append(math.exp(rb.x[1]))
        bcross.append(crossings_of(kb / n))
    alpha = (1 - confidence) / 2
    # Where the collapse polynomial does not describe the data (chi2/dof > 1) the
    # binomial bootstrap alone is too narrow; widen it by the PDG scale factor.
    scale = math.sqrt(max(1.0, chi2))

    def widen(q_lo, q_hi, centre):
        return (float(centre - scale * (centre - q_lo)), float(centre + scale * (q_hi - centre)))

    if boots:
        ci = widen(np.quantile(boots, alpha), np.quantile(boots, 1 - alpha), theta[0])
        nu0 = math.exp(theta[1])
        nu_ci = widen(np.quantile(nus, alpha), np.quantile(nus, 1 - alpha), nu0)
    else:
        ci = (float(theta[0]), float(theta[0]))
        nu_ci = (math.exp(theta[1]),) * 2
    crossings = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        vals = [bc[i] for bc in bcross if bc[i] is not None]
        cci = (
            (float(np.quantile(vals, alpha)), float(np.quantile(vals, 1 - alpha)))
            if len(vals) >= 10
            else None
        )
        crossings.append(Crossing(float(a), float(b), raw_cross[i], cci))
    cv = [c.value for c in crossings if c.value is not None]
    drift = float(max(cv) - min(cv)) if len(cv) >= 2 else 0.0
    systematic = float(max(abs(c - theta[0]) for c in cv)) if cv else 0.0
    x_name = x if isinstance(x, str) else "x"
    x_range = (float(xs.min()), float(xs.max()))
    return ThresholdResult(
        value=float(theta[0]),
        ci=ci,
        nu=float(math.exp(theta[1])),
        nu_ci=nu_ci,
        crossings=crossings,
        drift=drift,
        systematic=systematic,
        coefficients=tuple(float(c) for c in theta[2:]),
        chi2_dof=chi2,
        n_points=int(mask.sum()),
        n_dropped=int(total - mask.sum()),
        confidence=confidence,
        data={"x": xs, "size": Ls, "shots": n, "errors": k, "mask": mask},
        x_name=x_name,
        size_name=size if isinstance(size, str) else "size",
        x_range=x_range,
        warnings=_warnings(float(theta[0]), ci, chi2, crossings, x_range, x_name, confidence),
        x_label=axis_label(x, rows) if isinstance(x, str) else "",
    )


def _warnings(value, ci, chi2, crossings, x_range, x_name, confidence) -> list[str]:
    """Why a fit should not be read as a threshold (see the module docstring)."""
    lo, hi = x_range
    out = []
    if not lo <= value <= hi:
        out.append(f"the estimate {value:.4g} lies outside the sampled range "
                   f"[{lo:.4g}, {hi:.4g}] of {x_name}")
    if crossings and all(c.value is None for c in crossings):
        out.append("no pair of sizes crosses in the sampled range")
    if chi2 > MAX_CHI2_DOF:
        out.append(f"χ²/dof = {chi2:.3g} > {MAX_CHI2_DOF:g}: the scaling form does not "
                   f"describe these points (narrow the range around the crossing, or "
                   f"lower max_rate)")
    if ci[1] - ci[0] > hi - lo:
        out.append(f"the {int(round(confidence * 100))}% CI [{ci[0]:.4g}, {ci[1]:.4g}] is "
                   f"wider than the sampled range [{lo:.4g}, {hi:.4g}]")
    return out


def thresholds(
    stats: Any,
    *,
    x: str | Callable = "p",
    size: str | Callable = "L",
    where: Where = None,
    **kwargs: Any,
) -> list[ThresholdResult]:
    """Fit :func:`threshold` separately on every group of rows that differ in a field
    besides ``x`` and ``size`` (decoder, network, …); each result's ``group`` names it.

    Takes the arguments of :func:`threshold`.  A group whose fit fails raises
    ``ValueError`` naming the group.

    Examples
    --------
    >>> import sim
    >>> tasks = [("repetition", {"n": n, "p": p}) for n in (9, 25, 49)
    ...          for p in (0.44, 0.47, 0.5, 0.52, 0.55)]
    >>> st = sim.collect(tasks, max_shots=5_000, seed=1, workers=1)
    >>> [r.group for r in sim.thresholds(st, x="p", size="n", max_rate=None, bootstrap=0)]
    [{}]
    """
    rows = select(load(stats), where)
    exclude = [k for k in (x, size) if isinstance(k, str)]
    funcs = [f for f in (x, size) if callable(f)]
    out = []
    for group, part in split(rows, exclude=exclude, functions_of=funcs):
        try:
            res = threshold(part, x=x, size=size, **kwargs)
        except ValueError as exc:
            if not group:
                raise
            raise ValueError(f"[{format_group(group)}] {exc}") from exc
        res.group = group
        out.append(res)
    return out
