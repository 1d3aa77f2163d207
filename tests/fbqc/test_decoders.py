"""Decoders: correctness on small instances, kernels against the plain references,
accuracy against exact matching, bad input."""

from __future__ import annotations

import sys

import networkx as nx
import numpy as np
import pytest
import stim
from scipy.stats import binomtest

import sim
from fbqc import HardwareAgnostic, simulate
from fbqc._kernels import max_weight_matching
from fbqc.decoders import (
    GRAPH_DECODERS,
    DecodingGraph,
    FusionBlossomDecoder,
    LocalMatchingDecoder,
    MatchingDecoder,
    UnionFindDecoder,
    WeightOverflowError,
    decode,
    edge_weights,
    erasure_windings,
    make_decoder,
)
from fbqc.herald_decoders import ErasureDecoder, add_heralded_erasure, herald_graph
from fbqc.network import FusionNetwork
from fbqc.stim_circuits import stim_circuit
from tests.fbqc.reference import (
    local_matching_cost,
    min_weight_perfect_matching,
    straight_loop,
    uf_decode,
    winding_span,
)

CASES = [(k, L) for k in ("6ring", "4star") for L in (3, 4, 5)]
P_LEVELS = np.array([0.0, 0.01, 0.05, 0.1, 0.2])


@pytest.fixture(scope="module", params=CASES, ids=[f"{k}-L{L}" for k, L in CASES])
def net(request):
    return FusionNetwork(*request.param)


def _failures(dec, g, flips, erased=None):
    flips = np.asarray(flips, np.uint8)
    pred = dec.decode_batch(g.syndrome(flips), erased)
    truth = (flips @ g.crossing.astype(np.uint8)) & 1
    return (pred ^ truth).any(axis=1)


