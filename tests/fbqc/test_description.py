"""Fusion networks from descriptions: derivation of checks, graphs and membranes by GF(2)
linear algebra, against the hand-built networks and the stim stabilizer simulator."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import fbqc
from fbqc.catalog import (
    NETWORKS,
    get_description,
    register_network,
    ring_decomposition,
    three_ghz,
)
from fbqc.description import Fusion, FusionDescription, Instance, ResourceState, derive
from fbqc.gf2 import anticommutes, nullspace, rank, solve, symplectic
from fbqc.network import FusionNetwork
from fbqc.noise import HardwareAgnostic
from fbqc.stim_circuits import stim_circuit

DERIVED = ["12ring", "3ghz", "4star-bell"]


# ------------------------------------------------------------------ GF(2) helpers
def test_gf2_against_dense_reference():
    rng = np.random.default_rng(3)
    for m, n in [(5, 9), (40, 70), (90, 65), (200, 130)]:
        A = rng.random((m, n)) < 0.2
        N = nullspace(A)
        assert not ((A.astype(int) @ N.T.astype(int)) % 2).any()
        assert N.shape[0] == n - rank(A)
        assert rank(N) == N.shape[0]
        x = rng.random(n) < 0.5
        b = (A.astype(int) @ x.astype(int)) % 2
        y = solve(A, b.astype(bool))
        assert np.array_equal((A.astype(int) @ y.astype(int)) % 2, b)
    assert solve(np.array([[1, 1], [1, 1]], bool), np.array([1, 0], bool)) is None
    x, z = symplectic("XYZI")
    assert anticommutes(x[None], z[None], *[v[None] for v in symplectic("ZIII")])[0, 0]
    assert not anticommutes(x[None], z[None], *[v[None] for v in symplectic("ZZZZ")])[0, 0]


# ------------------------------------------------------------------ resource states
def test_resource_state_constructors_and_validation():
    assert ResourceState.ring(4).stabilizers == ("XZIZ", "ZXZI", "IZXZ", "ZIZX")
    assert ResourceState.star(3).stabilizers == ("XZZ", "ZXI", "ZIX")
    assert ResourceState.ghz(4).n == 4
    with pytest.raises(ValueError, match="anticommute"):
        ResourceState.from_stabilizers(["XI", "ZI"])
    with pytest.raises(ValueError, match="not independent"):
        ResourceState.from_stabilizers(["XX", "XX"])
    with pytest.raises(ValueError, match="Pauli string of length"):
        ResourceState.from_stabilizers(["XQ", "ZZ"])
    with pytest.raises(ValueError, match="edges"):
        ResourceState.graph(3, [(0, 3)])


def _bell_chain(paulis=("XX", "ZZ"), second=True):
    """A 1-D chain of Bell pairs along x, each end fused with the next pair's start."""
    bell = ResourceState.graph(2, [(0, 1)], name="Bell")
    fus = [Fusion("f", ("P", 1, (0, 0, 0)), ("P", 0, (1, 0, 0)), paulis)]
    if not second:
        fus = []
    return FusionDescription("chain", (Instance("P", bell),), tuple(fus))


def test_description_errors_name_the_culprit():
    bell = ResourceState.graph(2, [(0, 1)], name="Bell")
    with pytest.raises(ValueError, match="at least one fusion"):
        _bell_chain(second=False)
    with pytest.raises(ValueError, match=r"qubit . of instance 'P' is in 2 fusions \('a'"):
        derive(FusionDescription("d", (Instance("P", bell),), (
            Fusion("a", ("P", 1, (0, 0, 0)), ("P", 0, (1, 0, 0))),
            Fusion("b", ("P", 1, (0, 0, 0)), ("P", 0, (0, 1, 0))))))
    with pytest.raises(ValueError, match="unknown instance 'Q'"):
        derive(FusionDescription("d", (Instance("P", bell),),
                                 (Fusion("a", ("P", 1, (0, 0, 0)), ("Q", 0, (1, 0, 0))),)))
    with pytest.raises(ValueError, match="anticommute; a fusion measures two commuting"):
        derive(_bell_chain(("XX", "XZ")))
    with pytest.raises(ValueError, match="two-qubit Pauli"):
        derive(_bell_chain(("XX", "ZI")))
    with pytest.raises(ValueError, match="cell offset"):
        derive(FusionDescription("d", (Instance("P", bell),),
                                 (Fusion("a", ("P", 1, (0, 0, 0)), ("P", 0, (0.5, 0, 0))),)))


# ------------------------------------------------------------------ hand-built equality
def _outcome_map(d: FusionNetwork, h: FusionNetwork) -> np.ndarray:
    """Derived outcome -> hand-built outcome, by fusion position and measured Pauli."""
    def key(net):
        pos = np.round(net.fusion_coords[net.outcome_fusion] * 4).astype(int) % (4 * net.L)
        return {(tuple(p), str(s)): o for o, (p, s) in enumerate(zip(pos.tolist(),
                                                                     net.outcome_paulis))}
    kd, kh = key(d), key(h)
    assert kd.keys() == kh.keys() and len(kd) == d.n_outcomes
    m = np.empty(d.n_outcomes, np.int64)
    for k, o in kd.items():
        m[o] = kh[k]
    return m


