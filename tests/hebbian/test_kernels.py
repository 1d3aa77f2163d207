"""Each Numba kernel against its plain-NumPy reference on random small networks."""

from __future__ import annotations

import numpy as np
import pytest

from hebbian import CliqueNetwork, SparseCliqueNetwork, noise
from hebbian import _kernels as K
from tests.hebbian.reference import (
    ref_cluster_or,
    ref_recall,
    ref_release_sos1,
    ref_store,
    states_to_messages,
)

SHAPES = [(3, 5, 12), (4, 64, 150), (5, 70, 200), (4, 130, 600)]



def recall_int(net, ids, *, ins=None, fill=None, rule="sos", filt="wta", gamma=1, maxit=1,
               release=None, keys=None):
    """The integer-score kernel ``K.recall_int`` on a clique network, arguments by name
    (its long positional signature is spelled out here only).  ``fill``: the SoM start
    (guided mode 2); ``release``: a ReleaseNoise with one hash key per query in ``keys``.
    Returns ``[messages, n_winners, iterations, converged]``."""
    Q, L, C = ids.shape[0], net.neurons_per_cluster, net.clusters
    out = [np.empty((Q, C), np.int64), np.empty((Q, C), np.int64),
           np.empty(Q, np.int64), np.empty(Q, bool)]
    K.recall_int(
        net._bits, L, np.ascontiguousarray(ids),
        ins if ins is not None else np.full((Q, 0), -1, np.int64),
        np.ascontiguousarray(fill, dtype=np.uint8) if fill is not None
        else np.zeros((1, 1), np.uint8),
        2 if fill is not None else 0,  # fill mode
        np.zeros((1, 1), np.uint8), 0,  # no allow mask
        int(rule == "som"), {"wta": 0, "gwta": 1, "gwsta": 2, "glsko": 3}[filt], gamma,
        C, maxit, np.zeros((1, 1)), False,  # select all clusters, no random ties
        0 if release is None else release.n_syn,
        np.ones(1) if release is None else release.cdf(),
        np.zeros(Q, np.uint64) if keys is None else keys, *out)
    return out


def general_recall(net, ids, ins, *, rule, iterations):
    """The general (bit-sliced) recall path of a clique network, bypassing the fast
    paths: WTA, memory 1, ties as errors."""
    return net._run(ids, ins, rule=rule, filter="wta", memory=1, iterations=iterations,
                    tie="error", rng=None, release=None,
                    fill_mode=1 if rule == "som" else 0, fill=None, allow=None,
                    select=net.clusters, fast_cues=None)

def _net(C, L, M, seed):
    rng = np.random.default_rng(seed)
    msgs = rng.integers(0, L, size=(M, C))
    net = CliqueNetwork(C, L).store(msgs)
    return net, msgs, rng


@pytest.mark.parametrize("C,L,M", SHAPES)
def test_store_and_adjacency_match_reference(C, L, M):
    net, msgs, _ = _net(C, L, M, 1)
    ref = ref_store(C, L, msgs + np.arange(C) * L)
    assert np.array_equal(net.adjacency(), ref)
    assert np.array_equal(net.pack(ref), net._bits)
    assert net.density == pytest.approx(ref.sum() / (C * L * (C - 1) * L))
    ors = K.cluster_or(net._bits, L)
    want = ref_cluster_or(ref, L)
    for i in range(C):
        for jj in range(C - 1):
            j = jj + (jj >= i)
            got = np.unpackbits(ors[i, jj].view(np.uint8), bitorder="little")[:L]
            assert np.array_equal(got.astype(bool), want[i, j * L : (j + 1) * L])


