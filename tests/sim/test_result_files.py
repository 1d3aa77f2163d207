"""Result files: never modify a file that is not ours, one writer at a time, no chunk
counted twice, no silent seed change, corrupt rows named, a failed disk write resumes.

Each test here failed before the fix it guards (issue: silent data loss and double
counting).
"""

from __future__ import annotations

import errno
import os
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import sinter

import sim
from sim.cli import main
from sim.csvio import (
    SHOT_SUM_KEY,
    CorruptCSVError,
    DuplicateChunkError,
    FileInUseError,
    ForeignFileError,
    ResultFile,
    ResumeFile,
    SeedMismatchError,
    prefix_shot_index_sum,
    result_file_kind,
)

ROOT = Path(__file__).resolve().parents[2]
SLOW = "tests.sim.slow_sampler:SlowSampler"
REP = [("repetition", {"n": n, "p": 0.2}) for n in (3, 5)]


def totals(stats):
    return sorted((s.strong_id, s.shots, s.errors, dict(s.custom_counts)) for s in stats)


# ----------------------------------------------------------------------- not our file
FOREIGN = {
    "one-line": b"my notes",
    "two-lines": b"my notes\nsecond line",
    "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
    "csv-other": b"a,b,c\n1,2,3\n",
    "blank-first-line": b"\n     shots,    errors\n",
}


@pytest.mark.parametrize("name", sorted(FOREIGN))
def test_collect_refuses_a_file_that_is_not_a_sinter_csv_and_leaves_it_unchanged(tmp_path,
                                                                                  name):
    f = tmp_path / "n.txt"
    f.write_bytes(FOREIGN[name])
    with pytest.raises(ForeignFileError, match=r"n\.txt: not a sinter CSV"):
        sim.collect(REP, max_shots=10, seed=1, workers=1, save_resume_filepath=f)
    assert f.read_bytes() == FOREIGN[name]
    with pytest.raises(ForeignFileError, match=r"n\.txt"):
        sim.run_grid(sim.grid._demo_metric, {"scale": [1.0]}, seeds=1, out=f)
    assert f.read_bytes() == FOREIGN[name]
    with pytest.raises(ForeignFileError):
        sim.csvio.repair_truncated(f)
    with pytest.raises(ForeignFileError):
        sim.append_rows(f, sim.collect(REP, max_shots=10, seed=1, workers=1))
    with pytest.raises((ForeignFileError, CorruptCSVError)):
        sim.read_stats(f, repair=True)
    assert f.read_bytes() == FOREIGN[name]


def test_cli_collect_refuses_the_users_notes_with_exit_2(tmp_path, capsys):
    f = tmp_path / "n.txt"
    for data in (b"my notes", b"line one\nline two"):
        f.write_bytes(data)
        code = main(["collect", "--sampler", "repetition", "--param", "n=3", "--param", "p=0.1",
                     "--max-shots", "10", "--workers", "1", "--out", str(f), "--no-progress"])
        assert code == 2
        err = capsys.readouterr().err
        assert "n.txt: not a sinter CSV result file" in err and err.count("\n") == 1
        assert f.read_bytes() == data


def test_sinter_and_tidy_csv_are_not_mixed_up(tmp_path):
    grid = tmp_path / "g.csv"
    sim.run_grid(sim.grid._demo_metric, {"scale": [1.0]}, seeds=2, out=grid)
    before = grid.read_bytes()
    with pytest.raises(ForeignFileError, match="tidy CSV"):
        sim.collect(REP, max_shots=10, seed=1, workers=1, save_resume_filepath=grid)
    assert grid.read_bytes() == before
    rep = tmp_path / "r.csv"
    sim.collect(REP, max_shots=10, seed=1, workers=1, save_resume_filepath=rep)
    before = rep.read_bytes()
    with pytest.raises(ForeignFileError, match="sinter CSV"):
        sim.run_grid(sim.grid._demo_metric, {"scale": [1.0]}, seeds=2, out=rep)
    assert rep.read_bytes() == before
    assert result_file_kind(grid) == "grid" and result_file_kind(rep) == "sinter"


def test_odd_output_paths_are_refused_by_name(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "afile").write_text("x")
    for path in (tmp_path / "d", tmp_path / "afile" / "under.csv", Path("/dev/null")):
        with pytest.raises(sim.csvio.ResultFileError, match=re.escape(str(path))):
            sim.collect(REP, max_shots=10, seed=1, workers=1, save_resume_filepath=path)
    assert (tmp_path / "afile").read_text() == "x"


