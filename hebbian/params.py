"""The declared task parameters of the ``hebbian`` sampler: one class per memory model.

A task is one memory model (``model``) storing ``messages`` random messages, queried
with cues that have ``erased`` symbols erased (and, for the clique, ``inserted``
spurious units), under synaptic noise (annealed release ``p_rel``/``n_syn``, quenched
stuck-at faults ``stuck``/``stuck_at``) and a retrieval rule.  Every model's class
declares exactly the parameters it uses, so an option a model would ignore is refused
(``unknown parameter``), never dropped.  All parameters are recorded in a task's
``json_metadata`` (as the sampler always did), so older result files keep their ids.

Models (:data:`MODELS`): ``clique`` (:class:`CliqueParams`), ``sparse``
(:class:`SparseParams`), ``willshaw`` (:class:`WillshawParams`), ``hopfield``
(:class:`HopfieldParams`), ``recurrent`` (:class:`RecurrentParams`, a clique network
learned by :class:`hebbian.RecurrentHebbian`).  A new model is a class deriving from
:class:`MemoryParams` with ``build(rng)`` and ``query(network, messages, Q, rng)``,
added with :func:`register_model`.

Examples
--------
>>> p = MemoryParams.from_json({"clusters": 8, "neurons": 256, "messages": 10000,
...                             "erased": 4})
>>> type(p).__name__, p.decoder_label(), p.rule, p.iterations
('CliqueParams', 'clique-sos-wta', 'sos', 1)
>>> MemoryParams.from_json({"model": "willshaw", "neurons": 256, "active": 6,
...                         "messages": 10, "rule": "som"})  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
ValueError: hebbian: unknown parameter(s) ['rule']; expected ['active', 'erased', ...]
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from sim import ParamSpec, TaskParams, param, task_params

from . import noise
from .hopfield import Hopfield
from .network import FILTERS, RULES, CliqueNetwork, SparseCliqueNetwork, clustered_bytes
from .willshaw import Willshaw

__all__ = [
    "MODELS",
    "CliqueParams",
    "HopfieldParams",
    "MemoryParams",
    "RecurrentParams",
    "SparseParams",
    "WillshawParams",
    "register_model",
]

#: Model name -> its declared parameters (see :func:`register_model`).
MODELS: dict[str, type[MemoryParams]] = {}


def register_model(cls: type[MemoryParams]) -> type[MemoryParams]:  # pragma: no mutate block
    """Register a model class under its ``model`` default (usable as a decorator).

    The class must be importable by worker processes (defined in a module).
    """
    if not (isinstance(cls, type) and issubclass(cls, MemoryParams)):
        raise TypeError("register_model takes a MemoryParams subclass")
    name = next(s.default for s in cls.specs() if s.name == "model")
    MODELS[name] = cls
    return cls


class MemoryParams(TaskParams):
    """Base of the memory models: fields every model has, and the family dispatch.

    Subclasses (decorated with :func:`sim.task_params`) declare ``model`` with their
    name as default and only choice, and implement :meth:`build` and :meth:`query`.
    """

    family = "hebbian"

    @classmethod
    def resolve(cls, raw: Mapping[str, Any]) -> type[TaskParams]:
        if cls is not MemoryParams:
            return cls
        model = raw.get("model", "clique")
        if model not in MODELS:
            raise ValueError(f"hebbian: parameter model must be one of {sorted(MODELS)}, got "
                             f"{model!r}")
        return MODELS[model]

    @classmethod
    def specs(cls) -> tuple[ParamSpec, ...]:
        if cls is MemoryParams:
            raise TypeError("MemoryParams is abstract: use a model's class (MODELS)")
        return super().specs()

    @classmethod
    def is_family(cls) -> bool:
        return cls is MemoryParams

    @classmethod
    def cli_specs(cls) -> list[ParamSpec]:
        """The union of every registered model's parameters; each flag's help names the
        models that have it (``model`` lists them all)."""
        if cls is not MemoryParams:
            return super().cli_specs()
        by_name: dict[str, list[tuple[str, ParamSpec]]] = {}
        for name, model in MODELS.items():
            for s in model.cli_specs():
                by_name.setdefault(s.name, []).append((name, s))
        out = []
        for pname, pairs in by_name.items():
            spec = pairs[0][1]
            if pname == "model":  # the discriminator: every model, default clique
                # (clique is registered first, so without default= it is the same:
                # an equivalent mutant)
                out.append(replace(spec, choices=tuple(MODELS),  # pragma: no mutate
                                   default="clique"))  # pragma: no mutate
                continue
            if len(pairs) < len(MODELS):
                models = ", ".join(m for m, _ in pairs)
                spec = replace(spec, help=f"{spec.help} [{models}]")
            if len({repr(s.default) for _, s in pairs}) > 1:
                spec = replace(spec, help=spec.help + " (default depends on the model)")
            out.append(spec)
        return out

    @classmethod
    def examples(cls) -> list[TaskParams]:  # pragma: no mutate block
        if cls is MemoryParams:
            return [e for model in MODELS.values() for e in model.examples()]
        return []

    def chunk_shots(self) -> int:
        return int(min(self.queries_per_network, 20_000))

    def theory(self) -> float | None:
        from .theory import theory_curve

        try:
            return theory_curve(self.to_json())
        except (ValueError, KeyError):
            return None

    # ----- the model: to implement -------------------------------------------------
    def build(self, rng: np.random.Generator) -> tuple[Any, np.ndarray]:
        """Store ``messages`` random messages: (network, stored messages)."""
        raise NotImplementedError

    def query(self, net: Any, msgs: np.ndarray, Q: int, rng: np.random.Generator
              ) -> tuple[int, int, int, int]:
        """Run ``Q`` queries on a stored network: (errors, ambiguous errors, symbol
        errors, queries stopped by the iteration cap)."""
        raise NotImplementedError


def _messages() -> Any:  # pragma: no mutate block
    return param(help="stored messages M", low=1)


def _erased() -> Any:  # pragma: no mutate block
    return param(0, help="erased symbols per cue (clusters, units or bits)", low=0)


def _queries() -> Any:  # pragma: no mutate block
    return param(10_000, help="queries drawn from each stored network (a new network "
                 "per this many shots)", low=1)


@task_params
class CliqueParams(MemoryParams):
    """Gripon–Berrou clique network (:class:`hebbian.CliqueNetwork`)."""

    model: str = param("clique", help="memory model", choices=("clique",))
    clusters: int = param(help="clusters (symbols per message)", low=2)
    neurons: int = param(help="units per cluster", low=1)
    messages: int = _messages()
    erased: int = _erased()
    inserted: int = param(0, help="spurious units switched on in the known clusters",
                          low=0)
    rule: str = param("sos", help="sum-of-sum or sum-of-max scores", choices=tuple(RULES))
    filter: str = param("wta", help="winner filter", choices=tuple(FILTERS))
    iterations: int | None = param(1, help="recall steps (none: until the state stops "
                                   "changing)", low=1)
    memory: int = param(1, help="self-excitation of active units", low=0)
    tie: str = param("error", help="ambiguous clusters count as errors, or get a random "
                     "winner", choices=("error", "random"))
    p_rel: float = param(1.0, help="synaptic release probability (1: no release noise)",
                         unit="probability")
    n_syn: int = param(10, help="synapses per connection (release noise)", low=1)
    stuck: float = param(0.0, help="fraction of synapses stuck (quenched faults)",
                         unit="probability")
    stuck_at: int = param(0, help="value of the stuck synapses", low=0, high=1)
    queries_per_network: int = _queries()

    def check(self) -> None:
        if self.erased >= self.width():
            self.fail(f"erased must be < {self.width()}, got {self.erased}")
        room = (self.clusters - self.erased) * (self.neurons - 1)
        if self.inserted > room:
            self.fail(f"inserted must be <= {room}, got {self.inserted}")

    def width(self) -> int:
        """Symbols per stored message."""
        return self.clusters

    @property
    def memory_params(self) -> tuple[str, ...]:  # type: ignore[override]
        return ("clusters", "neurons", "messages") + (("n_syn",) if self.p_rel < 1 else ())

    def memory_bytes(self) -> int:
        C, L = self.clusters, self.neurons
        return (clustered_bytes(C, L) + 8 * self.messages * self.width()
                + (24 * (self.n_syn + 1) if self.p_rel < 1 else 0))

    def decoder_label(self) -> str:
        return f"{self.model}-{self.rule}-{self.filter}"

    @classmethod
    def examples(cls) -> list[MemoryParams]:  # pragma: no mutate block
        base = dict(clusters=4, neurons=70, messages=50, erased=2, queries_per_network=4)
        return [cls(**base), cls(**dict(base, rule="som", iterations=3)),
                cls(**dict(base, erased=1, inserted=1, iterations=2)),
                cls(**dict(base, p_rel=0.5, n_syn=3, tie="random"))]

    def build(self, rng: np.random.Generator) -> tuple[Any, np.ndarray]:
        net = CliqueNetwork(self.clusters, self.neurons)
        msgs = rng.integers(0, self.neurons, size=(self.messages, self.clusters))
        net.store(msgs)
        return net, msgs

    def recall_options(self, rng: np.random.Generator) -> dict[str, Any]:
        """Keyword arguments of the network's ``recall`` for this task."""
        release = noise.ReleaseNoise(self.n_syn, self.p_rel) if self.p_rel < 1.0 else None
        return dict(rule=self.rule, filter=self.filter, memory=self.memory,
                    iterations=self.iterations, tie=self.tie, rng=rng, release=release)

    def query(self, net: Any, msgs: np.ndarray, Q: int, rng: np.random.Generator
              ) -> tuple[int, int, int, int]:
        target = msgs[rng.integers(0, len(msgs), Q)]
        kw = self.recall_options(rng)
        cues = noise.erase(target, self.erased, rng)
        ins = (noise.insert(cues, self.inserted, net.neurons_per_cluster, rng)
               if self.inserted else None)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            res = net.recall(cues, insertions=ins, **kw)
        return _score(res, target, self)


