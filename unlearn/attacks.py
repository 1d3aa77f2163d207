"""Attacks on erased linear maps: circumvention by embedding inversion.

:func:`invert_linear` is the linear analogue of concept inversion (Pham et al., ICLR'24,
"Circumventing concept erasure methods for text-to-image generative models"): learn an input
embedding ``v`` that makes the *edited* map produce the erased output again,

.. math:: \\min_v \\|W' v - t\\|^2 \\quad \\text{s.t.} \\quad \\|v - x_0\\| \\le B,

with ``t = W⁰ c`` the original output of the erased concept.  On a map of full row rank an
unbudgeted attack always succeeds, so every meaningful comparison fixes the norm budget
``B``.  The problem is a convex trust-region problem and is solved exactly: one thin SVD of
``W'`` and a scalar root search for the Lagrange multiplier.  The multiplier form,
``(μI + W'ᵀW')⁻¹W'ᵀt``, is RECE's ``regzero`` embedding
(:func:`unlearn.closed_form.rece_embedding`).

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> W = rng.normal(size=(3, 6)); t = rng.normal(size=3)
>>> v = invert_linear(W, t, norm_budget=np.inf)
>>> bool(np.allclose(W @ v, t))
True
>>> v1 = invert_linear(W, t, norm_budget=0.1)
>>> round(float(np.linalg.norm(v1)), 6)
0.1
"""

from __future__ import annotations

import numpy as np
from scipy import optimize

__all__ = ["invert_linear"]


def invert_linear(W, target, *, norm_budget: float, x0=None) -> np.ndarray:
    """Norm-budgeted least-squares inversion of a linear map (the circumvention attack).

    Parameters
    ----------
    W : (d_out, d_in) array
        The (edited) map under attack.
    target : (d_out,) or (k, d_out) array
        Output(s) to reproduce, typically ``W_original @ c_erased`` (one per row).
    norm_budget : float >= 0 or ``np.inf``
        Largest allowed ``||v - x0||``.  ``np.inf`` gives the minimum-norm least-squares
        solution (``W v = target`` exactly when ``W`` has full row rank).
    x0 : (d_in,) or (k, d_in) array, optional
        Centre of the budget ball (default 0, i.e. a budget on ``||v||``); e.g. the erased
        key itself, to bound how far the attack moves the prompt embedding.

    Returns
    -------
    (d_in,) or (k, d_in) float64 array
        The minimiser ``v`` for each target (exact up to the root-search tolerance, 1e-12
        relative in the budget).  When the unconstrained minimum-norm solution lies inside
        the ball it is returned; otherwise ``||v - x0|| = norm_budget``.

    Examples
    --------
    >>> W = np.diag([2.0, 1.0]); t = np.array([2.0, 1.0])
    >>> invert_linear(W, t, norm_budget=10).round(6).tolist()
    [1.0, 1.0]
    >>> float(np.linalg.norm(invert_linear(W, t, norm_budget=1.0))).__round__(9)
    1.0
    """
    W = np.asarray(W)
    if W.ndim != 2 or W.size == 0:
        raise ValueError(f"W must be a non-empty 2-D array (d_out, d_in), got shape {W.shape}")
    if not np.issubdtype(W.dtype, np.number) or np.iscomplexobj(W):
        raise TypeError(f"W must be a real numeric array, got dtype {W.dtype}")
    W = W.astype(np.float64)
    d_out, d_in = W.shape
    t = np.asarray(target, dtype=np.float64)
    single = t.ndim == 1
    T = t[None] if single else t
    if T.ndim != 2 or T.shape[1] != d_out:
        raise ValueError(f"target must have shape ({d_out},) or (k, {d_out}) to match W, got "
                         f"{t.shape}")
    try:
        B = float(norm_budget)
    except (TypeError, ValueError):
        raise TypeError(f"norm_budget must be a real number, got {norm_budget!r}") from None
    if np.isnan(B) or B < 0:
        raise ValueError(f"norm_budget must be >= 0 (or np.inf), got {norm_budget!r}")
    k = T.shape[0]
    if x0 is None:
        X0 = np.zeros((k, d_in))
    else:
        x = np.asarray(x0, dtype=np.float64)
        if x.ndim == 1:
            x = x[None]
        if x.ndim != 2 or x.shape[1] != d_in or x.shape[0] not in (1, k):
            raise ValueError(f"x0 must have shape ({d_in},) or ({k}, {d_in}), got "
                             f"{np.shape(x0)}")
        X0 = np.broadcast_to(x, (k, d_in))
    if not (np.isfinite(W).all() and np.isfinite(T).all() and np.isfinite(X0).all()):
        raise ValueError("W, target and x0 must be finite")
    U, s, Vt = np.linalg.svd(W, full_matrices=False)
    keep = s > s[0] * max(d_out, d_in) * np.finfo(float).eps if s.size and s[0] > 0 else \
        np.zeros_like(s, bool)
    U, s, Vt = U[:, keep], s[keep], Vt[keep]
    R = (T - X0 @ W.T) @ U  # residual targets in the singular basis, (k, r)
    out = np.empty((T.shape[0], d_in))
    for i, r in enumerate(R):
        coef = r / s  # minimum-norm solution's coordinates
        if B == 0 or not r.any():
            coef = np.zeros_like(r)
        elif np.linalg.norm(coef) > B:
            sr = s * r

            def gap(mu, sr=sr):
                return np.linalg.norm(sr / (s**2 + mu)) - B

            hi = np.linalg.norm(sr) / B
            mu = optimize.brentq(gap, 0.0, hi, xtol=1e-300, rtol=1e-14, maxiter=500)
            coef = sr / (s**2 + mu)
            coef *= B / max(np.linalg.norm(coef), np.finfo(float).tiny)
        out[i] = X0[i] + coef @ Vt
    return out[0] if single else out
