"""Open L × L × T blocks: exact check structure, one deterministic membrane, stim
circuits with one observable, decoders with a boundary node, p_L falling with L."""

from __future__ import annotations

import numpy as np
import pytest

import fbqc
from fbqc.boundary import verify_block
from fbqc.decoders import MatchingDecoder, UnionFindDecoder, erasure_windings
from fbqc.network import FusionNetwork
from fbqc.noise import HardwareAgnostic
from fbqc.stim_circuits import stim_circuit
from tests.fbqc.reference import uf_decode

NETS = ["6ring", "4star", "12ring", "3ghz", "4star-bell"]


@pytest.mark.parametrize("name", NETS)
@pytest.mark.parametrize(("L", "T"), [(3, 3), (4, 3), (3, 4)])
def test_block_checks_span_the_group_with_one_logical(name, L, T):
    net = FusionNetwork(name, L, boundary="open", T=T)
    v = verify_block(net)  # exact dense GF(2) over all outcomes and records
    assert v["logical"] == 1
    assert v["dim_group"] == v["rank_checks"] + 1
    assert net.boundary == "open" and (net.L, net.T) == (L, T)
    assert len(net.graphs) == 1 and net.primal.boundary == net.primal.n_nodes - 1


@pytest.mark.parametrize("name", NETS)
def test_block_stim_circuit_is_deterministic_with_one_observable(name):
    L = 3
    net = FusionNetwork(name, L, boundary="open")
    c = stim_circuit(net, L, HardwareAgnostic(0.0, 0.0))
    dem = c.detector_error_model()  # raises on non-deterministic detectors/observable
    assert dem.num_observables == 1 and dem.num_errors == 0
    dets, obs = c.compile_detector_sampler(seed=1).sample(30, separate_observables=True)
    assert not dets.any() and not obs.any()


def test_block_dem_matches_the_primal_graph():
    """Pauli DEM of the block: each primal-graph edge is an error on its check(s), boundary
    edges on one detector, flipping the observable exactly on the x = 0 boundary."""
    L = 4
    net = FusionNetwork("6ring", L, boundary="open")
    dem = stim_circuit(net, L, HardwareAgnostic(0.0, 0.01)).detector_error_model()
    n0 = net.checks[0].shape[0]
    got: dict[tuple, set] = {}
    for inst in dem.flattened():
        if inst.type != "error":
            continue
        dets = tuple(sorted(t.val for t in inst.targets_copy() if t.is_relative_detector_id()))
        obs = sum(1 for t in inst.targets_copy() if t.is_logical_observable_id())
        if dets and max(dets) < n0:
            got.setdefault(dets, set()).add(obs)
    g = net.primal
    want: dict[tuple, set] = {}
    for e in range(g.n_edges):
        key = tuple(sorted(int(x) for x in g.edges[e] if x != g.boundary))
        want.setdefault(key, set()).add(int(g.crossing[e, 0]))
    assert got == want
    assert any(len(k) == 1 for k in want) and any(1 in v for v in want.values())


def test_block_sizes_and_records():
    net = FusionNetwork("4star", 5, boundary="open", T=4)
    assert net.n_cells == 5 * 5 * 4
    assert net.n_records > 0 and net.record_qubits.size == net.n_records
    # every qubit is measured exactly once: by a fusion or as a record
    q = np.concatenate([net.fusion_qubits.reshape(-1), net.record_qubits])
    assert np.array_equal(np.sort(q), np.arange(net.n_qubits))
    assert net.counts()["per_cell"] == {"states": 6, "qubits": 24, "fusions": 12}
    with pytest.raises(ValueError, match="T"):
        FusionNetwork("6ring", 5, T=4)
    with pytest.raises(ValueError, match="boundary"):
        FusionNetwork("6ring", 5, boundary="twisted")


