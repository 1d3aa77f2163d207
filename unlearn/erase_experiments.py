"""Concept erasure on MiniLM prompt embeddings mapped to digit images.

The toy "text-to-image" model of this module:

- **Prompts.** Each digit ``d`` is described by 16 templates (``"a handwritten {word}"``,
  ``"the digit {numeral}"``, ...).  A seed splits the templates into 8 *training* templates,
  which fit the map and serve as the erase / preserve keys, and 8 *held-out paraphrases*,
  used only for evaluation (:func:`prompt_split`; stratified by numeral vs word templates).
- **Keys.** :class:`unlearn.embed.MiniLM` sentence embeddings (384-d, unit norm), computed
  once per process (:func:`prompt_embeddings`, cached).
- **Map** ``W`` (64 × 384, a cross-attention-like linear map, no bias): ridge regression from
  training-prompt keys to the class-mean 8×8 image of their digit (scikit-learn's bundled
  ``load_digits``).
- **Detector.** A multinomial logistic regression (numpy/SciPy) trained on the 1797 digit
  images; the digit "detected" in a prompt is the detector's class for ``W @ key``.
- **Erasure.** ``unlearn.closed_form`` edits ``W`` so that the target digit's training keys
  are sent to the output of a guide prompt (``"a handwritten digit"``), while the other
  digits' training keys are preserved.
- **Attack.** :func:`unlearn.attacks.invert_linear` looks, under a norm budget, for a key
  that the edited map sends back to the original output ``W c`` of each target-digit prompt.

:func:`erase` is the ``fn(params, seed) -> {metric: value}`` run by :func:`sim.run_grid`
(``erasurelab unlearn erase``, ``scripts/unlearn_erasure.py``).

Examples
--------
>>> r = erase({"method": "uce", "lam": 0.1, "budget": 1.0}, seed=0)
>>> r["detect_target_before"], r["detect_target"] <= 0.2, r["acc_other"] >= 0.95
(1.0, True, True)
"""

from __future__ import annotations

import functools
import time

import numpy as np
from scipy import optimize, special

from .attacks import invert_linear
from .closed_form import RECE_MODES, realera, rece, uce

__all__ = [
    "DIGIT_NUMERALS",
    "DIGIT_WORDS",
    "GUIDE_PROMPT",
    "METHODS",
    "TEMPLATES",
    "DigitScene",
    "check_params",
    "detector",
    "erase",
    "fit_map",
    "prompt_embeddings",
    "prompt_split",
    "scene",
    "uce_limit",
]

DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
DIGIT_NUMERALS = tuple(str(d) for d in range(10))
TEMPLATES = (
    "a handwritten {w}",
    "the digit {n}",
    "the number {w}",
    "a drawing of the number {n}",
    "an image of a {w}",
    "a picture of the digit {w}",
    "a scan of a handwritten {w}",
    "someone wrote the numeral {n}",
    "the figure {w}, written by hand",
    "a photo of the number {w} on paper",
    "digit: {n}",
    "a pen sketch of a {w}",
    "a {w} written in ink",
    "the numeral {w} in black ink",
    "a small {n} drawn with a marker",
    "{w}",
)
GUIDE_PROMPT = "a handwritten digit"
METHODS = ("none", "uce", "rece", "realera")


@functools.lru_cache(maxsize=1)
def _model():
    from .embed import MiniLM

    return MiniLM()


@functools.lru_cache(maxsize=4)
def prompt_embeddings(templates: tuple[str, ...] = TEMPLATES) -> np.ndarray:
    """MiniLM keys of every (template, digit) prompt: ``(n_templates, 10, 384)`` float64.

    Cached per process (one MiniLM load and ~160 prompts, a few seconds on 2 cores).
    """
    texts = [t.format(w=w, n=n) for t in templates for w, n in zip(DIGIT_WORDS, DIGIT_NUMERALS)]
    E = _model().encode(texts).astype(np.float64)
    return E.reshape(len(templates), 10, -1)


@functools.lru_cache(maxsize=4)
def _guide_key(prompt: str = GUIDE_PROMPT) -> np.ndarray:
    return _model().encode([prompt])[0].astype(np.float64)


