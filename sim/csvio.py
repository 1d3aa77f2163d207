"""Reading, repairing and appending result files (sinter CSV and tidy CSV), crash-safely.

The format is sinter's (``sinter.CSV_HEADER``), so ``sinter combine`` and ``sinter plot``
read our files unchanged.  Appends are single ``os.write`` calls, then fsync; a file
whose last line was cut by a crash is repaired (cut back to its last newline) with a
warning that names the line; any other malformed line is an error naming the file and
line.

What a result file is protected against
---------------------------------------
* **Not ours.**  A file is only ever modified (repaired, appended to, rewritten) when
  its first line is sinter's CSV header or the tidy-CSV header of :func:`sim.run_grid`
  (or it is empty, or holds a cut-off prefix of such a header).  Anything else, a user's
  notes or a figure given as ``--out`` by mistake, is refused by name
  (:class:`ForeignFileError`) before a byte is changed.
* **Two writers.**  A writer holds an exclusive ``flock`` on the file for as long as it
  appends; a second one is refused by name (:class:`FileInUseError`) instead of
  sampling the same chunks again and counting every error twice.
* **Chunks counted twice, seeds mixed.**  Every row written by :func:`sim.collect`
  carries two bookkeeping counts in its ``custom_counts`` (sinter-compatible: counts
  that add up when rows are merged, so ``sinter combine`` keeps them meaningful):

  - ``sim:seed=<seed>`` (``sim:seed=none`` without a seed): the shots drawn with that
    seed;
  - ``sim:shot_index_sum``: the sum of the positions, in the task's chunk grid, of the
    shots the row holds.

  On resume the shots of a task must be exactly the first ones of its chunk grid (of
  the shard being resumed), and the sum of their positions has one possible value; a
  chunk present twice (two writers without a working lock, files concatenated, rows from
  another shard) gives another, and is reported (:class:`DuplicateChunkError`, naming
  the lines).  Rows drawn with another seed than the resuming run's are refused
  (:class:`SeedMismatchError`) unless ``allow_seed_change``.  Rows without these counts
  (files from older versions, rows written by ``sinter collect``) are read as before and
  not checked.

Examples
--------
>>> import sim, tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "r.csv")
>>> s = sim.collect([("repetition", {"n": 3, "p": 0.1})], max_shots=1000, seed=5,
...                 workers=1, save_resume_filepath=path)
>>> sorted(k for k in read_stats(path)[0].custom_counts if k.startswith("sim:"))
['sim:seed=5', 'sim:shot_index_sum']
>>> notes = os.path.join(os.path.dirname(path), "notes.txt")
>>> open(notes, "w").write("my notes")
8
>>> try:
...     sim.collect([("repetition", {"n": 3, "p": 0.1})], max_shots=10, seed=5, workers=1,
...                 save_resume_filepath=notes)
... except ForeignFileError as exc:
...     print(str(exc).split(": ", 1)[1])
not a sinter CSV result file (its first line is not the CSV header); refusing to modify it
>>> open(notes).read()
'my notes'
"""

from __future__ import annotations

import csv
import errno
import io
import json
import math
import os
import warnings
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import sinter

from .validate import FIGURE_SUFFIXES, check_output_path

try:  # POSIX advisory locks; elsewhere concurrent writers are caught on resume only
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "SEED_KEY",
    "SHOT_SUM_KEY",
    "CorruptCSVError",
    "DuplicateChunkError",
    "FileInUseError",
    "ForeignFileError",
    "ResultFile",
    "ResultFileError",
    "ResumeFile",
    "SeedMismatchError",
    "append_rows",
    "check_result_path",
    "chunk_counts",
    "combine",
    "ensure_file",
    "prefix_shot_index_sum",
    "read_stats",
    "repair_truncated",
    "result_file_kind",
    "seed_key",
]

_HEADER = [h.strip() for h in sinter.CSV_HEADER.split(",")]
#: The tidy-CSV header of :func:`sim.run_grid` (kept here so both formats are known).
GRID_HEADER = ["key", "fn", "params", "seed", "metric", "value", "of", "seconds"]
_HEADER_LINES = {
    "sinter": sinter.CSV_HEADER.strip().encode() + b"\n",
    "grid": ",".join(GRID_HEADER).encode() + b"\n",
}
_NAMES = {"sinter": "sinter CSV", "grid": "tidy CSV (sim.run_grid)"}