def test_uf_with_boundary_node_equals_reference():
    net = FusionNetwork("12ring", 4, boundary="open")
    g = net.primal
    dec = UnionFindDecoder(g)
    rng = np.random.default_rng(5)
    for _ in range(40):
        erased = rng.random(g.n_edges) < 0.05
        flips = (rng.random(g.n_edges) < 0.02) | (erased & (rng.random(g.n_edges) < 0.5))
        syn = g.syndrome(flips)
        got = dec.decode_batch(syn[None], erased[None])[0]
        corr = uf_decode(g.edges, g.n_nodes, np.ones(g.n_edges), syn, erased, g.boundary)
        assert np.array_equal(dec.decode(syn, erased), corr)
        obs = (g.crossing.astype(np.int64).T @ corr) % 2
        assert got.tolist() == obs.tolist()


@pytest.mark.parametrize("name", ["6ring", "4star"])
def test_single_flips_corrected(name):
    L = 5
    g = FusionNetwork(name, L, boundary="open").primal
    mw, uf = MatchingDecoder(g), UnionFindDecoder(g)
    S = np.eye(g.n_edges, dtype=np.uint8)
    syn = g.syndrome(S)
    assert np.array_equal(mw.decode_batch(syn), g.membrane_parity(S))
    assert np.array_equal(uf.decode_batch(syn), g.membrane_parity(S))


def test_erasure_ml_is_exact_on_a_crossing_chain():
    """Erase every edge: the erased subgraph joins the two rough faces, ML fails w.p. 1/2;
    erase only the edges not touching the boundary: no winding."""
    g = FusionNetwork("6ring", 4, boundary="open").primal
    _, rank = erasure_windings(g, np.ones(g.n_edges, bool))
    assert rank[0] == 1
    inner = ~np.any(g.edges == g.boundary, axis=1)
    _, rank = erasure_windings(g, inner)
    assert rank[0] == 0


def test_p_L_falls_with_L_below_threshold():
    rates = []
    for L in (3, 5, 7):
        net = FusionNetwork("6ring", L, boundary="open")
        r = fbqc.simulate(net, HardwareAgnostic(0.06, 0.0), decoder="erasure-ml",
                          shots=3000, seed=L)
        rates.append((r.errors, r.shots))
    (k3, n3), (k5, n5), (k7, n7) = rates
    assert k3 / n3 > 3 * k5 / n5 > 0 and k5 / n5 > 2 * k7 / n7


@pytest.mark.parametrize("dec", ["erasure-ml", "uf"])
def test_stim_and_direct_agree_on_a_block(dec):
    L = 4
    net = FusionNetwork("12ring", L, boundary="open")
    model = HardwareAgnostic(0.07, 0.0)
    a = fbqc.simulate(net, model, decoder=dec, shots=4000, seed=1)
    b = fbqc.simulate(net, model, backend="stim", decoder=dec, shots=4000, seed=2)
    pa, pb = a.errors / a.shots, b.errors / b.shots
    sd = np.sqrt(pa * (1 - pa) / a.shots + pb * (1 - pb) / b.shots)
    assert a.errors > 40 and abs(pa - pb) < 4 * sd


def test_sampler_records_open_blocks_and_keeps_periodic_ids():
    import sim
    from fbqc.sampler import FusionSampler

    s = FusionSampler()
    p = s.validate({"network": "6ring", "L": 4, "p_erasure": 0.05, "boundary": "open",
                    "T": 6})
    assert p["boundary"] == "open" and p["T"] == 6
    assert "boundary" not in s.validate({"network": "6ring", "L": 4, "p_erasure": 0.05})
    assert "T" not in s.validate({"network": "6ring", "L": 4, "boundary": "open", "T": 4})
    # periodic built-in ids are unchanged by the new optional keys
    old = sim.make_task("fbqc", {"network": "6ring", "L": 4, "p_erasure": 0.05})[0]
    new = sim.make_task("fbqc", {"network": "6ring", "L": 4, "p_erasure": 0.05,
                                 "boundary": "periodic"})[0]
    assert old.strong_id() == new.strong_id()
    st = s.sample(p, 64, np.random.default_rng(0))
    assert st.shots == 64
    with pytest.raises(ValueError, match="T"):
        s.validate({"network": "6ring", "L": 4, "T": 6})


