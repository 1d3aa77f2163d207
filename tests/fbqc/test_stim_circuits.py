"""The fusion networks as stim circuits: determinism, DEM = syndrome graphs, herald maps,
and stim-sampled vs direct-sampled logical error rates."""

from __future__ import annotations

import numpy as np
import pytest

from fbqc.decoders import erasure_windings
from fbqc.herald_decoders import herald_graph
from fbqc.network import FusionNetwork
from fbqc.noise import HardwareAgnostic
from fbqc.optics import LinearOptics
from fbqc.simulate import simulate
from fbqc.stim_backend import StimSimulator
from fbqc.stim_circuits import herald_outcomes, stim_circuit

Z = 3.5


def _wilson(k: int, n: int, z: float = Z) -> tuple[float, float]:
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return c - h, c + h


@pytest.mark.parametrize(("kind", "L"), [("6ring", 3), ("6ring", 4), ("4star", 3),
                                         ("4star", 4)])
def test_detectors_deterministic_and_noiseless_zero(kind, L):
    c = stim_circuit(kind, L, HardwareAgnostic(0.0, 0.0))
    net = FusionNetwork(kind, L)
    # raises "non-deterministic detectors/observables" on a wrong check or membrane
    dem = c.detector_error_model()
    assert dem.num_detectors == 2 * L**3 and dem.num_observables == 6
    assert dem.num_errors == 0
    assert c.num_qubits == net.n_qubits
    dets, obs = c.compile_detector_sampler(seed=1).sample(20, separate_observables=True)
    assert not dets.any() and not obs.any()


def _edge_key(net: FusionNetwork, o: int) -> tuple[int, int]:
    g = int(net.outcome_graph[o])
    off = g * net.checks[0].shape[0]
    a, b = sorted(int(x) + off for x in net.outcome_checks[o])
    return a, b


@pytest.mark.parametrize("kind", ["6ring", "4star"])
def test_pauli_dem_equals_syndrome_graphs(kind):
    L, p = 3, 0.01
    net = FusionNetwork(kind, L)
    dem = stim_circuit(net, L, HardwareAgnostic(0.0, p)).detector_error_model()
    got = {}
    for inst in dem.flattened():
        if inst.type != "error":
            continue
        dets = tuple(sorted(t.val for t in inst.targets_copy() if t.is_relative_detector_id()))
        obs = sum(1 << t.val for t in inst.targets_copy() if t.is_logical_observable_id())
        assert dets not in got
        got[dets] = (obs, inst.args_copy()[0])
    want = {}
    for g, graph in enumerate(net.graphs):
        off = g * net.checks[0].shape[0]
        _, pp = graph.edge_probabilities(0.0, p)
        for e in range(graph.n_edges):
            key = tuple(sorted(int(x) + off for x in graph.edges[e]))
            obs = sum(1 << (3 * g + d) for d in range(3) if graph.crossing[e, d])
            want[key] = (obs, float(pp[e]))
    assert set(got) == set(want)
    for k, (obs, pr) in want.items():
        assert got[k][0] == obs
        assert got[k][1] == pytest.approx(pr, rel=1e-9)


@pytest.mark.parametrize(("kind", "model"), [
    ("6ring", HardwareAgnostic(0.1, 0.0)),
    ("4star", HardwareAgnostic(0.05, 0.0)),
    ("6ring", LinearOptics(0.01, 0.25, basis="standard")),
    ("6ring", LinearOptics(0.0, 0.25, basis="random")),
])
def test_herald_edge_map_equals_direct_map(kind, model):
    L = 3
    net = FusionNetwork(kind, L)
    c = stim_circuit(net, L, model, seed=5)
    g = herald_graph(c.detector_error_model(approximate_disjoint_errors=True))
    assert g.n_dropped == 0
    n_checks = 2 * L**3
    outs = herald_outcomes(net, L, model, seed=5)
    assert g.n_heralds == len(outs)
    want = {n_checks + i: sorted({_edge_key(net, int(o)) for o in os_})
            for i, os_ in enumerate(outs)}
    assert g.edge_map() == want
    assert np.allclose(g.herald_q, 0.5)


@pytest.mark.parametrize("kind", ["6ring", "4star"])
def test_detector_coordinates_place_checks_and_heralds(kind):
    L = 3
    net = FusionNetwork(kind, L)
    c = stim_circuit(net, L, HardwareAgnostic(0.1, 0.0))
    co = c.get_detector_coordinates()
    a = np.array([co[i] for i in range(c.num_detectors)])
    n0 = net.checks[0].shape[0]
    tags = a[:, 3]
    assert (tags[:n0] == 0).all() and (tags[n0:2 * n0] == 1).all()
    assert (tags[2 * n0:] == -1).all()
    # every check sits at its own point in space (primal cube centres, dual vertices)
    assert np.allclose(a[:n0, :3], net.check_coords[0])
    assert np.allclose(a[n0:2 * n0, :3], net.check_coords[1])
    assert len({tuple(r) for r in a[:2 * n0, :3].tolist()}) == 2 * n0
    # each herald sits at the fusion it erases
    outs = herald_outcomes(net, L, HardwareAgnostic(0.1, 0.0))
    fus = [int(net.outcome_fusion[o[0]]) for o in outs]
    assert np.allclose(a[2 * n0:, :3], net.fusion_coords[fus])


