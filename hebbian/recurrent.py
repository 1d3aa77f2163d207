"""Recurrent Hebbian network that grows a clique memory from (noisy) presentations.

Rebuilt from Coyac, Gripon, Langlais & Berrou (arXiv:1709.08367) and the first author's
simulator (see docs/science/memories.md).  Units start with no links; links are real weights in
[0, 1].  Each message is shown for ``steps`` steps (T = 60).  One step: potentials from
the active units plus a memory term, a drive on the presented units, winner-take-all
per cluster, the energy limit (at most ``active`` units), then consolidated Hebbian
learning (``w += epsilon`` for co-active pairs, then ``w <- sigma(w)`` with the bistable
``sigma(w) = (1 + tanh(tan(pi (w - 1/2)))) / 2`` on the links leaving active units,
clipped to [0, 1], near-zero links removed).  From ``w = 0`` a link needs 54 consecutive
co-activations to reach 1; a link at 1 stays there, a link below 1/2 decays.

The learned weights binarize (``w >= 0.8``) into a :class:`hebbian.CliqueNetwork`, so
every retrieval rule of the clique memory runs on them unchanged.  The network also
recalls with its own dynamics (:meth:`RecurrentHebbian.recall`), optionally with
plasticity switched on during recall as in the published runs.

Kernels: :mod:`hebbian._recurrent_kernels`; NumPy reference:
``tests/hebbian/reference_recurrent.py``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.validate import INT64_MAX, check_float, check_int, check_memory, check_probability

from . import _recurrent_kernels as RK
from .network import CliqueNetwork, RecallResult

__all__ = [
    "LearnedCliqueNetwork",
    "RecurrentHebbian",
    "edge_metrics",
    "emergence_curve",
    "ideal_adjacency",
    "load_curve",
]

#: Messages per kernel call (bounds the size of the pre-drawn noise arrays).
CHUNK = 1024


def ideal_adjacency(messages: Any, clusters: int, neurons_per_cluster: int) -> np.ndarray:
    """Boolean (n, n) adjacency of the ideal clique memory of ``messages``.

    >>> ideal_adjacency([[0, 1]], 2, 2).astype(int).tolist()
    [[0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0], [1, 0, 0, 0]]
    """
    return CliqueNetwork(clusters, neurons_per_cluster).store(messages).adjacency()


def edge_metrics(learned: Any, ideal: Any, neurons_per_cluster: int) -> dict[str, float]:
    """Edge precision, recall and densities of a learned adjacency against the ideal one.

    Both are boolean (n, n) arrays (row = presynaptic unit); only inter-cluster directed
    entries count.  Precision is 1 and recall is 1 for an empty ideal/learned graph.

    >>> a = ideal_adjacency([[0, 1, 1]], 3, 2)
    >>> m = edge_metrics(a, a, 2)
    >>> (m["precision"], m["recall"], m["edges"])
    (1.0, 1.0, 6.0)
    """
    a = np.asarray(learned, bool)
    b = np.asarray(ideal, bool)
    if a.shape != b.shape or a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"learned and ideal must be square arrays of one shape, got "
                         f"{a.shape} and {b.shape}")
    n = a.shape[0]
    L = check_int("neurons_per_cluster", neurons_per_cluster, low=1, high=INT64_MAX)
    cl = np.arange(n) // L
    inter = cl[:, None] != cl[None, :]
    a = a & inter
    b = b & inter
    tp = float((a & b).sum())
    na, nb = float(a.sum()), float(b.sum())
    total = float(inter.sum())
    return {
        "precision": tp / na if na else 1.0,
        "recall": tp / nb if nb else 1.0,
        "density": na / total,
        "ideal_density": nb / total,
        "edges": na,
        "ideal_edges": nb,
        "true_edges": tp,
    }


class RecurrentHebbian:
    """Recurrent network with consolidated Hebbian learning (Coyac et al. 2017).

    Parameters
    ----------
    clusters, neurons_per_cluster : int
        ``C`` clusters of ``L`` units; messages are (M, C) arrays of positions in [0, L).
    active : int, optional
        Energy limit: at most this many active units per step (default ``clusters``).
    steps : int
        Steps per presentation, T (default 60).
    epsilon : float
        Hebbian increment per co-activation (default 0.141).
    drive : float, optional
        Input drive on presented units (default ``active``, i.e. +c).
    memory : float
        Self-excitation of the units active at the previous step (default 1).
    p_erase, p_insert, p_spont : float
        Presentation noise: each presented unit is erased with probability ``p_erase``;
        each cluster left silent by the erasures gets a random unit (drive included) with
        probability ``p_insert``; at every step each silent cluster lights a random unit
        with probability ``p_spont``.  Used by :meth:`learn` only.
    release : hebbian.noise.ReleaseNoise, optional
        Synaptic release noise (``n_syn`` synapses releasing with ``p_rel``), in learning
        and recall.
    plastic_recall : bool
        Keep learning on during :meth:`recall` (default ``False``; ``True`` as in the
        published runs).
    completion : bool
        If ``False``, only presented (or spontaneously lit) units may fire during
        :meth:`learn`: the network does not complete erased units while learning.
    prune : float
        Links that fall below this after consolidation are removed (default 1e-4).
    energy : {"clusters", "units"}
        Energy limit: keep the ``active`` strongest clusters, each with its tied winners
        (default; at most ``active`` units whenever winners are unique), or keep at most
        ``active`` units (ties at the cut broken at random).
    seed : int or numpy.random.Generator, optional
        Source of the presentation noise and of the tie-break/release hash keys.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> msgs = rng.integers(0, 64, size=(30, 4))
    >>> net = RecurrentHebbian(4, 64, seed=1).learn(msgs)
    >>> bool((net.adjacency() == ideal_adjacency(msgs, 4, 64)).all())
    True
    >>> cues = msgs.copy(); cues[:, :2] = -1
    >>> res = net.binarize().recall(cues, rule="som", iterations=None)
    >>> float((res.messages == msgs).all(axis=1).mean())
    1.0
    >>> bool((net.recall(cues).messages == msgs).all())
    True
    """

    def __init__(
        self,
        clusters: int,
        neurons_per_cluster: int,
        *,
        active: int | None = None,
        steps: int = 60,
        epsilon: float = 0.141,
        drive: float | None = None,
        memory: float = 1.0,
        p_erase: float = 0.0,
        p_insert: float = 0.0,
        p_spont: float = 0.0,
        release: Any = None,
        plastic_recall: bool = False,
        completion: bool = True,
        prune: float = 1e-4,
        energy: str = "clusters",
        seed: int | np.random.Generator | None = None,
    ):
        self.clusters = check_int("clusters", clusters, low=2, high=INT64_MAX)
        self.neurons_per_cluster = check_int("neurons_per_cluster", neurons_per_cluster,
                                             low=1, high=INT64_MAX)
        self.n = self.clusters * self.neurons_per_cluster
        self.active = (self.clusters if active is None
                       else check_int("active", active, low=1, high=INT64_MAX))
        if self.active > self.clusters:
            raise ValueError(f"active must be <= clusters={self.clusters}, got {self.active}")
        self.steps = check_int("steps", steps, low=1, high=INT64_MAX)
        self.epsilon = check_probability("epsilon", epsilon)
        self.drive = (float(self.active) if drive is None
                      else check_float("drive", drive, low=0))
        self.memory = check_float("memory", memory, low=0)
        self.p_erase = check_probability("p_erase", p_erase)
        self.p_insert = check_probability("p_insert", p_insert)
        self.p_spont = check_probability("p_spont", p_spont)
        if release is not None and not (hasattr(release, "n_syn") and hasattr(release, "p_rel")):
            raise TypeError("release must be a hebbian.noise.ReleaseNoise (n_syn, p_rel)")
        if release is not None:
            check_int("release.n_syn", release.n_syn, low=1, high=INT64_MAX)
        if release is not None and not 0.0 < float(release.p_rel) <= 1.0:
            raise ValueError(f"release.p_rel must lie in (0, 1], got {release.p_rel}")
        self.release = release
        if not isinstance(plastic_recall, (bool, np.bool_)):
            raise TypeError(f"plastic_recall must be a bool, got {plastic_recall!r}")
        self.plastic_recall = bool(plastic_recall)
        if not isinstance(completion, (bool, np.bool_)):
            raise TypeError(f"completion must be a bool, got {completion!r}")
        self.completion = bool(completion)
        self.prune = check_probability("prune", prune)
        if energy not in ("clusters", "units"):
            raise ValueError(f"energy must be 'clusters' or 'units', got {energy!r}")
        self.energy = energy
        if seed is not None and not isinstance(seed, (int, np.integer, np.random.Generator)):
            raise TypeError(f"seed must be an int or a numpy Generator, got {seed!r}")
        self._rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        check_memory(f"clusters={self.clusters}, neurons={self.neurons_per_cluster}",
                     4 * self.n**2)  # the float32 weights
        self.weights = np.zeros((self.n, self.n), np.float32)
        self.presentations = 0
        self._step = 0

    # ------------------------------------------------------------------ helpers
    def _check_messages(self, name: str, messages: Any, allow_erased: bool) -> np.ndarray:
        m = np.asarray(messages)
        if m.dtype == bool or not (np.issubdtype(m.dtype, np.integer) or m.size == 0):
            raise TypeError(f"{name} must be an integer array, got dtype {m.dtype}")
        if m.ndim == 1:
            m = m[None, :]
        if m.ndim != 2 or m.shape[1] != self.clusters:
            raise ValueError(f"{name} must have shape (M, {self.clusters}), got {m.shape}")
        low = -1 if allow_erased else 0
        if m.size and (m.min() < low or m.max() >= self.neurons_per_cluster):
            extra = " or be -1" if allow_erased else ""
            raise ValueError(f"{name} values must lie in [0, {self.neurons_per_cluster}){extra}")
        return np.ascontiguousarray(m, np.int64)

    def _global(self, pos: np.ndarray) -> np.ndarray:
        off = np.arange(self.clusters, dtype=np.int64) * self.neurons_per_cluster
        return np.where(pos >= 0, pos + off, -1)

    def _release_args(self) -> tuple[int, float]:
        if self.release is None:
            return 0, 1.0
        return int(self.release.n_syn), float(self.release.p_rel)

    def _run(self, inputs: np.ndarray, spont: np.ndarray, *, plastic: bool, stable: int,
             steps: int, clamp: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        M = inputs.shape[0]
        out_m = np.empty((M, self.clusters), np.int64)
        out_w = np.empty((M, self.clusters), np.int64)
        out_s = np.empty(M, np.int64)
        n_syn, p_rel = self._release_args()
        seed = np.uint64(self._rng.integers(0, 2**63, dtype=np.int64))
        RK.present(
            self.weights, self.neurons_per_cluster, np.ascontiguousarray(inputs), spont,
            self.drive, self.memory, self.epsilon, steps, self.active,
            self.energy == "clusters", plastic, clamp, stable, self.prune, seed, self._step,
            n_syn, p_rel, out_m, out_w, out_s,
        )
        self._step += M * steps
        return out_m, out_w, out_s

    # ------------------------------------------------------------------ learning
    def presentation_inputs(self, messages: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Driven units (M, C) of one noisy presentation of ``messages`` (global ids, -1)."""
        C, L = self.clusters, self.neurons_per_cluster
        units = self._global(messages)
        if self.p_erase > 0:
            erased = rng.random(units.shape) < self.p_erase
            units = np.where(erased, -1, units)
            if self.p_insert > 0:
                ins = erased & (rng.random(units.shape) < self.p_insert)
                pos = rng.integers(0, L, size=units.shape)
                units = np.where(ins, pos + np.arange(C) * L, units)
        return np.ascontiguousarray(units, np.int64)

    def learn(self, messages: Any, *, rounds: int = 1) -> RecurrentHebbian:
        """Present each message of ``messages`` (M, C) in turn for ``steps`` steps.

        ``rounds`` repeats the whole sequence (a fresh noisy presentation each time).
        Returns ``self``.
        """
        m = self._check_messages("messages", messages, allow_erased=False)
        rounds = check_int("rounds", rounds, low=1, high=INT64_MAX)
        C, L, T = self.clusters, self.neurons_per_cluster, self.steps
        for _ in range(rounds):
            for start in range(0, m.shape[0], CHUNK):
                chunk = m[start:start + CHUNK]
                inputs = self.presentation_inputs(chunk, self._rng)
                if self.p_spont > 0:
                    lit = self._rng.random((len(chunk), T, C)) < self.p_spont
                    pos = self._rng.integers(0, L, size=lit.shape)
                    spont = np.ascontiguousarray(np.where(lit, pos, -1), np.int64)
                else:
                    spont = np.zeros((0, 1, 1), np.int64)
                self._run(inputs, spont, plastic=True, stable=0, steps=T,
                          clamp=not self.completion)
                self.presentations += len(chunk)
        return self

    # ------------------------------------------------------------------ recall
    def recall(
        self,
        cues: Any,
        *,
        max_steps: int = 100,
        stable: int = 3,
        plastic: bool | None = None,
    ) -> RecallResult:
        """Complete partial cues (Q, C) (-1 = erased) with the network's own dynamics.

        The known units are driven; the state evolves until ``stable`` successive states
        are identical or ``max_steps`` steps have run.  With ``plastic`` (default
        ``plastic_recall``) learning stays on, so recall changes :attr:`weights`.
        Returns a :class:`hebbian.RecallResult` (``messages`` = the single active unit of
        each cluster, -1 if silent or ambiguous; ``converged`` = stopped before
        ``max_steps``).
        """
        c = self._check_messages("cues", cues, allow_erased=True)
        max_steps = check_int("max_steps", max_steps, low=1, high=INT64_MAX)
        stable = check_int("stable", stable, low=1, high=INT64_MAX)
        plastic = self.plastic_recall if plastic is None else plastic
        if not isinstance(plastic, (bool, np.bool_)):
            raise TypeError(f"plastic must be a bool, got {plastic!r}")
        inputs = self._global(c)
        msg, nwin, nsteps = self._run(inputs, np.zeros((0, 1, 1), np.int64),
                                      plastic=bool(plastic), stable=stable, steps=max_steps)
        converged = nsteps < max_steps
        return RecallResult(msg, nwin, nsteps, converged, self.neurons_per_cluster)

    # ------------------------------------------------------------------ views
    def adjacency(self, threshold: float = 0.8) -> np.ndarray:
        """Boolean (n, n) learned graph: links with weight >= ``threshold``."""
        return self.weights >= check_probability("threshold", threshold)

    def binarize(self, threshold: float = 0.8) -> CliqueNetwork:
        """A :class:`hebbian.CliqueNetwork` holding the learned binary adjacency.

        Its recall runs the clique network's kernels unchanged (all rules and filters).
        """
        net = CliqueNetwork(self.clusters, self.neurons_per_cluster)
        net._set_bits(net.pack(self.adjacency(threshold)))
        return net

    def density(self, threshold: float = 0.8) -> float:
        """Fraction of inter-cluster links with weight >= ``threshold``."""
        L = self.neurons_per_cluster
        total = self.n * (self.clusters - 1) * L
        return float(self.adjacency(threshold).sum()) / total

    def edge_metrics(self, messages: Any, threshold: float = 0.8) -> dict[str, float]:
        """:func:`edge_metrics` of the learned graph against the cliques of ``messages``."""
        m = self._check_messages("messages", messages, allow_erased=False)
        ideal = ideal_adjacency(m, self.clusters, self.neurons_per_cluster)
        return edge_metrics(self.adjacency(threshold), ideal, self.neurons_per_cluster)

    @classmethod
    def from_adjacency(cls, adjacency: Any, clusters: int, **kwargs: Any) -> RecurrentHebbian:
        """A network whose weights are the 0/1 entries of ``adjacency`` (n, n).

        Useful to run the recurrent recall on the ideal clique memory.
        """
        a = np.asarray(adjacency)
        if a.ndim != 2 or a.shape[0] != a.shape[1]:
            raise ValueError(f"adjacency must be a square (n, n) array, got {a.shape}")
        clusters = check_int("clusters", clusters, low=2, high=INT64_MAX)
        if a.shape[0] % clusters:
            raise ValueError(f"clusters={clusters} does not divide n={a.shape[0]}")
        net = cls(clusters, a.shape[0] // clusters, **kwargs)
        L = net.neurons_per_cluster
        cl = np.arange(net.n) // L
        net.weights[:] = (a.astype(bool) & (cl[:, None] != cl[None, :])).astype(np.float32)
        return net


# ---------------------------------------------------------------------- experiments
def _erase(msgs: np.ndarray, erased: int, rng: np.random.Generator) -> np.ndarray:
    cues = msgs.copy()
    er = np.argsort(rng.random(cues.shape), axis=1)[:, :erased]
    np.put_along_axis(cues, er, -1, axis=1)
    return cues


def load_curve(
    clusters: int,
    neurons_per_cluster: int,
    loads: Any,
    *,
    erased: int,
    queries: int,
    networks: int = 1,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """Retrieval error vs load, learned vs ideal clique network (recurrent recall).

    For each load M and each of ``networks`` networks: draw M random messages, learn
    them (clean input, T = 60), then recall ``queries`` stored messages with ``erased``
    clusters erased using the recurrent dynamics on (a) the learned network with
    ``plastic_recall=False``, (b) the learned network with ``plastic_recall=True`` and
    (c) the ideal clique network (0/1 weights, no plasticity).  Returns one row per
    (M, network, variant) with ``errors``, ``shots``, ``learn_seconds`` and ``exact``
    (learned graph == ideal graph).
    """
    import time

    C, L = int(clusters), int(neurons_per_cluster)
    rows: list[dict[str, Any]] = []
    for M in loads:
        M = int(M)
        for i in range(int(networks)):
            rng = np.random.default_rng([seed, M, i])
            msgs = rng.integers(0, L, size=(M, C))
            t0 = time.perf_counter()
            net = RecurrentHebbian(C, L, seed=rng).learn(msgs)
            dt = time.perf_counter() - t0
            ideal_adj = ideal_adjacency(msgs, C, L)
            exact = bool((net.adjacency() == ideal_adj).all())
            truth = msgs[rng.integers(0, M, size=int(queries))]
            cues = _erase(truth, int(erased), rng)
            w0 = net.weights.copy()
            ideal = RecurrentHebbian.from_adjacency(ideal_adj, C, seed=rng)
            for variant, model, plastic in (("learned", net, False),
                                             ("learned-plastic", net, True),
                                             ("ideal", ideal, False)):
                if model is net:
                    net.weights[:] = w0  # undo the previous variant's plastic changes
                res = model.recall(cues, plastic=plastic)
                err = int((res.messages != truth).any(axis=1).sum())
                rows.append({"messages": M, "network": i, "variant": variant, "errors": err,
                             "shots": int(queries), "learn_seconds": dt, "exact": exact})
            net.weights[:] = w0
    return rows


def emergence_curve(
    clusters: int,
    neurons_per_cluster: int,
    messages: int,
    *,
    rounds: int,
    erased: int,
    queries: int,
    seed: int = 0,
    **network_kwargs: Any,
) -> list[dict[str, Any]]:
    """Emergence of the memory over repeated noisy presentations.

    ``messages`` random messages are presented ``rounds`` times (noise from
    ``network_kwargs``: ``p_erase``, ``p_insert``, ``p_spont``, ``completion`` ...).
    After each round: density, edge precision/recall against the ideal graph, and the
    error rate of recalling ``queries`` messages with ``erased`` clusters erased (recurrent
    recall without plasticity on a copy, and SoM on the binarized network).
    """
    C, L = int(clusters), int(neurons_per_cluster)
    rng = np.random.default_rng(seed)
    msgs = rng.integers(0, L, size=(int(messages), C))
    net = RecurrentHebbian(C, L, seed=rng, **network_kwargs)
    truth = msgs[rng.integers(0, len(msgs), size=int(queries))]
    cues = _erase(truth, int(erased), rng)
    rows = []
    for r in range(1, int(rounds) + 1):
        net.learn(msgs)
        m = net.edge_metrics(msgs)
        w0 = net.weights.copy()
        rec = net.recall(cues, plastic=False)
        net.weights[:] = w0
        som = net.binarize().recall(cues, rule="som", iterations=10)
        rows.append({
            "round": r,
            "presentations": net.presentations,
            "density": m["density"],
            "ideal_density": m["ideal_density"],
            "precision": m["precision"],
            "recall": m["recall"],
            "error_recurrent": float((rec.messages != truth).any(axis=1).mean()),
            "error_som": float((som.messages != truth).any(axis=1).mean()),
        })
    return rows


class LearnedCliqueNetwork(CliqueNetwork):
    """A :class:`hebbian.CliqueNetwork` view of a :class:`RecurrentHebbian` (for samplers).

    Its bits are the learned graph (``weights >= threshold``), so the clique retrieval
    rules run unchanged.  With ``recurrent_recall=True`` :meth:`recall` instead runs the
    recurrent network's own dynamics (clique retrieval keywords are then refused); plastic
    changes made during one call are undone afterwards, so every call starts from the
    learned weights.
    """

    def __init__(self, hebbian: RecurrentHebbian, threshold: float = 0.8, *,
                 recurrent_recall: bool = False, max_steps: int = 100, stable: int = 3):
        if not isinstance(hebbian, RecurrentHebbian):
            raise TypeError(f"hebbian must be a RecurrentHebbian, got {type(hebbian).__name__}")
        super().__init__(hebbian.clusters, hebbian.neurons_per_cluster)
        self._set_bits(self.pack(hebbian.adjacency(threshold)))
        self.hebbian = hebbian
        self.recurrent_recall = bool(recurrent_recall)
        self.max_steps = check_int("max_steps", max_steps, low=1, high=INT64_MAX)
        self.stable = check_int("stable", stable, low=1, high=INT64_MAX)

    def recall(self, cues: Any, *, insertions: Any = None, **kwargs: Any) -> RecallResult:
        """Clique recall (``recurrent_recall=False``) or the recurrent dynamics, which
        takes no clique retrieval options: passing any is an error, not ignored."""
        if not self.recurrent_recall:
            return super().recall(cues, insertions=insertions, **kwargs)
        if insertions is not None:
            raise ValueError("insertions: not supported by the recurrent recall")
        if kwargs:
            raise TypeError(f"recall: the recurrent dynamics takes no clique options, got "
                            f"{sorted(kwargs)} (use recurrent_recall=False for them)")
        saved = self.hebbian.weights.copy() if self.hebbian.plastic_recall else None
        try:
            return self.hebbian.recall(cues, max_steps=self.max_steps, stable=self.stable)
        finally:
            if saved is not None:
                self.hebbian.weights[:] = saved
