"""L2-regularised linear models with per-example gradients, a numpy MLP and LoRA adapters.

The linear models are vectorised over many independent *chains*: parameters have shape
``(chains, p)``.  Per-example gradients are clipped *before* the regulariser is added
(clip ∇ℓ only, then add λθ), so the objective stays λ-strongly convex.

Examples
--------
>>> import numpy as np
>>> from unlearn.models import LogReg
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(50, 3)) / 3; y = (X[:, 0] > 0).astype(int)
>>> m = LogReg(lam=0.1)
>>> theta = m.fit(X, y)
>>> g, fired = m.grad(theta[None], X, y)
>>> float(np.abs(g).max()) < 1e-6, fired
(True, False)
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, special

from sim.validate import check_float, check_float_array, check_int

__all__ = ["MLP", "LoRA", "LogReg", "blas_threads", "check_xy", "retrain"]


def blas_threads(n: int | None = 1):
    """Context limiting BLAS threads (``None``: leave as is).

    The loops here multiply small matrices thousands of times; a multi-threaded BLAS on a
    busy machine made them 5–20× slower (measured: a digits MLP 0.36 s → 6.4 s at load 10).
    Uses ``threadpoolctl`` when installed (it comes with scikit-learn), else does nothing.
    """
    if n is None:
        return nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - depends on the environment
        return nullcontext()
    return threadpool_limits(limits=int(n), user_api="blas")


def check_xy(X, y, *, n_classes: int | None = None):
    """Validate a design matrix and integer labels; return float64 X, int64 y.

    ``X`` must be finite (a NaN or inf would silently turn every parameter into NaN);
    labels must be integers in ``[0, n_classes)``.
    """
    X = check_float_array("X", X, ndim=None)
    y = np.asarray(y)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n, d), got shape {X.shape}")
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(f"y must have shape ({X.shape[0]},) to match X, got {y.shape}")
    if X.shape[0] == 0:
        raise ValueError("X must have at least one row")
    if y.size and not np.issubdtype(y.dtype, np.integer):
        if y.dtype == bool or not np.issubdtype(y.dtype, np.floating) or not np.all(
                np.mod(y, 1) == 0):
            raise TypeError("y must contain integer class labels")
    if n_classes is not None:
        n_classes = check_int("n_classes", n_classes, low=2)
    y = y.astype(np.int64)
    if y.min() < 0 or (n_classes is not None and y.max() >= n_classes):
        raise ValueError(f"y labels must lie in [0, {n_classes}), got labels in "
                         f"[{int(y.min())}, {int(y.max())}]")
    return X, y


@dataclass
class LogReg:
    """L2-regularised logistic (``n_classes=2``) or softmax regression.

    Objective: ``(1/n) Σ ℓ(θ; x_i, y_i) + (λ/2)||θ||²``.  Binary models have ``d``
    parameters (no intercept); softmax models ``n_classes * d`` (flattened ``(C, d)``).
    With ``||x|| <= 1`` the loss is β-smooth (β = 1/4 binary, 1/2 softmax) and per-example
    gradients are bounded by ``grad_bound`` (1 binary, √2 softmax).
    """

    lam: float
    clip: float | None = None
    n_classes: int = 2

    def __post_init__(self):
        self.lam = check_float("lam", self.lam, low=0, low_open=True)
        if self.clip is not None:
            self.clip = check_float("clip", self.clip, low=0, low_open=True)
        self.n_classes = check_int("n_classes", self.n_classes, low=2)

    # ---- constants -------------------------------------------------------------
    @property
    def binary(self) -> bool:
        return self.n_classes == 2

    @property
    def beta(self) -> float:
        """Smoothness of the per-example loss for ``||x|| <= 1``."""
        return 0.25 if self.binary else 0.5

    @property
    def grad_bound(self) -> float:
        """Sup of per-example gradient norms for ``||x|| <= 1``."""
        return 1.0 if self.binary else float(np.sqrt(2.0))

    def n_params(self, d: int) -> int:
        return d if self.binary else self.n_classes * d

    # ---- core ------------------------------------------------------------------
    def _residual(self, theta, X, y):
        """Return the logit-residual r (dloss/dlogit), per-example, and logits."""
        chains = theta.shape[0]
        if self.binary:
            z = theta @ X.T  # (chains, n)
            # expit(z) - y = 0.5 * tanh(z / 2) + (0.5 - y); tanh is much faster than expit
            r = np.multiply(z, 0.5)
            np.tanh(r, out=r)
            r *= 0.5
            r += (0.5 - y).astype(r.dtype)[None, :]
            return r, z
        C = self.n_classes
        z = (theta.reshape(chains * C, -1) @ X.T).reshape(chains, C, -1)  # (chains, C, n)
        p = special.softmax(z, axis=1)
        p[:, y, np.arange(y.size)] -= 1.0
        return p, z

    def grad(self, theta, X, y):
        """Mean clipped per-example gradient plus λθ.

        Returns ``(g, fired)`` with ``g`` of shape ``(chains, p)`` and ``fired`` True when
        any per-example gradient norm exceeded ``clip``.
        """
        n = X.shape[0]
        r, _ = self._residual(theta, X, y)
        fired = False
        if self.clip is not None:
            xn = np.linalg.norm(X, axis=1)
            # |expit - y| < 1 and ||p - e_y|| < sqrt(2): clipping cannot fire above this
            if self.clip < self.grad_bound * xn.max():
                rn = np.abs(r) if self.binary else np.linalg.norm(r, axis=1)
                gn = rn * xn
                over = gn > self.clip
                if over.any():
                    fired = True
                    scale = np.where(over, self.clip / np.maximum(gn, 1e-300), 1.0)
                    r = r * (scale if self.binary else scale[:, None, :])
        if self.binary:
            g = r @ X
        else:
            chains, C, _ = r.shape
            g = (r.reshape(chains * C, n) @ X).reshape(chains, -1)
        g *= 1.0 / n
        g += self.lam * theta
        return g, fired

    def losses(self, theta, X, y):
        """Per-example losses, shape ``(chains, n)`` (no regulariser)."""
        theta = np.atleast_2d(theta)
        _, z = self._residual(theta, X, y)
        if self.binary:
            s = 2.0 * y - 1.0
            return np.logaddexp(0.0, -s * z)
        return special.logsumexp(z, axis=1) - z[:, y, np.arange(y.size)]

    def objective(self, theta, X, y):
        theta = np.atleast_2d(theta)
        return self.losses(theta, X, y).mean(axis=1) + 0.5 * self.lam * (theta**2).sum(axis=1)

    def proba(self, theta, X):
        """Class probabilities ``(chains, n, C)``."""
        theta = np.atleast_2d(theta)
        chains = theta.shape[0]
        if self.binary:
            p1 = special.expit(theta @ X.T)
            return np.stack([1 - p1, p1], axis=-1)
        z = (theta.reshape(chains * self.n_classes, -1) @ X.T).reshape(chains, self.n_classes, -1)
        return np.moveaxis(special.softmax(z, axis=1), 1, 2)

    def predict(self, theta, X):
        return self.proba(theta, X).argmax(axis=-1)

    def fit(self, X, y, *, theta0=None, tol: float = 1e-12) -> np.ndarray:
        """Deterministic optimum by L-BFGS (unclipped gradients); returns ``(p,)``."""
        X, y = check_xy(X, y, n_classes=self.n_classes)
        clip, self.clip = self.clip, None
        try:
            p = self.n_params(X.shape[1])
            t0 = np.zeros(p) if theta0 is None else np.asarray(theta0, float).ravel()

            def fg(t):
                return float(self.objective(t[None], X, y)[0]), self.grad(t[None], X, y)[0][0]

            with blas_threads(1):
                res = optimize.minimize(fg, t0, jac=True, method="L-BFGS-B",
                                        options={"maxiter": 10_000, "gtol": tol, "ftol": 1e-15})
        finally:
            self.clip = clip
        return res.x


# --------------------------------------------------------------------------- MLP
@dataclass
class LoRA:
    """Low-rank adapters ``ΔW = scale · A @ B`` on selected layers of an :class:`MLP`.

    ``A[l]`` has shape ``(in, rank)``, ``B[l]`` ``(rank, out)``; ``B`` starts at zero so the
    adapted model equals the base model.  Each layer's ``(A, B)`` is one *group*.
    """

    layers: tuple[int, ...]
    rank: int
    A: dict = field(default_factory=dict)
    B: dict = field(default_factory=dict)
    scale: float = 1.0

    @classmethod
    def init(cls, mlp: MLP, layers=None, rank: int = 8, seed=None, scale: float = 1.0) -> LoRA:
        rank = check_int("rank", rank, low=1)
        scale = check_float("scale", scale)
        n_layers = len(mlp.weights)
        layers = tuple(range(n_layers - 1)) if layers is None else tuple(int(i) for i in layers)
        if not layers or any(not 0 <= i < n_layers for i in layers):
            raise ValueError(f"layers must index the MLP's {n_layers} layers, got {layers}")
        rng = np.random.default_rng(seed)
        lo = cls(layers=layers, rank=rank, scale=scale)
        for i in layers:
            fan_in, fan_out = mlp.weights[i].shape
            lo.A[i] = rng.normal(0, 1 / np.sqrt(fan_in), size=(fan_in, rank))
            lo.B[i] = np.zeros((rank, fan_out))
        return lo

    def delta(self, i):
        return self.scale * self.A[i] @ self.B[i]

    def group_norms(self) -> np.ndarray:
        return np.array([np.sqrt((self.A[i] ** 2).sum() + (self.B[i] ** 2).sum())
                         for i in self.layers])


@dataclass
class MLP:
    """ReLU multilayer perceptron with softmax cross-entropy and manual backprop.

    ``weights[l]`` has shape ``(in, out)``; hidden layers use ReLU.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 4)); y = (X[:, 0] + X[:, 1] > 0).astype(int)
    >>> net = MLP.init((4, 16, 2), seed=0).train(X, y, epochs=100, seed=0)
    >>> float((net.predict(X) == y).mean()) > 0.95
    True
    """

    weights: list
    biases: list
    wd: float = 1e-4

    @classmethod
    def init(cls, sizes, seed=None, wd: float = 1e-4) -> MLP:
        sizes = tuple(int(s) for s in sizes)
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"sizes must be >= 2 positive layer widths, got {sizes}")
        rng = np.random.default_rng(seed)
        W = [rng.normal(0, np.sqrt(2.0 / a), size=(a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
        return cls(weights=W, biases=[np.zeros(b) for b in sizes[1:]], wd=wd)

    def copy(self) -> MLP:
        return MLP([w.copy() for w in self.weights], [b.copy() for b in self.biases], self.wd)

    @property
    def sizes(self):
        return (self.weights[0].shape[0],) + tuple(w.shape[1] for w in self.weights)

    def _w(self, i, lora):
        if lora is not None and i in lora.A:
            return self.weights[i] + lora.delta(i)
        return self.weights[i]

    def forward(self, X, lora: LoRA | None = None):
        """Logits and the activations cache."""
        hs = [X]
        h = X
        L = len(self.weights)
        for i in range(L):
            z = h @ self._w(i, lora) + self.biases[i]
            h = np.maximum(z, 0.0) if i < L - 1 else z
            hs.append(h)
        return h, hs

    def logits(self, X, lora=None):
        return self.forward(np.asarray(X, float), lora)[0]

    def proba(self, X, lora=None):
        return special.softmax(self.logits(X, lora), axis=1)

    def predict(self, X, lora=None):
        return self.logits(X, lora).argmax(axis=1)

    def losses(self, X, y, lora=None):
        """Per-example cross-entropy."""
        z = self.logits(X, lora)
        y = np.asarray(y, dtype=np.int64)
        return special.logsumexp(z, axis=1) - z[np.arange(y.size), y]

    def backward(self, hs, dlogits, lora: LoRA | None = None):
        """Gradients of ``sum(dlogits * logits)`` w.r.t. weights, biases and LoRA factors."""
        L = len(self.weights)
        gW, gb = [None] * L, [None] * L
        gA, gB = {}, {}
        d = dlogits
        for i in range(L - 1, -1, -1):
            dW = hs[i].T @ d
            gW[i] = dW
            gb[i] = d.sum(axis=0)
            if lora is not None and i in lora.A:
                gA[i] = lora.scale * dW @ lora.B[i].T
                gB[i] = lora.scale * lora.A[i].T @ dW
            if i > 0:
                d = (d @ self._w(i, lora).T) * (hs[i] > 0)
        return gW, gb, gA, gB

    def ce_grad(self, X, y, lora=None, weights=None):
        """Mean (optionally weighted) cross-entropy, and ``(gW, gb, gA, gB)``."""
        z, hs = self.forward(X, lora)
        p = special.softmax(z, axis=1)
        n = X.shape[0]
        lossv = special.logsumexp(z, axis=1) - z[np.arange(n), y]
        p[np.arange(n), y] -= 1.0
        w = np.full(n, 1.0 / n) if weights is None else np.asarray(weights, float)
        return float(lossv @ w), self.backward(hs, p * w[:, None], lora)

    def train(self, X, y, *, epochs: int = 60, batch: int = 64, lr: float = 3e-3,
              seed=None) -> MLP:
        """Minibatch Adam on cross-entropy + ``wd/2·||W||²`` in place; returns self."""
        X, y = check_xy(X, y, n_classes=self.sizes[-1])
        epochs = check_int("epochs", epochs, low=0)
        batch = check_int("batch", batch, low=1)
        lr = check_float("lr", lr, low=0, low_open=True)
        with blas_threads(1):
            return self._train(X, y, epochs, batch, lr, seed)

    def _train(self, X, y, epochs, batch, lr, seed):
        rng = np.random.default_rng(seed)
        params = self.weights + self.biases
        m = [np.zeros_like(p) for p in params]
        v = [np.zeros_like(p) for p in params]
        t = 0
        n = X.shape[0]
        nW = len(self.weights)
        for _ in range(int(epochs)):
            perm = rng.permutation(n)
            for s in range(0, n, batch):
                idx = perm[s:s + batch]
                _, (gW, gb, _, _) = self.ce_grad(X[idx], y[idx])
                grads = [g + self.wd * w for g, w in zip(gW, self.weights)] + gb
                t += 1
                for k, (p, g) in enumerate(zip(params, grads)):
                    m[k] = 0.9 * m[k] + 0.1 * g
                    v[k] = 0.999 * v[k] + 0.001 * g * g
                    p -= lr * (m[k] / (1 - 0.9**t)) / (np.sqrt(v[k] / (1 - 0.999**t)) + 1e-8)
        self.weights, self.biases = params[:nW], params[nW:]
        return self

    def merge(self, lora: LoRA) -> MLP:
        """A new MLP with the adapters folded into the weights."""
        out = self.copy()
        for i in lora.layers:
            out.weights[i] = out.weights[i] + lora.delta(i)
        return out


def retrain(X, y, *, sizes=None, seed=None, **train_kw) -> MLP:
    """Train a fresh :class:`MLP` (default ``(d, 128, 128, C)``) from scratch."""
    X, y = check_xy(X, y)
    C = int(y.max()) + 1
    sizes = (X.shape[1], 128, 128, C) if sizes is None else sizes
    return MLP.init(sizes, seed=seed).train(X, y, seed=seed, **train_kw)