#: custom_counts key prefix of the bookkeeping counts (``sim:seed=7``).
SEED_KEY = "sim:seed="
#: custom_counts key of the sum of the rows' shot positions in the chunk grid.
SHOT_SUM_KEY = "sim:shot_index_sum"


class ResultFileError(ValueError):
    """A result file cannot be used as asked (the message names the file)."""


class CorruptCSVError(ResultFileError):
    """A result file has a malformed line (the message names the file and line)."""


class DuplicateChunkError(CorruptCSVError):
    """A result file holds some chunk of a task twice (or chunks of another shard)."""


class ForeignFileError(ResultFileError):
    """The file is not a result file of the expected kind; it was not modified."""


class FileInUseError(ResultFileError):
    """Another process is writing the file (it holds the file's lock)."""


class SeedMismatchError(ResultFileError):
    """The file's rows of a task were drawn with another seed than the resuming run's."""


# --------------------------------------------------------------------------- kinds
def result_file_kind(path: str | os.PathLike) -> str | None:
    """What ``path`` holds: ``"sinter"``, ``"grid"``, ``"empty"`` or ``None`` (not ours).

    ``"empty"`` is a missing or 0-byte file, or one holding only a cut-off prefix of a
    header line (a crash while the header was written).  Reads the first line only.

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "x.csv")
    >>> result_file_kind(p)
    'empty'
    >>> _ = open(p, "w").write("my notes")
    >>> result_file_kind(p) is None
    True
    """
    p = Path(path)
    if not p.exists():
        return "empty"
    if not p.is_file():
        return None
    with open(p, "rb") as fh:
        head = fh.read(4096)
    if not head:
        return "empty"
    nl = head.find(b"\n")
    if nl < 0:
        if len(head) >= 4096:
            return None
        # a header cut short by a crash: a strict prefix of one of ours
        return "empty" if any(h.startswith(head) for h in _HEADER_LINES.values()) else None
    try:
        first = head[:nl].decode("utf-8").rstrip("\r")
    except UnicodeDecodeError:
        return None
    cols = [c.strip() for c in first.split(",")]
    if cols == _HEADER:
        return "sinter"
    if cols == GRID_HEADER:
        return "grid"
    return None


#: Suffixes a result CSV may not have: figure, circuit and diagram formats.
NOT_CSV_SUFFIXES = (*FIGURE_SUFFIXES, ".html", ".stim")


def check_result_path(name: str, path: str | os.PathLike, kind: str = "sinter") -> Path:
    """Check a result CSV path before anything is written (nothing is opened for
    writing): a usable file path (:func:`sim.validate.check_output_path`) without a
    figure/circuit suffix, holding nothing or a ``kind`` result file.  Raises
    :class:`ResultFileError` (:class:`ForeignFileError` for a file that is not ours)
    naming ``name``.

    >>> check_result_path("--out", "res.png")
    Traceback (most recent call last):
    ...
    sim.csvio.ResultFileError: --out res.png: expected a CSV file, not a .png file
    """
    try:
        p = check_output_path(name, path, refuse_suffixes=NOT_CSV_SUFFIXES,
                              expected="a CSV file")
    except ValueError as exc:
        raise ResultFileError(str(exc)) from None
    _check_kind(p, kind)
    return p


def _check_kind(path: Path, kind: str) -> None:
    got = result_file_kind(path)
    if got == "empty" or got == kind:
        return
    if got is None:
        why = ("it is not a regular file" if path.exists() and not path.is_file()
               else "its first line is not the CSV header")
        raise ForeignFileError(
            f"{path}: not a {_NAMES[kind]} result file ({why}); refusing to modify it"
        )
    raise ForeignFileError(
        f"{path}: holds {_NAMES[got]} results, not {_NAMES[kind]}; refusing to modify it"
    )


