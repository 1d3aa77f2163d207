"""The sampler contract every domain implements, and the registry that names samplers.

A domain sampler is a :class:`sinter.Sampler` subclass, so ``sinter.collect`` can run it
with a placeholder circuit, and a :class:`sim.Sampler` subclass, so :func:`sim.collect`
can run it with seeded, fixed chunks.  A subclass implements three things:

``name``
    A short class attribute (``"repetition"``, ``"fbqc"``, ``"hebbian"``): the first part
    of the ``decoder`` column, ``"<name>:<decoder>"``.
``validate(params) -> dict``
    Check and normalise the task parameters (raise ``ValueError``/``TypeError`` naming the
    offending parameter); the returned dict is what is hashed and written to the CSV.
``sample(params, shots, rng, ctx=None) -> sinter.AnonTaskStats``
    Draw ``shots`` shots using only ``rng`` (a :class:`numpy.random.Generator`) and
    ``ctx.rng(...)`` for keyed streams; deterministic given them.

Samplers are found by a registered name or an import path ``"package.module:Class"``.
Names come from the ``erasurelab.samplers`` entry-point group (declared in
``pyproject.toml``, so a spawned worker or a machine of a cluster resolves them the same
way) or from :func:`register_sampler`, which only records an import path: what travels
to workers is always the path, never an object living in one process's memory.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import math
import time
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, ClassVar

import numpy as np
import sinter
import stim

__all__ = [
    "PLACEHOLDER_CIRCUIT",
    "ChunkContext",
    "Sampler",
    "canonical",
    "canonical_json",
    "make_task",
    "register_sampler",
    "resolve_sampler",
    "sampler_path",
    "seed_sequence",
]

#: The circuit every non-stim task carries: sinter requires one, the physics is in the
#: task's ``json_metadata``.
PLACEHOLDER_CIRCUIT = stim.Circuit("M 0\nDETECTOR rec[-1]")
_PLACEHOLDER_DEM = PLACEHOLDER_CIRCUIT.detector_error_model()

_REGISTRY: dict[str, str] = {}
_INSTANCES: dict[str, Sampler] = {}


def _round_float(x: float) -> float | int:
    if not math.isfinite(x):
        raise ValueError(f"parameter value {x!r} is not finite")
    if x == 0:
        return 0.0
    return float(f"{x:.12g}")


def canonical(params: Any) -> Any:
    """Return ``params`` with floats rounded to 12 significant digits, recursively.

    Dict keys are converted to ``str`` and sorted when serialised; NumPy scalars become
    Python scalars; tuples become lists.  Used for task identity, so that
    ``0.10:0.14:9`` gives ``0.11`` and not ``0.11000000000000001``.

    Examples
    --------
    >>> canonical({"p": 0.1 + 0.01, "L": np.int64(4)})
    {'L': 4, 'p': 0.11}
    """
    if isinstance(params, dict):
        return {str(k): canonical(params[k]) for k in sorted(params, key=str)}
    if isinstance(params, (list, tuple)):
        return [canonical(v) for v in params]
    if isinstance(params, np.ndarray):
        return [canonical(v) for v in params.tolist()]
    if isinstance(params, (bool, np.bool_)):
        return bool(params)
    if isinstance(params, (int, np.integer)):
        return int(params)
    if isinstance(params, (float, np.floating)):
        return _round_float(float(params))
    if params is None or isinstance(params, str):
        return params
    raise TypeError(f"parameter value {params!r} of type {type(params).__name__} is not JSON-able")


def canonical_json(params: Any) -> str:
    """The canonical JSON text of ``params`` (sorted keys, compact separators)."""
    return json.dumps(canonical(params), sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class ChunkContext:
    """Where a chunk of shots sits in its task, and keyed random streams for it.

    Parameters
    ----------
    seed : int or None
        The sweep's seed (``None``: fresh entropy, not reproducible).
    strong_id : str
        The task's strong id.
    chunk_index : int
        Index of this chunk in the task's fixed chunk grid.
    first_shot : int
        Index of this chunk's first shot in the task's shot sequence.
    """

    seed: int | None
    strong_id: str
    chunk_index: int
    first_shot: int

    def rng(self, *key: int | str) -> np.random.Generator:
        """A generator keyed by ``(seed, strong_id, *key)``, independent of the chunk.

        Use it for objects shared by many chunks (e.g. a stored network that serves
        ``queries_per_network`` queries), so the result does not depend on the chunking.
        """
        return np.random.default_rng(seed_sequence(self.seed, self.strong_id, *key))


def seed_sequence(seed: int | None, *key: int | str) -> np.random.SeedSequence:
    """A :class:`numpy.random.SeedSequence` derived from ``seed`` and a key.

    Strings in the key are hashed (sha256), so the stream is the same on every machine
    and Python process (unlike ``hash()``).  ``seed=None`` gives fresh OS entropy.
    """
    if seed is None:
        return np.random.SeedSequence()
    words: list[int] = [int(seed) & 0xFFFFFFFFFFFFFFFF]
    for k in key:
        if isinstance(k, str):
            digest = hashlib.sha256(k.encode()).digest()
            words.extend(int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4))
        else:
            words.append(int(k) & 0xFFFFFFFFFFFFFFFF)
    return np.random.SeedSequence(words)


class Sampler(sinter.Sampler):
    """Base class of every erasurelab sampler (also a :class:`sinter.Sampler`).

    Subclasses set ``name`` and implement :meth:`validate` and :meth:`sample`; they may
    override :meth:`decoder` (what goes after ``"<name>:"`` in the decoder column),
    :meth:`chunk_shots` (the shots per fixed chunk) and :meth:`warm` (compile kernels).

    Instances are created once per worker process and may cache expensive objects
    (networks, matchers) keyed by parameters.  So an instance pickles as a *fresh* instance
    of its class (what :func:`sinter.collect` does to send it to a worker): caches are
    rebuilt in the worker, and unpicklable ones (PyMatching graphs) never travel.  A
    subclass whose ``__init__`` takes arguments overrides :meth:`__reduce__`.

    Examples
    --------
    >>> from sim.repetition import RepetitionSampler
    >>> s = RepetitionSampler()
    >>> params = s.validate({"n": 3, "p": 0.1})
    >>> stats = s.sample(params, 1000, np.random.default_rng(1))
    >>> stats.shots
    1000
    """

    name: ClassVar[str] = ""
    #: Names of the observables in the ``obs_mistake_mask=…`` custom counts, one per
    #: character (what ``sim.plot(..., observable=...)`` and
    #: :func:`sim.observable_counts` read; empty when the sampler records none).
    observables: ClassVar[tuple[str, ...]] = ()
    #: Words for figures: parameter name -> axis label, and ``"errors"`` -> what an error
    #: is (the y label); ``sim.plot`` uses them instead of raw parameter names.
    labels: ClassVar[dict[str, str]] = {}

    def __reduce__(self) -> tuple[type, tuple]:
        return (type(self), ())

    # ----- to implement -------------------------------------------------------------
    def validate(self, params: dict[str, Any]) -> dict[str, Any]:
        """Check and normalise parameters; raise ValueError/TypeError naming the bad one."""
        raise NotImplementedError

    def sample(
        self,
        params: dict[str, Any],
        shots: int,
        rng: np.random.Generator,
        ctx: ChunkContext | None = None,
    ) -> sinter.AnonTaskStats:
        """Draw ``shots`` shots; return additive counts."""
        raise NotImplementedError

    # ----- optional hooks -----------------------------------------------------------
    def decoder(self, params: dict[str, Any]) -> str:
        """The decoder label (the part after ``"<name>:"``); default ``params['decoder']``."""
        return str(params.get("decoder", "default"))

    def chunk_shots(self, params: dict[str, Any]) -> int:
        """Shots per chunk of the fixed grid (default 1024). Must depend only on params."""
        return 1024

    def warm(self, params: dict[str, Any] | None = None) -> None:  # noqa: B027
        """Compile Numba kernels on tiny inputs (called once per worker before timing)."""

    def theory(self, params: dict[str, Any]) -> float | None:
        """Closed-form error rate for these parameters, or None (``erasurelab plot --theory``)."""
        return None

    # ----- sinter.Sampler interface -------------------------------------------------
    def compiled_sampler_for_task(self, task: sinter.Task) -> sinter.CompiledSampler:
        params = self.validate(dict(task.json_metadata or {}))
        return _CompiledSampler(self, params)


class _CompiledSampler(sinter.CompiledSampler):
    def __init__(self, sampler: Sampler, params: dict[str, Any]):
        self.sampler = sampler
        self.params = params
        self.rng = np.random.default_rng()

    def sample(self, suggested_num_shots: int) -> sinter.AnonTaskStats:
        t0 = time.perf_counter()
        st = self.sampler.sample(self.params, int(suggested_num_shots), self.rng, None)
        if not st.seconds:
            st = sinter.AnonTaskStats(
                shots=st.shots,
                errors=st.errors,
                discards=st.discards,
                seconds=time.perf_counter() - t0,
                custom_counts=st.custom_counts,
            )
        return st


def register_sampler(name: str, path: str) -> None:
    """Register ``name`` as a short name for the sampler at import path ``path``.

    Only the import path is stored and sent to workers, so the class must live in an
    importable module (not a notebook cell).  Entry points in the
    ``erasurelab.samplers`` group are registered automatically.

    Examples
    --------
    >>> register_sampler("rep", "sim.repetition:RepetitionSampler")
    >>> sampler_path("rep")
    'sim.repetition:RepetitionSampler'
    """
    if not isinstance(name, str) or not name or ":" in name:
        raise ValueError(f"name must be a non-empty string without ':', got {name!r}")
    if not isinstance(path, str) or path.count(":") != 1:
        raise ValueError(f"path must look like 'package.module:Class', got {path!r}")
    _REGISTRY[name] = path


def _entry_point_names() -> dict[str, str]:
    found = {ep.name: ep.value for ep in entry_points(group="erasurelab.samplers")}
    # Built-ins, so that an un-installed checkout still resolves them.
    found.setdefault("repetition", "sim.repetition:RepetitionSampler")
    return found


def sampler_path(name_or_path: str) -> str:
    """Resolve a registered name or an import path to an import path."""
    if not isinstance(name_or_path, str) or not name_or_path:
        raise TypeError(f"sampler must be a name or 'module:Class' string, got {name_or_path!r}")
    if ":" in name_or_path:
        return name_or_path
    if name_or_path in _REGISTRY:
        return _REGISTRY[name_or_path]
    names = _entry_point_names()
    if name_or_path in names:
        return names[name_or_path]
    known = sorted(set(names) | set(_REGISTRY))
    raise ValueError(f"sampler: unknown sampler {name_or_path!r}; known: {', '.join(known)}")


def resolve_sampler(name_or_path: str | Sampler) -> Sampler:
    """Return the (per-process cached) sampler instance for a name or import path."""
    if isinstance(name_or_path, Sampler):
        return name_or_path
    path = sampler_path(name_or_path)
    inst = _INSTANCES.get(path)
    if inst is None:
        module_name, _, attr = path.partition(":")
        try:
            module = importlib.import_module(module_name)
            cls = getattr(module, attr)
        except (ImportError, AttributeError) as exc:
            raise ValueError(f"sampler: cannot import {path!r}: {exc}") from exc
        if not (isinstance(cls, type) and issubclass(cls, Sampler)):
            raise TypeError(f"sampler: {path!r} is not a sim.Sampler subclass")
        inst = cls()
        _INSTANCES[path] = inst
    return inst


def make_task(sampler: str | Sampler, params: dict[str, Any]) -> tuple[sinter.Task, str]:
    """Validate ``params`` and build the sinter task for them.

    Returns the task (placeholder circuit, ``decoder="<name>:<decoder>"``, canonical
    ``json_metadata``) and the sampler's import path.

    Examples
    --------
    >>> task, path = make_task("repetition", {"n": 3, "p": 0.1})
    >>> task.decoder, path
    ('repetition:majority', 'sim.repetition:RepetitionSampler')
    >>> len(task.strong_id())
    64
    """
    if isinstance(sampler, Sampler):
        inst = sampler
        path = f"{type(sampler).__module__}:{type(sampler).__qualname__}"
    else:
        path = sampler_path(sampler)
        inst = resolve_sampler(path)
    if not isinstance(params, dict) and callable(getattr(params, "to_json", None)):
        params = params.to_json()  # declared sim.TaskParams
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict or sim.TaskParams, got {type(params).__name__}")
    clean = canonical(inst.validate(dict(params)))
    task = sinter.Task(
        circuit=PLACEHOLDER_CIRCUIT,
        detector_error_model=_PLACEHOLDER_DEM,
        decoder=f"{inst.name}:{inst.decoder(clean)}",
        json_metadata=clean,
    )
    return task, path
