"""Module-level experiment functions ``fn(params, seed) -> {metric: float}`` for
:func:`sim.run_grid`.

Each is deterministic given ``(params, seed)``.  Expensive shared objects (learned chains,
original models, retrain ensembles) are cached per process, keyed by the parameters that
determine them, so a grid over e.g. deletion steps does not relearn.

Examples
--------
>>> from unlearn.experiments import deletion_cost
>>> r = deletion_cost({"k": 20, "n_records": 569, "eps": 1.0, "delta": 0.0, "q": 2.0}, 0)
>>> r["steps_delete"], r["steps_fresh"]
(311, 554)
"""

from __future__ import annotations

import functools
import time

import numpy as np

from sim.validate import check_bool, check_choice, check_float, check_int, check_probability

from . import accounting
from .certified import empirical_epsilon, influential_forget_set, noisy_gd
from .data import forget_split, load, train_test_split
from .metrics import (
    forget_quality_ks,
    logit_confidence,
    loss_mia,
    retrain_gap,
    ua_ra_ta,
    ulira_audit,
)
from .models import LogReg, blas_threads, retrain

__all__ = ["audit", "check_params", "deletion", "deletion_cost", "deletion_distance",
           "gslora", "worstcase"]


def _single_blas(fn):
    @functools.wraps(fn)
    def wrapped(params, seed):
        with blas_threads(1):
            return fn(params, seed)

    return wrapped


def _get(params, name, default):
    return params[name] if name in params else default


def _int(low, high=None):
    return lambda name, v: check_int(name, v, low=low, high=high)


def _pos(name, v):
    return check_float(name, v, low=0, low_open=True)


def _nonneg(name, v):
    return check_float(name, v, low=0)


def _frac(name, v):
    return check_probability(name, v, low_open=True, high_open=True)


def _order(name, v):
    return check_float(name, v, low=1, low_open=True)


def _one_of(*options):
    return lambda name, v: check_choice(name, v, options)


_DATASETS = _one_of("breast_cancer", "digits", "wine")
#: Each experiment's parameters: name -> check (name, value) -> value.  A parameter that
#: is absent takes the function's default; an unknown one is refused (a typo would
#: otherwise silently run the default).
_PARAMS = {
    "deletion": {"dataset": _DATASETS, "k": _int(1), "select": _one_of("influential", "random"),
                 "lam": _pos, "sigma": _pos, "chains": _int(4), "learn_steps": _int(0),
                 "steps": _int(0), "delta": _frac, "q": _order},
    "deletion_distance": {"dataset": _DATASETS, "k": _int(1), "lam": _pos, "sigma": _pos,
                          "steps": _int(0), "chains": _int(1), "learn_steps": _int(0)},
    "deletion_cost": {"k": _int(1), "n_records": _int(1), "eps": _pos,
                      "delta": lambda n, v: check_probability(n, v, high_open=True),
                      "q": _order, "lam": _pos, "sigma": _pos, "d": _int(1)},
    "audit": {"frac": _frac, "ensemble": _int(3), "epochs": _int(1)},
    "worstcase": {"selector": _one_of("random", "lowest", "bilevel"), "approx": _one_of("ft", "ga"),
                  "frac": _frac, "ensemble": _int(2), "epochs": _int(1), "unlearn_lr": _pos,
                  "ft_epochs": _int(0), "ft_lr": _pos, "ga_steps": _int(0), "ga_lr": _pos},
    "gslora": {"n_tasks": _int(1, 4), "alpha": _nonneg, "beta": _nonneg, "bnd": _nonneg,
               "rank": _int(1), "steps": _int(1), "proximal": check_bool, "epochs": _int(1)},
}


_REQUIRED = {"deletion_cost": ("k", "n_records", "eps")}


