"""Monte Carlo recall error of a Hebbian memory model: :func:`simulate` and the
sampler's run function :func:`run_task` (one code path).

A task (declared parameters, :mod:`hebbian.params`) stores ``messages`` random
messages in a network and queries it ``queries_per_network`` times before a new network
is stored.  Quenched stuck-at faults (``stuck``) are applied to each stored network.
Counts: ``errors`` (queries not retrieved exactly), custom counts ``ambiguous`` (errors
with a cluster left with several winners), ``wrong`` (other errors), ``symbol_errors``
(clusters/units/bits wrong, summed) and, with ``iterations: null``, ``not_converged``
(queries stopped by the safety cap :data:`hebbian.network.MAX_ITERATIONS`).

Under :func:`sim.collect`, network ``i`` of a task is built from
``ctx.rng("network", i)`` (the sweep seed, the task and ``i``), so counts do not depend
on how shots are chunked; networks are cached per process.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping
from typing import Any

import numpy as np
import sinter

from sim import ChunkContext, SimulationResult
from sim.validate import check_int

from . import noise
from .params import MemoryParams

__all__ = ["build_network", "run_task", "simulate"]

#: Stored networks of the tasks being sampled in this process, by (task, index).
NETWORKS: dict[tuple[str, int], tuple[Any, np.ndarray]] = {}


def build_network(params: MemoryParams, rng: np.random.Generator) -> tuple[Any, np.ndarray]:
    """Store the task's messages in a new network and apply its stuck-at faults.

    Returns ``(network, stored messages)``.

    >>> from hebbian.params import CliqueParams
    >>> p = CliqueParams(clusters=4, neurons=8, messages=5, stuck=1.0, stuck_at=1)
    >>> net, msgs = build_network(p, np.random.default_rng(0))
    >>> net.density, msgs.shape
    (1.0, (5, 4))
    """
    net, msgs = params.build(rng)
    if getattr(params, "stuck", 0.0) > 0:
        noise.stuck(net, params.stuck, params.stuck_at, rng)
    return net, np.asarray(msgs)


def _network(params: MemoryParams, index: int, ctx: ChunkContext | None,
             rng: np.random.Generator) -> tuple[Any, np.ndarray]:
    if ctx is None:
        return build_network(params, np.random.default_rng(rng.integers(2**63)))
    key = (ctx.strong_id or params.canonical_json(), index)
    if key not in NETWORKS:
        if len(NETWORKS) >= 2:  # pragma: no mutate
            NETWORKS.pop(next(iter(NETWORKS)))
        NETWORKS[key] = build_network(params, ctx.rng("network", index))
    return NETWORKS[key]


def run_task(params: MemoryParams, shots: int, rng: np.random.Generator,
             ctx: ChunkContext | None = None) -> sinter.AnonTaskStats:
    """Run ``shots`` queries of a declared memory task (the ``hebbian`` sampler's run
    function); ``ctx`` places them in the task's shot sequence (see the module doc)."""
    qpn = params.queries_per_network
    pos = ctx.first_shot if ctx is not None else 0
    end = pos + shots
    tally = Counter({"ambiguous": 0, "wrong": 0, "symbol_errors": 0})
    errors = 0
    while pos < end:
        index = pos // qpn
        take = min(end, (index + 1) * qpn) - pos
        net, msgs = _network(params, index, ctx, rng)
        e, amb, sym, capped = params.query(net, msgs, take, rng)
        errors += e
        if capped:
            tally["not_converged"] += capped
        tally["ambiguous"] += amb
        tally["wrong"] += e - amb
        tally["symbol_errors"] += sym
        pos += take
    return sinter.AnonTaskStats(shots=shots, errors=errors, custom_counts=tally)


def simulate(params: MemoryParams | Mapping[str, Any] | None = None, *, shots: int,
             seed: int | None = None, **fields: Any) -> SimulationResult:
    """Simulate recall of a Hebbian memory and count the queries not retrieved exactly.

    Parameters
    ----------
    params : declared parameters (:class:`hebbian.params.CliqueParams`, …), a dict of
        them, or None with the parameters as keywords (``model="clique"`` by default).
    shots : number of queries.
    seed : seed of the :class:`numpy.random.Generator` (networks and queries).

    Returns
    -------
    sim.SimulationResult
        ``errors_counted="message"``; custom counts ``ambiguous``, ``wrong``,
        ``symbol_errors`` (and ``not_converged``), as the ``hebbian`` sampler's.

    Examples
    --------
    >>> r = simulate(model="clique", clusters=8, neurons=64, messages=200, erased=4,
    ...              shots=500, seed=1)
    >>> r.shots, r.custom_counts["ambiguous"] + r.custom_counts["wrong"] == r.errors
    (500, True)
    >>> simulate(model="willshaw", neurons=64, active=4, messages=10, rule="som",
    ...          shots=1)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: hebbian: unknown parameter(s) ['rule']; expected ['active', 'erased', ...]
    """
    if params is None:
        params = fields
    elif fields:
        raise TypeError("simulate: give the parameters either as params or as keywords")
    p = MemoryParams.from_json(params)
    shots = check_int("shots", shots, low=0)
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    st = run_task(p, shots, rng)
    return SimulationResult.from_anon_stats(st, errors_counted="message",
                                            seconds=time.perf_counter() - t0)

