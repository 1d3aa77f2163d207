"""Closed-form concept erasure of linear maps (cross-attention ``to_k`` / ``to_v``).

A linear map ``W`` of shape ``(d_out, d_in)`` sends a key (a text embedding, a row of the
key arrays below) ``c`` to ``W @ c``.  Every function here takes keys as **rows** and
returns a new map; nothing is edited in place and no matrix is ever inverted (all systems
go through :func:`scipy.linalg.solve` or, for a singular system, a least-squares solve).

- :func:`uce` — Unified Concept Editing (Gandikota et al., WACV'24, Eq. 7): each erase
  key ``c_i`` is sent to ``W @ g_i`` (its guide key's output) while preserve keys keep their
  outputs, in the ridge sense with strength ``lam``.
- :func:`rece_embedding`, :func:`rece` — RECE (Gong et al., ECCV'24): find the embedding the
  edited map still sends to the erased output (three modes), erase it too, repeat.
- :func:`realera_sets`, :func:`realera` — RealEra-style neighbour mining (arXiv 2410.09140):
  perturbed copies of each erased key inside a norm ball and a cosine band are erased as
  well, and "beyond-concept" perturbations (a lower cosine band) are preserved.  The paper
  publishes neither code nor these settings, so all of them are parameters.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> W = rng.normal(size=(4, 6))
>>> C = rng.normal(size=(2, 6)); G = rng.normal(size=(2, 6)); P = rng.normal(size=(3, 6))
>>> W2 = uce(W, C, G, P, lam=1e-9)
>>> bool(np.allclose(W2 @ C.T, W @ G.T, atol=1e-6)), bool(np.allclose(W2 @ P.T, W @ P.T))
(True, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import linalg

from sim.validate import check_float

__all__ = [
    "RECEResult",
    "RECE_MODES",
    "realera",
    "realera_sets",
    "rece",
    "rece_embedding",
    "uce",
    "uce_many",
]

RECE_MODES = ("regzero", "standard", "surrogate")


# -- validation helpers --------------------------------------------------------------------
def _as_map(W, name: str = "W") -> np.ndarray:
    W = np.asarray(W)
    if W.ndim != 2 or W.size == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array (d_out, d_in), got shape "
                         f"{W.shape}")
    if not np.issubdtype(W.dtype, np.number) or np.iscomplexobj(W):
        raise TypeError(f"{name} must be a real numeric array, got dtype {W.dtype}")
    W = W.astype(np.float64)
    if not np.isfinite(W).all():
        raise ValueError(f"{name} must be finite")
    return W


def _as_keys(K, d_in: int, name: str, *, allow_none: bool = True) -> np.ndarray:
    """Rows of keys, shape (k, d_in); ``None`` or an empty list gives (0, d_in)."""
    if K is None:
        if not allow_none:
            raise ValueError(f"{name} must not be None")
        return np.zeros((0, d_in))
    K = np.asarray(K)
    if K.size == 0:
        return np.zeros((0, d_in))
    if not np.issubdtype(K.dtype, np.number) or np.iscomplexobj(K):
        raise TypeError(f"{name} must be a real numeric array, got dtype {K.dtype}")
    if K.ndim == 1:
        K = K[None, :]
    if K.ndim != 2 or K.shape[1] != d_in:
        raise ValueError(f"{name} must have shape (k, {d_in}) (keys are rows, matching W's "
                         f"{d_in} input columns), got {K.shape}")
    K = K.astype(np.float64)
    if not np.isfinite(K).all():
        raise ValueError(f"{name} must be finite")
    return K


def _positive(x, name: str, *, allow_zero: bool = False) -> float:
    return check_float(name, x, low=0, low_open=not allow_zero)


def _solve_pos(A: np.ndarray, B: np.ndarray, name: str, value: float) -> np.ndarray:
    """``linalg.solve(A, B)`` for ``A = value·I + Gram``; a singular system (dependent
    keys with a regulariser below rounding) is a refusal naming the regulariser."""
    try:
        return linalg.solve(A, B, assume_a="pos")
    except linalg.LinAlgError:
        scale = float(np.abs(np.diag(A)).max()) if A.size else 1.0
        raise ValueError(
            f"{name}={value!r} is too small for these keys: {name}·I + their Gram matrix is "
            f"singular in float64 (the keys are linearly dependent); use {name} >= "
            f"{1e-12 * max(scale, 1e-300):.1e} or drop the dependent keys"
        ) from None


def _guides(G, E: np.ndarray, d_in: int) -> np.ndarray:
    G = _as_keys(G, d_in, "guide_keys", allow_none=False)
    if G.shape[0] == E.shape[0]:
        return G
    if G.shape[0] == 1:
        return np.repeat(G, E.shape[0], axis=0)
    raise ValueError(f"guide_keys must have one row per erase key ({E.shape[0]}) or a single "
                     f"row, got {G.shape[0]} rows")


# -- UCE -----------------------------------------------------------------------------------
def uce(
    W,
    erase_keys,
    guide_keys,
    preserve_keys,
    *,
    lam: float,
    s_erase: float = 1.0,
    s_preserve: float = 1.0,
) -> np.ndarray:
    r"""Unified Concept Editing: the closed-form edit of a linear map.

    Solves

    .. math:: \min_{W'} \lambda\|W' - W\|_F^2 + s_e\sum_i \|W'c_i - W g_i\|^2
              + s_p\sum_j \|W'c_j - W c_j\|^2,

    i.e. :math:`W' = (\lambda W + s_e \sum_i v_i c_i^\top + s_p \sum_j W c_j c_j^\top)
    (\lambda I + s_e \sum_i c_i c_i^\top + s_p \sum_j c_j c_j^\top)^{-1}` with
    :math:`v_i = W g_i`.  It is computed in the equivalent update form
    :math:`W' = W + s_e (V - W C_E^\top) X^\top` with :math:`X = A^{-1} C_E^\top` for the
    (symmetric positive definite) matrix :math:`A` in brackets — one linear solve, never an
    inverse.  With fewer keys than input dimensions the solve is done on the
    ``(k, k)`` Gram matrix of the scaled keys (push-through identity), so the update stays
    exactly in the span of the keys.  As ``lam → 0`` with linearly
    independent keys the edit becomes exact (``W'c_i = W g_i``, ``W'c_j = W c_j``) and the
    residual shrinks linearly in ``lam``.

    Parameters
    ----------
    W : (d_out, d_in) array
        The map to edit (e.g. a cross-attention ``to_k`` / ``to_v`` weight).
    erase_keys : (k_e, d_in) array, one key per row (a single (d_in,) key is one row)
        Embeddings of the concept to erase.  Empty (or ``None``) returns ``W`` unchanged.
    guide_keys : (k_e, d_in) array or a single (d_in,) row
        Each erase key is sent to ``W @ guide`` (a single row is used for every erase key).
    preserve_keys : (k_p, d_in) array or None
        Keys whose outputs must not move.
    lam : float > 0
        Ridge strength pulling ``W'`` towards ``W`` (UCE default 0.5; the old script 0.1).
    s_erase, s_preserve : float >= 0
        Weights of the erase and preserve terms (UCE defaults 1 and 1).

    Returns
    -------
    (d_out, d_in) float64 array
        The edited map ``W'``.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> W = rng.normal(size=(3, 5)); c = rng.normal(size=5); g = rng.normal(size=5)
    >>> W2 = uce(W, c, g, None, lam=1e-8)
    >>> float(np.abs(W2 @ c - W @ g).max()) < 1e-6
    True
    >>> bool(np.array_equal(uce(W, np.zeros((0, 5)), g, None, lam=0.5), W))
    True
    """
    return uce_many([W], erase_keys, guide_keys, preserve_keys, lam=lam, s_erase=s_erase,
                    s_preserve=s_preserve, name="W")[0]


def uce_many(
    Ws,
    erase_keys,
    guide_keys,
    preserve_keys,
    *,
    lam: float,
    s_erase: float = 1.0,
    s_preserve: float = 1.0,
    name: str = "Ws",
) -> list[np.ndarray]:
    r""":func:`uce` of several maps that share their keys (every cross-attention ``to_k`` and
    ``to_v`` of a model), with one solve for all of them.

    The matrix :math:`A` (and its solve) depends only on the keys, so it is factorised once
    and each map costs two matrix products; the result equals ``[uce(W, ...) for W in Ws]``.

    Examples
    --------
    >>> rng = np.random.default_rng(2)
    >>> Ws = [rng.normal(size=(3, 5)), rng.normal(size=(4, 5))]
    >>> E, G, P = rng.normal(size=(2, 5)), rng.normal(size=(2, 5)), rng.normal(size=(6, 5))
    >>> a = uce_many(Ws, E, G, P, lam=0.5)
    >>> all(np.allclose(x, uce(W, E, G, P, lam=0.5)) for x, W in zip(a, Ws))
    True
    """
    if isinstance(Ws, np.ndarray) or not isinstance(Ws, Sequence) or not Ws:
        raise TypeError(f"{name} must be a non-empty list of maps")
    Ws = [_as_map(W, "W" if name == "W" else f"{name}[{i}]") for i, W in enumerate(Ws)]
    d_in = Ws[0].shape[1]
    bad = [i for i, W in enumerate(Ws) if W.shape[1] != d_in]
    if bad:
        raise ValueError(f"{name}[{bad[0]}] has {Ws[bad[0]].shape[1]} input columns, "
                         f"{name}[0] has {d_in}: the maps must share their input dimension")
    E = _as_keys(erase_keys, d_in, "erase_keys")
    P = _as_keys(preserve_keys, d_in, "preserve_keys")
    lam = _positive(lam, "lam")
    s_e = _positive(s_erase, "s_erase", allow_zero=True)
    s_p = _positive(s_preserve, "s_preserve", allow_zero=True)
    if E.shape[0] == 0:
        if guide_keys is not None and np.asarray(guide_keys).size:
            _as_keys(guide_keys, d_in, "guide_keys")
        return [W.copy() for W in Ws]
    G = _guides(guide_keys, E, d_in)
    if s_e == 0:
        return [W.copy() for W in Ws]
    if s_p == 0:
        P = P[:0]
    K = np.vstack([np.sqrt(s_e) * E, np.sqrt(s_p) * P])  # scaled keys, (k, d_in)
    if K.shape[0] <= d_in:
        # Push-through identity: A^{-1} K^T = K^T (lam I + K K^T)^{-1}, so the update lies in
        # the span of the keys exactly (directions orthogonal to every key keep W's action
        # to rounding error even as lam -> 0) and the solve is only (k, k).
        Gram = K @ K.T
        Gram[np.diag_indices_from(Gram)] += lam
        Z = _solve_pos(Gram, np.eye(K.shape[0])[:, : E.shape[0]], "lam", lam)
        D = np.sqrt(s_e) * (Z.T @ K)  # (k_e, d_in)
    else:
        A = K.T @ K
        A[np.diag_indices_from(A)] += lam
        D = s_e * _solve_pos(A, E.T, "lam", lam).T  # (k_e, d_in)
    # W' = W + R D with R = W (G - E)^T, the v_i - W c_i of each map
    return [W + (W @ (G - E).T) @ D for W in Ws]


# -- RECE ----------------------------------------------------------------------------------
def _maps(W, name: str) -> list[np.ndarray]:
    if isinstance(W, Sequence) and not isinstance(W, np.ndarray):
        if not W:
            raise ValueError(f"{name} must hold at least one map")
        return [_as_map(w, name) for w in W]
    return [_as_map(W, name)]


def rece_embedding(W_edited, W_orig, keys, *, mode: str = "regzero", reg: float = 1e-3,
                   old_keys=None) -> np.ndarray:
    r"""RECE's adversarial embedding: what the edited map still sends to the erased output.

    With :math:`M = \sum_\ell W_\ell'^\top W'_\ell` and :math:`N = \sum_\ell W_\ell'^\top
    W^0_\ell` (summed over the edited layers when lists of maps are given), each key ``c``
    gives

    - ``"regzero"``: :math:`c' = (\lambda_r I + M)^{-1} N c` — ridge inversion of ``W'`` onto
      the original output ``W⁰c``; the Lagrangian form of
      :func:`unlearn.attacks.invert_linear`'s norm budget.
    - ``"standard"``: :math:`c' = (\lambda_r I + M)^{-1} (\lambda_r c_\text{old} + N c)` —
      pulled towards ``old_keys`` (default ``keys``) instead of zero.
    - ``"surrogate"``: :math:`c' = [(1+\lambda_r) M]^{-1} (N + \lambda_r M) c`.  ``M`` is
      singular when ``d_out < d_in``; the minimum-norm least-squares solution is returned.

    Parameters
    ----------
    W_edited, W_orig : (d_out, d_in) array or a sequence of them (one per layer)
    keys : (k, d_in) array or (d_in,)
        Erased keys ``c`` (rows).
    mode : {"regzero", "standard", "surrogate"}
    reg : float > 0
        :math:`\lambda_r`.
    old_keys : array like ``keys``, optional
        The anchor of ``"standard"`` mode (default: ``keys``).

    Returns
    -------
    array shaped like ``keys``.

    Examples
    --------
    >>> rng = np.random.default_rng(2)
    >>> W0 = rng.normal(size=(8, 5)); c = rng.normal(size=5)
    >>> W1 = uce(W0, c, np.zeros(5), None, lam=0.1)
    >>> c2 = rece_embedding(W1, W0, c, mode="regzero", reg=1e-10)
    >>> float(np.abs(W1 @ c2 - W0 @ c).max()) < 1e-6
    True
    """
    if mode not in RECE_MODES:
        raise ValueError(f"mode must be one of {RECE_MODES}, got {mode!r}")
    We, W0 = _maps(W_edited, "W_edited"), _maps(W_orig, "W_orig")
    if len(We) != len(W0) or any(a.shape != b.shape for a, b in zip(We, W0)):
        raise ValueError("W_edited and W_orig must hold maps of identical shapes, got "
                         f"{[a.shape for a in We]} and {[b.shape for b in W0]}")
    d_in = We[0].shape[1]
    if any(w.shape[1] != d_in for w in We):
        raise ValueError("W_edited: every layer must take the same input dimension")
    single = np.asarray(keys).ndim == 1
    K = _as_keys(keys, d_in, "keys", allow_none=False)
    reg = _positive(reg, "reg")
    Ws, W0s = np.vstack(We), np.vstack(W0)  # summing W'ᵀW' over layers = stacking them
    target = W0s @ K.T  # original outputs, (rows, k)
    if mode == "surrogate":
        # min-norm solution of M c' = (N c + reg M c) / (1 + reg), i.e. of the least-squares
        # problem W' c' ≈ (W⁰ c + reg W' c) / (1 + reg) (better conditioned than using M)
        out = linalg.lstsq(Ws, (target + reg * (Ws @ K.T)) / (1.0 + reg))[0]
    else:
        old = K if old_keys is None else _as_keys(old_keys, d_in, "old_keys")
        if old.shape != K.shape:
            raise ValueError(f"old_keys must have the shape of keys {K.shape}, got {old.shape}")
        anchor = old.T if mode == "standard" else np.zeros_like(K.T)
        # (reg I + W'ᵀW')⁻¹ (reg a + W'ᵀ t) = a + W'ᵀ (reg I + W'W'ᵀ)⁻¹ (t − W' a)
        # (push-through identity): solve on the smaller side.
        if Ws.shape[0] <= d_in:
            Gram = Ws @ Ws.T
            Gram[np.diag_indices_from(Gram)] += reg
            out = anchor + Ws.T @ _solve_pos(Gram, target - Ws @ anchor, "reg", reg)
        else:
            A = Ws.T @ Ws
            A[np.diag_indices_from(A)] += reg
            out = _solve_pos(A, reg * anchor + Ws.T @ target, "reg", reg)
    out = out.T
    return out[0] if single else out


@dataclass
class RECEResult:
    """Output of :func:`rece`.

    Attributes
    ----------
    W : ndarray
        The final edited map.
    maps : list of ndarray
        The map after the initial UCE edit (``maps[0]``) and after each RECE round.
    embeddings : list of ndarray
        The adversarial embeddings ``c'`` found in each round, ``(k_e, d_in)`` each.
    """

    W: np.ndarray
    maps: list[np.ndarray] = field(default_factory=list)
    embeddings: list[np.ndarray] = field(default_factory=list)


def rece(
    W,
    erase_keys,
    guide_keys,
    preserve_keys,
    *,
    lam: float,
    rounds: int = 3,
    mode: str = "regzero",
    reg: float = 1e-3,
    s_erase: float = 1.0,
    s_preserve: float = 1.0,
    base: str = "current",
    round_lam: float | None = None,
    round_s_preserve: float | None = None,
) -> RECEResult:
    """Reliable and Efficient Concept Erasure: UCE, then rounds of "erase what still works".

    Round 0 is ``uce(W, erase_keys, guide_keys, preserve_keys, ...)``.  Each later round
    finds, for every erase key ``c_i``, the embedding ``c'_i = rece_embedding(W_cur, W, c_i,
    mode=mode, reg=reg)`` that the current map still sends (nearly) to the original output
    ``W c_i``, and erases it towards the same guide:

    - ``base="current"`` (the paper; default): a UCE edit of the current map with erase keys ``c'``
      (preserve keys keep their *current* outputs), strength ``round_lam`` and
      ``round_s_preserve`` (the RECE code uses 0.1 and 0.1 for CLIP-scale keys).
    - ``base="original"`` (a variant): re-edit the *original* ``W`` with the erase keys plus
      every ``c'`` found so far, with ``lam`` and ``s_preserve``; nothing accumulates drift.

    The paper runs up to 10 epochs and keeps the best by a validation score; the maps of all
    rounds are returned so that the caller can choose.

    Parameters
    ----------
    W, erase_keys, guide_keys, preserve_keys, lam, s_erase, s_preserve
        As in :func:`uce`.
    rounds : int >= 0
        RECE rounds after the initial UCE edit.
    mode, reg
        As in :func:`rece_embedding`.
    base : {"current", "original"}
    round_lam, round_s_preserve : float, optional
        Edit strength of the rounds for ``base="current"`` (default: ``lam``, ``s_preserve``).

    Returns
    -------
    RECEResult

    Examples
    --------
    >>> rng = np.random.default_rng(3)
    >>> W = rng.normal(size=(6, 12)); C = rng.normal(size=(2, 12)); P = rng.normal(size=(3, 12))
    >>> res = rece(W, C, np.zeros(12), P, lam=0.1, rounds=2)
    >>> len(res.maps), res.embeddings[0].shape
    (3, (2, 12))
    """
    W = _as_map(W)
    d_in = W.shape[1]
    E = _as_keys(erase_keys, d_in, "erase_keys")
    if E.shape[0] == 0:
        raise ValueError("erase_keys must hold at least one key for rece")
    G = _guides(guide_keys, E, d_in)
    P = _as_keys(preserve_keys, d_in, "preserve_keys")
    if not isinstance(rounds, int | np.integer) or isinstance(rounds, bool) or rounds < 0:
        raise ValueError(f"rounds must be an int >= 0, got {rounds!r}")
    if base not in ("original", "current"):
        raise ValueError(f"base must be 'original' or 'current', got {base!r}")
    if mode not in RECE_MODES:
        raise ValueError(f"mode must be one of {RECE_MODES}, got {mode!r}")
    r_lam = lam if round_lam is None else _positive(round_lam, "round_lam")
    r_sp = s_preserve if round_s_preserve is None else _positive(
        round_s_preserve, "round_s_preserve", allow_zero=True)
    cur = uce(W, E, G, P, lam=lam, s_erase=s_erase, s_preserve=s_preserve)
    res = RECEResult(W=cur, maps=[cur])
    acc_E, acc_G = [E], [G]
    for _ in range(int(rounds)):
        found = rece_embedding(cur, W, E, mode=mode, reg=reg)
        res.embeddings.append(found)
        if base == "original":
            acc_E.append(found)
            acc_G.append(G)
            cur = uce(W, np.vstack(acc_E), np.vstack(acc_G), P, lam=lam, s_erase=s_erase,
                      s_preserve=s_preserve)
        else:
            cur = uce(cur, found, G, P, lam=r_lam, s_erase=s_erase, s_preserve=r_sp)
        res.maps.append(cur)
    res.W = cur
    return res


# -- RealEra -------------------------------------------------------------------------------
def _band_sample(e: np.ndarray, n: int, radius: float, band: tuple[float, float], rng,
                 name: str) -> np.ndarray:
    """``n`` points ``e + eta`` with ``||eta|| <= radius`` and ``cos(e + eta, e)`` in ``band``.

    ``eta = (alpha - |e|) e_hat + beta u`` with ``u ⟂ e_hat`` a random unit vector and
    ``beta = alpha tan(theta)``: the cosine is drawn uniformly from the feasible part of the
    band, ``alpha`` uniformly from the interval keeping ``||eta|| <= radius``.
    """
    r = float(np.linalg.norm(e))
    if r == 0:
        raise ValueError("erase_keys must not contain a zero key")
    lo, hi = band
    cos_min = np.sqrt(max(0.0, 1.0 - (radius / r) ** 2)) if radius < r else -1.0
    lo_f = max(lo, cos_min)
    if lo_f > hi:
        raise ValueError(f"{name}: no point of the cosine band {band} lies within radius "
                         f"{radius} of a key of norm {r:.3g} (needs cos >= {cos_min:.3g})")
    e_hat = e / r
    kappa = rng.uniform(lo_f, hi, size=n)
    t = np.sqrt(np.clip(1.0 - kappa**2, 0.0, None)) / np.maximum(kappa, 1e-12)
    # (alpha - r)^2 + alpha^2 t^2 <= radius^2  ->  alpha in [a_lo, a_hi]
    q = 1.0 + t**2
    disc = np.sqrt(np.clip(r**2 - q * (r**2 - radius**2), 0.0, None))
    a_lo = np.maximum((r - disc) / q, 1e-12)
    a_hi = (r + disc) / q
    alpha = rng.uniform(a_lo, np.maximum(a_hi, a_lo))
    u = rng.normal(size=(n, e.size))
    u -= np.outer(u @ e_hat, e_hat)
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    return alpha[:, None] * e_hat[None] + (alpha * t)[:, None] * u


def realera_sets(
    erase_keys,
    *,
    n_neighbours: int = 16,
    radius: float = 0.6,
    cos_band: tuple[float, float] = (0.85, 0.98),
    n_beyond: int = 16,
    beyond_radius: float = 1.0,
    beyond_band: tuple[float, float] = (0.5, 0.7),
    seed=None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """RealEra-style neighbour mining around each erased key.

    For every erase key ``e`` it draws ``n_neighbours`` points ``e + eta`` with
    ``||eta|| <= radius`` and ``cos(e + eta, e)`` in ``cos_band`` (the "associated concepts",
    erased like ``e``) and ``n_beyond`` points within ``beyond_radius`` whose cosine lies in
    ``beyond_band`` (the "beyond-concept" samples, preserved).  Perturbations are
    ``eta = a ê + b u`` with ``u ⟂ ê``.  The paper does not publish D₁, S₁, S₂ or the counts;
    the defaults suit unit-norm MiniLM keys, where paraphrases of one concept have cosine
    ~0.6–0.9 and other digits ~0.5–0.8 (see README.md, "Concept erasure on real text embeddings").

    Parameters
    ----------
    erase_keys : (k_e, d) array
    n_neighbours, n_beyond : int >= 0
    radius, beyond_radius : float > 0
        D₁ and its analogue for the beyond-concept samples.
    cos_band, beyond_band : (low, high) with -1 <= low <= high <= 1
    seed : int or numpy Generator

    Returns
    -------
    neighbours : (k_e * n_neighbours, d) array
    owner : (k_e * n_neighbours,) int array — the erase key each neighbour came from
    beyond : (k_e * n_beyond, d) array

    Examples
    --------
    >>> e = np.eye(4)[:1]
    >>> nb, owner, far = realera_sets(e, n_neighbours=5, n_beyond=3, seed=0)
    >>> nb.shape, far.shape
    ((5, 4), (3, 4))
    >>> cos = nb @ e[0] / np.linalg.norm(nb, axis=1)
    >>> bool(((cos >= 0.85 - 1e-12) & (cos <= 0.98 + 1e-12)).all())
    True
    """
    E = np.asarray(erase_keys)
    if E.ndim == 1:
        E = E[None]
    if E.ndim != 2 or E.shape[0] == 0:
        raise ValueError(f"erase_keys must be a non-empty (k, d) array, got shape {E.shape}")
    E = _as_keys(E, E.shape[1], "erase_keys")
    for name, v in (("n_neighbours", n_neighbours), ("n_beyond", n_beyond)):
        if not isinstance(v, int | np.integer) or isinstance(v, bool) or v < 0:
            raise ValueError(f"{name} must be an int >= 0, got {v!r}")
    radius = _positive(radius, "radius")
    beyond_radius = _positive(beyond_radius, "beyond_radius")
    bands = {}
    for name, band in (("cos_band", cos_band), ("beyond_band", beyond_band)):
        try:
            lo, hi = (float(b) for b in band)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a pair (low, high), got {band!r}") from None
        if not -1.0 <= lo <= hi <= 1.0:
            raise ValueError(f"{name} must satisfy -1 <= low <= high <= 1, got {band!r}")
        bands[name] = (lo, hi)
    rng = np.random.default_rng(seed)
    nb, owner, far = [], [], []
    for i, e in enumerate(E):
        if n_neighbours:
            nb.append(_band_sample(e, n_neighbours, radius, bands["cos_band"], rng, "cos_band"))
            owner.append(np.full(n_neighbours, i))
        if n_beyond:
            far.append(_band_sample(e, n_beyond, beyond_radius, bands["beyond_band"], rng,
                                    "beyond_band"))
    d = E.shape[1]
    return (np.vstack(nb) if nb else np.zeros((0, d)),
            np.concatenate(owner) if owner else np.zeros(0, int),
            np.vstack(far) if far else np.zeros((0, d)))


def realera(
    W,
    erase_keys,
    guide_keys,
    preserve_keys,
    *,
    lam: float,
    s_erase: float = 1.0,
    s_preserve: float = 1.0,
    seed=None,
    **mining,
) -> np.ndarray:
    """UCE with RealEra's augmented sets.

    Neighbours from :func:`realera_sets` join the erase set (each mapped to its key's guide);
    beyond-concept samples join the preserve set.  ``mining`` is passed to
    :func:`realera_sets` (``n_neighbours``, ``radius``, ``cos_band``, ``n_beyond``,
    ``beyond_radius``, ``beyond_band``).  The paper's second stage (LoRA noise alignment)
    needs a diffusion model and is not reproduced.

    Examples
    --------
    >>> rng = np.random.default_rng(4)
    >>> W = rng.normal(size=(6, 10)); c = rng.normal(size=(1, 10)); c /= np.linalg.norm(c)
    >>> W2 = realera(W, c, np.zeros(10), None, lam=0.1, seed=0, n_neighbours=4, n_beyond=2)
    >>> W2.shape
    (6, 10)
    """
    W = _as_map(W)
    d_in = W.shape[1]
    E = _as_keys(erase_keys, d_in, "erase_keys")
    if E.shape[0] == 0:
        raise ValueError("erase_keys must hold at least one key for realera")
    G = _guides(guide_keys, E, d_in)
    P = _as_keys(preserve_keys, d_in, "preserve_keys")
    unknown = set(mining) - {"n_neighbours", "radius", "cos_band", "n_beyond", "beyond_radius",
                             "beyond_band"}
    if unknown:
        raise TypeError(f"realera got unknown mining argument(s) {sorted(unknown)}")
    nb, owner, far = realera_sets(E, seed=seed, **mining)
    return uce(W, np.vstack([E, nb]), np.vstack([G, G[owner]]), np.vstack([P, far]),
               lam=lam, s_erase=s_erase, s_preserve=s_preserve)