def test_a_header_cut_by_a_crash_is_repaired_not_refused(tmp_path):
    f = tmp_path / "h.csv"
    f.write_bytes(sinter.CSV_HEADER.strip().encode()[:17])
    assert result_file_kind(f) == "empty"
    with pytest.warns(RuntimeWarning, match="line 1 was truncated"):
        stats = sim.collect(REP, max_shots=500, seed=3, workers=1, save_resume_filepath=f)
    assert totals(sim.combine(sim.read_stats(f))) == totals(stats)


def test_a_refused_run_leaves_no_new_file(tmp_path):
    f = tmp_path / "new.csv"
    with pytest.raises(RuntimeError, match="boom"), ResultFile(f):
        assert f.exists()
        raise RuntimeError("boom")
    assert not f.exists()


# ----------------------------------------------------------------------- one writer
def test_a_second_writer_is_refused_by_name(tmp_path):
    f = tmp_path / "w.csv"
    with ResumeFile(f):  # another open file description: flock conflicts in-process too
        with pytest.raises(FileInUseError, match=r"w\.csv: another process is writing"):
            sim.collect(REP, max_shots=10, seed=1, workers=1, save_resume_filepath=f)
        with pytest.raises(FileInUseError):
            sim.append_rows(f, sim.collect(REP, max_shots=10, seed=1, workers=1))
    sim.collect(REP, max_shots=10, seed=1, workers=1, save_resume_filepath=f)  # free again


class GateSampler(sim.Sampler):
    """Samples coin flips, but only once the file ``params["gate"]`` exists: the first
    writer holds its lock for as long as the test wants."""

    name = "gate-test"

    def validate(self, params):
        return {"gate": str(params["gate"]), "p": float(params.get("p", 0.3))}

    def decoder(self, params):
        return "coin"

    def chunk_shots(self, params):
        return 500

    def sample(self, params, shots, rng, ctx=None):
        deadline = time.time() + 120
        while not os.path.exists(params["gate"]) and time.time() < deadline:
            time.sleep(0.01)
        hits = int(np.count_nonzero(rng.random(shots) < params["p"]))
        return sinter.AnonTaskStats(shots=shots, errors=hits)


def test_two_cli_sweeps_on_one_file_do_not_double_count(tmp_path):
    """The issue's scenario: two sweeps with the same seed and --out at once.  The second
    is refused (exit 2, one line, nothing written); the file holds each shot once."""
    f, gate = tmp_path / "same.csv", tmp_path / "gate"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    args = [sys.executable, "-m", "sim", "collect", "--sampler",
            "tests.sim.test_result_files:GateSampler", "--param", f"gate={gate}",
            "--max-shots", "4000", "--seed", "7", "--workers", "1", "--out", str(f),
            "--no-progress"]
    first = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and (not f.exists() or f.stat().st_size == 0):
            time.sleep(0.02)  # the first run holds the lock (header written), then waits
        assert first.poll() is None, first.communicate()
        second = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True,
                                timeout=300)
    finally:
        gate.touch()
        out1, err1 = first.communicate(timeout=300)
    assert first.returncode == 0, err1
    assert second.returncode == 2
    assert "same.csv: another process is writing this file" in second.stderr
    assert second.stderr.count("\n") == 1 and "Traceback" not in second.stderr
    rows = sim.combine(sim.read_stats(f))
    assert [r.shots for r in rows] == [4000]
    straight = sim.collect([("tests.sim.test_result_files:GateSampler",
                             {"gate": str(gate)})], max_shots=4000, seed=7, workers=1)
    assert (rows[0].errors, rows[0].strong_id) == (straight[0].errors, straight[0].strong_id)


# ----------------------------------------------------------------------- chunks twice
def _concat(dst: Path, *srcs: Path) -> None:
    text = "".join(s.read_text() if i == 0 else s.read_text().split("\n", 1)[1]
                   for i, s in enumerate(srcs))
    dst.write_text(text)


