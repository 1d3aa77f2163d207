"""simulate(backend=...) and the sampler's stim backend, wired to fbqc.stim_backend."""

from __future__ import annotations

import pytest
from scipy.stats import norm

import fbqc
import sim


def test_simulate_stim_backend_agrees_with_direct():
    # pure erasure, erasure-ml: both estimate P(odd winding)/2 with independent samples
    model = fbqc.HardwareAgnostic(0.11, 0.0)
    a = fbqc.simulate("6ring", model, L=6, decoder="erasure-ml", shots=6000, seed=1)
    b = fbqc.simulate("6ring", model, L=6, decoder="erasure-ml", shots=6000, seed=2,
                      backend="stim")
    pa, pb = a.errors / a.shots, b.errors / b.shots
    pool = (a.errors + b.errors) / (a.shots + b.shots)
    se = (pool * (1 - pool) * (1 / a.shots + 1 / b.shots)) ** 0.5
    assert abs(pa - pb) < norm.isf(0.0005) * se, (pa, pb)


def test_bad_backend_is_rejected():
    with pytest.raises(ValueError, match="backend"):
        fbqc.simulate("6ring", fbqc.HardwareAgnostic(0.1, 0), L=4, shots=10, backend="gpu")
    with pytest.raises(ValueError, match="backend"):
        sim.make_task("fbqc", {"network": "6ring", "L": 4, "backend": "gpu"})


def test_sampler_backend_default_keeps_ids_and_stim_runs():
    base = {"network": "6ring", "L": 4, "p_erasure": 0.1, "p_pauli": 0.0, "decoder": "uf"}
    t1, _ = sim.make_task("fbqc", base)
    t2, _ = sim.make_task("fbqc", {**base, "backend": "direct"})
    t3, _ = sim.make_task("fbqc", {**base, "backend": "stim"})
    assert t1.strong_id() == t2.strong_id() != t3.strong_id()
    st = sim.collect([("fbqc", {**base, "backend": "stim"})], max_shots=300, seed=1, workers=1)
    assert st[0].shots == 300


def test_resource_state_noise_reaches_simulate_sampler_and_cli(tmp_path):
    from sim.cli import main

    zero = fbqc.HardwareAgnostic(0, 0)
    r = fbqc.simulate("6ring", zero, L=3, decoder="mwpm-correlated", shots=400, seed=3,
                      backend="stim", p_state=0.02)
    assert 0 < r.errors < r.shots  # the noise is there and decoded
    assert fbqc.simulate("6ring", zero, L=3, decoder="mwpm", shots=200, seed=3,
                         backend="stim").errors == 0
    with pytest.raises(ValueError, match="p_state"):
        fbqc.simulate("6ring", zero, L=3, shots=10, p_state=0.01)  # direct backend
    base = {"network": "6ring", "L": 3, "p_erasure": 0.0, "p_pauli": 0.0,
            "decoder": "mwpm-correlated", "backend": "stim"}
    t0, _ = sim.make_task("fbqc", base)
    t1, _ = sim.make_task("fbqc", {**base, "p_state": 0.0})
    t2, _ = sim.make_task("fbqc", {**base, "p_state": 0.02})
    assert t0.strong_id() == t1.strong_id() != t2.strong_id()
    for bad in ({**base, "p_state": 1.5}, {**base, "backend": "direct", "p_state": 0.01},
                {**base, "backend": "direct"}):
        with pytest.raises(ValueError, match="p_state|decoder"):
            sim.make_task("fbqc", bad)
    out = tmp_path / "s.csv"
    rc = main(["fbqc", "sweep", "--network", "6ring", "--L", "3", "--backend", "stim", "--p-state",
                     "0,0.02", "--decoder", "mwpm-correlated", "--max-shots", "200",
                     "--seed", "1", "--workers", "1", "--no-progress", "--out", str(out)])
    assert rc == 0
    rows = {s.json_metadata.get("p_state", 0.0): s for s in sim.read_stats(out)}
    assert set(rows) == {0.0, 0.02} and rows[0.0].errors == 0 and rows[0.02].errors > 0
    assert main(["fbqc", "sweep", "--network", "6ring", "--L", "3", "--p-state", "0.01",
                 "--max-shots", "10", "--out", str(tmp_path / "bad.csv")]) == 2
    assert not (tmp_path / "bad.csv").exists()


def test_fusion_sampler_runs_under_sinter_collect():
    import pickle

    import numpy as np
    import sinter

    params = {"network": "6ring", "L": 4, "p_erasure": 0.1, "p_pauli": 0.002, "decoder": "uf"}
    # the per-process instance caches a PyMatching graph, which cannot be pickled: the
    # sampler must still travel to sinter's worker (as a fresh instance)
    inst = sim.resolve_sampler("fbqc")
    inst.sample(inst.validate({**params, "p_erasure": 0.0, "decoder": "mwpm"}), 8,
                np.random.default_rng(0))
    assert type(pickle.loads(pickle.dumps(inst))) is type(inst)
    tasks = [sim.make_task("fbqc", params)[0]]
    res = sinter.collect(num_workers=1, tasks=tasks, max_shots=600,
                         custom_decoders=sim.sinter_decoders(tasks))
    ours = sim.collect([("fbqc", params)], max_shots=600, seed=1, workers=1)[0]
    assert res[0].shots == 600
    assert (res[0].strong_id, res[0].decoder, res[0].json_metadata) == (
        ours.strong_id, ours.decoder, ours.json_metadata)
    # both are binomial samples of one rate: a two-proportion z-test at 1e-4
    pool = (res[0].errors + ours.errors) / 1200
    se = (pool * (1 - pool) * 2 / 600) ** 0.5
    assert abs(res[0].errors - ours.errors) / 600 <= norm.isf(5e-5) * se + 1e-12
    assert any(k.startswith("obs_mistake_mask=") for k in res[0].custom_counts)
