"""Deletion by noisy gradient descent (Chourasia & Shah, ICML'23) with honest accounting.

Update (per chain): ``θ ← θ − η ∇L_D(θ) + √(2ησ²) ξ``, ``∇L_D = mean clip_L(∇ℓ_i) + λθ``,
``θ₀ ~ N(0, σ²/λ)``.  A deletion request runs ``K_U`` more steps on the remaining data.

The bound's constants come from Chien et al.'s code (:mod:`unlearn.accounting`); until the
Chourasia–Shah theorem is checked the record says ``bound="chien24-code"`` and
``certified=False`` even when every run-time assumption holds.

Examples
--------
>>> from unlearn.data import load
>>> from unlearn.certified import DeletionService
>>> X, y = load("breast_cancer", unit_norm=True)
>>> svc = DeletionService(X, y, lam=1e-2, sigma=0.05, chains=4, learn_steps=300, seed=0)
>>> res = svc.request([3, 7])
>>> res.theta.shape, res.record.steps, res.record.bound, res.record.certified
((4, 30), 72, 'chien24-code', False)
>>> all(res.record.assumptions.values())
True
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy import stats

from sim.validate import check_float, check_float_array, check_int

from . import accounting
from .models import LogReg, blas_threads, check_xy

__all__ = [
    "DeletionRecord",
    "DeletionResult",
    "DeletionService",
    "empirical_epsilon",
    "gaussian_renyi",
    "influential_forget_set",
    "noisy_gd",
    "rdp_bounds",
    "steps_for",
]

rdp_bounds = accounting.rdp_bounds
steps_for = accounting.steps_for


def _validate(lam, sigma, eta, steps, chains, steps_name="steps"):
    """Checked (lam, sigma, eta, steps, chains) as Python numbers, each named on refusal."""
    return (check_float("lam", lam, low=0, low_open=True),
            check_float("sigma", sigma, low=0),
            check_float("eta", eta, low=0, low_open=True),
            check_int(steps_name, steps, low=0),
            check_int("chains", chains, low=1))


def _rng(seed):
    """``numpy.random.default_rng(seed)``, with a refusal that names ``seed``."""
    try:
        return np.random.default_rng(seed)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"seed: {exc} (got {seed!r})") from None


def _run(model: LogReg, X, y, theta, *, sigma, eta, steps, rng, trace_every=None):
    """Core loop, in place on ``theta``; returns (theta, clip_fired, trace)."""
    fired = False
    scale = math.sqrt(2.0 * eta * sigma * sigma)
    trace = [theta.copy()] if trace_every else None
    for k in range(int(steps)):
        g, f = model.grad(theta, X, y)
        fired |= f
        theta -= eta * g
        if scale > 0:
            noise = rng.standard_normal(theta.shape, dtype=theta.dtype)
            noise *= scale
            theta += noise
        if trace_every and (k + 1) % trace_every == 0:
            trace.append(theta.copy())
    return theta, fired, (np.stack(trace) if trace_every else None)


def noisy_gd(X, y, *, lam: float, sigma: float, eta: float, steps: int, clip=None,
             theta0=None, chains: int = 1, seed=None, n_classes: int | None = None,
             trace_every: int | None = None, return_info: bool = False,
             dtype=np.float64, threads: int | None = 1):
    """Noisy (Langevin) gradient descent on L2-regularised logistic/softmax regression.

    Parameters
    ----------
    X, y : data, ``(n, d)`` and integer labels (2 classes → logistic, more → softmax).
    lam, sigma, eta, steps : regulariser λ > 0, noise σ ≥ 0, step η > 0, number of steps.
    clip : per-example gradient clip ``L`` (applied to ∇ℓ only, before adding λθ).
    theta0 : ``(p,)`` or ``(chains, p)`` start; default ``N(0, σ²/λ)`` draws from ``seed``.
    chains : independent chains, vectorised.
    seed : the noise stream; two calls with the same seed, ``chains`` and ``theta0`` share it.
    trace_every : also return the parameters every that many steps (``info["trace"]``).
    return_info : return ``(theta, info)`` with ``info["clip_fired"]``.
    dtype : ``float64`` (default) or ``float32`` (about 2x faster; noise drawn in float32).
    threads : BLAS threads during the loop (default 1; ``None`` leaves BLAS alone).

    Returns
    -------
    theta : ``(chains, p)`` array.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 3)) / 4; y = (X[:, 0] > 0).astype(int)
    >>> noisy_gd(X, y, lam=0.1, sigma=0.01, eta=1.0, steps=50, chains=5, seed=1).shape
    (5, 3)
    """
    lam, sigma, eta, steps, chains = _validate(lam, sigma, eta, steps, chains)
    X, y = check_xy(X, y, n_classes=n_classes)
    C = max(int(y.max()) + 1, 2) if n_classes is None else int(n_classes)
    model = LogReg(lam=lam, clip=clip, n_classes=C)
    p = model.n_params(X.shape[1])
    if trace_every is not None:
        trace_every = check_int("trace_every", trace_every, low=1)
    rng = _rng(seed)
    if theta0 is None:
        theta = rng.normal(0.0, sigma / math.sqrt(lam), size=(chains, p)) if sigma > 0 else (
            np.zeros((chains, p)))
    else:
        t0 = check_float_array("theta0", theta0)
        if t0.shape not in ((p,), (chains, p)):
            raise ValueError(f"theta0 must have shape ({p},) or ({chains}, {p}), got {t0.shape}")
        theta = np.array(np.broadcast_to(t0, (chains, p)))
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64, got {dtype}")
    X, theta = X.astype(dtype), theta.astype(dtype)
    with blas_threads(threads):
        theta, fired, trace = _run(model, X, y, theta, sigma=sigma, eta=eta, steps=steps,
                                   rng=rng, trace_every=trace_every)
    if return_info or trace_every:
        return theta, {"clip_fired": fired, "trace": trace}
    return theta


# --------------------------------------------------------------------------- service
@dataclass
class DeletionRecord:
    """Accounting for one deletion request."""

    request: int
    k: int
    n_before: int
    n_after: int
    steps: int
    seconds: float
    q: float
    eps_rdp: float
    eps0: float
    eps_dp: float
    delta: float | None
    eps_delta: float | None
    bound: str
    bound_source: str
    bound_checked: bool
    assumptions: dict = field(default_factory=dict)
    certified: bool = False

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class DeletionResult:
    theta: np.ndarray
    model: LogReg
    record: DeletionRecord


class DeletionService:
    """Learn by noisy GD, then serve a sequence of (possibly adaptive) deletion requests.

    Parameters
    ----------
    X, y : training data (``||x|| <= 1`` is checked, not enforced).
    lam, sigma : regulariser and noise scale.
    eta : step size; default ``1/(β + λ)``.
    L : per-example gradient bound used by the bound and as the clip (default: the model's
        bound for ``||x|| <= 1``), so clipping fires only if that assumption fails.
    chains, learn_steps : parallel chains and learning steps ``K_A``.
    eps, q, delta : target; Rényi of order ``q`` (default) or ``(ε, δ)`` when ``delta`` given.
    steps : fixed deletion steps per request instead of ``steps_for`` (the record then
        states the resulting bound).
    stationarity_tol : learning counts as stationary when the coupling bound
        ``(1−ηλ)^{K_A}·R`` on the W2 distance to the stationary law is below this.
    """

    def __init__(self, X, y, *, lam: float, sigma: float, eta: float | None = None,
                 L: float | None = None, chains: int = 1, learn_steps: int = 2000,
                 eps: float = 1.0, q: float = 2.0, delta: float | None = None,
                 steps: int | None = None, n_classes: int | None = None, seed=None,
                 stationarity_tol: float = 1e-3):
        X, y = check_xy(X, y, n_classes=n_classes)
        C = max(int(y.max()) + 1, 2) if n_classes is None else int(n_classes)
        lam = check_float("lam", lam, low=0, low_open=True)
        if check_float("sigma", sigma, low=0) == 0:
            raise ValueError(f"sigma must be > 0 for a deletion guarantee, got {sigma}")
        self.model = LogReg(lam=lam, n_classes=C)
        self.L = (self.model.grad_bound if L is None
                  else check_float("L", L, low=0, low_open=True))
        self.model.clip = self.L
        self.eta = (1.0 / (self.model.beta + lam) if eta is None
                    else check_float("eta", eta, low=0, low_open=True))
        lam, sigma, self.eta, learn_steps, chains = _validate(
            lam, sigma, self.eta, learn_steps, chains, steps_name="learn_steps")
        eps = check_float("eps", eps, low=0, low_open=True)
        q = check_float("q", q, low=1, low_open=True)
        if delta is not None:
            delta = check_float("delta", delta, low=0, high=1, low_open=True, high_open=True)
        if steps is not None:
            steps = check_int("steps", steps, low=0)
        stationarity_tol = check_float("stationarity_tol", stationarity_tol, low=0,
                                       low_open=True)
        self.X, self.y = X, y
        self.lam, self.sigma, self.chains = float(lam), float(sigma), int(chains)
        self.eps, self.q, self.delta, self.fixed_steps = float(eps), float(q), delta, steps
        self.learn_steps = int(learn_steps)
        self.rng = _rng(seed)
        self.active = np.ones(X.shape[0], dtype=bool)
        self.history: list[DeletionRecord] = []
        self._prev: list[tuple[float, int, int]] = []  # (k, n_before, steps)
        p = self.model.n_params(X.shape[1])
        theta = self.rng.normal(0, sigma / math.sqrt(lam), size=(self.chains, p))
        t0 = time.perf_counter()
        with blas_threads(1):
            self.theta, self.clip_fired, _ = _run(self.model, X, y, theta, sigma=sigma,
                                                  eta=self.eta, steps=self.learn_steps,
                                                  rng=self.rng)
        self.learn_seconds = time.perf_counter() - t0
        d = X.shape[1]
        radius = 2 * math.sqrt(p) * sigma / math.sqrt(lam) + self.L / lam
        self.stationarity_bound = (1 - self.eta * lam) ** self.learn_steps * radius
        self.stationary = bool(self.stationarity_bound <= stationarity_tol)
        self._norm_ok = bool(np.linalg.norm(X, axis=1).max() <= 1 + 1e-12)
        self._eta_ok = bool(self.eta <= 1.0 / (self.model.beta + lam) * (1 + 1e-12))
        self.d = d

    @property
    def n_active(self) -> int:
        return int(self.active.sum())

    def _validate_request(self, indices) -> np.ndarray:
        idx = np.asarray(indices)
        if idx.ndim != 1 or idx.size == 0:
            raise ValueError("indices must be a non-empty 1-D sequence")
        if not np.issubdtype(idx.dtype, np.integer):
            raise TypeError(f"indices must be integers, got dtype {idx.dtype}")
        n = self.X.shape[0]
        if idx.min() < 0 or idx.max() >= n:
            raise ValueError(f"indices out of range [0, {n})")
        if np.unique(idx).size != idx.size:
            raise ValueError("indices contain repeated records")
        if not self.active[idx].all():
            raise ValueError("indices contain records that were already deleted")
        if idx.size >= self.n_active:
            raise ValueError("indices would delete the whole remaining dataset")
        return idx.astype(np.int64)

    def _bound(self, k, n_before, K):
        """(eps_rdp at q, eps_delta or None, q used) for this request after K steps."""
        kw = dict(n=n_before, lam=self.lam, sigma=self.sigma, eta=self.eta, L=self.L)
        ks = [kk * n_before / nb for kk, nb, _ in self._prev] + [k]
        Ks = [KK for _, _, KK in self._prev] + [K]

        def at(a):
            return accounting.eps_sequence(a, ks, Ks, **kw)

        eps_q = at(self.q)
        if self.delta is None:
            return eps_q, None, self.q
        vals = [accounting.rdp_to_dp(at(a), a, self.delta) for a in accounting.DEFAULT_ORDERS]
        i = int(np.argmin(vals))
        return eps_q, float(vals[i]), float(accounting.DEFAULT_ORDERS[i])

    def steps_for(self, eps: float, k: int) -> int:
        """Deletion steps for the next request of ``k`` records to reach ``eps``."""
        n_before = self.n_active
        prev = [(kk * n_before / nb, KK) for kk, nb, KK in self._prev]
        kw = dict(k=k, n=n_before, lam=self.lam, sigma=self.sigma, eta=self.eta, L=self.L,
                  previous=prev)
        if self.delta is None:
            return accounting.steps_for(eps, q=self.q, **kw)
        return accounting.steps_for(eps, delta=self.delta, **kw)

    def request(self, indices) -> DeletionResult:
        """Delete ``indices`` (original record ids), run the deletion steps, account."""
        idx = self._validate_request(indices)
        k, n_before = idx.size, self.n_active
        K = self.steps_for(self.eps, k) if self.fixed_steps is None else int(self.fixed_steps)
        self.active[idx] = False
        Xr, yr = self.X[self.active], self.y[self.active]
        t0 = time.perf_counter()
        with blas_threads(1):
            self.theta, fired, _ = _run(self.model, Xr, yr, self.theta, sigma=self.sigma,
                                        eta=self.eta, steps=K, rng=self.rng)
        seconds = time.perf_counter() - t0
        self.clip_fired |= fired
        eps_q, eps_delta, _ = self._bound(k, n_before, K)
        self._prev.append((k, n_before, K))
        assumptions = {
            "norm_x_le_1": self._norm_ok,
            "eta_le_1_over_beta_plus_lam": self._eta_ok,
            "no_clipping": not self.clip_fired,
            "stationary": self.stationary,
        }
        rec = DeletionRecord(
            request=len(self.history), k=k, n_before=n_before, n_after=self.n_active, steps=K,
            seconds=seconds, q=self.q, eps_rdp=eps_q,
            eps0=accounting.eps0(self.q, k=k, n=n_before, lam=self.lam, sigma=self.sigma,
                                 L=self.L),
            eps_dp=accounting.eps0(self.q, k=1, n=self.n_active, lam=self.lam,
                                   sigma=self.sigma, L=self.L),
            delta=self.delta, eps_delta=eps_delta, bound=accounting.BOUND_NAME,
            bound_source=accounting.BOUND_SOURCE, bound_checked=accounting.BOUND_CHECKED,
            assumptions=assumptions,
            certified=bool(all(assumptions.values()) and accounting.BOUND_CHECKED),
        )
        self.history.append(rec)
        return DeletionResult(theta=self.theta.copy(), model=self.model, record=rec)


# --------------------------------------------------------------------------- lower bounds
def gaussian_renyi(mu1, s1, mu2, s2, q: float) -> float:
    """Rényi divergence ``D_q(N(mu1, s1²) ‖ N(mu2, s2²))`` (inf where undefined)."""
    q = check_float("q", q, low=1, low_open=True)
    mu1, mu2 = check_float("mu1", mu1), check_float("mu2", mu2)
    s1 = check_float("s1", s1, low=0, low_open=True)
    s2 = check_float("s2", s2, low=0, low_open=True)
    v = q * s2**2 + (1 - q) * s1**2
    if v <= 0:
        return math.inf
    return (math.log(s2 / s1) + math.log(s2**2 / v) / (2 * (q - 1))
            + q * (mu1 - mu2) ** 2 / (2 * v))


def empirical_epsilon(U, R, *, q: float = 2.0, delta: float = 1e-5, alpha: float = 0.05,
                      seed=None) -> dict:
    """Empirical lower-bound estimates of the deletion ε from samples of two laws.

    ``U`` (unlearned chains) and ``R`` (retrained chains) are ``(m, p)`` arrays.  Half of
    each fixes a direction (difference of means); on the other half, the projections give

    * ``renyi_fit``: ``max`` of both ``D_q`` between fitted 1-D Gaussians (a *fit*, not a bound);
    * ``eps_attack``: the best threshold attack's ``log((1 − δ − FNR)/FPR)`` (point estimate);
    * ``eps_attack_lb``: the same with Clopper–Pearson ``1 − alpha`` upper limits on FPR and FNR
      (a statistically valid lower bound on the (ε, δ) the chains satisfy, up to the
      Bonferroni factor over thresholds, which is included).
    """
    U = check_float_array("U", U)
    R = check_float_array("R", R)
    if U.ndim != 2 or R.ndim != 2 or U.shape[1] != R.shape[1]:
        raise ValueError(f"U and R must be (m, p) with equal p, got {U.shape}, {R.shape}")
    if min(len(U), len(R)) < 4:
        raise ValueError(f"U and R need >= 4 samples each (half fixes the direction, half "
                         f"is tested), got {len(U)} and {len(R)}")
    q = check_float("q", q, low=1, low_open=True)
    delta = check_float("delta", delta, low=0, high=1, high_open=True)
    alpha = check_float("alpha", alpha, low=0, high=1, low_open=True, high_open=True)
    rng = _rng(seed)
    U = U[rng.permutation(len(U))]
    R = R[rng.permutation(len(R))]
    hu, hr = len(U) // 2, len(R) // 2
    w = U[:hu].mean(0) - R[:hr].mean(0)
    nw = np.linalg.norm(w)
    w = w / nw if nw > 0 else np.eye(U.shape[1])[0]
    a, b = U[hu:] @ w, R[hr:] @ w
    fit = max(gaussian_renyi(a.mean(), a.std(ddof=1), b.mean(), b.std(ddof=1), q),
              gaussian_renyi(b.mean(), b.std(ddof=1), a.mean(), a.std(ddof=1), q))
    thr = np.unique(np.concatenate([a, b]))
    na, nb = a.size, b.size
    best, best_lb = 0.0, 0.0
    # threshold t: predict "unlearned" if s >= t (and the mirrored attack)
    sa, sb = np.sort(a), np.sort(b)
    fnr_counts = np.searchsorted(sa, thr, side="left")  # unlearned below t
    fpr_counts = nb - np.searchsorted(sb, thr, side="left")  # retrained at/above t
    alpha_each = alpha / (2 * thr.size)
    for fn_c, fp_c in [(fnr_counts, fpr_counts), (fpr_counts, fnr_counts)]:
        fnr, fpr = fn_c / na, fp_c / nb
        with np.errstate(divide="ignore", invalid="ignore"):
            e = np.log(np.maximum(1 - delta - fnr, 0) / fpr)
        e = e[np.isfinite(e)]
        if e.size:
            best = max(best, float(e.max()))
        fnr_hi = stats.beta.ppf(1 - alpha_each, fn_c + 1, na - fn_c)
        fpr_hi = stats.beta.ppf(1 - alpha_each, fp_c + 1, nb - fp_c)
        fnr_hi = np.where(fn_c >= na, 1.0, fnr_hi)
        fpr_hi = np.where(fp_c >= nb, 1.0, fpr_hi)
        with np.errstate(divide="ignore", invalid="ignore"):
            e_lb = np.log(np.maximum(1 - delta - fnr_hi, 0) / fpr_hi)
        e_lb = e_lb[np.isfinite(e_lb)]
        if e_lb.size:
            best_lb = max(best_lb, float(e_lb.max()))
    return {"renyi_fit": float(fit), "eps_attack": best, "eps_attack_lb": best_lb,
            "proj_gap": float(abs(a.mean() - b.mean()))}


def influential_forget_set(X, y, k: int, *, lam: float) -> np.ndarray:
    """``k`` records whose deletion moves the optimum furthest along one direction.

    Influence ``H⁻¹∇ℓ_i(θ*)`` of each record on the regularised logistic optimum; the
    records with the largest projections on the top singular direction (same sign) are
    taken, so their shifts add up.  Used to audit the deletion bound on a near-worst case
    (random deletions are nearly invisible).
    """
    X, y = check_xy(X, y, n_classes=2)
    k = check_int("k", k)
    if not 0 < k < X.shape[0]:
        raise ValueError(f"k must lie in [1, {X.shape[0]}), got {k}")
    m = LogReg(lam=lam)
    th = m.fit(X, y)
    p = 1 / (1 + np.exp(-X @ th))
    H = (X * (p * (1 - p))[:, None]).T @ X / len(X) + lam * np.eye(X.shape[1])
    G = np.linalg.solve(H, ((p - y)[:, None] * X).T).T
    s = G @ np.linalg.svd(G, full_matrices=False)[2][0]
    hi, lo = np.argsort(-s)[:k], np.argsort(s)[:k]
    return np.sort(hi if s[hi].sum() >= -s[lo].sum() else lo)