def test_a_file_holding_a_chunk_twice_is_reported_on_resume(tmp_path):
    """Two writers without a working lock (or concatenated files): the same chunks twice.
    Before, the resume took 2x shots at face value and never noticed."""
    a, b, both = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "both.csv"
    tasks = [(SLOW, {"p": 0.3, "delay": 0.0})]
    sim.collect(tasks, max_shots=1600, seed=7, workers=1, save_resume_filepath=a)
    sim.collect(tasks, max_shots=1600, seed=7, workers=1, save_resume_filepath=b)
    _concat(both, a, b)
    before = both.read_bytes()
    with pytest.raises(DuplicateChunkError, match=r"both\.csv: the 3200 shots .*lines 2 and 3"):
        sim.collect(tasks, max_shots=5000, seed=7, workers=1, save_resume_filepath=both)
    assert both.read_bytes() == before
    # reading (plots, combine) still works: the rows are well-formed
    assert sim.combine(sim.read_stats(both))[0].shots == 3200


def test_a_shard_file_resumed_as_another_shard_is_reported(tmp_path):
    f = tmp_path / "s0.csv"
    sim.collect(REP, max_shots=400_000, seed=5, workers=1, shard=(0, 3), save_resume_filepath=f)
    with pytest.raises(DuplicateChunkError, match="shard 1/3"):
        sim.collect(REP, max_shots=400_000, seed=5, workers=1, shard=(1, 3),
                    save_resume_filepath=f)
    # the right shard resumes fine, and the N shard files combine to the unsharded result
    sim.collect(REP, max_shots=400_000, seed=5, workers=1, shard=(0, 3), save_resume_filepath=f)
    files = [f]
    for k in (1, 2):
        files.append(tmp_path / f"s{k}.csv")
        sim.collect(REP, max_shots=400_000, seed=5, workers=1, shard=(k, 3),
                    save_resume_filepath=files[-1])
    whole = tmp_path / "whole.csv"
    _concat(whole, *files)  # the combined shards are the unsharded prefix: resumable
    resumed = sim.collect(REP, max_shots=400_000, seed=5, workers=1, save_resume_filepath=whole)
    assert totals(resumed) == totals(sim.collect(REP, max_shots=400_000, seed=5, workers=1))


@pytest.mark.parametrize("k,n,chunk,done", [(0, 1, 7, 0), (0, 1, 7, 23), (2, 5, 3, 10),
                                            (1, 2, 100, 250), (0, 4, 1, 9)])
def test_prefix_shot_index_sum_matches_enumeration(k, n, chunk, done):
    pos = []
    j = k
    while len(pos) < done:
        pos.extend(range(j * chunk, (j + 1) * chunk))
        j += n
    assert prefix_shot_index_sum(k, n, chunk, done) == sum(pos[:done])


def test_rows_carry_their_seed_and_chunk_positions_and_sinter_reads_them(tmp_path):
    f = tmp_path / "t.csv"
    stats = sim.collect(REP, max_shots=2500, seed=4, workers=1, save_resume_filepath=f)
    for s in stats:
        assert s.custom_counts["sim:seed=4"] == 2500
        assert s.custom_counts[SHOT_SUM_KEY] == sum(range(2500))
    ours = totals(sim.combine(sim.read_stats(f)))
    theirs = totals(sinter.read_stats_from_csv_files(str(f)))
    assert ours == theirs == totals(stats)


def test_old_files_without_bookkeeping_still_resume(tmp_path):
    f = tmp_path / "old.csv"
    sim.collect(REP, max_shots=1000, seed=2, workers=1, save_resume_filepath=f)
    rows = sim.read_stats(f)
    stripped = [sinter.TaskStats(strong_id=s.strong_id, decoder=s.decoder,
                                 json_metadata=s.json_metadata, shots=s.shots, errors=s.errors,
                                 discards=s.discards, seconds=s.seconds,
                                 custom_counts=Counter({k: v for k, v in s.custom_counts.items()
                                                        if not k.startswith("sim:")}))
                for s in rows]
    f.write_text(sinter.CSV_HEADER.strip() + "\n"
                 + "".join(s.to_csv_line() + "\n" for s in stripped))
    got = sim.collect(REP, max_shots=3000, seed=2, workers=1, save_resume_filepath=f)
    g = tmp_path / "new.csv"  # the same two runs into a file with the bookkeeping
    sim.collect(REP, max_shots=1000, seed=2, workers=1, save_resume_filepath=g)
    ref = sim.collect(REP, max_shots=3000, seed=2, workers=1, save_resume_filepath=g)
    assert [(s.shots, s.errors) for s in got] == [(s.shots, s.errors) for s in ref]


