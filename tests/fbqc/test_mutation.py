"""The building blocks every fbqc path shares, checked exactly (tally, erasure ML,
networks, the errors choice), so a mutation of any of them fails here."""

from __future__ import annotations

import importlib
from collections import Counter

import numpy as np
import pytest

import fbqc
import sim
from fbqc.network import FusionNetwork
from fbqc.params import FusionParams, OpticsParams, check_run_options
from fbqc.simulate import as_network, erasure_ml, mask_key, run_task, tally


def test_tally_counts_masks_and_the_chosen_errors():
    m = np.array([[1, 0, 0, 0, 0, 0],   # primal x
                  [0, 0, 0, 1, 0, 0],   # dual x
                  [1, 0, 0, 1, 0, 0],   # both
                  [0, 1, 0, 0, 0, 1],   # neither x
                  [0, 0, 0, 0, 0, 0],
                  [1, 0, 0, 0, 0, 0]], np.uint8)
    c = Counter()
    assert tally(m, "primal-x", c) == 3
    assert c == Counter({"obs_mistake_mask=E_____": 2, "obs_mistake_mask=___E__": 1,
                         "obs_mistake_mask=E__E__": 1, "obs_mistake_mask=_E___E": 1})
    assert tally(m, "any-x", Counter()) == 4
    with pytest.raises(ValueError, match="errors"):
        tally(m, "all", Counter())
    assert mask_key(np.array([0, 0, 0, 0, 0, 1])) == "obs_mistake_mask=_____E"


def test_erasure_ml_fails_only_on_windings_and_counts_them():
    net = FusionNetwork("6ring", 3)
    g = net.primal
    rng = np.random.default_rng(0)
    none = np.zeros((50, g.n_edges), bool)
    w = Counter()
    assert not erasure_ml(g, none, rng, w, offset=0).any() and not w
    every = np.ones((400, g.n_edges), bool)  # everything erased: all 3 windings in the span
    w = Counter()
    bits = erasure_ml(g, every, rng, w, offset=3)
    assert w == Counter({"winding:dual-x": 400, "winding:dual-y": 400, "winding:dual-z": 400})
    rate = bits.mean(axis=0)  # each membrane fails with a fair coin
    assert bits.dtype == np.uint8 and np.all(np.abs(rate - 0.5) < 0.1)


def test_networks_by_name_need_L_and_objects_give_theirs():
    net = FusionNetwork("4star", 3)
    assert as_network(net) is net and as_network(net, L=3) is net
    assert as_network("4star", 3) is as_network("4star", 3)  # built once
    with pytest.raises(ValueError, match="L=4 does not match"):
        as_network(net, 4)
    with pytest.raises(ValueError, match="needs L="):
        as_network("6ring")
    with pytest.raises(TypeError, match="network"):
        as_network(3, 3)
    with pytest.raises(TypeError, match="LinearOptics, got float"):
        fbqc.simulate(net, 0.1, shots=1)
    with pytest.raises(ValueError, match="heralds"):  # the model's erasure reaches the check
        fbqc.simulate(net, fbqc.HardwareAgnostic(0.1, 0.0), decoder="mwpm-correlated",
                      shots=1, backend="stim")


def test_errors_choice_is_explicit_recorded_and_the_same_on_every_path():
    """primal-x counts the first membrane only, any-x the first or the fourth; the
    sampler records a non-default choice, and simulate() on the same model and seed
    gives the same counts as the sampler's run function."""
    model = fbqc.HardwareAgnostic(0.12, 0.0)
    a = fbqc.simulate("6ring", model, L=4, shots=300, seed=5, errors="primal-x")
    b = fbqc.simulate("6ring", model, L=4, shots=300, seed=5, errors="any-x")
    assert a.custom_counts == b.custom_counts and a.errors < b.errors
    masks = {k.split("=")[1]: v for k, v in a.custom_counts.items()}
    assert a.errors == sum(v for k, v in masks.items() if k[0] == "E")
    assert b.errors == sum(v for k, v in masks.items() if "E" in (k[0], k[3]))
    p = FusionParams(network="6ring", L=4, p_erasure=0.12, errors="any-x")
    assert p.to_json()["errors"] == "any-x"
    assert "errors" not in p.replace(errors="primal-x").to_json()
    st = run_task(p, 300, np.random.default_rng(5))
    assert (st.errors, st.custom_counts) == (b.errors, b.custom_counts)
    with pytest.raises(ValueError, match="a + b|adding|cannot add"):
        a + b  # results counting different errors do not add


