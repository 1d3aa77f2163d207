"""The hebbian sampler (sinter counts, seeding, model registry) and its CLI."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from hebbian import CliqueNetwork, theory
from hebbian.cli import main
from hebbian.sampler import MODELS, MemorySampler

BASE = {"model": "clique", "clusters": 8, "neurons": 64, "messages": 600, "erased": 4,
        "queries_per_network": 500}


def test_sampler_counts_add_up_and_are_seeded():
    s = MemorySampler()
    p = s.validate(dict(BASE, rule="sos", iterations=1))
    a = s.sample(p, 1200, np.random.default_rng(5))
    b = s.sample(p, 1200, np.random.default_rng(5))
    assert a == b
    cc = a.custom_counts
    assert cc["ambiguous"] + cc["wrong"] == a.errors
    assert cc["symbol_errors"] >= a.errors


def test_networks_are_keyed_by_seed_task_index_and_cached():
    from sim import ChunkContext

    s = MemorySampler()
    p = s.validate(dict(BASE, queries_per_network=300))

    def ctx(first, seed=7, sid="task-a"):
        return ChunkContext(seed=seed, strong_id=sid, chunk_index=first // 300,
                            first_shot=first)

    # one chunk spanning networks 0 and 1, then a chunk inside network 1 again
    s.sample(p, 600, np.random.default_rng(0), ctx(0))
    assert sorted(i for _, i in s._cache) == [0, 1]
    net1 = s._cache[("task-a", 1)]
    s.sample(p, 300, np.random.default_rng(1), ctx(300))
    assert s._cache[("task-a", 1)] is net1  # reused, not rebuilt
    # a fresh worker builds the same network 1 from (seed, task, 1) alone
    other = MemorySampler()
    other.sample(p, 300, np.random.default_rng(2), ctx(300))
    assert np.array_equal(other._cache[("task-a", 1)][1], net1[1])
    # another task or seed gives another network
    for c in (ctx(300, sid="task-b"), ctx(300, seed=8)):
        fresh = MemorySampler()
        fresh.sample(p, 300, np.random.default_rng(2), c)
        assert not np.array_equal(next(iter(fresh._cache.values()))[1], net1[1])


def test_collect_is_seeded_and_labelled():
    tasks = [("hebbian", dict(BASE, rule="som", iterations=None, messages=900))]
    one = sim.collect(tasks, max_shots=3000, seed=2, workers=1)
    two = sim.collect(tasks, max_shots=3000, seed=2, workers=1)
    assert one[0].errors == two[0].errors and one[0].shots == 3000
    assert one[0].decoder == "hebbian:clique-som-wta"


@pytest.mark.parametrize("params", [
    {"model": "sparse", "clusters": 20, "neurons": 16, "active": 4, "messages": 300,
     "erased": 1, "guided": True, "iterations": 4},
    {"model": "sparse", "clusters": 20, "neurons": 16, "active": 4, "messages": 300,
     "erased": 1, "filter": "glsko", "iterations": 5},
    {"model": "willshaw", "neurons": 256, "active": 6, "messages": 200, "erased": 2},
    {"model": "hopfield", "neurons": 128, "messages": 8, "erased": 32},
    dict(BASE, inserted=2, iterations=4),
    dict(BASE, p_rel=0.5, n_syn=4, tie="random"),
    dict(BASE, stuck=0.1, stuck_at=1, rule="som", iterations=None),
])
def test_every_model_samples(params):
    s = MemorySampler()
    p = s.validate(params)
    st = s.sample(p, 300, np.random.default_rng(0))
    assert st.shots == 300 and 0 <= st.errors <= 300


def test_registry_accepts_new_models():
    def build(params, rng):
        msgs = rng.integers(0, params["neurons"], size=(params["messages"], params["clusters"]))
        return CliqueNetwork(params["clusters"], params["neurons"]).store(msgs), msgs

    build.params = {"epochs": 1}
    MODELS["toy"] = build
    try:
        s = MemorySampler()
        p = s.validate(dict(BASE, model="toy", epochs=3))
        assert p["epochs"] == 3
        assert s.sample(p, 100, np.random.default_rng(0)).shots == 100
        assert main(["theory", "--model", "toy", "--clusters", "8", "--neurons", "64",
                     "--messages", "600", "--erased", "4"]) == 0
    finally:
        del MODELS["toy"]


@pytest.mark.parametrize("bad,name", [
    ({"model": "nope"}, "model"), ({"clusters": 1}, "clusters"), ({"erased": 8}, "erased"),
    ({"p_rel": 1.5}, "p_rel"), ({"stuck": -1}, "stuck"), ({"rule": "x"}, "rule"),
    ({"zzz": 1}, "zzz"), ({"messages": 0}, "messages"), ({"stuck_at": 2}, "stuck_at"),
])
def test_validate_names_the_bad_parameter(bad, name):
    with pytest.raises(ValueError, match=name):
        MemorySampler().validate(dict(BASE, **bad))
    with pytest.raises(ValueError, match="active"):
        MemorySampler().validate({"model": "sparse", "clusters": 4, "neurons": 8, "active": 5,
                                  "messages": 10})


def test_theory_curve_for_rows():
    s = MemorySampler()
    p = s.validate(dict(BASE, neurons=256, messages=10_000))
    assert abs(theory.theory_curve(p) - 0.3712) < 1e-3
    assert s.theory(dict(p, rule="som")) is None
    with pytest.raises(ValueError):
        theory.theory_curve(dict(p, iterations=4))


def test_cli_sweep_writes_csv_and_bad_input_writes_nothing(tmp_path, capsys):
    out = tmp_path / "stats.csv"
    rc = main(["sweep", "--clusters", "8", "--neurons", "64", "--messages", "400:800:2",
               "--erased", "4", "--rule", "som", "--iterations", "4", "--max-shots", "500",
               "--seed", "1", "--workers", "1", "--no-progress", "--out", str(out)])
    assert rc == 0
    rows = sim.read_stats([str(out)])
    assert len(rows) == 2 and all(r.shots == 500 for r in rows)
    bad = tmp_path / "bad.csv"
    assert main(["sweep", "--clusters", "8", "--neurons", "64", "--messages", "400",
                 "--erased", "9", "--out", str(bad)]) == 2
    assert not bad.exists()
    assert "erased" in capsys.readouterr().err
    assert main(["sweep", "--model", "nope", "--messages", "4", "--out", str(bad)]) == 2
    assert main(["theory", "--clusters", "8", "--neurons", "256", "--messages", "3000",
                 "--erased", "4", "--capacity", "0.01"]) == 0
    assert "M*=" in capsys.readouterr().out