# ----------------------------------------------------------------------- seeds
def test_resuming_with_another_seed_is_refused_unless_allowed(tmp_path):
    f = tmp_path / "s.csv"
    sim.collect(REP, max_shots=1000, seed=7, workers=1, save_resume_filepath=f)
    before = f.read_bytes()
    with pytest.raises(SeedMismatchError, match=r"^seed=8, but .*s\.csv:2 holds 1000 shots .* "
                                                r"seed=7"):
        sim.collect(REP, max_shots=2000, seed=8, workers=1, save_resume_filepath=f)
    with pytest.raises(SeedMismatchError, match="^seed=None"):
        sim.collect(REP, max_shots=2000, seed=None, workers=1, save_resume_filepath=f)
    assert f.read_bytes() == before
    with pytest.raises(TypeError, match="allow_seed_change"):
        sim.collect(REP, max_shots=2000, seed=8, workers=1, save_resume_filepath=f,
                    allow_seed_change=1)
    got = sim.collect(REP, max_shots=2000, seed=8, workers=1, save_resume_filepath=f,
                      allow_seed_change=True)
    assert all(s.custom_counts["sim:seed=7"] == 1000 and s.custom_counts["sim:seed=8"] == 1000
               for s in got)
    # once mixed (by request), a later resume must ask again
    with pytest.raises(SeedMismatchError):
        sim.collect(REP, max_shots=3000, seed=8, workers=1, save_resume_filepath=f)


def test_seed_and_shard_arguments_are_checked(tmp_path):
    with pytest.raises(ValueError, match="^seed"):
        sim.collect(REP, max_shots=10, seed=2**64, workers=1)
    with pytest.raises(TypeError, match="^seed"):
        sim.collect(REP, max_shots=10, seed=1.0, workers=1)
    a = sim.collect(REP, max_shots=1000, seed=2**64 - 1, workers=1)
    b = sim.collect(REP, max_shots=1000, seed=0, workers=1)
    assert totals(a) != totals(b)
    for bad in ((False, True), (0, 1.0), (1, 1), [0, 2], (np.int64(2), np.int64(2))):
        with pytest.raises(ValueError, match="^shard"):
            sim.collect(REP, max_shots=10, seed=1, workers=1, shard=bad)
    got = sim.collect(REP, max_shots=1000, seed=1, workers=1, shard=(np.int64(0), np.int32(1)))
    assert totals(got) == totals(sim.collect(REP, max_shots=1000, seed=1, workers=1))


# ----------------------------------------------------------------------- corrupt rows
def _rows(f):
    return f.read_text().splitlines()


@pytest.mark.parametrize("bad", ["nan", "-1.5", "inf"])
def test_a_row_with_nan_or_negative_seconds_is_a_corrupt_file_error_naming_the_line(tmp_path,
                                                                                   bad):
    f = tmp_path / "c.csv"
    sim.collect(REP, max_shots=100, seed=2, workers=1, save_resume_filepath=f)
    lines = _rows(f)
    cols = lines[2].split(",")
    cols[3] = bad  # seconds
    lines[2] = ",".join(cols)
    f.write_text("\n".join(lines) + "\n")
    with pytest.raises(CorruptCSVError, match=r"c\.csv:3: seconds"):
        sim.read_stats(f)
    with pytest.raises(CorruptCSVError, match=r"c\.csv:3: seconds"):
        sim.collect(REP, max_shots=200, seed=2, workers=1, save_resume_filepath=f)


def test_decoding_errors_name_the_file(tmp_path):
    f = tmp_path / "u.csv"
    sim.collect(REP, max_shots=100, seed=2, workers=1, save_resume_filepath=f)
    f.write_bytes(f.read_bytes() + b"\xff\xfe,bad\n")
    with pytest.raises(CorruptCSVError, match=r"u\.csv:4: not UTF-8"):
        sim.read_stats(f)
    g = tmp_path / "g.csv"
    sim.run_grid(sim.grid._demo_metric, {"scale": [1.0]}, seeds=1, out=g)
    g.write_bytes(g.read_bytes() + b"\xff\n")
    with pytest.raises(CorruptCSVError, match=r"g\.csv:3: not UTF-8"):
        sim.read_grid(g)


