"""Decoders: correctness on small instances, kernels against the plain references."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from fbqc import HardwareAgnostic, simulate
from fbqc.decoders import (
    MatchingDecoder,
    UnionFindDecoder,
    decode,
    edge_weights,
    erasure_windings,
)
from fbqc.network import FusionNetwork
from tests.fbqc.reference import straight_loop, uf_decode, winding_span

CASES = [(k, L) for k in ("6ring", "4star") for L in (3, 4, 5)]


@pytest.fixture(scope="module", params=CASES, ids=[f"{k}-L{L}" for k, L in CASES])
def net(request):
    return FusionNetwork(*request.param)


def _failures(dec, g, flips, erased=None):
    flips = np.asarray(flips, np.uint8)
    pred = dec.decode_batch(g.syndrome(flips), erased)
    truth = (flips @ g.crossing.astype(np.uint8)) & 1
    return (pred ^ truth).any(axis=1)


@pytest.mark.parametrize("name", ["uf", "mwpm"])
def test_zero_noise_and_single_flips(net, name):
    for g in net.graphs:
        dec = UnionFindDecoder(g) if name == "uf" else MatchingDecoder(g)
        zero = np.zeros((3, g.n_edges), np.uint8)
        assert not g.syndrome(zero).any()
        assert not _failures(dec, g, zero).any()
        single = np.eye(g.n_edges, dtype=np.uint8)
        assert not _failures(dec, g, single).any()


@pytest.mark.parametrize("name", ["uf", "mwpm"])
def test_flips_below_half_distance_never_fail(net, name):
    rng = np.random.default_rng(11)
    t = (net.L - 1) // 2
    for g in net.graphs:
        dec = UnionFindDecoder(g) if name == "uf" else MatchingDecoder(g)
        flips = np.zeros((300, g.n_edges), np.uint8)
        for row in flips:
            row[rng.choice(g.n_edges, t, replace=False)] = 1
        assert not _failures(dec, g, flips).any()


def test_erasures_below_distance_never_wind_and_are_corrected(net):
    rng = np.random.default_rng(12)
    for g in net.graphs:
        erased = np.zeros((300, g.n_edges), bool)
        for row in erased:
            row[rng.choice(g.n_edges, net.L - 1, replace=False)] = True
        flips = erased & (rng.random(erased.shape) < 0.5)
        _, rank = erasure_windings(g, erased)
        assert not rank.any()
        for dec in (UnionFindDecoder(g), MatchingDecoder(g)):
            assert not _failures(dec, g, flips, erased).any()


def test_x_line_of_erasures_winds(net):
    g = net.primal
    line = straight_loop(g)
    basis, rank = erasure_windings(g, line)
    assert rank.tolist() == [1] and basis[0, 0] == 1
    # the decoders then fail half the time: flipping the whole line is undetectable
    flips = np.stack([np.zeros(g.n_edges, np.uint8), line.astype(np.uint8)])
    for dec in (UnionFindDecoder(g), MatchingDecoder(g)):
        fails = _failures(dec, g, flips, np.stack([line, line]))
        assert fails.tolist() in ([False, True], [True, False])


@pytest.mark.parametrize("kind", ["6ring", "4star"])
def test_uf_kernel_matches_reference(kind):
    rng = np.random.default_rng(5)
    net = FusionNetwork(kind, 3)
    for g in net.graphs:
        dec = UnionFindDecoder(g)
        for trial in range(15):
            pe = rng.choice([0.0, 0.1, 0.3])
            erased = rng.random(g.n_edges) < pe
            flips = (rng.random(g.n_edges) < 0.06) | (erased & (rng.random(g.n_edges) < 0.5))
            syn = g.syndrome(flips)
            if trial % 3 == 0:  # inhomogeneous weights, some edges impossible (p = 0)
                w = edge_weights(rng.uniform(0.01, 0.2, g.n_edges)
                                 * (rng.random(g.n_edges) < 0.8))
                flips &= np.isfinite(w) | erased
            else:
                w = np.ones(g.n_edges)
            got = dec.decode(syn, erased, w)
            ref = uf_decode(g.edges, g.n_nodes, w, syn, erased)
            assert np.array_equal(got, ref), (kind, g.name, trial)
            assert np.array_equal(g.syndrome(got), syn)
            assert not np.any(got & ~((got > 0) & (erased | (w > 0))))


@pytest.mark.parametrize("kind", ["6ring", "4star"])
def test_winding_kernel_matches_reference(kind):
    rng = np.random.default_rng(6)
    for L in (3, 4):
        g = FusionNetwork(kind, L).primal
        erased = rng.random((30, g.n_edges)) < rng.uniform(0.05, 0.5, (30, 1))
        basis, rank = erasure_windings(g, erased)
        for s in range(30):
            span = {0}
            for b in basis[s, :rank[s]]:
                span |= {x ^ int(b) for x in span}
            assert span == winding_span(g.edges, g.n_nodes, g.crossing, erased[s])


def test_weighted_growth_prefers_likely_edges():
    """Two defects joined by one unlikely edge or a 2-path of likely edges."""
    g = FusionNetwork("6ring", 4).primal
    e0 = 0
    u, v = g.edges[e0]
    # a 2-path u - w - v through a common neighbour
    nu = {int(g.adj_node[j]): int(g.adj_edge[j]) for j in range(g.indptr[u], g.indptr[u + 1])}
    nv = {int(g.adj_node[j]): int(g.adj_edge[j]) for j in range(g.indptr[v], g.indptr[v + 1])}
    w_node = next(iter(set(nu) & set(nv) - {u, v}))
    path = [nu[w_node], nv[w_node]]
    syn = np.zeros(g.n_nodes, np.uint8)
    syn[[u, v]] = 1
    p = np.full(g.n_edges, 0.01)
    p[path] = 0.3
    w = edge_weights(p)
    for name in ("uf", "mwpm"):
        corr = decode(g, syn, None, w, decoder=name)
        assert sorted(np.flatnonzero(corr).tolist()) == sorted(path), name
        assert np.flatnonzero(decode(g, syn, decoder=name)).tolist() == [e0]


def test_decoders_agree_on_pure_erasure():
    """uf, mwpm and erasure-ml agree within CIs (Bonferroni over the 3 pairs)."""
    model = HardwareAgnostic(0.11, 0.0)
    res = {d: simulate("6ring", model, L=5, decoder=d, shots=n, seed=3)
           for d, n in (("uf", 3000), ("erasure-ml", 3000), ("mwpm", 1000))}
    cis = {d: sim.binomial_ci(r.errors, r.shots, confidence=1 - 0.01 / 3)
           for d, r in res.items()}
    names = list(cis)
    for i in range(3):
        for j in range(i + 1, 3):
            a, b = cis[names[i]], cis[names[j]]
            assert a[0] <= b[1] and b[0] <= a[1], cis


def test_bad_inputs():
    g = FusionNetwork("6ring", 3).primal
    dec = UnionFindDecoder(g)
    with pytest.raises(ValueError, match="syndromes"):
        dec.decode_batch(np.zeros((2, 5), np.uint8))
    with pytest.raises(ValueError, match="weights"):
        dec.decode(np.zeros(g.n_nodes, np.uint8), None, -np.ones(g.n_edges))
    with pytest.raises(ValueError, match="decoder"):
        decode(g, np.zeros(g.n_nodes, np.uint8), decoder="bp")
    with pytest.raises(TypeError, match="graph"):
        UnionFindDecoder("primal")
    with pytest.raises(ValueError, match="p_flip"):
        edge_weights(1.5)
    # pure erasure, weights infinite off the erasure, but an unexplainable syndrome
    syn = np.zeros(g.n_nodes, np.uint8)
    syn[g.edges[0]] = 1
    with pytest.raises(ValueError, match="no growable edge"):
        dec.decode(syn, None, np.full(g.n_edges, np.inf))