def prompt_split(seed: int, n_train: int = 8, templates: tuple[str, ...] = TEMPLATES):
    """Template indices ``(train, heldout)`` for a seed.

    The split is stratified: templates naming the digit by its numeral (``{n}``) and by its
    word (``{w}``) are each split in proportion, so the map is always trained on both ways
    of naming a digit; the first template is always a training one.
    """
    n_templates = len(templates)
    if not 2 <= n_train < n_templates - 1:
        raise ValueError(f"n_train must lie in [2, {n_templates - 2}], got {n_train}")
    rng = np.random.default_rng([int(seed), 0xE7A5E])
    numeral = np.array([i for i, t in enumerate(templates) if "{n}" in t and i])
    word = np.array([i for i, t in enumerate(templates) if "{n}" not in t and i])
    k_num = max(1, min(len(numeral) - 1, round((n_train - 1) * len(numeral)
                                               / (n_templates - 1))))
    num = rng.permutation(numeral)
    wrd = rng.permutation(word)
    k_word = n_train - 1 - k_num
    train = np.sort(np.concatenate([[0], num[:k_num], wrd[:k_word]])).astype(int)
    held = np.sort(np.concatenate([num[k_num:], wrd[k_word:]])).astype(int)
    return train, held


@functools.lru_cache(maxsize=1)
def _digits():
    from .data import require_sklearn

    require_sklearn()
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return X.astype(np.float64) / 16.0, y.astype(np.int64)


class _Softmax:
    """Multinomial logistic regression with an L2 penalty, fitted by L-BFGS."""

    def __init__(self, X, y, *, lam: float = 1e-3):
        n, d = X.shape
        k = int(y.max()) + 1
        Y = np.eye(k)[y]

        def fg(theta):
            Wb = theta.reshape(d + 1, k)
            Z = X @ Wb[:d] + Wb[d]
            lse = special.logsumexp(Z, axis=1)
            P = np.exp(Z - lse[:, None])
            loss = (lse - (Z * Y).sum(1)).mean() + 0.5 * lam * (Wb[:d] ** 2).sum()
            G = np.vstack([X.T @ (P - Y) / n + lam * Wb[:d], (P - Y).mean(0)])
            return loss, G.ravel()

        res = optimize.minimize(fg, np.zeros((d + 1) * k), jac=True, method="L-BFGS-B",
                                options={"maxiter": 500})
        Wb = res.x.reshape(d + 1, k)
        self.coef, self.intercept = Wb[:d], Wb[d]

    def proba(self, X):
        Z = np.atleast_2d(X) @ self.coef + self.intercept
        return np.exp(Z - special.logsumexp(Z, axis=1, keepdims=True))

    def predict(self, X):
        return self.proba(X).argmax(axis=1)


@functools.lru_cache(maxsize=1)
def detector() -> _Softmax:
    """The digit detector (softmax regression on the bundled digits, pixels / 16); cached."""
    X, y = _digits()
    return _Softmax(X, y)


def fit_map(keys: np.ndarray, labels: np.ndarray, *, alpha: float = 1e-2) -> np.ndarray:
    """Ridge map ``W`` (64, 384) sending each key to its digit's class-mean image (pixels/16)."""
    X, y = _digits()
    means = np.stack([X[y == d].mean(0) for d in range(10)])
    T = means[labels]
    A = keys.T @ keys
    A[np.diag_indices_from(A)] += alpha
    return np.linalg.solve(A, keys.T @ T).T


class DigitScene:
    """Keys, map and detector of one seed's prompt split (see the module docstring)."""

    def __init__(self, seed: int, *, n_train: int = 8, alpha: float = 1e-2):
        emb = prompt_embeddings()
        self.train_t, self.held_t = prompt_split(seed, n_train)
        self.train = emb[self.train_t]  # (n_train, 10, 384)
        self.held = emb[self.held_t]
        k = self.train.shape[0]
        self.W = fit_map(self.train.reshape(-1, emb.shape[2]), np.tile(np.arange(10), k),
                         alpha=alpha)
        self.guide = _guide_key()
        self.det = detector()

    def keys(self, target: int):
        """``(erase_keys, preserve_keys)`` from the training templates."""
        others = [d for d in range(10) if d != target]
        return self.train[:, target], self.train[:, others].reshape(-1, self.train.shape[2])

    def rates(self, W: np.ndarray, target: int, which: str = "held") -> dict[str, float]:
        """Detection of ``target`` on its prompts and accuracy on the other digits' prompts."""
        keys = self.held if which == "held" else self.train
        k = keys.shape[0]
        pred = self.det.predict(keys.reshape(-1, keys.shape[2]) @ W.T).reshape(k, 10)
        others = [d for d in range(10) if d != target]
        return {"detect": float(np.mean(pred[:, target] == target)),
                "acc_other": float(np.mean(pred[:, others] == np.array(others)[None]))}


