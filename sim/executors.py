"""The executor seam: in-process, a spawn process pool, or any concurrent.futures executor."""

from __future__ import annotations

import multiprocessing as mp
import os
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from importlib.util import find_spec
from typing import Any

import numpy as np

__all__ = ["InProcessExecutor", "as_executor", "check_executor", "default_workers"]


class InProcessExecutor(Executor):
    """Runs each submitted call immediately in the calling process (``workers=1``)."""

    def submit(self, fn, /, *args: Any, **kwargs: Any) -> Future:  # type: ignore[override]
        fut: Future = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - delivered through the future
            fut.set_exception(exc)
        return fut


def default_workers() -> int:
    """Usable CPU count (respects affinity masks)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def check_executor(executor: Any = None, workers: int | None = None) -> None:
    """Raise (naming the argument) if ``executor``/``workers`` are unusable; creates nothing."""
    if executor is not None:
        if not isinstance(executor, Executor) and not (
            type(executor).__name__ == "Client" and find_spec("distributed")
        ):
            raise TypeError(
                "executor: pass a concurrent.futures.Executor or a dask distributed Client "
                "(pip install 'erasurelab[dask]')"
            )
        return
    if workers is not None and (
        isinstance(workers, (bool, np.bool_)) or not isinstance(workers, (int, np.integer))
        or workers < 1
    ):
        raise ValueError(f"workers must be a positive integer, got {workers!r}")


def as_executor(executor: Any = None, workers: int | None = None) -> tuple[Executor, bool, int]:
    """Normalise ``executor``/``workers`` to ``(executor, owned, parallelism)``.

    ``owned`` says whether the caller must shut the executor down.  A dask
    ``distributed.Client`` is turned into its ``get_executor()``.
    """
    check_executor(executor, workers)
    workers = None if workers is None else int(workers)
    if executor is not None:
        if isinstance(executor, Executor):
            par = getattr(executor, "_max_workers", None) or workers or default_workers()
            return executor, False, int(par)
        nthreads = sum(executor.nthreads().values()) if hasattr(executor, "nthreads") else 0
        return executor.get_executor(), False, int(nthreads or workers or default_workers())
    if workers is None:
        workers = default_workers()
    if workers == 1:
        return InProcessExecutor(), True, 1
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"))
    return pool, True, workers
