"""Plain-NumPy references for the kernels of :mod:`hebbian._kernels` (slow, obvious)."""

from __future__ import annotations

import numpy as np


def ref_store(clusters: int, L: int, units: np.ndarray) -> np.ndarray:
    """Dense boolean adjacency (n, n) of the stored messages (global ids, -1 ignored)."""
    n = clusters * L
    adj = np.zeros((n, n), bool)
    for row in np.asarray(units):
        u = row[row >= 0]
        adj[np.ix_(u, u)] = True
    cl = np.arange(n) // L
    adj[cl[:, None] == cl[None, :]] = False
    return adj


def ref_scores(adj: np.ndarray, act: np.ndarray, L: int, rule: str, gamma: int) -> np.ndarray:
    """Integer scores of every unit for the boolean state ``act`` (n,)."""
    n = adj.shape[0]
    C = n // L
    a = adj.astype(np.int64)
    if rule == "sos":
        s = act.astype(np.int64) @ a
    else:
        s = np.zeros(n, np.int64)
        for k in range(C):
            blk = slice(k * L, (k + 1) * L)
            s += (act[blk].astype(np.int64) @ a[blk]) > 0
    return s + gamma * act


def ref_filter(s, act, L, filt, select, first):
    n = len(s)
    C = n // L
    new = np.zeros(n, bool)
    if filt == "wta":
        for j in range(C):
            blk = s[j * L : (j + 1) * L]
            m = blk.max()
            if m > 0:
                new[j * L : (j + 1) * L] = blk == m
    elif filt == "gwta":
        if s.max() > 0:
            new = s == s.max()
    elif filt == "glsko" and not first:
        if act.any():
            mn, mx = s[act].min(), s[act].max()
            new = act & ((s != mn) | (mn == mx))
    else:
        theta = np.sort(s)[::-1][select - 1]
        new = (s >= theta) & (s > 0)
    return new


def ref_recall(adj, L, cues, ins=None, *, rule="sos", filt="wta", gamma=1, select=None,
               maxit=1, fill=None, allow=None):
    """Recall every query; returns (final states bool (Q, n), iterations, converged).

    cues, ins: global ids (-1 padding); fill: bool (Q, C) clusters started fully
    active; allow: bool (Q, C) clusters kept after each step (guided).
    """
    n = adj.shape[0]
    C = n // L
    Q = len(cues)
    select = C if select is None else select
    states = np.zeros((Q, n), bool)
    iters = np.zeros(Q, int)
    conv = np.zeros(Q, bool)
    for q in range(Q):
        act = np.zeros(n, bool)
        act[cues[q][cues[q] >= 0]] = True
        if fill is not None:
            for j in np.flatnonzero(fill[q]):
                act[j * L : (j + 1) * L] = True
        if ins is not None:
            act[ins[q][ins[q] >= 0]] = True
        for it in range(maxit):
            s = ref_scores(adj, act, L, rule, gamma)
            new = ref_filter(s, act, L, filt, select, it == 0)
            if allow is not None:
                new &= np.repeat(allow[q], L)
            iters[q] = it + 1
            if np.array_equal(new, act):
                conv[q] = True
                break
            act = new
        states[q] = act
    return states, iters, conv


def ref_release_sos1(adj, L, cues, weights):
    """SoS scores with explicit synaptic weights (n, n) ints, one step, for tests."""
    act = np.zeros(adj.shape[0], bool)
    act[cues[cues >= 0]] = True
    return act.astype(np.int64) @ (adj * weights)


def ref_cluster_or(adj: np.ndarray, L: int) -> np.ndarray:
    """(C, n) bool: units reached from any unit of each cluster."""
    C = adj.shape[0] // L
    return np.array([adj[k * L : (k + 1) * L].any(axis=0) for k in range(C)])


def states_to_messages(states: np.ndarray, L: int):
    """(messages, n_winners) per cluster from boolean states (tie -> -1)."""
    Q, n = states.shape
    C = n // L
    st = states.reshape(Q, C, L)
    nw = st.sum(axis=2)
    msg = np.where(nw == 1, st.argmax(axis=2), -1)
    return msg, nw


def ref_willshaw(n: int, messages: np.ndarray, cues: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dense Willshaw adjacency (n, n) and one-step recall (cue units kept) as bool (Q, n)."""
    adj = np.zeros((n, n), bool)
    for row in messages:
        adj[np.ix_(row, row)] = True
    np.fill_diagonal(adj, False)
    out = np.zeros((len(cues), n), bool)
    for q, c in enumerate(cues):
        known = c[c >= 0]
        out[q] = adj[known].all(axis=0) if len(known) else True
        out[q, known] = True
    return adj, out


def ref_release_weights(key: int, step: int, n: int, cdf: np.ndarray) -> np.ndarray:
    """Release weights (n, n) of one recall step, as :func:`hebbian._kernels.recall_int`
    draws them: ``Bin(n_syn, p)`` by inverting ``cdf`` at the splitmix64 hash of
    ``(key, (step * n + a) * n + b)`` (written out here in NumPy)."""
    with np.errstate(over="ignore"):
        a = np.arange(n, dtype=np.uint64)[:, None]
        b = np.arange(n, dtype=np.uint64)[None, :]
        z = np.uint64(key) + ((np.uint64(step) * np.uint64(n) + a) * np.uint64(n) + b) \
            * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    r = (z >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)
    return np.minimum(np.searchsorted(cdf, r, side="right"), len(cdf) - 1)


def ref_release_recall(adj, L, cues, keys, cdf, *, rule="sos", gamma=1, maxit=1,
                       fill=None, anneal=True):
    """SoS/SoM + WTA recall with release weights redrawn at every step (``anneal``) or
    drawn once at step 0 (quenched, for contrast).  Returns final states (Q, n)."""
    n = adj.shape[0]
    C = n // L
    out = np.zeros((len(cues), n), bool)
    for q in range(len(cues)):
        act = np.zeros(n, bool)
        act[cues[q][cues[q] >= 0]] = True
        if fill is not None:
            for j in np.flatnonzero(fill[q]):
                act[j * L : (j + 1) * L] = True
        for it in range(maxit):
            w = adj * ref_release_weights(int(keys[q]), it if anneal else 0, n, cdf)
            if rule == "sos":
                s = act.astype(np.int64) @ w
            else:
                s = np.zeros(n, np.int64)
                for k in range(C):
                    blk = slice(k * L, (k + 1) * L)
                    s += (w[blk] * act[blk, None]).max(axis=0)
            s = s + gamma * act
            new = ref_filter(s, act, L, "wta", C, it == 0)
            if np.array_equal(new, act):
                break
            act = new
        out[q] = act
    return out
