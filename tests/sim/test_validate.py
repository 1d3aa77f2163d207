"""sim.validate beyond the probes: seed counts and lists (found by mutation testing)."""

from __future__ import annotations

import pytest

from sim.validate import check_seeds


def test_check_seeds_counts_and_missing_seeds():
    assert check_seeds("seeds", 1) == [0]
    assert check_seeds("seeds", [7]) == [7]
    for bad in (0, -2):
        with pytest.raises(ValueError, match=r"^seeds must be an integer >= 1, got"):
            check_seeds("seeds", bad)
    with pytest.raises(TypeError, match=r"^seeds\[1\] must be a non-negative integer"):
        check_seeds("seeds", [3, None])  # a None seed (fresh entropy) is not a seed here


def test_ranges_are_worded_exactly():
    from sim.validate import check_float, check_int

    cases = [(lambda: check_float("x", 2.0, low=0, high=1), "x must be a finite number in [0, 1]"),
             (lambda: check_float("x", 0.0, low=0, high=1, low_open=True),
              "x must be a finite number in (0, 1]"),
             (lambda: check_float("x", 1.0, low=0, high=1, high_open=True),
              "x must be a finite number in [0, 1)"),
             (lambda: check_float("x", 2.0, high=1), "x must be a finite number <= 1"),
             (lambda: check_float("x", 1.0, high=1, high_open=True),
              "x must be a finite number < 1"),
             (lambda: check_float("x", float("nan")), "x must be a finite number, got nan"),
             (lambda: check_int("n", 5, high=4), "n must be an integer <= 4")]
    for call, text in cases:
        with pytest.raises(ValueError) as info:
            call()
        assert str(info.value).startswith(text), (str(info.value), text)


def test_float_arrays():
    import numpy as np

    from sim.validate import check_float_array

    a = check_float_array("X", [[1, 2]], ndim=2, dtype=np.float32)
    assert a.dtype == np.float32 and a.shape == (1, 2)
    assert check_float_array("X", [1.5]).dtype == np.float64
    for dt in (np.float16, np.float32, np.int8, np.uint64):  # every real dtype is taken
        assert check_float_array("X", np.array([3], dt)).tolist() == [3.0]
    assert np.isnan(check_float_array("X", [np.nan], finite=False)[0])
    with pytest.raises(ValueError, match=r"^X must be a 2-D array, got shape \(2,\)"):
        check_float_array("X", [1, 2], ndim=2)
    with pytest.raises(TypeError, match=r"^X must be a real numeric array, got dtype bool"):
        check_float_array("X", [True])
    with pytest.raises(TypeError, match=r"^X must be a real numeric array, got dtype <U1"):
        check_float_array("X", ["a"])
    with pytest.raises(TypeError, match=r"^X must be a real numeric array, got dtype complex"):
        check_float_array("X", [1j])
    with pytest.raises(TypeError, match=r"^X must be a numeric array \("):
        check_float_array("X", [[1, 2], [3]])
    with pytest.raises(ValueError, match=r"^X must hold finite numbers \(found inf at index 1\)"):
        check_float_array("X", [0.0, np.inf])
    with pytest.raises(ValueError, match=r"found nan at index \(1, 0\)"):
        check_float_array("X", [[0.0], [np.nan]])
    assert check_float_array("X", np.zeros((0, 3)), ndim=2).shape == (0, 3)
