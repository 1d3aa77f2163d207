"""Recurrent Hebbian network: kernel vs reference, emergence of the clique memory."""

from __future__ import annotations

import numpy as np
import pytest

from hebbian import CliqueNetwork, RecurrentHebbian
from hebbian import _recurrent_kernels as RK
from hebbian.noise import ReleaseNoise
from hebbian.recurrent import (
    LearnedCliqueNetwork,
    edge_metrics,
    ideal_adjacency,
)
from tests.hebbian.reference_recurrent import present as ref_present


def _random_case(rng, C, L, M, steps, with_spont):
    n = C * L
    W = np.zeros((n, n), np.float32)
    # a mix of stable links, transients and zeros, inter-cluster only
    cl = np.arange(n) // L
    r = rng.random((n, n))
    W[r < 0.05] = 1.0
    tr = (r >= 0.05) & (r < 0.10)
    W[tr] = rng.random(int(tr.sum())).astype(np.float32)
    W[cl[:, None] == cl[None, :]] = 0.0
    pos = rng.integers(0, L, size=(M, C))
    inputs = np.where(rng.random((M, C)) < 0.3, -1, pos + np.arange(C) * L).astype(np.int64)
    if with_spont:
        lit = rng.random((M, steps, C)) < 0.2
        spont = np.where(lit, rng.integers(0, L, size=lit.shape), -1).astype(np.int64)
    else:
        spont = np.zeros((0, 1, 1), np.int64)
    return W, inputs, spont


_PRESENT_ARGS = ("inputs", "spont", "drive", "gamma", "eps", "steps", "cap", "per_cluster",
                 "plastic", "clamp", "stable", "prune", "seed", "step0", "n_syn", "p_rel")


def _present(fn, W, L, **named):
    """Call the kernel ``RK.present`` or its reference with named arguments (the long
    positional signature is spelled out here only); returns (messages, winners, steps)."""
    args = [named.pop(k) for k in _PRESENT_ARGS]
    assert not named, named
    if fn is not RK.present:
        return fn(W, L, *args)
    M, C = args[0].shape
    out = (np.empty((M, C), np.int64), np.empty((M, C), np.int64), np.empty(M, np.int64))
    fn(W, L, *args, *out)
    return out


@pytest.mark.parametrize("case", range(8))
def test_kernel_matches_reference(case):
    rng = np.random.default_rng(100 + case)
    C, L, M, steps = 4, 5, 3, 7
    with_spont = case % 2 == 1
    per_cluster = case % 4 < 2
    plastic = case != 6
    clamp = case == 5
    stable = 2 if case in (2, 3) else 0
    n_syn, p_rel = (3, 0.5) if case == 7 else (0, 1.0)
    cap = 3 if case % 3 == 0 else C
    W, inputs, spont = _random_case(rng, C, L, M, steps, with_spont)
    Wk, Wr = W.copy(), W.copy()
    seed = np.uint64(12345 + case)
    named = dict(inputs=inputs, spont=spont, drive=4.0, gamma=1.0, eps=0.141, steps=steps,
                 cap=cap, per_cluster=per_cluster, plastic=plastic, clamp=clamp,
                 stable=stable, prune=1e-4, seed=seed, step0=17, n_syn=n_syn, p_rel=p_rel)
    om, ow, os_ = _present(RK.present, Wk, L, **named)
    rm, rw, rs = _present(ref_present, Wr, L, **named)
    np.testing.assert_array_equal(Wk, Wr)
    np.testing.assert_array_equal(om, rm)
    np.testing.assert_array_equal(ow, rw)
    np.testing.assert_array_equal(os_, rs)


def test_link_needs_about_54_coactivations():
    # two clusters, one message driven for T steps (one co-activation per step): the
    # link passes the 0.8 threshold at the 54th co-activation and reaches 1 at the 55th
    w = {}
    for T in (53, 54, 55):
        net = RecurrentHebbian(2, 3, steps=T, seed=0).learn([[0, 1]])
        w[T] = float(net.weights[0, 3 + 1])
        assert net.weights[4, 0] == w[T]  # symmetric growth
    assert w[53] < 0.8 < 0.99 < w[54] < 1.0 == w[55]


