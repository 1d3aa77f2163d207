import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from unlearn import experiments
from unlearn.models import MLP, LogReg
from unlearn.worstcase import lowest_loss_set, project_capped_simplex, select_forget_set


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-3, 3), min_size=2, max_size=40), st.data())
def test_projection_invariants(v, data):
    v = np.array(v)
    m = data.draw(st.integers(0, v.size))
    w = project_capped_simplex(v, m)
    assert abs(w.sum() - m) < 1e-6
    assert np.all(w >= 0) and np.all(w <= 1)
    # it is the Euclidean projection: no feasible point among random ones is closer
    rng = np.random.default_rng(0)
    for _ in range(5):
        u = project_capped_simplex(rng.normal(size=v.size), m)
        assert np.linalg.norm(w - v) <= np.linalg.norm(u - v) + 1e-6


def test_selection_on_softmax_regression_prefers_low_loss():
    from unlearn.data import load

    X, y = load("digits")
    model = LogReg(lam=1e-3, n_classes=10)
    theta = model.fit(X, y)
    losses = model.losses(theta[None], X, y)[0]
    m = 180
    idx, hist = select_forget_set(model, X, y, m, theta=theta, epochs=5, seed=0)
    assert idx.size == m and np.unique(idx).size == m
    assert hist.shape == (6, X.shape[0]) and np.allclose(hist.sum(1), m)
    # the selected set is low-loss (prototypical) points, as measured by the reference prototype
    assert losses[idx].mean() < 0.05 * losses.mean()
    assert np.intersect1d(idx, lowest_loss_set(losses, m)).size >= 0.8 * m
    idx2, _ = select_forget_set(model, X, y, m, theta=theta, lower="retrain", epochs=1, seed=0)
    assert idx2.size == m


def test_bilevel_set_beats_lowest_loss_on_the_retrain_gap():
    """Approximate unlearning drifts further from the retrain ensemble on the bi-level set
    than on the trivial lowest-loss set (every one of 3 seeds), for fine-tuning on the
    retained data and for gradient ascent; with gradient ascent it also drifts further than
    on a random set (the paper's point)."""
    excess = {}
    for s in range(3):
        for approx in ("ft", "ga"):
            for sel in ("random", "lowest", "bilevel"):
                r = experiments.worstcase({"selector": sel, "ensemble": 3, "approx": approx}, s)
                excess.setdefault((approx, sel), []).append(r["excess"])
    ex = {k: np.array(v) for k, v in excess.items()}
    assert np.all(ex["ft", "bilevel"] > ex["ft", "lowest"]), ex
    assert np.all(ex["ga", "bilevel"] > ex["ga", "lowest"]), ex
    assert np.all(ex["ga", "bilevel"] > ex["ga", "random"]), ex


def test_bad_input():
    net = MLP.init((4, 3, 2), seed=0)
    X = np.zeros((10, 4))
    y = np.zeros(10, int)
    with pytest.raises(ValueError, match="m must"):
        select_forget_set(net, X, y, 10)
    with pytest.raises(ValueError, match="lower"):
        select_forget_set(net, X, y, 2, lower="exact")
    with pytest.raises(ValueError, match="lower='retrain'"):
        select_forget_set(net, X, y, 2, lower="retrain")
    with pytest.raises(ValueError, match="theta"):
        select_forget_set(LogReg(lam=1.0), X, y, 2)
    with pytest.raises(TypeError, match="model"):
        select_forget_set(object(), X, y, 2)
    with pytest.raises(ValueError, match="m must"):
        lowest_loss_set(np.zeros(3), 0)