def check_params(fn, params: dict) -> dict:
    """Check an experiment's parameters up front; returns them (values normalised).

    ``fn`` is one of this module's experiment functions (or its name).  Raises
    ``ValueError``/``TypeError`` naming the parameter, so a caller (the command line) can
    refuse bad input before a result file is touched.

    >>> check_params(gslora, {"rank": 0})
    Traceback (most recent call last):
    ...
    ValueError: rank must be an integer >= 1, got 0
    >>> check_params("audit", {"frac": 0.1, "ensembel": 5})
    Traceback (most recent call last):
    ...
    ValueError: params: unknown ['ensembel'] for audit (known: ensemble, epochs, frac)
    """
    name = fn if isinstance(fn, str) else getattr(fn, "__name__", repr(fn))
    if name not in _PARAMS:
        raise ValueError(f"fn must be one of {sorted(_PARAMS)}, got {name!r}")
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict, got {type(params).__name__}")
    spec = _PARAMS[name]
    unknown = sorted(set(params) - set(spec))
    if unknown:
        raise ValueError(f"params: unknown {unknown} for {name} (known: {', '.join(sorted(spec))})")
    missing = [k for k in _REQUIRED.get(name, ()) if k not in params]
    if missing:
        raise ValueError(f"params: {name} needs {', '.join(missing)}")
    out = {k: spec[k](k, v) for k, v in params.items()}
    if name in ("audit", "worstcase") and "frac" in out:
        n = len(_digits_split()[2])  # the digits training records
        m = int(round(out["frac"] * n))
        if not 1 <= m < n:
            raise ValueError(f"frac={out['frac']:g} of the {n} digits training records "
                             f"forgets {m}; use frac in [{0.5 / n:.2g}, {1 - 0.5 / n:.4g})")
    return out


@functools.lru_cache(maxsize=4)
def _data(name, unit_norm):
    return load(name, unit_norm=unit_norm)


# --------------------------------------------------------------------------- deletion
@functools.lru_cache(maxsize=8)
def _chains(dataset, k, select, lam, sigma, chains, learn_steps, seed):
    X, y = _data(dataset, True)
    eta = 1 / (LogReg(lam=lam, n_classes=max(int(y.max()) + 1, 2)).beta + lam)
    if select == "influential":
        forget = influential_forget_set(X, y, k, lam=lam)
    else:
        forget, _ = forget_split(y, np.random.default_rng(seed).choice(len(y), k, replace=False))
    keep = np.setdiff1d(np.arange(len(y)), forget)
    kw = dict(lam=lam, sigma=sigma, eta=eta, chains=chains, dtype=np.float32)
    th_a = noisy_gd(X, y, steps=learn_steps, seed=[seed, 1], **kw)
    th_r = noisy_gd(X[keep], y[keep], steps=learn_steps, seed=[seed, 2], **kw)
    return X, y, keep, eta, th_a, th_r


@_single_blas
def deletion(params: dict, seed: int) -> dict:
    """Certified upper bounds vs empirical lower estimates of the deletion ε after ``steps``.

    params: ``dataset`` (breast_cancer), ``k`` (20), ``select`` ("influential" | "random"),
    ``lam`` (1e-2), ``sigma`` (0.05), ``chains`` (400), ``learn_steps`` (2000), ``steps``
    (deletion steps K_U, 0), ``delta`` (1e-3), ``q`` (2.0).
    """
    params = check_params("deletion", params)
    ds = _get(params, "dataset", "breast_cancer")
    k, sel = int(_get(params, "k", 20)), _get(params, "select", "influential")
    lam, sigma = float(_get(params, "lam", 1e-2)), float(_get(params, "sigma", 0.05))
    chains, la = int(_get(params, "chains", 400)), int(_get(params, "learn_steps", 2000))
    K, delta, q = int(_get(params, "steps", 0)), float(_get(params, "delta", 1e-3)), float(
        _get(params, "q", 2.0))
    if sel not in ("influential", "random"):
        raise ValueError(f"select must be 'influential' or 'random', got {sel!r}")
    X, y, keep, eta, th_a, th_r = _chains(ds, k, sel, lam, sigma, chains, la, seed)
    t0 = time.perf_counter()
    th_u = noisy_gd(X[keep], y[keep], steps=K, theta0=th_a, seed=[seed, 3], lam=lam,
                    sigma=sigma, eta=eta, chains=chains, dtype=np.float32)
    secs = time.perf_counter() - t0
    emp = empirical_epsilon(th_u, th_r, q=q, delta=delta, seed=seed)
    b = accounting.rdp_bounds(K, k=k, n=len(y), lam=lam, sigma=sigma, eta=eta, q=q,
                              delta=delta)
    return {"eps_rdp_upper": b["eps_rdp"], "eps_delta_upper": b["eps_delta"],
            "renyi_fit": emp["renyi_fit"], "eps_attack": emp["eps_attack"],
            "eps_attack_lb": emp["eps_attack_lb"], "seconds": secs}


