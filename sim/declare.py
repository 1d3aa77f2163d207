"""Declared task parameters: a model family states its parameters once.

A model family (``repetition``, ``fbqc``, ``fbqc-optics``, ``hebbian``, …) declares its
task parameters as a frozen, keyword-only dataclass deriving from :class:`TaskParams`,
each field made with :func:`param` (default, help text, unit, allowed range or choices,
and whether it is recorded always or only when it differs from its default).  A
model-level run function ``run(params, shots, rng) -> sinter.AnonTaskStats`` samples
it.  Everything else is derived from that declaration:

* validation: types are coerced (``4.0`` → ``4`` for an int, ``1`` → ``1.0`` for a
  float) and checked on construction; errors name the family, the field and the allowed
  range;  :meth:`TaskParams.check` adds cross-field rules;
* identity: :meth:`TaskParams.to_json` is the task's canonical ``json_metadata``
  (fields marked ``record="non_default"`` appear only when they differ from their
  default, so adding such a field keeps every older task's strong id), with
  ``model_version`` added when :meth:`TaskParams.model_version` is not 1 — bump the
  class's ``version`` (or override ``model_version``) when the meaning of a task changes,
  so old result files never resume into new rows;
* the sampler: :class:`DeclaredSampler` is a :class:`sim.Sampler` (hence a
  :class:`sinter.Sampler`) built from the declaration and the run function;
* the command line: :func:`sim.cli.add_param_flags` turns every field into a flag with
  its help text (``--p-erasure 0.1:0.14:5``).

Adding a model family is therefore::

    @sim.task_params
    class CoinParams(sim.TaskParams):
        family = "coin"
        p: float = sim.param(0.5, help="probability of heads", low=0, high=1,
                             unit="probability")

    def run_coin(params, shots, rng):
        heads = int((rng.random(shots) < params.p).sum())
        return sinter.AnonTaskStats(shots=shots, errors=heads)

    class CoinSampler(sim.DeclaredSampler):
        params = CoinParams
        run = staticmethod(run_coin)

plus one line in ``pyproject.toml`` (``coin = "mypkg.coin:CoinSampler"`` in the
``erasurelab.samplers`` group) or a call to :func:`sim.register_sampler`.

Examples
--------
>>> from sim.repetition import RepetitionParams
>>> p = RepetitionParams(n=5, p=0.1)
>>> p.to_json()
{'n': 5, 'p': 0.1}
>>> RepetitionParams.from_json({"n": 5, "p": 1.5})
Traceback (most recent call last):
...
ValueError: repetition: parameter p must be a finite number in [0, 1], got 1.5
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass
from typing import Any, ClassVar

import numpy as np
import sinter

from .sampler import ChunkContext, Sampler, canonical, canonical_json
from .validate import (
    _range_text,
    check_bool,
    check_choice,
    check_float,
    check_int,
    check_memory,
    check_probability,
)

__all__ = [
    "DeclaredSampler",
    "ParamSpec",
    "TaskParams",
    "param",
    "task_params",
]

_RECORD = ("always", "non_default")
_TYPES = {int: "int", float: "float", bool: "bool", str: "str"}


def param(
    default: Any = MISSING, *, help: str, unit: str = "", low: float | None = None,
    high: float | None = None, low_open: bool = False, choices: Any = None,
    record: str = "always", cli: bool = True,
) -> Any:  # pragma: no mutate block
    """Declare one task parameter (a dataclass field with its metadata).

    Parameters
    ----------
    default
        The default value; omit it for a required parameter.
    help
        One line for ``--help`` and the docs (required: no flag without help).
    unit
        ``"probability"`` (checked to lie in [0, 1]), ``"shots"``, ``"photons"``, …
    low, high, low_open
        Allowed range of a number (inclusive; ``low_open=True`` makes ``low`` exclusive).
    choices
        Allowed values (a string parameter, usually).
    record
        ``"always"`` (in every task's ``json_metadata``) or ``"non_default"`` (only when
        it differs from the default: a parameter added later keeps older ids).
    cli
        Whether the generated sweep commands get a flag for it.
    """
    if not isinstance(help, str) or not help.strip():
        raise ValueError("param: every parameter needs a help text")
    if record not in _RECORD:
        raise ValueError(f"param: record must be one of {_RECORD}, got {record!r}")
    if record == "non_default" and default is MISSING:
        raise ValueError("param: a parameter recorded only when not default needs a default")
    if unit == "probability":
        low, high = 0.0, 1.0
    # name, type and default are filled in from the dataclass field by @task_params
    meta = ParamSpec("", "", False, default, help.strip(), unit, low, high, bool(low_open),
                     None if choices is None else tuple(choices), record, bool(cli))
    return dataclasses.field(default=default, metadata={"sim": meta})


@dataclass(frozen=True)
class ParamSpec:
    """One declared parameter, as the engine and the command line see it."""

    name: str
    type: str  # "int", "float", "bool" or "str"
    nullable: bool
    default: Any  # dataclasses.MISSING when required
    help: str
    unit: str
    low: float | None
    high: float | None
    low_open: bool
    choices: tuple | None
    record: str
    cli: bool

    @property
    def required(self) -> bool:
        return self.default is MISSING

    @property
    def flag(self) -> str:
        """The command-line flag: ``--p-erasure`` for ``p_erasure``."""
        return "--" + self.name.replace("_", "-")

    def allowed(self) -> str:
        """The allowed values in words (``"probability in [0, 1]"``, ``"int >= 3"``)."""
        if self.choices is not None:
            text = "one of " + ", ".join(str(c) for c in self.choices)
        elif self.unit == "probability":
            text = "probability in [0, 1]"
        elif self.low is not None or self.high is not None:
            text = f"{self.type} " + _range_text(self.low, self.high, self.low_open)
        else:
            text = self.type
        return text + (" or none" if self.nullable else "")

    def describe(self) -> str:
        """Help text with unit, allowed values and default (for ``--help``)."""
        bits = [self.help.rstrip(".")]
        if self.unit and self.unit != "probability":
            bits.append(f"unit: {self.unit}")
        bits.append(self.allowed())
        if not self.required:
            bits.append(f"default: {_show(self.default)}")
        else:
            bits.append("required")
        if self.record == "non_default":
            bits.append("recorded only when not default")
        return "; ".join(bits)

    def coerce(self, value: Any) -> Any:
        """Check ``value`` and return it normalised; raises naming the parameter.

        Task parameters come from JSON and the command line as well as from Python, so
        an int accepts a whole float (``4.0``, as JSON may write it) and a bool accepts
        ``0``/``1`` and ``"true"``/``"false"``.
        """
        if value is None and self.nullable:
            return None
        if self.unit == "probability":
            v = check_probability(self.name, value)
        elif self.type == "int":
            if isinstance(value, (float, np.floating)) and float(value).is_integer():
                value = int(value)
            v = check_int(self.name, value, low=_int_or_none(self.low),
                          high=_int_or_none(self.high))
        elif self.type == "float":
            v = check_float(self.name, value, low=self.low, high=self.high,
                            low_open=self.low_open)
        elif self.type == "bool":
            v = check_bool(self.name, _as_bool(value))
        else:
            if not isinstance(value, str):
                raise TypeError(f"{self.name} must be a string, got {value!r}")
            v = str(value)
        if self.choices is not None:
            check_choice(self.name, v, self.choices)
        return v


def _as_bool(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
        return value.strip().lower() in ("true", "1")
    if (isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
            and int(value) in (0, 1)):
        return bool(value)
    return value


def _show(v: Any) -> str:
    return "none" if v is None else str(v).lower() if isinstance(v, bool) else str(v)


def _int_or_none(x: float | None) -> int | None:
    return None if x is None else int(x)


def _spec_type(hint: Any, owner: str, name: str) -> tuple[str, bool]:  # pragma: no mutate block
    args = typing.get_args(hint)
    nullable = False
    if args and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            hint, nullable = rest[0], True
    if hint not in _TYPES:
        raise TypeError(f"{owner}.{name}: declared parameters are int, float, bool or str "
                        f"(optionally | None), got {hint!r}")
    return _TYPES[hint], nullable


class TaskParams:
    """Base class of declared task parameters (see the module docstring).

    Subclasses are decorated with :func:`task_params` and set the class attributes
    ``family`` (the sampler name, the first part of the ``decoder`` column) and
    optionally ``version``.  Hooks to override: :meth:`check` (cross-field rules),
    :meth:`decoder_label`, :meth:`chunk_shots`, :meth:`model_version`, :meth:`theory`,
    :meth:`examples` (small instances used to warm kernels and in tests) and, for a
    family of several models keyed by one field, :meth:`resolve`.
    """

    family: ClassVar[str] = ""
    #: Version of the family's meaning: bump it when what a task computes changes.
    version: ClassVar[int] = 1
    _specs: ClassVar[tuple[ParamSpec, ...]] = ()

    # ----- construction and validation --------------------------------------------
    def __post_init__(self) -> None:
        for spec in self.specs():
            try:
                value = spec.coerce(getattr(self, spec.name))
            except (TypeError, ValueError) as exc:
                raise type(exc)(f"{self.family}: parameter {exc}") from None
            object.__setattr__(self, spec.name, value)
        self.check()
        need = self.memory_bytes()
        if need > 0:  # a size that cannot fit is refused before anything is allocated
            what = ", ".join(f"{n}={getattr(self, n)}" for n in self.memory_params)
            check_memory(f"{self.family}: parameter {what}", need)

    def check(self) -> None:
        """Cross-field rules; raise ``ValueError`` naming the parameters (override)."""

    def _set(self, name: str, value: Any) -> None:
        """Set a derived value inside :meth:`check` (the instance is frozen)."""
        object.__setattr__(self, name, value)

    def fail(self, message: str) -> typing.NoReturn:
        """Raise ``ValueError("<family>: parameter " + message)``."""
        raise ValueError(f"{self.family}: parameter {message}")

    @classmethod
    def specs(cls) -> tuple[ParamSpec, ...]:
        """The declared parameters of this class, in declaration order."""
        return cls.__dict__.get("_specs") or _build_specs(cls)

    @classmethod
    def resolve(cls, raw: Mapping[str, Any]) -> type[TaskParams]:
        """The concrete class for ``raw`` (a family of models overrides this)."""
        return cls

    @classmethod
    def is_family(cls) -> bool:
        """Whether this class stands for several models (its :meth:`resolve` picks one)."""
        return False

    @classmethod
    def cli_specs(cls) -> list[ParamSpec]:
        """Parameters the sweep command offers as flags (a family: the union)."""
        return [s for s in cls.specs() if s.cli]

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> TaskParams:
        """Parameters from a task's ``json_metadata`` (or any dict), validated.

        Unknown names, missing required ones and a ``model_version`` that differs from
        the one these parameters are computed with are refused.
        """
        if isinstance(raw, TaskParams):
            return raw
        if not isinstance(raw, Mapping):
            raise TypeError(f"{cls.family}: params must be a dict, got {type(raw).__name__}")
        target = cls.resolve(raw)
        names = {s.name for s in target.specs()}
        unknown = sorted(set(raw) - names - {"model_version"})
        if unknown:
            raise ValueError(f"{target.family}: unknown parameter(s) {unknown}; expected "
                             f"{sorted(names)}")
        missing = [s.name for s in target.specs() if s.required and s.name not in raw]
        if missing:
            raise ValueError(f"{target.family}: missing required parameter(s) {missing}")
        inst = target(**{k: v for k, v in raw.items() if k != "model_version"})
        given = raw.get("model_version")
        if given is not None and given != inst.model_version():
            raise ValueError(f"{target.family}: parameter model_version: these parameters are "
                             f"computed as version {inst.model_version()}, not {given!r}")
        return inst

    # ----- identity -----------------------------------------------------------------
    def model_version(self) -> int:
        """The version recorded for this task (recorded in JSON only when not 1)."""
        return int(type(self).version)

    def to_json(self) -> dict[str, Any]:
        """The canonical ``json_metadata`` of this task (sorted keys, rounded floats)."""
        out: dict[str, Any] = {}
        for spec in self.specs():
            value = getattr(self, spec.name)
            if spec.record == "non_default" and value == spec.default:
                continue
            out[spec.name] = value
        version = self.model_version()
        if version != 1:
            out["model_version"] = version
        return canonical(out)

    def canonical_json(self) -> str:
        """:meth:`to_json` as canonical JSON text."""
        return canonical_json(self.to_json())

    def replace(self, **changes: Any) -> TaskParams:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]

    # ----- hooks for the sampler -------------------------------------------------------
    def decoder_label(self) -> str:
        """The part of the ``decoder`` column after ``"<family>:"``."""
        return str(getattr(self, "decoder", "default"))

    def chunk_shots(self) -> int:
        """Shots per chunk of the fixed grid (depends only on the parameters)."""
        return 1024

    #: The parameters that drive :meth:`memory_bytes` (named when a size is refused).
    memory_params: ClassVar[tuple[str, ...]] = ()

    def memory_bytes(self) -> int:
        """A lower bound on the memory (bytes) one task needs: the arrays it cannot do
        without (override; 0: no estimate).  Checked by :func:`sim.validate.check_memory`
        when the parameters are built, so a size that cannot fit in this machine is
        refused up front, naming :attr:`memory_params`."""
        return 0

    def theory(self) -> float | None:
        """Closed-form error rate, or None."""
        return None

    @classmethod
    def examples(cls) -> list[TaskParams]:  # pragma: no mutate block
        """Small instances: run by :meth:`DeclaredSampler.warm` (and by the tests)."""
        return []


def _build_specs(cls: type) -> tuple[ParamSpec, ...]:  # pragma: no mutate block
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls.__name__} must be decorated with @sim.task_params")
    hints = typing.get_type_hints(cls)
    specs = []
    for f in dataclasses.fields(cls):
        meta = f.metadata.get("sim")
        if meta is None:
            raise TypeError(f"{cls.__name__}.{f.name}: declare it with sim.param(...)")
        kind, nullable = _spec_type(hints[f.name], cls.__name__, f.name)
        specs.append(dataclasses.replace(meta, name=f.name, type=kind, nullable=nullable,
                                         default=f.default))
    specs_t = tuple(specs)
    cls._specs = specs_t
    return specs_t


def task_params(cls: type) -> type:  # pragma: no mutate block
    """Class decorator: make ``cls`` a frozen, keyword-only dataclass and check its
    declaration (every field made with :func:`param`, a ``family`` name, defaults that
    pass their own checks)."""
    if not (isinstance(cls, type) and issubclass(cls, TaskParams)):
        raise TypeError("@task_params decorates a subclass of sim.TaskParams")
    cls = dataclass(frozen=True, kw_only=True)(cls)
    if "_specs" in cls.__dict__:
        del cls._specs  # a subclass re-derives its own
    specs = _build_specs(cls)
    if not cls.family:
        raise TypeError(f"{cls.__name__}: set the class attribute family (the sampler name)")
    for s in specs:
        if not s.required and s.default is not None:
            s.coerce(s.default)  # a default must pass its own check
    return cls


class DeclaredSampler(Sampler):
    """A :class:`sim.Sampler` derived from declared parameters and a run function.

    Subclasses set ``params`` (a :class:`TaskParams` class, possibly a family base whose
    :meth:`~TaskParams.resolve` picks the model) and ``run``
    (``staticmethod(run(params, shots, rng))``; a run function that also takes ``ctx``
    receives the chunk's :class:`sim.ChunkContext`).  ``name`` defaults to
    ``params.family``.

    Examples
    --------
    >>> from sim.repetition import RepetitionSampler
    >>> s = RepetitionSampler()
    >>> s.validate({"n": 3, "p": 0.1})
    {'n': 3, 'p': 0.1}
    >>> s.sample({"n": 3, "p": 0.0}, 10, np.random.default_rng(0)).errors
    0
    """

    params: ClassVar[type[TaskParams]]
    run: ClassVar[Callable[..., sinter.AnonTaskStats]]

    def __init_subclass__(cls, **kwargs: Any) -> None:  # pragma: no mutate block
        super().__init_subclass__(**kwargs)
        if "params" in cls.__dict__ and not cls.__dict__.get("name"):
            cls.name = cls.params.family

    def __init__(self) -> None:
        self._parsed: dict[str, TaskParams] = {}
        self._with_ctx = "ctx" in inspect.signature(type(self).run).parameters

    def parse(self, params: Mapping[str, Any] | TaskParams) -> TaskParams:
        """Declared parameters from a dict (validated once per task, then cached)."""
        if isinstance(params, TaskParams):
            return params
        key = canonical_json(dict(params))
        hit = self._parsed.get(key)
        if hit is None:
            if len(self._parsed) > 256:  # pragma: no mutate
                self._parsed.clear()
            hit = self._parsed[key] = self.params.from_json(params)
        return hit

    def validate(self, params: Mapping[str, Any] | TaskParams) -> dict[str, Any]:
        return self.parse(params).to_json()

    def decoder(self, params: Mapping[str, Any]) -> str:
        return self.parse(params).decoder_label()

    def chunk_shots(self, params: Mapping[str, Any]) -> int:
        return int(self.parse(params).chunk_shots())

    def theory(self, params: Mapping[str, Any]) -> float | None:
        try:
            return self.parse(params).theory()
        except (ValueError, KeyError):
            return None

    def warm(self, params: Mapping[str, Any] | None = None) -> None:
        rng = np.random.default_rng(0)
        for example in self.params.examples():
            self.sample(example, 4, rng)

    def sample(self, params: Mapping[str, Any] | TaskParams, shots: int,
               rng: np.random.Generator, ctx: ChunkContext | None = None
               ) -> sinter.AnonTaskStats:
        p = self.parse(params)
        run = type(self).run
        if self._with_ctx:
            return run(p, int(shots), rng, ctx=ctx)
        return run(p, int(shots), rng)