@functools.lru_cache(maxsize=8)
def scene(seed: int) -> DigitScene:
    """Cached :class:`DigitScene` for a seed."""
    return DigitScene(seed)


def _get(params: dict, name: str, default):
    return params.get(name, default)


_KNOWN = {"method", "target", "lam", "s_preserve", "rounds", "mode", "reg", "base",
          "n_neighbours", "radius", "cos_low", "cos_high", "n_beyond", "beyond_radius",
          "beyond_low", "beyond_high", "budget"}


def check_params(params: dict) -> dict:
    """Validate the parameters of :func:`erase`; raise ValueError naming the bad one."""
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict, got {type(params).__name__}")
    unknown = set(params) - _KNOWN
    if unknown:
        raise ValueError(f"params: unknown parameter(s) {sorted(unknown)}")
    method = _get(params, "method", "uce")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    target = _get(params, "target", 7)
    if not isinstance(target, int | np.integer) or not 0 <= target <= 9:
        raise ValueError(f"target must be a digit 0..9, got {target!r}")
    if not float(_get(params, "lam", 0.1)) > 0:
        raise ValueError(f"lam must be > 0, got {params.get('lam')!r}")
    budget = float(_get(params, "budget", 1.0))
    if np.isnan(budget) or budget < 0:
        raise ValueError(f"budget must be >= 0 (or inf), got {params.get('budget')!r}")
    rounds = _get(params, "rounds", 3)
    if not isinstance(rounds, int | np.integer) or rounds < 0:
        raise ValueError(f"rounds must be an int >= 0, got {rounds!r}")
    if _get(params, "mode", "regzero") not in RECE_MODES:
        raise ValueError(f"mode must be one of {RECE_MODES}, got {params.get('mode')!r}")
    if _get(params, "base", "current") not in ("current", "original"):
        raise ValueError(f"base must be 'current' or 'original', got {params.get('base')!r}")
    return params


def edit(sc: DigitScene, params: dict, seed: int) -> np.ndarray:
    """Apply the erasure method named by ``params["method"]`` to the scene's map."""
    method = _get(params, "method", "uce")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    target = int(_get(params, "target", 7))
    E, P = sc.keys(target)
    lam = float(_get(params, "lam", 0.1))
    s_p = float(_get(params, "s_preserve", 1.0))
    if method == "none":
        return sc.W
    if method == "uce":
        return uce(sc.W, E, sc.guide, P, lam=lam, s_preserve=s_p)
    if method == "rece":
        mode = _get(params, "mode", "regzero")
        if mode not in RECE_MODES:
            raise ValueError(f"mode must be one of {RECE_MODES}, got {mode!r}")
        return rece(sc.W, E, sc.guide, P, lam=lam, s_preserve=s_p,
                    rounds=int(_get(params, "rounds", 3)), mode=mode,
                    reg=float(_get(params, "reg", 1e-2)),
                    base=_get(params, "base", "current")).W
    return realera(sc.W, E, sc.guide, P, lam=lam, s_preserve=s_p,
                   seed=np.random.default_rng([int(seed), 0x8EA1]),
                   n_neighbours=int(_get(params, "n_neighbours", 16)),
                   radius=float(_get(params, "radius", 0.6)),
                   cos_band=(float(_get(params, "cos_low", 0.85)),
                             float(_get(params, "cos_high", 0.98))),
                   n_beyond=int(_get(params, "n_beyond", 16)),
                   beyond_radius=float(_get(params, "beyond_radius", 1.0)),
                   beyond_band=(float(_get(params, "beyond_low", 0.5)),
                                float(_get(params, "beyond_high", 0.7))))