@_single_blas
def deletion_distance(params: dict, seed: int) -> dict:
    """Unlearned vs retrained chains sharing one noise stream: ``dist`` and ``bound`` after
    ``steps`` deletion steps (params as :func:`deletion`, plus ``chains`` default 8)."""
    params = check_params("deletion_distance", params)
    ds = _get(params, "dataset", "breast_cancer")
    k, lam = int(_get(params, "k", 20)), float(_get(params, "lam", 1e-2))
    sigma, K = float(_get(params, "sigma", 0.05)), int(_get(params, "steps", 0))
    chains, la = int(_get(params, "chains", 8)), int(_get(params, "learn_steps", 2000))
    X, y = _data(ds, True)
    eta = 1 / (0.25 + lam)
    forget, keep = forget_split(y, "random", k / len(y), seed=seed)
    kw = dict(lam=lam, sigma=sigma, eta=eta, chains=chains)
    th_a = noisy_gd(X, y, steps=la, seed=[seed, 1], **kw)
    th_r = noisy_gd(X[keep], y[keep], steps=la, seed=[seed, 2], **kw)
    d0 = np.linalg.norm(th_a - th_r, axis=1)
    tu = noisy_gd(X[keep], y[keep], steps=K, theta0=th_a, seed=[seed, 3], **kw)
    tr = noisy_gd(X[keep], y[keep], steps=K, theta0=th_r, seed=[seed, 3], **kw)
    d = np.linalg.norm(tu - tr, axis=1)
    return {"dist": float(d.mean()), "bound": float(((1 - eta * lam) ** K * d0).mean()),
            "d0": float(d0.mean())}


@_single_blas
def deletion_cost(params: dict, seed: int) -> dict:
    """Deletion steps vs a fresh chain's steps for the same target (bounds only; ``seed`` is
    unused).  params: ``k``, ``n_records``, ``eps``, ``delta`` (0 ⇒ Rényi target at ``q``), ``q``,
    ``lam`` (1e-2), ``sigma`` (0.05), ``d`` (30)."""
    params = check_params("deletion_cost", params)
    k, n = int(params["k"]), int(params["n_records"])
    eps, delta = float(params["eps"]), float(_get(params, "delta", 0.0))
    lam, sigma = float(_get(params, "lam", 1e-2)), float(_get(params, "sigma", 0.05))
    d, q = int(_get(params, "d", 30)), float(_get(params, "q", 2.0))
    eta = 1 / (0.25 + lam)
    kw = dict(lam=lam, sigma=sigma, eta=eta)
    tgt = dict(q=q) if delta == 0 else dict(delta=delta)
    kd = accounting.steps_for(eps, k=k, n=n, **kw, **tgt)
    kf = accounting.fresh_steps_for(eps, d=d, **kw, **tgt)
    return {"steps_delete": kd, "steps_fresh": kf, "ratio": kd / max(kf, 1)}


# --------------------------------------------------------------------------- audits
@functools.lru_cache(maxsize=2)
def _digits_split():
    X, y = _data("digits", False)
    tr, te = train_test_split(len(y), 0.2, seed=0)
    return X, y, tr, te


