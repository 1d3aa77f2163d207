"""Bad command lines (issue: every refusal is one named line, exit code 2, nothing
written), and the command line under signals.

Each probe runs ``erasurelab ARGS`` in a folder holding a user's file (``n.txt``), a
sinter CSV and a tidy CSV; it must exit with code 2, print one line on stderr naming
the argument, no traceback, and leave every file byte-identical (nothing created,
nothing removed).  The probes run in-process (``sim.cli.main``); the signal tests run
the command in a subprocess and look for its worker processes afterwards.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import sim
from sim.cli import main
from sim.csvio import ResultFile

ROOT = Path(__file__).resolve().parents[1]
SLOW = "tests.sim.slow_sampler:SlowSampler"
REP = "collect --sampler repetition --param n=3 --param p=0.1 --max-shots 10 --workers 1"
FB = "fbqc sweep --network 6ring --L 3 --p-erasure 0.1 --max-shots 10 --workers 1"
HEB = "hebbian sweep --clusters 8 --neurons 256 --messages 100 --erased 4 --max-shots 10"

#: (command line, a word the one line must contain: the argument it names)
PROBES = [
    # run flags, outside any sampler
    (f"{REP} --workers 0 --out a.csv", "workers"),
    (f"{REP} --seed -1 --out a.csv", "seed"),
    (f"{REP} --seed 18446744073709551616 --out a.csv", "seed"),
    (f"{REP} --max-errors 0 --out a.csv", "max_errors"),
    (f"{REP} --max-shots 0 --out a.csv", "max_shots"),
    (f"{REP} --shard 2/2 --out a.csv", "shard"),
    (f"{REP} --shard 1/0 --out a.csv", "shard"),
    ("collect --sampler nope --max-shots 10 --out a.csv", "nope"),
    # result-file paths: checked before anything is built or written
    (f"{REP} --out res.png", "--out res.png"),
    (f"{REP} --out d/", "--out d/"),
    (f"{REP} --out ''", "--out"),
    (f"{REP} --out /dev/null", "/dev/null"),
    (f"{REP} --out .", "--out ."),
    (f"{REP} --out n.txt", "n.txt"),  # a user's file: never modified
    (f"{REP} --out n.txt/x.csv", "n.txt"),
    (f"{REP} --out grid.csv", "grid.csv"),  # another kind of result file
    (f"{FB} --out res.png", "--out res.png"),
    (f"{FB} --out n.txt", "n.txt"),
    (f"{FB} --workers 0 --out a.csv", "workers"),
    (f"{FB} --out held.csv", "held.csv"),  # another process is writing it
    # sizes that cannot fit in memory: refused from an estimate, before allocating
    ("collect --sampler repetition --param n=3 --param p=0:1:100000000000 --max-shots 10 "
     "--out a.csv", "COUNT=100000000000"),
    ("collect --sampler repetition --param n=1:100000:100000 --param p=0:1:100000 "
     "--max-shots 10 --out a.csv", "tasks"),
    ("fbqc sweep --network 6ring --L 10000 --p-erasure 0.1 --max-shots 10 --out a.csv",
     "L=10000"),
    ("fbqc optics --L 10000 --max-shots 10 --out a.csv", "L=10000"),
    ("hebbian sweep --clusters 8 --neurons 256 --messages 1e12 --erased 4 --out a.csv",
     "messages=1000000000000"),
    ("hebbian sweep --clusters 8 --neurons 1000000 --messages 100 --erased 4 --out a.csv",
     "neurons=1000000"),
    ("hebbian sweep --model hopfield --neurons 1000000 --messages 10 --erased 4 "
     "--out a.csv", "neurons=1000000"),
    ("hebbian sweep --model willshaw --neurons 100000000 --active 4 --messages 10 "
     "--erased 1 --out a.csv", "neurons=100000000"),
    (f"{HEB} --p-rel 0.5 --n-syn 10000000000000 --out a.csv", "n_syn=10000000000000"),
    (f"{HEB} --iterations 0 --out a.csv", "iterations"),
    (f"{HEB} --memory -1 --out a.csv", "memory"),
    # stim circuits: every output path before anything is written
    ("fbqc stim simulate --L 2 --shots 10", "L"),
    ("fbqc stim simulate --L 3 --shots -1", "--shots"),
    ("fbqc stim circuit --L 2", "L"),
    ("fbqc stim circuit --L 3 --out c.stim --diagram d.xyz", "--diagram d.xyz"),
    ("fbqc stim circuit --L 3 --out c.stim --diagram c.stim", "--diagram"),
    ("fbqc stim circuit --L 3 --out n.txt/c.stim", "--out n.txt/c.stim"),
    ("fbqc stim circuit --L 3 --out c.png", "--out c.png"),
    ("fbqc stim circuit --L 3 --out c.stim --diagram n.txt/d.svg", "--diagram"),
    # unlearn: every grid point, the seeds and both output paths, up front
    ("unlearn deletion --steps 2.5 --out a.csv", "--steps"),
    ("unlearn deletion --steps -1 --out a.csv", "--steps"),
    ("unlearn deletion --seeds 1,1 --out a.csv", "--seeds"),
    ("unlearn deletion --seeds 2.5 --out a.csv", "--seeds"),
    ("unlearn deletion --seeds 0 --out a.csv", "--seeds"),
    ("unlearn deletion --deletions 0 --out a.csv", "--deletions"),
    ("unlearn gslora --tasks 5 --out a.csv", "--tasks"),
    ("unlearn deletion --sigma nan --out a.csv", "--sigma"),
    ("unlearn deletion --lam nan --out a.csv", "--lam"),
    ("unlearn deletion --learn-steps -5 --out a.csv", "--learn-steps"),
    ("unlearn deletion --out res.png", "--out res.png"),
    ("unlearn deletion --out a.csv --figure f.xyz", "--figure f.xyz"),
    ("unlearn deletion --out a.csv --figure a.csv", "--figure"),
    ("unlearn deletion --out n.txt", "n.txt"),
    ("unlearn deletion --out sinter.csv", "sinter.csv"),
    ("unlearn deletion --out held_grid.csv", "held_grid.csv"),
    ("unlearn gslora --alpha nan --out a.csv", "--alpha"),
    ("unlearn gslora --bnd inf --out a.csv", "--bnd"),
    ("unlearn gslora --rank 0 --out a.csv", "--rank"),
    ("unlearn gslora --steps -1 --out a.csv", "--steps"),
    ("unlearn worstcase --ensemble 1 --out a.csv", "--ensemble"),
    ("unlearn audit --frac 0.0001 --out a.csv", "--frac"),
    ("unlearn audit --ensemble 2 --out a.csv", "--ensemble"),
    ("unlearn t2i evaluate --target seven --seeds 1,1 --out a.csv", "--seeds"),
    ("unlearn t2i evaluate --target seven --images-per-set 0 --out a.csv",
     "--images-per-set"),
    ("unlearn t2i erase --target seven --method uce --out n.txt", "n.txt"),
    ("unlearn t2i generate --prompt seven --out res.csv", "--out"),
]


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A folder with a user's notes, a sinter CSV, a tidy CSV and two result files
    held (locked) by another writer."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "n.txt").write_text("my notes")
    sim.collect([("repetition", {"n": 3, "p": 0.1})], max_shots=100, seed=1, workers=1,
                save_resume_filepath=tmp_path / "sinter.csv")
    sim.run_grid(sim.grid._demo_metric, {"scale": [1.0]}, seeds=1, out=tmp_path / "grid.csv")
    held = [ResultFile(tmp_path / "held.csv"), ResultFile(tmp_path / "held_grid.csv", "grid")]
    yield tmp_path
    for f in held:
        f.close()


def _snapshot(path: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(path)): p.read_bytes() if p.is_file() else None
            for p in sorted(path.rglob("*"))}


@pytest.mark.parametrize("line,name", PROBES, ids=[p[0][:70] for p in PROBES])
def test_cli_probe_is_refused_with_one_named_line(line, name, folder, capsys):
    before = _snapshot(folder)
    code = main(shlex.split(line))
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert name in lines[0], lines[0]
    assert _snapshot(folder) == before  # nothing created, removed or changed


def test_a_valid_line_beside_the_probes_still_runs(folder, capsys):
    """The checks refuse exactly the bad lines: close neighbours run."""
    assert main(shlex.split(f"{REP} --seed 1 --out sub/ok.csv")) == 0
    assert main(shlex.split(f"{REP} --seed 1 --out sinter.csv")) == 0  # resumes
    assert main(["fbqc", "stim", "circuit", "--L", "3", "--out", "new/c.stim", "--diagram",
                 "new/d.svg"]) == 0
    assert (folder / "new" / "c.stim").read_text().startswith("QUBIT_COORDS")
    assert (folder / "new" / "d.svg").read_text().lstrip().startswith("<svg")


# ----- signals: no orphan workers, a graceful stop that resumes exactly ----------------
def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _start_sweep(tmp_path: Path) -> tuple[subprocess.Popen, Path, Path, list[int]]:
    """A 2-worker sweep of two slow tasks, running for a while: returns it once its
    pool runs and some rows are in the file."""
    out, err = tmp_path / "s.csv", tmp_path / "err.txt"
    cmd = [sys.executable, "-m", "sim", "collect", "--sampler", SLOW, "--param",
           "p=0.1,0.5", "--param", "delay=0.05", "--max-shots", "200000", "--seed", "3",
           "--workers", "2", "--out", str(out), "--no-progress"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                            stderr=err.open("w"))
    deadline = time.time() + 120
    while time.time() < deadline and (not out.exists() or out.read_text().count("\n") < 3):
        assert proc.poll() is None, err.read_text()
        time.sleep(0.05)
    kids = _children(proc.pid)
    assert len(kids) >= 2, "the pool's workers did not start"
    return proc, out, err, kids


def _wait_gone(pids: list[int], seconds: float = 10.0) -> list[int]:
    deadline = time.time() + seconds
    while time.time() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.05)
    return [p for p in pids if _alive(p)]


def _assert_resumes_exactly(out: Path) -> None:
    """The stopped file holds a chunk prefix of every task: topping it up equals a
    straight run of the same size."""
    rows = sim.combine(sim.read_stats(out))
    assert len(rows) == 2 and all(s.shots % 100 == 0 and s.shots > 0 for s in rows)
    target = max(s.shots for s in rows) + 200
    tasks = [(SLOW, {"p": p, "delay": 0.05}) for p in (0.1, 0.5)]
    resumed = sim.collect(tasks, max_shots=target, seed=3, workers=1,
                          save_resume_filepath=out)
    straight = sim.collect(tasks, max_shots=target, seed=3, workers=1)
    assert [(s.shots, s.errors) for s in resumed] == [(s.shots, s.errors) for s in straight]


def test_sigkill_of_the_command_leaves_no_worker_behind(tmp_path):
    proc, out, _, kids = _start_sweep(tmp_path)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert _wait_gone(kids) == []  # they used to run on, for minutes
    partial = sim.combine(sim.read_stats(out, repair=True))
    assert 0 < sum(s.shots for s in partial) < 400_000


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_sigint_and_sigterm_stop_with_one_line_and_resume_exactly(tmp_path, sig):
    proc, out, err, kids = _start_sweep(tmp_path)
    os.kill(proc.pid, sig)
    code = proc.wait(timeout=120)
    assert code == 128 + sig
    lines = err.read_text().strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in lines[0], lines
    assert f"stopped by {signal.Signals(sig).name}" in lines[0]
    assert _wait_gone(kids) == []
    shots = sum(s.shots for s in sim.combine(sim.read_stats(out)))
    assert f"{shots} shots are in" in lines[0]  # every committed chunk was written
    _assert_resumes_exactly(out)


def test_worker_exits_by_itself_when_its_parent_is_gone():
    """The pool initializer's watcher, without the Linux parent-death signal: a child
    whose parent dies exits within a second."""
    code = (
        "import os, sys, time\n"
        "from sim.executors import _watch_parent\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    parent = os.getppid()\n"
        "    print(os.getpid(), flush=True)\n"
        "    _watch_parent(parent, 0.05)\n"
        "time.sleep(0.3)\n"
        "os._exit(0)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=60)
    child = int(proc.stdout.split()[0])
    assert _wait_gone([child], 5.0) == []


def test_progress_total_is_arithmetic():
    """``remaining_shots`` is a closed form: 10**15 shots are counted, not listed."""
    from sim.collect import Scheduler, _pieces, grid_shots

    s = Scheduler([("repetition", {"n": 3, "p": 0.1})], max_shots=10**15, seed=1, workers=1,
                  shard=(1, 3))
    chunk = s.states[0].chunk
    assert s.remaining_shots() == grid_shots(1, 3, chunk, 0, 10**15)
    n_chunks = -(-10**15 // chunk)
    assert abs(s.remaining_shots() - 10**15 / 3) <= chunk * 2 and n_chunks > 10**9
    for k, n, c, done, m in [(0, 1, 7, 0, 100), (2, 3, 5, 13, 97), (1, 2, 10, 0, 5),
                             (0, 2, 10, 95, 100), (1, 4, 3, 4, 50), (0, 1, 10, 120, 100)]:
        assert grid_shots(k, n, c, done, m) == sum(p.shots for p in _pieces(k, n, c, done, m))


# ----- property: random numbers on a command line: exit 0 or one named line -----------
def _number():
    from hypothesis import strategies as st

    return st.one_of(st.integers(-3, 6), st.integers(10**4, 10**12),
                     st.floats(allow_nan=True, allow_infinity=True),
                     st.floats(0, 0.3), st.sampled_from(["1e12", "-0", "0x10", "", "3.0"]))


def test_random_numeric_flags_give_a_run_or_one_named_line():
    import tempfile

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(L=_number(), p=_number(), shots=st.one_of(  # (never a long valid run)
        st.integers(-3, 64), st.floats(-1e300, 64.0),
        st.sampled_from([float("nan"), float("inf"), float("-inf")]),
        st.sampled_from(["1e12", "0x10", "", "3.0"])))
    def prop(L, p, shots):
        with tempfile.TemporaryDirectory() as d:
            folder = Path(d)
            (folder / "n.txt").write_text("my notes")
            before = _snapshot(folder)
            out = folder / "r.csv"
            argv = ["fbqc", "sweep", "--network", "6ring", "--L", str(L), "--p-erasure",
                    str(p), "--max-shots", str(shots), "--seed", "1", "--workers", "1",
                    "--out", str(out), "--no-progress"]
            import contextlib
            import io

            err = io.StringIO()
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                code = main(argv)
            text = err.getvalue()
            assert code in (0, 2), text
            assert "Traceback" not in text
            if code == 2:
                assert len(text.strip().splitlines()) == 1, text
                assert _snapshot(folder) == before
            else:
                assert sum(s.shots for s in sim.read_stats(out)) == int(float(shots))

    prop()


def test_sigterm_during_any_job_is_one_line_and_exit_143(folder, capsys, monkeypatch):
    """Outside a sweep (here an unlearn verb's job) SIGTERM stops the job like Ctrl-C:
    its cleanup runs, one line, exit 128 + 15; the previous handler is restored."""
    import unlearn.cli

    def job(*args):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(30)  # interrupted at once
        raise AssertionError("not interrupted")

    monkeypatch.setattr(unlearn.cli, "_experiment", job)
    before = signal.getsignal(signal.SIGTERM)
    t0 = time.monotonic()
    code = main(["unlearn", "deletion", "--out", "a.csv"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 143 and time.monotonic() - t0 < 20
    assert len(lines) == 1 and "stopped by SIGTERM" in lines[0], lines
    assert signal.getsignal(signal.SIGTERM) is before
