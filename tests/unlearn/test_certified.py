import math

import numpy as np
import pytest

from unlearn import accounting
from unlearn.certified import (
    DeletionService,
    empirical_epsilon,
    gaussian_renyi,
    influential_forget_set,
    noisy_gd,
)
from unlearn.data import load
from unlearn.models import LogReg

LAM, SIGMA = 1e-2, 0.05
ETA = 1 / (0.25 + LAM)


@pytest.fixture(scope="module")
def bc():
    return load("breast_cancer", unit_norm=True)


def test_sigma_zero_reaches_sklearn_optimum(bc):
    from sklearn.linear_model import LogisticRegression

    X, y = bc
    n = X.shape[0]
    ref = LogisticRegression(C=1 / (n * LAM), fit_intercept=False, tol=1e-12, max_iter=10_000)
    ref.fit(X, y)
    theta = noisy_gd(X, y, lam=LAM, sigma=0.0, eta=ETA, steps=1200, chains=2, seed=0)
    assert np.abs(theta - ref.coef_[0]).max() < 1e-4


def test_softmax_sigma_zero_reaches_sklearn_optimum():
    from sklearn.linear_model import LogisticRegression

    X, y = load("wine", unit_norm=True)
    n = X.shape[0]
    lam = 0.05
    ref = LogisticRegression(C=1 / (n * lam), fit_intercept=False, tol=1e-12, max_iter=10_000)
    ref.fit(X, y)
    theta = noisy_gd(X, y, lam=lam, sigma=0.0, eta=1 / (0.5 + lam), steps=1500, seed=0)
    assert np.abs(theta[0] - ref.coef_.ravel()).max() < 1e-4
    # the L-BFGS fit agrees too
    assert np.abs(LogReg(lam=lam, n_classes=3).fit(X, y) - ref.coef_.ravel()).max() < 1e-4


def test_shared_noise_contraction(bc):
    """Unlearned and retrained chains sharing one noise stream: ||θU-θR|| <= (1-ηλ)^K d0."""
    X, y = bc
    rng = np.random.default_rng(0)
    forget = rng.choice(X.shape[0], 20, replace=False)
    keep = np.setdiff1d(np.arange(X.shape[0]), forget)
    kw = dict(lam=LAM, sigma=SIGMA, eta=ETA, chains=6)
    th_a = noisy_gd(X, y, steps=2000, seed=1, **kw)
    th_r = noisy_gd(X[keep], y[keep], steps=2000, seed=2, **kw)
    K = 200
    tu, iu = noisy_gd(X[keep], y[keep], steps=K, theta0=th_a, seed=3, trace_every=1, **kw)
    tr, ir = noisy_gd(X[keep], y[keep], steps=K, theta0=th_r, seed=3, trace_every=1, **kw)
    dist = np.linalg.norm(iu["trace"] - ir["trace"], axis=2)  # (K+1, chains)
    d0 = dist[0]
    bound = (1 - ETA * LAM) ** np.arange(K + 1)[:, None] * d0
    assert np.all(dist <= bound * (1 + 1e-9) + 1e-12)
    # the GD map's contraction is nearly tight here (reference table: 0.53 vs 0.56 at K=50)
    assert np.all(dist[50] >= 0.5 * bound[50])


def test_bound_monotone():
    base = dict(k=5, n=500, lam=LAM, sigma=SIGMA, eta=ETA)
    e = lambda **kw: accounting.eps_dd(kw.pop("q", 2.0), kw.pop("steps", 100), **{**base, **kw})  # noqa: E731
    assert e(steps=200) < e(steps=100) < e(steps=0)
    assert e(sigma=0.1) < e(sigma=0.05)
    assert e(k=10) > e(k=5)
    assert e(q=4.0) > e(q=2.0)
    b = accounting.rdp_bounds(100, delta=1e-3, **base)
    assert b["eps_delta"] <= accounting.rdp_to_dp(b["eps_rdp"], 2.0, 1e-3)


@pytest.mark.parametrize(
    ("k", "q", "delta", "expected"),
    [(20, 2.0, None, 311), (20, None, 1 / 569, 2025), (1, None, 1 / 569, 718)],
)
def test_steps_for_matches_independent_check(k, q, delta, expected):
    K = accounting.steps_for(1.0, k=k, n=569, lam=LAM, sigma=SIGMA, eta=1 / 0.26, q=q,
                             delta=delta)
    assert K == expected


def test_steps_for_is_minimal_for_sequences():
    kw = dict(n=569, lam=LAM, sigma=SIGMA, eta=ETA)
    prev = [(3, 120), (5, 80)]
    K = accounting.steps_for(0.5, k=4, q=3.0, previous=prev, **kw)
    ks, Ks = [3, 5, 4], [120, 80]
    assert accounting.eps_sequence(3.0, ks, Ks + [K], **kw) <= 0.5
    assert accounting.eps_sequence(3.0, ks, Ks + [K - 1], **kw) > 0.5


def test_deletion_service_sequence_and_record(bc):
    X, y = bc
    svc = DeletionService(X, y, lam=LAM, sigma=SIGMA, chains=3, learn_steps=500, eps=1.0,
                          delta=1e-3, seed=0)
    r1 = svc.request([0, 1, 2])
    r2 = svc.request(np.array([10, 11]))  # adaptive: chosen after seeing r1
    for r in (r1, r2):
        rec = r.record
        assert rec.bound == "chien24-code" and not rec.bound_checked
        assert all(rec.assumptions.values()) and rec.certified is False
        assert rec.eps_delta <= 1.0 + 1e-9 and rec.steps > 0
        assert r.theta.shape == (3, 30)
    assert r2.record.n_before == 566 and r2.record.n_after == 564
    with pytest.raises(ValueError, match="already deleted"):
        svc.request([1])
    with pytest.raises(ValueError, match="out of range"):
        svc.request([569])
    with pytest.raises(ValueError, match="repeated"):
        svc.request([20, 20])
    with pytest.raises(ValueError, match="whole"):
        svc.request(np.flatnonzero(svc.active))
    with pytest.raises(ValueError, match="non-empty"):
        svc.request([])


