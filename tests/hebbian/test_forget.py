"""Exact forgetting with counting synapses, and its membership-inference audit."""

from __future__ import annotations

import numpy as np
import pytest

from hebbian import (
    CliqueNetwork,
    CountingCliqueNetwork,
    CountingSparseCliqueNetwork,
    SparseCliqueNetwork,
)
from hebbian import _recurrent_kernels as RK
from hebbian.audit import auc, forgetting_audit, membership_scores, naive_forget
from tests.hebbian.reference_recurrent import counts_dense, to_layout


@pytest.mark.parametrize("seed", range(6))
def test_count_kernel_matches_reference(seed):
    rng = np.random.default_rng(seed)
    C, L, M = 5, 7, 40
    n = C * L
    units = rng.integers(0, L, size=(M, C)) + np.arange(C) * L
    units[rng.random(units.shape) < 0.2] = -1
    counts = np.zeros((n, C - 1, L), np.uint16)
    assert RK.count_update(counts, units, L, 1, 65535) == -1
    np.testing.assert_array_equal(counts, to_layout(counts_dense(units, n, L), L))
    bits = np.zeros((n, C - 1, 1), np.uint64)
    RK.pack_rows(counts, np.arange(n), bits)
    net = CliqueNetwork(C, L)
    np.testing.assert_array_equal(bits, net.pack(counts_dense(units, n, L) > 0))
    assert RK.count_update(counts, units[: M // 2], L, -1, 65535) == -1
    np.testing.assert_array_equal(counts, to_layout(counts_dense(units[M // 2:], n, L), L))


@pytest.mark.parametrize("seed", range(20))
def test_forget_equals_never_stored_clique(seed):
    rng = np.random.default_rng(seed)
    C = int(rng.integers(3, 9))
    L = int(rng.integers(4, 70))  # crosses the 64-unit word boundary
    M = int(rng.integers(1, 4 * L))
    msgs = rng.integers(0, L, size=(M, C))
    if M > 3:
        msgs[1] = msgs[0]  # a duplicate stored twice
    order = rng.permutation(M)
    k = int(rng.integers(0, M + 1))
    gone, kept = msgs[order[:k]], msgs[order[k:]]
    net = CountingCliqueNetwork(C, L).store(msgs).forget(gone)
    ref = CliqueNetwork(C, L).store(kept)
    assert (net.adjacency() == ref.adjacency()).all()
    np.testing.assert_array_equal(net._bits, ref._bits)
    assert net.n_stored == len(kept)
    if len(kept):
        cues = kept.copy()
        cues[:, : C // 2] = -1
        for rule in ("sos", "som"):
            a = net.recall(cues, rule=rule, iterations=None)
            b = ref.recall(cues, rule=rule, iterations=None)
            np.testing.assert_array_equal(a.messages, b.messages)
            np.testing.assert_array_equal(a.n_winners, b.n_winners)


@pytest.mark.parametrize("seed", range(8))
def test_forget_equals_never_stored_sparse(seed):
    rng = np.random.default_rng(50 + seed)
    net = CountingSparseCliqueNetwork(12, 9, 4)
    msgs = net.random_messages(150, rng)
    k = int(rng.integers(0, 150))
    net.store(msgs).forget(msgs[:k])
    ref = SparseCliqueNetwork(12, 9, 4).store(msgs[k:])
    assert (net.adjacency() == ref.adjacency()).all()
    cues = msgs[k:].copy()
    cues[:, 0] = -1
    a = net.recall(cues, guide=msgs[k:] // 9, iterations=4)
    b = ref.recall(cues, guide=msgs[k:] // 9, iterations=4)
    np.testing.assert_array_equal(a.messages, b.messages)


def test_store_forget_store_roundtrip_and_ledger():
    rng = np.random.default_rng(1)
    msgs = rng.integers(0, 10, size=(30, 4))
    net = CountingCliqueNetwork(4, 10).store(msgs)
    empty = CliqueNetwork(4, 10)
    net.forget(msgs)
    assert (net.adjacency() == empty.adjacency()).all() and net.n_stored == 0
    assert not net.counts.any()
    assert not net.is_stored(msgs).any()
    net.store(msgs[:5])
    assert net.is_stored(msgs[:6]).tolist()[:5] == [True] * 5


def test_forget_unknown_message_raises_and_changes_nothing():
    rng = np.random.default_rng(2)
    msgs = rng.integers(0, 16, size=(20, 4))
    net = CountingCliqueNetwork(4, 16).store(msgs)
    before = net.counts.copy()
    other = msgs[:3].copy()
    other[2] = (other[2] + 1) % 16
    if net.is_stored(other[2:3])[0]:  # pragma: no cover - astronomically unlikely
        other[2, 0] = (other[2, 0] + 5) % 16
    with pytest.raises(ValueError, match="messages: row 2"):
        net.forget(other)
    with pytest.raises(ValueError, match="messages"):
        net.forget(np.vstack([msgs[:1], msgs[:1]]))  # listed twice, stored once
    np.testing.assert_array_equal(net.counts, before)


def test_overflow_is_detected_and_atomic():
    net = CountingCliqueNetwork(3, 4, dtype="uint8")
    net.store(np.zeros((255, 3), np.int64))
    before = net.counts.copy()
    with pytest.raises(OverflowError, match="uint16"):
        net.store([[1, 1, 1], [0, 0, 0]])
    np.testing.assert_array_equal(net.counts, before)
    assert net.n_stored == 255
    wide = CountingCliqueNetwork(3, 4, dtype="uint16").store(np.zeros((300, 3), np.int64))
    assert int(wide.counts.max()) == 300


def test_bad_arguments():
    with pytest.raises(ValueError, match="dtype"):
        CountingCliqueNetwork(3, 4, dtype="int8")
    with pytest.raises(TypeError, match="from_adjacency"):
        CountingCliqueNetwork.from_adjacency(np.zeros((6, 6), bool), clusters=3)
    net = CountingCliqueNetwork(3, 4)
    with pytest.raises(ValueError, match="messages"):
        net.forget([[0, 1]])
    with pytest.raises(ValueError, match="messages"):
        net.store([[0, 1, 9]])


def test_binary_forget_explains_why_it_cannot():
    net = CliqueNetwork(3, 4).store([[0, 1, 2]])
    with pytest.raises(TypeError, match="shared"):
        net.forget([[0, 1, 2]])


def test_memory_cost_counts_vs_bits():
    net = CountingCliqueNetwork(8, 256)
    mb = net.memory_bytes()
    assert mb["counts"] == 2048 * 7 * 256 and mb["bits"] == 2048 * 7 * 4 * 8
    assert mb["counts"] / mb["bits"] == 8.0


def test_auc():
    a, lo, hi = auc([2.0, 3.0], [0.0, 1.0])
    assert a == 1.0 and lo < 1.0 == hi
    a, lo, hi = auc([0, 1, 1], [1, 0, 0])
    assert a == pytest.approx(6 / 9)  # pairs: 0 + 0.5 + 0.5 for the 0, 2.5 for each 1
    assert lo < a < hi
    with pytest.raises(ValueError):
        auc([], [1.0])


def test_membership_scores_separate_members():
    rng = np.random.default_rng(3)
    msgs = rng.integers(0, 32, size=(200, 8))
    net = CliqueNetwork(8, 32).store(msgs)
    never = rng.integers(0, 32, size=(200, 8))
    for score in ("recall", "cue_edges"):
        s_in = membership_scores(net, msgs, known=4, rng=rng, score=score)
        s_out = membership_scores(net, never, known=4, rng=rng, score=score)
        assert auc(s_in, s_out)[1] > 0.8
    with pytest.raises(ValueError, match="score"):
        membership_scores(net, msgs, known=4, rng=rng, score="x")
    with pytest.raises(ValueError, match="known"):
        membership_scores(net, msgs, known=8, rng=rng)


def test_naive_forget_cuts_shared_edges():
    msgs = np.array([[0, 0, 0], [0, 0, 1]])  # share the edge between units 0 and 4
    net = CliqueNetwork(3, 2).store(msgs)
    cut = naive_forget(net, msgs[:1])
    ref = CliqueNetwork(3, 2).store(msgs[1:])
    assert ref.adjacency()[0, 2] and not cut.adjacency()[0, 2]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_audit_exact_vs_naive(seed):
    r = forgetting_audit(8, 64, 1200, 250, seed=seed)
    assert r["identical"]
    assert r["member_auc_recall"][1] > 0.85  # the attack works on stored messages
    ex, nv = r["exact"], r["naive"]
    for s in ("auc_recall", "auc_cue_edges"):
        lo, hi = ex[s][1], ex[s][2]
        assert lo <= 0.5 <= hi, (s, ex[s])
    assert ex["kept_error"] == ex["kept_error_reference"]
    assert ex["lost_edges"] == 0 and ex["extra_edges"] == 0
    # naive deletion: a visible hole and collateral damage to the remaining messages
    assert nv["auc_cue_edges"][2] < 0.5
    assert nv["lost_edges"] > 0
    assert nv["kept_error"] > nv["kept_error_reference"]
