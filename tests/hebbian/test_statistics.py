"""Validation suite of the memory models: simulations against closed forms, with binomial CIs.

Tolerances: ``z = 2.6`` standard errors (two-sided ~1 %, Bonferroni-safe over the
handful of comparisons here), plus the stated modelling tolerance where the theory is
approximate (message-overlap theory: 5 % relative).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from hebbian import CliqueNetwork, SparseCliqueNetwork, noise, theory
from hebbian.sampler import MemorySampler

Z = 2.6


def _se(p: float, n: int) -> float:
    return math.sqrt(max(p * (1 - p), 1e-12) / n)


def _clique_error(M, queries, seed, *, networks=2, **kw):
    errs = 0
    for k in range(networks):
        rng = np.random.default_rng([seed, k])
        msgs = rng.integers(0, 256, size=(M, 8))
        net = CliqueNetwork(8, 256).store(msgs)
        target = msgs[rng.integers(0, M, queries // networks)]
        cues = noise.erase(target, 4, rng)
        res = net.recall(cues, rng=rng, **kw)
        ok = (res.messages == target).all(axis=1)
        if kw.get("tie", "error") == "error":
            ok &= (res.n_winners <= 1).all(axis=1)
        errs += int((~ok).sum())
    return errs / queries


def test_density_clique_and_sparse():
    rng = np.random.default_rng(0)
    net = CliqueNetwork(8, 256).store(rng.integers(0, 256, size=(10_000, 8)))
    assert abs(net.density - 0.1415) < 2e-3
    assert abs(net.density - theory.density(8, 256, 10_000)) < 2e-3
    sp = SparseCliqueNetwork(100, 64, 12)
    sp.store(sp.random_messages(50_000, rng))
    assert abs(sp.density - theory.density(100, 64, 50_000, active=12)) < 2e-3


@pytest.mark.parametrize("M", [5_000, 10_000])
def test_planted_clique_in_bernoulli_graph_matches_independent_edge_theory(M):
    """Exact case: iid Bernoulli(d) synapses, one planted clique per query.  Each graph
    serves 256 queries whose units are distinct in every cluster, so no planted edge
    touches another query's cue rows."""
    C, L, ce = 8, 256, 4
    d = theory.density(C, L, M)
    rng = np.random.default_rng(M)
    errors = trials = 0
    for _ in range(40):
        net = CliqueNetwork(C, L)
        bits = rng.random((net.n, C - 1, L)) < d
        pad = np.zeros((net.n, C - 1, 256), bool)
        pad[..., :L] = bits
        net._set_bits(np.packbits(pad, axis=-1, bitorder="little").view(np.uint64).copy())
        msgs = np.stack([rng.permutation(L) for _ in range(C)], axis=1)
        adj = net.adjacency()
        ids = msgs + np.arange(C) * L
        for row in ids:  # plant every query's clique
            adj[np.ix_(row, row)] = True
        adj[np.arange(net.n) // L == (np.arange(net.n) // L)[:, None]] = False
        net._set_bits(net.pack(adj))
        cues = noise.erase(msgs, ce, rng)
        # planting a query's clique only touches rows of its own units, which are
        # distinct from every other query's units: the trials are exact
        res = net.recall(cues)
        errors += int((~((res.messages == msgs).all(axis=1) & (res.n_winners == 1).all(1))).sum())
        trials += len(msgs)
    p_th = theory.error_rate(C, L, M, ce, method="independent_edges")
    p_sim = errors / trials
    assert abs(p_sim - p_th) < Z * _se(p_th, trials), (p_sim, p_th)


def test_stored_messages_follow_overlap_theory_not_independent_edges():
    n = 20_000
    for M in (3_000, 5_000, 10_000):
        p_sim = _clique_error(M, n, M)
        p_ov = theory.error_rate(8, 256, M, 4)
        assert 0.005 <= p_ov <= 0.5
        assert abs(p_sim - p_ov) < 0.05 * p_ov + Z * _se(p_ov, n), (M, p_sim, p_ov)
        p_ind = theory.error_rate(8, 256, M, 4, method="independent_edges")
        if M <= 5_000:  # the independent-edge formula sits clearly below the simulation
            assert p_sim > 1.15 * p_ind + Z * _se(p_ind, n), (M, p_sim, p_ind)


def test_random_tie_break_theory():
    n = 20_000
    p_sim = _clique_error(10_000, n, 11, tie="random")
    p_ov = theory.error_rate(8, 256, 10_000, 4, tie="random")
    assert abs(p_sim - p_ov) < 0.05 * p_ov + Z * _se(p_ov, n), (p_sim, p_ov)
    assert theory.error_rate(8, 256, 10_000, 4, method="independent_edges",
                             tie="random") < p_sim


def test_binomial_release_noise_formula_against_simulation():
    n = 10_000
    p_sim = _clique_error(4_000, n, 5, tie="random", memory=100,
                          release=noise.ReleaseNoise(10, 0.5))
    p_ov = theory.release_error_rate(8, 256, 4_000, 4, 0.5, 10)
    assert abs(p_sim - p_ov) < 0.05 * p_ov + Z * _se(p_ov, n), (p_sim, p_ov)
    assert round(theory.release_error_rate(8, 256, 4_000, 4, 0.5, 10,
                                           method="independent_edges"), 3) == 0.145


def test_sparse_blind_one_iteration_matches_aliabadi_table():
    s = MemorySampler()
    p = s.validate({"model": "sparse", "clusters": 100, "neurons": 64, "active": 12,
                    "messages": 103_000, "erased": 3, "queries_per_network": 10_000})
    st = s.sample(p, 10_000, np.random.default_rng(3))
    rate = st.errors / st.shots
    assert abs(rate - 0.079) < 0.25 * 0.079 + Z * _se(0.079, st.shots), rate
    th = theory.sparse_error_rate(100, 64, 12, 103_000, 3)
    assert abs(rate - th) < 0.25 * th + Z * _se(th, st.shots)


def test_som_regression_band_from_spec_table():
    """Iterated SoM, c=8, l=256, 4 erased: .0206 +- .0006 at M=15k (reference table), 3 sigma."""
    n = 20_000
    p_sim = _clique_error(15_000, n, 15, networks=2, rule="som", iterations=None)
    sigma = math.sqrt(_se(0.0206, n) ** 2 + 0.0006**2)
    assert abs(p_sim - 0.0206) < 3 * sigma, p_sim
