"""The hebbian sampler (sinter counts, seeding, model registry), hebbian.simulate and the
CLI."""

from __future__ import annotations

import numpy as np
import pytest

import hebbian
import sim
from hebbian import theory
from hebbian.params import MODELS, CliqueParams, register_model
from hebbian.sampler import MemorySampler
from hebbian.simulate import NETWORKS
from sim import param, task_params
from sim.cli import domain_main

main = domain_main("hebbian")

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

    NETWORKS.clear()
    # one chunk spanning networks 0 and 1, then a chunk inside network 1 again
    s.sample(p, 600, np.random.default_rng(0), ctx(0))
    assert sorted(i for _, i in NETWORKS) == [0, 1]
    net1 = NETWORKS[("task-a", 1)]
    s.sample(p, 300, np.random.default_rng(1), ctx(300))
    assert NETWORKS[("task-a", 1)] is net1  # reused, not rebuilt
    # a fresh worker builds the same network 1 from (seed, task, 1) alone
    NETWORKS.clear()
    MemorySampler().sample(p, 300, np.random.default_rng(2), ctx(300))
    assert np.array_equal(NETWORKS[("task-a", 1)][1], net1[1])
    # another task or seed gives another network
    for c in (ctx(300, sid="task-b"), ctx(300, seed=8)):
        NETWORKS.clear()
        MemorySampler().sample(p, 300, np.random.default_rng(2), c)
        assert not np.array_equal(next(iter(NETWORKS.values()))[1], net1[1])


def test_collect_is_seeded_and_labelled():
    tasks = [("hebbian", dict(BASE, rule="som", iterations=None, messages=900))]
    one = sim.collect(tasks, max_shots=3000, seed=2, workers=1)
    two = sim.collect(tasks, max_shots=3000, seed=2, workers=1)
    assert one[0].errors == two[0].errors and one[0].shots == 3000
    assert one[0].decoder == "hebbian:clique-som-wta"


# Each case: parameters, and the 99.9 % band of its error rate (fixed seed, 1200 queries)
# measured against an independent reading: the closed form where one exists, otherwise
# what the configuration must do (perfect recall at low load, failure at overload).
@pytest.mark.parametrize("params,lo,hi", [
    ({"model": "sparse", "clusters": 20, "neurons": 16, "active": 4, "messages": 300,
      "erased": 1, "guided": True, "iterations": 4}, 0.0, 0.01),
    ({"model": "sparse", "clusters": 20, "neurons": 16, "active": 4, "messages": 3000,
      "erased": 1, "filter": "glsko", "iterations": 5}, 0.5, 1.0),
    ({"model": "willshaw", "neurons": 256, "active": 6, "messages": 200, "erased": 2},
     None, None),
    ({"model": "hopfield", "neurons": 128, "messages": 8, "erased": 32}, 0.0, 0.01),
    ({"model": "hopfield", "neurons": 128, "messages": 40, "erased": 32}, 0.5, 1.0),
    (dict(BASE, inserted=2, iterations=4), 0.0, 0.05),
    # the release-noise closed form holds for a clamped cue (memory=100, README)
    ({"clusters": 8, "neurons": 256, "messages": 4000, "erased": 4, "p_rel": 0.5,
      "n_syn": 10, "tie": "random", "memory": 100, "queries_per_network": 1200}, None, None),
    (dict(BASE, stuck=0.1, stuck_at=1, rule="som", iterations=None), 0.0, 0.05),
])
def test_every_model_samples(params, lo, hi):
    s = MemorySampler()
    p = s.validate(params)
    st = s.sample(p, 1200, np.random.default_rng(0))
    rate = st.errors / st.shots
    assert st.shots == 1200
    assert st.custom_counts["ambiguous"] + st.custom_counts["wrong"] == st.errors
    if params.get("model") == "willshaw":  # erasure keeps every stored unit active
        assert st.custom_counts["wrong"] == 0 < st.errors
    if lo is None:  # a closed form exists: the rate sits in its binomial band
        ref = theory.theory_curve(p)
        lo_b, hi_b = sim.binomial_ci(st.errors, st.shots, confidence=0.999)
        assert lo_b <= ref <= hi_b, (rate, ref)
    else:
        assert lo <= rate <= hi, rate


