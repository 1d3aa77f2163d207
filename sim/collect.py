"""``sim.collect``: seeded fixed chunks, crash-safe resume, shards, any executor.

How determinism works
---------------------
Each task's shot sequence is cut into a fixed grid of chunks of ``C`` shots
(``C = sampler.chunk_shots(params)``; only the chunk that reaches ``max_shots`` is cut
short).  Chunk ``j`` is sampled with a generator seeded from ``(seed, strong_id, j)``.
Chunks may be computed in any order on any worker, but they are *committed* (added to the
totals and appended to the CSV) strictly in chunk order, and the stop rule
(``max_shots``, ``max_errors``) is applied to the committed prefix.  So with a seed the
totals are identical for 1, 2 or 8 workers, any executor, and any number of
interruptions.  A chunk that was cut short by an earlier, smaller ``max_shots`` is
completed by a piece seeded from ``(seed, strong_id, j, offset)``.

Sharding ``shard=(k, N)`` runs only chunks ``j ≡ k (mod N)``; the N result files combine
(``erasurelab combine``) into exactly the unsharded result.  The stop rule on errors
needs the whole prefix, so ``max_errors`` cannot be combined with sharding.
"""

from __future__ import annotations

import sys
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import sinter

from .csvio import SEED_KEY, SHOT_SUM_KEY, ResumeFile, chunk_counts
from .executors import as_executor, check_executor
from .sampler import ChunkContext, Sampler, make_task, resolve_sampler, sampler_path, seed_sequence
from .validate import check_bool, check_int, check_seed

__all__ = ["collect", "normalize_tasks"]


@dataclass(frozen=True)
class _Piece:
    chunk: int
    offset: int
    shots: int


def _run_pieces(
    path: str, params: dict, sid: str, seed: int | None, pieces: list[tuple[int, int, int, int]]
) -> list[sinter.AnonTaskStats]:
    """Worker entry point: sample a batch of consecutive pieces of one task."""
    sampler = resolve_sampler(path)
    out = []
    for chunk, offset, shots, first_shot in pieces:
        key = (chunk,) if offset == 0 else (chunk, offset)
        rng = np.random.default_rng(seed_sequence(seed, sid, *key))
        ctx = ChunkContext(seed=seed, strong_id=sid, chunk_index=chunk, first_shot=first_shot)
        t0 = time.perf_counter()
        st = sampler.sample(params, shots, rng, ctx)
        dt = time.perf_counter() - t0
        if st.shots != shots:
            raise RuntimeError(f"sampler {path} returned {st.shots} shots, asked for {shots}")
        if any(k.startswith(SEED_KEY) or k == SHOT_SUM_KEY for k in st.custom_counts):
            raise RuntimeError(f"sampler {path}: custom_counts keys starting with 'sim:' are "
                               "reserved for the engine's bookkeeping")
        out.append(
            sinter.AnonTaskStats(
                shots=st.shots,
                errors=st.errors,
                discards=st.discards,
                seconds=st.seconds or dt,
                # which chunk grid positions and seed: lets a resume spot a chunk seen twice
                custom_counts=st.custom_counts + chunk_counts(seed, first_shot, shots),
            )
        )
    return out


@dataclass
class _State:
    task: sinter.Task
    sid: str
    path: str
    params: dict
    chunk: int
    prior: sinter.AnonTaskStats
    pieces: Iterator[_Piece]
    committed: sinter.AnonTaskStats = field(default_factory=sinter.AnonTaskStats)
    unsaved: sinter.AnonTaskStats = field(default_factory=sinter.AnonTaskStats)
    dispatched: int = 0  # pieces handed out
    next_commit: int = 0  # index of the next piece to commit
    results: dict[int, sinter.AnonTaskStats] = field(default_factory=dict)
    exhausted: bool = False
    done: bool = False
    sec_per_shot: float = 0.0
    lookahead: deque = field(default_factory=deque)

    def total(self) -> sinter.AnonTaskStats:
        return self.prior + self.committed


def _pieces(k: int, n: int, chunk: int, done_shots: int, max_shots: int) -> Iterator[_Piece]:
    i0, o0 = divmod(done_shots, chunk)
    i = i0
    while True:
        j = k + n * i
        start = j * chunk
        if start >= max_shots:
            return
        end = min(start + chunk, max_shots)
        off = o0 if i == i0 else 0
        if start + off < end:
            yield _Piece(j, off, end - start - off)
        i += 1


