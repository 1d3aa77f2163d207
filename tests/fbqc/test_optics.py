"""The linear-optics model: (2,2)-Shor formulas, sampling, the sampler and the CLI."""

from __future__ import annotations

import numpy as np
import pytest

from fbqc.network import FusionNetwork
from fbqc.optics import LinearOptics, basis_pattern, logical_erasure
from fbqc.sampler import OpticsSampler
from sim.cli import domain_main

fbqc_main = domain_main("fbqc")

Z = 4.0  # many comparisons in this file: Bonferroni-safe two-sided band


def _within(k: int, n: int, p: float) -> bool:
    return abs(k - n * p) <= Z * np.sqrt(n * p * (1 - p)) + 1e-9


def test_encoded_formulas_reproduce_paper_point():
    # random basis: both paper figures are the single point q* ≈ 0.784 (docs/science/fusion.md)
    a = LinearOptics(0.0, 0.432, encoding="shor22").logical_erasure()
    b = LinearOptics(1 - (1 - 0.104) ** 0.25, 0.25, encoding="shor22").logical_erasure()
    assert a == pytest.approx((0.1485, 0.0911), abs=2e-4)
    assert b == pytest.approx(a, abs=3e-4)
    assert 0.5 * sum(a) == pytest.approx(0.1198, abs=3e-4)  # the average rule
    # fixed patterns at zero loss
    pf = 0.4
    net = FusionNetwork("6ring", 3)
    for name, want in (("UR,UR", (pf**2, 0.0)), ("UU,RR", (0.0, pf**2)),
                       ("UR,RR", (0.0, pf**2))):
        lo = LinearOptics(0.0, pf, encoding="shor22",
                          basis=basis_pattern(net, name, encoding="shor22"))
        got = lo.fusion_erasure_probabilities(net.n_fusions)[0]
        assert got == pytest.approx(want)
    # all-U: X̄X̄ needs a failure in each block; Z̄Z̄ never erased
    ex, ez = logical_erasure(np.full(4, 1 - pf), np.ones(4))
    assert (float(ex), float(ez)) == pytest.approx(((1 - (1 - pf) ** 2) ** 2, 0.0))


def test_unencoded_marginals():
    lo = LinearOptics(0.01, 0.3, photons_per_fusion=2, basis="standard")
    pl = 1 - 0.99**2
    assert lo.fusion_erasure_probabilities(1)[0] == pytest.approx([pl + (1 - pl) * 0.3, pl])
    r = LinearOptics(0.0, 0.3, basis="random").fusion_erasure_probabilities(1)[0]
    assert r == pytest.approx([0.15, 0.15])


@pytest.mark.parametrize(("basis", "enc"), [("random", None), ("rotated", None),
                                            ("random", "shor22"), ("UR,RR", "shor22")])
def test_sampling_matches_joint_probabilities(basis, enc):
    net = FusionNetwork("6ring", 3)
    b = basis if basis in ("random", "rotated") else basis_pattern(net, basis, encoding=enc)
    lo = LinearOptics(0.02, 0.3, basis=b, encoding=enc)
    S = 400
    er = lo.sample(net, S, np.random.default_rng(5))
    P = lo.joint_probabilities(net.n_fusions)
    marg = lo.fusion_erasure_probabilities(net.n_fusions)
    assert np.allclose(P.sum(1), 1) and np.allclose(P[:, 1] + P[:, 3], marg[:, 0])
    x, z = er[:, 0::2], er[:, 1::2]
    n = x.size
    for k, p in ((np.count_nonzero(x & ~z), P[0, 1]), (np.count_nonzero(~x & z), P[0, 2]),
                 (np.count_nonzero(x & z), P[0, 3])):
        assert _within(int(k), n, float(p))


