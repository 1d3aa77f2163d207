"""GS-LoRA continual forgetting on a numpy MLP (after bjzhb666/GS-LoRA).

For each task (a set of classes to forget) new rank-``r`` LoRA adapters are trained on the
hidden layers with

    CE_retain + β·mean_i ReLU(BND − CE_forget,i) + α·Σ_g ||(A, B)_g||₂

(one group per adapted layer, as ``engine_cl.py::get_structure_loss``), then merged.  The
bound is applied per forget example: the paper bounds the batch-mean CE, which a few
examples with huge loss satisfy while the rest stay correctly classified (we measured forget
accuracy stuck near 0.4 that way).  The
forget term covers every class forgotten so far, so earlier tasks stay forgotten.  With
``proximal=True`` the group penalty is applied as a proximal soft-threshold
``θ_g·max(0, 1 − lr·α/||θ_g||)`` after each step, which zeroes whole groups exactly (the paper
uses the plain penalty).  Model selection uses the H-mean of the forget-accuracy drop and
the retain accuracy.

Examples
--------
>>> from unlearn.data import load, train_test_split
>>> from unlearn.models import retrain
>>> X, y = load("digits"); tr, te = train_test_split(len(y), 0.2, seed=0)
>>> base = retrain(X[tr], y[tr], seed=0, epochs=10)
>>> res = continual_forget(base, [(0, 1)], X[tr], y[tr], X[te], y[te], steps=100, seed=0)
>>> res.tasks[0]["forget_acc"] <= 0.1
True
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.validate import check_float, check_int

from .metrics import h_mean
from .models import MLP, LoRA, blas_threads, check_xy

__all__ = ["GSLoRAResult", "continual_forget"]


@dataclass
class GSLoRAResult:
    model: MLP
    tasks: list = field(default_factory=list)
    base: dict = field(default_factory=dict)


def _acc(net, X, y):
    return float((net.predict(X) == y).mean()) if y.size else float("nan")


def continual_forget(mlp: MLP, tasks, X, y, X_test, y_test, **kwargs) -> GSLoRAResult:
    """Forget ``tasks`` (a sequence of class collections) one after another.

    Parameters
    ----------
    mlp : the trained base :class:`~unlearn.models.MLP` (not modified).
    tasks : e.g. ``[(0, 1), (2, 3)]``.
    X, y : training data (retain/forget batches are drawn from it); X_test, y_test : for
        the reported accuracies.
    rank, alpha, beta, bnd : LoRA rank (8), group-sparse weight α (1e-4), forget weight β
        (1.0) and the per-example forget-loss bound BND (10).
    lr, steps, batch : Adam step size (1e-2), steps per task (200), minibatch size (256).
    proximal : apply the group penalty as a proximal step (exactly-zero groups).
    layers : MLP layers carrying adapters (default: the hidden layers).
    seed : randomness of adapters and batches.

    Returns
    -------
    GSLoRAResult with the final merged model, ``base`` accuracies and per task a dict with
    ``forget_acc`` (this task's classes), ``forget_acc_all`` (all forgotten so far),
    ``retain_acc``, ``base_retain_acc``, ``h_mean``, ``group_norms`` and ``zero_groups``.
    """
    with blas_threads(1):
        return _continual_forget(mlp, tasks, X, y, X_test, y_test, **kwargs)


def _continual_forget(mlp: MLP, tasks, X, y, X_test, y_test, *, rank: int = 8,
                     alpha: float = 1e-4, beta: float = 1.0, bnd: float = 10.0,
                     lr: float = 1e-2, steps: int = 200, batch: int = 256,
                     proximal: bool = False, layers=None, seed=None) -> GSLoRAResult:
    X, y = check_xy(X, y)
    X_test, y_test = check_xy(X_test, y_test)
    if X.shape[1] != mlp.sizes[0] or X_test.shape[1] != mlp.sizes[0]:
        raise ValueError(f"X and X_test must have {mlp.sizes[0]} features")
    tasks = [tuple(check_int("tasks", c) for c in t) for t in tasks]
    if not tasks or any(not t for t in tasks):
        raise ValueError("tasks must be a non-empty sequence of non-empty class collections")
    alpha, beta = check_float("alpha", alpha, low=0), check_float("beta", beta, low=0)
    bnd = check_float("bnd", bnd, low=0)
    lr = check_float("lr", lr, low=0, low_open=True)
    steps, batch = check_int("steps", steps, low=1), check_int("batch", batch, low=1)
    rank = check_int("rank", rank, low=1)
    if not isinstance(proximal, (bool, np.bool_)):
        raise TypeError(f"proximal must be True or False, got {proximal!r}")
    all_classes = np.unique(y)
    if any(c not in all_classes for t in tasks for c in t):
        raise ValueError(f"tasks name classes not present in y: {tasks}")
    rng = np.random.default_rng(seed)
    net = mlp.copy()
    base_acc = {int(c): _acc(mlp, X_test[y_test == c], y_test[y_test == c]) for c in all_classes}
    result = GSLoRAResult(model=net, base=base_acc)
    forgotten: list[int] = []
    for t, task in enumerate(tasks):
        forgotten = sorted(set(forgotten) | set(task))
        fmask = np.isin(y, forgotten)
        if fmask.all():
            raise ValueError("tasks would forget every class")
        Xf, yf, Xr, yr = X[fmask], y[fmask], X[~fmask], y[~fmask]
        lo = LoRA.init(net, layers=layers, rank=rank, seed=rng.integers(2**32))
        keys = [("A", i) for i in lo.layers] + [("B", i) for i in lo.layers]
        mom = {k: 0.0 for k in keys}
        vel = {k: 0.0 for k in keys}
        for s in range(1, int(steps) + 1):
            ir = rng.integers(0, len(yr), min(batch, len(yr)))
            jf = rng.integers(0, len(yf), min(batch, len(yf)))
            _, (_, _, gA, gB) = net.ce_grad(Xr[ir], yr[ir], lo)
            ce_i = net.losses(Xf[jf], yf[jf], lo)
            wf = (ce_i < bnd) / ce_i.size
            active = bool(wf.any())
            if active:
                _, (_, _, fA, fB) = net.ce_grad(Xf[jf], yf[jf], lo, weights=wf)
            grads = {}
            for i in lo.layers:
                grads["A", i] = gA[i] - (beta * fA[i] if active else 0.0)
                grads["B", i] = gB[i] - (beta * fB[i] if active else 0.0)
                if not proximal and alpha > 0:
                    nrm = np.sqrt((lo.A[i] ** 2).sum() + (lo.B[i] ** 2).sum())
                    if nrm > 0:
                        grads["A", i] = grads["A", i] + alpha * lo.A[i] / nrm
                        grads["B", i] = grads["B", i] + alpha * lo.B[i] / nrm
            for k in keys:
                g = grads[k]
                mom[k] = 0.9 * mom[k] + 0.1 * g
                vel[k] = 0.999 * vel[k] + 0.001 * g * g
                upd = lr * (mom[k] / (1 - 0.9**s)) / (np.sqrt(vel[k] / (1 - 0.999**s)) + 1e-8)
                store = lo.A if k[0] == "A" else lo.B
                store[k[1]] = store[k[1]] - upd
            if proximal and alpha > 0:
                for i in lo.layers:
                    nrm = np.sqrt((lo.A[i] ** 2).sum() + (lo.B[i] ** 2).sum())
                    f = max(0.0, 1.0 - lr * alpha / nrm) if nrm > 0 else 0.0
                    lo.A[i] = lo.A[i] * f
                    lo.B[i] = lo.B[i] * f
        norms = lo.group_norms()
        net = net.merge(lo)
        tmask = np.isin(y_test, task)
        amask = np.isin(y_test, forgotten)
        f_acc = _acc(net, X_test[tmask], y_test[tmask])
        r_acc = _acc(net, X_test[~amask], y_test[~amask])
        base_f = _acc(mlp, X_test[tmask], y_test[tmask])
        result.tasks.append({
            "task": t, "classes": task, "forget_acc": f_acc,
            "forget_acc_all": _acc(net, X_test[amask], y_test[amask]),
            "retain_acc": r_acc, "base_retain_acc": _acc(mlp, X_test[~amask], y_test[~amask]),
            "h_mean": h_mean(base_f - f_acc, r_acc), "group_norms": norms,
            "zero_groups": int((norms == 0).sum()),
        })
    result.model = net
    return result