@pytest.mark.parametrize(("kind", "L"), [("6ring", 3), ("6ring", 4), ("4star", 3),
                                         ("4star", 4)])
def test_derived_equals_hand_built_up_to_relabelling(kind, L):
    h = FusionNetwork(kind, L)
    d = FusionNetwork.from_description({"6ring": "6ring-d", "4star": "4star-d"}[kind], L)
    assert d.counts()["per_cell"] == h.counts()["per_cell"]
    m = _outcome_map(d, h)
    for g in (0, 1):
        cd = [frozenset(m[r[r >= 0]].tolist()) for r in d.checks[g]]
        ch = [frozenset(r.tolist()) for r in h.checks[g]]
        assert set(cd) == set(ch) and len(cd) == len(ch)
        # graphs: the same edges (outcome bundles) between the same checks
        def edges(net, cs, mp, g=g):
            gr = net.graphs[g]
            return {(frozenset(mp[gr.edge_outcomes[e]].tolist()),
                     frozenset((cs[gr.edges[e, 0]], cs[gr.edges[e, 1]])))
                    for e in range(gr.n_edges)}
        assert edges(d, cd, m) == edges(h, ch, np.arange(h.n_outcomes))
        assert d.graphs[g].degree == h.graphs[g].degree
        assert d.graphs[g].bundle_size == h.graphs[g].bundle_size
    for k in range(6):  # membranes: identical (same plane), not only up to checks
        assert set(m[np.flatnonzero(d.membranes[k])].tolist()) == \
            set(np.flatnonzero(h.membranes[k]).tolist())


def test_hand_built_thresholds_carry_over():
    """Same graphs, hence the same decoding: equal shots give rates equal within noise."""
    for kind, model, dec in (("6ring", HardwareAgnostic(0.0, 0.007), "mwpm"),
                             ("4star", HardwareAgnostic(0.07, 0.0), "erasure-ml")):
        h = fbqc.simulate(kind, model, L=6, decoder=dec, shots=1500, seed=11)
        d = fbqc.simulate(FusionNetwork(f"{kind}-d", 6), model, decoder=dec, shots=1500,
                          seed=12)
        assert h.errors > 20
        assert abs(h.errors - d.errors) <= 4 * np.sqrt(h.errors + d.errors)


# ------------------------------------------------------------------ wrong fusions
def test_wrong_fusion_refused_naming_the_check():
    d6 = get_description("6ring-d")
    specs = d6.derive().check_specs()
    f0 = dataclasses.replace(d6.fusions[0], paulis=("XZ", "ZX"))
    bad = dataclasses.replace(d6, name="bad", fusions=(f0, *d6.fusions[1:]), checks=specs)
    with pytest.raises(ValueError, match=r"check 'primal' is not a stabilizer.*fusion 'F0'"):
        derive(bad)
    # declared checks that are right are accepted and reproduce the search
    pinned = derive(dataclasses.replace(d6, name="pinned", checks=specs))
    assert [t.key() for t in pinned.types] == [t.key() for t in d6.derive().types]
    with pytest.raises(ValueError, match="do not generate the check group"):
        derive(dataclasses.replace(d6, name="partial", checks=specs[:1]))
    # without declared checks, the wrong fusion breaks the local check structure
    with pytest.raises(ValueError, match="description 'bad2'"):
        derive(dataclasses.replace(d6, name="bad2", fusions=(f0, *d6.fusions[1:])))


# ------------------------------------------------------------------ other networks
@pytest.mark.parametrize("name", NETWORKS)
def test_every_network_is_stim_deterministic(name):
    L = 3
    net = FusionNetwork(name, L)
    c = stim_circuit(net, L, HardwareAgnostic(0.0, 0.0))
    dem = c.detector_error_model()  # raises on a non-deterministic detector/observable
    assert dem.num_observables == 6 and dem.num_errors == 0
    assert dem.num_detectors == sum(ch.shape[0] for ch in net.checks)
    dets, obs = c.compile_detector_sampler(seed=2).sample(30, separate_observables=True)
    assert not dets.any() and not obs.any()


PER_CELL = {"12ring": (1, 12, 6), "3ghz": (12, 36, 18), "4star-bell": (18, 48, 24)}


@pytest.mark.parametrize("name", DERIVED)
def test_derived_network_structure(name):
    cell = get_description(name).derive()
    assert cell.n_groups == 2 and cell.hypergraph == (False, False)
    assert cell.n_nonlocal == 6  # three membranes per graph on the 3-torus
    net = FusionNetwork(name, 4)
    pc = net.counts()["per_cell"]
    assert (pc["states"], pc["qubits"], pc["fusions"]) == PER_CELL[name]
    # every check and membrane commutes with every resource-state generator and check
    sx, sz = net.stabilizer_generators()
    ox, oz = net.outcome_operators()
    rows = [r[r >= 0] for g in (0, 1) for r in net.checks[g]]
    rows += [np.flatnonzero(net.membranes[m]) for m in range(6)]
    X = np.array([np.bitwise_xor.reduce(ox[r], axis=0) for r in rows])
    Z = np.array([np.bitwise_xor.reduce(oz[r], axis=0) for r in rows])
    assert not anticommutes(X, Z, sx, sz).any()
    # each fusion sends one outcome to each graph (fusion erasure = outcome erasure)
    og = net.outcome_graph.reshape(-1, 2)
    assert np.all(np.sort(og, axis=1) == [0, 1])


