"""Herald-aware sinter decoders on generic stim circuits (surface code with erasure)."""

from __future__ import annotations

import numpy as np
import pymatching
import pytest
import sinter
import stim

from fbqc.herald_decoders import (
    ErasureDecoder,
    add_heralded_erasure,
    herald_detectors,
    herald_graph,
    sinter_decoders,
)

Z = 3.5  # two-sided, safe for the handful of comparisons in this file


def _wilson(k: int, n: int, z: float = Z) -> tuple[float, float]:
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return c - h, c + h


def _surface(d: int, p: float) -> stim.Circuit:
    c = stim.Circuit.generated("surface_code:rotated_memory_x", distance=d, rounds=d,
                               before_round_data_depolarization=1e-9)
    return add_heralded_erasure(c, p)


def test_herald_map_same_for_decomposed_and_plain_dem():
    c = _surface(3, 0.1)
    plain = herald_graph(c.detector_error_model(approximate_disjoint_errors=True))
    dec = herald_graph(c.detector_error_model(approximate_disjoint_errors=True,
                                              decompose_errors=True))
    assert plain.n_heralds == 27 and plain.n_dropped == 0
    assert plain.edge_map() == dec.edge_map()
    assert np.allclose(plain.herald_q, 0.5)  # HERALDED_ERASE: erased edges are fair coins


def test_heralds_found_by_coordinate_tag():
    c = _surface(3, 0.1)
    dem = c.detector_error_model(approximate_disjoint_errors=True)
    h = herald_detectors(dem)
    coords = dem.get_detector_coordinates()
    assert all(coords[int(d)][-1] == -1 for d in h)
    assert len(h) == c.num_detectors - stim.Circuit.generated(
        "surface_code:rotated_memory_x", distance=3, rounds=3).num_detectors
    # another tag finds nothing
    assert herald_detectors(dem, tag=-7).size == 0
    with pytest.raises(TypeError, match="tag"):
        herald_detectors(dem, tag="x")
    with pytest.raises(ValueError, match="method"):
        ErasureDecoder("bp")
    with pytest.raises(ValueError, match="p must"):
        add_heralded_erasure(c, 1.5)


def test_surface_code_erasure_decoders_agree_and_beat_plain_matching():
    d, p, shots = 5, 0.12, 4000
    c = _surface(d, p)
    dem = c.detector_error_model(approximate_disjoint_errors=True)
    dets, obs = c.compile_detector_sampler(seed=11).sample(shots, separate_observables=True)
    rates = {}
    for name, dec in sinter_decoders().items():
        pred = dec.compile_decoder_for_dem(dem=dem).decode(dets.astype(np.uint8))
        rates[name] = int(np.count_nonzero(pred[:, 0] != obs[:, 0]))
    # plain pymatching, heralds ignored (what sinter's built-in decoder would do)
    dem_d = c.detector_error_model(approximate_disjoint_errors=True, decompose_errors=True)
    pm = pymatching.Matching.from_detector_error_model(dem_d)
    plain = int(np.count_nonzero(pm.decode_batch(dets)[:, 0] != obs[:, 0]))
    lo_uf, hi_uf = _wilson(rates["erasure-uf"], shots)
    lo_mw, hi_mw = _wilson(rates["erasure-mwpm"], shots)
    lo_pl, _ = _wilson(plain, shots)
    # all are ML for (almost) pure erasure: their CIs overlap
    assert lo_uf <= hi_mw and lo_mw <= hi_uf
    for name in ("erasure-fusion-blossom", "erasure-local-mwpm"):
        lo, hi = _wilson(rates[name], shots)
        assert lo <= hi_mw and lo_mw <= hi, name
    # reading heralds beats ignoring them by a wide margin
    assert hi_uf < lo_pl and hi_mw < lo_pl


def test_erasure_threshold_behaviour_with_distance():
    # well below the erasure threshold larger codes do better
    shots = 3000
    fails = []
    for d in (3, 7):
        c = _surface(d, 0.2)
        dem = c.detector_error_model(approximate_disjoint_errors=True)
        dets, obs = c.compile_detector_sampler(seed=d).sample(shots, separate_observables=True)
        pred = ErasureDecoder("uf").compile_decoder_for_dem(dem=dem).decode(
            dets.astype(np.uint8))
        fails.append(int(np.count_nonzero(pred[:, 0] != obs[:, 0])))
    assert _wilson(fails[1], shots)[1] < _wilson(fails[0], shots)[0]


def test_sinter_collect_with_custom_decoders():
    c = _surface(3, 0.1)
    task = sinter.Task(circuit=c, decoder="erasure-uf", json_metadata={"d": 3})
    task2 = sinter.Task(circuit=c, decoder="erasure-mwpm", json_metadata={"d": 3})
    # sinter.collect takes no seed: 2000 shots at the ~1 % logical rate of this circuit
    # (17-33 errors in three runs) make "no error at all" a ~1e-8 event; with 500 shots
    # (5 expected) it failed about once in a hundred runs
    stats = sinter.collect(num_workers=1, tasks=[task, task2], max_shots=2000,
                           custom_decoders=sinter_decoders(), start_batch_size=500,
                           max_batch_size=1000)
    assert sorted(s.decoder for s in stats) == ["erasure-mwpm", "erasure-uf"]
    assert all(s.shots == 2000 for s in stats)
    assert all(0 < s.errors < 500 for s in stats)


def test_partial_herald_channel_and_boundary_edges():
    # HERALDED_PAULI_CHANNEL_1 erasing only Z-type flips; one detector + observable
    c = stim.Circuit("""
        R 0
        HERALDED_PAULI_CHANNEL_1(0.1, 0.1, 0, 0) 0
        DETECTOR(0, 0, -1) rec[-1]
        M 0
        DETECTOR(0, 1, 0) rec[-1]
        OBSERVABLE_INCLUDE(0) rec[-1]
    """)
    g = herald_graph(c.detector_error_model(approximate_disjoint_errors=True))
    assert g.edge_map() == {0: [(-1, 1)]}
    assert np.allclose(g.herald_q, 0.5)
    for method in ("uf", "mwpm", "fusion-blossom", "local-mwpm"):
        dec = ErasureDecoder(method).compile_decoder_for_dem(
            dem=c.detector_error_model(approximate_disjoint_errors=True))
        # herald fired + detector fired: correct the observable
        got = dec.decode(np.array([[1, 1], [0, 0], [1, 0]], np.uint8))[:, 0].tolist()
        assert got == [1, 0, 0], method


def test_partial_herald_lowers_the_weight():
    """A herald that flips an edge with q < 1/2 lowers its weight to log((1-q)/q) for
    that shot only, for every method."""
    c = stim.Circuit("""
        R 0 1
        HERALDED_PAULI_CHANNEL_1(0.2, 0.02, 0, 0) 0
        DETECTOR(0, 0, -1) rec[-1]
        X_ERROR(0.1) 1
        M 0 1
        DETECTOR(0, 1, 0) rec[-2]
        DETECTOR(0, 2, 0) rec[-1]
        OBSERVABLE_INCLUDE(0) rec[-2]
    """)
    dem = c.detector_error_model(approximate_disjoint_errors=True)
    g = herald_graph(dem)
    assert np.all(g.herald_q < 0.5)
    for method in ("uf", "mwpm", "local-mwpm"):
        comp = ErasureDecoder(method).compile_decoder_for_dem(dem=dem)
        w = comp.weights(np.array([[1], [0]], bool))
        assert w.shape == (2, g.n_edges) and np.all(w[0] <= w[1]) and np.any(w[0] < w[1])
