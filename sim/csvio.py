"""Reading, repairing and appending sinter CSV files, crash-safely.

The format is sinter's (``sinter.CSV_HEADER``), so ``sinter combine`` and ``sinter plot``
read our files unchanged.  Appends are flushed and fsync'ed; a file whose last line was
cut by a crash is repaired (cut back to its last newline) with a warning that names the
line; any other malformed line is an error naming the file and line.
"""

from __future__ import annotations

import csv
import io
import json
import os
import warnings
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import sinter

__all__ = [
    "CorruptCSVError",
    "append_rows",
    "combine",
    "ensure_file",
    "read_stats",
    "repair_truncated",
]

_HEADER = [h.strip() for h in sinter.CSV_HEADER.split(",")]


class CorruptCSVError(ValueError):
    """A result file has a malformed line (the message names the file and line)."""


def repair_truncated(path: str | os.PathLike) -> bool:
    """Cut ``path`` back to its last newline if its last line is unterminated.

    Returns True (and warns, naming the line) if the file was repaired.
    """
    p = Path(path)
    if not p.exists():
        return False
    size = p.stat().st_size
    if size == 0:
        return False
    with open(p, "rb+") as fh:
        fh.seek(-1, os.SEEK_END)
        if fh.read(1) == b"\n":
            return False
        data = fh.seek(0) or fh.read()
        cut = data.rfind(b"\n") + 1
        line_no = data.count(b"\n", 0, cut) + 1
        fh.truncate(cut)
        fh.flush()
        os.fsync(fh.fileno())
    warnings.warn(
        f"{p}: line {line_no} was truncated (a crash mid-write?); "
        f"cut the file back to its last complete line",
        RuntimeWarning,
        stacklevel=2,
    )
    return True


def _parse_counts(text: str, where: str) -> Counter:
    if not text.strip():
        return Counter()
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CorruptCSVError(f"{where}: custom_counts is not JSON ({exc.msg})") from None
    if not isinstance(raw, dict) or not all(isinstance(v, int) for v in raw.values()):
        raise CorruptCSVError(f"{where}: custom_counts must map names to integers")
    return Counter(raw)


def read_stats(
    paths: str | os.PathLike | Iterable[str | os.PathLike], *, repair: bool = False
) -> list[sinter.TaskStats]:
    """Read sinter CSV rows from one or more files, one :class:`sinter.TaskStats` per row.

    Rows are not merged (use :func:`combine`).  With ``repair=True`` a truncated last
    line is cut off first (with a warning); otherwise it is an error like any other
    malformed line.

    Raises
    ------
    CorruptCSVError
        On a malformed line, naming the file and line number.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    out: list[sinter.TaskStats] = []
    for path in paths:
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"{path}: no such result file")
        if repair:
            repair_truncated(path)
        text = path.read_text()
        if text and not text.endswith("\n"):
            n = text.count("\n") + 1
            raise CorruptCSVError(f"{path}:{n}: truncated last line (rerun with resume to repair)")
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
            try:
                meta = json.loads(rec["json_metadata"])
            except json.JSONDecodeError as exc:
                raise CorruptCSVError(f"{where}: json_metadata is not JSON ({exc.msg})") from None
            sid = rec["strong_id"].strip()
            if not sid:
                raise CorruptCSVError(f"{where}: empty strong_id")
            out.append(
                sinter.TaskStats(
                    strong_id=sid,
                    decoder=rec["decoder"].strip(),
                    json_metadata=meta,
                    shots=shots,
                    errors=errors,
                    discards=discards,
                    seconds=seconds,
                    custom_counts=_parse_counts(rec["custom_counts"], where),
                )
            )
    return out


def combine(stats: Iterable[sinter.TaskStats]) -> list[sinter.TaskStats]:
    """Merge rows with the same strong id (order of first appearance kept).

    Equivalent to ``sinter combine``.
    """
    merged: dict[str, sinter.TaskStats] = {}
    for s in stats:
        merged[s.strong_id] = merged[s.strong_id] + s if s.strong_id in merged else s
    return list(merged.values())


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
    """Append rows (writing the header first for a new file), then flush and fsync.

    All rows go in one ``write`` so a crash leaves at most one truncated line.
    """
    path = Path(path)
    lines = [r.to_csv_line() + "\n" for r in rows]
    if not lines and not header_only:
        return
    new = not path.exists() or path.stat().st_size == 0
    if new:
        path.parent.mkdir(parents=True, exist_ok=True)
    blob = (sinter.CSV_HEADER.strip() + "\n" if new else "") + "".join(lines)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(blob)
        fh.flush()
        os.fsync(fh.fileno())