def _random_graph(seed: int):
    """A small random multigraph, with a boundary node for even seeds."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(6, 16))
    edges = rng.integers(0, n, size=(int(rng.integers(n, 3 * n)), 2))
    edges = edges[edges[:, 0] != edges[:, 1]]
    b = n - 1 if seed % 2 == 0 else None
    obs = rng.integers(0, 2, size=(len(edges), 2))
    return DecodingGraph(n, edges, obs, boundary_node=b), rng


def _syndrome(edges, n, flips, boundary):
    syn = np.zeros(n, np.uint8)
    for e in np.flatnonzero(flips):
        syn[edges[e]] ^= 1
    if boundary is not None:
        syn[boundary] = 0
    return syn


@pytest.mark.parametrize("name", GRAPH_DECODERS)
def test_zero_noise_and_single_flips(net, name):
    for g in net.graphs:
        dec = make_decoder(name, g)
        zero = np.zeros((3, g.n_edges), np.uint8)
        assert not g.syndrome(zero).any()
        assert not _failures(dec, g, zero).any()
        single = np.eye(g.n_edges, dtype=np.uint8)
        assert not _failures(dec, g, single).any()


@pytest.mark.parametrize("name", GRAPH_DECODERS)
def test_flips_below_half_distance_never_fail(net, name):
    rng = np.random.default_rng(11)
    t = (net.L - 1) // 2
    for g in net.graphs:
        dec = make_decoder(name, g)
        flips = np.zeros((300, g.n_edges), np.uint8)
        for row in flips:
            row[rng.choice(g.n_edges, t, replace=False)] = 1
        assert not _failures(dec, g, flips).any()


@pytest.mark.parametrize("name", GRAPH_DECODERS)
def test_erasures_below_distance_never_wind_and_are_corrected(net, name):
    rng = np.random.default_rng(12)
    for g in net.graphs:
        erased = np.zeros((300, g.n_edges), bool)
        for row in erased:
            row[rng.choice(g.n_edges, net.L - 1, replace=False)] = True
        flips = erased & (rng.random(erased.shape) < 0.5)
        _, rank = erasure_windings(g, erased)
        assert not rank.any()
        assert not _failures(make_decoder(name, g), g, flips, erased).any()


@pytest.mark.parametrize("name", GRAPH_DECODERS)
def test_x_line_of_erasures_winds(net, name):
    g = net.primal
    line = straight_loop(g)
    basis, rank = erasure_windings(g, line)
    assert rank.tolist() == [1] and basis[0, 0] == 1
    # the decoders then fail half the time: flipping the whole line is undetectable
    flips = np.stack([np.zeros(g.n_edges, np.uint8), line.astype(np.uint8)])
    fails = _failures(make_decoder(name, g), g, flips, np.stack([line, line]))
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
            if trial % 3 == 0:  # inhomogeneous weights, some edges impossible (p = 0)
                w = edge_weights(rng.uniform(0.01, 0.2, g.n_edges)
                                 * (rng.random(g.n_edges) < 0.8))
                flips &= np.isfinite(w) | erased
            else:
                w = np.ones(g.n_edges)
            syn = g.syndrome(flips)
            got = dec.decode(syn, erased, w)
            ref = uf_decode(g.edges, g.n_nodes, w, syn, erased)
            assert np.array_equal(got, ref), (kind, g.name, trial)
            assert np.array_equal(g.syndrome(got), syn)
            # an edge that cannot flip (p = 0) is never in the correction unless erased
            assert not np.any(got.astype(bool) & ~erased & ~np.isfinite(w))
            if trial % 3 == 0:
                assert (~np.isfinite(w) & ~erased).any()  # the check above had work to do


@pytest.mark.parametrize("seed", range(8))
def test_uf_kernel_with_boundary_matches_reference(seed):
    dg, rng = _random_graph(seed)
    b = -1 if dg.boundary_node is None else dg.boundary_node
    dec = UnionFindDecoder(dg)
    for _ in range(20):
        erased = rng.random(dg.n_edges) < 0.2
        flips = (rng.random(dg.n_edges) < 0.12) | (erased & (rng.random(dg.n_edges) < 0.5))
        if b < 0:  # without a boundary only erased flips are always explainable
            flips &= erased
        syn = _syndrome(dg.edges, dg.n_nodes, flips, dg.boundary_node)
        w = np.ones(dg.n_edges)
        got = dec.decode(syn, erased)
        ref = uf_decode(dg.edges, dg.n_nodes, w, syn, erased, b)
        assert np.array_equal(got, ref)
        assert np.array_equal(_syndrome(dg.edges, dg.n_nodes, got, dg.boundary_node), syn)


def test_merged_kernel_reproduces_the_two_old_kernels():
    """``tests/fbqc/data/old_uf_kernels.npz``: shots decoded by the two union-find kernels
    this one replaced (``fbqc/_kernels.py`` and ``fbqc/_herald_kernels.py`` at commit
    0ad9c8e): fusion-network graphs under pure erasure, pure Pauli, mixed and weighted
    noise; random graphs with and without a boundary; a surface code with heralded
    erasure through the ``erasure-uf`` sinter decoder.  Every output must be the same."""
    z = np.load("tests/fbqc/data/old_uf_kernels.npz")
    n_shots = 0
    for kind in ("6ring", "4star"):
        for L in (3, 4, 5):
            for gi, g in enumerate(FusionNetwork(kind, L).graphs):
                dec = UnionFindDecoder(g)
                for regime in ("erasure", "pauli", "mixed", "weighted"):
                    key = f"core/{kind}/{L}/{gi}/{regime}"
                    syn = np.unpackbits(z[key + "/syn"], axis=1, count=g.n_nodes)
                    er = np.unpackbits(z[key + "/erased"], axis=1, count=g.n_edges)
                    corr = np.unpackbits(z[key + "/corr"], axis=1, count=g.n_edges)
                    w = (edge_weights(P_LEVELS[z[key + "/widx"]]) if regime == "weighted"
                         else None)
                    assert np.array_equal(dec.decode_batch(syn, er, w), z[key + "/parity"])
                    for s in range(syn.shape[0]):
                        got = dec.decode(syn[s], er[s], None if w is None else w[s])
                        assert np.array_equal(got, corr[s]), (key, s)
                    n_shots += syn.shape[0]
    for seed in range(8):
        key = f"herald/random/{seed}"
        b = int(z[key + "/boundary"])
        dg = DecodingGraph(int(z[key + "/n"]), z[key + "/edges"].astype(np.int64),
                           z[key + "/edge_obs"], boundary_node=None if b < 0 else b)
        got = UnionFindDecoder(dg).decode_batch(z[key + "/syn"], z[key + "/erased"])
        assert np.array_equal(got, z[key + "/obs"])
        n_shots += got.shape[0]
    for name, p_dep in (("erasure", 1e-9), ("mixed", 0.004)):
        c = stim.Circuit.generated("surface_code:rotated_memory_x", distance=5, rounds=5,
                                   before_round_data_depolarization=p_dep)
        dem = add_heralded_erasure(c, 0.1).detector_error_model(approximate_disjoint_errors=True)
        dets = np.unpackbits(z[f"herald/surface/{name}/dets"], axis=1,
                             count=int(z[f"herald/surface/{name}/ndet"]))
        got = ErasureDecoder("uf").compile_decoder_for_dem(dem=dem).decode(dets)
        assert np.array_equal(got, z[f"herald/surface/{name}/obs"])
        n_shots += got.shape[0]
    assert n_shots == 48 * 40 + 8 * 40 + 600


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


def test_blossom_kernel_matches_brute_force():
    """Maximum cardinality always (as networkx); the least weight when perfect."""
    rng = np.random.default_rng(8)
    n_perfect = 0
    for trial in range(300):
        n = int(rng.integers(1, 13))
        pairs = [(i, j) for i in range(n) for j in range(i + 1, n)
                 if rng.random() < rng.uniform(0.2, 1.0)]
        if not pairs:
            continue
        d = rng.integers(0, 50 if trial % 2 else 4, len(pairs))  # many ties when small
        eu = np.array([p[0] for p in pairs], np.int64)
        ev = np.array([p[1] for p in pairs], np.int64)
        mate = np.empty(n, np.int64)
        medge = np.empty(n, np.int64)
        max_weight_matching(n, eu, ev, 2 * (d.max() + 1 - d), mate, medge)
        got = [(v, int(mate[v])) for v in range(n) if mate[v] > v]
        for v in range(n):
            assert mate[v] < 0 or (mate[mate[v]] == v and {eu[medge[v]], ev[medge[v]]}
                                   == {v, mate[v]})
        g = nx.Graph(pairs)
        assert len(got) == len(nx.max_weight_matching(g, maxcardinality=True))
        best = min_weight_perfect_matching(n, {p: int(x) for p, x in zip(pairs, d)})
        if best is not None:
            n_perfect += 1
            assert 2 * len(got) == n
            assert sum(int(d[medge[v]]) for v, _ in got) == best
    assert n_perfect > 50


@pytest.mark.parametrize("seed", range(12))
def test_local_mwpm_matches_reference(seed):
    """The matching length equals the reference's (its candidates, exact optimum), for
    uniform weights (bit-parallel search) and varied ones (one search per defect), with
    and without a boundary; the correction reproduces the syndrome."""
    if seed % 3 == 0:
        dg = FusionNetwork("6ring" if seed % 2 else "4star", 3).primal
        rng = np.random.default_rng(seed)
        b = None
    else:
        dg, rng = _random_graph(seed)
        b = dg.boundary_node
    for trial in range(8):
        erased = rng.random(dg.n_edges) < 0.2
        w = (edge_weights(rng.uniform(0.01, 0.3, dg.n_edges) * (rng.random(dg.n_edges) < 0.9))
             if trial % 2 else np.ones(dg.n_edges))
        flips = (rng.random(dg.n_edges) < 0.15) & (np.isfinite(w) | erased)
        if b is None and seed % 3:
            flips &= erased
        syn = _syndrome(dg.edges, dg.n_nodes, flips, b)
        for knn, reach in ((1, 0), (1, 1), (3, 0)):
            dec = LocalMatchingDecoder(dg, knn=knn, reach=reach)
            corr = dec.decode(syn, erased, w)
            ref = local_matching_cost(dg.edges, dg.n_nodes, w, syn, erased, knn, reach,
                                      -1 if b is None else b)
            assert int(dec.last_cost[0]) == ref, (seed, trial, knn, reach)
            assert np.array_equal(_syndrome(dg.edges, dg.n_nodes, corr, b), syn)
            assert not np.any(corr.astype(bool) & ~erased & ~np.isfinite(w))


def test_local_mwpm_finds_the_minimum_weight_matching():
    """With the default candidates the matching is the global optimum on every shot
    here (the complete-graph optimum by networkx's blossom), at a dense mixed point."""
    g = FusionNetwork("6ring", 5).primal
    erased, flips = HardwareAgnostic(0.06, 0.012).sample(g, 60, np.random.default_rng(4))
    syn = g.syndrome(flips)
    dec = LocalMatchingDecoder(g)
    dec.decode_batch(syn, erased)
    lengths = []
    for s in range(60):
        cost = local_matching_cost(g.edges, g.n_nodes, np.ones(g.n_edges), syn[s], erased[s],
                                   10**6, 0, exact=True)
        lengths.append(cost)
    assert max(lengths) > 5 * (1 << 20)  # non-trivial shots
    assert dec.last_cost.tolist() == lengths


def _mcnemar(fail_a, fail_b):
    b = int(np.count_nonzero(fail_a & ~fail_b))
    c = int(np.count_nonzero(~fail_a & fail_b))
    return binomtest(b, b + c).pvalue if b + c else 1.0


def test_local_mwpm_agrees_with_exact_matching_where_uf_does_not():
    """Same 2000 shots (6-ring, L = 6, (p_E, p_P) = (0.06, 0.0065)): ``local-mwpm`` and
    exact matching (PyMatching rebuilt per shot) fail on statistically the same shots
    (two-sided McNemar), union-find does not (the same test rejects it)."""
    g = FusionNetwork("6ring", 6).primal
    erased, flips = HardwareAgnostic(0.06, 0.0065).sample(g, 2000, np.random.default_rng(1))
    syn, truth = g.syndrome(flips), g.membrane_parity(flips)[:, 0]
    fails = {n: make_decoder(n, g).decode_batch(syn, erased)[:, 0] != truth
             for n in ("mwpm", "local-mwpm", "uf")}
    assert _mcnemar(fails["local-mwpm"], fails["mwpm"]) > 1e-3
    assert _mcnemar(fails["uf"], fails["mwpm"]) < 1e-6


@pytest.mark.parametrize("kind", ["6ring", "4star"])
def test_fusion_blossom_agrees_with_mwpm(kind):
    """Direct backend: the same shots through both exact matchers (McNemar); stim
    backend: the herald-aware sinter decoders on the network's own circuit."""
    L, model = 4, HardwareAgnostic(0.08, 0.01 if kind == "6ring" else 0.006)
    g = FusionNetwork(kind, L).primal
    erased, flips = model.sample(g, 1500, np.random.default_rng(2))
    syn, truth = g.syndrome(flips), g.membrane_parity(flips)[:, 0]
    f = {n: make_decoder(n, g).decode_batch(syn, erased)[:, 0] != truth
         for n in ("fusion-blossom", "mwpm")}
    assert 30 < f["mwpm"].sum() < 1000
    assert _mcnemar(f["fusion-blossom"], f["mwpm"]) > 1e-3
    circ = stim_circuit(kind, L, model, seed=1)
    dem = circ.detector_error_model(approximate_disjoint_errors=True)
    dets, obs = circ.compile_detector_sampler(seed=3).sample(1500, separate_observables=True)
    fs = {m: ErasureDecoder(m).compile_decoder_for_dem(dem=dem).decode(dets.astype(np.uint8))
          [:, 0] != obs[:, 0] for m in ("fusion-blossom", "mwpm", "local-mwpm")}
    assert 30 < fs["mwpm"].sum() < 1000
    assert _mcnemar(fs["fusion-blossom"], fs["mwpm"]) > 1e-3
    assert _mcnemar(fs["local-mwpm"], fs["mwpm"]) > 1e-3


def test_local_mwpm_equals_uf_under_pure_erasure():
    """No Pauli noise: no defect survives contraction, both decoders only peel."""
    g = FusionNetwork("6ring", 6).primal
    erased, flips = HardwareAgnostic(0.11, 0.0).sample(g, 300, np.random.default_rng(7))
    syn = g.syndrome(flips)
    for s in range(0, 300, 10):
        assert np.array_equal(LocalMatchingDecoder(g).decode(syn[s], erased[s]),
                              UnionFindDecoder(g).decode(syn[s], erased[s]))
    a = LocalMatchingDecoder(g).decode_batch(syn, erased)
    assert np.array_equal(a, UnionFindDecoder(g).decode_batch(syn, erased))


def test_weighted_growth_prefers_likely_edges():
    """Two defects joined by one unlikely edge or a 2-path of likely edges."""
    g = FusionNetwork("6ring", 4).primal
    e0 = 0
    u, v = g.edges[e0]
    nu = {int(g.adj_node[j]): int(g.adj_edge[j]) for j in range(g.indptr[u], g.indptr[u + 1])}
    nv = {int(g.adj_node[j]): int(g.adj_edge[j]) for j in range(g.indptr[v], g.indptr[v + 1])}
    w_node = next(iter(set(nu) & set(nv) - {u, v}))
    path = [nu[w_node], nv[w_node]]
    syn = np.zeros(g.n_nodes, np.uint8)
    syn[[u, v]] = 1
    p = np.full(g.n_edges, 0.01)
    p[path] = 0.3
    w = edge_weights(p)
    for name in GRAPH_DECODERS:
        corr = decode(g, syn, None, w, decoder=name)
        assert sorted(np.flatnonzero(corr).tolist()) == sorted(path), name
        assert np.flatnonzero(decode(g, syn, decoder=name)).tolist() == [e0]


def test_decoders_agree_on_pure_erasure():
    """uf, mwpm, local-mwpm and erasure-ml agree within CIs (Bonferroni over the pairs)."""
    model = HardwareAgnostic(0.11, 0.0)
    res = {d: simulate("6ring", model, L=5, decoder=d, shots=n, seed=3)
           for d, n in (("uf", 3000), ("erasure-ml", 3000), ("mwpm", 1000),
                        ("local-mwpm", 3000))}
    cis = {d: sim.binomial_ci(r.errors, r.shots, confidence=1 - 0.01 / 6)
           for d, r in res.items()}
    names = list(cis)
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            a, b = cis[names[i]], cis[names[j]]
            assert a[0] <= b[1] and b[0] <= a[1], cis


@pytest.mark.parametrize("backend", ["direct", "stim"])
def test_new_decoders_through_simulate(backend):
    model = HardwareAgnostic(0.05, 0.004)
    out = {d: simulate("4star", model, L=4, decoder=d, shots=400, seed=5, backend=backend)
           for d in ("mwpm", "fusion-blossom", "local-mwpm")}
    assert all(r.shots == 400 for r in out.values())
    rates = [r.errors for r in out.values()]
    assert 0 < max(rates) and max(rates) - min(rates) <= 4 * np.sqrt(max(rates)) + 4


def test_herald_graph_decoders_share_the_factory():
    c = add_heralded_erasure(stim.Circuit.generated(
        "surface_code:rotated_memory_x", distance=3, rounds=3,
        before_round_data_depolarization=0.01), 0.05)
    dg = herald_graph(c.detector_error_model(approximate_disjoint_errors=True)).decoding_graph()
    assert dg.boundary_node == dg.n_nodes - 1
    for name in GRAPH_DECODERS:
        assert make_decoder(name, dg).decode_batch(np.zeros((2, dg.n_nodes))).shape == (2, 1)


def test_bad_inputs():
    g = FusionNetwork("6ring", 3).primal
    dec = UnionFindDecoder(g)
    with pytest.raises(ValueError, match="syndromes"):
        dec.decode_batch(np.zeros((2, 5), np.uint8))
    with pytest.raises(ValueError, match="weights"):
        dec.decode(np.zeros(g.n_nodes, np.uint8), None, -np.ones(g.n_edges))
    with pytest.raises(ValueError, match="decoder must be one of"):
        decode(g, np.zeros(g.n_nodes, np.uint8), decoder="bp")
    with pytest.raises(ValueError, match="decoder must be one of"):
        make_decoder("fusion_blossom", g)
    with pytest.raises(TypeError, match="graph"):
        UnionFindDecoder("primal")
    with pytest.raises(ValueError, match="p_flip"):
        edge_weights(1.5)
    with pytest.raises(ValueError, match="knn"):
        LocalMatchingDecoder(g, knn=0)
    with pytest.raises(ValueError, match="reach"):
        LocalMatchingDecoder(g, reach=-1)
    with pytest.raises(ValueError, match="max_half_weight"):
        FusionBlossomDecoder(g, max_half_weight=0)
    with pytest.raises(ValueError, match="boundary_node"):
        DecodingGraph(3, np.array([[0, 1]]), np.zeros((1, 1)), boundary_node=3)
    with pytest.raises(ValueError, match="self-loops"):
        DecodingGraph(3, np.array([[1, 1]]), np.zeros((1, 1)))
    with pytest.raises(ValueError, match="edges"):
        DecodingGraph(3, np.array([[0, 3]]), np.zeros((1, 1)))
    # pure erasure, weights infinite off the erasure, but an unexplainable syndrome
    syn = np.zeros(g.n_nodes, np.uint8)
    syn[g.edges[0]] = 1
    for cls in (UnionFindDecoder, LocalMatchingDecoder):
        with pytest.raises(ValueError, match="no growable edge|no path"):
            cls(g).decode(syn, None, np.full(g.n_edges, np.inf))


def test_fusion_blossom_refuses_weights_that_overflow():
    g = FusionNetwork("6ring", 3).primal
    huge = FusionBlossomDecoder(g, max_half_weight=2**55)
    with pytest.raises(WeightOverflowError, match="integer range"):
        huge.decode_batch(np.zeros((1, g.n_nodes), np.uint8))
    assert issubclass(WeightOverflowError, ValueError)
    ok = FusionBlossomDecoder(g, max_half_weight=10)
    w = ok.integer_weights(np.r_[2.0, 1.0, 0.0, np.inf, np.full(g.n_edges - 4, 2.0)])
    assert w[:3].tolist() == [20, 10, 0] and w[3] > w.sum() - w[3]
    assert np.all(w % 2 == 0)


def test_missing_fusion_blossom_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "fusion_blossom", None)
    with pytest.raises(ImportError, match=r"pip install 'erasurelab\[blossom\]'"):
        make_decoder("fusion-blossom", FusionNetwork("6ring", 3).primal)


