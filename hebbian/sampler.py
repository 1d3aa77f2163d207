"""The ``hebbian`` sampler: recall error of stored memories under noise, as sinter counts.

Task parameters (``json_metadata``; defaults filled in by :meth:`MemorySampler.validate`):

``model``
    A key of :data:`MODELS`: ``"clique"``, ``"sparse"``, ``"willshaw"``, ``"hopfield"``
    (other modules may add keys, e.g. ``"recurrent"``).
``clusters``, ``neurons``, ``active``
    Clique/sparse: clusters, units per cluster, active clusters per message (sparse).
    Willshaw: ``neurons`` = n units, ``active`` = k units per message.  Hopfield:
    ``neurons`` = N units.
``messages``
    Stored messages M.
``erased``, ``inserted``
    Erased symbols per cue (clusters, units, or Hopfield bits) and spurious units in
    the known clusters (clique).
``rule``, ``filter``, ``iterations``, ``memory``, ``tie``, ``guided``
    Retrieval (see :meth:`hebbian.CliqueNetwork.recall`); ``iterations: null`` means
    until the state stops changing.
``p_rel``, ``n_syn``
    Annealed binomial release noise (``p_rel = 1``: none).
``stuck``, ``stuck_at``
    Quenched fraction of synapses stuck at ``stuck_at`` (0 or 1).
``queries_per_network``
    Queries drawn from each stored network.  Network ``i`` of a task is built from
    ``ctx.rng("network", i)`` (the sweep seed, the task and ``i``), so counts do not
    depend on chunking; networks are cached per worker.

Custom counts: ``ambiguous`` (errors with a cluster left with several winners),
``wrong`` (other errors), ``symbol_errors`` (clusters/units/bits wrong, summed) and,
with ``iterations: null``, ``not_converged`` (queries stopped by the safety cap of
:data:`hebbian.network.MAX_ITERATIONS`; reported here instead of a warning).

Adding a model: ``MODELS["name"] = builder`` with ``builder(params, rng) -> (network,
messages)`` returning a :class:`hebbian.CliqueNetwork` (or sparse/Willshaw/Hopfield
network) and the stored messages; optional attributes ``builder.params`` (a dict of
extra parameter names and defaults) and ``builder.validate(params) -> params``.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
import sinter

from sim import ChunkContext, Sampler, canonical_json

from . import noise
from .hopfield import Hopfield
from .network import FILTERS, RULES, CliqueNetwork, SparseCliqueNetwork
from .willshaw import Willshaw

__all__ = ["MODELS", "MemorySampler", "accepted_params"]


def _build_clique(params: dict[str, Any], rng: np.random.Generator):
    net = CliqueNetwork(params["clusters"], params["neurons"])
    msgs = rng.integers(0, params["neurons"], size=(params["messages"], params["clusters"]))
    net.store(msgs)
    return net, msgs


def _build_sparse(params: dict[str, Any], rng: np.random.Generator):
    net = SparseCliqueNetwork(params["clusters"], params["neurons"], params["active"])
    msgs = net.random_messages(params["messages"], rng)
    net.store(msgs)
    return net, msgs


def _build_willshaw(params: dict[str, Any], rng: np.random.Generator):
    net = Willshaw(params["neurons"], params["active"])
    msgs = net.random_messages(params["messages"], rng)
    net.store(msgs)
    return net, msgs


def _build_hopfield(params: dict[str, Any], rng: np.random.Generator):
    net = Hopfield(params["neurons"])
    pats = net.random_patterns(params["messages"], rng)
    net.store(pats)
    return net, pats


#: Model name -> builder ``(params, rng) -> (network, stored messages)``.
MODELS: dict[str, Callable[[dict[str, Any], np.random.Generator], Any]] = {
    "clique": _build_clique,
    "sparse": _build_sparse,
    "willshaw": _build_willshaw,
    "hopfield": _build_hopfield,
}


def _register_recurrent() -> None:
    from .recurrent import build_for_sampler

    MODELS["recurrent"] = build_for_sampler


_register_recurrent()

_COMMON = {
    "messages": None,
    "erased": 0,
    "queries_per_network": 10_000,
}
_CLUSTERED = {
    "clusters": None,
    "neurons": None,
    "inserted": 0,
    "rule": "sos",
    "filter": "wta",
    "iterations": 1,
    "memory": 1,
    "tie": "error",
    "p_rel": 1.0,
    "n_syn": 10,
    "stuck": 0.0,
    "stuck_at": 0,
}
_DEFAULTS = {
    "clique": {**_COMMON, **_CLUSTERED},
    "sparse": {**_COMMON, **_CLUSTERED, "active": None, "guided": False, "filter": None},
    "willshaw": {**_COMMON, "neurons": None, "active": None},
    "hopfield": {**_COMMON, "neurons": None, "iterations": None},
}


def accepted_params(model: str) -> set[str]:
    """The parameter names a model accepts (``model`` included)."""
    if model not in MODELS:
        raise ValueError(f"hebbian: parameter model must be one of {sorted(MODELS)}, got {model!r}")
    names = set(_DEFAULTS.get(model, {**_COMMON, **_CLUSTERED}))
    names |= set(getattr(MODELS[model], "params", {}))
    return names | {"model"}


def _int(params: dict, name: str, low: int, high: int | None = None) -> int:
    v = params[name]
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise ValueError(f"hebbian: parameter {name} must be an integer, got {v!r}")
    if v < low or (high is not None and v > high):
        bound = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ValueError(f"hebbian: parameter {name} must be {bound}, got {v}")
    return int(v)


def _prob(params: dict, name: str) -> float:
    v = params[name]
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise ValueError(f"hebbian: parameter {name} must be a probability, got {v!r}")
    if not 0.0 <= float(v) <= 1.0:
        raise ValueError(f"hebbian: parameter {name} must lie in [0, 1], got {v}")
    return float(v)


class MemorySampler(Sampler):
    """Recall error of Hebbian associative memories (see the module docstring).

    Examples
    --------
    >>> import numpy as np
    >>> s = MemorySampler()
    >>> p = s.validate({"model": "clique", "clusters": 8, "neurons": 64, "messages": 500,
    ...                 "erased": 4, "queries_per_network": 500})
    >>> st = s.sample(p, 1000, np.random.default_rng(0))
    >>> st.shots, st.errors <= st.shots
    (1000, True)
    """

    name = "hebbian"
    labels = {"messages": "stored messages M", "erased": "erased clusters per cue",
              "inserted": "inserted neurons per cue", "clusters": "clusters c",
              "neurons": "neurons per cluster l", "active": "active neurons per message",
              "iterations": "retrieval iterations", "p_rel": "synapse release probability",
              "stuck": "stuck-synapse fraction",
              "errors": "retrieval error rate (per query)"}

    def __init__(self) -> None:
        self._cache: dict[tuple[str, int], Any] = {}

    # ----- parameters --------------------------------------------------------------
    def validate(self, params: dict[str, Any]) -> dict[str, Any]:
        p = dict(params)
        model = p.setdefault("model", "clique")
        if model not in MODELS:
            raise ValueError(
                f"hebbian: parameter model must be one of {sorted(MODELS)}, got {model!r}"
            )
        builder = MODELS[model]
        defaults = dict(_DEFAULTS.get(model, {**_COMMON, **_CLUSTERED}))
        defaults.update(getattr(builder, "params", {}))
        unknown = set(p) - set(defaults) - {"model"}
        if unknown:
            raise ValueError(
                f"hebbian: unknown parameter(s) {sorted(unknown)} for model {model!r}; "
                f"expected {sorted(defaults)}"
            )
        for k, v in defaults.items():
            if k not in p:
                if v is None and k not in ("filter", "iterations"):
                    raise ValueError(f"hebbian: parameter {k} is required for model {model!r}")
                p[k] = v
        p["messages"] = _int(p, "messages", 1)
        p["erased"] = _int(p, "erased", 0)
        p["queries_per_network"] = _int(p, "queries_per_network", 1)
        if "clusters" in defaults:
            self._validate_clustered(p, model)
        elif model == "willshaw":
            p["neurons"] = _int(p, "neurons", 2)
            p["active"] = _int(p, "active", 1, p["neurons"])
            if p["erased"] >= p["active"]:
                raise ValueError(f"hebbian: parameter erased must be < active={p['active']}")
        elif model == "hopfield":
            p["neurons"] = _int(p, "neurons", 2)
            if p["erased"] >= p["neurons"]:
                raise ValueError(f"hebbian: parameter erased must be < neurons={p['neurons']}")
            if p["iterations"] is not None:
                p["iterations"] = _int(p, "iterations", 1)
        extra = getattr(builder, "validate", None)
        if extra is not None:
            p = extra(p)
        return p

    def _validate_clustered(self, p: dict[str, Any], model: str) -> None:
        p["clusters"] = _int(p, "clusters", 2)
        p["neurons"] = _int(p, "neurons", 1)
        p["inserted"] = _int(p, "inserted", 0)
        p["memory"] = _int(p, "memory", 0)
        p["n_syn"] = _int(p, "n_syn", 1)
        p["stuck_at"] = _int(p, "stuck_at", 0, 1)
        p["p_rel"] = _prob(p, "p_rel")
        p["stuck"] = _prob(p, "stuck")
        if p["rule"] not in RULES:
            raise ValueError(
                f"hebbian: parameter rule must be one of {sorted(RULES)}, got {p['rule']!r}"
            )
        if p["tie"] not in ("error", "random"):
            raise ValueError(
                f"hebbian: parameter tie must be 'error' or 'random', got {p['tie']!r}"
            )
        if p["iterations"] is not None:
            p["iterations"] = _int(p, "iterations", 1)
        width = p["clusters"]
        if model == "sparse":
            p["active"] = _int(p, "active", 1)
            if p["active"] > p["clusters"]:
                raise ValueError(
                    f"hebbian: parameter active must be <= clusters={p['clusters']}, "
                    f"got {p['active']}"
                )
            if not isinstance(p["guided"], (bool, np.bool_)):
                raise ValueError(f"hebbian: parameter guided must be a bool, got {p['guided']!r}")
            p["guided"] = bool(p["guided"])
            if p["filter"] is None:
                p["filter"] = "wta" if p["guided"] else "gwsta"
            if p["rule"] == "som" and not p["guided"]:
                raise ValueError("hebbian: parameter rule='som' needs guided=true for sparse")
            width = p["active"]
        if p["filter"] not in FILTERS:
            raise ValueError(
                f"hebbian: parameter filter must be one of {sorted(FILTERS)}, got {p['filter']!r}"
            )
        if p["erased"] >= width:
            raise ValueError(f"hebbian: parameter erased must be < {width}, got {p['erased']}")
        room = (p["clusters"] - p["erased"]) * (p["neurons"] - 1)
        if model != "sparse" and p["inserted"] > room:
            raise ValueError(f"hebbian: parameter inserted must be <= {room}, got {p['inserted']}")
        if model == "sparse" and p["inserted"] > 0:
            raise ValueError("hebbian: parameter inserted is not supported for sparse networks")

    def decoder(self, params: dict[str, Any]) -> str:
        model = params.get("model", "clique")
        if model in ("willshaw", "hopfield"):
            return model
        if model == "recurrent" and params.get("recall") == "recurrent":
            # the network's own dynamics, not a rule/filter of the core
            return "recurrent-dynamics" + ("-plastic" if params.get("plastic_recall") else "")
        guided = "-guided" if params.get("guided") else ""
        return f"{model}-{params.get('rule', 'sos')}-{params.get('filter', 'wta')}{guided}"

    def chunk_shots(self, params: dict[str, Any]) -> int:
        return int(min(params.get("queries_per_network", 10_000), 20_000))

    def theory(self, params: dict[str, Any]) -> float | None:
        from .theory import theory_curve

        try:
            return theory_curve(params)
        except (ValueError, KeyError):
            return None

    def warm(self, params: dict[str, Any] | None = None) -> None:
        rng = np.random.default_rng(0)
        net = CliqueNetwork(4, 70).store(rng.integers(0, 70, (50, 4)))
        cues = noise.erase(rng.integers(0, 70, (4, 4)), 2, rng)
        for rule in ("sos", "som"):
            net.recall(cues, rule=rule, iterations=1)
            net.recall(cues, rule=rule, iterations=3)
        net.recall(cues, insertions=noise.insert(cues, 1, 70, rng), iterations=2)
        net.recall(cues, rng=rng, release=noise.ReleaseNoise(3, 0.5), tie="random")
        Willshaw(128, 4).store([[0, 1, 2, 3]]).recall([[0, 1, -1, -1]])

    # ----- sampling ----------------------------------------------------------------
    def _network(self, params, index: int, ctx: ChunkContext | None, rng):
        if ctx is None:
            net_rng = np.random.default_rng(rng.integers(2**63))
            return self._build(params, net_rng)
        key = (ctx.strong_id or canonical_json(params), index)
        if key not in self._cache:
            if len(self._cache) >= 2:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = self._build(params, ctx.rng("network", index))
        return self._cache[key]

    def _build(self, params, rng):
        net, msgs = MODELS[params["model"]](params, rng)
        if params.get("stuck", 0) > 0:
            noise.stuck(net, params["stuck"], params["stuck_at"], rng)
        return net, np.asarray(msgs)

    def sample(
        self,
        params: dict[str, Any],
        shots: int,
        rng: np.random.Generator,
        ctx: ChunkContext | None = None,
    ) -> sinter.AnonTaskStats:
        qpn = params["queries_per_network"]
        pos = ctx.first_shot if ctx is not None else 0
        end = pos + shots
        tally = Counter({"ambiguous": 0, "wrong": 0, "symbol_errors": 0})
        errors = 0
        while pos < end:
            index = pos // qpn
            take = min(end, (index + 1) * qpn) - pos
            net, msgs = self._network(params, index, ctx, rng)
            e, amb, sym, capped = _query(net, msgs, params, take, rng)
            errors += e
            if capped:
                tally["not_converged"] += capped
            tally["ambiguous"] += amb
            tally["wrong"] += e - amb
            tally["symbol_errors"] += sym
            pos += take
        return sinter.AnonTaskStats(shots=shots, errors=errors, custom_counts=tally)


def _query(net, msgs, p, Q, rng) -> tuple[int, int, int, int]:
    """Run ``Q`` queries on one stored network.

    Returns (errors, ambiguous errors, symbol errors, queries that hit the iteration cap
    with ``iterations=None``; counted, not warned about).
    """
    idx = rng.integers(0, len(msgs), Q)
    target = msgs[idx]
    if isinstance(net, Hopfield):
        cues = target.copy()
        er = np.argsort(rng.random(cues.shape), axis=1)[:, : p["erased"]]
        np.put_along_axis(cues, er, 0, axis=1)
        out = net.recall(cues, iterations=p["iterations"])
        diff = (out != target).sum(axis=1)
        return int((diff > 0).sum()), 0, int(diff.sum()), 0
    if isinstance(net, Willshaw):
        act = net.recall(noise.erase(target, p["erased"], rng))
        want = np.zeros_like(act)
        np.put_along_axis(want, target, True, axis=1)
        diff = (act != want).sum(axis=1)
        err = diff > 0
        amb = err & (act.sum(axis=1) > net.k)
        return int(err.sum()), int(amb.sum()), int(diff.sum()), 0
    release = noise.ReleaseNoise(p["n_syn"], p["p_rel"]) if p["p_rel"] < 1.0 else None
    kw = dict(rule=p["rule"], filter=p["filter"], memory=p["memory"],
              iterations=p["iterations"], tie=p["tie"], rng=rng, release=release)
    L = net.neurons_per_cluster
    if isinstance(net, SparseCliqueNetwork):
        cues = noise.erase(target, p["erased"], rng)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            res = net.recall(cues, guide=target // L if p["guided"] else None, **kw)
        want = np.full((Q, net.clusters), -1, np.int64)
        np.put_along_axis(want, target // L, target % L, axis=1)
    else:
        cues = noise.erase(target, p["erased"], rng)
        ins = noise.insert(cues, p["inserted"], L, rng) if p["inserted"] else None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            res = net.recall(cues, insertions=ins, **kw)
        want = target
    ok_sym = res.messages == want
    if p["tie"] == "error":
        ok_sym &= res.n_winners <= 1
    err = ~ok_sym.all(axis=1)
    amb = err & (res.n_winners > 1).any(axis=1)
    capped = int((~res.converged).sum()) if p["iterations"] is None else 0
    return int(err.sum()), int(amb.sum()), int((~ok_sym).sum()), capped