# --------------------------------------------------------------------------- locked file
def _write_all(fd: int, blob: bytes) -> None:
    """Append ``blob`` with raw writes; on failure cut the file back to where it was."""
    start = os.lseek(fd, 0, os.SEEK_END)
    try:
        view = memoryview(blob)
        while view:
            n = os.write(fd, view)
            view = view[n:]
        os.fsync(fd)
    except BaseException:
        try:  # never leave half a line behind (best effort: the disk may be gone)
            os.ftruncate(fd, start)
        except OSError:
            pass
        raise


class ResultFile:
    """A result file opened for appending under an exclusive lock.

    Opening creates the file if needed (with its header), takes a non-blocking
    exclusive ``flock`` (another writer: :class:`FileInUseError`), checks that the file
    is of ``kind`` (else :class:`ForeignFileError`, nothing changed) and repairs a cut
    last line.  Use as a context manager; a file created by this object and left with
    nothing but its header is removed again when the block fails.

    Parameters
    ----------
    path : the file.
    kind : ``"sinter"`` (sinter CSV) or ``"grid"`` (tidy CSV of :func:`sim.run_grid`).
    """

    def __init__(self, path: str | os.PathLike, kind: str = "sinter", *, name: str = "path"):
        if kind not in _HEADER_LINES:
            raise ValueError(f"kind must be 'sinter' or 'grid', got {kind!r}")
        self.created = False
        self.appended = False
        self._fd: int | None = None
        # before the file is opened for writing
        self.path = check_result_path(name, path, kind)
        self.kind = kind
        flags = os.O_RDWR | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(self.path, flags | os.O_CREAT | os.O_EXCL, 0o666)
                self.created = True
            except FileExistsError:
                fd = os.open(self.path, flags)
        except OSError as exc:
            raise ResultFileError(f"{self.path}: cannot write this file ({exc.strerror or exc})"
                                  ) from None
        self._fd = fd
        try:
            self._lock()
            _check_kind(self.path, kind)  # again, under the lock
            if self.created or os.fstat(fd).st_size == 0:
                _write_all(fd, _HEADER_LINES[kind])
            else:
                self._repair()
        except BaseException:
            self.close(failed=True)
            raise

    def _lock(self) -> None:
        if fcntl is None:  # pragma: no cover
            return
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise FileInUseError(
                    f"{self.path}: another process is writing this file (it holds its lock);"
                    " wait for it to finish or write to another file"
                ) from None
            warnings.warn(  # a file system without locks: resume checks still catch repeats
                f"{self.path}: cannot lock the file ({exc.strerror}); concurrent writers "
                "will not be refused", RuntimeWarning, stacklevel=3)

    def _repair(self) -> None:
        fd = self._fd
        size = os.fstat(fd).st_size
        if size == 0:
            return
        os.lseek(fd, size - 1, os.SEEK_SET)
        if os.read(fd, 1) == b"\n":
            return
        os.lseek(fd, 0, os.SEEK_SET)
        data = b""
        while len(data) < size:
            chunk = os.read(fd, size - len(data))
            if not chunk:
                break
            data += chunk
        cut = data.rfind(b"\n") + 1
        line_no = data.count(b"\n", 0, cut) + 1
        os.ftruncate(fd, cut)
        os.fsync(fd)
        if cut == 0:  # only a cut-off header was there
            _write_all(fd, _HEADER_LINES[self.kind])
        warnings.warn(
            f"{self.path}: line {line_no} was truncated (a crash mid-write?); "
            f"cut the file back to its last complete line",
            RuntimeWarning,
            stacklevel=4,
        )

    def append_text(self, text: str) -> None:
        """Append complete lines in one write (flushed and fsync'ed)."""
        if self._fd is None:
            raise ValueError(f"{self.path}: the result file is closed")
        if text:
            _write_all(self._fd, text.encode("utf-8"))
            self.appended = True

    def append(self, rows: Iterable[sinter.TaskStats]) -> None:
        """Append sinter rows in one write."""
        self.append_text("".join(r.to_csv_line() + "\n" for r in rows))

    def replace(self, text: str) -> None:
        """Atomically replace the whole file by ``text`` (which starts with the header),
        keeping the lock (a temporary file is renamed over the old one, then locked)."""
        import tempfile

        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.name, suffix=".tmp")
        try:
            _write_all(fd, text.encode("utf-8"))
        finally:
            os.close(fd)
        new_fd = os.open(tmp, os.O_RDWR | os.O_APPEND | getattr(os, "O_CLOEXEC", 0))
        old_fd, self._fd = self._fd, new_fd
        try:
            self._lock()  # nobody else can know the temporary name yet
        except BaseException:
            os.close(new_fd)
            os.unlink(tmp)
            self._fd = old_fd
            raise
        os.replace(tmp, self.path)
        if old_fd is not None:
            os.close(old_fd)

    def close(self, failed: bool = False) -> None:
        """Release the lock; after a failure, remove a file this object created and
        never appended to (so a refused run leaves nothing behind)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        if failed and self.created and not self.appended:
            try:
                os.unlink(self.path)
            except OSError:
                pass
        os.close(fd)

    def __enter__(self) -> ResultFile:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.close(failed=exc_type is not None)


# --------------------------------------------------------------------------- reading
def repair_truncated(path: str | os.PathLike) -> bool:
    """Cut ``path`` back to its last newline if its last line is unterminated.

    Returns True (and warns, naming the line) if the file was repaired.  A file that is
    not a result file (sinter or tidy CSV) is refused with :class:`ForeignFileError`
    and left untouched; one that another process is writing, with
    :class:`FileInUseError`.
    """
    p = Path(path)
    if not p.exists() or p.stat().st_size == 0:
        return False
    kind = result_file_kind(p)
    if kind is None:
        _check_kind(p, "sinter")
    with open(p, "rb") as fh:
        fh.seek(-1, os.SEEK_END)
        if fh.read(1) == b"\n":
            return False
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ResultFile(p, "sinter" if kind == "empty" else kind).close()
    for w in caught:
        warnings.warn(w.message, w.category, stacklevel=2)
    return bool(caught)


def _parse_counts(text: str, where: str) -> Counter:
    if not text.strip():
        return Counter()
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CorruptCSVError(f"{where}: custom_counts is not JSON ({exc.msg})") from None
    if not isinstance(raw, dict) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in raw.values()
    ):
        raise CorruptCSVError(f"{where}: custom_counts must map names to integers")
    return Counter(raw)


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise CorruptCSVError(
            f"{path}:{line}: not UTF-8 text (byte {exc.start}); is this a result file?"
        ) from None


def _read_rows(path: Path) -> list[tuple[int, sinter.TaskStats]]:
    """(line number, row) of every data row of one sinter CSV file."""
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such result file")
    if not path.is_file():
        raise ResultFileError(f"{path}: not a regular file")
    text = _read_text(path)
    if text and not text.endswith("\n"):
        n = text.count("\n") + 1
        raise CorruptCSVError(f"{path}:{n}: truncated last line (rerun with resume to repair)")
    out = []
    reader = csv.reader(io.StringIO(text))
    for line_no, row in enumerate(reader, start=1):
        where = f"{path}:{line_no}"
        if not row or all(not c.strip() for c in row):
            continue
        if [c.strip() for c in row] == _HEADER:
            continue
        if len(row) != len(_HEADER):
            raise CorruptCSVError(
                f"{where}: expected {len(_HEADER)} columns ({sinter.CSV_HEADER.strip()}),"
                f" got {len(row)}"
            )
        rec = dict(zip(_HEADER, row))
        try:
            shots = int(rec["shots"])
            errors = int(rec["errors"])
            discards = int(rec["discards"])
            seconds = float(rec["seconds"])
        except ValueError:
            raise CorruptCSVError(
                f"{where}: shots/errors/discards/seconds are not numbers"
            ) from None
        if min(shots, errors, discards) < 0 or errors + discards > shots:
            raise CorruptCSVError(f"{where}: inconsistent counts (errors+discards > shots)")
        if not math.isfinite(seconds) or seconds < 0:
            raise CorruptCSVError(f"{where}: seconds must be a finite number >= 0, "
                                  f"got {rec['seconds'].strip()!r}")
        try:
            meta = json.loads(rec["json_metadata"])
        except json.JSONDecodeError as exc:
            raise CorruptCSVError(f"{where}: json_metadata is not JSON ({exc.msg})") from None
        sid = rec["strong_id"].strip()
        if not sid:
            raise CorruptCSVError(f"{where}: empty strong_id")
        out.append((line_no, sinter.TaskStats(
            strong_id=sid,
            decoder=rec["decoder"].strip(),
            json_metadata=meta,
            shots=shots,
            errors=errors,
            discards=discards,
            seconds=seconds,
            custom_counts=_parse_counts(rec["custom_counts"], where),
        )))
    return out


def read_stats(
    paths: str | os.PathLike | Iterable[str | os.PathLike], *, repair: bool = False
) -> list[sinter.TaskStats]:
    """Read sinter CSV rows from one or more files, one :class:`sinter.TaskStats` per row.

    Rows are not merged (use :func:`combine`).  With ``repair=True`` a truncated last
    line is cut off first (with a warning; only in a file whose first line is the CSV
    header); otherwise it is an error like any other malformed line.

    Raises
    ------
    CorruptCSVError
        On a malformed line (non-UTF-8 bytes, wrong columns, counts that are not
        integers, ``seconds`` NaN or negative, bad JSON), naming the file and line.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    out: list[sinter.TaskStats] = []
    for path in paths:
        path = Path(path)
        if repair and path.exists():
            repair_truncated(path)
        out.extend(s for _, s in _read_rows(path))
    return out


