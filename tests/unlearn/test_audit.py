"""Audits that can fail: original vs retrained digits MLPs, paired over 10 seeds."""

import numpy as np
import pytest

from unlearn import experiments
from unlearn.metrics import (
    forget_quality_ks,
    h_mean,
    logit_confidence,
    loss_mia,
    paired_advantage_test,
    param_distance,
    retrain_gap,
    roc_auc,
    ua_ra_ta,
    ulira_audit,
)


@pytest.fixture(scope="module")
def runs():
    return [experiments.audit({"frac": 0.1, "ensemble": 4, "epochs": 20}, s) for s in range(10)]


def test_original_mia_advantage_is_significant(runs):
    orig = [r["mia_auc_orig"] for r in runs]
    ret = [r["mia_auc_retrain"] for r in runs]
    t = paired_advantage_test(orig, ret)
    assert t["p_wilcoxon"] < 0.01, t
    assert t["n_higher"] >= 9


def test_exact_retrain_is_indistinguishable_from_ensemble(runs):
    p = np.array([r["ulira_p_retrain"] for r in runs])
    # under the null p is ~uniform: at most a Bonferroni-safe handful below 0.01
    assert (p < 0.01).sum() <= 1, p
    ks = np.array([r["ks_p_retrain"] for r in runs])
    assert np.median(ks) > 0.05
    # the original sits above the ensemble more often than a retrain does
    z_o = np.array([r["ulira_z_orig"] for r in runs])
    z_r = np.array([r["ulira_z_retrain"] for r in runs])
    assert paired_advantage_test(z_o, z_r)["p_wilcoxon"] < 0.05


def test_loss_mia_known_answers():
    r = loss_mia(np.zeros(100), np.ones(100))
    assert r["auc"] == 1.0 and r["tpr_at_fpr"] == 1.0 and r["advantage"] == 1.0
    r = loss_mia(np.ones(50), np.ones(50))
    assert r["auc"] == 0.5 and r["advantage"] == 0.0
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=300), rng.normal(size=300) + 1
    assert abs(roc_auc(b, a) - 0.76) < 0.06  # Φ(1/√2) = 0.760


def test_ulira_flags_a_shifted_model():
    rng = np.random.default_rng(1)
    ref = rng.normal(size=(8, 200)) + rng.normal(size=200)
    shifted = ref.mean(0) + 1.0
    assert ulira_audit(shifted, ref)["p_value"] < 0.01
    same = ref.mean(0) + rng.normal(size=200)
    assert ulira_audit(same, ref)["p_value"] > 0.01
    with pytest.raises(ValueError, match="ref_out"):
        ulira_audit(np.zeros(3), np.zeros((2, 3)))


def test_small_metrics():
    assert h_mean(0.0, 0.0) == 0.0 and h_mean(1.0, 1.0) == 1.0
    acc = ua_ra_ta([1, 1], [1, 0], [0], [0], [2, 2], [2, 1])
    assert acc == {"forget_acc": 0.5, "retain_acc": 1.0, "test_acc": 0.5, "ua": 0.5}
    with pytest.raises(ValueError, match="pred_forget"):
        ua_ra_ta([1], [1, 0], [0], [0], [2], [2])
    g = retrain_gap(np.array([[1.0, 0.0]]), np.array([[[0.0, 1.0]], [[0.0, 1.0]]]))
    assert g["gap"] == 1.0 and g["ref_spread"] == 0.0
    assert param_distance(np.ones(3), np.ones((3, 3)))["dist"] == 0.0
    assert forget_quality_ks(np.arange(50.0), np.arange(50.0))["ks_pvalue"] == 1.0
    c = logit_confidence(np.array([[0.5, 0.5], [0.9, 0.1]]), np.array([0, 0]))
    assert np.allclose(c, [0.0, np.log(9)])