def normalize_tasks(tasks: Iterable[Any]) -> list[tuple[sinter.Task, str]]:
    """Turn ``(sampler, params)`` pairs or tasks made by ``make_task`` into (task, path)."""
    if isinstance(tasks, (sinter.Task, tuple)) and not isinstance(tasks, list):
        tasks = [tasks]
    out: list[tuple[sinter.Task, str]] = []
    for i, t in enumerate(tasks):
        if isinstance(t, sinter.Task):
            if not t.decoder or ":" not in t.decoder:
                raise ValueError(f"tasks[{i}]: decoder must be '<sampler>:<decoder>'")
            path = sampler_path(t.decoder.split(":", 1)[0])
            task2, path = make_task(path, dict(t.json_metadata or {}))
            out.append((task2, path))
        elif isinstance(t, tuple) and len(t) == 2 and isinstance(t[1], dict):
            out.append(make_task(t[0], t[1]))
        else:
            raise TypeError(
                f"tasks[{i}]: expected a (sampler, params) pair or a sinter.Task, got {t!r}"
            )
    return out


def _check_args(max_shots, max_errors, seed, shard):
    if isinstance(max_shots, bool) or not isinstance(max_shots, (int, np.integer)):
        raise TypeError(f"max_shots must be a positive integer, got {max_shots!r}")
    if max_shots <= 0:
        raise ValueError(f"max_shots must be a positive integer, got {max_shots}")
    if max_errors is not None:
        if isinstance(max_errors, bool) or not isinstance(max_errors, (int, np.integer)):
            raise TypeError(f"max_errors must be a positive integer or None, got {max_errors!r}")
        if max_errors <= 0:
            raise ValueError(f"max_errors must be a positive integer or None, got {max_errors}")
    check_seed("seed", seed)  # [0, 2**64): 2**64 would silently be seed 0
    if shard is None:
        return 0, 1
    if (
        not isinstance(shard, tuple)
        or len(shard) != 2
        or not all(isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))
                   for v in shard)
        or not (shard[1] >= 1 and 0 <= shard[0] < shard[1])
    ):
        raise ValueError(f"shard must be a pair (k, N) of integers with 0 <= k < N, "
                         f"got {shard!r}")
    shard = (check_int("shard[0]", shard[0]), check_int("shard[1]", shard[1]))
    if shard[1] > 1 and max_errors is not None:
        raise ValueError(
            "shard: max_errors cannot be combined with sharding (the stop rule needs the "
            "whole chunk prefix); use max_shots only"
        )
    return shard


def collect(
    tasks: Iterable[Any],
    *,
    max_shots: int,
    max_errors: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    executor: Any = None,
    shard: tuple[int, int] | None = None,
    save_resume_filepath: str | Path | None = None,
    progress: bool | None = None,
    allow_seed_change: bool = False,
) -> list[sinter.TaskStats]:
    """Sample tasks to ``max_shots`` (or ``max_errors``), deterministically given ``seed``.

    Parameters
    ----------
    tasks
        ``(sampler, params)`` pairs (sampler: a registered name such as ``"repetition"``,
        or an import path ``"module:Class"``), or tasks from :func:`sim.make_task`.
    max_shots
        Shots per task (for a shard: the task's whole budget, of which the shard runs
        its slice).
    max_errors
        Stop a task once its committed prefix has this many errors.
    seed
        Seed for the chunk generators; ``None`` gives fresh entropy (not reproducible).
    workers
        Processes of the default ``spawn`` pool; ``1`` runs in-process.  Default: CPUs.
    executor
        Any :class:`concurrent.futures.Executor`, or a dask ``distributed.Client``.
    shard
        ``(k, N)``: run only the k-th of N interleaved slices of each chunk grid.
    save_resume_filepath
        A sinter CSV file: rows are appended (flush + fsync), and a rerun continues from
        what it holds.  The file is locked while the run writes (a second writer gets
        :class:`sim.csvio.FileInUseError`); a file that is not a sinter CSV is refused
        unchanged; rows repeating a chunk are reported (:mod:`sim.csvio`).
    progress
        Show a tqdm bar on stderr (default: when stderr is a terminal).
    allow_seed_change
        Resume a file whose rows of a task were drawn with another seed (refused by
        default: :class:`sim.csvio.SeedMismatchError`).

    Returns
    -------
    list of sinter.TaskStats
        One per task (input order): everything committed for it, earlier runs included.

    Examples
    --------
    >>> stats = collect([("repetition", {"n": 3, "p": 0.1})], max_shots=10_000, seed=1,
    ...                 workers=1)
    >>> stats[0].shots
    10000
    """
    k, n_shards = _check_args(max_shots, max_errors, seed, shard)
    check_executor(executor, workers)  # before the result file is touched
    check_bool("allow_seed_change", allow_seed_change)
    pairs = normalize_tasks(tasks)
    if save_resume_filepath is None:
        return _collect(pairs, k, n_shards, max_shots, max_errors, seed, workers, executor,
                        progress, allow_seed_change, None)
    # locked for the whole run; a file that is not ours is refused before any repair
    with ResumeFile(save_resume_filepath) as resume:
        return _collect(pairs, k, n_shards, max_shots, max_errors, seed, workers, executor,
                        progress, allow_seed_change, resume)