def combine(stats: Iterable[sinter.TaskStats]) -> list[sinter.TaskStats]:
    """Merge rows with the same strong id (order of first appearance kept).

    Equivalent to ``sinter combine``.
    """
    merged: dict[str, sinter.TaskStats] = {}
    for s in stats:
        merged[s.strong_id] = merged[s.strong_id] + s if s.strong_id in merged else s
    return list(merged.values())


# --------------------------------------------------------------------------- writing
def ensure_file(path: str | os.PathLike) -> None:
    """Create ``path`` holding only the CSV header if it does not exist yet.

    So a finished run always leaves its file, even when it had nothing to add (a shard
    whose slice of the chunk grid is empty), and ``combine`` of all N shard files works.
    """
    path = Path(path)
    if not path.exists():
        append_rows(path, [], header_only=True)


def append_rows(
    path: str | os.PathLike, rows: Iterable[sinter.TaskStats], *, header_only: bool = False
) -> None:
    """Append rows (writing the header first for a new file) in one write, then fsync.

    The file is locked meanwhile, and must be a sinter CSV file (or new, or empty):
    anything else is refused with :class:`ForeignFileError`, unchanged.  Prefer
    :class:`ResumeFile`, which keeps the lock for a whole run.
    """
    rows = list(rows)
    if not rows and not header_only:
        return
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with ResultFile(path, "sinter") as f:
        f.append(rows)


