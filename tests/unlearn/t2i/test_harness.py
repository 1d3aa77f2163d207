"""The evaluation harness: metrics, the combined score, CIs over seeds, the grid runner."""

from __future__ import annotations

import numpy as np
import pytest


def _metrics(**kw):
    base = {"erasure_train": 0.0, "erasure_heldout": 0.0, "others": 0.95, "others_ref": 0.95,
            "others_chance": 0.1, "related": 0.9, "related_ref": 0.9, "related_chance": 0.1,
            "fd_real": 1.0, "fd_real_ref": 1.0}
    base.update(kw)
    return base


def test_combined_score_is_low_for_no_op_and_erase_everything_and_high_for_a_clean_erasure():
    from unlearn.t2i.harness import combined_score

    clean = combined_score(_metrics())
    noop = combined_score(_metrics(erasure_train=0.98, erasure_heldout=0.95))
    everything = combined_score(_metrics(others=0.1, related=0.12, fd_real=9.0))
    assert clean == pytest.approx(1.0)
    assert noop < 0.1 and everything < 0.1
    # the worst way of asking counts: an attack that brings the target back lowers the score
    assert combined_score(_metrics(attack_recovery=0.9)) < 0.2
    # preservation losses lower it smoothly
    half = combined_score(_metrics(others=0.525))
    assert 0.5 < half < clean


def test_frechet_distance_known_answers():
    from unlearn.t2i.harness import frechet

    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 3))
    assert frechet(x, x) == 0.0
    assert frechet(x, x + np.array([3.0, 0.0, 4.0])) == pytest.approx(25.0)
    m = x.mean(axis=0)  # mean shift |m|^2, covariance term tr(S + 4S - 2*2S) = tr(S)
    assert frechet(x, 2 * x) == pytest.approx(m @ m + np.trace(np.cov(x, rowvar=False)), rel=1e-6)
    with pytest.raises(ValueError, match="a, b"):
        frechet(x[:1], x)


def test_plan_keeps_phrasing_sets_and_related_concepts_apart():
    from unlearn.t2i import data
    from unlearn.t2i.harness import plan

    groups = {g: (c, ps) for g, c, ps in plan("seven", 12)}
    assert {"erasure_train", "erasure_heldout", "erasure_implicit", "erasure_styled"} <= set(
        groups)
    assert "acc_seven" not in groups and "acc_bold" in groups
    assert not any("seven" in p or " 7" in p for p in groups["acc_bold"][1])
    assert set(groups["erasure_heldout"][1]) == set(data.prompts("seven", "heldout"))
    assert not set(data.prompts("seven", "heldout")) & set(data.prompts("seven", "train"))
    rel = data.related("seven")
    assert "six" in rel and "eight" in rel and "seven" not in rel
    assert data.related("bold") == ("slanted", "outlined")


def test_evaluate_no_op_and_erase_everything_score_low_and_uce_scores_higher(model,
                                                                             uce_seven):
    import torch

    from unlearn.t2i import erase, evaluate

    kw = {"seeds": [0], "images_per_set": 6, "steps": 10}
    noop = evaluate(erase(model, "seven", method="none"), "seven", **kw)["metrics"]
    wiped = model.copy()
    with torch.no_grad():
        for _, attn in wiped.cross_attentions():
            attn.to_v.weight.zero_()  # the prompt no longer reaches the denoiser
    wiped_m = evaluate(wiped, "seven", **kw)["metrics"]
    uce = evaluate(uce_seven, "seven", **kw)["metrics"]
    assert noop["params_changed"]["mean"] == 0
    assert noop["erasure_heldout"]["mean"] == noop["erasure_heldout_ref"]["mean"]
    assert noop["score"]["mean"] < 0.35
    assert wiped_m["others"]["mean"] < 0.4
    assert wiped_m["score"]["mean"] < 0.35
    assert uce["score"]["mean"] > max(noop["score"]["mean"], wiped_m["score"]["mean"]) + 0.3
    assert uce["seconds"]["mean"] > 0 and uce["params_changed"]["mean"] > 0
    for k in ("fd_real", "fd_real_ref", "fd_ref", "recovery_paraphrase", "related_ref"):
        assert np.isfinite(uce[k]["mean"])


def test_evaluate_reports_cis_over_seeds_and_a_style_target(model):
    from unlearn.t2i import evaluate

    res = evaluate(model, "bold", seeds=2, images_per_set=4, steps=6, attacks=())
    m = res["metrics"]
    assert res["seeds"] == [0, 1]
    assert m["erasure_train"]["n"] == 2 and len(m["erasure_train"]["values"]) == 2
    assert m["erasure_train"]["ci_low"] <= m["erasure_train"]["mean"] <= m["erasure_train"][
        "ci_high"]
    assert "content_kept" in m and "acc_seven" in m and "acc_bold" not in m
    assert "attack_recovery" not in m


def test_evaluate_bad_input(model):
    from unlearn.t2i import evaluate

    with pytest.raises(ValueError, match="seeds"):
        evaluate(model, "seven", seeds=[])
    with pytest.raises(ValueError, match="target"):
        evaluate(model, "", seeds=[0])
    with pytest.raises(TypeError, match="model"):
        evaluate("digits", "seven", seeds=[0])
    with pytest.raises(ValueError, match="images_per_set"):
        evaluate(model, "seven", seeds=[0], images_per_set=0)
    with pytest.raises(ValueError, match="attacks"):
        evaluate(model, "seven", seeds=[0], images_per_set=2, steps=2, attacks=["magic"])


def test_experiment_through_the_grid_runner_resumes(tmp_path):
    import sim
    from unlearn.t2i.harness import experiment

    out = tmp_path / "t2i.csv"
    params = [{"target": "seven", "method": "uce", "images_per_set": 3, "steps": 4,
               "attacks": []}]
    s1 = sim.run_grid(experiment, params, seeds=[0], out=out, progress=False)
    n_rows = len(out.read_text().splitlines())
    s2 = sim.run_grid(experiment, params, seeds=[0], out=out, progress=False)
    assert len(out.read_text().splitlines()) == n_rows  # nothing recomputed
    by = {s["metric"]: s["mean"] for s in s1}
    assert by == {s["metric"]: s["mean"] for s in s2}
    assert {"erasure_heldout", "others", "score", "seconds"} <= set(by)
