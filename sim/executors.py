"""The executor seam: in-process, a spawn process pool, or any concurrent.futures executor."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import threading
import time
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from importlib.util import find_spec
from typing import Any

import numpy as np

__all__ = ["InProcessExecutor", "as_executor", "check_executor", "default_workers",
           "worker_init"]


class InProcessExecutor(Executor):
    """Runs each submitted call immediately in the calling process (``workers=1``)."""

    def submit(self, fn, /, *args: Any, **kwargs: Any) -> Future:  # type: ignore[override]
        fut: Future = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - delivered through the future
            fut.set_exception(exc)
        return fut


def _watch_parent(parent: int, period: float) -> None:
    while True:
        time.sleep(period)
        if os.getppid() != parent:  # the main process is gone (SIGKILL, a crash)
            os._exit(1)


def _die_with_parent() -> None:
    """Linux: SIGKILL this process when its parent dies, even inside a long compiled
    kernel that holds the GIL (the watcher thread covers other systems)."""
    if not os.uname().sysname == "Linux":  # pragma: no cover
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover
        pass


def worker_init(parent: int, period: float = 0.5) -> None:
    """Initializer of every pool worker: Ctrl-C is the main process's business (it stops
    the run and shuts the pool down), and the worker exits by itself within ``period``
    seconds once its main process is gone, however it died (SIGKILL included): no
    orphan keeps computing."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    if os.getppid() != parent:  # it died before the line above took effect
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent, period), daemon=True,
                     name="watch-parent").start()


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
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"),
                               initializer=worker_init, initargs=(os.getpid(),))
    return pool, True, workers