def test_matching_decoder_uses_public_pymatching_only():
    import inspect

    import fbqc.decoders as D

    src = inspect.getsource(D)
    assert "_cpp_pymatching" not in src and "_matching_graph" not in src
    g = FusionNetwork("6ring", 3).primal
    flips = np.zeros(g.n_edges, np.uint8)
    flips[[1, 30]] = 1
    erased = np.zeros(g.n_edges, bool)
    erased[30] = True
    corr = MatchingDecoder(g).decode(g.syndrome(flips), erased)
    assert np.array_equal(g.syndrome(corr), g.syndrome(flips))


def test_local_mwpm_axis_thresholds_are_those_of_mwpm_and_uf():
    """On the axes ``local-mwpm`` decodes bit for bit as PyMatching (pure Pauli: no shot
    has an erasure) and as union-find (pure erasure: no defect survives contraction), so
    its Pauli and erasure thresholds are theirs: same seed, same counts."""
    for kind in ("6ring", "4star"):
        pauli = HardwareAgnostic(0.0, 0.012)
        a, b = (simulate(kind, pauli, L=5, decoder=d, shots=600, seed=11)
                for d in ("local-mwpm", "mwpm"))
        assert a.errors > 20 and (a.errors, a.custom_counts) == (b.errors, b.custom_counts)
        erasure = HardwareAgnostic(0.1 if kind == "6ring" else 0.06, 0.0)
        a, b = (simulate(kind, erasure, L=5, decoder=d, shots=600, seed=12)
                for d in ("local-mwpm", "uf"))
        assert a.errors > 20 and (a.errors, a.custom_counts) == (b.errors, b.custom_counts)


