"""Bundled datasets and forget-set splits.

Only scikit-learn's *bundled* datasets are used (``load_digits``, ``load_breast_cancer``,
``load_wine``); the ``fetch_*`` loaders, which download, are never called.

Examples
--------
>>> from unlearn.data import load, forget_split
>>> X, y = load("breast_cancer", unit_norm=True)
>>> X.shape, bool((np.linalg.norm(X, axis=1) <= 1 + 1e-12).all())
((569, 30), True)
>>> forget, retain = forget_split(y, "random", frac=0.1, seed=0)
>>> len(forget), len(retain)
(57, 512)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sim.validate import check_int, check_probability

__all__ = ["DATASETS", "forget_split", "load", "require_sklearn", "train_test_split"]

DATASETS = ("digits", "breast_cancer", "wine")

_INSTALL_HINT = "scikit-learn is needed for this; install it with pip install 'erasurelab[unlearn]'"


def require_sklearn():
    """Import scikit-learn lazily, raising ImportError with an install hint."""
    try:
        import sklearn  # noqa: F401
        import sklearn.datasets
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(_INSTALL_HINT) from exc
    return sklearn


def load(name: str, *, unit_norm: bool = False, standardize: bool = True):
    """Load a bundled dataset as ``(X, y)``.

    Parameters
    ----------
    name : {"digits", "breast_cancer", "wine"}
    unit_norm : bool
        Scale rows so that ``max ||x_i|| = 1`` (one common factor, so geometry is kept);
        the deletion guarantee needs ``||x|| <= 1``.
    standardize : bool
        Centre and scale each feature to unit variance (constant features are left at 0).

    Returns
    -------
    X : (n, d) float64 array, y : (n,) int64 labels ``0..C-1``.
    """
    if name not in DATASETS:
        raise ValueError(f"name must be one of {DATASETS}, got {name!r}")
    require_sklearn()
    from sklearn import datasets

    loader = {
        "digits": datasets.load_digits,
        "breast_cancer": datasets.load_breast_cancer,
        "wine": datasets.load_wine,
    }[name]
    X, y = loader(return_X_y=True)
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    if standardize:
        mu = X.mean(axis=0)
        sd = X.std(axis=0)
        sd[sd == 0] = 1.0
        X = (X - mu) / sd
    if unit_norm:
        X = X / np.linalg.norm(X, axis=1).max()
    return X, y


def _check_indices(idx, n: int, name: str) -> np.ndarray:
    arr = np.asarray(idx)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D sequence of indices")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must contain integers, got dtype {arr.dtype}")
    arr = arr.astype(np.int64)
    if arr.size and (arr.min() < 0 or arr.max() >= n):
        raise ValueError(f"{name} out of range [0, {n}): min {arr.min()}, max {arr.max()}")
    if np.unique(arr).size != arr.size:
        raise ValueError(f"{name} contains repeated indices")
    return arr


def forget_split(
    y,
    kind: str | Sequence[int] | np.ndarray = "random",
    frac: float = 0.1,
    seed=None,
    *,
    classes: Sequence[int] | None = None,
):
    """Split record indices into a forget set and a retain set.

    Parameters
    ----------
    y : (n,) labels
    kind : "random", "class", or an explicit sequence of indices
        ``"random"`` draws ``round(frac * n)`` records; ``"class"`` forgets every record of
        ``classes`` (default: one class drawn with ``seed``); explicit indices are validated.
    frac : float in (0, 1), used by ``"random"``.
    seed : seed for :func:`numpy.random.default_rng`.

    Returns
    -------
    forget, retain : sorted int64 index arrays, disjoint, covering ``range(n)``.
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D, got shape {y.shape}")
    n = y.shape[0]
    rng = np.random.default_rng(seed)
    if isinstance(kind, str):
        if kind == "random":
            frac = check_probability("frac", frac, low_open=True, high_open=True)
            m = int(round(frac * n))
            forget = np.sort(rng.choice(n, size=m, replace=False))
        elif kind == "class":
            labels = np.unique(y)
            cls = [int(rng.choice(labels))] if classes is None else list(classes)
            bad = [c for c in cls if c not in labels]
            if bad:
                raise ValueError(f"classes {bad} not present in y")
            forget = np.flatnonzero(np.isin(y, cls))
        else:
            raise ValueError(f"kind must be 'random', 'class' or indices, got {kind!r}")
    else:
        forget = np.sort(_check_indices(kind, n, "kind (indices)"))
    if forget.size == 0:
        raise ValueError("kind/frac: the forget set is empty (check frac, classes or the indices)")
    if forget.size >= n:
        raise ValueError("kind: the forget set is the whole dataset (nothing would be retained)")
    mask = np.ones(n, dtype=bool)
    mask[forget] = False
    return forget.astype(np.int64), np.flatnonzero(mask).astype(np.int64)


def train_test_split(n: int, test_frac: float = 0.2, seed=None):
    """Random train/test index split (``test_frac`` in (0, 1)); both parts non-empty."""
    n = check_int("n", n, low=2)
    test_frac = check_probability("test_frac", test_frac, low_open=True, high_open=True)
    m = int(round(test_frac * n))
    if not 0 < m < n:
        raise ValueError(f"test_frac: {test_frac} of n={n} records leaves an empty "
                         f"{'test' if m == 0 else 'train'} set")
    perm = np.random.default_rng(seed).permutation(n)
    return np.sort(perm[m:]), np.sort(perm[:m])
