"""Known answers for unlearn.closed_form (UCE, RECE, RealEra) on small random maps."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import linalg

from unlearn.closed_form import realera, realera_sets, rece, rece_embedding, uce, uce_many


def _problem(seed=0, d_out=16, d_in=40, k_e=3, k_p=6):
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(d_out, d_in))
    E = rng.normal(size=(k_e, d_in))
    G = rng.normal(size=(k_e, d_in))
    P = rng.normal(size=(k_p, d_in))
    return W, E, G, P


def _residuals(W, W2, E, G, P):
    erase = np.abs(W2 @ E.T - W @ G.T).max()
    preserve = np.abs(W2 @ P.T - W @ P.T).max()
    return erase, preserve


@pytest.mark.parametrize("seed", range(3))
def test_uce_exact_limit(seed):
    W, E, G, P = _problem(seed)
    W2 = uce(W, E, G, P, lam=1e-10)
    erase, preserve = _residuals(W, W2, E, G, P)
    assert erase < 1e-8 and preserve < 1e-8
    # directions orthogonal to every key are untouched
    Q = linalg.null_space(np.vstack([E, P]))
    np.testing.assert_allclose(W2 @ Q, W @ Q, atol=1e-8)


def test_uce_residual_is_linear_in_lambda():
    W, E, G, P = _problem(1)
    lams = np.array([1e-1, 1e-2, 1e-3, 1e-4])
    res = np.array([_residuals(W, uce(W, E, G, P, lam=lam), E, G, P) for lam in lams])
    for col in range(2):
        slope = np.polyfit(np.log(lams), np.log(res[:, col]), 1)[0]
        assert 0.8 <= slope <= 1.2, (col, slope, res[:, col])


@pytest.mark.parametrize("d_in", [40, 6])  # fewer / more keys (9) than input dimensions
def test_uce_matches_the_explicit_formula_and_is_a_stationary_point(d_in):
    W, E, G, P = _problem(2, d_in=d_in)
    lam, s_e, s_p = 0.5, 1.3, 0.4
    W2 = uce(W, E, G, P, lam=lam, s_erase=s_e, s_preserve=s_p)
    A = lam * np.eye(W.shape[1]) + s_e * E.T @ E + s_p * P.T @ P
    B = lam * W + s_e * (W @ G.T) @ E + s_p * (W @ P.T) @ P
    np.testing.assert_allclose(W2, linalg.solve(A, B.T, assume_a="pos").T, atol=1e-10)
    grad = lam * (W2 - W) + s_e * (W2 @ E.T - W @ G.T) @ E + s_p * (W2 @ P.T - W @ P.T) @ P
    assert np.abs(grad).max() < 1e-10


def test_uce_empty_erase_set_and_single_guide_row():
    W, E, G, P = _problem(3)
    assert np.array_equal(uce(W, np.zeros((0, W.shape[1])), None, P, lam=0.5), W)
    assert np.array_equal(uce(W, None, None, P, lam=0.5), W)
    one = uce(W, E, G[0], P, lam=0.3)
    np.testing.assert_allclose(one, uce(W, E, np.repeat(G[:1], len(E), 0), P, lam=0.3))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"W": np.ones(5)}, "W"),
        ({"erase_keys": np.ones((2, 7))}, "erase_keys"),
        ({"guide_keys": np.ones((2, 40))}, "guide_keys"),
        ({"guide_keys": np.ones((3, 9))}, "guide_keys"),
        ({"preserve_keys": np.ones((2, 39))}, "preserve_keys"),
        ({"lam": 0.0}, "lam"),
        ({"lam": -1.0}, "lam"),
        ({"s_erase": -1.0}, "s_erase"),
        ({"s_preserve": np.nan}, "s_preserve"),
        ({"erase_keys": np.full((3, 40), np.inf)}, "erase_keys"),
    ],
)
def test_uce_bad_input_names_the_argument(kwargs, match):
    W, E, G, P = _problem(0)
    args = {"W": W, "erase_keys": E, "guide_keys": G, "preserve_keys": P, "lam": 0.1}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        uce(args.pop("W"), args.pop("erase_keys"), args.pop("guide_keys"),
            args.pop("preserve_keys"), **args)


def test_rece_regzero_limit_recovers_the_original_output():
    W, E, G, P = _problem(4)
    W1 = uce(W, E, G, P, lam=0.1)
    c = rece_embedding(W1, W, E, mode="regzero", reg=1e-10)
    np.testing.assert_allclose(W1 @ c.T, W @ E.T, atol=1e-6)
    # "standard" is pulled to old_keys as reg grows; "surrogate" interpolates to c
    far = rece_embedding(W1, W, E, mode="standard", reg=1e8)
    np.testing.assert_allclose(far, E, atol=1e-5)


@pytest.mark.parametrize("d_out", [3, 30])  # both sides of the push-through identity
def test_rece_embedding_matches_the_primal_formulas(d_out):
    rng = np.random.default_rng(9)
    W0 = rng.normal(size=(d_out, 8))
    W1 = W0 + 0.3 * rng.normal(size=(d_out, 8))
    C = rng.normal(size=(4, 8))
    old = rng.normal(size=(4, 8))
    reg = 0.3
    M, N = W1.T @ W1, W1.T @ W0
    A = M + reg * np.eye(8)
    np.testing.assert_allclose(rece_embedding(W1, W0, C, mode="regzero", reg=reg),
                               linalg.solve(A, N @ C.T).T, atol=1e-10)
    np.testing.assert_allclose(
        rece_embedding(W1, W0, C, mode="standard", reg=reg, old_keys=old),
        linalg.solve(A, reg * old.T + N @ C.T).T, atol=1e-10)
    sur = rece_embedding(W1, W0, C, mode="surrogate", reg=reg)
    np.testing.assert_allclose(M @ sur.T * (1 + reg), (N + reg * M) @ C.T, atol=1e-9)


def test_rece_surrogate_full_rank_closed_form_and_layer_sum():
    rng = np.random.default_rng(5)
    W0 = rng.normal(size=(12, 6))
    W1 = W0 + 0.3 * rng.normal(size=(12, 6))
    c = rng.normal(size=6)
    reg = 0.7
    M, N = W1.T @ W1, W1.T @ W0
    expect = (linalg.solve(M, N @ c) + reg * c) / (1 + reg)
    np.testing.assert_allclose(rece_embedding(W1, W0, c, mode="surrogate", reg=reg), expect,
                               atol=1e-10)
    # a list of layers sums W'ᵀW' over layers, i.e. acts like the stacked map
    for mode in ("regzero", "standard", "surrogate"):
        split = rece_embedding([W1[:5], W1[5:]], [W0[:5], W0[5:]], c, mode=mode, reg=reg)
        np.testing.assert_allclose(split, rece_embedding(W1, W0, c, mode=mode, reg=reg),
                                   atol=1e-10)


def test_rece_bad_input():
    W, E, G, P = _problem(0)
    with pytest.raises(ValueError, match="mode"):
        rece_embedding(W, W, E, mode="nope")
    with pytest.raises(ValueError, match="W_edited"):
        rece_embedding(W[:3], W, E)
    with pytest.raises(ValueError, match="keys"):
        rece_embedding(W, W, E[:, :5])
    with pytest.raises(ValueError, match="reg"):
        rece_embedding(W, W, E, reg=0)
    with pytest.raises(ValueError, match="rounds"):
        rece(W, E, G, P, lam=0.1, rounds=-1)
    with pytest.raises(ValueError, match="base"):
        rece(W, E, G, P, lam=0.1, base="nope")
    with pytest.raises(ValueError, match="erase_keys"):
        rece(W, None, G, P, lam=0.1)


@pytest.mark.parametrize("base", ["current", "original"])
def test_rece_rounds_shrink_the_regzero_attack(base):
    W, E, G, P = _problem(6, d_out=16, d_in=40, k_e=2, k_p=4)
    res = rece(W, E, np.zeros(40), P, lam=0.01, rounds=4, base=base, reg=1e-3)
    assert len(res.maps) == 5 and len(res.embeddings) == 4
    assert res.W is res.maps[-1]
    # the erased keys stay erased (to the zero guide) and preserved keys are kept
    assert np.abs(res.W @ E.T).max() < 0.05 * np.abs(W @ E.T).max()
    assert np.abs(res.W @ P.T - W @ P.T).max() < 0.05 * np.abs(W @ P.T).max()
    # round 0 is plain UCE
    np.testing.assert_allclose(res.maps[0], uce(W, E, np.zeros(40), P, lam=0.01))


def test_realera_sets_respect_the_ball_and_the_cosine_bands():
    rng = np.random.default_rng(7)
    E = rng.normal(size=(3, 20))
    E /= np.linalg.norm(E, axis=1, keepdims=True)
    nb, owner, far = realera_sets(E, n_neighbours=50, radius=0.6, cos_band=(0.85, 0.98),
                                  n_beyond=40, beyond_radius=1.0, beyond_band=(0.5, 0.7),
                                  seed=1)
    assert nb.shape == (150, 20) and far.shape == (120, 20)
    np.testing.assert_array_equal(owner, np.repeat(np.arange(3), 50))
    base = E[owner]
    cos = (nb * base).sum(1) / np.linalg.norm(nb, axis=1)
    assert cos.min() >= 0.85 - 1e-9 and cos.max() <= 0.98 + 1e-9
    assert np.linalg.norm(nb - base, axis=1).max() <= 0.6 + 1e-9
    fbase = np.repeat(E, 40, axis=0)
    fcos = (far * fbase).sum(1) / np.linalg.norm(far, axis=1)
    assert fcos.min() >= 0.5 - 1e-9 and fcos.max() <= 0.7 + 1e-9
    assert np.linalg.norm(far - fbase, axis=1).max() <= 1.0 + 1e-9
    again = realera_sets(E, n_neighbours=50, n_beyond=40, seed=1)
    np.testing.assert_array_equal(again[0], nb)


def test_realera_sets_bad_input():
    E = np.eye(5)[:2]
    with pytest.raises(ValueError, match="cos_band"):
        realera_sets(E, radius=0.1, cos_band=(0.0, 0.9))  # cos >= 0.995 needed
    with pytest.raises(ValueError, match="beyond_band"):
        realera_sets(E, beyond_band=(0.9, 0.1))
    with pytest.raises(ValueError, match="radius"):
        realera_sets(E, radius=-1)
    with pytest.raises(ValueError, match="n_neighbours"):
        realera_sets(E, n_neighbours=-2)
    with pytest.raises(TypeError, match="mining"):
        realera(np.ones((3, 5)), E, E, None, lam=0.1, radiuss=0.3)


def test_realera_erases_the_neighbours_too():
    rng = np.random.default_rng(8)
    W = rng.normal(size=(30, 20))
    e = rng.normal(size=(1, 20))
    e /= np.linalg.norm(e)
    W2 = realera(W, e, np.zeros(20), None, lam=1e-6, seed=3, n_neighbours=10, n_beyond=0)
    nb, _, _ = realera_sets(e, n_neighbours=10, n_beyond=0, seed=3)
    assert np.abs(W2 @ nb.T).max() < 1e-4 * np.abs(W @ nb.T).max()


@pytest.mark.parametrize("seed", range(2))
def test_uce_is_exact_in_the_small_lambda_limit_on_minilm_keys(seed):
    """UCE's exact limit on real MiniLM sentence keys (8 prompts of "seven" erased towards
    "a handwritten digit", 72 prompts of the other digits preserved) through a random
    384 -> 64 map; the residual is linear in lam once lam is below the keys' smallest
    squared singular value."""
    from unlearn.embed import MiniLM
    from unlearn.t2i import data  # prompt lists only; no torch

    texts = [p for d in data.DIGITS for p in data.prompts(d, "train")[:8]]
    K = MiniLM().encode(texts + ["a handwritten digit"]).astype(np.float64)
    keys, guide = K[:-1].reshape(10, 8, -1), K[-1]
    E, P = keys[7], np.delete(keys, 7, axis=0).reshape(-1, K.shape[1])
    W = np.random.default_rng(seed).normal(size=(64, K.shape[1]))
    target = W @ guide
    W2 = uce(W, E, guide, P, lam=1e-10)
    assert np.abs(W2 @ E.T - target[:, None]).max() < 1e-7
    assert np.abs(W2 @ P.T - W @ P.T).max() < 1e-7
    lams = np.array([1e-6, 1e-7, 1e-8, 1e-9])
    res = []
    for lam in lams:
        W3 = uce(W, E, guide, P, lam=lam)
        res.append([np.abs(W3 @ E.T - target[:, None]).max(), np.abs(W3 @ P.T - W @ P.T).max()])
    res = np.array(res)
    for col in range(2):
        slope = np.polyfit(np.log(lams), np.log(res[:, col]), 1)[0]
        assert 0.8 <= slope <= 1.2


@pytest.mark.parametrize("n_preserve", [3, 40])  # push-through (k <= d_in) and full solve
def test_uce_many_equals_uce_map_by_map(n_preserve):
    rng = np.random.default_rng(11)
    Ws = [rng.normal(size=(d_out, 12)) for d_out in (4, 7, 12)]
    E, G, P = rng.normal(size=(3, 12)), rng.normal(size=(3, 12)), rng.normal(size=(n_preserve, 12))
    many = uce_many(Ws, E, G, P, lam=0.3, s_erase=2.0, s_preserve=0.5)
    assert len(many) == 3
    for W, Wm in zip(Ws, many):
        assert np.allclose(Wm, uce(W, E, G, P, lam=0.3, s_erase=2.0, s_preserve=0.5),
                           atol=1e-12)
        assert not np.allclose(Wm, W)


def test_uce_many_bad_input_names_the_argument():
    rng = np.random.default_rng(0)
    E = rng.normal(size=(2, 5))
    with pytest.raises(ValueError, match=r"Ws\[1\] has 4 input columns"):
        uce_many([np.ones((3, 5)), np.ones((3, 4))], E, E, None, lam=0.5)
    with pytest.raises(TypeError, match="Ws must be a non-empty list"):
        uce_many([], E, E, None, lam=0.5)
    with pytest.raises(TypeError, match="Ws must be a non-empty list"):
        uce_many(np.ones((3, 5)), E, E, None, lam=0.5)
    with pytest.raises(ValueError, match=r"Ws\[0\] must be finite"):
        uce_many([np.full((3, 5), np.nan)], E, E, None, lam=0.5)