def test_declared_params_carry_the_block_shape():
    from fbqc.params import FusionParams, OpticsParams

    p = FusionParams(network="12ring", L=4, p_erasure=0.05, boundary="open", T=4)
    assert p.T is None and p.to_json()["boundary"] == "open" and "T" not in p.to_json()
    assert FusionParams(network="6ring", L=4, boundary="open", T=6).to_json()["T"] == 6
    assert FusionParams(network="6ring", L=4, T=4).T is None  # periodic: T = L allowed
    with pytest.raises(ValueError, match="fbqc: .*only an open block"):
        FusionParams(network="6ring", L=4, T=6)
    with pytest.raises(ValueError, match="fbqc: parameter network must be one of .*'hexagon'"):
        FusionParams(network="hexagon", L=4)
    with pytest.raises(ValueError, match="boundary"):
        FusionParams(network="6ring", L=4, boundary="twisted")
    o = OpticsParams(network="4star", L=3, fusion_failure=0.1, boundary="open", T=5)
    assert (o.to_json()["boundary"], o.to_json()["T"]) == ("open", 5)
    assert p.chunk_shots() > FusionParams(network="12ring", L=4, boundary="open",
                                          T=8).chunk_shots()


def test_simulate_by_name_builds_the_block():
    model = HardwareAgnostic(0.08, 0.0)
    net = FusionNetwork("6ring", 4, boundary="open", T=5)
    a = fbqc.simulate("6ring", model, L=4, boundary="open", T=5, shots=400, seed=3)
    b = fbqc.simulate(net, model, shots=400, seed=3)
    assert (a.errors, a.custom_counts) == (b.errors, b.custom_counts) and a.errors > 0
    # only the primal x-membrane exists: any-x counts the same failures
    c = fbqc.simulate(net, model, shots=400, seed=3, errors="any-x")
    assert c.errors == b.errors
    assert set(b.custom_counts) <= {"obs_mistake_mask=E_____"}
    with pytest.raises(ValueError, match="boundary='periodic' does not match"):
        fbqc.simulate(net, model, boundary="periodic", shots=1)
    with pytest.raises(ValueError, match="T=4 does not match"):
        fbqc.simulate(net, model, T=4, shots=1)
    with pytest.raises(ValueError, match="only an open block"):
        fbqc.simulate("6ring", model, L=4, T=5, shots=1)


def test_cli_stim_and_sweep_on_blocks(tmp_path, capsys):
    import sim
    from sim.cli import main

    circ = tmp_path / "b.stim"
    assert main(["fbqc", "stim", "circuit", "--network", "12ring", "--L", "3",
                 "--boundary", "open", "--T", "4", "--out", str(circ)]) == 0
    text = circ.read_text()
    assert text.count("OBSERVABLE_INCLUDE") == 1
    assert main(["fbqc", "stim", "simulate", "--network", "4star", "--L", "3", "--boundary",
                 "open", "--p-erasure", "0.05", "--shots", "50", "--seed", "1"]) == 0
    assert "4star L=3 open T=3" in capsys.readouterr().out
    out = tmp_path / "s.csv"
    assert main(["fbqc", "sweep", "--network", "3ghz", "--L", "3", "--boundary", "open",
                 "--T", "3,4", "--p-erasure", "0.02", "--max-shots", "32", "--seed", "1",
                 "--workers", "1", "--no-progress", "--out", str(out)]) == 0
    rows = sim.read_stats(out)
    assert sorted(r.json_metadata.get("T", 3) for r in rows) == [3, 4]
    assert all(r.json_metadata["boundary"] == "open" for r in rows)
    assert main(["fbqc", "stim", "circuit", "--network", "6ring", "--L", "3",
                 "--boundary", "open", "--T", "2"]) == 2
    assert "T" in capsys.readouterr().err


def test_block_circuit_runs_under_sinter_with_a_stim_decoder():
    import sinter

    tasks = [sinter.Task(circuit=stim_circuit(FusionNetwork("6ring", L, boundary="open"), L,
                                              HardwareAgnostic(0.0, 0.004)),
                         json_metadata={"L": L}) for L in (3, 5)]
    stats = sinter.collect(num_workers=1, tasks=tasks, decoders=["pymatching"],
                           max_shots=3000, print_progress=False)
    rate = {s.json_metadata["L"]: s.errors / s.shots for s in stats}
    assert rate[3] > rate[5] > 0
