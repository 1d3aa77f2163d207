"""Sub-threshold scaling fits, per-layer counts of open blocks, and the resources CLI."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fbqc.network import FusionNetwork
from fbqc.resources import (
    _block_layer,
    fit_scaling,
    layer_counts,
    per_layer,
    resource_table,
    scaling_points,
)
from sim.cli import domain_main

fbqc_main = domain_main("fbqc")


def _synthetic(A: float, Lam: float, Ls, shots: int, rng) -> np.ndarray:
    rows = []
    for L in Ls:
        p = A * Lam ** (-(L + 1) / 2)
        P = 1 - (1 - p) ** L  # T = L
        rows.append((L, L, rng.binomial(shots, P), shots))
    return np.array(rows)


def test_fit_recovers_parameters_and_covers_them():
    rng = np.random.default_rng(7)
    hits = 0
    for _ in range(8):
        pts = _synthetic(0.3, 4.0, [3, 5, 7, 9], 40_000, rng)
        fit = fit_scaling(pts, bootstrap=80, seed=1)
        hits += fit.Lambda_ci[0] <= 4.0 <= fit.Lambda_ci[1]
        assert abs(math.log(fit.Lambda / 4.0)) < 0.15
        assert fit.chi2_dof < 6
    assert hits >= 6  # 95 % intervals: P(6 or fewer of 8 cover) < 1 %


def test_zero_error_points_bound_the_fit():
    pts = np.array([(3, 3, 400, 10_000), (5, 5, 60, 10_000), (7, 7, 0, 10_000)])
    fit = fit_scaling(pts, bootstrap=0)
    assert fit.p_L(7) * 7 < 3 * 6 / 10_000  # consistent with zero errors at L = 7
    assert fit.required_L(1e-9) > 7


def test_required_L_and_per_layer():
    assert float(per_layer(0.0, 5)) == 0.0
    assert per_layer(1 - 0.9**4, 4) == pytest.approx(0.1)
    pts = _synthetic(1.0, 10.0, [3, 5, 7], 100_000, np.random.default_rng(0))
    fit = fit_scaling(pts, bootstrap=50)
    for t in (1e-6, 1e-9, 1e-12):
        L = fit.required_L(t)
        assert fit.p_L(L) <= t < fit.p_L(L - 1) or L == 3
    lo, hi = fit.required_L_ci(1e-9)
    assert lo <= fit.required_L(1e-9) <= hi


def test_fit_rejects_bad_points():
    with pytest.raises(ValueError, match="two or more sizes"):
        fit_scaling([(5, 5, 3, 100)])
    with pytest.raises(ValueError, match="no logical errors"):
        fit_scaling([(5, 5, 0, 100), (7, 7, 0, 100)])
    with pytest.raises(ValueError, match="errors <= shots"):
        fit_scaling([(5, 5, 300, 100), (7, 7, 0, 100)])


@pytest.mark.parametrize("name", ["6ring", "4star", "3ghz"])
def test_layer_counts_exact_and_quadratic(name):
    # the per-layer count is a bulk layer: block(T=4) - block(T=3)
    f, q = _block_layer(name, 5)
    a = FusionNetwork(name, 5, boundary="open", T=3)
    b = FusionNetwork(name, 5, boundary="open", T=4)
    assert (f, q) == (b.n_fusions - a.n_fusions, b.n_qubits - a.n_qubits)
    # extrapolation beyond L = 8 equals the direct count
    direct = _block_layer(name, 10)
    assert layer_counts(name, 10) == {"fusions": direct[0], "qubits": direct[1]}
    # and it grows like fusions-per-cell · L²
    per_cell = FusionNetwork(name, 3).counts()["per_cell"]["fusions"]
    assert 0.6 < layer_counts(name, 40)["fusions"] / (per_cell * 40**2) < 1.0


def test_resource_table_is_monotone():
    pts = _synthetic(0.5, 5.0, [3, 5, 7, 9], 50_000, np.random.default_rng(3))
    fit = fit_scaling(pts, bootstrap=50)
    rows = resource_table(fit, "6ring", targets=(1e-6, 1e-9, 1e-12))
    assert [r["L"] for r in rows] == sorted(r["L"] for r in rows)
    assert rows[0]["fusions"] < rows[1]["fusions"] < rows[2]["fusions"]
    enc = resource_table(fit, "6ring", targets=(1e-9,), physical_per_fusion=4,
                         photons_per_fusion=4)
    assert enc[0]["fusions"] == 4 * rows[1]["fusions"]
    assert enc[0]["photons"] > 4 * rows[1]["photons"]


def test_resources_cli_end_to_end(capsys, tmp_path):
    out = tmp_path / "r.csv"
    rc = fbqc_main(["resources", "--network", "6ring", "--p-erasure", "0.08",
                    "--target", "1e-9", "--L", "3,4,5", "--max-shots", "600",
                    "--max-errors", "60", "--seed", "1", "--workers", "1", "--out", str(out),
                    "--bootstrap", "30", "--no-progress"])
    text = capsys.readouterr().out
    assert rc == 0
    assert "| 1e-09 |" in text and "fit: p_L = A·Λ^(−(L+1)/2)" in text
    import sim

    pts = scaling_points(sim.read_stats(out))
    assert pts[:, 0].tolist() == [3, 4, 5] and (pts[:, 3] > 0).all()


@pytest.mark.parametrize("argv", [
    ["--network", "hexagon", "--p-erasure", "0.01"],
    ["--network", "6ring"],
    ["--network", "6ring", "--p-erasure", "0.01", "--loss-per-photon", "0.01"],
    ["--network", "6ring", "--p-erasure", "0.01", "--L", "5"],
    ["--network", "6ring", "--p-erasure", "0.01", "--target", "2"],
])
def test_resources_cli_bad_arguments(argv, capsys):
    assert fbqc_main(["resources", *argv]) == 2
    err = capsys.readouterr().err
    assert "erasurelab fbqc" in err and ("--" in err or "network" in err)


def test_resources_script_writes_tables_and_figure(tmp_path):
    """``scripts/fbqc_resources.py`` end to end at toy size: both noise families, the
    tables, the fits file and the figure; a rerun resumes (samples nothing new)."""
    import importlib.util
    from pathlib import Path

    import sim

    path = Path(__file__).resolve().parents[2] / "scripts" / "fbqc_resources.py"
    spec = importlib.util.spec_from_file_location("fbqc_resources_script", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    argv = ["--networks", "6ring", "--L", "3", "4", "--max-shots", "200", "--fractions",
            "0.6", "--loss-fractions", "0.4", "--workers", "1", "--out", str(tmp_path)]
    assert mod.main(argv) == 0
    full = tmp_path / "full"
    text = (full / "resources.md").read_text()
    assert "| 6ring | p_E=" in text and "| 6ring | shor22, ℓ=0.011/photon" in text
    assert (full / "fbqc_resources.png").stat().st_size > 10_000
    blocks = sim.read_stats(full / "blocks.csv")
    assert {s.json_metadata["boundary"] for s in blocks} == {"open"}
    assert sorted(s.json_metadata["L"] for s in blocks) == [3, 4]
    before = (full / "blocks.csv").read_text()
    assert mod.main(argv) == 0
    assert (full / "blocks.csv").read_text() == before