def test_clean_input_learns_the_ideal_clique_graph():
    # emergence check: chi = c = 8, l = 32, M ~ 100, T = 60: binarized W == W*
    for seed in range(3):
        rng = np.random.default_rng(seed)
        msgs = rng.integers(0, 32, size=(100, 8))
        net = RecurrentHebbian(8, 32, seed=seed).learn(msgs)
        ideal = ideal_adjacency(msgs, 8, 32)
        assert (net.adjacency() == ideal).all()
        # nothing half-learned is left: weights are exactly 0 or 1
        assert set(np.unique(net.weights)) <= {0.0, 1.0}
        clique = net.binarize()
        assert isinstance(clique, CliqueNetwork)
        assert (clique.adjacency() == ideal).all()


def test_noisy_presentation_edge_recall_matches_formula():
    # p_erase = 0.5, r = 10 rounds, no completion: an edge is learnt iff both ends are
    # presented together at least once: recall 1 - (1 - (1 - p)^2)^r = 0.9437
    p, r, C, L, M = 0.5, 10, 8, 64, 60
    rng = np.random.default_rng(7)
    msgs = rng.integers(0, L, size=(M, C))
    net = RecurrentHebbian(C, L, p_erase=p, completion=False, seed=8).learn(msgs, rounds=r)
    adj = net.adjacency()
    units = msgs + np.arange(C) * L
    iu = np.triu_indices(C, 1)
    per_msg = adj[units[:, iu[0]], units[:, iu[1]]].mean(axis=1)
    expected = 1 - (1 - (1 - p) ** 2) ** r
    # messages are independent: 3-sigma interval of the mean of per-message recalls
    half = 3 * per_msg.std(ddof=1) / np.sqrt(M)
    assert abs(per_msg.mean() - expected) < half, (per_msg.mean(), expected, half)
    m = net.edge_metrics(msgs)
    assert m["precision"] == 1.0
    assert abs(m["recall"] - expected) < half + 0.01


def test_completion_learns_spurious_edges():
    rng = np.random.default_rng(3)
    msgs = rng.integers(0, 32, size=(60, 8))
    on = RecurrentHebbian(8, 32, p_erase=0.5, seed=1).learn(msgs, rounds=6)
    off = RecurrentHebbian(8, 32, p_erase=0.5, completion=False, seed=1).learn(msgs, rounds=6)
    m_on, m_off = on.edge_metrics(msgs), off.edge_metrics(msgs)
    assert m_off["precision"] == 1.0
    assert m_on["precision"] < 1.0
    assert m_on["recall"] > m_off["recall"]


def test_spontaneous_activity_and_insertions_keep_learning_going():
    rng = np.random.default_rng(4)
    msgs = rng.integers(0, 32, size=(40, 8))
    net = RecurrentHebbian(8, 32, p_erase=0.25, p_insert=0.5, p_spont=0.05, seed=2)
    m = net.learn(msgs, rounds=3).edge_metrics(msgs)
    assert m["recall"] > 0.9
    assert 0.0 < m["precision"] <= 1.0


def test_recall_on_ideal_network_and_plasticity_flag():
    rng = np.random.default_rng(5)
    C, L, M = 8, 64, 300
    msgs = rng.integers(0, L, size=(M, C))
    net = RecurrentHebbian(C, L, seed=3).learn(msgs)
    cues = msgs.copy()
    cues[:, :4] = -1
    before = net.weights.copy()
    res = net.recall(cues)
    assert (res.messages == msgs).all() and res.converged.all()
    assert (net.weights == before).all()  # plastic_recall=False by default
    net.recall(cues, plastic=True)
    assert not (net.weights == before).all()  # learning stayed on
    ideal = RecurrentHebbian.from_adjacency(ideal_adjacency(msgs, C, L), C)
    assert (ideal.weights == before).all()