@pytest.mark.parametrize("C,L,M", SHAPES)
@pytest.mark.parametrize(
    "rule,filt,gamma,maxit,inserted",
    [("sos", "wta", 1, 1, 0), ("sos", "wta", 0, 3, 0), ("sos", "wta", 1, 4, 2),
     ("som", "wta", 1, 5, 1), ("som", "wta", 0, 3, 0), ("sos", "gwta", 1, 2, 0),
     ("sos", "gwsta", 1, 3, 1), ("sos", "glsko", 1, 5, 0), ("som", "gwsta", 2, 3, 0)],
)
def test_general_kernels_match_reference(C, L, M, rule, filt, gamma, maxit, inserted):
    net, msgs, rng = _net(C, L, M, 2)
    Q = 25
    target = msgs[rng.integers(0, M, Q)]
    cues = noise.erase(target, C // 2, rng)
    ins = noise.insert(cues, inserted, L, rng) if inserted else None
    ids = np.where(cues >= 0, cues + np.arange(C) * L, -1)
    fill = (cues < 0) if rule == "som" else None
    st, it, cv = ref_recall(net.adjacency(), L, ids, ins, rule=rule, filt=filt, gamma=gamma,
                            maxit=maxit, fill=fill)
    msg, nw = states_to_messages(st, L)
    res = net.recall(cues, insertions=ins, rule=rule, filter=filt, memory=gamma,
                     iterations=maxit)
    assert np.array_equal(res.messages, msg)
    assert np.array_equal(res.n_winners, nw)
    if not (rule == "som" and filt == "wta" and gamma >= 1):  # fast path stops differently
        assert np.array_equal(res.iterations, it)
        assert np.array_equal(res.converged, cv)
    # the integer-score kernel gives the same answers
    out = recall_int(net, ids, ins=ins, fill=fill, rule=rule, filt=filt, gamma=gamma,
                     maxit=maxit)
    assert np.array_equal(out[0], msg)
    assert np.array_equal(out[1], nw)
    assert np.array_equal(out[2], it)


@pytest.mark.filterwarnings("ignore:recall:RuntimeWarning")  # the random graph oscillates
@pytest.mark.parametrize("C,L,M", SHAPES)
def test_fast_paths_match_general_kernel(C, L, M):
    net, msgs, rng = _net(C, L, M * 3, 3)
    Q = 200
    target = msgs[rng.integers(0, len(msgs), Q)]
    cues = noise.erase(target, C // 2, rng)
    ids = np.ascontiguousarray(np.where(cues >= 0, cues + np.arange(C) * L, -1))
    for rule, maxit in (("sos", 1), ("som", 4), ("som", 100), ("som", None)):
        fast = net.recall(cues, rule=rule, iterations=maxit)
        slow = general_recall(net, ids, None, rule=rule, iterations=maxit)
        assert np.array_equal(fast.messages, slow.messages)
        assert np.array_equal(fast.n_winners, slow.n_winners)
    # SoM with insertions, including cues without erasures (the shortcut's first step
    # then changes nothing, which must not pass for a fixed point)
    for erased in (0, 1, C // 2):
        cues_e = noise.erase(target, erased, rng)
        ins = noise.insert(cues_e, 2, L, rng)
        ids_e = np.ascontiguousarray(np.where(cues_e >= 0, cues_e + np.arange(C) * L, -1))
        for maxit in (1, 3, None):
            fast = net.recall(cues_e, insertions=ins, rule="som", iterations=maxit)
            slow = general_recall(net, ids_e, ins, rule="som", iterations=maxit)
            assert np.array_equal(fast.messages, slow.messages), (erased, maxit)
            assert np.array_equal(fast.n_winners, slow.n_winners), (erased, maxit)
            assert np.array_equal(fast.converged, slow.converged), (erased, maxit)
    # a graph where the shortcut is not exact (random adjacency) takes the fallback
    rnd = np.random.default_rng(4).random((C * L, C * L)) < 0.3
    g = CliqueNetwork.from_adjacency(rnd, clusters=C)
    for rule, maxit in (("sos", 1), ("som", 6), ("som", None)):
        fast = g.recall(cues, rule=rule, iterations=maxit)
        st, _, _ = ref_recall(g.adjacency(), L, ids, rule=rule, maxit=maxit or 100,
                              fill=(cues < 0) if rule == "som" else None)
        msg, nw = states_to_messages(st, L)
        assert np.array_equal(fast.messages, msg)
        assert np.array_equal(fast.n_winners, nw)


def test_sparse_guided_and_blind_match_reference():
    rng = np.random.default_rng(5)
    net = SparseCliqueNetwork(12, 70, 4)
    msgs = net.random_messages(300, rng)
    net.store(msgs)
    target = msgs[:30]
    cues = noise.erase(target, 2, rng)
    guide = target // 70
    allow = np.zeros((30, 12), bool)
    np.put_along_axis(allow, guide, True, axis=1)
    for rule, filt, maxit, g in (("sos", "gwsta", 1, None), ("sos", "glsko", 6, None),
                                 ("sos", "wta", 4, guide), ("som", "wta", 4, guide)):
        fill = None
        if rule == "som":
            cuecl = np.zeros((30, 12), bool)
            for q in range(30):
                cuecl[q, cues[q][cues[q] >= 0] // 70] = True
            fill = allow & ~cuecl
        st, _, _ = ref_recall(net.adjacency(), 70, cues, rule=rule, filt=filt, select=4,
                              maxit=maxit, fill=fill, allow=allow if g is not None else None)
        msg, nw = states_to_messages(st, 70)
        res = net.recall(cues, guide=g, rule=rule, filter=filt, iterations=maxit)
        assert np.array_equal(res.messages, msg), (rule, filt)
        assert np.array_equal(res.n_winners, nw)


def test_release_noise_kernel_one_step_matches_reference_weights():
    """With n_syn synapses per connection, the kernel's scores equal the reference's
    explicit-weight scores when the weights are drawn the same way (all release: p=1)."""
    net, msgs, rng = _net(4, 16, 40, 6)
    cues = noise.erase(msgs[:10], 2, rng)
    ids = np.where(cues >= 0, cues + np.arange(4) * 16, -1)
    res = net.recall(cues, rng=rng, release=noise.ReleaseNoise(5, 1.0), memory=100)
    adj = net.adjacency()
    for q in range(10):
        s = ref_release_sos1(adj, 16, ids[q], 5 * np.ones_like(adj, dtype=np.int64))
        for j in range(4):
            if cues[q, j] < 0:
                blk = s[j * 16 : (j + 1) * 16]
                winners = np.flatnonzero(blk == blk.max()) if blk.max() > 0 else []
                assert res.n_winners[q, j] == len(winners)


@pytest.mark.parametrize("rule", ["sos", "som"])
def test_release_noise_kernel_is_annealed_and_matches_reference(rule):
    """p_rel < 1, several steps: the kernel equals a NumPy reference that redraws every
    synapse's Bin(n_syn, p_rel) at each step, and differs from drawing them once."""
    from tests.hebbian.reference import ref_release_recall

    C, L = 4, 12
    net, msgs, rng = _net(C, L, 60, 8)
    Q = 40
    target = msgs[rng.integers(0, 60, Q)]
    cues = noise.erase(target, 2, rng)
    ids = np.ascontiguousarray(np.where(cues >= 0, cues + np.arange(C) * L, -1))
    fill = np.ascontiguousarray(cues < 0, dtype=np.uint8)
    rel = noise.ReleaseNoise(3, 0.5)
    cdf = rel.cdf()
    keys = rng.integers(0, 2**63, size=Q, dtype=np.int64).astype(np.uint64)
    som = rule == "som"
    out = recall_int(net, ids, fill=fill if som else None, rule=rule, maxit=4,
                     release=rel, keys=keys)
    adj = net.adjacency()
    kw = dict(rule=rule, gamma=1, maxit=4, fill=(cues < 0) if som else None)
    msg, nw = states_to_messages(ref_release_recall(adj, L, ids, keys, cdf, **kw), L)
    assert np.array_equal(out[0], msg) and np.array_equal(out[1], nw)
    qmsg, qnw = states_to_messages(
        ref_release_recall(adj, L, ids, keys, cdf, anneal=False, **kw), L)
    assert not (np.array_equal(out[0], qmsg) and np.array_equal(out[1], qnw))


def test_popcount_and_bits():
    xs = np.random.default_rng(7).integers(0, 2**63, 50, dtype=np.int64).astype(np.uint64)
    for x in xs:
        assert K.popcount(x) == bin(int(x)).count("1")
        assert K.lowbit_index(x) == (int(x) & -int(x)).bit_length() - 1
        k = K.popcount(x) // 2
        assert K.nth_bit(x, k) == [i for i in range(64) if int(x) >> i & 1][k]


@pytest.mark.parametrize("n,k", [(70, 4), (200, 6)])
def test_willshaw_kernels_match_reference(n, k):
    from hebbian import Willshaw
    from tests.hebbian.reference import ref_willshaw

    rng = np.random.default_rng(n)
    w = Willshaw(n, k)
    msgs = w.random_messages(60, rng)
    w.store(msgs)
    cues = noise.erase(msgs, 2, rng)
    adj, want = ref_willshaw(n, msgs, cues)
    dense = np.unpackbits(w._bits.view(np.uint8), axis=1, bitorder="little")[:, :n]
    assert np.array_equal(dense.astype(bool), adj)
    assert np.array_equal(w.recall(cues).state, want)
