"""The erasurelab command line, in-process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import sim
from sim.cli import main


def test_collect_plot_threshold_combine(tmp_path, capsys):
    out = tmp_path / "rep.csv"
    args = ["collect", "--sampler", "repetition", "--param", "n=9,25,49",
            "--param", "p=0.44:0.56:7", "--max-shots", "4000", "--seed", "1",
            "--workers", "1", "--out", str(out), "--no-progress"]
    assert main(args) == 0
    rows = sim.combine(sim.read_stats(out))
    assert len(rows) == 21 and all(r.shots == 4000 for r in rows)
    assert {r.json_metadata["p"] for r in rows} == {0.44, 0.46, 0.48, 0.5, 0.52, 0.54, 0.56}
    assert main(["plot", str(out), "--x", "p", "--group", "n", "-o", str(tmp_path / "f.png")]) == 0
    assert (tmp_path / "f.png").exists()
    capsys.readouterr()
    assert main(["threshold", str(out), "--x", "p", "--size", "n", "--max-rate", "1",
                 "--bootstrap", "20", "--collapse", str(tmp_path / "c.png")]) == 0
    text = capsys.readouterr().out
    assert "threshold" in text and "crossing drift" in text
    assert main(["combine", str(out)]) == 0


def test_sharded_cli_runs_combine_to_unsharded(tmp_path, capsys):
    base = ["collect", "--sampler", "repetition", "--param", "n=3", "--param", "p=0.3",
            "--max-shots", "200000", "--seed", "5", "--workers", "1", "--no-progress"]
    for k in range(2):
        assert main(base + ["--shard", f"{k}/2", "--out", str(tmp_path / f"s{k}.csv")]) == 0
    assert main(base + ["--out", str(tmp_path / "all.csv")]) == 0
    a = sim.combine(sim.read_stats([tmp_path / "s0.csv", tmp_path / "s1.csv"]))
    b = sim.read_stats(tmp_path / "all.csv")
    assert [(r.shots, r.errors) for r in a] == [(r.shots, r.errors) for r in sim.combine(b)]


@pytest.mark.parametrize(
    ("params", "extra", "needle"),
    [
        (["n3"], [], "--param: expected NAME=VALUES"),
        (["n=3", "p=0.1:0.2"], [], "--param p: values: malformed range"),
        (["n=3", "p=a:b:c"], [], "--param p: values: malformed range"),
        (["n=3", "p=0.1", "p=0.2"], [], "'p' given twice"),
        (["n=3", "p=1.5"], [], "p must be a finite number in [0, 1]"),
        (["n=4", "p=0.1"], [], "n must be odd"),
        (["n=3", "p=0.1", "q=1"], [], "unknown parameter(s) ['q']"),
        (["n=3", "p=0.1"], ["--shard", "2/2"], "shard: need 0 <= K < N"),
        (["n=3", "p=0.1"], ["--shard", "x"], "shard: expected K/N"),
        (["n=3", "p=0.1"], ["--shard", "0/2", "--max-errors", "5"], "max_errors"),
        (["n=3", "p=0.1"], ["--max-shots", "0"], "max_shots must be a positive integer"),
        (["n=3", "p=0.1"], ["--max-shots", "-5"], "max_shots must be a positive integer"),
        (["n=3", "p=0.1"], ["--max-shots", "many"], "--max-shots"),
        (["n=3", "p=0.1"], ["--max-errors", "0"], "max_errors must be a positive"),
        (["n=3", "p=0.1"], ["--workers", "0"], "workers must be a positive integer"),
        (["n=3", "p=0.1"], ["--seed", "-1"], "seed must be a non-negative"),
        (["n=3", "p=0.1"], ["--sampler", "nope"], "unknown sampler 'nope'"),
    ],
)
def test_bad_cli_input_exits_2_and_writes_nothing(tmp_path, capsys, params, extra, needle):
    out = tmp_path / "sub" / "bad.csv"
    args = ["collect", "--sampler", "repetition", "--max-shots", "10", "--out", str(out),
            "--no-progress"]
    for p in params:
        args += ["--param", p]
    args += extra  # a repeated --max-shots/--sampler overrides the one above
    assert main(args) == 2
    assert needle in capsys.readouterr().err
    assert not out.exists() and not out.parent.exists()
    # an existing result file, even one that would need repair, is left byte-for-byte alone
    out.parent.mkdir()
    sim.collect([("repetition", {"n": 3, "p": 0.1})], max_shots=10, seed=1, workers=1,
                save_resume_filepath=out)
    before = out.read_bytes()[:-7]  # a truncated last line
    out.write_bytes(before)
    assert main(args) == 2
    assert needle in capsys.readouterr().err
    assert out.read_bytes() == before


def test_help_and_module_entry_point():
    assert main([]) == 0
    r = subprocess.run([sys.executable, "-m", "sim", "--help"], capture_output=True, text=True,
                       cwd=Path(__file__).resolve().parents[2])
    assert r.returncode == 0 and "collect" in r.stdout
    assert main(["nosuchcommand"]) == 2


def test_corrupt_csv_gives_exit_2(tmp_path, capsys):
    f = tmp_path / "bad.csv"
    f.write_text("shots,errors\n1,2\n")
    assert main(["combine", str(f)]) == 2
    cap = capsys.readouterr()
    assert "bad.csv:1" in cap.err and cap.out == ""


def test_every_shard_leaves_a_file_even_with_an_empty_slice(tmp_path, capsys):
    # 1000 shots are one 65 536-shot chunk: shards 1 and 2 have nothing to run, but a
    # SLURM array still expects N files for `erasurelab combine`.
    base = ["collect", "--sampler", "repetition", "--param", "n=3,5", "--param", "p=0.3",
            "--max-shots", "1000", "--seed", "5", "--workers", "1", "--no-progress"]
    files = [str(tmp_path / f"s{k}.csv") for k in range(3)]
    for k, f in enumerate(files):
        assert main(base + ["--shard", f"{k}/3", "--out", f]) == 0
    assert Path(files[2]).read_text().count("\n") == 1  # the header only
    assert main(base + ["--out", str(tmp_path / "all.csv")]) == 0
    capsys.readouterr()
    assert main(["combine", *files]) == 0
    sharded = capsys.readouterr().out
    assert main(["combine", str(tmp_path / "all.csv")]) == 0
    whole = capsys.readouterr().out

    def counts(text):  # everything but the timing column
        return [line.split(",")[:3] + line.split(",")[4:] for line in text.splitlines()[1:]]

    assert len(counts(sharded)) == 2 and counts(sharded) == counts(whole)


def test_a_crash_while_sampling_exits_1_with_its_traceback(tmp_path, capsys):
    """A ValueError raised inside a sampler is a crash (exit 1, traceback), not bad input."""
    out = tmp_path / "crash.csv"
    args = ["collect", "--sampler", "tests.sim.slow_sampler:BoomSampler", "--max-shots",
            "10", "--seed", "1", "--workers", "1", "--no-progress", "--out", str(out)]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "boom: a bug inside the sampler" in err
    assert "crashed while running" in err
    # the same sampler with bad input is rejected before running: exit 2, no traceback
    assert main([*args, "--param", "p=2"]) == 2
    err = capsys.readouterr().err
    assert "p must lie in [0, 1]" in err and "Traceback" not in err
    assert not out.exists()


def test_list_params_and_version(capsys):
    assert main(["collect", "--sampler", "fbqc", "--list-params"]) == 0
    out = capsys.readouterr().out
    assert "p_erasure: erasure probability of every fusion outcome" in out
    assert "errors: which failure counts" in out
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("erasurelab ")
    assert sim.__version__ and sim.__version__ != "0+unknown"
    assert main(["collect", "--sampler", "repetition", "--param", "n=3"]) == 2
    assert "required: --max-shots, --out" in capsys.readouterr().err
    # a declared parameter without a default is a required flag (not for a family of
    # models, whose flags are the union of several models' parameters)
    assert main(["fbqc", "sweep", "--max-shots", "1", "--out", "never.csv"]) == 2
    assert "required: --network, --L" in capsys.readouterr().err
    assert main(["hebbian", "sweep", "--out", "never.csv"]) == 2
    assert "missing required parameter(s) ['clusters', 'neurons', 'messages']" in (
        capsys.readouterr().err)


def test_every_flag_of_every_command_has_help():
    """Walk the whole parser tree (every domain included) and find flags without help."""
    import argparse

    from sim.cli import _commands, _parser

    missing = []

    def walk(p, where):
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    walk(child, f"{where} {name}")
            elif action.option_strings and not action.help:
                missing.append(f"{where} {action.option_strings[0]}")

    for domain in [None, *_commands()]:
        walk(_parser(domain), "erasurelab")
    assert not missing, missing
