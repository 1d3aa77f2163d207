"""simulate(backend=...) and the sampler's stim backend, wired to fbqc.stim_backend."""

from __future__ import annotations

import pytest
from scipy.stats import norm

import fbqc
import sim


def test_simulate_stim_backend_agrees_with_direct():
    # pure erasure, erasure-ml: both estimate P(odd winding)/2 with independent samples
    model = fbqc.HardwareAgnostic(0.11, 0.0)
    a = fbqc.simulate("6ring", 6, model, decoder="erasure-ml", shots=6000, seed=1)
    b = fbqc.simulate("6ring", 6, model, decoder="erasure-ml", shots=6000, seed=2,
                      backend="stim")
    pa, pb = a.errors / a.shots, b.errors / b.shots
    pool = (a.errors + b.errors) / (a.shots + b.shots)
    se = (pool * (1 - pool) * (1 / a.shots + 1 / b.shots)) ** 0.5
    assert abs(pa - pb) < norm.isf(0.0005) * se, (pa, pb)


def test_bad_backend_is_rejected():
    with pytest.raises(ValueError, match="backend"):
        fbqc.simulate("6ring", 4, fbqc.HardwareAgnostic(0.1, 0), shots=10, backend="gpu")
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
