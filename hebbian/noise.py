"""Noise models, driven by a :class:`numpy.random.Generator`.

* :func:`erase` — erase symbols of cues (set them to -1);
* :func:`insert` — spurious units switched on in the known clusters (or anywhere);
* :class:`ReleaseNoise` — annealed synaptic release noise: each connection is
  ``n_syn`` synapses releasing with probability ``p_rel``, so an active presynaptic unit
  gives its target ``Bin(n_syn, p_rel)``, redrawn at every recall step;
* :func:`stuck` — quenched stuck-at faults: a fraction of the synapses stuck at 0 or 1,
  fixed for the network.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import binom

from sim.validate import check_memory, check_probability

__all__ = ["ReleaseNoise", "erase", "insert", "stuck"]


def _count(name: str, v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {v!r}")
    return int(v)


def erase(messages: Any, erased: int, rng: np.random.Generator) -> np.ndarray:
    """Copy of ``messages`` (Q, k) with ``erased`` random non-negative entries per row set to -1.

    For clique messages an entry is a cluster; for sparse messages (unit ids) a unit.

    >>> import numpy as np
    >>> cues = erase(np.arange(8).reshape(2, 4), 2, np.random.default_rng(0))
    >>> (cues == -1).sum(axis=1).tolist()
    [2, 2]
    """
    m = np.array(messages, dtype=np.int64, ndmin=2)
    erased = _count("erased", erased)
    valid = m >= 0
    if erased > valid.sum(axis=1).min(initial=erased):
        raise ValueError(f"erased={erased} exceeds the number of symbols in a message")
    if erased == 0:
        return m
    key = np.where(valid, rng.random(m.shape), 2.0)
    idx = np.argsort(key, axis=1)[:, :erased]
    np.put_along_axis(m, idx, -1, axis=1)
    return m


def insert(
    cues: Any,
    inserted: int,
    neurons_per_cluster: int,
    rng: np.random.Generator,
    *,
    clusters: int | None = None,
    where: str = "known",
) -> np.ndarray:
    """Spurious units (Q, inserted) as global ids, distinct from each other and the cue.

    ``cues`` are clique cues (Q, clusters) of positions (-1 erased).  ``where="known"``
    draws among the non-cue units of the known clusters, ``"erased"`` among
    the units of the erased clusters, ``"any"`` among all non-cue units.

    >>> import numpy as np
    >>> ins = insert([[3, 1, -1]], 2, 4, np.random.default_rng(0))
    >>> ins.shape, bool(((ins // 4) < 2).all())
    ((1, 2), True)
    """
    c = np.array(cues, dtype=np.int64, ndmin=2)
    inserted = _count("inserted", inserted)
    L = _count("neurons_per_cluster", neurons_per_cluster)
    if where not in ("known", "erased", "any"):
        raise ValueError(f"where must be 'known', 'erased' or 'any', got {where!r}")
    Q, C = c.shape
    n = C * L
    if c.size and (c.max() >= L or c.min() < -1):
        raise ValueError(f"cues values must lie in [0, {L}) or be -1")
    if inserted == 0:
        return np.full((Q, 0), -1, np.int64)
    unit_cl = np.arange(n) // L
    known = c >= 0
    cue_units = np.zeros((Q, n + 1), bool)
    cue_units[np.repeat(np.arange(Q), C), np.where(known, c + np.arange(C) * L, n).ravel()] = True
    cue_units = cue_units[:, :n]
    if where == "known":
        ok = known[:, unit_cl] & ~cue_units
    elif where == "erased":
        ok = ~known[:, unit_cl]
    else:
        ok = ~cue_units
    if (ok.sum(axis=1) < inserted).any():
        raise ValueError(f"inserted={inserted} exceeds the units available for insertion")
    key = np.where(ok, rng.random((Q, n)), 2.0)
    return np.sort(np.argpartition(key, inserted - 1, axis=1)[:, :inserted], axis=1)


@dataclass(frozen=True)
class ReleaseNoise:
    """Annealed binomial release noise: ``n_syn`` synapses per connection, each releasing
    with probability ``p_rel``; redrawn for every synapse at every recall step.

    >>> float(ReleaseNoise(n_syn=10, p_rel=0.5).cdf()[-1])
    1.0
    """

    n_syn: int
    p_rel: float

    def __post_init__(self):
        if isinstance(self.n_syn, bool) or not isinstance(self.n_syn, (int, np.integer)) \
                or self.n_syn < 1:
            raise ValueError(f"n_syn must be an integer >= 1, got {self.n_syn!r}")
        check_memory(f"n_syn={self.n_syn}", 24 * (int(self.n_syn) + 1))  # the CDF table
        check_probability("p_rel", self.p_rel)

    def cdf(self) -> np.ndarray:
        """CDF of Bin(n_syn, p_rel) at 0..n_syn (float64, last entry 1)."""
        c = binom.cdf(np.arange(self.n_syn + 1), self.n_syn, self.p_rel)
        c[-1] = 1.0
        return np.ascontiguousarray(c, dtype=np.float64)


def stuck(network: Any, fraction: float, value: int, rng: np.random.Generator) -> Any:
    """Quenched faults: each inter-cluster synapse of ``network`` is independently stuck
    at ``value`` (0 or 1) with probability ``fraction``.  Modifies the network in place
    (through its ``_set_bits`` hook) and returns it.

    >>> import numpy as np
    >>> from hebbian import CliqueNetwork
    >>> net = stuck(CliqueNetwork(4, 8), 1.0, 1, np.random.default_rng(0))
    >>> net.density
    1.0
    """
    f = check_probability("stuck", fraction)
    if value not in (0, 1):
        raise ValueError(f"value (stuck_at) must be 0 or 1, got {value!r}")
    adj = network.adjacency()
    mask = rng.random(adj.shape) < f
    adj = np.where(mask, bool(value), adj)
    network._set_bits(network.pack(adj))
    return network