def _single_thread(fn):
    """Run ``fn`` with one BLAS thread: its matrices are small, and run_grid workers or
    pytest workers already fill the cores (threaded OpenBLAS was 10-100x slower on a busy
    2-core machine)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from .embed import _blas_limit

        with _blas_limit(1):
            return fn(*args, **kwargs)

    return wrapper


@_single_thread
def erase(params: dict, seed: int) -> dict[str, float]:
    """One erasure run: metrics of the edited map and of the norm-budgeted attack on it.

    Parameters (``params`` keys; defaults in brackets)
    -------------------------------------------------
    method : {"none", "uce", "rece", "realera"} ["uce"]
    target : digit to erase [7]
    lam, s_preserve : UCE strength [0.1] and preserve weight [1.0]
    rounds, mode, reg, base : RECE settings [3, "regzero", 1e-2, "current"]
    n_neighbours, radius, cos_low, cos_high, n_beyond, beyond_radius, beyond_low,
    beyond_high : RealEra mining [16, 0.6, 0.85, 0.98, 16, 1.0, 0.5, 0.7]
    budget : attack norm budget on the key; ``"inf"`` (a string, since :func:`sim.run_grid`
    keeps parameters finite) or ``math.inf`` for none [1.0]

    Returns
    -------
    dict with ``detect_target`` / ``acc_other`` (held-out paraphrases, after the edit),
    ``*_before`` (the original map), ``detect_target_train`` / ``acc_other_train``
    (training prompts), ``attack_success`` (share of the target's prompts, training and
    held out, whose attack key is detected as the target), ``attack_p_target`` (mean detector
    probability of the target there), ``attack_norm`` (mean key norm used) and
    ``edit_seconds``.
    """
    check_params(params)
    sc = scene(int(seed))
    target = int(_get(params, "target", 7))
    t0 = time.perf_counter()
    W2 = edit(sc, params, seed)
    secs = time.perf_counter() - t0
    before = sc.rates(sc.W, target)
    after = sc.rates(W2, target)
    train = sc.rates(W2, target, "train")
    budget = float(_get(params, "budget", 1.0))
    C = np.vstack([sc.train[:, target], sc.held[:, target]])
    V = invert_linear(W2, C @ sc.W.T, norm_budget=budget)
    proba = sc.det.proba(V @ W2.T)
    return {
        "detect_target": after["detect"],
        "acc_other": after["acc_other"],
        "detect_target_before": before["detect"],
        "acc_other_before": before["acc_other"],
        "detect_target_train": train["detect"],
        "acc_other_train": train["acc_other"],
        "attack_success": float(np.mean(proba.argmax(1) == target)),
        "attack_p_target": float(proba[:, target].mean()),
        "attack_norm": float(np.linalg.norm(V, axis=1).mean()),
        "edit_seconds": secs,
    }


@_single_thread
def uce_limit(params: dict, seed: int) -> dict[str, float]:
    """UCE's erase residual ``max|W'c_i − W g|`` and preserve drift ``max|W'c_j − W c_j|``.

    ``params``: ``lam`` (required), ``target`` [7].  Keys are the seed's training prompts;
    the residuals are linear in ``lam`` below the keys' smallest squared singular value.

    Examples
    --------
    >>> r = uce_limit({"lam": 1e-10}, 0)
    >>> r["erase_residual"] < 1e-8 and r["preserve_drift"] < 1e-8
    True
    """
    if not isinstance(params, dict) or "lam" not in params:
        raise ValueError("params must be a dict with 'lam'")
    check_params({k: v for k, v in params.items() if k in ("lam", "target")})
    sc = scene(int(seed))
    target = int(_get(params, "target", 7))
    E, P = sc.keys(target)
    W2 = uce(sc.W, E, sc.guide, P, lam=float(params["lam"]))
    s = np.linalg.svd(np.vstack([E, P]), compute_uv=False)
    return {
        "erase_residual": float(np.abs(W2 @ E.T - (sc.W @ sc.guide)[:, None]).max()),
        "preserve_drift": float(np.abs(W2 @ P.T - sc.W @ P.T).max()),
        "key_sigma_min_sq": float(s[-1] ** 2),
    }