def test_failure_without_loss_erases_exactly_one_outcome():
    net = FusionNetwork("4star", 3)
    er = LinearOptics(0.0, 1.0, basis="random").sample(net, 50, np.random.default_rng(0))
    assert np.all(er[:, 0::2] ^ er[:, 1::2])
    er = LinearOptics(1.0, 0.0).sample(net, 5, np.random.default_rng(0))
    assert er.all()


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"loss_per_photon": -0.1}, "loss_per_photon"),
    ({"loss_per_photon": 0.1, "fusion_failure": 1.2}, "fusion_failure"),
    ({"loss_per_photon": 0.1, "basis": "diagonal"}, "basis"),
    ({"loss_per_photon": 0.1, "encoding": "steane"}, "encoding"),
    ({"loss_per_photon": 0.1, "basis": np.zeros((3, 2), int)}, "basis"),
    ({"loss_per_photon": 0.1, "basis": np.array([0, 2])}, "basis"),
    ({"loss_per_photon": 0.1, "basis": np.zeros(5, int), "encoding": "shor22"}, "basis"),
    ({"loss_per_photon": 0.1, "photons_per_fusion": 0}, "photons_per_fusion"),
])
def test_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LinearOptics(**kwargs)


def test_basis_array_shape_checked_against_network():
    net = FusionNetwork("6ring", 3)
    lo = LinearOptics(0.0, 0.25, basis=np.zeros(7, int))
    with pytest.raises(ValueError, match="basis"):
        lo.outcome_erasure_probabilities(net)
    with pytest.raises(ValueError, match="basis"):
        basis_pattern(net, "UU,RR")  # needs the encoding
    with pytest.raises(TypeError, match="loss_per_photon"):
        LinearOptics("0.1")


def test_sampler_validate_and_determinism():
    s = OpticsSampler()
    p = s.validate({"network": "6ring", "L": 4, "fusion_failure": 0.3,
                    "encoding": "shor22", "basis": "UR,RR"})
    a = s.sample(p, 64, np.random.default_rng(3))
    b = s.sample(p, 64, np.random.default_rng(3))
    assert (a.errors, a.custom_counts) == (b.errors, b.custom_counts)
    for bad, match in (({"L": 4, "network": "6ring", "basis": "UU,RR"}, "shor22"),
                       ({"L": 4, "network": "6ring", "encoding": "x"}, "encoding"),
                       ({"L": 4, "network": "6ring", "decoder": "erasure-uf"}, "decoder"),
                       ({"L": 4, "network": "8ring"}, "network"),
                       ({"L": 4, "network": "6ring", "loss_per_photon": 2.0}, "loss"),
                       ({"L": 4, "network": "6ring", "p": 0.1}, "unknown")):
        with pytest.raises(ValueError, match=match):
            s.validate(bad)
    # no loss, no failure: never an error
    z = s.validate({"network": "4star", "L": 3, "fusion_failure": 0.0})
    assert s.sample(z, 50, np.random.default_rng(0)).errors == 0


def test_basis_pattern_selects_sublattice():
    """Standard fusions erase XX: the cubic (±e_k) edges of both FCC graphs; rotated
    fusions erase ZZ: the in-plane (e_i − e_j) edges of the (111) triangular layers."""
    net = FusionNetwork("6ring", 4)
    for basis, norm in (("standard", 1), ("rotated", 2)):
        er = LinearOptics(0.0, 0.5, basis=basis).sample(net, 20, np.random.default_rng(0))
        for g in net.graphs:
            e, _ = g.bundle(er, er)
            steps = np.abs(g.edge_shift[np.flatnonzero(e.any(axis=0))]).sum(axis=1)
            assert steps.size and np.all(steps == norm)


def test_standard_pattern_threshold_side():
    """XX-only erasure is cubic bond percolation (p_c = 0.2488): below it larger
    networks fail less, above it more."""
    s = OpticsSampler()
    shots = 600
    r = {}
    for pf in (0.16, 0.30):
        for L in (4, 8):
            p = s.validate({"network": "6ring", "L": L, "fusion_failure": pf,
                            "basis": "standard"})
            r[pf, L] = s.sample(p, shots, np.random.default_rng(L)).errors / shots
    for pf, sign in ((0.16, 1), (0.30, -1)):
        a, b = r[pf, 4], r[pf, 8]
        sd = np.sqrt((a * (1 - a) + b * (1 - b)) / shots)
        assert sign * (a - b) > 3.0 * sd  # two one-sided comparisons at 3σ


