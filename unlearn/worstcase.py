"""Worst-case forget sets by first-order bi-level selection (Fan et al., ECCV'24).

Upper level: ``min_{w ∈ [0,1]^N, 1ᵀw = m} Σ w_i ℓ(θ_u(w); z_i) + γ||w||²``; lower level:
``θ_u(w) ≈ argmin Σ (1 − w_i) ℓ_i`` by a few sign-SGD steps from the original model
(``lower="ft"``) or exactly (``lower="retrain"``, linear models only).  The update is first
order, as in ``OPTML-Group/Unlearn-WorstCase`` ``optimize_select``:
``w ← Proj(w − w_lr·(ℓ(θ_u) + 2γw))``, with ``Proj`` the capped-simplex projection (bisection
on μ in ``clip(v − μ, 0, 1)``), binarised to the top ``m`` every ``feq_to_bi`` epochs and at
the end.

Examples
--------
>>> import numpy as np
>>> from unlearn.worstcase import project_capped_simplex
>>> w = project_capped_simplex(np.array([0.9, 0.8, -0.3, 2.0]), 2)
>>> float(w.sum()), bool(((w >= 0) & (w <= 1)).all())
(2.0, True)
"""

from __future__ import annotations

import numpy as np

from sim.validate import check_float, check_float_array, check_int

from .models import MLP, LogReg, blas_threads, check_xy

__all__ = ["lowest_loss_set", "project_capped_simplex", "select_forget_set"]


def project_capped_simplex(v, m: float, *, tol: float = 1e-10, max_iter: int = 200):
    """Euclidean projection onto ``{w : 0 <= w <= 1, Σw = m}`` (bisection on the shift μ)."""
    v = check_float_array("v", v)
    if v.ndim != 1:
        raise ValueError(f"v must be 1-D, got shape {v.shape}")
    m = check_float("m", m, low=0, high=v.size)
    tol = check_float("tol", tol, low=0, low_open=True)
    max_iter = check_int("max_iter", max_iter, low=1)
    lo, hi = v.min() - 1.0, v.max()
    for _ in range(max_iter):
        mu = 0.5 * (lo + hi)
        s = np.clip(v - mu, 0, 1).sum()
        if abs(s - m) < tol:
            break
        if s > m:
            lo = mu
        else:
            hi = mu
    return np.clip(v - mu, 0, 1)


class _Linear:
    def __init__(self, model: LogReg, theta):
        self.model, self.theta0 = model, np.asarray(theta, float).ravel()

    def start(self):
        return self.theta0.copy()

    def losses(self, th, X, y):
        return self.model.losses(th[None], X, y)[0]

    def grad(self, th, X, y, wts):
        r, _ = self.model._residual(th[None], X, y)
        if self.model.binary:
            g = (r[0] * wts) @ X
        else:
            g = ((r[0] * wts[None, :]) @ X).ravel()
        return g + self.model.lam * th

    def step(self, th, g, lr):
        return th - lr * np.sign(g)

    def exact(self, X, y, wts):
        keep = wts > 0
        return self.model.fit(X[keep], y[keep], theta0=self.theta0)


class _Net:
    def __init__(self, net: MLP):
        self.net = net

    def start(self):
        return self.net.copy()

    def losses(self, th, X, y):
        return th.losses(X, y)

    def grad(self, th, X, y, wts):
        _, (gW, gb, _, _) = th.ce_grad(X, y, weights=wts)
        return gW, gb

    def step(self, th, g, lr):
        gW, gb = g
        for i in range(len(th.weights)):
            th.weights[i] = th.weights[i] - lr * np.sign(gW[i])
            th.biases[i] = th.biases[i] - lr * np.sign(gb[i])
        return th

    def exact(self, X, y, wts):
        raise ValueError("lower='retrain' needs a LogReg model")


