"""Threshold and plot tools that refuse to mislead: grouping, --where, fit warnings,
--theory without a closed form, zero-error points, observables, missing extras."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import matplotlib
import pytest
import sinter

import sim
from sim.cli import main

matplotlib.use("Agg")
DATA = Path(__file__).parent / "data"


def _row(meta, shots, errors, decoder="repetition:majority", counts=None):
    return sinter.TaskStats(strong_id=sim.canonical_json({**meta, "d": decoder}),
                            decoder=decoder, json_metadata=meta, shots=shots, errors=errors,
                            custom_counts=Counter(counts or {}))


def _exact(rate, shots=100_000):
    """Rows whose counts are the expected ones: the fit sees the model itself."""
    return lambda meta: _row(meta, shots, int(round(rate(meta) * shots)))


@pytest.fixture(scope="module")
def pooled(tmp_path_factory):
    """The measured case: ``fbqc sweep --decoder uf mwpm`` writes both decoders to one CSV."""
    out = tmp_path_factory.mktemp("pooled") / "stats.csv"
    assert main(["fbqc", "sweep", "--network", "6ring", "--L", "3", "4", "--p-erasure",
                 "0.06:0.18:4", "--p-pauli", "0", "--decoder", "uf", "mwpm",
                 "--max-shots", "150", "--seed", "1", "--workers", "1", "--no-progress",
                 "--out", str(out)]) == 0
    return out


def test_threshold_refuses_pooled_decoders_and_fits_each(pooled, capsys, tmp_path):
    rows = sim.read_stats(pooled)
    with pytest.raises(ValueError, match=r"differ in decoder \(mwpm, uf\)"):
        sim.threshold(rows, x="p_erasure", size="L")
    from sim.threshold import points

    with pytest.raises(ValueError, match="decoder"):  # the lower-level aggregate too
        points(rows, x="p_erasure", size="L")
    res = sim.thresholds(rows, x="p_erasure", size="L", bootstrap=0, max_rate=None)
    assert [r.group for r in res] == [{"decoder": "mwpm"}, {"decoder": "uf"}]
    assert all(r.n_points + r.n_dropped == 8 for r in res)  # 2 sizes x 4 points, not 16
    one = sim.threshold(rows, x="p_erasure", size="L", where={"decoder": "uf"}, bootstrap=0,
                        max_rate=None)
    assert one.value == res[1].value

    capsys.readouterr()
    assert main(["threshold", str(pooled), "--x", "p_erasure", "--size", "L",
                 "--bootstrap", "0", "--max-rate", "1"]) == 0
    out = capsys.readouterr().out
    assert "fitting 2 groups separately (they differ in decoder" in out
    assert "[decoder=mwpm] threshold" in out and "[decoder=uf] threshold" in out
    assert main(["threshold", str(pooled), "--x", "p_erasure", "--size", "L", "--where",
                 "decoder=uf", "--bootstrap", "0", "--max-rate", "1",
                 "--collapse", str(tmp_path / "c.png")]) == 0
    out = capsys.readouterr().out
    assert "[decoder" not in out and "groups" not in out and (tmp_path / "c.png").exists()
    # a typo in --where names the field instead of reading as "no data"
    assert main(["threshold", str(pooled), "--x", "p_erasure", "--size", "L", "--where",
                 "decoder=mwmp"]) == 2
    assert "decoder takes the values" in capsys.readouterr().err
    assert main(["threshold", str(pooled), "--x", "p_erasure", "--size", "L", "--where",
                 "nope=1"]) == 2
    assert "no row has the field 'nope'" in capsys.readouterr().err
    assert main(["plot", str(pooled), "--x", "p_erasure", "--where", "decoder", "-o",
                 str(tmp_path / "never.png")]) == 2
    assert "--where: expected FIELD=VALUE" in capsys.readouterr().err
    assert not (tmp_path / "never.png").exists()


def test_plot_draws_one_curve_per_decoder_and_size(pooled, tmp_path, capsys):
    fig = sim.plot(sim.read_stats(pooled), x="p_erasure", group="L")
    ax = fig.axes[0]
    curves = [ln for ln in ax.get_lines() if len(ln.get_xdata()) > 1]
    labels = sorted(ln.get_label() for ln in curves)
    assert labels == ["L=3, decoder=mwpm", "L=3, decoder=uf", "L=4, decoder=mwpm",
                      "L=4, decoder=uf"]
    for ln in curves:  # no zig-zag: every x once per curve
        xs = list(ln.get_xdata())
        assert len(xs) == len(set(xs)) >= 3  # (a point with no errors is a ▽)
    colour = {ln.get_label(): ln.get_color() for ln in curves}
    assert colour["L=3, decoder=uf"] == colour["L=3, decoder=mwpm"] != colour["L=4, decoder=uf"]
    assert ax.get_xlabel() == "erasure probability per fusion outcome $p_E$"
    assert "network 6ring" in ax.get_title() and "150 shots per point" in ax.get_title()
    caption = [t.get_text() for t in ax.texts]
    assert any("shaded bands" in t and "×1000" in t for t in caption)
    # --where and the other options on the command line
    out = tmp_path / "uf.png"
    assert main(["plot", str(pooled), "--x", "p_erasure", "--group", "L", "--where",
                 "decoder=uf", "--title", "T", "--xlabel", "X", "--ylabel", "Y",
                 "--yscale", "linear", "-o", str(out)]) == 0
    assert out.exists() and out.with_suffix(".svg").exists()
    fig = sim.plot(pooled, x="p_erasure", group="L", where={"decoder": "uf"}, title="T",
                   xlabel="X", ylabel="Y", yscale="linear", xscale="log")
    ax = fig.axes[0]
    assert (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) == ("T", "X", "Y")
    assert (ax.get_xscale(), ax.get_yscale()) == ("log", "linear")
    assert sorted(ln.get_label() for ln in ax.get_lines() if len(ln.get_xdata()) > 1) == \
        ["L=3", "L=4"]


def test_observables_sum_the_masks_per_membrane(pooled, tmp_path, capsys):
    rows = sim.read_stats(pooled)
    assert sim.observable_names(rows[0]) == ("primal-x", "primal-y", "primal-z", "dual-x",
                                             "dual-y", "dual-z")
    for r in sim.combine(rows):
        counts = sim.observable_counts(r)
        assert counts["primal-x"] == r.errors  # the fbqc sampler's errors are primal-x
        masks = {k: v for k, v in r.custom_counts.items() if k.startswith("obs_mistake_mask=")}
        assert counts["dual-y"] == sum(v for k, v in masks.items() if k[-2] == "E")
    any_x = sim.observable_stats(rows, "primal-x,dual-x")
    assert all(a.errors >= r.errors for a, r in zip(any_x, rows))
    assert sum(a.errors for a in any_x) > sum(r.errors for r in rows)
    assert [a.errors for a in sim.observable_stats(rows, ["primal-x"])] == \
        [r.errors for r in rows]
    fig = sim.plot(rows, x="p_erasure", observable="dual-z", where={"decoder": "uf"})
    assert fig.axes[0].get_ylabel() == "failure rate of dual-z (per shot)"
    with pytest.raises(ValueError, match="unknown observable 'primal-q'"):
        sim.observable_stats(rows, "primal-q")
    assert main(["threshold", str(pooled), "--x", "p_erasure", "--size", "L", "--where",
                 "decoder=uf", "--observable", "dual-x", "--bootstrap", "0",
                 "--max-rate", "1"]) == 0
    res = sim.threshold(rows, x="p_erasure", size="L", where={"decoder": "uf"},
                        observable="dual-x", bootstrap=0, max_rate=None)
    assert int(res.data["errors"].sum()) == sum(
        sim.observable_counts(r)["dual-x"] for r in sim.combine(rows)
        if r.json_metadata["decoder"] == "uf")
    # rows without declared names: by index, or names=
    plain = [_row({"p": 0.1}, 100, 3, decoder="pymatching",
                  counts={"obs_mistake_mask=E_": 3, "obs_mistake_mask=_E": 5})]
    assert sim.observable_stats(plain, 1)[0].errors == 5
    assert sim.observable_stats(plain, "b", names=("a", "b"))[0].errors == 5
    with pytest.raises(ValueError, match="declare no observable names"):
        sim.observable_stats(plain, "b")
    with pytest.raises(ValueError, match="no obs_mistake_mask"):
        sim.observable_stats([_row({"p": 0.1}, 100, 3)], 0)


def test_fit_warnings_for_each_way_a_fit_misleads():
    ps = (0.44, 0.46, 0.48, 0.50, 0.52, 0.54, 0.56)

    def rows_for(rate):
        return [_exact(rate)({"n": n, "p": p}) for n in (9, 25, 49) for p in ps]

    from scipy.stats import norm

    good = sim.threshold(rows_for(lambda m: norm.cdf((m["p"] - 0.5) * m["n"] ** 0.5 * 3)),
                         x="p", size="n", max_rate=None, bootstrap=0, order=3)
    assert good.ok and good.warnings == [] and good.text().startswith("0.5")
    # the curves never cross: larger sizes are always better
    never = sim.threshold(rows_for(lambda m: 0.05 + 0.4 * (m["p"] - 0.4) / m["n"] ** 0.5),
                          x="p", size="n", max_rate=None, bootstrap=50)
    assert not never.ok and never.text() == "no threshold in range"
    assert any("no pair of sizes crosses" in w for w in never.warnings)
    assert any("outside the sampled range" in w for w in never.warnings), never.summary()
    assert "no threshold in range" in never.summary()
    assert "warning: no pair of sizes crosses" in never.summary()
    # a crossing the collapse cannot describe (χ²/dof > 3)
    bent = sim.threshold(
        rows_for(lambda m: 0.3 + (m["p"] - 0.5) * (m["n"] ** 0.5 if m["p"] > 0.5 else 0.2)),
        x="p", size="n", max_rate=None, bootstrap=0)
    assert bent.chi2_dof > 3 and any("χ²/dof" in w for w in bent.warnings)
    # a CI wider than the sampled range
    wide = sim.ThresholdResult(0.5, (0.3, 0.7), 1.0, (1, 1), [], 0, 0, (0,), 1.0, 6, 0,
                               x_range=(0.44, 0.56))
    from sim.threshold import _warnings

    assert any("wider than the sampled range" in w for w in
               _warnings(0.5, (0.3, 0.7), 1.0, [], (0.44, 0.56), "p", 0.95))
    assert wide.ok  # warnings are computed by the fit, not by the container


def test_collapse_names_nu_and_the_size_and_marks_the_threshold(tmp_path):
    st = sim.collect([("repetition", {"n": n, "p": p}) for n in (9, 25, 49)
                      for p in (0.44, 0.47, 0.5, 0.53, 0.56)], max_shots=4000, seed=1,
                     workers=1)
    res = sim.threshold(st, x="p", size="n", max_rate=None, bootstrap=20)
    assert res.size_name == "n" and "crossing n=9/25" in res.summary()
    assert "L=" not in res.summary() and "ν" in res.summary()
    fig = sim.plot_collapse(res, out=tmp_path / "c.png")
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert {"n = 9", "n = 25", "n = 49"} <= set(texts) and not any("L=" in t for t in texts)
    assert "ν = " in ax.get_title() and "nu" not in ax.get_title()
    assert f"{res.value:.4g}" in ax.get_title() and f"{res.ci[0]:.4g}" in ax.get_title()
    assert r"\nu" in ax.get_xlabel() and "mathrm{n}" in ax.get_xlabel()
    assert any(ln.get_label() == "threshold (u = 0)" for ln in ax.get_lines())
    # the curve plot marks the threshold and its CI
    fig = sim.plot(st, x="p", group="n", threshold=res)
    ax = fig.axes[0]
    marks = [ln for ln in ax.get_lines() if ln.get_label().startswith("threshold")]
    assert len(marks) == 1 and marks[0].get_xdata()[0] == pytest.approx(res.value)
    assert f"[{res.ci[0]:.4g}, {res.ci[1]:.4g}]" in marks[0].get_label()
    assert len(ax.patches) == 1  # the CI span
    # a result that is no threshold is not drawn
    res.warnings = ["no pair of sizes crosses in the sampled range"]
    fig = sim.plot(st, x="p", group="n", threshold=res)
    ax = fig.axes[0]
    assert not ax.patches
    assert "no threshold in range" in [ln.get_label() for ln in ax.get_lines()]
    assert "no threshold in range" in sim.plot_collapse(res).axes[0].get_title()


def test_zero_error_points_are_upper_bounds():
    st = sim.collect([("repetition", {"n": n, "p": p}) for n in (5, 9) for p in (0.001, 0.2)],
                     max_shots=3000, seed=2, workers=1)
    zeros = [s for s in st if s.errors == 0]
    assert zeros, "the low-p points should see no errors"
    fig = sim.plot(st, x="p", group="n")
    ax = fig.axes[0]
    bounds = [ln for ln in ax.get_lines() if ln.get_gid() == "upper-bound"]
    assert all(ln.get_marker() == "v" for ln in bounds)
    assert len(bounds) == len(zeros)
    want = sorted(sinter.fit_binomial(num_shots=s.shots, num_hits=0,
                                      max_likelihood_factor=1e3).high for s in zeros)
    assert sorted(ln.get_ydata()[0] for ln in bounds) == pytest.approx(want)
    assert "no errors (upper bound)" in [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("▽" in t.get_text() for t in ax.texts)


def test_theory_on_a_fine_grid_on_top_and_no_closed_form_is_said(tmp_path, capsys):
    st = sim.collect([("repetition", {"n": n, "p": p}) for n in (11, 3, 5) for p in (0.2, 0.3)],
                     max_shots=500, seed=0, workers=1)
    fig = sim.plot(st, x="p", group="n", theory=lambda m: 0.1 * m["n"] * m["p"])
    ax = fig.axes[0]
    data = {ln.get_label(): ln for ln in ax.get_lines() if not ln.get_gid()}
    theory = {ln.get_gid(): ln for ln in ax.get_lines() if (ln.get_gid() or "").startswith("th")}
    assert sorted(theory) == ["theory:n=11", "theory:n=3", "theory:n=5"]
    for n in (3, 5, 11):
        line = theory[f"theory:n={n}"]
        assert line.get_linestyle() == "--" and len(line.get_xdata()) == 200
        assert line.get_zorder() > data[f"n={n}"].get_zorder()
        assert line.get_color() == data[f"n={n}"].get_color()
        assert line.get_ydata()[-1] == pytest.approx(0.1 * n * 0.3)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:3] == ["n=3", "n=5", "n=11"] and "closed form (theory)" in labels
    with pytest.warns(UserWarning, match="no closed form for any of the 3 curves"):
        sim.plot(st, x="p", group="n", theory=lambda m: None)
    with pytest.warns(UserWarning, match="no closed form for 1 of the 3 curves"):
        sim.plot(st, x="p", group="n", theory=lambda m: None if m["n"] == 3 else 0.1)


def test_cli_theory_says_when_there_is_no_closed_form(tmp_path, capsys):
    out = tmp_path / "heb.csv"
    base = ["hebbian", "sweep", "--clusters", "4", "--neurons", "32", "--messages", "40:80:2",
            "--erased", "2", "--max-shots", "200", "--seed", "1", "--workers", "1",
            "--no-progress"]
    assert main(base + ["--rule", "som", "--iterations", "4", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["plot", str(out), "--x", "messages", "--theory", "-o",
                 str(tmp_path / "h.png")]) == 0
    err = capsys.readouterr().err
    assert "no closed form for any of the 1 curves" in err and "sampler hebbian" in err
    one = tmp_path / "one.csv"
    assert main(base + ["--out", str(one)]) == 0  # SoS, 1 iteration: has a closed form
    capsys.readouterr()
    assert main(["plot", str(one), "--x", "messages", "--theory", "-o",
                 str(tmp_path / "g.png")]) == 0
    assert "closed form" not in capsys.readouterr().err


def test_missing_extra_is_one_line_and_exit_2(tmp_path):
    """``erasurelab unlearn deletion`` without scikit-learn (import made to fail)."""
    out = tmp_path / "never.csv"
    code = ("import sys; sys.modules['sklearn'] = None\n"
            "from sim.cli import main\n"
            f"sys.exit(main(['unlearn', 'deletion', '--out', {str(out)!r}, '--seeds', '1',"
            " '--steps', '0', '--no-progress']))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       cwd=Path(__file__).parents[2], timeout=120)
    assert p.returncode == 2, p.stderr
    lines = p.stderr.strip().splitlines()
    assert lines == ["erasurelab unlearn deletion: needs scikit-learn (not installed), from the "
                     "extra 'unlearn': pip install 'erasurelab[unlearn]'"], p.stderr
    assert not out.exists()


def test_missing_extra_mechanism(monkeypatch, capsys):
    from sim import extras

    assert extras.extra_for("torch") == ("torch", "t2i")
    assert extras.extra_for("fusion_blossom") == ("fusion-blossom", "blossom")
    assert extras.extra_for("numpy") is None

    def boom():
        import fusion_blossom_missing_for_test  # noqa: F401

    monkeypatch.setitem(extras._table(), "fusion_blossom_missing_for_test",
                        ("fusion-blossom", "blossom"))
    assert extras.run_guarded(boom, "erasurelab x") == 2
    assert capsys.readouterr().err.strip().endswith("pip install 'erasurelab[blossom]'")

    def bug():
        import no_such_module_is_a_bug  # noqa: F401

    with pytest.raises(ModuleNotFoundError):  # not an extra: a real bug propagates
        extras.run_guarded(bug, "erasurelab x")


def test_varying_fields_treat_inputs_of_a_computed_x_as_x():
    rows = [_row({"pe": 0.1 * t, "pp": 0.01 * t, "L": L}, 1000, 100 * t + L)
            for t in (1, 2, 3, 4) for L in (4, 6)]
    t = lambda s: round(s.json_metadata["pe"] / 0.1)  # noqa: E731
    assert list(sim.varying_fields(rows, exclude=["L"])) == ["pe", "pp"]
    assert sim.varying_fields(rows, exclude=["L"], functions_of=[t]) == {}
    try:
        sim.threshold(rows, x=t, size="L", bootstrap=0, max_rate=None)
    except ValueError as exc:  # whatever the fit says, it is not a refusal to pool
        assert "differ" not in str(exc)
    with pytest.raises(ValueError, match="differ in pp"):  # pp is not a function of this x
        sim.threshold(rows, x="pe", size="L", bootstrap=0, max_rate=None)


def _script(name):
    import importlib.util

    path = Path(__file__).parents[2] / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_script_{name}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_quick_script_uf_pauli_fit_is_no_threshold(capsys):
    """The measured case: ``scripts/fbqc_thresholds.py --quick`` used to print a 6-ring uf
    Pauli threshold of −0.0677 with ν = 126 (data: that run's CSV, combined)."""
    rows = sim.read_stats(DATA / "quick_pauli_6ring_uf.csv")
    # (the script used 200 replicas; 20 give the same CI verdict at a tenth of the time)
    res = sim.threshold(rows, x="p_pauli", size="L", bootstrap=20)
    assert res.value == pytest.approx(-0.0677, abs=1e-3) and res.nu > 100
    assert not res.ok and res.text() == "no threshold in range"
    assert any("outside the sampled range" in w for w in res.warnings)
    assert any("wider than the sampled range" in w for w in res.warnings)
    script = _script("fbqc_thresholds")
    summary: list[dict] = []
    script._record(summary, "6ring Pauli threshold (uf)", res, 0.0107, 0.0107, "quick")
    assert summary[0]["value"] == "no threshold in range"
    out = capsys.readouterr().out
    assert "no threshold in range" in out and "-0.0677" not in out
    # and the command line says so, with the warnings
    assert main(["threshold", str(DATA / "quick_pauli_6ring_uf.csv"), "--x", "p_pauli",
                 "--size", "L", "--bootstrap", "0"]) == 0
    out = capsys.readouterr().out
    assert "threshold: no threshold in range (the fit gave -0.0676877" in out
    assert "warning: the estimate -0.06769 lies outside the sampled range" in out


def test_readme_example_fit_warns_about_chi2(capsys):
    """The README's fbqc example (uf decoder on erasure, L 8/12/16, p_E 0.10..0.14 in 9
    points, 4000 shots, seed 1) fits with χ²/dof ≈ 36 and used to print it as a result."""
    path = DATA / "readme_uf_erasure.csv"
    assert main(["threshold", str(path), "--x", "p_erasure", "--size", "L"]) == 0
    out = capsys.readouterr().out
    assert "no threshold in range" in out
    assert "warning: χ²/dof = " in out and "> 3" in out
    res = sim.threshold(path, x="p_erasure", size="L", bootstrap=0)
    assert res.chi2_dof == pytest.approx(35.8, abs=0.05) and not res.ok
