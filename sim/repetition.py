"""A built-in test sampler: the n-bit repetition code under i.i.d. flips, majority vote.

Its logical error rate is an exact binomial tail, its threshold is p = 1/2 and its
scaling exponent is ν = 2, so the engine, the confidence intervals and the threshold
fitter can be checked against closed forms before any physics is involved.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import sinter
from scipy.stats import binom

from .sampler import ChunkContext, Sampler

__all__ = ["RepetitionSampler", "exact_error_rate"]


def exact_error_rate(n: int, p: float) -> float:
    """Exact majority-vote failure rate of the ``n``-bit repetition code (``n`` odd).

    >>> round(exact_error_rate(3, 0.1), 6)
    0.028
    """
    n, p = _check(n, p)
    return float(binom.sf(n // 2, n, p))


def _check(n: Any, p: Any) -> tuple[int, float]:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"n must be an odd integer >= 1, got {n!r}")
    if n < 1 or n % 2 == 0:
        raise ValueError(f"n must be an odd integer >= 1, got {n}")
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating, np.integer)):
        raise TypeError(f"p must be a probability, got {p!r}")
    if not 0.0 <= float(p) <= 1.0:
        raise ValueError(f"p must lie in [0, 1], got {p}")
    return int(n), float(p)


class RepetitionSampler(Sampler):
    """n-bit repetition code, i.i.d. bit flips with probability ``p``, majority vote.

    Parameters (task ``json_metadata``): ``n`` (odd int >= 1) and ``p`` in [0, 1].
    Custom count ``flips`` is the total number of flipped bits.

    Examples
    --------
    >>> import numpy as np
    >>> s = RepetitionSampler()
    >>> st = s.sample(s.validate({"n": 5, "p": 0.5}), 10_000, np.random.default_rng(0))
    >>> 0.45 < st.errors / st.shots < 0.55
    True
    """

    name = "repetition"
    labels = {"p": "bit-flip probability p", "n": "code length n",
              "errors": "logical error rate (majority vote)"}

    def validate(self, params: dict[str, Any]) -> dict[str, Any]:
        unknown = set(params) - {"n", "p"}
        if unknown:
            raise ValueError(f"repetition: unknown parameter(s) {sorted(unknown)}; expected n, p")
        if "n" not in params or "p" not in params:
            raise ValueError("repetition: parameters n and p are required")
        n, p = _check(params["n"], params["p"])
        return {"n": n, "p": p}

    def decoder(self, params: dict[str, Any]) -> str:
        return "majority"

    def chunk_shots(self, params: dict[str, Any]) -> int:
        return 65536

    def sample(
        self,
        params: dict[str, Any],
        shots: int,
        rng: np.random.Generator,
        ctx: ChunkContext | None = None,
    ) -> sinter.AnonTaskStats:
        n, p = params["n"], params["p"]
        flips = rng.binomial(n, p, size=shots)
        errors = int(np.count_nonzero(flips > n // 2))
        return sinter.AnonTaskStats(
            shots=shots, errors=errors, custom_counts=Counter({"flips": int(flips.sum())})
        )
