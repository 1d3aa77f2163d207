"""``erasurelab unlearn t2i generate | erase | attack | evaluate``."""

from __future__ import annotations

import json

import numpy as np
import pytest


def _main(argv):
    from sim.cli import main

    return main(["unlearn", "t2i", *argv])


def test_generate_erase_attack_evaluate_end_to_end(tmp_path, capsys):
    npy = tmp_path / "x.npy"
    assert _main(["generate", "--prompt", "the number 7", "--prompt", "the number 1", "--n",
                  "2", "--steps", "4", "--out", str(npy)]) == 0
    assert np.load(npy).shape == (4, 16, 16)
    png = tmp_path / "x.png"
    assert _main(["generate", "--prompt", "the number 7", "--n", "2", "--steps", "2",
                  "--out", str(png)]) == 0
    assert png.stat().st_size > 0
    model = tmp_path / "uce.safetensors"
    assert _main(["erase", "--target", "seven", "--method", "rece", "--option", "rounds=1",
                  "--out", str(model)]) == 0
    from unlearn.t2i import T2IModel

    rec = T2IModel.load(model).info["erasure"][-1]
    assert rec["method"] == "rece" and rec["options"]["rounds"] == 1
    res = tmp_path / "att.json"
    assert _main(["attack", "--model", str(model), "--target", "7", "--method", "paraphrase",
                  "--option", "n_images=2", "--option", "steps=2", "--out", str(res)]) == 0
    assert json.loads(res.read_text())["method"] == "paraphrase"
    assert res.with_suffix(".png").is_file()
    csv = tmp_path / "ev.csv"
    assert _main(["evaluate", "--model", str(model), "--target", "seven", "--seeds", "1",
                  "--images-per-set", "2", "--steps", "2", "--out", str(csv),
                  "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "erasure_heldout" in out and "score" in out
    assert "erasure_heldout" in csv.read_text()


@pytest.mark.parametrize(("argv", "needle"), [
    (["generate", "--prompt", "the number 7", "--n", "0", "--out", "g.npy"], "--n"),
    (["generate", "--prompt", "the number 7", "--out", "g.txt"], "--out"),
    (["generate", "--prompt", "seven " * 30, "--out", "g.npy"], "prompts"),
    (["erase", "--target", "seven", "--method", "nope", "--out", "e.safetensors"], "method"),
    (["erase", "--target", "", "--method", "uce", "--out", "e.safetensors"], "target"),
    (["erase", "--target", "seven", "--method", "uce", "--preserve", "seven",
      "--out", "e.safetensors"], "preserve"),
    (["erase", "--target", "seven", "--method", "uce", "--option", "lamb=1",
      "--out", "e.safetensors"], "lamb"),
    (["erase", "--target", "seven", "--method", "uce", "--out", "e.pt"], "--out"),
    (["attack", "--target", "seven", "--method", "nope", "--out", "a.json"], "method"),
    (["evaluate", "--target", "seven", "--attacks", "magic", "--out", "v.csv"], "attacks"),
    (["evaluate", "--target", "seven", "--model", "missing.safetensors", "--out", "v.csv"],
     "--model"),
    (["evaluate", "--target", "seven", "--method", "uce", "--option", "x=1", "--out",
      "v.csv"], "x"),
    ([], "subcommand"),
])
def test_bad_input_exits_2_and_writes_nothing(tmp_path, capsys, monkeypatch, argv, needle):
    monkeypatch.chdir(tmp_path)
    assert _main(argv) == 2
    assert needle in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
