"""sim.threshold against the repetition code's exact threshold p_c = 1/2 and nu = 2."""

from __future__ import annotations

import pytest

import sim

SIZES = (25, 75, 175)
# asymmetric grid around 0.5
PS = (0.475, 0.48, 0.485, 0.49, 0.495, 0.50, 0.505, 0.51, 0.52)


def _stats(shots, seed=0):
    tasks = [("repetition", {"n": n, "p": p}) for n in SIZES for p in PS]
    return sim.collect(tasks, max_shots=shots, seed=seed, workers=1)


def test_threshold_recovers_half_and_nu_two_with_shrinking_ci():
    # The repetition curve is odd about threshold (P = Phi(2u) + O(1/n)), so at 320k shots
    # per point the quadratic collapse is visibly biased in nu (2.08, chi2/dof 1.5): the
    # cubic collapse (order=3) is the right model here.
    small = sim.threshold(_stats(20_000), x="p", size="n", max_rate=None, bootstrap=100)
    big = sim.threshold(_stats(320_000, seed=1), x="p", size="n", max_rate=None, bootstrap=100,
                        order=3)
    for res in (small, big):
        assert res.ci[0] <= 0.5 <= res.ci[1], res.summary()
        assert res.nu_ci[0] <= 2.0 <= res.nu_ci[1], res.summary()
        assert len(res.crossings) == 2
        assert all(c.value is not None and abs(c.value - 0.5) < 0.02 for c in res.crossings)
    # 16x the shots: the half-width should shrink by ~4x; require at least 2x
    assert big.half_width < small.half_width / 2, (small.half_width, big.half_width)
    assert "threshold" in big.summary() and "drift" in big.summary()


def test_max_rate_drops_points_and_where_filters(tmp_path):
    stats = _stats(5_000)
    res = sim.threshold(stats, x="p", size="n", max_rate=0.4, bootstrap=0, window=float("inf"))
    assert res.n_dropped > 0
    only_two = sim.threshold(stats, x="p", size="n", max_rate=None, bootstrap=0,
                             where=lambda s: s.json_metadata["n"] != 25)
    assert len(only_two.crossings) == 1


def test_threshold_bad_input():
    stats = _stats(1_000)
    with pytest.raises(ValueError, match="sizes"):
        sim.threshold(stats, x="p", size="n", where={"n": 25})
    with pytest.raises(ValueError, match="size"):
        sim.threshold(stats, x="p", size="L")
    with pytest.raises(ValueError, match="max_rate"):
        sim.threshold(stats, x="p", size="n", max_rate=2.0)
    with pytest.raises(ValueError, match="order"):
        sim.threshold(stats, x="p", size="n", order=5)
    with pytest.raises(ValueError, match="bootstrap"):
        sim.threshold(stats, x="p", size="n", bootstrap=-1)


def test_plot_and_collapse_write_png_and_svg(tmp_path):
    stats = _stats(2_000)
    sim.plot(stats, x="p", group="n", out=tmp_path / "a.png")
    assert (tmp_path / "a.png").stat().st_size > 1000 and (tmp_path / "a.svg").exists()
    res = sim.threshold(stats, x="p", size="n", max_rate=None, bootstrap=0)
    sim.plot_collapse(res, out=tmp_path / "c.png")
    assert (tmp_path / "c.png").exists() and (tmp_path / "c.svg").exists()
    with pytest.raises(ValueError, match="out"):
        sim.plot(stats, x="p", group="n", out=tmp_path / "a.jpg")


def test_plot_orders_groups_numerically():
    stats = sim.collect([("repetition", {"n": n, "p": p}) for n in (11, 3, 5) for p in (0.2, 0.3)],
                        max_shots=500, seed=0, workers=1)
    fig = sim.plot(stats, x="p", group="n")
    handles, labels = fig.axes[0].get_legend_handles_labels()
    assert labels == ["n=3", "n=5", "n=11"]
    assert [h.get_color() for h in handles] == ["C0", "C1", "C2"]
