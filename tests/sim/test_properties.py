"""Property tests of the chunk grid: totals, shard additivity, resume at any budget."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

import sim

SLOW = "tests.sim.slow_sampler:SlowSampler"
TASKS = [(SLOW, {"p": 0.4, "delay": 0.0})]


@settings(max_examples=25, deadline=None)
@given(
    max_shots=st.integers(1, 2_000),
    n_shards=st.integers(1, 4),
    seed=st.integers(0, 2**32 - 1),
)
def test_shards_partition_the_grid_exactly(max_shots, n_shards, seed):
    whole = sim.collect(TASKS, max_shots=max_shots, seed=seed, workers=1)[0]
    parts = [
        sim.collect(TASKS, max_shots=max_shots, seed=seed, workers=1, shard=(k, n_shards))[0]
        for k in range(n_shards)
    ]
    assert whole.shots == max_shots
    assert sum(p.shots for p in parts) == max_shots
    assert sum(p.errors for p in parts) == whole.errors
    assert 0 <= whole.errors <= whole.shots


@settings(max_examples=15, deadline=None)
@given(first=st.integers(1, 900), second=st.integers(1, 900), seed=st.integers(0, 1000))
def test_resume_reaches_exactly_the_new_budget(tmp_path_factory, first, second, seed):
    f = tmp_path_factory.mktemp("r") / "r.csv"
    sim.collect(TASKS, max_shots=first, seed=seed, workers=1, save_resume_filepath=f)
    total = first + second
    got = sim.collect(TASKS, max_shots=total, seed=seed, workers=1, save_resume_filepath=f)[0]
    assert got.shots == total
    assert sim.combine(sim.read_stats(f))[0].shots == total
