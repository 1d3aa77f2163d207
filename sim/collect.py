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

Structure
---------
:class:`Scheduler` holds the tasks and the stop rule (everything is validated when it
is built, before any shot is drawn); :meth:`Scheduler.run` is a generator of
:class:`sinter.Progress` updates, each carrying the newly committed rows.
:func:`iter_collect` is that generator, sinter-style; :func:`collect` is its thin
consumer, which appends every update's rows to the result file and shows a bar.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import sinter

from .csvio import SEED_KEY, SHOT_SUM_KEY, ResumeFile, chunk_counts, combine
from .declare import TaskParams
from .executors import as_executor, check_executor
from .sampler import ChunkContext, Sampler, make_task, resolve_sampler, sampler_path, seed_sequence
from .validate import check_bool, check_int, check_seed

__all__ = ["Scheduler", "collect", "iter_collect", "normalize_tasks", "prepare_collect"]


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
        # which chunk grid positions and seed: lets a resume spot a chunk seen twice
        out.append(st + sinter.AnonTaskStats(seconds=0.0 if st.seconds else dt,
                                             custom_counts=chunk_counts(seed, first_shot,
                                                                        shots)))
    return out


def _row(template: sinter.TaskStats, counts: sinter.AnonTaskStats) -> sinter.TaskStats:
    """The task's row (``template``: its identity, zero counts) holding ``counts``."""
    return template.with_edits(shots=counts.shots, errors=counts.errors,
                               discards=counts.discards, seconds=counts.seconds,
                               custom_counts=counts.custom_counts)


@dataclass
class _State:
    template: sinter.TaskStats
    path: str
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

    @property
    def sid(self) -> str:
        return self.template.strong_id

    @property
    def params(self) -> dict:
        return self.template.json_metadata

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