def _collect(pairs, k, n_shards, max_shots, max_errors, seed, workers, executor, progress,
             allow_seed_change, resume):
    prior: dict[str, sinter.TaskStats] = resume.prior if resume is not None else {}
    states: list[_State] = []
    seen: set[str] = set()
    for task, spath in pairs:
        sid = task.strong_id()
        if sid in seen:
            continue
        seen.add(sid)
        sampler = resolve_sampler(spath)
        chunk = int(sampler.chunk_shots(task.json_metadata))
        if chunk < 1:
            raise ValueError(f"{spath}.chunk_shots returned {chunk}; must be >= 1")
        if resume is not None:
            resume.check(sid, seed=seed, shard=(k, n_shards), chunk_shots=chunk,
                         allow_seed_change=allow_seed_change)
        p = prior.get(sid)
        pr = (
            sinter.AnonTaskStats(
                shots=p.shots,
                errors=p.errors,
                discards=p.discards,
                seconds=p.seconds,
                custom_counts=p.custom_counts,
            )
            if p
            else sinter.AnonTaskStats()
        )
        st = _State(
            task=task,
            sid=sid,
            path=spath,
            params=task.json_metadata,
            chunk=chunk,
            prior=pr,
            pieces=_pieces(k, n_shards, chunk, pr.shots, int(max_shots)),
        )
        if max_errors is not None and pr.errors >= max_errors:
            st.done = True
        states.append(st)

    # Warm kernels in this process first, so JIT time stays out of the figures and the
    # Numba cache is written before any worker starts.
    warmed: set[str] = set()
    for st in states:
        if st.path not in warmed and not st.done:
            resolve_sampler(st.path).warm(st.params)
            warmed.add(st.path)

    ex, owned, parallel = as_executor(executor, workers)
    show = sys.stderr.isatty() if progress is None else bool(progress)
    bar = None
    if show:
        from tqdm.auto import tqdm

        remaining = 0
        for st in states:
            if not st.done:
                remaining += sum(pc.shots for pc in _pieces(k, n_shards, st.chunk, st.prior.shots,
                                                              int(max_shots)))
        bar = tqdm(total=remaining, unit="shot", file=sys.stderr, dynamic_ncols=True,
                   desc="collect")

    inflight: dict[Future, tuple[_State, int, int]] = {}
    target_seconds = 0.5 if parallel > 1 else 0.25
    last_flush = time.monotonic()

    def flush(force: bool = False) -> None:
        nonlocal last_flush
        if not force and time.monotonic() - last_flush < 1.0:
            return
        rows = []
        for st in states:
            u = st.unsaved
            if u.shots or u.errors or u.discards:
                rows.append(
                    sinter.TaskStats(
                        strong_id=st.sid,
                        decoder=st.task.decoder,
                        json_metadata=st.task.json_metadata,
                        shots=u.shots,
                        errors=u.errors,
                        discards=u.discards,
                        seconds=u.seconds,
                        custom_counts=u.custom_counts,
                    )
                )
                st.unsaved = sinter.AnonTaskStats()
        if rows and resume is not None:
            resume.append(rows)
        last_flush = time.monotonic()

    def dispatch(st: _State) -> bool:
        if st.done or st.exhausted:
            return False
        # Batch consecutive pieces so one future takes about target_seconds.
        per_piece = st.sec_per_shot * st.chunk
        nb = 1 if per_piece <= 0 else max(1, min(256, int(target_seconds / per_piece)))
        batch: list[_Piece] = []
        for _ in range(nb):
            try:
                batch.append(next(st.pieces))
            except StopIteration:
                st.exhausted = True
                break
        if not batch:
            return False
        fut = ex.submit(
            _run_pieces,
            st.path,
            st.params,
            st.sid,
            None if seed is None else int(seed),
            [(pc.chunk, pc.offset, pc.shots, pc.chunk * st.chunk + pc.offset) for pc in batch],
        )
        inflight[fut] = (st, st.dispatched, len(batch))
        st.dispatched += len(batch)
        return True

    def commit(st: _State) -> None:
        while not st.done and st.next_commit in st.results:
            r = st.results.pop(st.next_commit)
            st.next_commit += 1
            st.committed += r
            st.unsaved += r
            if bar is not None:
                bar.update(r.shots)
            if max_errors is not None and st.total().errors >= max_errors:
                st.done = True
        if st.exhausted and st.next_commit == st.dispatched and not st.results:
            st.done = True
        if st.done:
            st.results.clear()

    try:
        max_inflight = max(2, 2 * parallel)
        rr = 0
        while True:
            active = [st for st in states if not st.done]
            # fill the pipeline round-robin over tasks still running
            progressed = True
            while len(inflight) < max_inflight and progressed:
                progressed = False
                pool = [st for st in active if not st.exhausted]
                for _ in range(len(pool)):
                    st = pool[rr % len(pool)]
                    rr += 1
                    if dispatch(st):
                        progressed = True
                        break
            if not inflight:
                for st in states:
                    commit(st)
                if all(st.done for st in states):
                    break
                if not any(not st.exhausted for st in states if not st.done):
                    break
                continue
            finished, _ = wait(list(inflight), return_when=FIRST_COMPLETED)
            for fut in finished:
                st, first, count = inflight.pop(fut)
                if st.done or fut.cancelled():
                    continue  # a task already stopped (max_errors): its late pieces are dropped
                res = fut.result()
                shots = sum(r.shots for r in res)
                secs = sum(r.seconds for r in res)
                if shots:
                    est = secs / shots
                    st.sec_per_shot = est if st.sec_per_shot == 0 else 0.5 * (st.sec_per_shot + est)
                for i, r in enumerate(res):
                    st.results[first + i] = r
                commit(st)
                if st.done:
                    for f2, (s2, _, _) in list(inflight.items()):
                        if s2 is st and f2.cancel():
                            del inflight[f2]  # never started; a cancelled future has no result
            if bar is not None:
                ndone = sum(st.done for st in states)
                errs = sum(st.total().errors for st in states)
                bar.set_postfix_str(f"tasks {ndone}/{len(states)} errors {errs}", refresh=False)
            flush()
        flush(force=True)  # (the file exists from the start: a shard with an empty slice
        # leaves its header-only file)
    finally:
        if bar is not None:
            bar.close()
        if owned:
            ex.shutdown(wait=True, cancel_futures=True)

    out = []
    for st in states:
        t = st.total()
        out.append(
            sinter.TaskStats(
                strong_id=st.sid,
                decoder=st.task.decoder,
                json_metadata=st.task.json_metadata,
                shots=t.shots,
                errors=t.errors,
                discards=t.discards,
                seconds=t.seconds,
                custom_counts=t.custom_counts,
            )
        )
    return out


def sinter_decoders(tasks: Iterable[Any]) -> dict[str, Sampler]:
    """``custom_decoders`` for ``sinter.collect`` running our tasks (unseeded).

    Examples
    --------
    >>> from sim import make_task
    >>> task, _ = make_task("repetition", {"n": 3, "p": 0.1})
    >>> sorted(sinter_decoders([task]))
    ['repetition:majority']
    """
    out: dict[str, Sampler] = {}
    for task, path in normalize_tasks(tasks):
        out[task.decoder] = resolve_sampler(path)
    return out


