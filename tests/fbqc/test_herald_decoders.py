"""Herald-aware sinter decoders on generic stim circuits (surface code with erasure)."""

from __future__ import annotations

import numpy as np
import pymatching
import pytest
import sinter
import stim

from fbqc._herald_kernels import uf_boundary_decode_batch
from fbqc.herald_decoders import (
    ErasureDecoder,
    add_heralded_erasure,
    herald_detectors,
    herald_graph,
    sinter_decoders,
)
from tests.fbqc.reference_herald import uf_boundary_reference

Z = 3.5  # two-sided, safe for the handful of comparisons in this file


def _wilson(k: int, n: int, z: float = Z) -> tuple[float, float]:
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return c - h, c + h


def _csr(n: int, edges: np.ndarray):
    E = len(edges)
    ends = np.concatenate([edges[:, 0], edges[:, 1]])
    other = np.concatenate([edges[:, 1], edges[:, 0]])
    eid = np.concatenate([np.arange(E)] * 2)
    order = np.argsort(ends, kind="stable")
    indptr = np.concatenate([[0], np.cumsum(np.bincount(ends, minlength=n))]).astype(np.int32)
    return indptr, other[order].astype(np.int32), eid[order].astype(np.int32)


@pytest.mark.parametrize("seed", range(6))
def test_uf_kernel_matches_reference(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 14))
    boundary = n - 1 if seed % 2 == 0 else -1
    E = int(rng.integers(n, 3 * n))
    edges = rng.integers(0, n, size=(E, 2))
    edges = edges[edges[:, 0] != edges[:, 1]]
    E = len(edges)
    M = 2
    edge_obs = rng.integers(0, 2, size=(E, M)).astype(np.uint8)
    S = 25
    err = rng.random((S, E)) < 0.15
    erased = (rng.random((S, E)) < 0.2).astype(np.uint8)
    err &= rng.random((S, E)) < 0.7
    syn = np.zeros((S, n), np.uint8)
    for e in range(E):
        syn[:, edges[e, 0]] ^= err[:, e]
        syn[:, edges[e, 1]] ^= err[:, e]
    if boundary < 0:  # no boundary: keep syndromes with an even weight per component
        syn[:] = 0
        for e in range(E):
            m = erased[:, e].astype(bool)
            syn[m, edges[e, 0]] ^= err[m, e]
            syn[m, edges[e, 1]] ^= err[m, e]
    indptr, an, ae = _csr(n, edges)
    out = np.zeros((S, M), np.uint8)
    uf_boundary_decode_batch(indptr, an, ae, edges[:, 0].astype(np.int32),
                             edges[:, 1].astype(np.int32), boundary, edge_obs, syn, erased, out)
    for s in range(S):
        ref, corr = uf_boundary_reference(n, edges, boundary, edge_obs, syn[s], erased[s])
        assert np.array_equal(out[s], ref)
        # the correction reproduces the syndrome (off the boundary)
        got = np.zeros(n, np.uint8)
        for e in np.flatnonzero(corr):
            got[edges[e, 0]] ^= 1
            got[edges[e, 1]] ^= 1
        if boundary >= 0:
            got[boundary] = syn[s, boundary] = 0
        assert np.array_equal(got, syn[s])


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
    # both are ML for (almost) pure erasure: their CIs overlap
    assert lo_uf <= hi_mw and lo_mw <= hi_uf
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
    stats = sinter.collect(num_workers=1, tasks=[task, task2], max_shots=500,
                           custom_decoders=sinter_decoders(), start_batch_size=100,
                           max_batch_size=500)
    assert sorted(s.decoder for s in stats) == ["erasure-mwpm", "erasure-uf"]
    assert all(s.shots == 500 for s in stats)
    assert all(0 < s.errors < 250 for s in stats)


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
    dec = ErasureDecoder("mwpm").compile_decoder_for_dem(
        dem=c.detector_error_model(approximate_disjoint_errors=True))
    # herald fired + detector fired: correct the observable
    assert dec.decode(np.array([[1, 1], [0, 0], [1, 0]], np.uint8))[:, 0].tolist() == [1, 0, 0]