def test_stuck_faults_change_the_network_and_the_error_rate():
    """Stuck-at faults act: at 1 they flood the graph (more errors), at 0 they cut
    stored edges (errors), each far outside the other's binomial band."""
    base = dict(BASE, messages=300, erased=3, queries_per_network=600)
    rate = {}
    for stuck, at in ((0.0, 0), (0.3, 1), (0.3, 0)):
        r = hebbian.simulate(dict(base, stuck=stuck, stuck_at=at), shots=1200, seed=4)
        rate[stuck, at] = sim.binomial_ci(r.errors, r.shots, confidence=0.999)
    assert rate[0.0, 0][1] < rate[0.3, 1][0] and rate[0.0, 0][1] < rate[0.3, 0][0]
    from hebbian.simulate import build_network

    net, _ = build_network(CliqueParams(**dict(base, stuck=0.3, stuck_at=1)),
                           np.random.default_rng(0))
    clean, _ = build_network(CliqueParams(**base), np.random.default_rng(0))
    assert net.density > clean.density + 0.25


def test_simulate_matches_the_sampler_and_refuses_foreign_options():
    p = dict(BASE, rule="som", iterations=3)
    r = hebbian.simulate(p, shots=800, seed=3)
    st = MemorySampler().sample(p, 800, np.random.default_rng(3))
    assert (r.errors, r.custom_counts) == (st.errors, st.custom_counts)
    assert r.errors_counted == "message" and (r + r).shots == 1600
    with pytest.raises(ValueError, match="p_rel"):
        hebbian.simulate(model="hopfield", neurons=64, messages=3, p_rel=0.5, shots=1)
    with pytest.raises(TypeError, match="either"):
        hebbian.simulate(p, shots=1, erased=2)


def test_registry_accepts_new_models():
    @task_params
    class ToyParams(CliqueParams):
        model: str = param("toy", help="memory model", choices=("toy",))
        epochs: int = param(1, help="training epochs", low=1)

    register_model(ToyParams)
    try:
        s = MemorySampler()
        p = s.validate(dict(BASE, model="toy", epochs=3))
        assert p["epochs"] == 3 and s.decoder(p) == "toy-sos-wta"
        assert s.sample(p, 100, np.random.default_rng(0)).shots == 100
        with pytest.raises(ValueError, match="epochs"):
            s.validate(dict(BASE, model="toy", epochs=0))
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
    hop = {"model": "hopfield", "neurons": 16, "messages": 2}
    assert MemorySampler().validate(dict(hop, erased=15))["erased"] == 15
    with pytest.raises(ValueError, match="erased must be < neurons=16, got 16"):
        MemorySampler().validate(dict(hop, erased=16))
    wil = {"model": "willshaw", "neurons": 16, "active": 4, "messages": 2}
    assert MemorySampler().validate(dict(wil, erased=3))["erased"] == 3
    assert MemorySampler().validate(dict(wil, active=16))["active"] == 16  # every unit
    with pytest.raises(ValueError, match="erased must be < active=4, got 4"):
        MemorySampler().validate(dict(wil, erased=4))
    with pytest.raises(ValueError, match="active must be <= neurons=16, got 17"):
        MemorySampler().validate(dict(wil, active=17))


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


def test_hopfield_query_matches_a_direct_recall():
    """The sampler's Hopfield query is: erase `erased` random bits, recall with the
    task's iterations, count patterns with any wrong bit."""
    from hebbian import Hopfield
    from hebbian.params import HopfieldParams

    rng = np.random.default_rng(3)
    net = Hopfield(64)
    pats = net.random_patterns(9, rng)
    net.store(pats)
    for iterations in (1, None):
        p = HopfieldParams(neurons=64, messages=9, erased=20, iterations=iterations)
        got = p.query(net, pats, 300, np.random.default_rng(7))
        r = np.random.default_rng(7)  # the same draws, by hand
        target = pats[r.integers(0, len(pats), 300)]
        cues = target.copy()
        er = np.argsort(r.random(cues.shape), axis=1)[:, :20]
        np.put_along_axis(cues, er, 0, axis=1)
        diff = (net.recall(cues, iterations=iterations).state != target).sum(axis=1)
        assert got == (int((diff > 0).sum()), 0, int(diff.sum()), 0)
        assert 0 < got[0] < 300
    # an empty memory keeps the cue: every erased bit stays 0, so every query fails
    # by exactly one bit per erased symbol
    e = HopfieldParams(neurons=16, messages=1, erased=1).query(
        Hopfield(16), Hopfield(16).random_patterns(2, rng), 10, rng)
    assert e == (10, 0, 10, 0)


