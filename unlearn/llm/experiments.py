"""Metric experiments for :func:`sim.run_grid` (tidy CSV, resumable): one forget + audit.

:func:`rtbf` runs ``forget(pretrained(), forget_split(split), method=..., seed=seed)`` and
``audit(..., retain_model=retain_model(split), seed=seed)``; its rows carry every audit
number plus ``seconds`` (the cost of producing the model: the forget call, or for
``retrain`` and ``dp`` the training time).  For ``retrain`` the seed varies the audit, not
the retraining: the reference is the shipped retain model (same recipe, seed 0), so its
forget quality is 1 by construction.
"""

from __future__ import annotations

from .corpus import forget_split

__all__ = ["rtbf", "table_metrics"]

#: Metrics of the method table, in order.
table_metrics = ("forget_quality", "utility", "extraction", "extraction_paraphrase",
                 "extraction_indirect", "relearn_extraction", "mia_auc", "mia_auc_mink",
                 "seconds")

_MODELS: dict = {}


def _shipped(name):
    from .weights import load

    if name not in _MODELS:
        _MODELS[name] = load(name)
    return _MODELS[name]


def rtbf(params: dict, seed: int) -> dict:
    """``params``: ``method`` (a forget method, or ``"none"`` for the original model),
    ``split`` and method options (``steps``, ``epsilon``, ...);
    ``relearn`` (default true) runs the relearning attack; ``light`` keeps only forget
    quality and utility."""
    from .auditing import audit
    from .methods import forget

    params = dict(params)
    method = params.pop("method")
    split = params.pop("split", "forget10")
    relearn = bool(params.pop("relearn", True))
    light = bool(params.pop("light", False))
    fs = forget_split(split)
    model = _shipped("original")
    ref = _shipped(f"retain-{split}")
    if method == "none":  # the original model, audited as if it had forgotten
        out = model.copy()
        out.meta["forget_seconds"] = 0.0
    else:
        extra = {"retain_model": ref} if method == "retrain" else {}
        out = forget(model, fs, method=method, seed=seed, **extra, **params)
    if light:  # forget quality and utility only
        res = audit(out, fs, retain_model=ref, seed=seed, attacks=(), relearn=False, mia=False)
    else:
        res = audit(out, fs, retain_model=ref, seed=seed, relearn=relearn)
    if method == "retrain":
        from .weights import manifest

        res["seconds"] = float(manifest()[f"retain-{split}"]["train_seconds"])
    elif method == "dp":
        res["seconds"] = float(out.meta["train_seconds"])
        res["dp_epsilon"] = float(out.meta["dp_epsilon"])
        res["dp_sigma"] = float(out.meta["dp_sigma"])
    else:
        res["seconds"] = float(out.meta["forget_seconds"])
    return {k: float(v) for k, v in res.items()}
