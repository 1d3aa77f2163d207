"""Clustered binary associative memories: clique (Gripon–Berrou) and sparse (Aliabadi).

A network has ``clusters`` clusters of ``neurons_per_cluster`` units (``n`` units in
all, global id ``cluster * neurons_per_cluster + position``).  Storing a message sets
the binary synapses between all pairs of its units (a clique).  The adjacency is kept
bit-packed, one bit per directed synapse, inter-cluster blocks only (layout in
:mod:`hebbian._kernels`).  Recall runs Numba kernels with ``prange`` over queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.validate import INT64_MAX, check_generator, check_int, check_int_array, check_memory

from . import _kernels as K
from .noise import ReleaseNoise

__all__ = [
    "CliqueNetwork",
    "RecallResult",
    "SparseCliqueNetwork",
    "from_activity",
    "to_activity",
]

RULES = {"sos": 0, "som": 1}
FILTERS = {"wta": 0, "gwta": 1, "gwsta": 2, "glsko": 3}
#: Safety cap on ``iterations=None`` ("until the state stops changing").
MAX_ITERATIONS = 100


def _as_int(name: str, value: Any, low: int, high: int | None = None) -> int:
    return check_int(name, value, low=low, high=high)


def _int_array(name: str, a: Any, ndim: int = 2) -> np.ndarray:
    # every value kept: a uint64 2**64 - 1 is refused, not read as -1 (erased)
    return check_int_array(name, a, ndim=ndim)


@dataclass(frozen=True)
class RecallResult:
    """What a recall returns.

    Attributes
    ----------
    messages : int64 (Q, clusters)
        Position of the retrieved unit in each cluster, -1 where the cluster is silent
        or stays ambiguous (with ``tie="random"``, ties get a random winner).
    n_winners : int64 (Q, clusters)
        Number of active units of each cluster in the final state.
    iterations : int64 (Q,)
        Steps run (a step that leaves the state unchanged counts).
    converged : bool (Q,)
        Whether a fixed point was reached.  With ``iterations=None`` a ``False`` here
        means the safety cap :data:`MAX_ITERATIONS` was hit (a warning is also raised).
    neurons_per_cluster : int
    state : array or None
        The final state in the model's own form where it has one: Willshaw, the boolean
        activity (Q, n); Hopfield, the ±1 spins (Q, n) (0 where a unit stayed erased).

    Every memory model returns this type.  The unclustered ones are read as clusters:
    a Willshaw memory as ``n`` clusters of one unit (``messages`` 0 where the unit is
    active, -1 where silent, so :meth:`units` lists the active units), a Hopfield
    network as ``n`` clusters of two units (−1 → position 0, +1 → position 1, -1 where
    the spin is 0).
    """

    messages: np.ndarray
    n_winners: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray
    neurons_per_cluster: int
    state: np.ndarray | None = None

    def units(self) -> np.ndarray:
        """Global ids of the retrieved units, (Q, max count) with -1 padding."""
        m = self.messages
        ids = np.where(m >= 0, m + np.arange(m.shape[1]) * self.neurons_per_cluster, -1)
        order = np.argsort(ids < 0, axis=1, kind="stable")
        out = np.take_along_axis(ids, order, axis=1)
        width = int((out >= 0).sum(axis=1).max(initial=0))
        return out[:, :width]

    def ambiguous(self) -> np.ndarray:
        """bool (Q,): some cluster ended with more than one active unit."""
        return (self.n_winners > 1).any(axis=1)


def to_activity(units: Any, n: int) -> np.ndarray:
    """Convert compact unit ids (Q, k) with -1 padding to a boolean activity (Q, n).

    >>> to_activity([[0, 3, -1]], 4).astype(int).tolist()
    [[1, 0, 0, 1]]
    """
    u = _int_array("units", units)
    n = _as_int("n", n, 1)
    if (u >= n).any() or (u < -1).any():
        raise ValueError(f"units must lie in [0, {n}) or be -1 padding")
    out = np.zeros((u.shape[0], n + 1), bool)
    rows = np.repeat(np.arange(u.shape[0]), u.shape[1])
    out[rows, np.where(u < 0, n, u).ravel()] = True
    return out[:, :n]


def from_activity(activity: Any) -> np.ndarray:
    """Convert a boolean activity (Q, n) to unit ids (Q, max active) with -1 padding.

    >>> from_activity([[True, False, False, True]]).tolist()
    [[0, 3]]
    """
    act = np.asarray(activity)
    if act.ndim == 1:
        act = act[None, :]
    if act.ndim != 2 or act.dtype != bool:
        raise ValueError("activity must be a boolean (Q, n) array")
    width = int(act.sum(axis=1).max(initial=0))
    out = np.full((act.shape[0], width), -1, np.int64)
    q, u = np.nonzero(act)
    pos = np.arange(len(q)) - np.searchsorted(q, q)
    out[q, pos] = u
    return out


def clustered_bytes(clusters: int, neurons: int) -> int:
    """Bytes of the bit-packed graph of a clustered (clique or sparse) network: every
    unit's links to each other cluster, one bit per unit (rounded up to 64-bit words).

    >>> clustered_bytes(8, 256)
    458752
    """
    return 8 * clusters * neurons * (clusters - 1) * ((neurons + 63) // 64)


class _Clustered:
    """Shared machinery of the clique and sparse networks (bits, store, recall)."""

    def __init__(self, clusters: int, neurons_per_cluster: int):
        self.clusters = _as_int("clusters", clusters, 2)
        self.neurons_per_cluster = _as_int("neurons_per_cluster", neurons_per_cluster, 1)
        check_memory(f"clusters={self.clusters}, neurons_per_cluster="
                     f"{self.neurons_per_cluster}",
                     clustered_bytes(self.clusters, self.neurons_per_cluster))
        self.n = self.clusters * self.neurons_per_cluster
        self._wl = (self.neurons_per_cluster + 63) // 64
        self._bits = np.zeros((self.n, self.clusters - 1, self._wl), np.uint64)
        self._nbr: np.ndarray | None = None
        self.n_stored = 0

    # ----- protected hook for subclasses (counting / learned networks) -------------
    def _set_bits(self, bits: np.ndarray) -> None:
        """Replace the packed adjacency that recall uses.

        ``bits`` must be ``uint64`` of shape ``(n, clusters - 1, ceil(L / 64))`` in the
        layout of :mod:`hebbian._kernels`: bit ``b`` of ``bits[a, jj, w]`` is the
        synapse from unit ``a`` to position ``64 w + b`` of cluster
        ``jj + (jj >= a // L)``.  Subclasses that keep counts call this with the packed
        view ``counts > 0`` (see :meth:`pack`).
        """
        shape = (self.n, self.clusters - 1, self._wl)
        b = np.asarray(bits)
        if b.dtype != np.uint64 or b.shape != shape:
            raise ValueError(f"bits must be uint64 of shape {shape}, got {b.dtype} {b.shape}")
        self._bits = np.ascontiguousarray(b)
        self._nbr = None

    def pack(self, adjacency: np.ndarray) -> np.ndarray:
        """Pack a dense boolean (n, n) adjacency into the ``_bits`` layout.

        Intra-cluster entries are ignored (they have no place in the layout).
        """
        a = np.asarray(adjacency)
        if a.shape != (self.n, self.n):
            raise ValueError(f"adjacency must have shape {(self.n, self.n)}, got {a.shape}")
        C, L, wl = self.clusters, self.neurons_per_cluster, self._wl
        blocks = a.astype(bool).reshape(self.n, C, L)
        pad = np.zeros((self.n, C, wl * 64), bool)
        pad[:, :, :L] = blocks
        words = np.packbits(pad.reshape(self.n, C, wl, 64), axis=-1, bitorder="little")
        words = words.view(np.uint64).reshape(self.n, C, wl)
        own = np.arange(self.n) // L
        keep = np.ones((self.n, C), bool)
        keep[np.arange(self.n), own] = False
        return np.ascontiguousarray(words[keep].reshape(self.n, C - 1, wl))

    def adjacency(self) -> np.ndarray:
        """Dense boolean (n, n) adjacency (row = presynaptic unit); for comparisons."""
        C, L, wl = self.clusters, self.neurons_per_cluster, self._wl
        bytes_ = self._bits.view(np.uint8).reshape(self.n, C - 1, wl * 8)
        bl = np.unpackbits(bytes_, axis=-1, bitorder="little")[:, :, :L]
        out = np.zeros((self.n, C, L), bool)
        own = np.arange(self.n) // L
        keep = np.ones((self.n, C), bool)
        keep[np.arange(self.n), own] = False
        out[keep] = bl.reshape(-1, L).astype(bool)
        return out.reshape(self.n, self.n)

    @property
    def density(self) -> float:
        """Fraction of inter-cluster synapses that are set."""
        total = self.n * (self.clusters - 1) * self.neurons_per_cluster
        ones = int(np.unpackbits(self._bits.view(np.uint8)).sum())
        return ones / total

    def _store_units(self, units: np.ndarray) -> None:
        K.store_units(self._bits, units, self.neurons_per_cluster)
        self._nbr = None
        self.n_stored += units.shape[0]

    def forget(self, messages: Any) -> None:
        """Not possible on a binary network: always raises :class:`TypeError`.

        A synapse is shared by every stored message that uses it, so clearing the
        edges of one message would damage others, and keeping them forgets nothing.
        Exact deletion needs per-synapse counts: use
        ``hebbian.CountingCliqueNetwork`` (or ``CountingSparseCliqueNetwork``).
        """
        raise TypeError(
            f"{type(self).__name__}.forget: a binary network cannot forget exactly, because "
            "edges are shared between stored messages (clearing them would erase parts of "
            "other messages). Store into hebbian.CountingCliqueNetwork (per-synapse counts) "
            "to delete messages."
        )

    def _neighbours(self) -> np.ndarray:
        if self._nbr is None:
            self._nbr = K.cluster_or(self._bits, self.neurons_per_cluster)
        return self._nbr

    def _insertions(self, insertions: Any, Q: int) -> np.ndarray:
        """Checked (Q, j) spurious unit ids (-1 padding); (Q, 0) for none."""
        if insertions is None:
            return np.full((Q, 0), -1, np.int64)
        ins = _int_array("insertions", insertions)
        if ins.shape[0] != Q:
            raise ValueError(f"insertions must have {Q} rows (one per cue), got {ins.shape[0]}")
        if (ins >= self.n).any() or (ins < -1).any():
            raise ValueError(f"insertions must be unit ids in [0, {self.n}) or -1 padding")
        return ins

    def _run(
        self,
        cues_ids: np.ndarray,
        insertions: Any,
        *,
        rule: str,
        filter: str,
        memory: int,
        iterations: int | None,
        tie: str,
        rng: np.random.Generator | None,
        release: Any,
        fill_mode: int,
        fill: np.ndarray | None,
        allow: np.ndarray | None,
        select: int,
        fast_cues: np.ndarray | None,
    ) -> RecallResult:
        import warnings

        if rule not in RULES:
            raise ValueError(f"rule must be one of {sorted(RULES)}, got {rule!r}")
        if filter not in FILTERS:
            raise ValueError(f"filter must be one of {sorted(FILTERS)}, got {filter!r}")
        if tie not in ("error", "random"):
            raise ValueError(f"tie must be 'error' or 'random', got {tie!r}")
        # int64 bounds: the kernels take these as int64 (and cut memory to what matters)
        gamma = _as_int("memory", memory, 0, INT64_MAX)
        if iterations is None:
            maxit = MAX_ITERATIONS
        else:
            maxit = _as_int("iterations", iterations, 1, INT64_MAX)
        check_generator("rng", rng, allow_none=True)
        if release is not None and not isinstance(release, ReleaseNoise):
            raise TypeError(f"release must be a hebbian.noise.ReleaseNoise or None, "
                            f"got {release!r}")
        Q = cues_ids.shape[0]
        C, L = self.clusters, self.neurons_per_cluster
        ins = self._insertions(insertions, Q)
        use_tie = tie == "random"
        if (use_tie or release is not None) and rng is None:
            raise ValueError("rng: a numpy Generator is needed for tie='random' or release noise")
        tie_u = rng.random((Q, C)) if use_tie else np.zeros((1, 1))
        out_msg = np.empty((Q, C), np.int64)
        out_nwin = np.empty((Q, C), np.int64)
        out_iter = np.zeros(Q, np.int64)
        out_conv = np.zeros(Q, bool)
        fillarr = fill if fill is not None else np.zeros((1, 1), np.uint8)
        allowarr = allow if allow is not None else np.zeros((1, 1), np.uint8)
        r, f = RULES[rule], FILTERS[filter]
        todo = np.arange(Q)
        if release is not None:
            cdf = release.cdf()
            keys = rng.integers(0, 2**63, size=Q, dtype=np.int64).astype(np.uint64)
            K.recall_int(
                self._bits, L, np.ascontiguousarray(cues_ids[:]), ins, fillarr, fill_mode,
                allowarr,
                int(allow is not None), r, f, gamma, select, maxit, tie_u, use_tie,
                release.n_syn, cdf, keys, out_msg, out_nwin, out_iter, out_conv,
            )
            todo = todo[:0]
        elif fast_cues is not None and f == 0 and gamma >= 1 and allow is None:
            flag = np.zeros(Q, np.uint8)
            if r == 0 and maxit == 1 and ins.shape[1] == 0:
                # one step: a fixed point iff the step left the cue unchanged (out_conv)
                K.sos1_fast(
                    self._bits, L, fast_cues, tie_u, use_tie, out_msg, out_nwin, out_conv, flag
                )
                out_iter[:] = 1
                todo = np.flatnonzero(flag)
            elif r == 1 and fill_mode == 1:
                K.som_fast(
                    self._bits, self._neighbours(), L, fast_cues, ins, maxit,
                    iterations is None, tie_u, use_tie,
                    out_msg, out_nwin, out_iter, out_conv, flag,
                )
                todo = np.flatnonzero(flag)
        if len(todo):
            sub = todo if len(todo) < Q else slice(None)
            m = np.empty((len(todo), C), np.int64)
            nw = np.empty((len(todo), C), np.int64)
            it = np.zeros(len(todo), np.int64)
            cv = np.zeros(len(todo), bool)
            K.recall_bitsliced(
                self._bits, L, np.ascontiguousarray(cues_ids[sub]), np.ascontiguousarray(ins[sub]),
                fillarr if fill is None else np.ascontiguousarray(fill[sub]), fill_mode,
                allowarr if allow is None else np.ascontiguousarray(allow[sub]),
                int(allow is not None), r, f, gamma, select, maxit,
                tie_u if not use_tie else np.ascontiguousarray(tie_u[sub]), use_tie,
                m, nw, it, cv,
            )
            out_msg[todo], out_nwin[todo], out_iter[todo], out_conv[todo] = m, nw, it, cv
        if iterations is None and not out_conv.all():
            warnings.warn(
                f"recall: {int((~out_conv).sum())} of {Q} queries hit the safety cap of "
                f"{MAX_ITERATIONS} iterations without converging (see RecallResult.converged)",
                RuntimeWarning,
                stacklevel=3,
            )
        return RecallResult(out_msg, out_nwin, out_iter, out_conv, L)


class _LazyIds:
    """Global ids of clique cues, computed only for the rows a general kernel needs."""

    def __init__(self, cues: np.ndarray, L: int):
        self.cues, self.L = cues, L
        self.shape = cues.shape

    def __getitem__(self, rows):
        c = self.cues[rows]
        return np.where(c >= 0, c + np.arange(c.shape[1]) * self.L, -1)

    def __array__(self, dtype=None, copy=None):
        return self[slice(None)]


class CliqueNetwork(_Clustered):
    """Gripon–Berrou clique network: ``clusters`` clusters of ``neurons_per_cluster`` units.

    A message has one unit per cluster, given as its position in each cluster: an
    integer array (M, clusters) of values in [0, neurons_per_cluster).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> net = CliqueNetwork(8, 32)
    >>> msgs = rng.integers(0, 32, size=(50, 8))
    >>> _ = net.store(msgs)
    >>> cues = msgs.copy(); cues[:, :2] = -1         # erase clusters 0 and 1
    >>> res = net.recall(cues, rule="som", iterations=None)
    >>> bool((res.messages == msgs).all())
    True
    """

    def store(self, messages: Any) -> CliqueNetwork:
        """Store messages (M, clusters) of positions in [0, neurons_per_cluster)."""
        m = _int_array("messages", messages)
        if m.shape[1] != self.clusters:
            raise ValueError(f"messages must have {self.clusters} columns, got shape {m.shape}")
        if m.size and (m.min() < 0 or m.max() >= self.neurons_per_cluster):
            raise ValueError(f"messages values must lie in [0, {self.neurons_per_cluster})")
        self._store_units(m + np.arange(self.clusters) * self.neurons_per_cluster)
        return self

    def cues_from_activity(self, activity: Any) -> tuple[np.ndarray, np.ndarray]:
        """Split a boolean activity (Q, n) into ``(cues, insertions)`` for :meth:`recall`.

        ``cues`` (Q, clusters) holds the lowest active position of each cluster (-1 where
        the cluster is silent); ``insertions`` (Q, j) the global ids of the other active
        units, -1 padding.  Recall starts from the union of both, so recalling from
        them is recalling from ``activity``.  :meth:`cues_to_activity` is the inverse.

        >>> net = CliqueNetwork(3, 4)
        >>> act = net.cues_to_activity([[1, -1, 2]], insertions=[[11]])
        >>> cues, ins = net.cues_from_activity(act)
        >>> cues.tolist(), ins.tolist()
        ([[1, -1, 2]], [[11]])
        """
        act = np.asarray(activity)
        if act.ndim == 1:
            act = act[None, :]
        if act.ndim != 2 or act.dtype != bool or act.shape[1] != self.n:
            raise ValueError(f"activity must be a boolean (Q, {self.n}) array, "
                             f"got {act.dtype} {act.shape}")
        C, L = self.clusters, self.neurons_per_cluster
        blocks = act.reshape(act.shape[0], C, L)
        first = np.where(blocks.any(axis=2), blocks.argmax(axis=2), -1)
        rest = act.copy()
        q, j = np.nonzero(first >= 0)
        rest[q, j * L + first[q, j]] = False
        return first.astype(np.int64), from_activity(rest)

    def cues_to_activity(self, cues: Any, insertions: Any = None) -> np.ndarray:
        """Boolean activity (Q, n) of clique cues (Q, clusters) and optional insertions."""
        c = _int_array("cues", cues)
        if c.shape[1] != self.clusters:
            raise ValueError(f"cues must have {self.clusters} columns, got shape {c.shape}")
        if c.size and (c.max() >= self.neurons_per_cluster or c.min() < -1):
            raise ValueError(f"cues values must lie in [0, {self.neurons_per_cluster}) or be -1")
        ids = np.where(c >= 0, c + np.arange(self.clusters) * self.neurons_per_cluster, -1)
        if insertions is not None:
            ins = _int_array("insertions", insertions)
            if ins.shape[0] != c.shape[0]:
                raise ValueError(f"insertions must have {c.shape[0]} rows, got {ins.shape[0]}")
            if (ins >= self.n).any() or (ins < -1).any():
                raise ValueError(f"insertions must be unit ids in [0, {self.n}) or -1 padding")
            ids = np.concatenate([ids, ins], axis=1)
        return to_activity(ids, self.n)

    @classmethod
    def from_adjacency(
        cls,
        adjacency: np.ndarray,
        clusters: int | None = None,
        neurons_per_cluster: int | None = None,
    ) -> CliqueNetwork:
        """Build a network whose synapses are the inter-cluster entries of ``adjacency``.

        ``adjacency`` is a boolean (n, n) array (row = presynaptic unit).  Give
        ``clusters`` (or ``neurons_per_cluster``); if both are omitted, the cluster size
        is inferred as the largest divisor ``L`` of n whose diagonal L×L blocks are all
        empty (a ValueError if the adjacency is empty).

        >>> import numpy as np
        >>> a = CliqueNetwork(3, 4).store([[0, 1, 2]]).adjacency()
        >>> net = CliqueNetwork.from_adjacency(a)
        >>> (net.clusters, net.neurons_per_cluster, bool((net.adjacency() == a).all()))
        (3, 4, True)
        """
        a = np.asarray(adjacency)
        if a.ndim != 2 or a.shape[0] != a.shape[1]:
            raise ValueError(f"adjacency must be a square (n, n) array, got shape {a.shape}")
        n = a.shape[0]
        a = a.astype(bool)
        if clusters is None and neurons_per_cluster is None:
            if not a.any():
                raise ValueError("adjacency is empty: give clusters= to fix the cluster size")
            L = 0
            for cand in range(n // 2, 0, -1):
                if n % cand:
                    continue
                blocks = a.reshape(n // cand, cand, n // cand, cand)
                idx = np.arange(n // cand)
                if not blocks[idx, :, idx, :].any():
                    L = cand
                    break
            if L == 0:
                raise ValueError("adjacency: cannot infer clusters; give clusters=")
            clusters = n // L
        elif clusters is None:
            L = _as_int("neurons_per_cluster", neurons_per_cluster, 1)
            if n % L:
                raise ValueError(f"neurons_per_cluster={L} does not divide n={n}")
            clusters = n // L
        clusters = _as_int("clusters", clusters, 2)
        if n % clusters:
            raise ValueError(f"clusters={clusters} does not divide n={n}")
        net = cls(clusters, n // clusters)
        net._set_bits(net.pack(a))
        return net

    def recall(
        self,
        cues: Any,
        *,
        insertions: Any = None,
        rule: str = "sos",
        filter: str = "wta",
        memory: int = 1,
        iterations: int | None = 1,
        tie: str = "error",
        rng: np.random.Generator | None = None,
        release: Any = None,
    ) -> RecallResult:
        """Retrieve messages from partial cues.

        Parameters
        ----------
        cues : int array (Q, clusters)
            Positions, -1 for an erased cluster.
        insertions : int array (Q, j), optional
            Global unit ids switched on as well (spurious units), -1 padding.
        rule : {"sos", "som"}
            Sum-of-sum or sum-of-max scores.  SoM starts with every unit of the erased
            clusters active; SoS starts with them silent.
        filter : {"wta", "gwta", "gwsta", "glsko"}
        memory : int
            Self-excitation γ of active units.
        iterations : int or None
            Steps; ``None`` runs until the state stops changing (cap
            :data:`MAX_ITERATIONS`, reported in ``converged`` and by a warning).
        tie : {"error", "random"}
            Leave ambiguous clusters at -1, or pick a random winner (needs ``rng``).
        rng : numpy.random.Generator, optional
        release : hebbian.noise.ReleaseNoise, optional
            Annealed synaptic release noise, redrawn at every step (needs ``rng``).
        """
        c = _int_array("cues", cues)
        if c.shape[1] != self.clusters:
            raise ValueError(f"cues must have {self.clusters} columns, got shape {c.shape}")
        if c.size and (c.max() >= self.neurons_per_cluster or c.min() < -1):
            raise ValueError(f"cues values must lie in [0, {self.neurons_per_cluster}) or be -1")
        ids = _LazyIds(c, self.neurons_per_cluster)
        return self._run(
            ids, insertions, rule=rule, filter=filter, memory=memory,
            iterations=iterations, tie=tie, rng=rng, release=release,
            fill_mode=1 if rule == "som" else 0, fill=None, allow=None,
            select=self.clusters, fast_cues=c,
        )


class SparseCliqueNetwork(_Clustered):
    """Sparse clustered network (Aliabadi et al. 2014): messages use ``active`` clusters.

    Messages and cues are global unit ids (M, k) with at most one unit per cluster and
    -1 padding (``cluster * neurons_per_cluster + position``).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> net = SparseCliqueNetwork(20, 8, 4)
    >>> msgs = net.random_messages(30, rng)
    >>> _ = net.store(msgs)
    >>> cues = msgs.copy(); cues[:, 0] = -1
    >>> res = net.recall(cues, guide=msgs // 8, iterations=4)
    >>> bool((np.sort(res.units(), axis=1) == np.sort(msgs, axis=1)).all())
    True
    """

    def __init__(self, clusters: int, neurons_per_cluster: int, active: int):
        super().__init__(clusters, neurons_per_cluster)
        self.active = _as_int("active", active, 1)
        if self.active > self.clusters:
            raise ValueError(f"active must be <= clusters={self.clusters}, got {self.active}")

    def random_messages(self, count: int, rng: np.random.Generator) -> np.ndarray:
        """``count`` uniform messages: ``active`` distinct clusters, one unit each (sorted)."""
        count = _as_int("count", count, 0)
        if 2 * self.active > self.clusters:
            cl = np.argsort(rng.random((count, self.clusters)), axis=1)[:, : self.active]
            cl.sort(axis=1)
            pos = rng.integers(0, self.neurons_per_cluster, size=cl.shape)
            return cl * self.neurons_per_cluster + pos
        cl = rng.integers(0, self.clusters, size=(count, self.active))
        while True:  # redraw the rows with a repeated cluster
            cl.sort(axis=1)
            bad = np.flatnonzero((cl[:, 1:] == cl[:, :-1]).any(axis=1))
            if len(bad) == 0:
                break
            cl[bad] = rng.integers(0, self.clusters, size=(len(bad), self.active))
        pos = rng.integers(0, self.neurons_per_cluster, size=cl.shape)
        return cl * self.neurons_per_cluster + pos

    def _check_units(self, name: str, u: Any, allow_pad: bool) -> np.ndarray:
        a = _int_array(name, u)
        if (a >= self.n).any() or (a < (-1 if allow_pad else 0)).any():
            pad = " or -1" if allow_pad else ""
            raise ValueError(f"{name} must be unit ids in [0, {self.n}){pad}")
        cl = np.where(a >= 0, a // self.neurons_per_cluster, -1 - np.arange(a.shape[1]))
        s = np.sort(cl, axis=1)
        if (s[:, 1:] == s[:, :-1]).any():
            raise ValueError(f"{name}: at most one unit per cluster")
        return a

    def store(self, messages: Any) -> SparseCliqueNetwork:
        """Store messages: (M, active) global unit ids in distinct clusters."""
        m = self._check_units("messages", messages, allow_pad=False)
        if m.shape[1] != self.active:
            raise ValueError(f"messages must have {self.active} columns, got shape {m.shape}")
        self._store_units(m)
        return self

    def recall(
        self,
        cues: Any,
        *,
        insertions: Any = None,
        guide: Any = None,
        rule: str = "sos",
        filter: str | None = None,
        memory: int = 1,
        iterations: int | None = 1,
        tie: str = "error",
        rng: np.random.Generator | None = None,
        release: Any = None,
    ) -> RecallResult:
        """Retrieve messages from partial cues (Q, k) of global unit ids (-1 padding).

        Blind recall (``guide=None``) uses a global filter, GWsTA by default (keep the
        units scoring at least the ``active``-th largest score) or GLsKO (GWsTA first,
        then repeatedly switch off the active units with the lowest score).  Guided
        recall (``guide``: (Q, active) cluster indices of each message, -1 padding)
        keeps only units of those clusters and uses WTA by default; with SoM the
        guided clusters without a cue unit start fully active.
        """
        c = self._check_units("cues", cues, allow_pad=True)
        Q = c.shape[0]
        allow = fill = None
        fill_mode = 0
        if guide is not None:
            g = _int_array("guide", guide)
            if g.shape[0] != Q:
                raise ValueError(f"guide must have {Q} rows, got {g.shape[0]}")
            if (g >= self.clusters).any() or (g < -1).any():
                raise ValueError(f"guide must hold cluster indices in [0, {self.clusters}) or -1")
            allow = np.zeros((Q, self.clusters + 1), np.uint8)
            rows = np.repeat(np.arange(Q), g.shape[1])
            allow[rows, np.where(g < 0, self.clusters, g).ravel()] = 1
            allow = np.ascontiguousarray(allow[:, :-1])
            cuecl = np.zeros((Q, self.clusters + 1), np.uint8)
            cuecl[np.repeat(np.arange(Q), c.shape[1]),
                  np.where(c < 0, self.clusters, c // self.neurons_per_cluster).ravel()] = 1
            if rule == "som":
                fill = np.ascontiguousarray((allow == 1) & (cuecl[:, :-1] == 0)).astype(np.uint8)
                fill_mode = 2
            filt = "wta" if filter is None else filter
        else:
            if rule == "som":
                raise ValueError("rule='som' needs guide= (blind SoM would start all units on)")
            filt = "gwsta" if filter is None else filter
        return self._run(
            c, insertions, rule=rule, filter=filt, memory=memory, iterations=iterations,
            tie=tie, rng=rng, release=release, fill_mode=fill_mode, fill=fill, allow=allow,
            select=self.active, fast_cues=None,
        )
