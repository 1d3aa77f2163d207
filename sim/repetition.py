"""A built-in test sampler: the n-bit repetition code under i.i.d. flips, majority vote.

Its logical error rate is an exact binomial tail, its threshold is p = 1/2 and its
scaling exponent is ν = 2, so the engine, the confidence intervals and the threshold
fitter can be checked against closed forms before any physics is involved.  It is also
the smallest example of a declared model family: :class:`RepetitionParams` (the
parameters), :func:`run_repetition` (the run function) and :class:`RepetitionSampler`
(the sampler derived from them).
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import sinter
from scipy.stats import binom

from .declare import DeclaredSampler, TaskParams, param, task_params

__all__ = ["RepetitionParams", "RepetitionSampler", "exact_error_rate", "run_repetition"]


def exact_error_rate(n: int, p: float) -> float:
    """Exact majority-vote failure rate of the ``n``-bit repetition code (``n`` odd).

    >>> round(exact_error_rate(3, 0.1), 6)
    0.028
    """
    return RepetitionParams(n=n, p=p).theory()


@task_params
class RepetitionParams(TaskParams):
    """n-bit repetition code, i.i.d. bit flips with probability ``p``, majority vote.

    >>> RepetitionParams(n=4, p=0.1)
    Traceback (most recent call last):
    ...
    ValueError: repetition: parameter n must be odd, got 4
    """

    family = "repetition"

    n: int = param(help="code length (odd)", unit="bits", low=1)
    p: float = param(help="flip probability of each bit", unit="probability")

    def check(self) -> None:
        if self.n % 2 == 0:
            self.fail(f"n must be odd, got {self.n}")

    def decoder_label(self) -> str:
        return "majority"

    def chunk_shots(self) -> int:
        return 65536

    def theory(self) -> float:
        # (binom.sf(n / 2) is the same for odd n: an equivalent mutant)
        return float(binom.sf(self.n // 2, self.n, self.p))  # pragma: no mutate


def run_repetition(params: RepetitionParams, shots: int, rng: np.random.Generator
                   ) -> sinter.AnonTaskStats:
    """Draw ``shots`` code words; ``errors`` = majority-vote failures, custom count
    ``flips`` = flipped bits in all.

    >>> st = run_repetition(RepetitionParams(n=5, p=0.5), 10_000, np.random.default_rng(0))
    >>> 0.45 < st.errors / st.shots < 0.55
    True
    """
    flips = rng.binomial(params.n, params.p, size=shots)
    errors = int(np.count_nonzero(flips > params.n // 2))
    return sinter.AnonTaskStats(
        shots=shots, errors=errors, custom_counts=Counter({"flips": int(flips.sum())})
    )


class RepetitionSampler(DeclaredSampler):
    """The ``repetition`` sampler: :class:`RepetitionParams` run by :func:`run_repetition`.

    Examples
    --------
    >>> s = RepetitionSampler()
    >>> st = s.sample(s.validate({"n": 5, "p": 0.5}), 10_000, np.random.default_rng(0))
    >>> 0.45 < st.errors / st.shots < 0.55
    True
    """

    params = RepetitionParams
    run = staticmethod(run_repetition)
    labels = {"p": "bit-flip probability p", "n": "code length n",
              "errors": "logical error rate (majority vote)"}