def test_12ring_graphs_differ():
    net = FusionNetwork("12ring", 4)
    diag = [{tuple(int(v) for v in s) for s in g.edge_shift if np.abs(s).sum() == 2}
            for g in net.graphs]
    plus = {(1, 1, 0), (1, 0, 1), (0, 1, 1), (-1, -1, 0), (-1, 0, -1), (0, -1, -1)}
    assert diag[0] <= plus  # primal: cubic + (e_i + e_j) diagonals, not FCC
    assert not diag[1] & plus  # dual: (e_i - e_j) diagonals, FCC
    assert ResourceState.ring(12) in {i.state for i in get_description("12ring").instances}


def test_ring_decomposition_family():
    six = FusionNetwork.from_description(ring_decomposition((0,) * 6, "r0"), 3)
    assert six.counts()["per_cell"] == {"states": 2, "qubits": 12, "fusions": 6}
    with pytest.raises(ValueError, match="six bits"):
        ring_decomposition((0, 1), "x")


def test_hypergraph_detected_and_graph_decoders_refused():
    d = three_ghz("straight")
    cell = derive(d)
    assert cell.hypergraph == (True, True)
    net = FusionNetwork.from_description(d, 5)
    with pytest.raises(ValueError, match="lies in 4 checks.*hypergraph"):
        _ = net.graphs
    with pytest.raises(ValueError, match="hypergraph"):
        fbqc.simulate(net, HardwareAgnostic(0.01, 0.0), shots=4, seed=1)
    # its checks and membranes are still deterministic stabilizers (stim)
    c = stim_circuit(net, 5, HardwareAgnostic(0.0, 0.0))
    assert c.detector_error_model().num_detectors == sum(ch.shape[0] for ch in net.checks)
    assert net.membranes.sum(axis=1).min() > 0


def test_json_round_trip_and_registry():
    for name in ("6ring-d", "4star-d", "3ghz"):
        d = get_description(name)
        back = FusionDescription.from_json(d.to_json())
        assert back == d
    with pytest.raises(ValueError, match="hand-built network name"):
        register_network(dataclasses.replace(get_description("12ring"), name="6ring"))
    with pytest.raises(ValueError, match="already registered"):
        register_network(dataclasses.replace(get_description("3ghz"), name="12ring"))
    with pytest.raises(ValueError, match="network must be one of"):
        get_description("8ring")


# ------------------------------------------------------------------ downstream
@pytest.mark.parametrize("name", DERIVED)
def test_downstream_works_on_derived_networks(name):
    L = 4
    net = FusionNetwork(name, L)
    for dec in ("uf", "mwpm", "erasure-ml"):
        model = HardwareAgnostic(0.02, 0.0 if dec == "erasure-ml" else 0.001)
        r = fbqc.simulate(net, model, decoder=dec, shots=40, seed=1)
        assert r.shots == 40 and 0 <= r.errors <= 40
    r = fbqc.simulate(net, HardwareAgnostic(0.0, 0.0), decoder="uf", shots=20, seed=1)
    assert r.errors == 0
    lo = fbqc.LinearOptics(0.01, 0.25, encoding="shor22")
    er = lo.sample(net, 5, np.random.default_rng(0))
    assert er.shape == (5, net.n_outcomes)
    s = fbqc.simulate(net, HardwareAgnostic(0.05, 0.0), backend="stim", decoder="erasure-uf",
                           shots=50, seed=2)
    assert s.shots == 50
    # every single flip is corrected (uf and mwpm) on both graphs
    for g in net.graphs:
        for dec in ("uf", "mwpm"):
            for e in range(0, g.n_edges, max(1, g.n_edges // 25)):
                flips = np.zeros(g.n_edges, np.uint8)
                flips[e] = 1
                corr = fbqc.decode(g, g.syndrome(flips), decoder=dec)
                assert not g.syndrome(corr ^ flips).any()
                assert not g.membrane_parity(corr ^ flips).any()


def test_samplers_accept_registered_networks():
    from fbqc.sampler import FusionSampler, OpticsSampler

    s = FusionSampler()
    p = s.validate({"network": "12ring", "L": 4, "p_erasure": 0.05})
    assert p == {"network": "12ring", "L": 4, "p_erasure": 0.05, "p_pauli": 0.0,
                 "decoder": "uf"}
    assert s.sample(p, 32, np.random.default_rng(0)).shots == 32
    o = OpticsSampler()
    q = o.validate({"network": "3ghz", "L": 4, "fusion_failure": 0.1})
    assert o.sample(q, 16, np.random.default_rng(0)).shots == 16
    with pytest.raises(ValueError, match="network must be one of"):
        s.validate({"network": "hexagon", "L": 4})