def _score(res: Any, want: np.ndarray, p: CliqueParams) -> tuple[int, int, int, int]:
    ok_sym = res.messages == want
    if p.tie == "error":
        ok_sym &= res.n_winners <= 1
    err = ~ok_sym.all(axis=1)
    amb = err & (res.n_winners > 1).any(axis=1)
    capped = int((~res.converged).sum()) if p.iterations is None else 0
    return int(err.sum()), int(amb.sum()), int((~ok_sym).sum()), capped


@task_params
class SparseParams(CliqueParams):
    """Sparse clustered network (Aliabadi et al.): messages use ``active`` clusters."""

    model: str = param("sparse", help="memory model", choices=("sparse",))
    active: int = param(help="active clusters per message", low=1)
    guided: bool = param(False, help="recall knows each message's clusters")
    filter: str | None = param(None, help="winner filter (default: wta guided, gwsta "
                               "blind)", choices=tuple(FILTERS))

    def check(self) -> None:
        if self.filter is None:
            self._set("filter", "wta" if self.guided else "gwsta")
        if self.active > self.clusters:
            self.fail(f"active must be <= clusters={self.clusters}, got {self.active}")
        if self.rule == "som" and not self.guided:
            self.fail("rule='som' needs guided=true for sparse")
        if self.inserted > 0:
            self.fail("inserted is not supported for sparse networks")
        if self.erased >= self.width():
            self.fail(f"erased must be < {self.width()}, got {self.erased}")

    def width(self) -> int:
        return self.active

    def decoder_label(self) -> str:
        return super().decoder_label() + ("-guided" if self.guided else "")

    @classmethod
    def examples(cls) -> list[MemoryParams]:  # pragma: no mutate block
        return [cls(clusters=8, neurons=16, active=3, messages=20, erased=1,
                    queries_per_network=4, guided=True, iterations=2)]

    def build(self, rng: np.random.Generator) -> tuple[Any, np.ndarray]:
        net = SparseCliqueNetwork(self.clusters, self.neurons, self.active)
        msgs = net.random_messages(self.messages, rng)
        net.store(msgs)
        return net, msgs

    def query(self, net: Any, msgs: np.ndarray, Q: int, rng: np.random.Generator
              ) -> tuple[int, int, int, int]:
        target = msgs[rng.integers(0, len(msgs), Q)]
        kw = self.recall_options(rng)
        L = net.neurons_per_cluster
        cues = noise.erase(target, self.erased, rng)
        with warnings.catch_warnings():  # (ignoring every warning here is the same)
            warnings.simplefilter("ignore", RuntimeWarning)  # pragma: no mutate
            res = net.recall(cues, guide=target // L if self.guided else None, **kw)
        # (a float -1 array compares the same: an equivalent mutant)
        want = np.full((Q, net.clusters), -1, np.int64)  # pragma: no mutate
        np.put_along_axis(want, target // L, target % L, axis=1)
        return _score(res, want, self)


@task_params
class WillshawParams(MemoryParams):
    """Willshaw auto-associative memory (:class:`hebbian.Willshaw`)."""

    model: str = param("willshaw", help="memory model", choices=("willshaw",))
    neurons: int = param(help="units n", low=2)
    active: int = param(help="active units per message k", low=1)
    messages: int = _messages()
    erased: int = _erased()
    queries_per_network: int = _queries()

    def check(self) -> None:
        if self.active > self.neurons:
            self.fail(f"active must be <= neurons={self.neurons}, got {self.active}")
        if self.erased >= self.active:
            self.fail(f"erased must be < active={self.active}, got {self.erased}")

    def decoder_label(self) -> str:
        return "willshaw"

    memory_params = ("neurons", "active", "messages")

    def memory_bytes(self) -> int:
        n = self.neurons
        return 8 * n * ((n + 63) // 64) + 8 * self.messages * self.active

    @classmethod
    def examples(cls) -> list[MemoryParams]:  # pragma: no mutate block
        return [cls(neurons=128, active=4, messages=5, erased=2, queries_per_network=4)]

    def build(self, rng: np.random.Generator) -> tuple[Any, np.ndarray]:
        net = Willshaw(self.neurons, self.active)
        msgs = net.random_messages(self.messages, rng)
        net.store(msgs)
        return net, msgs

    def query(self, net: Any, msgs: np.ndarray, Q: int, rng: np.random.Generator
              ) -> tuple[int, int, int, int]:
        target = msgs[rng.integers(0, len(msgs), Q)]
        act = net.recall(noise.erase(target, self.erased, rng)).state
        want = np.zeros_like(act)
        np.put_along_axis(want, target, True, axis=1)
        diff = (act != want).sum(axis=1)
        err = diff > 0
        # An erasure cue never loses a stored unit here (every unit of the target is
        # wired to every cue unit), so every error is a superset of the target and
        # ambiguous: `wrong` stays 0 (tested).  Mutants of this line are equivalent.
        amb = err & (act.sum(axis=1) > net.k)  # pragma: no mutate
        return int(err.sum()), int(amb.sum()), int(diff.sum()), 0


@task_params
class HopfieldParams(MemoryParams):
    """Hopfield network of ±1 units (:class:`hebbian.Hopfield`); erased bits are 0."""

    model: str = param("hopfield", help="memory model", choices=("hopfield",))
    neurons: int = param(help="units N", low=2)
    messages: int = _messages()
    erased: int = _erased()
    iterations: int | None = param(None, help="synchronous steps (none: until a fixed "
                                   "point, at most 100)", low=1)
    queries_per_network: int = _queries()

    def check(self) -> None:
        if self.erased >= self.neurons:
            self.fail(f"erased must be < neurons={self.neurons}, got {self.erased}")

    def decoder_label(self) -> str:
        return "hopfield"

    memory_params = ("neurons", "messages")

    def memory_bytes(self) -> int:  # float32 weights; patterns drawn as int64
        return 4 * self.neurons**2 + 8 * self.messages * self.neurons

    def build(self, rng: np.random.Generator) -> tuple[Any, np.ndarray]:
        net = Hopfield(self.neurons)
        pats = net.random_patterns(self.messages, rng)
        net.store(pats)
        return net, pats

    def query(self, net: Any, msgs: np.ndarray, Q: int, rng: np.random.Generator
              ) -> tuple[int, int, int, int]:
        target = msgs[rng.integers(0, len(msgs), Q)]
        cues = target.copy()
        # (without axis=1 argsort takes the last axis, the same: an equivalent mutant)
        er = np.argsort(rng.random(cues.shape), axis=1)[:, : self.erased]  # pragma: no mutate
        np.put_along_axis(cues, er, 0, axis=1)
        out = net.recall(cues, iterations=self.iterations).state
        diff = (out != target).sum(axis=1)
        return int((diff > 0).sum()), 0, int(diff.sum()), 0


@task_params
class RecurrentParams(CliqueParams):
    """A clique network learned online by :class:`hebbian.RecurrentHebbian` (from noisy
    presentations), recalled by the clique rules on its binarized graph
    (``recall="clique"``) or by its own dynamics (``recall="recurrent"``)."""

    model: str = param("recurrent", help="memory model", choices=("recurrent",))
    steps: int = param(60, help="dynamics steps per presentation", low=1)
    p_erase: float = param(0.0, help="probability that a presented unit is erased",
                           unit="probability")
    p_insert: float = param(0.0, help="probability of a spurious unit per presentation",
                            unit="probability")
    p_spont: float = param(0.0, help="spontaneous activity per step", unit="probability")
    rounds: int = param(1, help="presentations of every message", low=1)
    threshold: float = param(0.8, help="weight threshold of the binarized graph",
                             unit="probability")
    recall: str = param("clique", help="clique rules on the binarized graph, or the "
                        "recurrent dynamics", choices=("clique", "recurrent"))
    plastic_recall: bool = param(False, help="plasticity stays on during recall")
    max_steps: int = param(100, help="steps of the recurrent recall", low=1)
    stable: int = param(3, help="unchanged steps that end a recurrent recall", low=1)

    #: Clique recall options the recurrent dynamics does not read.
    _CLIQUE_ONLY = ("inserted", "p_rel", "stuck", "rule", "filter", "iterations", "memory",
                    "tie", "n_syn", "stuck_at")

    def check(self) -> None:
        super().check()
        if self.recall == "recurrent":
            # the recurrent dynamics reads the learned weights, not the clique recall
            # options: refuse the ones it would otherwise silently ignore
            for spec in CliqueParams.specs():
                if spec.name in self._CLIQUE_ONLY and getattr(self, spec.name) != spec.default:
                    self.fail(f"{spec.name} must stay at its default ({spec.default}) with "
                              f"recall='recurrent' (the recurrent dynamics ignores it)")

    def memory_bytes(self) -> int:  # float32 weights of the learned network
        return super().memory_bytes() + 4 * (self.clusters * self.neurons) ** 2

    def decoder_label(self) -> str:
        if self.recall == "recurrent":
            return "recurrent-dynamics" + ("-plastic" if self.plastic_recall else "")
        return super().decoder_label()

    @classmethod
    def examples(cls) -> list[MemoryParams]:  # pragma: no mutate block
        return []

    def build(self, rng: np.random.Generator) -> tuple[Any, np.ndarray]:
        from .recurrent import LearnedCliqueNetwork, RecurrentHebbian

        C, L, M = self.clusters, self.neurons, self.messages
        # as the clique builder: same messages (integers(L) draws the same: equivalent)
        msgs = rng.integers(0, L, size=(M, C))  # pragma: no mutate
        hebb = RecurrentHebbian(
            C, L, steps=self.steps, p_erase=self.p_erase, p_insert=self.p_insert,
            p_spont=self.p_spont, plastic_recall=self.plastic_recall, seed=rng,
        ).learn(msgs, rounds=self.rounds)
        net = LearnedCliqueNetwork(hebb, self.threshold,
                                   recurrent_recall=self.recall == "recurrent",
                                   max_steps=self.max_steps, stable=self.stable)
        return net, msgs

    def recall_options(self, rng: np.random.Generator) -> dict[str, Any]:
        if self.recall == "recurrent":
            return {}
        return super().recall_options(rng)


for _cls in (CliqueParams, SparseParams, WillshawParams, HopfieldParams, RecurrentParams):
    register_model(_cls)
