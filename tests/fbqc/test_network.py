"""Structure of the fusion networks at L = 3, 4, 5."""

from __future__ import annotations

import numpy as np
import pytest
import stim

from fbqc.network import MEMBRANE_NAMES, FusionNetwork
from tests.fbqc.reference import straight_loop

CASES = [(k, L) for k in ("6ring", "4star") for L in (3, 4, 5)]
PER_CELL = {"6ring": {"states": 2, "qubits": 12, "fusions": 6},
            "4star": {"states": 6, "qubits": 24, "fusions": 12}}
WEIGHT = {"6ring": 12, "4star": 24}


@pytest.fixture(scope="module", params=CASES, ids=[f"{k}-L{L}" for k, L in CASES])
def net(request):
    return FusionNetwork(*request.param)


def test_counts_and_weights(net):
    c = net.counts()
    assert c["per_cell"] == PER_CELL[net.kind]
    assert c["check_weights"] == (WEIGHT[net.kind], WEIGHT[net.kind])
    assert c["checks"] == (net.L**3, net.L**3)
    assert net.n_outcomes == 2 * net.n_fusions


def test_each_outcome_in_exactly_two_checks_of_one_graph(net):
    for g in (0, 1):
        ch = net.checks[g]
        counts = np.bincount(ch.reshape(-1), minlength=net.n_outcomes)
        assert set(np.unique(counts[net.outcome_graph == g])) == {2}
        assert np.all(counts[net.outcome_graph != g] == 0)
        # outcome_checks agrees with the check table
        for o in np.flatnonzero(net.outcome_graph == g)[:50]:
            rows = np.flatnonzero((ch == o).any(axis=1))
            assert sorted(rows.tolist()) == sorted(net.outcome_checks[o].tolist())


def test_every_qubit_in_one_fusion_and_sites_in_two_rings(net):
    q = net.fusion_qubits.reshape(-1)
    assert np.array_equal(np.sort(q), np.arange(net.n_qubits))
    if net.kind == "6ring":
        assert set(np.bincount(net.qubit_site)) == {2}


def _comm(ax, az, bx, bz):
    a = np.concatenate([ax, az], axis=1).astype(np.float32)  # BLAS; counts stay exact
    b = np.concatenate([bz, bx], axis=1).astype(np.float32)
    return (a @ b.T).astype(np.int64) & 1


def test_checks_and_membranes_are_stabilisers(net):
    """Every check and membrane commutes with every resource-state stabiliser (hence is
    a deterministic product of fusion outcomes) and with every check."""
    sx, sz = net.stabilizer_generators()
    ox, oz = net.outcome_operators()
    ops = [*net.checks[0], *net.checks[1]]
    ops += [np.flatnonzero(net.membranes[m]) for m in range(6)]
    X = np.array([np.bitwise_xor.reduce(ox[r], axis=0) for r in ops])
    Z = np.array([np.bitwise_xor.reduce(oz[r], axis=0) for r in ops])
    assert not _comm(X, Z, sx, sz).any()
    assert not _comm(X, Z, X, Z).any()  # membranes commute with every check


def test_membrane_sizes_and_graph_shape(net):
    L = net.L
    per = 3 if net.kind == "6ring" else 4
    assert net.membranes.sum(axis=1).tolist() == [per * L * L] * 6
    for g in net.graphs:
        shifts = {tuple(int(v) for v in s) for s in g.edge_shift}
        shifts |= {tuple(-v for v in s) for s in shifts}
        if net.kind == "6ring":  # FCC: ±e_k and ±(e_i - e_j)
            expect = {tuple(s * np.eye(3, dtype=int)[k]) for k in range(3) for s in (1, -1)}
            expect |= {tuple(np.eye(3, dtype=int)[i] - np.eye(3, dtype=int)[j])
                       for i in range(3) for j in range(3) if i != j}
            assert g.degree == 12 and g.bundle_size == 1
        else:
            expect = {tuple(s * np.eye(3, dtype=int)[k]) for k in range(3) for s in (1, -1)}
            assert g.degree == 6 and g.bundle_size == 4
        assert shifts == expect


def test_winding_cycle_is_logical(net):
    """A straight x-loop of primal edges has no syndrome and flips only the x-membrane."""
    for gi, g in enumerate(net.graphs):
        loop = straight_loop(g)
        assert not g.syndrome(loop).any()
        assert (g.crossing[loop].sum(axis=0) % 2).tolist() == [1, 0, 0]
        assert MEMBRANE_NAMES[3 * gi] in ("primal-x", "dual-x")


@pytest.mark.parametrize("kind", ["6ring", "4star"])
def test_stim_detectors_are_deterministic(kind):
    """Preparing the resource states and measuring every fusion: checks and membranes are
    deterministic (stim raises on a non-deterministic detector or observable)."""
    net = FusionNetwork(kind, 3)
    c = stim.Circuit()
    c.append("H", range(net.n_qubits))
    if kind == "6ring":
        c.append("CZ", net.state_edges().reshape(-1))
    else:  # GHZ: H on the first qubit (already), CNOT to the others after undoing H
        others = net.state_qubits[:, 1:].reshape(-1)
        c.append("H", others)
        c.append("CNOT", np.stack([np.repeat(net.state_qubits[:, 0], 3), others], 1).reshape(-1))
    for o in range(net.n_outcomes):
        qa, qb = net.fusion_qubits[net.outcome_fusion[o]]
        pa, pb = net.outcome_paulis[o]
        c.append("MPP", [stim.target_pauli(int(qa), pa), stim.target_combiner(),
                         stim.target_pauli(int(qb), pb)])
    n = net.n_outcomes
    for g in (0, 1):
        for row in net.checks[g]:
            c.append("DETECTOR", [stim.target_rec(int(o) - n) for o in row])
    for m in range(6):
        c.append("OBSERVABLE_INCLUDE",
                 [stim.target_rec(int(o) - n) for o in np.flatnonzero(net.membranes[m])], m)
    dem = c.detector_error_model()
    assert dem.num_detectors == 2 * 27 and dem.num_observables == 6


def test_bad_arguments():
    with pytest.raises(ValueError, match="L"):
        FusionNetwork("6ring", 2)
    with pytest.raises(TypeError, match="L"):
        FusionNetwork("6ring", 3.0)
    with pytest.raises(ValueError, match="kind"):
        FusionNetwork("hexagon", 4)


def test_networkx_and_bundles():
    net = FusionNetwork("4star", 3)
    g = net.to_networkx()
    assert g.number_of_nodes() == net.n_qubits
    assert sum(d["kind"] == "fusion" for *_, d in g.edges(data=True)) == net.n_fusions
    sg = net.primal.to_networkx()
    assert sg.number_of_edges() == net.primal.n_edges
    rng = np.random.default_rng(0)
    er = rng.random((5, net.n_outcomes)) < 0.1
    fl = rng.random((5, net.n_outcomes)) < 0.1
    e_er, e_fl = net.primal.bundle(er, fl)
    o = net.primal.edge_outcomes[7]
    assert e_er[2, 7] == er[2, o].any() and e_fl[2, 7] == (fl[2, o].sum() % 2 == 1)
    assert np.array_equal(net.outcome_edge[o], [7] * 4)
