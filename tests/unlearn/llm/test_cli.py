"""erasurelab unlearn llm train | forget | audit: bad input exits 2 before writing; a
forget + audit round trip from the command line."""

import json
import subprocess
import sys

import pytest

from unlearn.cli import main as unlearn_main
from unlearn.llm.cli import main
from unlearn.llm.weights import WEIGHTS_DIR


@pytest.mark.parametrize("argv", [
    [],
    ["forget", "--method", "lobotomy", "--out", "{tmp}/x.safetensors"],
    ["forget", "--method", "npo", "--out", "{tmp}/x.bin"],
    ["forget", "--method", "npo", "--people", "0,9999", "--out", "{tmp}/x.safetensors"],
    ["forget", "--method", "npo", "--people", "230", "--out", "{tmp}/x.safetensors"],
    ["forget", "--method", "npo", "--option", "steps", "--out", "{tmp}/x.safetensors"],
    ["forget", "--method", "npo", "--option", "epsilon=3", "--out", "{tmp}/x.safetensors"],
    ["forget", "--method", "npo", "--model", "{tmp}/missing.safetensors",
     "--out", "{tmp}/x.safetensors"],
    ["audit", "--people", "3"],
    ["train", "--model", "everyone", "--out", "{tmp}/x.safetensors"],
    ["train", "--model", "original", "--out", "{tmp}/x.safetensors", "--ship"],
])
def test_bad_input_exits_2_and_writes_nothing(argv, tmp_path, capsys):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("erasurelab unlearn llm: error:") and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_dispatch_from_unlearn_cli(capsys):
    assert unlearn_main(["llm", "forget", "--method", "x", "--out", "y.safetensors"]) == 2
    assert "--method" in capsys.readouterr().err


def test_forget_then_audit_round_trip(tmp_path, capsys):
    out = tmp_path / "ga.safetensors"
    assert main(["forget", "--method", "gradient-ascent", "--people", "0,1", "--option",
                 "steps=3", "--out", str(out), "--threads", "1"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert out.is_file() and rec["forgotten"] == 2
    js = tmp_path / "audit.json"
    assert main(["audit", "--model", str(out), "--people", "0,1", "--retain",
                 str(WEIGHTS_DIR / "retain-forget10.safetensors"), "--quick", "--json",
                 str(js), "--threads", "1"]) == 0
    res = json.loads(js.read_text())
    assert 0 <= res["forget_quality"] <= 1 and 0 <= res["utility"] <= 1
    assert res["n_forget"] == 2


def test_import_is_torch_free():
    code = ("import sys, unlearn, unlearn.llm, unlearn.llm.cli; "
            "unlearn.llm.questions(unlearn.llm.people()[:1]); "
            "assert 'torch' not in sys.modules and 'transformers' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