def test_recurrent_build_passes_every_parameter():
    from hebbian.params import RecurrentParams

    p = RecurrentParams(clusters=4, neurons=8, messages=5, steps=7, p_erase=0.1,
                        p_insert=0.05, p_spont=0.02, rounds=2, threshold=0.5,
                        plastic_recall=True, recall="recurrent", max_steps=9, stable=4)
    net, msgs = p.build(np.random.default_rng(0))
    h = net.hebbian
    assert (h.steps, h.p_erase, h.p_insert, h.p_spont, h.plastic_recall) == (
        7, 0.1, 0.05, 0.02, True)
    assert h.presentations == 2 * 5  # rounds
    assert (net.max_steps, net.stable, net.recurrent_recall) == (9, 4, True)
    assert msgs.shape == (5, 4) and msgs.max() < 8
    q = p.replace(recall="clique", plastic_recall=False, threshold=0.3)
    net2, _ = q.build(np.random.default_rng(0))
    assert np.array_equal(net2.adjacency(), net2.hebbian.adjacency(0.3))
    # the clique recall of a learned network takes the task's options, rng included
    t = q.replace(tie="random", erased=1, queries_per_network=50)
    st = MemorySampler().sample(t, 50, np.random.default_rng(1))
    assert st.shots == 50


def test_model_flag_lists_every_model():
    from hebbian.params import MemoryParams

    specs = {s.name: s for s in MemoryParams.cli_specs()}
    assert specs["model"].choices == tuple(MODELS) and specs["model"].default == "clique"
    assert specs["model"].help == "memory model"
    assert "[clique, sparse, recurrent]" in specs["inserted"].help
    assert specs["iterations"].help.endswith(", recurrent] (default depends on the model)")
    # a flag of every model with one default is listed without models or default note
    assert specs["erased"].help == "erased symbols per cue (clusters, units or bits)"
    assert specs["steps"].help == "dynamics steps per presentation [recurrent]"


def test_simulate_checks_its_arguments():
    p = dict(BASE, messages=100)
    z = hebbian.simulate(p, shots=0, seed=1)
    assert (z.shots, z.errors) == (0, 0)
    r = hebbian.simulate(p, shots=100, seed=1)
    assert 0 < r.seconds < 60
    with pytest.raises(ValueError, match=r"^shots must be an integer >= 0, got -1"):
        hebbian.simulate(p, shots=-1)
    with pytest.raises(TypeError, match=r"^simulate: give the parameters either as params"):
        hebbian.simulate(p, shots=1, erased=1)


def test_a_chunk_is_one_network_up_to_20000_queries():
    """A chunk never spans two stored networks, and is at most 20 000 queries (the
    chunk size fixes the seeded streams, so it is part of every result)."""
    for qpn, chunk in ((300, 300), (20_000, 20_000), (20_001, 20_000), (10**6, 20_000)):
        assert CliqueParams(**dict(BASE, queries_per_network=qpn)).chunk_shots() == chunk


def test_sparse_random_ties_and_release_noise_are_seeded():
    """The task's generator reaches the sparse recall (random tie-breaks, release noise):
    the same seed gives the same counts."""
    s = MemorySampler()
    p = s.validate({"model": "sparse", "clusters": 12, "neurons": 8, "active": 4,
                    "messages": 100, "erased": 2, "tie": "random", "p_rel": 0.9,
                    "queries_per_network": 600})
    a, b = (s.sample(p, 600, np.random.default_rng(9)) for _ in range(2))
    assert a == b and 0 < a.errors < 600
