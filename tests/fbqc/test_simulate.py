"""simulate(), the sampler, the CLI, and small statistical checks (fixed seeds)."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from fbqc import HardwareAgnostic, simulate
from fbqc.network import FusionNetwork
from fbqc.noise import bernoulli
from fbqc.sampler import FusionSampler
from sim.cli import main


def test_zero_noise_gives_no_errors():
    for kind in ("6ring", "4star"):
        for dec in ("uf", "mwpm", "erasure-ml"):
            r = simulate(kind, HardwareAgnostic(0.0, 0.0), L=4, decoder=dec, shots=50, seed=0)
            assert r.errors == 0 and not r.custom_counts


def test_result_fields_and_determinism():
    net = FusionNetwork("6ring", 4)
    a = simulate(net, HardwareAgnostic(0.12, 0.0), L=4, shots=300, seed=7)
    b = simulate("6ring", HardwareAgnostic(0.12, 0.0), L=4, shots=300, seed=7)
    assert (a.shots, a.errors, a.custom_counts) == (b.shots, b.errors, b.custom_counts)
    assert a.seconds > 0 and 0 < a.errors < a.shots
    # primal-x failures are exactly the masks whose first character is E
    first = sum(v for k, v in a.custom_counts.items() if k.split("=")[1][0] == "E")
    assert first == a.errors


def test_erasure_ml_records_windings():
    r = simulate("6ring", HardwareAgnostic(0.14, 0.0), L=4, decoder="erasure-ml", shots=400,
                 seed=2)
    w = r.custom_counts["winding:primal-x"]
    assert 0 < r.errors <= w
    lo, hi = sim.binomial_ci(r.errors, w, confidence=0.999)
    assert lo <= 0.5 <= hi  # a winding fails half the time


def test_bad_arguments():
    with pytest.raises(ValueError, match="p_erasure"):
        HardwareAgnostic(-0.1, 0)
    with pytest.raises(ValueError, match="p_pauli"):
        HardwareAgnostic(0, 1.01)
    with pytest.raises(TypeError, match="p_pauli"):
        HardwareAgnostic(0, "0.1")
    with pytest.raises(ValueError, match="p_pauli = 0"):
        simulate("6ring", HardwareAgnostic(0.1, 0.01), L=3, decoder="erasure-ml", shots=1)
    with pytest.raises(ValueError, match="decoder"):
        simulate("6ring", HardwareAgnostic(0.1, 0.0), L=3, decoder="nope", shots=1)
    with pytest.raises(ValueError, match="L"):
        simulate(FusionNetwork("6ring", 3), HardwareAgnostic(0.1, 0.0), L=4, shots=1)
    with pytest.raises(ValueError, match="shots"):
        simulate("6ring", HardwareAgnostic(0.1, 0.0), L=3, shots=-1)


def test_bernoulli_is_exact_in_distribution():
    rng = np.random.default_rng(1)
    for p in (0.003, 0.05, 0.3):
        m = bernoulli(rng, (400, 500), p)
        lo, hi = sim.binomial_ci(int(m.sum()), m.size, confidence=0.9999)
        assert lo <= p <= hi
        # no position bias: first and second half of the flat array alike
        half = m.reshape(-1)[: m.size // 2].sum(), m.reshape(-1)[m.size // 2:].sum()
        assert abs(int(half[0]) - int(half[1])) < 5 * np.sqrt(m.size * p)


def test_sampler_validate_and_sample():
    s = FusionSampler()
    p = s.validate({"network": "4star", "L": 3, "p_erasure": 0.05, "decoder": "uf"})
    assert p == {"network": "4star", "L": 3, "p_erasure": 0.05, "p_pauli": 0.0, "decoder": "uf"}
    a = s.sample(p, 200, np.random.default_rng(3))
    b = s.sample(p, 200, np.random.default_rng(3))
    assert a == b and a.shots == 200
    for bad, word in (({"network": "x", "L": 3}, "network"), ({"network": "6ring", "L": 2}, "L"),
                      ({"network": "6ring", "L": 3, "q": 1}, "q"),
                      ({"network": "6ring", "L": 3, "decoder": "bp"}, "decoder"),
                      ({"network": "6ring", "L": 3, "p_pauli": 0.1, "decoder": "erasure-ml"},
                       "erasure-ml")):
        with pytest.raises(ValueError, match=word):
            s.validate(bad)


def test_collect_is_seeded():
    tasks = [("fbqc", {"network": "6ring", "L": 4, "p_erasure": 0.12, "decoder": "uf"})]
    a = sim.collect(tasks, max_shots=600, seed=5, workers=1)
    b = sim.collect(tasks, max_shots=600, seed=5, workers=1)
    assert a[0].errors == b[0].errors and a[0].custom_counts == b[0].custom_counts
    assert a[0].decoder == "fbqc:uf"


def test_cli_sweep_writes_csv(tmp_path, capsys):
    out = tmp_path / "stats.csv"
    args = ["fbqc", "sweep", "--network", "6ring", "--L", "3", "4", "--p-erasure",
            "0.10:0.14:3", "--p-pauli", "0", "--decoder", "uf", "--max-shots", "100",
            "--seed", "1", "--workers", "1", "--no-progress", "--out", str(out)]
    assert main(args) == 0
    rows = sim.combine(sim.read_stats(out))
    assert len(rows) == 6 and all(r.shots == 100 for r in rows)
    assert {r.json_metadata["p_erasure"] for r in rows} == {0.1, 0.12, 0.14}
    # the CLI row is the task sim.collect runs, with the same seeded counts
    ref = sim.collect([("fbqc", rows[0].json_metadata)], max_shots=100, seed=1, workers=1)[0]
    assert (ref.strong_id, ref.errors, ref.custom_counts) == (
        rows[0].strong_id, rows[0].errors, rows[0].custom_counts)
    bad = tmp_path / "bad.csv"
    assert main(["fbqc", "sweep", "--network", "6ring", "--L", "2", "--max-shots", "10",
                 "--out", str(bad)]) == 2
    assert not bad.exists()
    assert "L must be an integer >= 3" in capsys.readouterr().err
    assert main(["fbqc", "nope"]) == 2


def test_cli_lists_and_help(tmp_path, capsys):
    """One list syntax on every value flag; a token that is a choice stays whole."""
    out = tmp_path / "l.csv"
    base = ["--max-shots", "16", "--seed", "1", "--workers", "1", "--no-progress"]
    assert main(["fbqc", "sweep", "--network", "6ring", "4star", "--L", "3,4",
                 "--p-erasure", "0.05", "0.1", "--decoder", "uf,mwpm", *base,
                 "--out", str(out)]) == 0
    rows = sim.combine(sim.read_stats(out))
    assert len(rows) == 2 * 2 * 2 * 2
    assert {r.json_metadata["decoder"] for r in rows} == {"uf", "mwpm"}
    opt = tmp_path / "o.csv"
    assert main(["fbqc", "optics", "--L", "3", "--encoding", "shor22", "--basis", "random",
                 "UU,RR", "--fusion-failure", "0.1:0.3:2", *base, "--out", str(opt)]) == 0
    assert {r.json_metadata["basis"] for r in sim.read_stats(opt)} == {"random", "UU,RR"}
    capsys.readouterr()
    assert main([]) == 0 and main(["fbqc", "--help"]) == 0
    text = capsys.readouterr().out
    assert all(f"  {name}" in text for name in ("sweep", "optics", "stim", "resources"))
    assert main(["fbqc"]) == 2 and "subcommand" in capsys.readouterr().err
    assert main(["--version"]) == 0 and "erasurelab 0" in capsys.readouterr().out


def test_erasure_crossing_small_L():
    """6-ring erasure threshold from L = 6/8/10 (erasure-ml, fixed seed) within ±0.3 % of
    the FCC bond-percolation threshold, and its CI overlapping it."""
    tasks = [("fbqc", {"network": "6ring", "L": L, "p_erasure": p, "decoder": "erasure-ml"})
             for L in (6, 8, 10) for p in (0.11, 0.115, 0.12, 0.125, 0.13)]
    st = sim.collect(tasks, max_shots=1200, seed=11, workers=1)
    res = sim.threshold(st, x="p_erasure", size="L", bootstrap=40)
    assert abs(res.value - 0.1201635) < 0.003
    assert res.ci[0] - 0.003 <= 0.1201635 <= res.ci[1] + 0.003


def test_4star_erasure_crossing_small_L():
    """4-star erasure threshold from L = 6/8/10 (erasure-ml, fixed seed) within ±0.3 % of
    1 - (1 - 0.2488)^(1/4) = 0.06902 (cubic bond percolation per 4-outcome bundle)."""
    ref = 1 - (1 - 0.2488) ** 0.25
    tasks = [("fbqc", {"network": "4star", "L": L, "p_erasure": p, "decoder": "erasure-ml"})
             for L in (6, 8, 10) for p in (0.061, 0.065, 0.069, 0.073, 0.077)]
    st = sim.collect(tasks, max_shots=1200, seed=12, workers=1)
    res = sim.threshold(st, x="p_erasure", size="L", bootstrap=40)
    assert abs(res.value - ref) < 0.003
    assert res.ci[0] - 0.003 <= ref <= res.ci[1] + 0.003


def test_4star_erasure_ordering():
    """Below the 4-star threshold (6.9 %) larger L is better, above it worse."""
    def rate(L, p):
        r = simulate("4star", HardwareAgnostic(p, 0.0), L=L, decoder="erasure-ml", shots=1500,
                     seed=L)
        return r.errors, r.shots

    for p, better in ((0.055, True), (0.085, False)):
        (k4, n4), (k8, n8) = rate(4, p), rate(8, p)
        lo4, hi4 = sim.binomial_ci(k4, n4, confidence=0.999)
        lo8, hi8 = sim.binomial_ci(k8, n8, confidence=0.999)
        assert (hi8 < lo4) if better else (lo8 > hi4)


def test_uf_mixed_noise_tasks_carry_a_model_version():
    import sim
    from fbqc.sampler import UF_MIXED_VERSION

    base = {"network": "6ring", "L": 4, "decoder": "uf"}
    mixed, _ = sim.make_task("fbqc", {**base, "p_erasure": 0.05, "p_pauli": 0.003})
    assert mixed.json_metadata["model_version"] == UF_MIXED_VERSION == 2
    again, _ = sim.make_task("fbqc", dict(mixed.json_metadata))  # a CSV row round-trips
    assert again.strong_id() == mixed.strong_id()
    for pe, pp, dec in ((0.05, 0.0, "uf"), (0.0, 0.003, "uf"), (0.05, 0.003, "mwpm")):
        t, _ = sim.make_task("fbqc", {**base, "decoder": dec, "p_erasure": pe, "p_pauli": pp})
        assert "model_version" not in t.json_metadata  # unchanged decoding keeps its id
    with pytest.raises(ValueError, match="model_version"):
        sim.make_task("fbqc", {**base, "p_erasure": 0.05, "p_pauli": 0.003, "model_version": 1})
    stim = {**base, "backend": "stim", "p_erasure": 0.05, "p_pauli": 0.003}
    for dec in ("uf", "erasure-uf"):
        t, _ = sim.make_task("fbqc", {**stim, "decoder": dec})
        assert t.json_metadata["model_version"] == 2
    t, _ = sim.make_task("fbqc", {**stim, "decoder": "erasure-mwpm"})
    assert "model_version" not in t.json_metadata
