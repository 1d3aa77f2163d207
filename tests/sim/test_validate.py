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
