"""API, invariants and bad input of the memories and noise models."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import hebbian
from hebbian import (
    CliqueNetwork,
    Hopfield,
    RecallResult,
    SparseCliqueNetwork,
    Willshaw,
    from_activity,
    noise,
    to_activity,
)


@pytest.mark.parametrize("rule,filt", [("sos", "wta"), ("som", "wta"), ("sos", "gwsta"),
                                       ("sos", "glsko"), ("sos", "gwta")])
def test_zero_noise_every_stored_message_is_a_fixed_point(rule, filt):
    rng = np.random.default_rng(0)
    L = 32
    M = int(np.log(2) * L * L)  # density ~ 0.5
    msgs = rng.integers(0, L, size=(M, 8))
    net = CliqueNetwork(8, L).store(msgs)
    assert 0.45 < net.density < 0.55
    res = net.recall(msgs, rule=rule, filter=filt, iterations=3)
    assert np.array_equal(res.messages, msgs)
    assert (res.n_winners == 1).all() and res.converged.all()
    assert (res.iterations == 1).all()


def test_sparse_zero_noise_fixed_points():
    rng = np.random.default_rng(1)
    net = SparseCliqueNetwork(30, 16, 5)
    msgs = net.random_messages(800, rng)
    net.store(msgs)
    for guide in (None, msgs // 16):
        res = net.recall(msgs, guide=guide, iterations=2)
        assert np.array_equal(np.sort(res.units(), axis=1), np.sort(msgs, axis=1))
        assert res.converged.all()


@pytest.mark.parametrize("inserted,erased", [(0, 4), (3, 2), (4, 0)])
def test_som_invariant_true_message_never_lost(inserted, erased):
    """SoM on a noiseless stored network: the true unit stays active, so no cluster ends
    empty and a unique winner is always the true one."""
    rng = np.random.default_rng(2)
    msgs = rng.integers(0, 64, size=(1500, 8))
    net = CliqueNetwork(8, 64).store(msgs)
    target = msgs[:3000 % 1500]
    cues = noise.erase(target, erased, rng)
    ins = noise.insert(cues, inserted, 64, rng) if inserted else None
    for it in (1, 2, None):
        res = net.recall(cues, insertions=ins, rule="som", iterations=it)
        assert (res.n_winners >= 1).all()
        unique = res.n_winners == 1
        assert (res.messages[unique] == target[unique]).all()


def test_som_invariant_true_message_is_a_subset_of_the_final_state():
    """The full final state (NumPy reference, which the kernels match exactly in
    test_kernels) contains every unit of the true message."""
    from tests.hebbian.reference import ref_recall, states_to_messages

    rng = np.random.default_rng(12)
    L = 16
    msgs = rng.integers(0, L, size=(150, 6))  # density ~ 0.44: many ambiguous clusters
    net = CliqueNetwork(6, L).store(msgs)
    target = msgs[:60]
    cues = noise.erase(target, 3, rng)
    ins = noise.insert(cues, 2, L, rng)
    ids = np.where(cues >= 0, cues + np.arange(6) * L, -1)
    st, _, _ = ref_recall(net.adjacency(), L, ids, ins, rule="som", maxit=10, fill=cues < 0)
    assert st[np.arange(60)[:, None], target + np.arange(6) * L].all()
    msg, nw = states_to_messages(st, L)
    res = net.recall(cues, insertions=ins, rule="som", iterations=10)
    assert np.array_equal(res.messages, msg) and np.array_equal(res.n_winners, nw)
    assert (nw > 1).any()  # the check is not vacuous


def test_recall_result_fields_and_units():
    rng = np.random.default_rng(3)
    msgs = rng.integers(0, 16, size=(10, 4))
    net = CliqueNetwork(4, 16).store(msgs)
    res = net.recall(msgs[:3])
    assert res.messages.shape == (3, 4) and res.n_winners.shape == (3, 4)
    assert res.iterations.shape == (3,) and res.converged.dtype == bool
    assert np.array_equal(res.units(), msgs[:3] + np.arange(4) * 16)
    assert not res.ambiguous().any()


def test_tie_random_picks_a_winner_and_needs_rng():
    net = CliqueNetwork(3, 4).store([[0, 0, 0], [1, 1, 1]]).store([[0, 1, 2]])
    cues = np.array([[0, -1, -1]])
    res = net.recall(cues)
    assert res.n_winners[0, 1] == 2 and res.messages[0, 1] == -1
    res = net.recall(cues, tie="random", rng=np.random.default_rng(0))
    assert res.messages[0, 1] in (0, 1)
    with pytest.raises(ValueError, match="rng"):
        net.recall(cues, tie="random")


def test_iterations_none_reports_the_cap():
    # clusters {0, 1} and {2, 3}, one edge 0 <-> 3; without memory the state
    # alternates {0} -> {3} -> {0} ... and never settles
    adj = np.zeros((4, 4), bool)
    adj[0, 3] = adj[3, 0] = True
    net = CliqueNetwork.from_adjacency(adj, clusters=2)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        res = net.recall([[0, -1]], memory=0, iterations=None)
    assert not res.converged[0] and res.iterations[0] == hebbian.network.MAX_ITERATIONS
    assert any("safety cap" in str(x.message) for x in w)


def test_from_adjacency_roundtrip_and_inference():
    rng = np.random.default_rng(4)
    net = CliqueNetwork(5, 70).store(rng.integers(0, 70, size=(300, 5)))
    adj = net.adjacency()
    for kw in ({}, {"clusters": 5}, {"neurons_per_cluster": 70}):
        again = CliqueNetwork.from_adjacency(adj, **kw)
        assert again.clusters == 5 and np.array_equal(again._bits, net._bits)
    with pytest.raises(ValueError, match="clusters"):
        CliqueNetwork.from_adjacency(np.zeros((8, 8), bool))
    with pytest.raises(ValueError, match="adjacency"):
        CliqueNetwork.from_adjacency(np.zeros((8, 6), bool))


def test_set_bits_hook_drives_recall():
    rng = np.random.default_rng(5)
    msgs = rng.integers(0, 16, size=(20, 4))
    a = CliqueNetwork(4, 16).store(msgs)
    b = CliqueNetwork(4, 16)
    b._set_bits(a._bits.copy())
    cues = noise.erase(msgs, 2, rng)
    assert np.array_equal(a.recall(cues).messages, b.recall(cues).messages)
    with pytest.raises(ValueError, match="bits"):
        b._set_bits(np.zeros((3, 3), np.uint64))


def test_forget_raises_and_points_to_counting_network():
    net = CliqueNetwork(4, 8).store([[0, 1, 2, 3]])
    with pytest.raises(TypeError, match="CountingCliqueNetwork"):
        net.forget([[0, 1, 2, 3]])


def test_activity_converters_roundtrip():
    units = np.array([[0, 5, -1], [2, -1, -1]])
    act = to_activity(units, 8)
    assert act.shape == (2, 8) and act.sum() == 3
    back = from_activity(act)
    assert back.tolist() == [[0, 5], [2, -1]]


def test_willshaw_and_hopfield_basics():
    rng = np.random.default_rng(6)
    w = Willshaw(512, 8)
    msgs = w.random_messages(200, rng)
    w.store(msgs)
    assert abs(w.density - (1 - (1 - 56 / (512 * 511)) ** 200)) < 0.005
    res = w.recall(msgs)
    assert isinstance(res, RecallResult)  # one result type for every memory model
    assert w.correct(res, msgs).all()  # stored messages are fixed points
    assert (res.units() == np.sort(msgs, axis=1)).all() and not res.ambiguous().any()
    h = Hopfield(128)
    pats = h.random_patterns(3, rng)
    h.store(pats)
    r1 = h.recall(pats, iterations=1)
    assert isinstance(r1, RecallResult) and (r1.state == pats).all()
    assert r1.converged.all() and (r1.iterations == 1).all()
    assert ((r1.messages == 1) == (pats > 0)).all()  # +1 -> position 1 of the bit
    cues = pats.copy()
    cues[:, :40] = 0
    r2 = h.recall(cues)
    assert (r2.state == pats).all() and r2.converged.all() and (r2.iterations == 2).all()
    assert h.weight_bits == 3


def test_insert_and_erase_shapes():
    rng = np.random.default_rng(7)
    cues = noise.erase(rng.integers(0, 16, size=(50, 6)), 2, rng)
    assert ((cues < 0).sum(axis=1) == 2).all()
    ins = noise.insert(cues, 3, 16, rng)
    assert ins.shape == (50, 3)
    cl = ins // 16
    assert (np.take_along_axis(cues, cl, axis=1) >= 0).all()  # in known clusters
    assert (np.take_along_axis(cues, cl, axis=1) != ins % 16).all()  # not the cue unit
    e = noise.insert(cues, 2, 16, rng, where="erased")
    assert (np.take_along_axis(cues, e // 16, axis=1) < 0).all()


@pytest.mark.parametrize(
    "call,name",
    [
        (lambda: CliqueNetwork(0, 8), "clusters"),
        (lambda: CliqueNetwork(4, 0), "neurons_per_cluster"),
        (lambda: CliqueNetwork(4, 8).store([[0, 1, 2, 8]]), "messages"),
        (lambda: CliqueNetwork(4, 8).store([[0, 1, 2]]), "messages"),
        (lambda: CliqueNetwork(4, 8).recall([[0, 1, 2]]), "cues"),
        (lambda: CliqueNetwork(4, 8).recall([[0, 1, 2, 9]]), "cues"),
        (lambda: CliqueNetwork(4, 8).recall([[0, 1, 2, 3]], rule="x"), "rule"),
        (lambda: CliqueNetwork(4, 8).recall([[0, 1, 2, 3]], filter="x"), "filter"),
        (lambda: CliqueNetwork(4, 8).recall([[0, 1, 2, 3]], iterations=0), "iterations"),
        (lambda: CliqueNetwork(4, 8).recall([[0, 1, 2, 3]], memory=-1), "memory"),
        (lambda: CliqueNetwork(4, 8).recall([[0, 1, 2, 3]], insertions=[[40]]), "insertions"),
        (lambda: SparseCliqueNetwork(4, 8, 5), "active"),
        (lambda: SparseCliqueNetwork(4, 8, 2).store([[0, 1]]), "one unit per cluster"),
        (lambda: noise.ReleaseNoise(10, 1.5), "p_rel"),
        (lambda: noise.ReleaseNoise(0, 0.5), "n_syn"),
        (lambda: noise.stuck(CliqueNetwork(2, 2), -0.1, 0, np.random.default_rng()), "stuck"),
        (lambda: noise.erase([[1, 2]], 3, np.random.default_rng()), "erased"),
        (lambda: Willshaw(10, 11), "k"),
        (lambda: Hopfield(8).store([[2] * 8]), "patterns"),
        (lambda: hebbian.theory.error_rate(8, 256, 100, 9), "erased"),
        (lambda: hebbian.theory.release_error_rate(8, 256, 100, 4, 1.2, 10), "p_rel"),
        (lambda: hebbian.theory.capacity("nope", 0.01), "model"),
        (lambda: hebbian.theory.capacity("clique", 0.01, clusters=8, neurons=256), "erased"),
        (lambda: hebbian.theory.capacity("clique", 1.5, clusters=8, neurons=256, erased=4),
         "target_error"),
        (lambda: hebbian.theory.density(0, 256, 10), "clusters"),
        (lambda: hebbian.theory.density(8, 256, 10, active=9), "active"),
        (lambda: hebbian.theory.sparse_error_rate(10, 64, 12, 100, 3), "active"),
        (lambda: noise.insert([[1, 9, -1]], 1, 4, np.random.default_rng()), "cues"),
        (lambda: noise.stuck(CliqueNetwork(2, 2), 0.5, 2, np.random.default_rng()), "stuck_at"),
        (lambda: Willshaw(10, 2).store([[3, 3]]), "distinct"),
        (lambda: Willshaw(10, 2).recall([[0, 10]]), "cues"),
        (lambda: SparseCliqueNetwork(4, 8, 2).recall([[0, 9]], guide=[[0, 7]]), "guide"),
        (lambda: CliqueNetwork(4, 8).cues_from_activity(np.zeros((1, 31), bool)), "activity"),
    ],
)
def test_bad_input_raises_naming_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_clique_cues_from_and_to_activity():
    rng = np.random.default_rng(9)
    msgs = rng.integers(0, 32, size=(300, 6))
    net = CliqueNetwork(6, 32).store(msgs)
    cues = noise.erase(msgs[:40], 2, rng)
    ins = noise.insert(cues, 2, 32, rng)
    act = net.cues_to_activity(cues, ins)
    assert act.shape == (40, net.n) and (act.sum(axis=1) == 6).all()
    c2, i2 = net.cues_from_activity(act)
    assert np.array_equal(net.cues_to_activity(c2, i2), act)
    assert ((c2 >= 0) == (cues >= 0)).all()
    for rule in ("sos", "som"):  # recall from the split activity = recall from the cue
        a = net.recall(cues, insertions=ins, rule=rule, iterations=3)
        b = net.recall(c2, insertions=i2, rule=rule, iterations=3)
        assert np.array_equal(a.messages, b.messages) and np.array_equal(a.n_winners,
                                                                         b.n_winners)
    res = net.recall(cues, rule="som", iterations=None)
    ok = (res.n_winners == 1).all(axis=1)
    back = from_activity(to_activity(res.units(), net.n))
    assert np.array_equal(back[ok], res.units()[ok])


def test_capacity_is_the_largest_load_and_takes_sweep_rows():
    from hebbian.sampler import MemorySampler
    from hebbian.theory import _model_error, capacity

    cases = [("clique", dict(clusters=8, neurons=256, erased=4)),
             ("sparse", dict(clusters=100, neurons=64, active=12, erased=3)),
             ("willshaw", dict(neurons=2048, active=8, erased=4)),
             ("hopfield", dict(neurons=2048, erased=1024))]
    for model, p in cases:
        cap = capacity(model, 0.01, **p)
        assert _model_error(model, cap.messages, p) <= 0.01 < _model_error(
            model, cap.messages + 1, p)
        assert cap.efficiency == pytest.approx(cap.bits * cap.messages / cap.resource)
    assert capacity("clique", 0.01, clusters=8, neurons=256, erased=4).resource == 1_835_008
    row = MemorySampler().validate({"model": "sparse", "clusters": 100, "neurons": 64,
                                    "active": 12, "messages": 103_000, "erased": 3})
    assert capacity(row["model"], 0.01, **row).messages == capacity("sparse", 0.01,
                                                                     **cases[1][1]).messages
    with pytest.raises(ValueError, match="model"):
        capacity("clique", 0.01, **row)


def test_stuck_faults_change_density():
    rng = np.random.default_rng(8)
    net = CliqueNetwork(4, 32).store(rng.integers(0, 32, size=(200, 4)))
    d0 = net.density
    noise.stuck(net, 0.5, 0, rng)
    assert abs(net.density - d0 / 2) < 0.03


def test_lazy_exports_name_other_modules():
    assert "RecurrentHebbian" in hebbian.__all__
    with pytest.raises(AttributeError):
        hebbian.NoSuchThing  # noqa: B018
