"""The result of a model-level ``simulate`` call (``fbqc.simulate``, ``hebbian.simulate``).

:class:`SimulationResult` holds the same counts as a :class:`sinter.AnonTaskStats`
(``shots``, ``errors``, ``discards``, ``seconds``, ``custom_counts``) plus
``errors_counted``, the name of what was counted as an error, and a ``rate``.  Results
of the same kind add (``a + b``), as sinter's stats do.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import sinter

__all__ = ["SimulationResult"]


@dataclass(frozen=True)
class SimulationResult:
    """Counts of a simulation.

    Attributes
    ----------
    shots, errors : int
    seconds : float
    custom_counts : collections.Counter
        Named extra counts (e.g. ``obs_mistake_mask=E_____`` per failing membrane pattern).
    errors_counted : str
        What ``errors`` counts (``"primal-x"``, ``"any-x"``, ``"message"``, …).
    discards : int

    Examples
    --------
    >>> a = SimulationResult(100, 3, 0.5, Counter(x=1), errors_counted="primal-x")
    >>> b = SimulationResult(50, 2, 0.25, Counter(x=2), errors_counted="primal-x")
    >>> c = a + b
    >>> c.shots, c.errors, c.custom_counts["x"], c.rate
    (150, 5, 3, 0.03333333333333333)
    >>> a + SimulationResult(10, 0, 0.0, errors_counted="any-x")
    Traceback (most recent call last):
    ...
    ValueError: cannot add results counting 'primal-x' and 'any-x' as errors
    """

    shots: int
    errors: int
    seconds: float = 0.0
    custom_counts: Counter = field(default_factory=Counter)
    errors_counted: str = ""
    discards: int = 0

    @property
    def rate(self) -> float:
        """``errors / (shots - discards)`` (nan without shots)."""
        kept = self.shots - self.discards
        return self.errors / kept if kept else float("nan")

    def __add__(self, other: SimulationResult) -> SimulationResult:
        if not isinstance(other, SimulationResult):
            return NotImplemented
        if self.errors_counted != other.errors_counted:
            raise ValueError(f"cannot add results counting {self.errors_counted!r} and "
                             f"{other.errors_counted!r} as errors")
        total = self.to_anon_stats() + other.to_anon_stats()
        return SimulationResult.from_anon_stats(total, errors_counted=self.errors_counted)

    def to_anon_stats(self) -> sinter.AnonTaskStats:
        """The counts as a :class:`sinter.AnonTaskStats`."""
        return sinter.AnonTaskStats(shots=self.shots, errors=self.errors,
                                    discards=self.discards, seconds=self.seconds,
                                    custom_counts=Counter(self.custom_counts))

    @classmethod
    def from_anon_stats(cls, stats: sinter.AnonTaskStats, *, errors_counted: str = "",
                        seconds: float | None = None) -> SimulationResult:
        """Wrap sinter counts (``seconds`` overrides theirs)."""
        return cls(shots=stats.shots, errors=stats.errors,
                   seconds=stats.seconds if seconds is None else seconds,
                   custom_counts=Counter(stats.custom_counts), errors_counted=errors_counted,
                   discards=stats.discards)