def grid_shots(k: int, n: int, chunk: int, done_shots: int, max_shots: int) -> int:
    """Shots of the pieces :func:`_pieces` would yield, in closed form (a progress total
    for ``max_shots=10**15`` without listing 10**12 chunks).

    >>> grid_shots(0, 1, 100, 250, 1000), grid_shots(1, 3, 100, 50, 1000)
    (750, 250)
    """
    i0, off = divmod(done_shots, chunk)
    n_chunks = -(-max_shots // chunk)  # the last one may be short
    if n_chunks <= k:
        return 0
    count = -(-(n_chunks - k) // n) - i0  # this shard's chunks from the resume point on
    if count <= 0:
        return 0
    total = count * chunk - off
    if (n_chunks - 1 - k) % n == 0:  # the short last chunk is this shard's
        total -= n_chunks * chunk - max_shots
    return max(0, total)


def normalize_tasks(tasks: Iterable[Any]) -> list[tuple[sinter.Task, str]]:
    """Turn ``(sampler, params)`` pairs, declared :class:`sim.TaskParams` or tasks made by
    ``make_task`` into ``(task, sampler path)`` pairs, validating every one."""
    if isinstance(tasks, (sinter.Task, tuple, TaskParams)) and not isinstance(tasks, list):
        tasks = [tasks]
    out: list[tuple[sinter.Task, str]] = []
    for i, t in enumerate(tasks):
        if isinstance(t, TaskParams):
            out.append(make_task(t.family, t))
        elif (isinstance(t, tuple) and len(t) == 2 and isinstance(t[0], sinter.Task)
              and isinstance(t[1], str)):
            out.append(t)  # already normalized: (task, sampler path)
        elif isinstance(t, sinter.Task):
            if not t.decoder or ":" not in t.decoder:
                raise ValueError(f"tasks[{i}]: decoder must be '<sampler>:<decoder>'")
            path = sampler_path(t.decoder.split(":", 1)[0])
            out.append(make_task(path, dict(t.json_metadata or {})))
        elif isinstance(t, tuple) and len(t) == 2 and isinstance(t[1], (dict, TaskParams)):
            out.append(make_task(t[0], t[1]))
        else:
            raise TypeError(
                f"tasks[{i}]: expected a (sampler, params) pair, a sim.TaskParams or a "
                f"sinter.Task, got {t!r}"
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


class Scheduler:
    """The tasks of one collection, their fixed chunk grids and the stop rule.

    Building one validates everything (the tasks, ``max_shots``, ``max_errors``,
    ``seed``, ``shard``, the executor) and subtracts ``existing`` rows (earlier runs,
    ``sinter.TaskStats``) from each task's budget; nothing is sampled until :meth:`run` is
    iterated.  Arguments are those of :func:`collect`; the result file is
    :func:`prepare_collect`'s business.

    Examples
    --------
    >>> s = Scheduler([("repetition", {"n": 3, "p": 0.1})], max_shots=1000, seed=1,
    ...               workers=1)
    >>> s.remaining_shots()
    1000
    >>> rows = [r for update in s.run() for r in update.new_stats]
    >>> sum(r.shots for r in rows), s.totals()[0].shots
    (1000, 1000)
    """

    def __init__(self, tasks: Iterable[Any], *, max_shots: int, max_errors: int | None = None,
                 seed: int | None = None, workers: int | None = None, executor: Any = None,
                 shard: tuple[int, int] | None = None,
                 existing: Iterable[sinter.TaskStats] = ()):
        self.k, self.n_shards = _check_args(max_shots, max_errors, seed, shard)
        check_executor(executor, workers)
        self.max_shots = int(max_shots)
        self.max_errors = max_errors
        self.seed = None if seed is None else int(seed)
        self.workers = workers
        self.executor = executor
        pairs = normalize_tasks(tasks)
        prior = {s.strong_id: s for s in combine(existing)}
        self.states: list[_State] = []
        seen: set[str] = set()
        for task, spath in pairs:
            sid = task.strong_id()
            if sid in seen:
                continue
            seen.add(sid)
            chunk = int(resolve_sampler(spath).chunk_shots(task.json_metadata))
            if chunk < 1:
                raise ValueError(f"{spath}.chunk_shots returned {chunk}; must be >= 1")
            template = sinter.TaskStats(strong_id=sid, decoder=task.decoder,
                                        json_metadata=task.json_metadata, shots=0)
            p = prior.get(sid)
            pr = p.to_anon_stats() if p else sinter.AnonTaskStats()
            st = _State(template=template, path=spath, chunk=chunk, prior=pr,
                        pieces=self._grid(chunk, pr.shots))
            st.done = max_errors is not None and pr.errors >= max_errors
            self.states.append(st)
        self._inflight: dict[Future, tuple[_State, int, int]] = {}
        self._ex: Any = None
        self._target_seconds = 0.25
        self.stopped = False  # set by request_stop(): the run ends early

    def request_stop(self) -> None:
        """End the run early, from a signal handler or another thread: nothing new is
        dispatched, pieces already running finish, and :meth:`run` yields what was
        committed (a prefix of every task's chunk grid, so a rerun resumes exactly)."""
        self.stopped = True

    def _grid(self, chunk: int, done_shots: int) -> Iterator[_Piece]:
        return _pieces(self.k, self.n_shards, chunk, done_shots, self.max_shots)

    def remaining_shots(self) -> int:
        """Shots still to run (before any ``max_errors`` stop)."""
        return sum(grid_shots(self.k, self.n_shards, st.chunk,
                              st.prior.shots + st.committed.shots, self.max_shots)
                   for st in self.states if not st.done)

    def totals(self) -> list[sinter.TaskStats]:
        """One row per task (input order): everything committed, earlier runs included."""
        return [_row(st.template, st.total()) for st in self.states]

    def status(self) -> str:
        """``"tasks D/N errors E"``."""
        ndone = sum(st.done for st in self.states)
        errs = sum(st.total().errors for st in self.states)
        return f"tasks {ndone}/{len(self.states)} errors {errs}"

    # ----- the run loop ---------------------------------------------------------------
    def _dispatch(self, st: _State) -> bool:
        if st.done or st.exhausted:
            return False
        # Batch consecutive pieces so one future takes about target_seconds.
        per_piece = st.sec_per_shot * st.chunk
        nb = 1 if per_piece <= 0 else max(1, min(256, int(self._target_seconds / per_piece)))
        batch: list[_Piece] = []
        for _ in range(nb):
            try:
                batch.append(next(st.pieces))
            except StopIteration:
                st.exhausted = True
                break
        if not batch:
            return False
        fut = self._ex.submit(
            _run_pieces, st.path, st.params, st.sid, self.seed,
            [(pc.chunk, pc.offset, pc.shots, pc.chunk * st.chunk + pc.offset) for pc in batch],
        )
        self._inflight[fut] = (st, st.dispatched, len(batch))
        st.dispatched += len(batch)
        return True

    def _commit(self, st: _State) -> None:
        while not st.done and st.next_commit in st.results:
            r = st.results.pop(st.next_commit)
            st.next_commit += 1
            st.committed += r
            st.unsaved += r
            if self.max_errors is not None and st.total().errors >= self.max_errors:
                st.done = True
        if st.exhausted and st.next_commit == st.dispatched and not st.results:
            st.done = True
        if st.done:
            st.results.clear()

    def _fill(self, max_inflight: int, rr: int) -> int:
        """Fill the pipeline round-robin over the tasks still running."""
        progressed = True
        while len(self._inflight) < max_inflight and progressed:
            progressed = False
            pool = [st for st in self.states if not st.done and not st.exhausted]
            for _ in range(len(pool)):
                st = pool[rr % len(pool)]
                rr += 1
                if self._dispatch(st):
                    progressed = True
                    break
        return rr

    def _receive(self) -> None:
        # a timeout, so that a stop request is seen while a long piece runs
        finished, _ = wait(list(self._inflight), timeout=0.25, return_when=FIRST_COMPLETED)
        for fut in finished:
            st, first, count = self._inflight.pop(fut)
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
            self._commit(st)
            if st.done:
                for f2, (s2, _, _) in list(self._inflight.items()):
                    if s2 is st and f2.cancel():
                        del self._inflight[f2]  # never started; a cancelled future has no result

    def _update(self) -> sinter.Progress:
        rows = []
        for st in self.states:
            u = st.unsaved
            if u.shots or u.errors or u.discards:
                rows.append(_row(st.template, u))
                st.unsaved = sinter.AnonTaskStats()
        return sinter.Progress(new_stats=tuple(rows), status_message=self.status())

    def run(self) -> Iterator[sinter.Progress]:
        """Sample until every task meets its stop rule, yielding :class:`sinter.Progress`
        updates (newly committed rows, at most about once a second, and a last one)."""
        # Warm kernels in this process first, so JIT time stays out of the figures and the
        # Numba cache is written before any worker starts.
        warmed: set[str] = set()
        for st in self.states:
            if st.path not in warmed and not st.done:
                resolve_sampler(st.path).warm(st.params)
                warmed.add(st.path)
        self._ex, owned, parallel = as_executor(self.executor, self.workers)
        self._target_seconds = 0.5 if parallel > 1 else 0.25
        last = time.monotonic()
        try:
            max_inflight = max(2, 2 * parallel)
            rr = 0
            while not self.stopped:
                rr = self._fill(max_inflight, rr)
                if not self._inflight:
                    for st in self.states:
                        self._commit(st)
                    if all(st.done or st.exhausted for st in self.states):
                        break
                    continue
                self._receive()
                if self.stopped:
                    break
                if time.monotonic() - last >= 1.0:
                    update = self._update()
                    last = time.monotonic()
                    if update.new_stats:
                        yield update
            yield self._update()
        finally:
            if owned:
                self._ex.shutdown(wait=True, cancel_futures=True)
            self._inflight.clear()


def iter_collect(tasks: Iterable[Any], *, max_shots: int, max_errors: int | None = None,
                 seed: int | None = None, workers: int | None = None, executor: Any = None,
                 shard: tuple[int, int] | None = None,
                 existing: Iterable[sinter.TaskStats] = ()) -> Iterator[sinter.Progress]:
    """Sample tasks, yielding :class:`sinter.Progress` updates (as ``sinter.iter_collect``).

    Arguments are checked when this is called, before anything is sampled; the rows of
    every update add up to what a task sampled (``existing`` rows, from earlier runs,
    are subtracted from each task's budget and not yielded again).  See :func:`collect`.

    Examples
    --------
    >>> updates = iter_collect([("repetition", {"n": 3, "p": 0.1})], max_shots=500, seed=1,
    ...                        workers=1)
    >>> sum(row.shots for u in updates for row in u.new_stats)
    500
    """
    return Scheduler(tasks, max_shots=max_shots, max_errors=max_errors, seed=seed,
                     workers=workers, executor=executor, shard=shard, existing=existing).run()


def _consume(scheduler: Scheduler, resume: ResumeFile | None,
             progress: bool | None) -> list[sinter.TaskStats]:
    """Run ``scheduler``: append each update's rows to the file, drive the bar."""
    show = sys.stderr.isatty() if progress is None else bool(progress)
    bar = None
    if show:
        from tqdm.auto import tqdm

        bar = tqdm(total=scheduler.remaining_shots(), unit="shot", file=sys.stderr,
                   dynamic_ncols=True, desc="collect")
    try:
        for update in scheduler.run():
            if resume is not None and update.new_stats:
                resume.append(update.new_stats)
            if bar is not None:
                bar.update(sum(r.shots for r in update.new_stats))
                bar.set_postfix_str(update.status_message, refresh=False)
    finally:
        if bar is not None:
            bar.close()
    return scheduler.totals()


def prepare_collect(
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
) -> Callable[[], list[sinter.TaskStats]]:
    """Check everything :func:`collect` would (the arguments, every task, the result file:
    locked, repaired, its rows checked against the run) and return the run itself.

    Nothing is sampled until the returned function is called; if it never is, call
    ``.close()`` on it to release the file.  The command line uses this to tell input
    rejected up front (exit code 2) from a failure while sampling (exit code 1).
    """
    k, n_shards = _check_args(max_shots, max_errors, seed, shard)
    check_executor(executor, workers)  # before the result file is touched
    check_bool("allow_seed_change", allow_seed_change)
    pairs = normalize_tasks(tasks)
    opts = dict(max_shots=max_shots, max_errors=max_errors, seed=seed, workers=workers,
                executor=executor, shard=shard)
    if save_resume_filepath is None:
        scheduler = Scheduler(pairs, **opts)
        return _Run(scheduler, None, progress)
    # locked for the whole run; a file that is not ours is refused before any repair
    resume = ResumeFile(save_resume_filepath, name="save_resume_filepath")
    try:
        scheduler = Scheduler(pairs, existing=resume.prior.values(), **opts)
        for st in scheduler.states:
            resume.check(st.sid, seed=seed, shard=(k, n_shards), chunk_shots=st.chunk,
                         allow_seed_change=allow_seed_change)
    except BaseException:
        resume.close(failed=True)
        raise
    return _Run(scheduler, resume, progress)


class _Run:
    """A prepared collection: call it to sample (once); the result file is released
    afterwards, or by :meth:`close` if it is never called."""

    def __init__(self, scheduler: Scheduler, resume: ResumeFile | None,
                 progress: bool | None):
        self.scheduler, self.resume, self.progress = scheduler, resume, progress

    def __call__(self) -> list[sinter.TaskStats]:
        if self.resume is None:
            return _consume(self.scheduler, None, self.progress)
        with self.resume:  # released (and an empty new file removed) if this fails
            return _consume(self.scheduler, self.resume, self.progress)

    def close(self) -> None:
        if self.resume is not None:
            self.resume.close(failed=True)

    def stop(self) -> None:
        """Stop the run early (safe in a signal handler): see
        :meth:`Scheduler.request_stop`; the call then returns the committed totals."""
        self.scheduler.request_stop()

    @property
    def stopped(self) -> bool:
        """Whether the run was stopped early."""
        return self.scheduler.stopped


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
        or an import path ``"module:Class"``; params: a dict or declared
        :class:`sim.TaskParams`), declared parameters alone, or tasks from
        :func:`sim.make_task`.
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
    return prepare_collect(tasks, max_shots=max_shots, max_errors=max_errors, seed=seed,
                           workers=workers, executor=executor, shard=shard,
                           save_resume_filepath=save_resume_filepath, progress=progress,
                           allow_seed_change=allow_seed_change)()


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
