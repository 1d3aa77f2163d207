"""Classic Hopfield network (Hebbian outer-product weights, ±1 units), as a baseline."""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.validate import check_memory

from .network import RecallResult, _as_int

__all__ = ["Hopfield"]


class Hopfield:
    """Hopfield (1982) network of ``n`` ±1 units with integer Hebbian weights.

    ``W = sum_mu xi_mu xi_mu^T`` with a zero diagonal (each weight needs
    ``ceil(log2(2M + 1))`` bits).  Erased bits of a cue are 0; recall runs synchronous
    sign updates (a zero field keeps the unit) until a fixed point or ``iterations``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> h = Hopfield(256)
    >>> pats = h.random_patterns(5, rng)
    >>> _ = h.store(pats)
    >>> cues = pats.copy(); cues[:, :64] = 0
    >>> bool((h.recall(cues).state == pats).all())
    True
    """

    def __init__(self, n: int):
        self.n = _as_int("n", n, 2)
        check_memory(f"n={self.n}", 4 * self.n**2)  # the float32 weights
        self._w = np.zeros((self.n, self.n), np.float32)
        self.n_stored = 0

    def random_patterns(self, count: int, rng: np.random.Generator) -> np.ndarray:
        """``count`` uniform ±1 patterns (int8)."""
        count = _as_int("count", count, 0)
        return (2 * rng.integers(0, 2, size=(count, self.n)) - 1).astype(np.int8)

    def store(self, patterns: Any) -> Hopfield:
        p = np.asarray(patterns)
        if p.ndim != 2 or p.shape[1] != self.n or not np.isin(p, (-1, 1)).all():
            raise ValueError(f"patterns must be a ±1 array of shape (M, {self.n})")
        pf = p.astype(np.float32)
        self._w += pf.T @ pf
        np.fill_diagonal(self._w, 0.0)
        self.n_stored += p.shape[0]
        return self

    @property
    def weight_bits(self) -> int:
        """Bits per weight, ceil(log2(2M + 1))."""
        return int(np.ceil(np.log2(2 * self.n_stored + 1)))

    def recall(self, cues: Any, *, iterations: int | None = None) -> RecallResult:
        """Synchronous recall from cues (Q, n) in {-1, 0, +1}.

        Runs until a fixed point or ``iterations`` steps (default: at most 100).
        Returns a :class:`~hebbian.RecallResult` whose ``state`` holds the final ±1
        spins (int8, (Q, n)).
        """
        s = np.asarray(cues)
        if s.ndim != 2 or s.shape[1] != self.n or not np.isin(s, (-1, 0, 1)).all():
            raise ValueError(f"cues must hold -1, 0, +1 with shape (Q, {self.n})")
        maxit = 100 if iterations is None else _as_int("iterations", iterations, 1)
        s = s.astype(np.float32)
        Q = s.shape[0]
        steps = np.zeros(Q, np.int64)
        moving = np.ones(Q, bool)
        for _ in range(maxit):
            h = s @ self._w
            new = np.where(h > 0, 1.0, np.where(h < 0, -1.0, s)).astype(np.float32)
            changed = (new != s).any(axis=1)
            steps += moving
            moving &= changed
            if not changed.any():
                break
            s = new
        state = s.astype(np.int8)
        return RecallResult(messages=np.where(state == 0, -1, (state > 0).astype(np.int64)),
                            n_winners=(state != 0).astype(np.int64), iterations=steps,
                            converged=~moving, neurons_per_cluster=2, state=state)
