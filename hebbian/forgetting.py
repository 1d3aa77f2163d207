"""Exact forgetting: clique memories whose synapses hold counts.

A binary clique memory cannot delete a stored message: each synapse is the OR of every
stored message that uses it, so clearing a message's edges also cuts edges that other
messages share (see :meth:`hebbian.CliqueNetwork.forget`).  Here each directed synapse
holds the number of stored messages that use it (``uint8`` or ``uint16``).  Storing adds
one to the count of every pair of the message, :meth:`forget` subtracts one, and the
binary view used by recall is ``counts > 0``: it is bit-for-bit the network that never
stored the forgotten messages, and recall runs the clique kernels unchanged (the packed
bits are handed to the base class through its ``_set_bits`` hook, no copy).

A ledger (multiset of the stored messages) makes forgetting auditable: forgetting a
message that is not stored raises instead of corrupting the counts.  Count overflow
raises :class:`OverflowError` and leaves the network unchanged.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from . import _recurrent_kernels as RK
from .network import CliqueNetwork, SparseCliqueNetwork, _int_array

__all__ = ["CountingCliqueNetwork", "CountingSparseCliqueNetwork"]

_DTYPES = {"uint8": np.uint8, "uint16": np.uint16}


class _Counting:
    """Counts, ledger, store/forget shared by the clique and sparse counting networks."""

    # attributes provided by the binary base classes
    n: int
    clusters: int
    neurons_per_cluster: int
    n_stored: int
    _bits: np.ndarray
    _nbr: Any

    def _init_counts(self, dtype: Any) -> None:
        key = np.dtype(dtype).name if not isinstance(dtype, str) else dtype
        if key not in _DTYPES:
            raise ValueError(f"dtype must be 'uint8' or 'uint16', got {dtype!r}")
        self.dtype = np.dtype(_DTYPES[key])
        self.counts = np.zeros((self.n, self.clusters - 1, self.neurons_per_cluster),
                               self.dtype)
        self._ledger: Counter[tuple[int, ...]] = Counter()

    # ----- shared machinery (subclasses define ``_messages_to_units``) ----------
    def _refresh(self, units: np.ndarray) -> None:
        rows = np.unique(units[units >= 0]).astype(np.int64)
        RK.pack_rows(self.counts, rows, self._bits)
        self._set_bits(self._bits)  # type: ignore[attr-defined]

    @staticmethod
    def _keys(units: np.ndarray) -> list[tuple[int, ...]]:
        s = np.sort(units, axis=1)
        return [tuple(int(x) for x in row if x >= 0) for row in s]

    def _store_units(self, units: np.ndarray) -> None:
        units = np.ascontiguousarray(units, np.int64)
        maxval = int(np.iinfo(self.dtype).max)
        bad = RK.count_update(self.counts, units, self.neurons_per_cluster, 1, maxval)
        if bad >= 0:
            raise OverflowError(
                f"store: synapse count would exceed {maxval} (dtype {self.dtype.name}) at "
                f"message {bad} of this call; nothing from this call was stored. Use "
                "dtype='uint16' for more repeated synapses."
            )
        self._refresh(units)
        self._ledger.update(self._keys(units))
        self.n_stored += units.shape[0]

    # ----- public --------------------------------------------------------------
    def forget(self, messages: Any) -> Any:
        """Remove stored messages exactly (same format as ``store``); returns ``self``.

        Afterwards :meth:`adjacency` equals that of a network that never stored them.
        Raises ``ValueError`` (and changes nothing) if a message is not currently stored
        as many times as it is listed.
        """
        units = self._messages_to_units(messages)  # type: ignore[attr-defined]
        keys = self._keys(units)
        need = Counter(keys)
        for i, k in enumerate(keys):
            if self._ledger[k] < need[k]:
                raise ValueError(
                    f"messages: row {i} is not stored (or is listed more times than it was "
                    "stored); nothing was forgotten"
                )
        maxval = int(np.iinfo(self.dtype).max)
        bad = RK.count_update(self.counts, units, self.neurons_per_cluster, -1, maxval)
        if bad >= 0:
            raise RuntimeError("forget: synapse counts inconsistent with the ledger "
                               f"(message {bad}); the counts were modified outside store/forget")
        self._refresh(units)
        self._ledger.subtract(need)
        self._ledger += Counter()  # drop zero entries
        self.n_stored -= units.shape[0]
        return self

    def is_stored(self, messages: Any) -> np.ndarray:
        """bool (M,): whether each message is currently stored (ledger lookup)."""
        units = self._messages_to_units(messages)  # type: ignore[attr-defined]
        return np.array([self._ledger[k] > 0 for k in self._keys(units)], bool)

    def memory_bytes(self) -> dict[str, int]:
        """Bytes of the counts and of the packed bits (the binary view)."""
        return {"counts": int(self.counts.nbytes), "bits": int(self._bits.nbytes)}

    @classmethod
    def from_adjacency(cls, *args: Any, **kwargs: Any) -> Any:
        """Not available: an adjacency has no counts (store the messages instead)."""
        raise TypeError(f"{cls.__name__}.from_adjacency: an adjacency carries no synapse "
                        "counts; build the network by storing messages")


class CountingCliqueNetwork(_Counting, CliqueNetwork):
    """Clique network whose synapses count the stored messages using them.

    Parameters
    ----------
    clusters, neurons_per_cluster : int
    dtype : {"uint8", "uint16"}
        Counter width (at most 255 or 65535 messages per directed synapse).

    Examples
    --------
    >>> import numpy as np
    >>> from hebbian import CliqueNetwork
    >>> rng = np.random.default_rng(0)
    >>> msgs = rng.integers(0, 16, size=(40, 4))
    >>> net = CountingCliqueNetwork(4, 16).store(msgs)
    >>> _ = net.forget(msgs[:10])
    >>> ref = CliqueNetwork(4, 16).store(msgs[10:])
    >>> bool((net.adjacency() == ref.adjacency()).all())
    True
    """

    def __init__(self, clusters: int, neurons_per_cluster: int, *, dtype: str = "uint8"):
        CliqueNetwork.__init__(self, clusters, neurons_per_cluster)
        self._init_counts(dtype)

    def _messages_to_units(self, messages: Any) -> np.ndarray:
        m = _int_array("messages", messages)
        if m.shape[1] != self.clusters:
            raise ValueError(f"messages must have {self.clusters} columns, got shape {m.shape}")
        if m.size and (m.min() < 0 or m.max() >= self.neurons_per_cluster):
            raise ValueError(f"messages values must lie in [0, {self.neurons_per_cluster})")
        return np.ascontiguousarray(m + np.arange(self.clusters) * self.neurons_per_cluster)


class CountingSparseCliqueNetwork(_Counting, SparseCliqueNetwork):
    """Sparse clustered network (Aliabadi) with counting synapses; see
    :class:`CountingCliqueNetwork`.  Messages are (M, active) global unit ids.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> net = CountingSparseCliqueNetwork(10, 8, 3)
    >>> msgs = net.random_messages(20, rng)
    >>> _ = net.store(msgs).forget(msgs[:5])
    >>> net.is_stored(msgs[:6]).tolist()
    [False, False, False, False, False, True]
    """

    def __init__(self, clusters: int, neurons_per_cluster: int, active: int, *,
                 dtype: str = "uint8"):
        SparseCliqueNetwork.__init__(self, clusters, neurons_per_cluster, active)
        self._init_counts(dtype)

    def _messages_to_units(self, messages: Any) -> np.ndarray:
        m = self._check_units("messages", messages, allow_pad=False)
        if m.shape[1] != self.active:
            raise ValueError(f"messages must have {self.active} columns, got shape {m.shape}")
        return np.ascontiguousarray(m)
