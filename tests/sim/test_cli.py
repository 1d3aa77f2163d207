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
    ("extra", "needle"),
    [
        (["--param", "n3"], "--param"),
        (["--param", "p=0.1:0.2"], "p"),
        (["--param", "p=1.5"], "p must lie"),
        (["--shard", "2/2"], "shard"),
        (["--shard", "x"], "shard"),
        (["--max-shots", "0"], "max_shots"),
        (["--sampler", "nope"], "unknown sampler"),
    ],
)
def test_bad_cli_input_exits_2_and_writes_nothing(tmp_path, capsys, extra, needle):
    out = tmp_path / "bad.csv"
    args = ["collect", "--sampler", "repetition", "--param", "n=3", "--max-shots", "10",
            "--out", str(out), "--no-progress"]
    if "--param" in extra and "n3" not in extra:
        pass
    args = args + extra
    if extra[0] == "--param" and extra[1].startswith("p=") is False:
        args.remove("n=3")
        args.remove("--param")
    if "p=" not in " ".join(args):
        args += ["--param", "p=0.1"]
    assert main(args) == 2
    assert needle in capsys.readouterr().err
    assert not out.exists()


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
    assert "bad.csv:" in capsys.readouterr().err
