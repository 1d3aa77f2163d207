import numpy as np
import pytest

from unlearn.data import forget_split, load, train_test_split
from unlearn.models import MLP, LogReg, LoRA


@pytest.mark.parametrize(("name", "shape"), [("digits", (1797, 64)), ("breast_cancer", (569, 30)),
                                             ("wine", (178, 13))])
def test_load(name, shape):
    X, y = load(name)
    assert X.shape == shape and y.shape == (shape[0],)
    assert np.allclose(X.mean(0), 0, atol=1e-9)
    Xu, _ = load(name, unit_norm=True)
    assert np.isclose(np.linalg.norm(Xu, axis=1).max(), 1.0)
    with pytest.raises(ValueError, match="name"):
        load("cifar10")


def test_forget_split_kinds_and_errors():
    y = np.repeat(np.arange(4), 10)
    f, r = forget_split(y, "random", 0.25, seed=0)
    assert f.size == 10 and np.intersect1d(f, r).size == 0 and f.size + r.size == 40
    f, _ = forget_split(y, "class", classes=[2])
    assert np.all(y[f] == 2) and f.size == 10
    f, _ = forget_split(y, [5, 1])
    assert list(f) == [1, 5]
    with pytest.raises(ValueError, match="out of range"):
        forget_split(y, [40])
    with pytest.raises(ValueError, match="repeated"):
        forget_split(y, [1, 1])
    with pytest.raises(ValueError, match="kind/frac: the forget set is empty"):
        forget_split(y, [])
    with pytest.raises(ValueError, match="kind/frac: the forget set is empty"):
        forget_split(y, "random", 0.01)
    with pytest.raises(ValueError, match="kind: the forget set is the whole"):
        forget_split(y, np.arange(40))
    with pytest.raises(ValueError, match="whole"):
        forget_split(y, "class", classes=[0, 1, 2, 3])
    with pytest.raises(ValueError, match="frac"):
        forget_split(y, "random", 0.0)
    with pytest.raises(ValueError, match="kind"):
        forget_split(y, "worst")
    tr, te = train_test_split(40, 0.25, seed=0)
    assert te.size == 10 and np.intersect1d(tr, te).size == 0


def _num_grad(f, x, eps=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        a = f()
        x[i] = old - eps
        b = f()
        x[i] = old
        g[i] = (a - b) / (2 * eps)
    return g


@pytest.mark.parametrize("C", [2, 3])
def test_logreg_gradient_matches_finite_differences(C):
    rng = np.random.default_rng(C)
    X = rng.normal(size=(30, 4)) / 3
    y = rng.integers(0, C, 30)
    m = LogReg(lam=0.3, n_classes=C)
    th = rng.normal(size=(2, m.n_params(4)))
    g, fired = m.grad(th, X, y)
    num = _num_grad(lambda: m.objective(th, X, y).sum(), th)
    assert not fired and np.allclose(g, num, atol=1e-6)


def test_clipping_bounds_per_example_gradients():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 3)) * 5
    y = rng.integers(0, 2, 20)
    m = LogReg(lam=0.1, clip=0.5)
    th = rng.normal(size=(1, 3))
    g, fired = m.grad(th, X, y)
    assert fired
    # the clipped mean gradient (minus λθ) has norm <= clip
    assert np.linalg.norm(g - 0.1 * th) <= 0.5 + 1e-12
    with pytest.raises(ValueError, match="lam"):
        LogReg(lam=0.0)
    with pytest.raises(ValueError, match="clip"):
        LogReg(lam=1.0, clip=-1.0)


def test_mlp_and_lora_gradients():
    rng = np.random.default_rng(0)
    net = MLP.init((5, 6, 4, 3), seed=0)
    lo = LoRA.init(net, rank=2, seed=1)
    for i in lo.layers:
        lo.B[i] = rng.normal(size=lo.B[i].shape) * 0.3
    X = rng.normal(size=(12, 5))
    y = rng.integers(0, 3, 12)
    _, (gW, gb, gA, gB) = net.ce_grad(X, y, lo)

    def f():
        return net.ce_grad(X, y, lo)[0]

    assert np.allclose(gW[1], _num_grad(f, net.weights[1]), atol=1e-6)
    assert np.allclose(gb[0], _num_grad(f, net.biases[0]), atol=1e-6)
    for i in lo.layers:
        assert np.allclose(gA[i], _num_grad(f, lo.A[i]), atol=1e-6)
        assert np.allclose(gB[i], _num_grad(f, lo.B[i]), atol=1e-6)
    merged = net.merge(lo)
    assert np.allclose(merged.logits(X), net.logits(X, lo))
    assert lo.layers == (0, 1) and lo.group_norms().shape == (2,)
    with pytest.raises(ValueError, match="layers"):
        LoRA.init(net, layers=[5])
    with pytest.raises(ValueError, match="sizes"):
        MLP.init((3,))