def test_uf_mwpm_and_ml_agree_on_erasure():
    s = OpticsSampler()
    shots = 1500
    r = {}
    for dec in ("erasure-ml", "uf", "mwpm"):
        p = s.validate({"network": "6ring", "L": 6, "fusion_failure": 0.24, "decoder": dec})
        r[dec] = s.sample(p, shots, np.random.default_rng(11)).errors
    sd = np.sqrt(shots * 0.25)
    assert abs(r["uf"] - r["erasure-ml"]) < Z * np.sqrt(2) * sd
    assert abs(r["mwpm"] - r["erasure-ml"]) < Z * np.sqrt(2) * sd


def test_optics_cli(tmp_path):
    out = tmp_path / "o.csv"
    rc = fbqc_main(["optics", "--L", "3", "4", "--fusion-failure", "0.1,0.3", "--basis", "random",
                      "--max-shots", "40", "--seed", "1", "--workers", "1", "--out",
                      str(out), "--no-progress", "--threshold", "fusion_failure"])
    assert rc == 0 and out.exists()
    assert fbqc_main(["optics", "--L", "3", "--max-shots", "10", "--out", str(out),
                        "--basis", "diagonal"]) == 2
    assert fbqc_main(["optics", "--L", "3", "--max-shots", "0", "--out", str(out)]) == 2


def test_stim_cli(tmp_path, capsys):
    f = tmp_path / "c.stim"
    assert fbqc_main(["stim", "circuit", "--network", "4star", "--L", "3", "--p-erasure", "0.1",
                      "--out", str(f)]) == 0
    assert "HERALDED_PAULI_CHANNEL_1" in f.read_text()
    assert fbqc_main(["stim", "simulate", "--network", "6ring", "--L", "3", "--p-erasure", "0.05",
                      "--shots", "20", "--seed", "1"]) == 0
    assert "6ring L=3" in capsys.readouterr().out
    assert fbqc_main(["stim", "simulate", "--L", "3", "--shots", "5", "--decoder", "bp"]) == 2
    assert fbqc_main(["stim", "circuit", "--L", "3", "--p-pauli", "-1"]) == 2


def test_ur_rr_meets_the_average_rule_estimate_without_an_orientation_swap():
    # the i.i.d. estimate's best fixed pattern with loss is "(UR,RR) plus a code-orientation
    # swap on half the fusions", 11.65 % per fusion.  The average rule already gives that
    # for plain UR,RR, and the swap only balances X̄X̄ against Z̄Z̄ between the two
    # syndrome graphs, which the 6-ring layout does by construction: each graph gets the
    # XX outcome of half the fusions and the ZZ outcome of the other half.
    from scipy.optimize import brentq

    net = FusionNetwork("6ring", 4)
    pairs = np.stack([net.outcome_basis, net.outcome_graph], axis=1)
    _, counts = np.unique(pairs, axis=0, return_counts=True)
    assert counts.tolist() == [net.n_fusions // 2] * 4
    pat = basis_pattern(net, "UR,RR", encoding="shor22")[:1]

    def excess(loss_per_fusion):
        photon = 1 - (1 - loss_per_fusion) ** 0.25
        lo = LinearOptics(photon, fusion_failure=0.25, basis=pat, encoding="shor22")
        return lo.fusion_erasure_probabilities(1).mean() - 0.1198

    ell = brentq(excess, 0.0, 0.5)
    assert abs(ell - 0.1165) < 5e-4
    assert abs((1 - (1 - ell) ** 0.25) - 0.0305) < 2e-4