def test_linear_optics_runs_the_same_on_simulate_and_the_sampler():
    net = FusionNetwork("6ring", 4)
    p = OpticsParams(L=4, fusion_failure=0.3, basis="standard", decoder="uf")
    r = fbqc.simulate(net, p.model(net), decoder="uf", shots=200, seed=9)
    st = run_task(p, 200, np.random.default_rng(9))
    assert r.errors_counted == "any-x"
    assert (r.errors, r.custom_counts) == (st.errors, st.custom_counts)
    # fusion failure 0 and no loss: never an error, on both backends
    lo = fbqc.LinearOptics(0.0, 0.0, basis="standard")
    assert fbqc.simulate(net, lo, shots=50, seed=1).errors == 0
    assert fbqc.simulate(net, lo, shots=50, seed=1, backend="stim").errors == 0


def test_linear_optics_on_the_stim_backend_matches_direct():
    """One model, two backends: the same error rate within binomial noise."""
    lo = fbqc.LinearOptics(0.0, 0.35, basis="standard")
    n = 2000
    d = fbqc.simulate("6ring", lo, L=5, decoder="erasure-ml", shots=n, seed=1)
    s = fbqc.simulate("6ring", lo, L=5, decoder="erasure-ml", shots=n, seed=2,
                      backend="stim")
    lo_d, hi_d = sim.binomial_ci(d.errors, n, confidence=0.999)
    lo_s, hi_s = sim.binomial_ci(s.errors, n, confidence=0.999)
    assert lo_d <= hi_s and lo_s <= hi_d, (d.rate, s.rate)
    assert 0.05 < d.rate < 0.95  # a point where the comparison means something


@pytest.mark.parametrize("kw,match", [
    (dict(decoder="erasure-ml", pauli=True), "pure erasure"),
    (dict(decoder="erasure-ml", p_state=0.1, backend="stim"), "pure erasure"),
    (dict(decoder="mwpm-correlated", erasure=True, backend="stim"), "heralds"),
    (dict(decoder="erasure-uf"), "decoder must be one of"),
    (dict(p_state=0.01), "p_state"),
    (dict(backend="gpu"), "backend"),
    (dict(errors="all"), "errors"),
])
def test_run_options_are_refused_on_every_path(kw, match):
    base = dict(decoder="uf", backend="direct", erasure=False, pauli=False, p_state=0.0,
                errors="primal-x")
    with pytest.raises(ValueError, match=match):
        check_run_options(**{**base, **kw})
    check_run_options(**base)  # the base itself is fine


def test_model_version_only_for_mixed_uf():
    base = dict(network="6ring", L=4)
    assert FusionParams(**base, p_erasure=0.1, p_pauli=0.01).model_version() == 2
    assert FusionParams(**base, p_erasure=0.1, p_pauli=0.01,
                        decoder="erasure-uf", backend="stim").model_version() == 2
    assert FusionParams(**base, p_erasure=0.1, p_state=0.01, backend="stim").model_version() == 2
    for kw in (dict(p_erasure=0.1), dict(p_pauli=0.01), dict(p_erasure=0.1, p_pauli=0.01,
                                                                decoder="mwpm")):
        assert FusionParams(**base, **kw).model_version() == 1