def test_tidy_rows_with_bad_seconds_are_corrupt(tmp_path):
    g = tmp_path / "g.csv"
    sim.run_grid(sim.grid._demo_metric, {"scale": [1.0]}, seeds=1, out=g)
    lines = g.read_text().splitlines()
    lines[1] = lines[1].rsplit(",", 1)[0] + ",nan"
    g.write_text("\n".join(lines) + "\n")
    with pytest.raises(CorruptCSVError, match=r"g\.csv:2: seconds"):
        sim.read_grid(g)


def test_run_grid_seeds_are_checked_by_name(tmp_path):
    for bad, exc in ((2.5, TypeError), ("3", TypeError), (True, TypeError), ([1.5], TypeError),
                     ([-1], ValueError), (0, ValueError), ([2**64], ValueError)):
        with pytest.raises(exc, match="^seeds"):
            sim.run_grid(sim.grid._demo_metric, {"scale": [1.0]}, seeds=bad,
                         out=tmp_path / "x.csv")
    assert not (tmp_path / "x.csv").exists()
    got = sim.run_grid(sim.grid._demo_metric, {"scale": [1.0]}, seeds=np.int64(2),
                       out=tmp_path / "y.csv")
    assert got[0]["n"] == 2


# ----------------------------------------------------------------------- disk full
def test_a_failed_disk_write_leaves_a_file_that_resumes_exactly(tmp_path, monkeypatch):
    """Patched writer: the third append writes half its bytes, then the disk is full."""
    f = tmp_path / "full.csv"
    tasks = [(SLOW, {"p": p, "delay": 0.0}) for p in (0.1, 0.5)]
    real_write = os.write
    calls = {"n": 0}

    def failing_write(fd, data):
        if fd > 2 and os.fstat(fd).st_ino == f.stat().st_ino:
            calls["n"] += 1
            if calls["n"] == 3:
                real_write(fd, bytes(data[: len(data) // 2]))
                raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(sim.csvio.os, "write", failing_write)
    monkeypatch.setattr(sim.collect.__globals__["time"], "monotonic",
                        _ticking_clock())  # flush after every commit
    with pytest.raises(OSError, match="No space"):
        sim.collect(tasks, max_shots=4000, seed=11, workers=1, save_resume_filepath=f)
    monkeypatch.undo()
    assert f.read_text().endswith("\n")  # the half line was cut back
    partial = sim.combine(sim.read_stats(f))
    assert 0 < sum(s.shots for s in partial) < 8000
    resumed = sim.collect(tasks, max_shots=4000, seed=11, workers=1, save_resume_filepath=f)
    straight = sim.collect(tasks, max_shots=4000, seed=11, workers=1)
    assert totals(resumed) == totals(straight)


def _ticking_clock():
    t = [0.0]

    def clock():
        t[0] += 10.0
        return t[0]

    return clock


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs POSIX resource limits")
def test_a_file_size_limit_mid_sweep_then_resume_gives_uninterrupted_counts(tmp_path):
    """A real full disk: ``ulimit -f`` (RLIMIT_FSIZE) in a subprocess stops the sweep
    mid-write; the file left behind resumes exactly."""
    f = tmp_path / "limit.csv"
    limit = 1000  # bytes: the header and a few rows of ~220 bytes
    code = (
        "import itertools, resource, signal, sys, time\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))\n"
        "clock = itertools.count(0.0, 10.0)\n"
        "time.monotonic = lambda: next(clock)  # flush after every batch\n"
        "import sim\n"
        "try:\n"
        f"    sim.collect([({SLOW!r}, {{'p': p, 'delay': 0.01}}) for p in (0.1, 0.5)],\n"
        f"                max_shots=6000, seed=3, workers=1, save_resume_filepath={str(f)!r})\n"
        "except OSError as exc:\n"
        "    print('write failed:', exc.errno)\n"
        "    sys.exit(3)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert f.stat().st_size <= limit and f.read_text().endswith("\n")
    tasks = [(SLOW, {"p": p, "delay": 0.01}) for p in (0.1, 0.5)]
    assert 0 < sum(s.shots for s in sim.read_stats(f)) < 12000
    resumed = sim.collect(tasks, max_shots=6000, seed=3, workers=1, save_resume_filepath=f)
    straight = sim.collect(tasks, max_shots=6000, seed=3, workers=1)
    assert totals(resumed) == totals(straight)