def test_assumption_checks_can_fail():
    X, y = load("breast_cancer")  # standardised only: ||x|| > 1
    svc = DeletionService(X, y, lam=LAM, sigma=SIGMA, eta=5.0, learn_steps=20, steps=5,
                          seed=0)
    rec = svc.request([0]).record
    assert not rec.assumptions["norm_x_le_1"]
    assert not rec.assumptions["eta_le_1_over_beta_plus_lam"]
    assert not rec.assumptions["no_clipping"]
    assert not rec.assumptions["stationary"]
    assert rec.certified is False


@pytest.mark.parametrize(
    ("kw", "name"),
    [({"lam": 0.0}, "lam"), ({"sigma": -1.0}, "sigma"), ({"eta": 0.0}, "eta"),
     ({"steps": -1}, "steps"), ({"chains": 0}, "chains")],
)
def test_noisy_gd_bad_input(bc, kw, name):
    X, y = bc
    args = dict(lam=LAM, sigma=SIGMA, eta=ETA, steps=3)
    args.update(kw)
    with pytest.raises(ValueError, match=name):
        noisy_gd(X, y, **args)


def test_noisy_gd_shape_checks(bc):
    X, y = bc
    with pytest.raises(ValueError, match="y must have shape"):
        noisy_gd(X, y[:-1], lam=LAM, sigma=SIGMA, eta=ETA, steps=1)
    with pytest.raises(ValueError, match="theta0"):
        noisy_gd(X, y, lam=LAM, sigma=SIGMA, eta=ETA, steps=1, theta0=np.zeros(3))


def test_float32_matches_float64(bc):
    X, y = bc
    kw = dict(lam=LAM, sigma=0.0, eta=ETA, steps=300)
    a = noisy_gd(X, y, **kw)
    b = noisy_gd(X, y, dtype=np.float32, **kw)
    assert b.dtype == np.float32 and np.abs(a - b).max() < 1e-4


def test_gaussian_renyi_known_values():
    assert gaussian_renyi(0, 1, 0, 1, 2.0) == 0.0
    # equal variances: D_q = q Δ² / 2
    assert math.isclose(gaussian_renyi(1.0, 1.0, 0.0, 1.0, 3.0), 1.5)


def test_empirical_epsilon_detects_and_does_not_invent():
    rng = np.random.default_rng(0)
    same = empirical_epsilon(rng.normal(size=(400, 5)), rng.normal(size=(400, 5)), seed=0)
    assert same["eps_attack_lb"] < 0.5
    far = empirical_epsilon(rng.normal(size=(400, 5)) + 3, rng.normal(size=(400, 5)), seed=0)
    assert far["eps_attack_lb"] > 2.0 and far["renyi_fit"] > 5


def test_empirical_lower_bound_below_certified_bound(bc):
    """An attack's lower bound on ε must never exceed the (code-form) upper bound."""
    X, y = bc
    forget = influential_forget_set(X, y, 60, lam=LAM)
    keep = np.setdiff1d(np.arange(X.shape[0]), forget)
    kw = dict(lam=LAM, sigma=SIGMA, eta=ETA, chains=300, dtype=np.float32)
    th_a = noisy_gd(X, y, steps=800, seed=1, **kw)
    th_r = noisy_gd(X[keep], y[keep], steps=800, seed=2, **kw)
    delta = 1e-3
    for K in (0, 20, 60):
        th_u = noisy_gd(X[keep], y[keep], steps=K, theta0=th_a, seed=3, **kw)
        emp = empirical_epsilon(th_u, th_r, delta=delta, seed=0)
        ub = accounting.rdp_bounds(K, k=60, n=569, lam=LAM, sigma=SIGMA, eta=ETA,
                                   delta=delta)["eps_delta"]
        assert emp["eps_attack_lb"] <= ub
    # with K = 0 the 60-record deletion is plainly visible
    emp0 = empirical_epsilon(noisy_gd(X[keep], y[keep], steps=0, theta0=th_a, seed=3, **kw),
                             th_r, delta=delta, seed=0)
    assert emp0["eps_attack_lb"] > 1.0


def test_certified_only_when_bound_checked_and_all_assumptions_hold(bc, monkeypatch):
    """The flag is not hard-wired to False: it follows the bound's status and the checks."""
    X, y = bc
    kw = dict(lam=LAM, sigma=SIGMA, chains=2, learn_steps=500, seed=0)
    monkeypatch.setattr(accounting, "BOUND_CHECKED", True)
    rec = DeletionService(X, y, **kw).request([0, 1]).record
    assert all(rec.assumptions.values()) and rec.bound_checked and rec.certified is True
    # one failing assumption (a step size above 1/(β+λ)) withdraws it
    rec = DeletionService(X, y, eta=1.5 / (0.25 + LAM), **kw).request([0, 1]).record
    assert not rec.assumptions["eta_le_1_over_beta_plus_lam"] and rec.certified is False
    # as does an unfinished learning phase
    rec = DeletionService(X, y, **{**kw, "learn_steps": 10}).request([0, 1]).record
    assert not rec.assumptions["stationary"] and rec.certified is False
