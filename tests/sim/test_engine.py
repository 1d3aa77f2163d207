"""sim.collect: closed-form rates, determinism, resume, shards, executors, bad input."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import Executor, Future
from pathlib import Path

import numpy as np
import pytest
import sinter
from scipy.stats import binom

import sim
from sim.repetition import exact_error_rate

ROOT = Path(__file__).resolve().parents[2]
SLOW = "tests.sim.slow_sampler:SlowSampler"


def _grid():
    return [("repetition", {"n": n, "p": p}) for n in (3, 7) for p in (0.05, 0.2, 0.45)]


def totals(stats):
    return sorted((s.strong_id, s.shots, s.errors, dict(s.custom_counts)) for s in stats)


def test_repetition_rates_match_exact_binomial_tail():
    # 6 tasks x 4 seeds = 24 comparisons; a two-sided 1e-4 tail per comparison keeps the
    # family-wise false-alarm probability below 0.3 % (Bonferroni).
    shots = 40_000
    for seed in range(4):
        for s in sim.collect(_grid(), max_shots=shots, seed=seed, workers=1):
            n, p = s.json_metadata["n"], s.json_metadata["p"]
            rate = exact_error_rate(n, p)
            lo, hi = binom.ppf(5e-5, shots, rate), binom.isf(5e-5, shots, rate)
            assert lo <= s.errors <= hi, (n, p, s.errors, rate * shots)


def test_exact_error_rate_closed_form():
    assert exact_error_rate(3, 0.1) == pytest.approx(3 * 0.01 * 0.9 + 0.001)
    assert exact_error_rate(5, 0.5) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="n"):
        exact_error_rate(4, 0.1)
    with pytest.raises(ValueError, match="p"):
        exact_error_rate(3, 1.5)


def test_same_seed_same_counts_at_1_and_2_workers_and_3_shards(tmp_path):
    one = sim.collect(_grid(), max_shots=300_000, seed=7, workers=1)
    two = sim.collect(_grid(), max_shots=300_000, seed=7, workers=2)
    assert totals(one) == totals(two)
    files = []
    for k in range(3):
        f = tmp_path / f"shard{k}.csv"
        sim.collect(_grid(), max_shots=300_000, seed=7, workers=1, shard=(k, 3),
                    save_resume_filepath=f)
        files.append(f)
    combined = sim.combine(sim.read_stats(files))
    assert totals(combined) == totals(one)
    other = sim.collect(_grid(), max_shots=300_000, seed=8, workers=1)
    assert totals(other) != totals(one)


def test_resume_continues_to_exactly_max_shots(tmp_path):
    f = tmp_path / "r.csv"
    sim.collect(_grid(), max_shots=1000, seed=1, workers=1, save_resume_filepath=f)
    stats = sim.collect(_grid(), max_shots=2000, seed=1, workers=1, save_resume_filepath=f)
    assert all(s.shots == 2000 for s in stats)
    on_disk = sim.combine(sim.read_stats(f))
    assert totals(on_disk) == totals(stats)
    again = sim.collect(_grid(), max_shots=2000, seed=1, workers=1, save_resume_filepath=f)
    assert totals(again) == totals(stats)
    assert len(sim.read_stats(f)) == 2 * len(_grid())  # nothing new appended


def test_resume_on_chunk_boundaries_equals_uninterrupted(tmp_path):
    f = tmp_path / "r.csv"
    tasks = [(SLOW, {"p": 0.3, "delay": 0.0})]
    sim.collect(tasks, max_shots=700, seed=4, workers=1, save_resume_filepath=f)
    resumed = sim.collect(tasks, max_shots=1500, seed=4, workers=1, save_resume_filepath=f)
    straight = sim.collect(tasks, max_shots=1500, seed=4, workers=1)
    assert totals(resumed) == totals(straight)


def test_truncated_last_line_is_repaired_with_warning(tmp_path):
    f = tmp_path / "t.csv"
    ref = sim.collect(_grid(), max_shots=5000, seed=2, workers=1)
    sim.collect(_grid()[:3], max_shots=5000, seed=2, workers=1, save_resume_filepath=f)
    sim.collect(_grid(), max_shots=5000, seed=2, workers=1, save_resume_filepath=f)
    data = f.read_bytes()
    f.write_bytes(data[:-25])  # cut the last row mid-line
    with pytest.warns(RuntimeWarning, match=r"line \d+ was truncated"):
        stats = sim.collect(_grid(), max_shots=5000, seed=2, workers=1, save_resume_filepath=f)
    assert totals(stats) == totals(ref)
    assert f.read_text().endswith("\n")
    assert totals(sim.combine(sim.read_stats(f))) == totals(ref)


def test_corrupt_line_is_an_error_naming_file_and_line(tmp_path):
    f = tmp_path / "c.csv"
    sim.collect(_grid()[:2], max_shots=100, seed=2, workers=1, save_resume_filepath=f)
    lines = f.read_text().splitlines()
    lines[1] = lines[1].replace(",", ";", 2)
    f.write_text("\n".join(lines) + "\n")
    with pytest.raises(sim.CorruptCSVError, match=r"c\.csv:2"):
        sim.collect(_grid()[:2], max_shots=100, seed=2, workers=1, save_resume_filepath=f)


def test_sigkill_mid_sweep_then_rerun_gives_uninterrupted_counts(tmp_path):
    f = tmp_path / "k.csv"
    code = (
        "import sim\n"
        "if __name__ == '__main__':\n"
        f"    sim.collect([({SLOW!r}, {{'p': p, 'delay': 0.02}}) for p in (0.1, 0.5)],\n"
        f"                max_shots=8000, seed=11, workers=1, save_resume_filepath={str(f)!r})\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env)
    deadline = time.time() + 60
    while time.time() < deadline and (not f.exists() or f.read_text().count("\n") < 3):
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = sim.combine(sim.read_stats(f, repair=True))
    assert 0 < sum(s.shots for s in partial) < 16_000, "kill landed outside the sweep"
    tasks = [(SLOW, {"p": p, "delay": 0.02}) for p in (0.1, 0.5)]
    resumed = sim.collect(tasks, max_shots=8000, seed=11, workers=2, save_resume_filepath=f)
    straight = sim.collect(tasks, max_shots=8000, seed=11, workers=1)
    assert [(s.shots, s.errors) for s in resumed] == [(s.shots, s.errors) for s in straight]
    assert all(s.shots == 8000 for s in resumed)


def test_max_errors_stops_on_the_committed_prefix_deterministically():
    tasks = [(SLOW, {"p": 0.3, "delay": 0.0})]
    a = sim.collect(tasks, max_shots=100_000, max_errors=200, seed=5, workers=1)
    b = sim.collect(tasks, max_shots=100_000, max_errors=200, seed=5, workers=2)
    assert totals(a) == totals(b)
    assert 200 <= a[0].errors < 200 + 100
    assert a[0].shots % 100 == 0 and a[0].shots < 100_000


def test_custom_executor_and_dask_localcluster_give_same_counts():
    from concurrent.futures import ThreadPoolExecutor

    ref = sim.collect(_grid(), max_shots=50_000, seed=3, workers=1)
    with ThreadPoolExecutor(2) as ex:
        assert totals(sim.collect(_grid(), max_shots=50_000, seed=3, executor=ex)) == totals(ref)
    import distributed

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        got = sim.collect(_grid(), max_shots=50_000, seed=3, executor=client)
    assert totals(got) == totals(ref)


def test_our_csv_is_read_by_sinter_and_its_cli(tmp_path):
    f = tmp_path / "s.csv"
    stats = sim.collect(_grid(), max_shots=3000, seed=1, workers=1, save_resume_filepath=f)
    sinter_rows = sinter.read_stats_from_csv_files(str(f))
    assert sorted((s.strong_id, s.shots, s.errors) for s in sinter_rows) == sorted(
        (s.strong_id, s.shots, s.errors) for s in stats
    )
    sinter_bin = Path(sys.executable).with_name("sinter")
    import contextlib
    import io

    from sim.cli import main

    # a second file and a resumed first one, so rows really merge
    sim.collect(_grid(), max_shots=5000, seed=1, workers=1, save_resume_filepath=f)
    g = tmp_path / "t.csv"
    sim.collect(_grid()[::-1], max_shots=1000, seed=9, workers=1, save_resume_filepath=g)
    for order in ([], ["--order", "preserve"], ["--order", "error"]):
        out = subprocess.run([str(sinter_bin), "combine", *order, str(f), str(g)],
                             capture_output=True, text=True, check=True).stdout
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            assert main(["combine", *order, str(f), str(g)]) == 0
        assert buf.getvalue() == out  # the same text as sinter combine
    merged = sinter.read_stats_from_csv_files(_write(tmp_path / "x.csv", out))
    assert sorted(r.shots for r in merged) == [6000] * len(_grid())
    png = tmp_path / "p.png"
    subprocess.run(
        [str(sinter_bin), "plot", "--in", str(f), "--x_func", "metadata['p']",
         "--group_func", "metadata['n']", "--out", str(png)],
        check=True, capture_output=True,
    )
    assert png.stat().st_size > 1000


def _write(path, text):
    path.write_text(text)
    return str(path)


def test_our_samplers_run_under_sinter_collect():
    tasks = [sim.make_task("repetition", {"n": 3, "p": 0.2})[0]]
    res = sinter.collect(num_workers=1, tasks=tasks, max_shots=20_000,
                         custom_decoders=sim.sinter_decoders(tasks))
    assert res[0].shots == 20_000
    ours = sim.collect([("repetition", {"n": 3, "p": 0.2})], max_shots=10, seed=1, workers=1)[0]
    # the same task row: sinter's CSV and ours merge by strong id
    assert (res[0].strong_id, res[0].decoder, res[0].json_metadata) == (
        ours.strong_id, ours.decoder, ours.json_metadata)
    rate = exact_error_rate(3, 0.2)
    assert binom.ppf(1e-4, 20_000, rate) <= res[0].errors <= binom.isf(1e-4, 20_000, rate)


def test_canonical_ids_and_ranges():
    assert sim.parse_values("0.10:0.14:9")[2] == 0.11
    t1, _ = sim.make_task("repetition", {"n": 3, "p": 0.1 + 0.01})
    t2, _ = sim.make_task("repetition", {"p": 0.11, "n": np.int64(3)})
    assert t1.strong_id() == t2.strong_id()
    assert t1.json_metadata == {"n": 3, "p": 0.11}


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_shots": 0}, "max_shots"),
        ({"max_shots": -5}, "max_shots"),
        ({"max_shots": 10, "max_errors": 0}, "max_errors"),
        ({"max_shots": 10, "shard": (3, 2)}, "shard"),
        ({"max_shots": 10, "shard": (0, 2), "max_errors": 5}, "shard"),
        ({"max_shots": 10, "seed": -1}, "seed"),
        ({"max_shots": 10, "workers": 0}, "workers"),
    ],
)
def test_bad_arguments_name_the_argument(tmp_path, kwargs, match):
    f = tmp_path / "bad.csv"
    with pytest.raises(ValueError, match=match):
        sim.collect(_grid(), save_resume_filepath=f, **kwargs)
    assert not f.exists()


def test_bad_tasks_name_the_problem(tmp_path):
    f = tmp_path / "bad.csv"
    with pytest.raises(ValueError, match="unknown sampler"):
        sim.collect([("nope", {"n": 3})], max_shots=10, save_resume_filepath=f)
    with pytest.raises(ValueError, match="p must be a finite number in"):
        sim.collect([("repetition", {"n": 3, "p": 1.5})], max_shots=10, save_resume_filepath=f)
    with pytest.raises(ValueError, match="unknown parameter"):
        sim.collect([("repetition", {"n": 3, "p": 0.5, "q": 1})], max_shots=10,
                    save_resume_filepath=f)
    with pytest.raises(TypeError, match="executor"):
        sim.collect(_grid(), max_shots=10, executor=object())
    assert not f.exists()


def test_registry_resolves_names_and_paths():
    sim.register_sampler("slowtest", SLOW)
    assert sim.sampler_path("slowtest") == SLOW
    assert sim.resolve_sampler("slowtest") is sim.resolve_sampler(SLOW)
    with pytest.raises(ValueError, match="path"):
        sim.register_sampler("x", "no-colon")
    with pytest.raises(ValueError, match="cannot import"):
        sim.resolve_sampler("nosuch.module:Thing")


class _QueueingExecutor(Executor):
    """One worker thread that waits before taking each queued call, as a busy cluster
    scheduler does, so calls still queued when a task stops can really be cancelled."""

    def __init__(self):
        self._max_workers = 2
        self._queue: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._work, daemon=True)
        self._thread.start()

    def _work(self):
        while (item := self._queue.get()) is not None:
            fut, fn, args = item
            time.sleep(0.02)
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                fut.set_result(fn(*args))
            except BaseException as exc:  # noqa: BLE001 - delivered through the future
                fut.set_exception(exc)

    def submit(self, fn, /, *args):
        fut = Future()
        self._queue.put((fut, fn, args))
        return fut

    def shutdown(self, wait=True, **kwargs):
        self._queue.put(None)
        if wait:
            self._thread.join()


def test_max_errors_with_a_queueing_executor_cancels_cleanly():
    # Regression: pieces still queued when max_errors stopped a task were cancelled and
    # then read with fut.result(), raising CancelledError.
    tasks = [(SLOW, {"p": 0.3, "delay": 0.0}), (SLOW, {"p": 0.01, "delay": 0.0})]
    ref = sim.collect(tasks, max_shots=1000, max_errors=20, seed=5, workers=1)
    ex = _QueueingExecutor()
    try:
        got = sim.collect(tasks, max_shots=1000, max_errors=20, seed=5, executor=ex)
    finally:
        ex.shutdown()
    assert totals(got) == totals(ref)
    assert ref[0].shots < 1000 and ref[1].shots == 1000


def test_progress_bar_reports_tasks_shots_and_errors(capsys):
    sim.collect(_grid()[:2], max_shots=200_000, seed=1, workers=1, progress=True)
    err = capsys.readouterr().err
    assert "200000" in err.replace(",", "") or "400000" in err.replace(",", "")
    assert "tasks 2/2" in err and "errors" in err and "shot" in err
    sim.collect(_grid()[:2], max_shots=1000, seed=1, workers=1, progress=False)
    assert capsys.readouterr().err == ""


def test_iter_collect_yields_the_rows_collect_writes(tmp_path):
    """The generator's updates add up to collect's totals; existing rows are subtracted
    from the budget and not yielded again; arguments are checked before anything runs."""
    tasks = [(SLOW, {"p": 0.3, "delay": 0.0}), ("repetition", {"n": 3, "p": 0.2})]
    ref = sim.collect(tasks, max_shots=1500, seed=6, workers=1)
    updates = list(sim.iter_collect(tasks, max_shots=1500, seed=6, workers=1))
    assert all(isinstance(u, sinter.Progress) for u in updates)
    assert updates[-1].status_message == "tasks 2/2 errors " + str(sum(r.errors for r in ref))
    got = sim.combine(r for u in updates for r in u.new_stats)
    assert totals(got) == totals(ref)
    first = sim.collect(tasks, max_shots=700, seed=6, workers=1)
    rest = sim.combine(r for u in sim.iter_collect(tasks, max_shots=1500, seed=6, workers=1,
                                                   existing=first) for r in u.new_stats)
    assert [s.shots for s in rest] == [800, 1500 - 700]
    f = tmp_path / "r.csv"  # the same as resuming a result file
    sim.collect(tasks, max_shots=700, seed=6, workers=1, save_resume_filepath=f)
    resumed = sim.collect(tasks, max_shots=1500, seed=6, workers=1, save_resume_filepath=f)
    assert totals(sim.combine(first + rest)) == totals(resumed)
    # 700 is a chunk boundary of the slow sampler (100-shot chunks): bit for bit the same
    assert (resumed[0].errors, resumed[0].custom_counts) == (ref[0].errors, ref[0].custom_counts)
    with pytest.raises(ValueError, match="max_shots"):
        sim.iter_collect(tasks, max_shots=0)  # raised at the call, not at first next()
    sched = sim.Scheduler(tasks, max_shots=1500, seed=6, workers=1, existing=first)
    assert sched.remaining_shots() == 800 + 800
    assert [s.shots for s in sched.totals()] == [700, 700]


def test_declared_params_are_tasks():
    from sim.repetition import RepetitionParams

    a = sim.collect([RepetitionParams(n=3, p=0.2)], max_shots=1000, seed=2, workers=1)
    b = sim.collect([("repetition", {"n": 3, "p": 0.2})], max_shots=1000, seed=2, workers=1)
    assert totals(a) == totals(b)