def test_cli_sweeps_with_the_new_decoders(tmp_path, capsys):
    from sim.cli import main

    out = tmp_path / "d.csv"
    assert main(["fbqc", "sweep", "--network", "4star", "--L", "3", "--p-erasure", "0.05",
                 "--p-pauli", "0.004", "--decoder", "fusion-blossom,local-mwpm",
                 "--max-shots", "50", "--seed", "1", "--workers", "1", "--no-progress",
                 "--out", str(out)]) == 0
    rows = sim.combine(sim.read_stats(out))
    assert {r.json_metadata["decoder"] for r in rows} == {"fusion-blossom", "local-mwpm"}
    assert all(r.shots == 50 for r in rows)
    stim_out = tmp_path / "s.csv"
    assert main(["fbqc", "sweep", "--network", "6ring", "--L", "3", "--p-erasure", "0.05",
                 "--p-pauli", "0.004", "--backend", "stim", "--decoder",
                 "erasure-fusion-blossom,erasure-local-mwpm", "--max-shots", "50",
                 "--seed", "1", "--workers", "1", "--no-progress", "--out", str(stim_out)]) == 0
    assert len(sim.read_stats(stim_out)) == 2
    capsys.readouterr()
    bad = tmp_path / "bad.csv"
    assert main(["fbqc", "sweep", "--network", "6ring", "--L", "3", "--decoder",
                 "erasure-local-mwpm", "--max-shots", "10", "--out", str(bad)]) == 2
    assert not bad.exists() and "decoder" in capsys.readouterr().err