def test_chunk_sizes_follow_the_task():
    assert FusionParams(network="6ring", L=4).chunk_shots() == 4096
    assert FusionParams(network="6ring", L=16).chunk_shots() == (1 << 21) // (6 * 16**3)
    assert FusionParams(network="6ring", L=16, decoder="mwpm").chunk_shots() == 21
    assert FusionParams(network="6ring", L=64, decoder="mwpm").chunk_shots() == 16
    assert OpticsParams(L=4).chunk_shots() == 2048
    assert OpticsParams(L=8).chunk_shots() == (1 << 21) // (6 * 512) == 682
    assert OpticsParams(L=8, encoding="shor22").chunk_shots() == (1 << 21) // (6 * 512 * 4)
    assert OpticsParams(L=48, encoding="shor22").chunk_shots() == 16  # the floor


def test_erasure_ml_reads_only_the_first_rank_basis_rows(monkeypatch):
    """erasure_windings promises only the first ``rank`` rows: rows beyond may hold
    anything, and neither the failures nor the winding counts may read them."""
    fs = importlib.import_module("fbqc.simulate")  # (fbqc.simulate is the function)

    g = FusionNetwork("6ring", 3).primal
    S = 400

    def fake(graph, erased):
        basis = np.full((S, 3), 7, np.int64)  # garbage everywhere ...
        basis[:, 0] = 1                       # ... but row 0: a primal-x winding
        return basis, np.ones(S, np.int64)    # rank 1

    monkeypatch.setattr(fs, "erasure_windings", fake)
    w = Counter()
    bits = erasure_ml(g, np.zeros((S, g.n_edges), bool), np.random.default_rng(1), w,
                      offset=0)
    assert w == Counter({"winding:primal-x": S})
    assert not bits[:, 1:].any() and 0.4 < bits[:, 0].mean() < 0.6
    erasure_ml(g, np.zeros((S, g.n_edges), bool), np.random.default_rng(2), w, offset=0)
    assert w == Counter({"winding:primal-x": 2 * S})  # counts add up over calls


def test_decoders_are_built_once_per_graph():
    from fbqc.simulate import DECODER_CACHE

    a, b = FusionNetwork("6ring", 3), FusionNetwork("6ring", 3)
    d = DECODER_CACHE.get("uf", a.primal)
    assert DECODER_CACHE.get("uf", a.primal) is d
    assert DECODER_CACHE.get("uf", b.primal) is not d  # another graph, another decoder
    assert DECODER_CACHE.get("mwpm", a.primal) is not d
    for _ in range(DECODER_CACHE.size):  # evicted once the cache is full
        DECODER_CACHE.get("uf", FusionNetwork("6ring", 3).dual)
    assert DECODER_CACHE.get("uf", a.primal) is not d


def test_a_decoder_cache_of_one_keeps_the_last_decoder():
    from fbqc.simulate import _DecoderCache

    cache, a, b = _DecoderCache(size=1), FusionNetwork("6ring", 3), FusionNetwork("4star", 3)
    d = cache.get("uf", a.primal)
    assert cache.get("uf", a.primal) is d and cache.size == 1
    e = cache.get("uf", b.primal)  # evicts a's decoder
    assert cache.get("uf", b.primal) is e and cache.get("uf", a.primal) is not d


