"""unlearn.attacks.invert_linear: the norm-budgeted circumvention attack, with known answers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize

from unlearn.attacks import invert_linear
from unlearn.closed_form import rece_embedding, uce


def _map(seed=0, d_out=5, d_in=12):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(d_out, d_in)), rng.normal(size=d_out), rng


def test_unbudgeted_attack_is_the_minimum_norm_solution():
    W, t, _ = _map()
    v = invert_linear(W, t, norm_budget=np.inf)
    np.testing.assert_allclose(W @ v, t, atol=1e-10)
    np.testing.assert_allclose(v, np.linalg.lstsq(W, t, rcond=None)[0], atol=1e-10)
    big = invert_linear(W, t, norm_budget=10 * np.linalg.norm(v))
    np.testing.assert_allclose(big, v, atol=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_budgeted_attack_matches_a_generic_constrained_solver(seed):
    W, t, rng = _map(seed, d_out=6, d_in=9)
    W[:, -1] = W[:, 0]  # rank-deficient columns do not matter
    x0 = 0.2 * rng.normal(size=9)
    B = 0.3 * np.linalg.norm(np.linalg.lstsq(W, t - W @ x0, rcond=None)[0])
    v = invert_linear(W, t, norm_budget=B, x0=x0)
    assert np.linalg.norm(v - x0) == pytest.approx(B, rel=1e-9)

    def f(x):
        return float(np.sum((W @ x - t) ** 2))

    ref = optimize.minimize(f, x0, jac=lambda x: 2 * W.T @ (W @ x - t), method="SLSQP",
                            constraints=[{"type": "ineq",
                                          "fun": lambda x: B**2 - np.sum((x - x0) ** 2)}],
                            options={"ftol": 1e-14, "maxiter": 500})
    assert f(v) <= f(ref.x) + 1e-8
    # KKT: the gradient points straight back into the ball, W'ᵀ(W'v − t) = −μ (v − x0), μ > 0
    g = W.T @ (W @ v - t)
    mu = -(g @ (v - x0)) / B**2
    assert mu > 0
    np.testing.assert_allclose(g, -mu * (v - x0), atol=1e-8)


def test_rows_zero_budget_and_regzero_equivalence():
    W, t, rng = _map(1, d_out=4, d_in=10)
    T = rng.normal(size=(3, 4))
    V = invert_linear(W, T, norm_budget=0.5)
    for i in range(3):
        np.testing.assert_allclose(V[i], invert_linear(W, T[i], norm_budget=0.5), atol=1e-12)
    assert not invert_linear(W, T, norm_budget=0.0).any()
    # RECE regzero with multiplier reg is the attack with the budget ||c'||
    W0 = rng.normal(size=(4, 10))
    c = rng.normal(size=10)
    W1 = uce(W0, c, np.zeros(10), None, lam=0.1)
    c_reg = rece_embedding(W1, W0, c, mode="regzero", reg=0.05)
    v = invert_linear(W1, W0 @ c, norm_budget=np.linalg.norm(c_reg))
    np.testing.assert_allclose(v, c_reg, atol=1e-8)


def test_attack_recovers_the_erased_output_unless_budgeted():
    """UCE hides a key's output; inversion finds another key that restores it."""
    rng = np.random.default_rng(2)
    W0 = rng.normal(size=(8, 30))
    c = rng.normal(size=30)
    c /= np.linalg.norm(c)
    W1 = uce(W0, c, np.zeros(30), rng.normal(size=(5, 30)), lam=1e-6)
    assert np.linalg.norm(W1 @ c) < 1e-4 * np.linalg.norm(W0 @ c)
    v = invert_linear(W1, W0 @ c, norm_budget=np.inf)
    assert np.linalg.norm(W1 @ v - W0 @ c) < 1e-8 * np.linalg.norm(W0 @ c)
    small = invert_linear(W1, W0 @ c, norm_budget=1e-3)
    assert np.linalg.norm(W1 @ small - W0 @ c) > 0.5 * np.linalg.norm(W0 @ c)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"W": np.ones(4)}, ValueError, "W"),
        ({"target": np.ones(3)}, ValueError, "target"),
        ({"target": np.ones((2, 2, 5))}, ValueError, "target"),
        ({"norm_budget": -1.0}, ValueError, "norm_budget"),
        ({"norm_budget": np.nan}, ValueError, "norm_budget"),
        ({"norm_budget": "big"}, TypeError, "norm_budget"),
        ({"x0": np.ones(3)}, ValueError, "x0"),
        ({"W": np.array([["a"]])}, TypeError, "W"),
    ],
)
def test_bad_input_names_the_argument(kwargs, exc, match):
    W, t, _ = _map()
    args = {"W": W, "target": t, "norm_budget": 1.0}
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        invert_linear(args.pop("W"), args.pop("target"), **args)