def test_release_noise_runs_and_is_seeded():
    rng = np.random.default_rng(6)
    msgs = rng.integers(0, 16, size=(20, 4))
    kw = dict(steps=60, release=ReleaseNoise(5, 0.5))
    a = RecurrentHebbian(4, 16, seed=11, **kw).learn(msgs)
    b = RecurrentHebbian(4, 16, seed=11, **kw).learn(msgs)
    assert (a.weights == b.weights).all()
    assert a.edge_metrics(msgs)["recall"] > 0.9


def test_presentation_noise_rates():
    # each unit erased w.p. p_erase; an erased cluster gets a random unit w.p. p_insert
    rng = np.random.default_rng(10)
    C, L, M = 8, 256, 5000
    msgs = rng.integers(0, L, size=(M, C))
    net = RecurrentHebbian(C, L, p_erase=0.5, p_insert=0.4)
    u = net.presentation_inputs(msgs, np.random.default_rng(11))
    glob = msgs + np.arange(C) * L
    silent, changed = (u < 0).mean(), ((u >= 0) & (u != glob)).mean()
    sd = 0.5 / np.sqrt(M * C)
    assert abs(silent - 0.5 * 0.6) < 5 * sd, silent
    assert abs(changed - 0.5 * 0.4 * (L - 1) / L) < 5 * sd, changed
    assert ((u < 0) | (u // L == np.arange(C))).all()  # insertions stay in their cluster
    clean = RecurrentHebbian(C, L).presentation_inputs(msgs, rng)
    np.testing.assert_array_equal(clean, glob)


@pytest.mark.parametrize("energy", ["clusters", "units"])
def test_energy_limit_keeps_the_strongest_clusters(energy):
    # 6 clusters, energy limit 3.  Clusters 0-2 are driven and hold a stored triangle;
    # unit 1 of cluster 0 also links to unit 0 of clusters 3-5, which are erased.  The
    # weak clusters (score 1) would light up without the limit; with it only the 3
    # strongest clusters (score drive + memory + 2) stay active.
    C, L, Q = 6, 4, 50
    adj = ideal_adjacency([[1, 2, 3, 0, 0, 0]], C, L)
    cl = np.arange(C * L) // L
    adj[(cl >= 3)[:, None] | (cl >= 3)[None, :]] = False  # keep the triangle only
    adj[1, [3 * L, 4 * L, 5 * L]] = True
    cues = np.tile([1, 2, 3, -1, -1, -1], (Q, 1))
    net = RecurrentHebbian.from_adjacency(adj, C, active=3, energy=energy, seed=4)
    res = net.recall(cues)
    assert (res.n_winners.sum(axis=1) == 3).all() and res.converged.all()
    assert (res.messages == [1, 2, 3, -1, -1, -1]).all()
    free = RecurrentHebbian.from_adjacency(adj, C, energy=energy, seed=4).recall(cues)
    assert (free.messages == [1, 2, 3, 0, 0, 0]).all()  # active = C: no limit binds


def test_edge_metrics_counts():
    ideal = ideal_adjacency([[0, 0]], 2, 2)
    learned = ideal.copy()
    learned[1, 3] = True
    m = edge_metrics(learned, ideal, 2)
    assert m["precision"] == pytest.approx(2 / 3) and m["recall"] == 1.0


@pytest.mark.parametrize(
    ("kwargs", "exc", "word"),
    [
        (dict(clusters=1), ValueError, "clusters"),
        (dict(steps=0), ValueError, "steps"),
        (dict(epsilon=1.5), ValueError, "epsilon"),
        (dict(p_erase=-0.1), ValueError, "p_erase"),
        (dict(active=9), ValueError, "active"),
        (dict(energy="x"), ValueError, "energy"),
        (dict(plastic_recall=1), TypeError, "plastic_recall"),
        (dict(release=0.5), TypeError, "release"),
        (dict(seed="a"), TypeError, "seed"),
    ],
)
def test_bad_parameters(kwargs, exc, word):
    args = dict(clusters=8, neurons_per_cluster=4)
    args.update(kwargs)
    with pytest.raises(exc, match=word):
        RecurrentHebbian(args.pop("clusters"), args.pop("neurons_per_cluster"), **args)


def test_bad_messages_and_cues():
    net = RecurrentHebbian(3, 4)
    with pytest.raises(ValueError, match="messages"):
        net.learn([[0, 1]])
    with pytest.raises(ValueError, match="messages"):
        net.learn([[0, 1, 4]])
    with pytest.raises(TypeError, match="messages"):
        net.learn([[0.5, 1, 2]])
    with pytest.raises(ValueError, match="cues"):
        net.recall([[0, -2, 1]])
    with pytest.raises(ValueError, match="rounds"):
        net.learn([[0, 1, 2]], rounds=0)


def test_sampler_builder():
    from hebbian import sampler as S
    from hebbian.params import MODELS, RecurrentParams

    assert MODELS["recurrent"] is RecurrentParams  # registered, no patching needed
    s = S.MemorySampler()
    base = {"clusters": 8, "neurons": 32, "messages": 150, "erased": 3,
            "queries_per_network": 200}
    p = s.validate({"model": "recurrent", **base, "recall": "recurrent",
                    "plastic_recall": True})
    st = s.sample(p, 200, np.random.default_rng(0))
    # low load, clean learning: the recurrent dynamics retrieves nearly everything
    assert st.shots == 200 and st.errors <= 20
    pc = s.validate({"model": "recurrent", **base, "rule": "som", "iterations": None})
    pk = s.validate({"model": "clique", **base, "rule": "som", "iterations": None})
    # clean learning gives the clique memory exactly: same counts as the clique model
    a = s.sample(pc, 200, np.random.default_rng(1))
    b = s.sample(pk, 200, np.random.default_rng(1))
    assert (a.errors, a.custom_counts) == (b.errors, b.custom_counts)
    with pytest.raises(ValueError, match="recall"):
        s.validate({"model": "recurrent", **base, "recall": "x"})
    # options the recurrent recall would silently ignore are refused
    for extra, word in (({"p_rel": 0.5}, "p_rel"), ({"stuck": 0.1}, "stuck"),
                        ({"inserted": 1}, "inserted"), ({"rule": "som"}, "rule"),
                        ({"iterations": 3}, "iterations"), ({"tie": "random"}, "tie")):
        with pytest.raises(ValueError, match=word):
            s.validate({"model": "recurrent", **base, "recall": "recurrent", **extra})
    assert s.validate({"model": "recurrent", **base, "p_rel": 0.5})["p_rel"] == 0.5
    net, msgs = RecurrentParams.from_json(p).build(np.random.default_rng(2))
    assert isinstance(net, LearnedCliqueNetwork) and msgs.shape == (150, 8)
    # the declared threshold binarizes the learned weights (lower: more edges; 20 steps
    # per presentation leave weights between 0.05 and 0.8, 60 saturate them)
    half, low = (RecurrentParams.from_json({**p, "steps": 20, **t}).build(
        np.random.default_rng(2))[0] for t in ({}, {"threshold": 0.05}))
    assert np.array_equal(half.adjacency(), half.hebbian.adjacency(0.8))
    assert np.array_equal(low.adjacency(), low.hebbian.adjacency(0.05))
    assert low.density > 100 * half.density
    with pytest.raises(ValueError, match="insertions"):
        net.recall(msgs, insertions=[[0]] * 150)
    with pytest.raises(TypeError, match="rule"):
        net.recall(msgs, rule="som")  # refused, not ignored


def test_learned_clique_network_restores_weights_after_plastic_recall():
    rng = np.random.default_rng(9)
    msgs = rng.integers(0, 16, size=(60, 4))
    hebb = RecurrentHebbian(4, 16, plastic_recall=True, seed=0).learn(msgs)
    w0 = hebb.weights.copy()
    net = LearnedCliqueNetwork(hebb, recurrent_recall=True)
    cues = msgs.copy()
    cues[:, :2] = -1
    a = net.recall(cues)
    assert (hebb.weights == w0).all()
    b = LearnedCliqueNetwork(hebb).recall(cues, rule="som", iterations=None)
    assert a.messages.shape == b.messages.shape == msgs.shape
    with pytest.raises(TypeError, match="hebbian"):
        LearnedCliqueNetwork(CliqueNetwork(4, 16))


def test_load_and_emergence_curves_small():
    from hebbian.recurrent import emergence_curve, load_curve

    rows = load_curve(6, 16, [20, 60], erased=2, queries=50, seed=1)
    assert {r["variant"] for r in rows} == {"learned", "learned-plastic", "ideal"}
    assert all(r["exact"] for r in rows)
    by = {(r["messages"], r["variant"]): r["errors"] for r in rows}
    assert by[(20, "learned")] == by[(20, "ideal")]  # same graph, same dynamics
    em = emergence_curve(6, 16, 30, rounds=3, erased=2, queries=40, seed=2, p_erase=0.5,
                         completion=False)
    rec = [r["recall"] for r in em]
    assert rec == sorted(rec) and all(r["precision"] == 1.0 for r in em)
    assert em[-1]["presentations"] == 90


def test_cli_sweep_model_recurrent(tmp_path, capsys):
    import sinter

    from sim.cli import main

    out = tmp_path / "rec.csv"
    rc = main(["hebbian", "sweep", "--model", "recurrent", "--clusters", "8", "--neurons", "32",
                   "--messages", "100", "--erased", "4", "--recall", "recurrent",
                   "--plastic-recall", "true,false", "--queries-per-network", "100",
                   "--max-shots", "200", "--workers", "1", "--seed", "3", "--out", str(out),
                   "--no-progress"])
    assert rc == 0
    stats = sinter.read_stats_from_csv_files(out)
    assert len(stats) == 2 and all(s.shots == 200 for s in stats)
    assert {s.json_metadata["plastic_recall"] for s in stats} == {True, False}
    assert {s.decoder for s in stats} == {"hebbian:recurrent-dynamics",
                                         "hebbian:recurrent-dynamics-plastic"}
    assert main(["hebbian", "sweep", "--model", "recurrent", "--clusters", "8", "--neurons", "32",
                     "--messages", "100", "--recall", "nope", "--out", str(out)]) == 2


def test_plastic_recall_lags_the_clique_network_at_high_load():
    # Same graph (clean learning gives the clique graph), same cues: plasticity during
    # recall turns successes into failures far more often than the reverse (McNemar).
    from scipy.stats import binomtest

    C, L, M, Q = 8, 64, 1300, 3000
    rng = np.random.default_rng(0)
    msgs = rng.integers(0, L, size=(M, C))
    net = RecurrentHebbian.from_adjacency(ideal_adjacency(msgs, C, L), C, seed=0)
    truth = msgs[rng.integers(0, M, size=Q)]
    cues = truth.copy()
    np.put_along_axis(cues, np.argsort(rng.random((Q, C)), axis=1)[:, :4], -1, axis=1)
    w0 = net.weights.copy()
    fixed = (net.recall(cues).messages != truth).any(axis=1)
    assert (net.weights == w0).all()
    plastic = (net.recall(cues, plastic=True).messages != truth).any(axis=1)
    b, c = int((plastic & ~fixed).sum()), int((fixed & ~plastic).sum())
    assert binomtest(b, b + c, 0.5, alternative="greater").pvalue < 1e-6, (b, c)