@pytest.mark.parametrize("model", [
    HardwareAgnostic(0.1, 0.0),
    LinearOptics(0.02, 0.25, basis="standard"),
    LinearOptics(0.01, 0.5, basis="rotated"),
    "frozen-random",
])
def test_herald_channels_reproduce_direct_joint_erasure(model):
    """Independent of :func:`herald_outcomes`: each herald's firing probability is read
    from the DEM and its outcomes from the DEM's erased edges through the direct syndrome
    graphs' ``edge_outcomes``; the implied joint (XX, ZZ) erasure law of every fusion
    must equal the direct model's (``LinearOptics.joint_probabilities``)."""
    L = 3
    net = FusionNetwork("6ring", L)
    if isinstance(model, str):
        pat = np.random.default_rng(3).integers(0, 2, net.n_fusions)
        model = LinearOptics(0.01, 0.25, basis=pat)
    dem = stim_circuit(net, L, model).detector_error_model(approximate_disjoint_errors=True)
    g = herald_graph(dem)
    p_h = dict.fromkeys(g.heralds.tolist(), 0.0)
    for inst in dem.flattened():
        if inst.type == "error":
            for t in inst.targets_copy():
                if t.is_relative_detector_id() and t.val in p_h:
                    p_h[t.val] += inst.args_copy()[0]
    n0 = net.checks[0].shape[0]
    edge_out = {}
    for gi, graph in enumerate(net.graphs):
        for e in range(graph.n_edges):
            key = tuple(sorted(int(x) + gi * n0 for x in graph.edges[e]))
            edge_out[key] = [int(o) for o in graph.edge_outcomes[e]]
    keep = np.ones((net.n_fusions, 3))  # P(no herald) erasing both / basis 0 / basis 1
    for h, edges in g.edge_map().items():
        outs = sorted({o for k in edges for o in edge_out[k]})
        f = {int(net.outcome_fusion[o]) for o in outs}
        assert len(f) == 1  # a herald erases outcomes of one fusion only
        f = f.pop()
        col = 0 if len(outs) == 2 else 1 + int(net.outcome_basis[outs[0]])
        keep[f, col] *= 1 - p_h[h]
    nb, q0, q1 = keep.T
    got = np.stack([nb * q0 * q1, nb * (1 - q0) * q1, nb * q0 * (1 - q1),
                    1 - nb * (q0 + q1 - q0 * q1)], axis=1)
    if isinstance(model, HardwareAgnostic):
        pe = model.p_erasure
        want = np.tile([(1 - pe) ** 2, pe * (1 - pe), pe * (1 - pe), pe * pe],
                       (net.n_fusions, 1))
    else:
        want = model.joint_probabilities(net.n_fusions)
    assert np.allclose(got, want, atol=1e-12)


