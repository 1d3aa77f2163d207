import csv
import sys
import types

import pytest

from unlearn.cli import main


def _rows(path):
    with open(path) as fh:
        return list(csv.DictReader(fh))


def test_deletion_writes_tidy_csv_and_figure(tmp_path, capsys):
    out = tmp_path / "results.csv"
    rc = main(["deletion", "--dataset", "breast_cancer", "--deletions", "20", "--sigma", "0.05",
               "--chains", "40", "--learn-steps", "300", "--steps", "0,100", "--seeds", "1",
               "--out", str(out), "--no-progress"])
    assert rc == 0
    rows = _rows(out)
    metrics = {r["metric"] for r in rows}
    assert {"eps_rdp_upper", "eps_delta_upper", "renyi_fit", "eps_attack_lb"} <= metrics
    assert len(rows) == 2 * 6
    assert (tmp_path / "results.png").stat().st_size > 0
    up = {r["params"]: float(r["value"]) for r in rows if r["metric"] == "eps_rdp_upper"}
    assert sorted(up.values())[0] < sorted(up.values())[1]
    assert "eps_rdp_upper" in capsys.readouterr().out


def test_gslora_cli(tmp_path):
    out = tmp_path / "g.csv"
    assert main(["gslora", "--tasks", "1", "--steps", "60", "--seeds", "1", "--out", str(out),
                 "--no-progress"]) == 0
    assert any(r["metric"] == "forget_acc_0" for r in _rows(out))


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["deletion", "--deletions", "0", "--out", "x.csv"], "--deletions"),
        (["deletion", "--sigma", "-1", "--out", "x.csv"], "--sigma"),
        (["deletion", "--lam", "0", "--out", "x.csv"], "--lam"),
        (["deletion", "--deletions", "569", "--out", "x.csv"], "--deletions"),
        (["deletion", "--steps", "-3", "--out", "x.csv"], "--steps"),
        (["audit", "--frac", "1.0", "--out", "x.csv"], "--frac"),
        (["worstcase", "--selectors", "random,magic", "--out", "x.csv"], "magic"),
        (["gslora", "--alpha", "-1", "--out", "x.csv"], "--alpha"),
        (["deletion"], "--out"),
        (["bogus"], "invalid choice"),
        ([], "subcommand"),
    ],
)
def test_bad_input_returns_2_and_writes_nothing(tmp_path, monkeypatch, capsys, argv, needle):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert needle in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_t2i_dispatches_with_rest_of_argv(monkeypatch):
    seen = {}
    fake = types.ModuleType("unlearn.t2i.cli")
    fake.main = lambda argv: seen.setdefault("argv", argv) and 0
    monkeypatch.setitem(sys.modules, "unlearn.t2i.cli", fake)
    import unlearn.t2i

    monkeypatch.setattr(unlearn.t2i, "cli", fake, raising=False)
    assert main(["t2i", "erase", "--target", "seven", "--out", "e.safetensors"]) == 0
    assert seen["argv"] == ["erase", "--target", "seven", "--out", "e.safetensors"]


@pytest.mark.parametrize(
    ("argv", "metric"),
    [
        (["audit", "--seeds", "2", "--ensemble", "3", "--epochs", "2"], "mia_auc_orig"),
        (["worstcase", "--seeds", "1", "--selectors", "random,lowest", "--ensemble", "2"],
         "excess"),
    ],
)
def test_audit_and_worstcase_write_tidy_csv_and_figure(tmp_path, capsys, argv, metric):
    out = tmp_path / "r.csv"
    assert main([*argv, "--out", str(out), "--no-progress"]) == 0
    rows = _rows(out)
    assert {"key", "params", "seed", "metric", "value"} <= set(rows[0])
    assert any(r["metric"] == metric for r in rows)
    assert (tmp_path / "r.png").stat().st_size > 0
    assert "wrote" in capsys.readouterr().out
