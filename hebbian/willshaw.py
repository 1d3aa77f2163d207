"""Willshaw auto-associative memory: n binary units, messages of k active units."""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.validate import check_memory

from . import _kernels as K
from .network import RecallResult, _as_int, _int_array

__all__ = ["Willshaw"]


class Willshaw:
    """Willshaw (1969) / Palm (1980) binary auto-associative memory.

    Messages are sets of ``k`` distinct unit ids among ``n`` (an int array (M, k)).
    Storage ORs the clique of each message into a symmetric binary matrix (bit-packed);
    one-step retrieval keeps the cue units and every unit linked to all cue units
    (threshold = number of known units).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> w = Willshaw(256, 6)
    >>> msgs = w.random_messages(50, rng)
    >>> _ = w.store(msgs)
    >>> cues = msgs.copy(); cues[:, :2] = -1
    >>> res = w.recall(cues)
    >>> bool(w.correct(res, msgs).mean() > 0.9), res.state.shape
    (True, (50, 256))
    >>> bool((res.units()[0] == msgs[0]).all())
    True
    """

    def __init__(self, n: int, k: int):
        self.n = _as_int("n", n, 2)
        self.k = _as_int("k", k, 1, self.n)
        self._nw = (self.n + 63) // 64
        check_memory(f"n={self.n}", 8 * self.n * self._nw)  # the bit-packed weights
        self._bits = np.zeros((self.n, self._nw), np.uint64)
        self.n_stored = 0

    def random_messages(self, count: int, rng: np.random.Generator) -> np.ndarray:
        """``count`` messages of ``k`` distinct uniform units (sorted rows)."""
        count = _as_int("count", count, 0)
        m = np.argsort(rng.random((count, self.n)), axis=1)[:, : self.k]
        m.sort(axis=1)
        return m

    def store(self, messages: Any) -> Willshaw:
        m = _int_array("messages", messages)
        if m.shape[1] != self.k:
            raise ValueError(f"messages must have k={self.k} columns, got shape {m.shape}")
        if m.size and (m.min() < 0 or m.max() >= self.n):
            raise ValueError(f"messages must be unit ids in [0, {self.n})")
        srt = np.sort(m, axis=1)
        if (srt[:, 1:] == srt[:, :-1]).any():
            raise ValueError("messages: the k units of a message must be distinct")
        K.willshaw_store(self._bits, m)
        self.n_stored += m.shape[0]
        return self

    @property
    def density(self) -> float:
        """Fraction of the n(n-1) off-diagonal synapses that are set."""
        return int(np.unpackbits(self._bits.view(np.uint8)).sum()) / (self.n * (self.n - 1))

    def recall(self, cues: Any) -> RecallResult:
        """One-step retrieval from cues (Q, j) of unit ids (-1 padding).

        Returns a :class:`~hebbian.RecallResult` whose ``state`` is the boolean
        activity (Q, n) and whose :meth:`~hebbian.RecallResult.units` are the active
        unit ids.
        """
        c = _int_array("cues", cues)
        if (c >= self.n).any() or (c < -1).any():
            raise ValueError(f"cues must be unit ids in [0, {self.n}) or -1")
        out = np.empty((c.shape[0], self._nw), np.uint64)
        cnt = np.empty(c.shape[0], np.int64)
        K.willshaw_recall(self._bits, c, True, out, cnt)
        act = np.unpackbits(out.view(np.uint8), axis=1, bitorder="little")[:, : self.n]
        act = act.astype(bool)
        Q = act.shape[0]
        return RecallResult(messages=np.where(act, 0, -1).astype(np.int64),
                            n_winners=act.astype(np.int64), iterations=np.ones(Q, np.int64),
                            converged=np.ones(Q, bool), neurons_per_cluster=1, state=act)

    def correct(self, activity: Any, messages: Any) -> np.ndarray:
        """bool (Q,): the retrieved activity (or a recall's result) equals the message."""
        if isinstance(activity, RecallResult):
            activity = activity.state
        act = np.asarray(activity)
        if act.dtype != bool or act.ndim != 2 or act.shape[1] != self.n:
            raise ValueError(f"activity must be a boolean (Q, {self.n}) array (from recall), "
                             f"got {act.dtype} {act.shape}")
        m = _int_array("messages", messages)
        if m.shape[0] != act.shape[0]:
            raise ValueError(f"messages must have one row per activity row ({act.shape[0]}), "
                             f"got shape {m.shape}")
        if m.size and (m.min() < 0 or m.max() >= self.n):
            raise ValueError(f"messages must be unit ids in [0, {self.n})")
        activity = act
        target = np.zeros_like(activity, dtype=bool)
        np.put_along_axis(target, m, True, axis=1)
        return (activity == target).all(axis=1)