@_single_blas
def audit(params: dict, seed: int) -> dict:
    """Digits MLP: original vs exact retrain on a random forget set of ``frac`` (0.1).

    Metrics: loss-MIA AUC / TPR at 1 % FPR / advantage (forget vs test) for both models,
    UA/RA/TA, the KS test on per-example forget losses against an ensemble member, and the
    U-LiRA audit z / p of both models against a retrain ensemble of ``ensemble`` (5) seeds.
    """
    params = check_params("audit", params)
    frac, m = float(_get(params, "frac", 0.1)), int(_get(params, "ensemble", 5))
    epochs = int(_get(params, "epochs", 20))
    X, y, tr, te = _digits_split()
    f, r = forget_split(y[tr], "random", frac, seed=seed)
    f, r = tr[f], tr[r]
    orig = retrain(X[tr], y[tr], seed=seed, epochs=epochs)
    ret = retrain(X[r], y[r], seed=seed + 10_000, epochs=epochs)
    ens = [retrain(X[r], y[r], seed=seed * 100 + 20_000 + j, epochs=epochs) for j in range(m)]
    idx = np.concatenate([f, te])
    ref = np.array([logit_confidence(e.proba(X[idx]), y[idx]) for e in ens])
    out = {}
    for name, net in [("orig", orig), ("retrain", ret)]:
        mia = loss_mia(net.losses(X[f], y[f]), net.losses(X[te], y[te]))
        acc = ua_ra_ta(net.predict(X[f]), y[f], net.predict(X[r]), y[r], net.predict(X[te]),
                       y[te])
        ks = forget_quality_ks(net.losses(X[f], y[f]), ens[0].losses(X[f], y[f]))
        au = ulira_audit(logit_confidence(net.proba(X[idx]), y[idx]), ref, n_forget=len(f))
        out.update({f"mia_auc_{name}": mia["auc"], f"tpr1_{name}": mia["tpr_at_fpr"],
                    f"mia_adv_{name}": mia["advantage"], f"forget_acc_{name}": acc["forget_acc"],
                    f"retain_acc_{name}": acc["retain_acc"], f"test_acc_{name}": acc["test_acc"],
                    f"ks_p_{name}": ks["ks_pvalue"], f"ulira_z_{name}": au["z"],
                    f"ulira_p_{name}": au["p_value"]})
    return out


# --------------------------------------------------------------------------- worst case
@functools.lru_cache(maxsize=2)
def _wc_original(seed, epochs):
    X, y, tr, _ = _digits_split()
    return retrain(X[tr], y[tr], seed=seed, epochs=epochs)


@functools.lru_cache(maxsize=8)
def _wc_select(sel, seed, frac, epochs, ulr):
    from .worstcase import lowest_loss_set, select_forget_set

    X, y, tr, _ = _digits_split()
    Xt, yt = X[tr], y[tr]
    orig = _wc_original(seed, epochs)
    m = int(round(frac * len(tr)))
    t0 = time.perf_counter()
    if sel == "random":
        f = forget_split(yt, "random", frac, seed=seed + 1)[0]
    elif sel == "lowest":
        f = lowest_loss_set(orig.losses(Xt, yt), m)
    elif sel == "bilevel":
        f, _ = select_forget_set(orig, Xt, yt, m, unlearn_lr=ulr, seed=seed)
    else:
        raise ValueError(f"selector must be 'random', 'lowest' or 'bilevel', got {sel!r}")
    return f, time.perf_counter() - t0


@functools.lru_cache(maxsize=8)
def _wc_ensemble(sel, seed, frac, epochs, ulr, m_ens):
    X, y, tr, _ = _digits_split()
    f, _ = _wc_select(sel, seed, frac, epochs, ulr)
    r = np.setdiff1d(np.arange(len(tr)), f)
    return [retrain(X[tr][r], y[tr][r], seed=seed * 100 + 50_000 + j, epochs=epochs)
            for j in range(m_ens)]