@pytest.mark.slow
def test_stim_and_direct_logical_rates_agree():
    """6-ring, L = 8, p_E = 0.11 (≈ 0.049): stim heralds vs direct sampling.

    Both sides use the exact ML failure probability of each shot's erasure pattern
    (½ when the erased subgraph winds in x, else 0), an unbiased estimator of the ML
    logical error rate with half the variance of counting failures.  With 80 000 shots
    a side, the 3σ band of the difference (this file's only high-shot comparison) is
    about ±0.0022, narrower than a 5 % bias (0.0025).  The decoded stim pipeline is
    checked shot by shot in the next test.
    """
    L, p, shots, z = 8, 0.11, 80_000, 3.0
    net = FusionNetwork("6ring", L)
    model = HardwareAgnostic(p, 0.0)
    c = stim_circuit(net, L, model)
    outs = np.array([o[0] for o in herald_outcomes(net, L, model)])
    n_checks = 2 * L**3  # heralds follow the checks; 1024 is byte-aligned
    primal = net.primal
    sampler = c.compile_detector_sampler(seed=2024)
    wind = 0
    for _ in range(shots // 10_000):
        packed = sampler.sample(10_000, bit_packed=True)
        fired = np.unpackbits(packed[:, n_checks // 8:], axis=1, count=len(outs),
                              bitorder="little").astype(bool)
        erased = np.zeros((fired.shape[0], net.n_outcomes), bool)
        erased[:, outs] = fired
        basis, rank = erasure_windings(primal, erased[:, primal.edge_outcomes[:, 0]])
        live = np.arange(3)[None, :] < rank[:, None]
        wind += int(np.count_nonzero(((basis & 1) * live).any(axis=1)))
    # direct: the core noise model's per-edge erasures on the primal graph
    rng = np.random.default_rng(7)
    wind_d = 0
    for _ in range(shots // 10_000):
        er_e, _ = model.sample(primal, 10_000, rng)
        basis, rank = erasure_windings(primal, er_e)
        live = np.arange(3)[None, :] < rank[:, None]
        wind_d += int(np.count_nonzero(((basis & 1) * live).any(axis=1)))
    r_s, r_d = 0.5 * wind / shots, 0.5 * wind_d / shots
    var = 0.25 * ((wind / shots) * (1 - wind / shots) + (wind_d / shots) * (1 - wind_d / shots))
    sigma = np.sqrt(var / shots)
    assert abs(r_s - r_d) < z * sigma
    assert z * sigma < 0.05 * 0.049  # the band resolves a 5 % bias
    assert 0.044 < r_s < 0.054


def test_decoded_stim_shots_fail_only_on_windings():
    L, p, shots = 6, 0.11, 1500
    net = FusionNetwork("6ring", L)
    model = HardwareAgnostic(p, 0.0)
    sim = StimSimulator(net, model, L=L, decoder="erasure-ml")
    outs = np.array([o[0] for o in herald_outcomes(net, L, model)])
    dets, obs = sim.circuit.compile_detector_sampler(seed=3).sample(
        shots, separate_observables=True)
    pred = sim._dec.decode(dets.astype(np.uint8))
    fail = pred[:, 0].astype(bool) != obs[:, 0]
    erased = np.zeros((shots, net.n_outcomes), bool)
    erased[:, outs] = dets[:, 2 * L**3:]
    er_e, _ = net.primal.bundle(erased, erased)
    basis, rank = erasure_windings(net.primal, er_e)
    wind = ((basis & 1) * (np.arange(3)[None, :] < rank[:, None])).any(axis=1)
    assert not fail[~wind].any()  # peeling is ML: never wrong without a winding
    n_w = int(wind.sum())
    lo, hi = _wilson(int(fail[wind].sum()), n_w)
    assert n_w > 100 and lo < 0.5 < hi


def test_mwpm_backend_and_resource_state_noise():
    # mwpm on a small mixed-noise instance decodes (a decoder that guessed would fail
    # half the time) and its errors are the primal-x part of the recorded masks
    r = simulate("6ring", HardwareAgnostic(0.05, 0.005), L=3, backend="stim", decoder="mwpm",
                 shots=400, seed=1)
    assert r.shots == 400 and _wilson(r.errors, r.shots)[1] < 0.25
    assert r.errors == sum(v for k, v in r.custom_counts.items() if k.split("=")[1][0] == "E")
    # resource-state noise: correlated matching beats plain matching on the same shots
    L, shots, p_state = 5, 4000, 0.008
    corr = StimSimulator("6ring", HardwareAgnostic(0, 0), L=L, decoder="mwpm-correlated",
                         p_state=p_state)
    plain = StimSimulator("6ring", HardwareAgnostic(0, 0), L=L, decoder="mwpm", p_state=p_state)
    dets, obs = corr.circuit.compile_detector_sampler(seed=4).sample(
        shots, separate_observables=True)
    fc = corr._m.decode_batch(dets, enable_correlations=True)[:, 0].astype(bool) != obs[:, 0]
    fp = plain._dec.decode(dets.astype(np.uint8))[:, 0].astype(bool) != obs[:, 0]
    only_plain, only_corr = int(np.count_nonzero(fp & ~fc)), int(np.count_nonzero(fc & ~fp))
    # McNemar: among discordant shots, correlated matching wins more than half
    assert _wilson(only_plain, only_plain + only_corr)[0] > 0.5


def test_bad_input():
    with pytest.raises(ValueError, match="p_state"):
        stim_circuit("6ring", 3, HardwareAgnostic(0, 0), p_state=-0.1)
    with pytest.raises(TypeError, match="model"):
        stim_circuit("6ring", 3, 0.1)
    with pytest.raises(ValueError, match="L=4"):
        stim_circuit(FusionNetwork("6ring", 3), 4, HardwareAgnostic(0, 0))
    with pytest.raises(ValueError, match="encoding"):
        stim_circuit("6ring", 3, LinearOptics(0.0, 0.25, encoding="shor22"))
    with pytest.raises(ValueError, match="decoder"):
        simulate("6ring", HardwareAgnostic(0.1, 0), L=3, backend="stim", decoder="bp", shots=1)
    with pytest.raises(ValueError, match="erasure-ml"):
        simulate("6ring", HardwareAgnostic(0.1, 0.01), L=3, backend="stim",
                 decoder="erasure-ml", shots=1)
    with pytest.raises(ValueError, match="shots"):
        simulate("6ring", HardwareAgnostic(0.1, 0), L=3, backend="stim", shots=-1)
