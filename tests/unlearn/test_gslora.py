import numpy as np
import pytest

from unlearn.data import load, train_test_split
from unlearn.gslora import continual_forget
from unlearn.models import retrain


@pytest.fixture(scope="module")
def setup():
    X, y = load("digits")
    tr, te = train_test_split(len(y), 0.2, seed=0)
    base = retrain(X[tr], y[tr], seed=0, epochs=20)
    return base, X[tr], y[tr], X[te], y[te]


def test_continual_forgetting_meets_targets(setup):
    base, X, y, Xt, yt = setup
    res = continual_forget(base, [(0, 1), (2, 3), (4, 5)], X, y, Xt, yt, seed=0)
    for t in res.tasks:
        assert t["forget_acc"] <= 0.1 and t["forget_acc_all"] <= 0.1, t
        assert t["retain_acc"] >= t["base_retain_acc"] - 0.05, t
        assert t["h_mean"] > 0.9
    # the base model is untouched
    assert (base.predict(Xt) == yt).mean() > 0.95


def test_huge_group_penalty_returns_base_model(setup):
    base, X, y, Xt, yt = setup
    res = continual_forget(base, [(0, 1), (2, 3)], X, y, Xt, yt, alpha=1e6, proximal=True,
                           steps=30, seed=0)
    for t in res.tasks:
        assert t["zero_groups"] == 2 and np.all(t["group_norms"] == 0)
    for w0, w1 in zip(base.weights, res.model.weights):
        assert np.array_equal(w0, w1)


def test_proximal_small_alpha_still_forgets(setup):
    base, X, y, Xt, yt = setup
    res = continual_forget(base, [(8, 9)], X, y, Xt, yt, alpha=1e-3, proximal=True, seed=1)
    assert res.tasks[0]["forget_acc"] <= 0.1


def test_bad_input(setup):
    base, X, y, Xt, yt = setup
    with pytest.raises(ValueError, match="tasks"):
        continual_forget(base, [], X, y, Xt, yt)
    with pytest.raises(ValueError, match="tasks"):
        continual_forget(base, [(11,)], X, y, Xt, yt)
    with pytest.raises(ValueError, match="alpha"):
        continual_forget(base, [(0,)], X, y, Xt, yt, alpha=-1)
    with pytest.raises(ValueError, match="features"):
        continual_forget(base, [(0,)], X[:, :10], y, Xt, yt)
    with pytest.raises(ValueError, match="every class"):
        continual_forget(base, [tuple(range(10))], X, y, Xt, yt, steps=1)