@_single_blas
def worstcase(params: dict, seed: int) -> dict:
    """Gap between approximate unlearning (fine-tuning or gradient ascent) and a retrain
    ensemble on a forget set chosen by ``selector`` ("random" | "lowest" | "bilevel").

    params: ``approx`` ("ft": fine-tuning on the retained data, ``ft_epochs`` 2 at ``ft_lr``
    1e-3; "ga": ``ga_steps`` (5) sign-gradient-ascent steps of ``ga_lr`` (1e-3) on the forget
    set), ``frac`` (0.1), ``ensemble`` (3),
    ``unlearn_lr`` (1e-2, the bi-level's lower-level sign-SGD step), ``epochs`` (20).
    Metrics: ``gap`` (mean TV distance of forget-set predictions to the ensemble mean),
    ``ref_spread`` (the ensemble's own), ``excess = gap − ref_spread``, ``gap_ratio =
    gap / ref_spread``, forget accuracies and selection time.
    """
    params = check_params("worstcase", params)
    sel = _get(params, "selector", "bilevel")
    frac, m_ens = float(_get(params, "frac", 0.1)), int(_get(params, "ensemble", 3))
    epochs = int(_get(params, "epochs", 20))
    ulr = float(_get(params, "unlearn_lr", 1e-2))
    X, y, tr, _ = _digits_split()
    Xt, yt = X[tr], y[tr]
    orig = _wc_original(seed, epochs)
    f, secs = _wc_select(sel, seed, frac, epochs, ulr)
    r = np.setdiff1d(np.arange(len(tr)), f)
    ens = _wc_ensemble(sel, seed, frac, epochs, ulr, m_ens)
    approx = _get(params, "approx", "ft")
    if approx == "ft":
        ft = orig.copy().train(Xt[r], yt[r], epochs=int(_get(params, "ft_epochs", 2)),
                               lr=float(_get(params, "ft_lr", 1e-3)), seed=seed)
    elif approx == "ga":
        ft = _gradient_ascent(orig, Xt[f], yt[f], int(_get(params, "ga_steps", 5)),
                              float(_get(params, "ga_lr", 1e-3)))
    else:
        raise ValueError(f"approx must be 'ft' or 'ga', got {approx!r}")
    g = retrain_gap(ft.proba(Xt[f]), np.array([e.proba(Xt[f]) for e in ens]))
    return {**g, "gap_ratio": g["gap"] / max(g["ref_spread"], 1e-12),
            "forget_acc_ft": float((ft.predict(Xt[f]) == yt[f]).mean()),
            "forget_acc_retrain": float(np.mean([(e.predict(Xt[f]) == yt[f]).mean()
                                                 for e in ens])),
            "select_seconds": secs}


def _gradient_ascent(net, Xf, yf, steps, lr):
    """Approximate unlearning by sign-gradient *ascent* on the forget set's loss."""
    net = net.copy()
    for _ in range(steps):
        _, (gW, gb, _, _) = net.ce_grad(Xf, yf)
        for i in range(len(net.weights)):
            net.weights[i] = net.weights[i] + lr * np.sign(gW[i])
            net.biases[i] = net.biases[i] + lr * np.sign(gb[i])
    return net


# --------------------------------------------------------------------------- GS-LoRA
@_single_blas
def gslora(params: dict, seed: int) -> dict:
    """Continual forgetting of ``n_tasks`` (4) class pairs on the digits MLP.

    params: ``alpha`` (1e-4), ``beta`` (1.0), ``bnd`` (10), ``rank`` (8), ``steps`` (200),
    ``proximal`` (False), ``epochs`` (20).  Metrics per task ``t``: ``forget_acc_t``,
    ``forget_acc_all_t``, ``retain_acc_t``, ``retain_drop_t``, ``h_mean_t``, ``zero_groups_t``.
    """
    params = check_params("gslora", params)
    from .gslora import continual_forget

    X, y, tr, te = _digits_split()
    base = _wc_original(seed, int(_get(params, "epochs", 20)))
    nt = int(_get(params, "n_tasks", 4))
    tasks = [(2 * i, 2 * i + 1) for i in range(nt)]
    res = continual_forget(base, tasks, X[tr], y[tr], X[te], y[te],
                           rank=int(_get(params, "rank", 8)),
                           alpha=float(_get(params, "alpha", 1e-4)),
                           beta=float(_get(params, "beta", 1.0)),
                           bnd=float(_get(params, "bnd", 10.0)),
                           steps=int(_get(params, "steps", 200)),
                           proximal=bool(_get(params, "proximal", False)), seed=seed)
    out = {}
    for t in res.tasks:
        i = t["task"]
        out.update({f"forget_acc_{i}": t["forget_acc"], f"forget_acc_all_{i}": t["forget_acc_all"],
                    f"retain_acc_{i}": t["retain_acc"],
                    f"retain_drop_{i}": t["base_retain_acc"] - t["retain_acc"],
                    f"h_mean_{i}": t["h_mean"], f"zero_groups_{i}": float(t["zero_groups"])})
    return out