def test_batches_cover_the_shots_exactly():
    """More shots than one batch: every shot is drawn once.  With every outcome erased
    every shot winds across all six membranes, so the winding counts equal the shots."""
    from fbqc.simulate import _direct_batch

    net = FusionNetwork("6ring", 4)
    ha = fbqc.HardwareAgnostic(1.0, 0.0)
    batch = _direct_batch(net, ha, 10**9)
    assert batch == (1 << 22) // max(g.n_edges for g in net.graphs)
    assert _direct_batch(net, ha, 20) == 20 and _direct_batch(net, ha, 3) == 16
    lo = fbqc.LinearOptics(0.0, 0.5)
    assert _direct_batch(net, lo, 5) == (1 << 22) // net.n_fusions
    assert _direct_batch(net, fbqc.LinearOptics(0.0, 0.5, encoding="shor22"), 5) == (
        (1 << 22) // (4 * net.n_fusions))
    n = 2 * batch + 123
    r = fbqc.simulate(net, ha, decoder="erasure-ml", shots=n, seed=3)
    assert r.shots == n and set(r.custom_counts[f"winding:{m}"] for m in (
        "primal-x", "primal-y", "primal-z", "dual-x", "dual-y", "dual-z")) == {n}
    lo_b = _direct_batch(net, lo, 10**9)
    r = fbqc.simulate(net, lo, decoder="uf", shots=lo_b + 5, seed=3)
    assert r.shots == lo_b + 5 and r.errors <= r.shots


def test_simulate_arguments_and_timing():
    net = FusionNetwork("6ring", 3)
    ha = fbqc.HardwareAgnostic(0.1, 0.0)
    z = fbqc.simulate(net, ha, shots=0, seed=1)
    assert (z.shots, z.errors, z.custom_counts) == (0, 0, Counter())
    with pytest.raises(ValueError, match=r"^shots must be an integer >= 0, got -1"):
        fbqc.simulate(net, ha, shots=-1)
    r = fbqc.simulate(net, ha, shots=50, seed=1)
    assert 0 < r.seconds < 60
    # a random basis on the stim backend is frozen from the seed: reproducible
    lo = fbqc.LinearOptics(0.0, 0.4, basis="random")
    a = fbqc.simulate(net, lo, shots=200, seed=5, backend="stim", decoder="erasure-mwpm")
    b = fbqc.simulate(net, lo, shots=200, seed=5, backend="stim", decoder="erasure-mwpm")
    assert (a.errors, a.custom_counts) == (b.errors, b.custom_counts)


def test_tasks_reuse_their_models_and_circuits():
    fs = importlib.import_module("fbqc.simulate")  # (fbqc.simulate is the function)

    p = OpticsParams(L=3, basis="UR,UR", encoding="shor22", fusion_failure=0.2)
    run_task(p, 4, np.random.default_rng(0))
    model = fs._TASK_CACHE[(fbqc.LinearOptics, p)]
    run_task(p, 4, np.random.default_rng(1))
    assert fs._TASK_CACHE[(fbqc.LinearOptics, p)] is model
    assert model.basis.shape == (FusionNetwork("6ring", 3).n_fusions, 4)
    q = FusionParams(network="6ring", L=3, p_erasure=0.1, backend="stim")
    st = run_task(q, 8, np.random.default_rng(0))
    assert st.shots == 8 and fs._TASK_CACHE[(fbqc.StimSimulator, q)].decoder == "uf"


def test_optics_params_normalise_and_refuse():
    assert OpticsParams(L=3, encoding=None).encoding == "none"
    assert OpticsParams(L=3, encoding=None).to_json()["encoding"] == "none"
    for pattern in ("UR,UR", "UU,RR", "UR,RR"):
        with pytest.raises(ValueError, match=f"basis '{pattern}' needs encoding 'shor22'"):
            OpticsParams(L=3, basis=pattern)
        OpticsParams(L=3, basis=pattern, encoding="shor22")
    net = FusionNetwork("6ring", 3)
    lo = OpticsParams(L=3, photons_per_fusion=2, loss_per_photon=0.1).model(net)
    assert lo.photons_per_fusion == 2 and lo.loss_per_fusion == pytest.approx(0.19)
    with pytest.raises(ValueError, match="heralds"):
        FusionParams(network="6ring", L=3, p_erasure=0.01, decoder="mwpm-correlated",
                     backend="stim")
    FusionParams(network="6ring", L=3, p_pauli=0.01, decoder="mwpm-correlated",
                 backend="stim")  # no erasure: fine
