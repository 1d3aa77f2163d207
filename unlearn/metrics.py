"""Unlearning metrics and audits, with the retrain ensemble as the reference.

* :func:`ua_ra_ta` — forget / retain / test accuracy (and UA = 1 − forget accuracy);
* :func:`loss_mia` — loss-threshold membership inference: AUC, TPR at 1 % FPR, advantage;
* :func:`paired_advantage_test` — one-sided paired test over seeds (original vs retrained);
* :func:`ulira_audit` — U-LiRA-style per-example audit of one model against a retrain
  ensemble (Hayes et al., SaTML'25), with a model-level predictive-t p-value;
* :func:`retrain_gap`, :func:`param_distance` — distance to retrained models;
* :func:`forget_quality_ks` — the two-sample **KS test on per-example losses** (TOFU's
  "forget quality"), labelled as such;
* :func:`h_mean` — GS-LoRA's model-selection H-mean.

Examples
--------
>>> import numpy as np
>>> from unlearn.metrics import loss_mia
>>> r = loss_mia(np.array([0.1, 0.2, 0.3]), np.array([0.25, 0.5, 0.9]))
>>> round(r["auc"], 3)
0.889
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from sim.validate import check_float_array, check_int

__all__ = [
    "forget_quality_ks",
    "h_mean",
    "logit_confidence",
    "loss_mia",
    "paired_advantage_test",
    "param_distance",
    "retrain_gap",
    "roc_auc",
    "ua_ra_ta",
    "ulira_audit",
]


def _1d(a, name):
    a = check_float_array(name, a)  # NaN/inf refused: they would sort anywhere
    if a.ndim != 1 or a.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {a.shape}")
    return a


def ua_ra_ta(pred_forget, y_forget, pred_retain, y_retain, pred_test, y_test) -> dict:
    """Forget, retain and test accuracy from predictions; ``ua = 1 − forget_acc``."""
    out = {}
    for name, p, t in [("forget", pred_forget, y_forget), ("retain", pred_retain, y_retain),
                       ("test", pred_test, y_test)]:
        p, t = np.asarray(p), np.asarray(t)
        if p.shape != t.shape:
            raise ValueError(f"pred_{name} and y_{name} shapes differ: {p.shape} vs {t.shape}")
        out[f"{name}_acc"] = float((p == t).mean()) if t.size else float("nan")
    out["ua"] = 1.0 - out["forget_acc"]
    return out


def roc_auc(pos_scores, neg_scores) -> float:
    """P(score_pos > score_neg) + ½ P(tie) (Mann–Whitney)."""
    a, b = _1d(pos_scores, "pos_scores"), _1d(neg_scores, "neg_scores")
    r = stats.rankdata(np.concatenate([a, b]))
    return float((r[: a.size].sum() - a.size * (a.size + 1) / 2) / (a.size * b.size))


def loss_mia(member_losses, nonmember_losses, *, fpr: float = 0.01) -> dict:
    """Loss-threshold membership inference (lower loss ⇒ "member").

    Returns ``auc``, ``tpr_at_fpr`` (largest TPR with empirical FPR ≤ ``fpr``) and
    ``advantage`` (max TPR − FPR).
    """
    m = -_1d(member_losses, "member_losses")
    nm = -_1d(nonmember_losses, "nonmember_losses")
    if not 0 < fpr < 1:
        raise ValueError(f"fpr must lie in (0, 1), got {fpr}")
    thr = np.unique(np.concatenate([m, nm]))[::-1]
    sm, snm = np.sort(m), np.sort(nm)
    tpr = (m.size - np.searchsorted(sm, thr, side="left")) / m.size
    fp = (nm.size - np.searchsorted(snm, thr, side="left")) / nm.size
    ok = fp <= fpr
    return {
        "auc": roc_auc(m, nm),
        "tpr_at_fpr": float(tpr[ok].max()) if ok.any() else 0.0,
        "advantage": float(np.max(tpr - fp)),
    }


def paired_advantage_test(original, retrained) -> dict:
    """One-sided paired tests that ``original > retrained`` (e.g. MIA AUC over seeds).

    Returns the exact Wilcoxon signed-rank p-value, the paired t-test p-value, the number of
    seeds where the original is higher, and the mean difference.
    """
    a, b = _1d(original, "original"), _1d(retrained, "retrained")
    if a.shape != b.shape:
        raise ValueError(f"original and retrained must pair up, got {a.shape} vs {b.shape}")
    d = a - b
    w = stats.wilcoxon(d, alternative="greater")
    t = stats.ttest_rel(a, b, alternative="greater")
    return {"p_wilcoxon": float(w.pvalue), "p_ttest": float(t.pvalue),
            "n_higher": int((d > 0).sum()), "n": int(d.size), "mean_diff": float(d.mean())}


def logit_confidence(probs, y) -> np.ndarray:
    """LiRA's statistic ``log p_y − log(1 − p_y)`` per example (stable, clipped)."""
    probs = np.asarray(probs, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    if probs.ndim < 2 or probs.shape[-2] != y.size:
        raise ValueError(f"probs must be (..., n, C) with n = {y.size}, got {probs.shape}")
    py = np.take_along_axis(probs, np.broadcast_to(y[:, None], probs.shape[:-1] + (1,)),
                            axis=-1)[..., 0]
    py = np.clip(py, 1e-15, 1 - 1e-15)
    return special.logit(py)


def ulira_audit(target, ref_out, ref_in=None, *, n_forget: int | None = None) -> dict:
    """Per-example audit of a model against a retrain ensemble (U-LiRA style).

    Parameters
    ----------
    target : (n,) statistic of the audited model on the forget examples (e.g.
        :func:`logit_confidence`).
    ref_out : (m, n) the same statistic from ``m >= 3`` models retrained without them.
    ref_in : optional (m', n) from models trained *with* them (e.g. originals of other seeds).
    n_forget : if given, only the first ``n_forget`` columns are forget examples and the rest
        are control examples that no model trained on (e.g. test points); the model-level
        statistic is then ``mean t(forget) − mean t(control)``, which removes the
        model-wide confidence shift between training runs.

    Returns
    -------
    dict with ``t`` (per-example predictive t-scores against the out-Gaussian), ``mean_t``,
    ``p_value`` (two-sided: is the audited model's ``mean_t`` typical of a retrained model?
    Compared with the leave-one-out ``mean_t`` of the ensemble members by a predictive
    t-test with ``m − 1`` degrees of freedom), and, with ``ref_in``, ``frac_in``: the share of
    examples whose Gaussian likelihood ratio favours "trained on".
    """
    target = _1d(target, "target")
    ref_out = check_float_array("ref_out", ref_out)
    if ref_out.ndim != 2 or ref_out.shape[1] != target.size or ref_out.shape[0] < 3:
        raise ValueError(f"ref_out must be (m >= 3, {target.size}), got {ref_out.shape}")
    m = ref_out.shape[0]
    nf = target.size if n_forget is None else check_int("n_forget", n_forget)
    if not 0 < nf <= target.size or (n_forget is not None and nf == target.size):
        raise ValueError(f"n_forget must lie in [1, {target.size}), got {n_forget}")

    def tscore(x, ref):
        mu = ref.mean(0)
        sd = np.maximum(ref.std(0, ddof=1), 1e-6)
        return (x - mu) / (sd * np.sqrt(1 + 1 / ref.shape[0]))

    def stat(t):
        return t[:nf].mean() - (t[nf:].mean() if nf < t.size else 0.0)

    t = tscore(target, ref_out)
    loo = np.array([stat(tscore(ref_out[j], np.delete(ref_out, j, axis=0))) for j in range(m)])
    z = (stat(t) - loo.mean()) / (max(loo.std(ddof=1), 1e-12) * np.sqrt(1 + 1 / m))
    p = float(2 * stats.t.sf(abs(z), df=m - 1))
    out = {"t": t[:nf], "mean_t": float(stat(t)), "z": float(z), "p_value": p,
           "loo_mean_t": loo}
    if ref_in is not None:
        ref_in = check_float_array("ref_in", ref_in)
        if ref_in.ndim != 2 or ref_in.shape[1] != target.size or ref_in.shape[0] < 2:
            raise ValueError(f"ref_in must be (m >= 2, {target.size}), got {ref_in.shape}")

        def logpdf(x, ref):
            return stats.norm.logpdf(x, ref.mean(0), np.maximum(ref.std(0, ddof=1), 1e-6))

        lr = (logpdf(target, ref_in) - logpdf(target, ref_out))[:nf]
        out["llr"] = lr
        out["frac_in"] = float((lr > 0).mean())
    return out


def retrain_gap(probs, ref_probs) -> dict:
    """Distance of a model's outputs to a retrain ensemble's.

    ``probs`` (n, C); ``ref_probs`` (m, n, C).  ``gap`` is the mean total-variation distance
    to the ensemble mean; ``ref_spread`` the same for each member against the others (the
    distance an exact retrain would show); ``excess = gap − ref_spread``.
    """
    probs = check_float_array("probs", probs)
    ref = check_float_array("ref_probs", ref_probs)
    if ref.ndim != 3 or ref.shape[1:] != probs.shape or ref.shape[0] < 2:
        raise ValueError(f"ref_probs must be (m >= 2, {probs.shape}), got {ref.shape}")
    gap = 0.5 * np.abs(probs - ref.mean(0)).sum(-1).mean()
    spread = np.mean([0.5 * np.abs(ref[j] - np.delete(ref, j, 0).mean(0)).sum(-1).mean()
                      for j in range(ref.shape[0])])
    return {"gap": float(gap), "ref_spread": float(spread), "excess": float(gap - spread)}


def param_distance(theta, ref_thetas) -> dict:
    """L2 distance of parameters to the ensemble mean, and the members' own (LOO) distance."""
    theta = check_float_array("theta", theta).ravel()
    ref = check_float_array("ref_thetas", ref_thetas)
    ref = ref.reshape(len(ref), -1)
    if ref.shape[1] != theta.size or ref.shape[0] < 2:
        raise ValueError("ref_thetas must be (m >= 2, p) matching theta")
    d = float(np.linalg.norm(theta - ref.mean(0)))
    loo = np.mean([np.linalg.norm(ref[j] - np.delete(ref, j, 0).mean(0))
                   for j in range(ref.shape[0])])
    return {"dist": d, "ref_dist": float(loo)}


def forget_quality_ks(losses, ref_losses) -> dict:
    """Two-sample **KS test on per-example losses** (TOFU's forget quality).

    Returns the KS statistic and p-value against a retrained model's losses on the same
    examples (a large p-value means the distributions are not distinguishable).
    """
    a, b = _1d(losses, "losses"), _1d(ref_losses, "ref_losses")
    r = stats.ks_2samp(a, b)
    return {"ks_stat": float(r.statistic), "ks_pvalue": float(r.pvalue)}


def h_mean(forget_drop: float, retain_acc: float) -> float:
    """``H = 2 Δ_f A_r / (Δ_f + A_r)`` (0 when both are 0)."""
    s = forget_drop + retain_acc
    return 0.0 if s <= 0 else float(2 * forget_drop * retain_acc / s)