# --------------------------------------------------------------------------- resume
def seed_key(seed: int | None) -> str:
    """The custom_counts key counting the shots drawn with ``seed``.

    >>> seed_key(7), seed_key(None)
    ('sim:seed=7', 'sim:seed=none')
    """
    return SEED_KEY + ("none" if seed is None else str(int(seed)))


def chunk_counts(seed: int | None, first_shot: int, shots: int) -> Counter:
    """Bookkeeping counts of ``shots`` shots starting at position ``first_shot``.

    >>> dict(chunk_counts(3, 10, 4))  # positions 10..13
    {'sim:seed=3': 4, 'sim:shot_index_sum': 46}
    """
    return Counter({seed_key(seed): shots,
                    SHOT_SUM_KEY: shots * first_shot + shots * (shots - 1) // 2})


def prefix_shot_index_sum(k: int, n: int, chunk: int, done: int) -> int:
    """Sum of the positions of the first ``done`` shots of shard ``k`` of ``n``.

    Shard ``k`` runs chunks ``k, k + n, k + 2n, ...`` of ``chunk`` shots each (chunk
    ``j`` holds positions ``j * chunk ... j * chunk + chunk - 1``), in that order.

    >>> prefix_shot_index_sum(0, 1, 10, 25) == sum(range(25))
    True
    >>> prefix_shot_index_sum(1, 3, 4, 6) == sum([4, 5, 6, 7, 16, 17])
    True
    """
    q, r = divmod(done, chunk)
    # full chunks i = 0..q-1 at starts (k + n*i) * chunk, then r shots of chunk k + n*q
    full = chunk * chunk * (k * q + n * q * (q - 1) // 2) + q * chunk * (chunk - 1) // 2
    return full + r * (k + n * q) * chunk + r * (r - 1) // 2


def _fmt_seed(key: str) -> str:
    v = key[len(SEED_KEY):]
    return "None" if v == "none" else v


class ResumeFile(ResultFile):
    """The sinter CSV of a run: locked, checked, repaired, read (see the module text).

    Attributes
    ----------
    rows : list of (line number, sinter.TaskStats), every row already in the file.
    prior : dict strong id -> merged :class:`sinter.TaskStats` of those rows.
    """

    def __init__(self, path: str | os.PathLike, *, name: str = "path"):
        super().__init__(path, "sinter", name=name)
        try:
            self.rows = _read_rows(self.path)
        except BaseException:
            self.close(failed=True)
            raise
        self.prior = {s.strong_id: s for s in combine(s for _, s in self.rows)}

    def check(self, strong_id: str, *, seed: int | None, shard: tuple[int, int] = (0, 1),
              chunk_shots: int, allow_seed_change: bool = False) -> None:
        """Refuse to resume task ``strong_id`` if its rows were drawn with another seed
        (:class:`SeedMismatchError`, unless ``allow_seed_change``) or do not hold exactly
        the first shots of this shard's chunk grid (:class:`DuplicateChunkError`)."""
        rows = [(ln, s) for ln, s in self.rows if s.strong_id == strong_id]
        if not rows:
            return
        total = sum(s.shots for _, s in rows)
        seeds: Counter = Counter()
        for _, s in rows:
            for key, v in s.custom_counts.items():
                if key.startswith(SEED_KEY):
                    seeds[key] += v
        want = seed_key(seed)
        others = {k: v for k, v in seeds.items() if k != want and v > 0}
        s0 = rows[0][1]
        what = f"task {s0.decoder} {json.dumps(s0.json_metadata, sort_keys=True)}"
        if others and not allow_seed_change:
            k0 = max(others, key=others.get)
            line = next(ln for ln, s in rows if s.custom_counts.get(k0, 0) > 0)
            raise SeedMismatchError(
                f"seed={'None' if seed is None else seed}, but {self.path}:{line} holds "
                f"{others[k0]} shots of {what} drawn with seed={_fmt_seed(k0)}; resume "
                f"with that seed, or allow_seed_change=True to add shots of another seed"
            )
        tagged = sum(seeds.values())
        if tagged != total or seeds.get(seed_key(None), 0) == total:
            return  # untagged rows (older files, sinter collect): nothing to check;
            # unseeded shots are independent draws, so no chunk can be counted twice
        got = sum(s.custom_counts.get(SHOT_SUM_KEY, 0) for _, s in rows)
        k, n = shard
        if got == prefix_shot_index_sum(k, n, chunk_shots, total):
            return
        lines = self._overlaps(rows) if n == 1 else []
        where = (f"lines {lines[0]} and {lines[1]} hold the same shots"
                 if lines else f"lines {', '.join(str(ln) for ln, _ in rows[:8])}"
                 f"{' ...' if len(rows) > 8 else ''}")
        shard_txt = f" of shard {k}/{n}" if n > 1 else ""
        raise DuplicateChunkError(
            f"{self.path}: the {total} shots of {what} are not the first {total} shots of "
            f"its chunk grid{shard_txt} ({where}): a chunk was written twice (two writers "
            f"at once?) or rows come from another shard or chunk size; remove the repeated "
            f"rows or start a new file"
        )

    @staticmethod
    def _overlaps(rows: list[tuple[int, sinter.TaskStats]]) -> list[int]:
        """Two lines whose (contiguous, unsharded) shot ranges overlap, if any."""
        spans = []
        for ln, s in rows:
            m = s.shots
            tot = s.custom_counts.get(SHOT_SUM_KEY, 0) - m * (m - 1) // 2
            if m > 0 and tot % m == 0:
                spans.append((tot // m, tot // m + m, ln))
        spans.sort()
        for (_, a1, la), (b0, _, lb) in zip(spans, spans[1:]):
            if b0 < a1:
                return sorted((la, lb))
        return []
