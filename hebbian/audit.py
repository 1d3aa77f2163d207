"""Membership inference on associative memories: audit of forgetting.

An observer holds partial cues of candidate messages (``known`` of the ``c`` symbols)
and may query the memory.  Two scores per candidate:

``"recall"``
    Recall the erased symbols from the cue (SoS, one step, ties count as failures);
    the score is the number of erased symbols recovered.  Stored messages score high.
``"cue_edges"``
    Number of synapses present between the known units of the cue.  Stored messages
    have all of them; a random message has each with probability ``d`` (the density);
    a message whose edges were cut has none, which the observer can see.

The attack's power is the AUC of a score between two groups (e.g. forgotten versus
never-stored messages).  After exact forgetting (:class:`hebbian.CountingCliqueNetwork`)
both groups are non-members of the same memory, so the AUC is 0.5 up to sampling
noise.  :func:`naive_forget` (deleting a message's edges in a binary network) leaves
a hole and damages other messages; :func:`forgetting_audit` measures both.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .forgetting import CountingCliqueNetwork
from .network import CliqueNetwork

__all__ = ["auc", "forgetting_audit", "membership_scores", "naive_forget"]


def auc(positive: Any, negative: Any) -> tuple[float, float, float]:
    """Mann-Whitney AUC, P(pos > neg) + P(pos == neg)/2, with a 95 % interval.

    The interval uses the Hanley-McNeil standard error (normal approximation),
    clipped to [0, 1].

    >>> auc([3, 4, 5], [0, 1, 2])[0]
    1.0
    >>> auc([1, 1], [1, 1])[0]
    0.5
    """
    p = np.asarray(positive, float).ravel()
    q = np.asarray(negative, float).ravel()
    if p.size == 0 or q.size == 0:
        raise ValueError("positive and negative must both be non-empty")
    allv = np.concatenate([p, q])
    order = np.argsort(allv, kind="mergesort")
    ranks = np.empty(allv.size)
    sv = allv[order]
    # average ranks for ties
    i = 0
    while i < sv.size:
        j = i
        while j + 1 < sv.size and sv[j + 1] == sv[i]:
            j += 1
        ranks[order[i:j + 1]] = 0.5 * (i + j) + 1.0
        i = j + 1
    n1, n2 = p.size, q.size
    a = (ranks[:n1].sum() - n1 * (n1 + 1) / 2) / (n1 * n2)
    q1 = a / (2 - a)
    q2 = 2 * a * a / (1 + a)
    var = (a * (1 - a) + (n1 - 1) * (q1 - a * a) + (n2 - 1) * (q2 - a * a)) / (n1 * n2)
    # at a = 0 or 1 the formula gives 0: use the variance at 0.5 scaled (never 0 wide)
    var = max(var, 1.0 / (4 * n1 * n2))
    half = 1.959963984540054 * math.sqrt(var)
    return float(a), float(max(0.0, a - half)), float(min(1.0, a + half))


def membership_scores(
    net: CliqueNetwork,
    messages: Any,
    *,
    known: int,
    rng: np.random.Generator,
    score: str = "recall",
) -> np.ndarray:
    """Membership score of each message (M, C) from a partial cue of ``known`` symbols.

    See the module docstring for ``score`` (``"recall"`` or ``"cue_edges"``).  The cue
    keeps ``known`` clusters chosen at random per message.
    """
    m = np.asarray(messages, np.int64)
    if m.ndim != 2 or m.shape[1] != net.clusters:
        raise ValueError(f"messages must have shape (M, {net.clusters}), got {m.shape}")
    C, L = net.clusters, net.neurons_per_cluster
    if isinstance(known, bool) or not isinstance(known, (int, np.integer)) or not 1 <= known < C:
        raise ValueError(f"known must be an integer in [1, {C - 1}], got {known!r}")
    keep = np.argsort(rng.random(m.shape), axis=1)[:, :known]
    mask = np.zeros(m.shape, bool)
    np.put_along_axis(mask, keep, True, axis=1)
    cues = np.where(mask, m, -1)
    if score == "recall":
        res = net.recall(cues, rule="sos", iterations=1)
        return ((res.messages == m) & ~mask).sum(axis=1).astype(float)
    if score == "cue_edges":
        adj = net.adjacency()
        units = m + np.arange(C) * L
        ku = np.sort(np.where(mask, units, -1), axis=1)[:, -known:]
        a = ku[:, :, None]
        b = ku[:, None, :]
        present = adj[a, b] & (a != b)
        return present.sum(axis=(1, 2)).astype(float) / 2.0
    raise ValueError(f"score must be 'recall' or 'cue_edges', got {score!r}")


def naive_forget(net: CliqueNetwork, messages: Any) -> CliqueNetwork:
    """A copy of a binary ``net`` with every edge of ``messages`` deleted.

    This is what a binary memory can do to "forget": it also cuts the edges that the
    remaining messages share with the deleted ones.
    """
    m = np.asarray(messages, np.int64)
    if m.ndim != 2 or m.shape[1] != net.clusters:
        raise ValueError(f"messages must have shape (M, {net.clusters}), got {m.shape}")
    adj = net.adjacency()
    units = m + np.arange(net.clusters) * net.neurons_per_cluster
    adj[units[:, :, None], units[:, None, :]] = False
    out = CliqueNetwork(net.clusters, net.neurons_per_cluster)
    out._set_bits(out.pack(adj))
    return out


def _error(net: CliqueNetwork, msgs: np.ndarray, erased: int, rng: np.random.Generator
           ) -> np.ndarray:
    cues = msgs.copy()
    er = np.argsort(rng.random(cues.shape), axis=1)[:, :erased]
    np.put_along_axis(cues, er, -1, axis=1)
    res = net.recall(cues, rule="som", iterations=10)
    return (res.messages != msgs).any(axis=1)


def forgetting_audit(
    clusters: int,
    neurons_per_cluster: int,
    stored: int,
    forgotten: int,
    *,
    controls: int | None = None,
    known: int | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Store ``stored`` random messages, forget ``forgotten`` of them, and audit.

    Returns a dict with, for ``exact`` (counting network) and ``naive`` (binary network,
    edges deleted): the attack AUC (with 95 % interval) of forgotten vs never-stored
    messages for both scores, the recall error (SoM, iterated, ``C - known`` erased) of
    the remaining messages, and the number of edges of remaining messages lost.  Also
    ``identical`` (exact view == never-stored network) and ``member_auc`` (stored vs
    never-stored before forgetting: the attack works).
    """
    C, L = clusters, neurons_per_cluster
    controls = forgotten if controls is None else controls
    known = C // 2 if known is None else known
    rng = np.random.default_rng(seed)
    msgs = rng.integers(0, L, size=(stored, C))
    never = rng.integers(0, L, size=(controls, C))
    gone, kept = msgs[:forgotten], msgs[forgotten:]

    counting = CountingCliqueNetwork(C, L, dtype="uint16").store(msgs)
    binary = CliqueNetwork(C, L).store(msgs)
    reference = CliqueNetwork(C, L).store(kept)
    out: dict[str, Any] = {"density_before": binary.density}
    for s in ("recall", "cue_edges"):
        r = np.random.default_rng([seed, 1])
        out[f"member_auc_{s}"] = auc(membership_scores(binary, gone, known=known, rng=r, score=s),
                                     membership_scores(binary, never, known=known, rng=r,
                                                       score=s))
    counting.forget(gone)
    naive = naive_forget(binary, gone)
    out["identical"] = bool((counting.adjacency() == reference.adjacency()).all())
    ref_adj = reference.adjacency()
    for name, net in (("exact", counting), ("naive", naive)):
        res: dict[str, Any] = {}
        for s in ("recall", "cue_edges"):
            r = np.random.default_rng([seed, 2])
            res[f"auc_{s}"] = auc(membership_scores(net, gone, known=known, rng=r, score=s),
                                  membership_scores(net, never, known=known, rng=r, score=s))
        e = _error(net, kept, C - known, np.random.default_rng([seed, 3]))
        res["kept_error"] = float(e.mean())
        res["kept_error_reference"] = float(
            _error(reference, kept, C - known, np.random.default_rng([seed, 3])).mean())
        res["lost_edges"] = int((ref_adj & ~net.adjacency()).sum())
        res["extra_edges"] = int((net.adjacency() & ~ref_adj).sum())
        out[name] = res
    return out
