"""sim.run_grid: tidy rows, resume, repair of an incomplete run, summaries."""

from __future__ import annotations

import pytest

import sim
from sim.grid import _demo_metric, read_grid


def two_metrics(params, seed):
    return {"a": params["x"] + seed, "b": params["x"] * 2.0}


def test_run_grid_writes_tidy_rows_and_resumes(tmp_path):
    out = tmp_path / "g.csv"
    summary = sim.run_grid(two_metrics, {"x": [1, 2]}, seeds=[0, 1, 2], out=out)
    rows = read_grid(out)
    assert len(rows) == 2 * 3 * 2
    s = {(r["x"], r["metric"]): r for r in summary}
    assert s[(2, "a")]["mean"] == pytest.approx(3.0)
    assert s[(2, "a")]["ci_low"] < 3.0 < s[(2, "a")]["ci_high"]
    assert s[(1, "b")]["std"] == 0.0 and s[(1, "b")]["n"] == 3
    # rerun: nothing recomputed
    sim.run_grid(two_metrics, {"x": [1, 2]}, seeds=[0, 1, 2], out=out)
    assert len(read_grid(out)) == 12
    # more seeds: only the new ones run
    sim.run_grid(two_metrics, {"x": [1, 2]}, seeds=[0, 1, 2, 3], out=out)
    assert len(read_grid(out)) == 16


def test_incomplete_last_run_is_removed_and_recomputed(tmp_path):
    out = tmp_path / "g.csv"
    sim.run_grid(two_metrics, {"x": [1]}, seeds=[0, 1], out=out)
    lines = out.read_text().splitlines(keepends=True)
    out.write_text("".join(lines[:-1]) + lines[-1][:5])  # lose one metric row, cut mid-line
    with pytest.warns(RuntimeWarning, match="truncated"):
        summary = sim.run_grid(two_metrics, {"x": [1]}, seeds=[0, 1], out=out)
    assert len(read_grid(out)) == 4
    assert {r["metric"]: r["n"] for r in summary} == {"a": 2, "b": 2}


def test_run_grid_bad_input(tmp_path):
    with pytest.raises(TypeError, match="module-level"):
        sim.run_grid(lambda p, s: {"a": 1}, {"x": [1]}, seeds=1, out=tmp_path / "x.csv")
    with pytest.raises(ValueError, match="seeds"):
        sim.run_grid(_demo_metric, {"scale": [1]}, seeds=[], out=tmp_path / "x.csv")
    with pytest.raises(ValueError, match="seeds"):
        sim.run_grid(_demo_metric, {"scale": [1]}, seeds=[1, 1], out=tmp_path / "x.csv")
    with pytest.raises(ValueError, match="clash"):
        sim.run_grid(_demo_metric, {"n": [1]}, seeds=1, out=tmp_path / "x.csv")
    with pytest.raises(ValueError, match="scale"):
        sim.run_grid(_demo_metric, {"scale": []}, seeds=1, out=tmp_path / "x.csv")
    assert not (tmp_path / "x.csv").exists()


def test_run_grid_with_an_executor_matches_in_process(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    ref = sim.run_grid(_demo_metric, {"scale": [1.0, 2.0]}, seeds=4, out=tmp_path / "a.csv")
    with ThreadPoolExecutor(2) as ex:
        got = sim.run_grid(_demo_metric, {"scale": [1.0, 2.0]}, seeds=4, out=tmp_path / "b.csv",
                           executor=ex)
    key = lambda rows: sorted((r["scale"], r["metric"], r["mean"], r["n"]) for r in rows)  # noqa: E731
    assert key(got) == key(ref) and all(r["n"] == 4 for r in got)
    assert len(read_grid(tmp_path / "b.csv")) == 8


def test_format_summary_cells():
    from sim import format_summary, summarize_grid

    rows = [{"params": {"a": 1}, "metric": "m", "value": v, "seed": s}
            for s, v in enumerate([0.2, 0.4, 0.3])]
    s = summarize_grid(rows)[0]
    assert format_summary(s) == f"0.3 [{s['ci_low']:.3g}, {s['ci_high']:.3g}]"
    one = summarize_grid(rows[:1])[0]  # one seed: an infinite interval, the mean alone
    assert format_summary(one) == "0.2"
    flat = {"mean": 0.0, "n": 4, "ci_low": 0.0, "ci_high": 0.0}
    assert format_summary(flat) == "0"
    tiny = {"mean": 3e-9, "n": 5, "ci_low": -2e-9, "ci_high": 8e-9}
    assert format_summary(tiny) == "3.0e-09 [-2.0e-09, 8.0e-09]"
    assert format_summary(tiny, floor=0.0) == "3.0e-09 [0.0e+00, 8.0e-09]"
    assert format_summary(None) == "—"