def _adapter(model, theta):
    if isinstance(model, MLP):
        return _Net(model)
    if isinstance(model, LogReg):
        if theta is None:
            raise ValueError("theta is required with a LogReg model")
        return _Linear(model, theta)
    raise TypeError(f"model must be a LogReg or MLP, got {type(model).__name__}")


def select_forget_set(model, X, y, m: int, *, theta=None, lower: str = "ft",
                      w_lr: float = 0.01, epochs: int = 10, unlearn_steps: int = 10,
                      unlearn_lr: float = 1e-3, gamma: float = 0.0, feq_to_bi: int = 20,
                      seed=None):
    """Select ``m`` records that are hardest to unlearn.

    Parameters
    ----------
    model : :class:`~unlearn.models.LogReg` (with ``theta``) or :class:`~unlearn.models.MLP`
        — the original model θ_o.
    m : forget-set size, ``1 <= m < N``.
    lower : ``"ft"`` (``unlearn_steps`` sign-SGD steps of size ``unlearn_lr`` on the
        ``(1 − w)``-weighted loss) or ``"retrain"`` (exact, LogReg only).
    w_lr, epochs, gamma, feq_to_bi : the upper level's step, epochs, ℓ2 weight and
        binarisation period (paper defaults).

    Returns
    -------
    idx : sorted (m,) indices; w_history : (epochs + 1, N) weights.
    """
    X, y = check_xy(X, y)
    N = X.shape[0]
    m = check_int("m", m)
    if not 1 <= m < N:
        raise ValueError(f"m must be an integer in [1, {N}), got {m}")
    if lower not in ("ft", "retrain"):
        raise ValueError(f"lower must be 'ft' or 'retrain', got {lower!r}")
    w_lr = check_float("w_lr", w_lr, low=0, low_open=True)
    unlearn_lr = check_float("unlearn_lr", unlearn_lr, low=0, low_open=True)
    gamma = check_float("gamma", gamma, low=0)
    epochs = check_int("epochs", epochs, low=0)
    unlearn_steps = check_int("unlearn_steps", unlearn_steps, low=0)
    feq_to_bi = check_int("feq_to_bi", feq_to_bi, low=0)
    ad = _adapter(model, theta)
    rng = np.random.default_rng(seed)
    w = project_capped_simplex(np.full(N, m / N) + 1e-6 * rng.standard_normal(N), m)
    with blas_threads(1):
        return _select(ad, X, y, w, m, lower, w_lr, epochs, unlearn_steps, unlearn_lr, gamma,
                       feq_to_bi)


def _select(ad, X, y, w, m, lower, w_lr, epochs, unlearn_steps, unlearn_lr, gamma, feq_to_bi):
    N = X.shape[0]
    hist = [w.copy()]
    for ep in range(int(epochs)):
        if lower == "ft":
            th = ad.start()
            retain_w = (1 - w) / max((1 - w).sum(), 1e-12)
            for _ in range(int(unlearn_steps)):
                th = ad.step(th, ad.grad(th, X, y, retain_w), unlearn_lr)
        else:
            wb = np.zeros(N)
            wb[np.argsort(-w)[:m]] = 1
            th = ad.exact(X, y, 1 - wb)
        ell = ad.losses(th, X, y)
        w = project_capped_simplex(w - w_lr * (ell + 2 * gamma * w), m)
        if feq_to_bi and (ep + 1) % feq_to_bi == 0:
            wb = np.zeros(N)
            wb[np.argsort(-w)[:m]] = 1
            w = wb
        hist.append(w.copy())
    idx = np.sort(np.argsort(-w, kind="stable")[:m])
    return idx, np.array(hist)


def lowest_loss_set(losses, m: int) -> np.ndarray:
    """The trivial baseline: the ``m`` records of lowest loss under the original model."""
    losses = check_float_array("losses", losses)
    m = check_int("m", m)
    if not 1 <= m < losses.size:
        raise ValueError(f"m must be an integer in [1, {losses.size}), got {m}")
    return np.sort(np.argsort(losses, kind="stable")[:m])
