"""``sim.run_grid``: metric experiments (tables, not binomial counts) into tidy CSV.

One row per (params, seed, metric).  The rows of one run are written in a single
fsync'ed write, tagged with how many metrics the run produced, so a crash can leave at
most one incomplete run, which the next call detects, removes and recomputes.  The file
is locked while a run writes it (a second writer is refused), and a file that is not a
tidy CSV of this kind is refused unchanged (:mod:`sim.csvio`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, wait
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import t as student_t

from .csvio import GRID_HEADER, CorruptCSVError, ResultFile, _read_text
from .executors import InProcessExecutor, as_executor, check_executor
from .params import product
from .sampler import canonical, canonical_json
from .validate import check_seeds

__all__ = ["GRID_HEADER", "format_summary", "read_grid", "run_grid", "summarize_grid"]
_SUMMARY_KEYS = {"metric", "mean", "std", "n", "ci_low", "ci_high"}


def _fn_path(fn: Callable) -> str:
    mod = getattr(fn, "__module__", None)
    qual = getattr(fn, "__qualname__", None)
    if not callable(fn) or not mod or not qual or "<" in qual:
        raise TypeError(
            "fn must be a module-level function (picklable), "
            f"got {fn!r}; lambdas and closures cannot run in worker processes"
        )
    return f"{mod}:{qual}"


def _key(fn_path: str, params: dict) -> str:
    blob = canonical_json({"fn": fn_path, "params": params})
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def read_grid(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Read tidy rows back: dicts with ``key, fn, params, seed, metric, value, of, seconds``.

    Raises :class:`sim.CorruptCSVError` naming the file and line on a malformed row.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such result file")
    text = _read_text(path)
    rows = []
    for line_no, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row:
            continue
        if row == GRID_HEADER:
            continue
        where = f"{path}:{line_no}"
        if len(row) != len(GRID_HEADER):
            raise CorruptCSVError(f"{where}: expected {len(GRID_HEADER)} columns, got {len(row)}")
        rec = dict(zip(GRID_HEADER, row))
        try:
            rows.append(
                {
                    "key": rec["key"],
                    "fn": rec["fn"],
                    "params": json.loads(rec["params"]),
                    "seed": int(rec["seed"]),
                    "metric": rec["metric"],
                    "value": float(rec["value"]),
                    "of": int(rec["of"]),
                    "seconds": float(rec["seconds"]),
                }
            )
        except (ValueError, json.JSONDecodeError) as exc:
            raise CorruptCSVError(f"{where}: malformed row ({exc})") from None
        r = rows[-1]
        if not (math.isfinite(r["seconds"]) and r["seconds"] >= 0):
            raise CorruptCSVError(f"{where}: seconds must be a finite number >= 0, "
                                  f"got {rec['seconds']!r}")
        if r["of"] < 1:
            raise CorruptCSVError(f"{where}: 'of' must be >= 1, got {r['of']}")
    return rows


def _csv_text(rows: list[list[Any]], header: bool = False) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    if header:
        w.writerow(GRID_HEADER)
    w.writerows(rows)
    return buf.getvalue()


def _rewrite(f: ResultFile, rows: list[dict]) -> None:
    f.replace(_csv_text(
        [
            [r["key"], r["fn"], canonical_json(r["params"]), r["seed"], r["metric"],
             repr(r["value"]), r["of"], f"{r['seconds']:.3f}"]
            for r in rows
        ],
        header=True,
    ))


def _call(fn: Callable, params: dict, seed: int) -> tuple[dict, float]:
    import time

    t0 = time.perf_counter()
    res = fn(dict(params), seed)
    return res, time.perf_counter() - t0


def summarize_grid(
    rows: Iterable[dict[str, Any]], *, confidence: float = 0.95
) -> list[dict[str, Any]]:
    """Mean, std, n and a Student-t CI over seeds, per (params, metric).

    Examples
    --------
    >>> rows = [{"params": {"a": 1}, "metric": "acc", "value": v, "seed": s}
    ...         for s, v in enumerate([0.9, 1.0, 0.95])]
    >>> s = summarize_grid(rows)[0]
    >>> (s["a"], s["metric"], round(s["mean"], 3), s["n"])
    (1, 'acc', 0.95, 3)
    """
    groups: dict[tuple[str, str], list[float]] = {}
    params_of: dict[str, dict] = {}
    for r in rows:
        pj = canonical_json(r["params"])
        params_of[pj] = r["params"]
        groups.setdefault((pj, r["metric"]), []).append(float(r["value"]))
    out = []
    for (pj, metric), vals in groups.items():
        v = np.asarray(vals, float)
        n = v.size
        mean = float(v.mean())
        std = float(v.std(ddof=1)) if n > 1 else 0.0
        if n > 1 and np.isfinite(std):
            half = float(student_t.ppf(0.5 + confidence / 2, n - 1) * std / math.sqrt(n))
        else:
            half = math.inf if n == 1 else 0.0
        out.append(
            {**params_of[pj], "metric": metric, "mean": mean, "std": std, "n": n,
             "ci_low": mean - half, "ci_high": mean + half}
        )
    return out


def format_summary(s: dict[str, Any] | None, *, floor: float | None = None) -> str:
    """One table cell for a :func:`summarize_grid` row: ``mean [ci_low, ci_high]``.

    Three significant digits; a nonzero mean below 1e-3 in magnitude (a p-value, a tiny
    rate) in scientific notation.  The mean alone when there is no interval (one seed) or it
    has zero width; ``"—"`` for a missing row.  ``floor`` clips the lower bound (0 for a
    quantity that cannot be negative).

    Examples
    --------
    >>> format_summary({"mean": 0.5, "n": 3, "ci_low": 0.41, "ci_high": 0.59})
    '0.5 [0.41, 0.59]'
    >>> format_summary({"mean": 2e-6, "n": 5, "ci_low": -1e-6, "ci_high": 5e-6}, floor=0)
    '2.0e-06 [0.0e+00, 5.0e-06]'
    >>> format_summary({"mean": 1.0, "n": 5, "ci_low": 1.0, "ci_high": 1.0}), format_summary(None)
    ('1', '—')
    """
    if s is None:
        return "—"
    m, lo, hi = float(s["mean"]), float(s["ci_low"]), float(s["ci_high"])
    if floor is not None:
        lo = max(lo, floor)
    f = "{:.1e}" if m != 0 and abs(m) < 1e-3 else "{:.3g}"
    if s["n"] < 2 or not (math.isfinite(lo) and math.isfinite(hi)) or lo == hi:
        return f.format(m)
    return f"{f.format(m)} [{f.format(lo)}, {f.format(hi)}]"


def run_grid(
    fn: Callable[[dict, int], dict[str, float]],
    grid: dict[str, list[Any]] | list[dict[str, Any]],
    *,
    seeds: Iterable[int] | int,
    out: str | os.PathLike,
    executor: Any = None,
    progress: bool | None = None,
) -> list[dict[str, Any]]:
    """Run ``fn(params, seed) -> {metric: value}`` over a grid and seeds into tidy CSV.

    Parameters
    ----------
    fn
        A module-level function (so worker processes can import it).
    grid
        ``{name: [values]}`` (Cartesian product) or an explicit list of param dicts.
    seeds
        Seeds (an int ``n`` means ``range(n)``).
    out
        The CSV file; existing complete runs are reused (resume), an incomplete last run
        is removed and recomputed.
    executor
        ``None`` runs in-process; any ``concurrent.futures.Executor`` or dask Client.

    Returns
    -------
    list of dict
        :func:`summarize_grid` over every run in the file for this ``fn`` and grid.

    Examples
    --------
    >>> import tempfile, os
    >>> from sim.grid import _demo_metric
    >>> path = os.path.join(tempfile.mkdtemp(), "grid.csv")
    >>> summary = run_grid(_demo_metric, {"scale": [1.0, 2.0]}, seeds=3, out=path)
    >>> sorted((s["scale"], s["metric"], s["n"]) for s in summary)
    [(1.0, 'value', 3), (2.0, 'value', 3)]
    """
    fn_path = _fn_path(fn)
    seeds = check_seeds("seeds", seeds)  # a count n >= 1 or distinct integer seeds
    if isinstance(grid, dict):
        param_list = product(grid)
    elif isinstance(grid, list) and all(isinstance(g, dict) for g in grid):
        param_list = grid
    else:
        raise TypeError("grid must be a dict of value lists or a list of param dicts")
    param_list = [canonical(p) for p in param_list]
    clash = {k for p in param_list for k in p} & _SUMMARY_KEYS
    if clash:
        raise ValueError(
            f"grid: parameter name(s) {sorted(clash)} clash with the summary's columns "
            f"{sorted(_SUMMARY_KEYS)}; rename them"
        )
    if executor is not None:
        check_executor(executor)
    # locked while we write; a file that is not a tidy CSV is refused before any repair
    with ResultFile(out, "grid", name="out") as f:
        return _run_into(f, fn, fn_path, param_list, seeds, executor, progress)


def _run_into(f: ResultFile, fn, fn_path, param_list, seeds, executor, progress):
    existing = read_grid(f.path)
    counts: dict[tuple[str, int], int] = {}
    for r in existing:
        counts[(r["key"], r["seed"])] = counts.get((r["key"], r["seed"]), 0) + 1
    complete = [r for r in existing if counts[(r["key"], r["seed"])] == r["of"]]
    if len(complete) != len(existing):
        _rewrite(f, complete)
        existing = complete
    done = {(r["key"], r["seed"]) for r in existing}
    todo = [
        (p, s, _key(fn_path, p))
        for p in param_list
        for s in seeds
        if (_key(fn_path, p), s) not in done
    ]
    ex, owned, parallel = (InProcessExecutor(), True, 1) if executor is None else as_executor(
        executor
    )
    show = sys.stderr.isatty() if progress is None else bool(progress)
    bar = None
    if show and todo:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(todo), unit="run", file=sys.stderr, desc=fn.__name__)
    new_rows: list[dict] = []
    try:
        pending = list(todo)
        inflight = {}
        limit = max(1, 2 * parallel)
        while pending or inflight:
            while pending and len(inflight) < limit:
                p, s, key = pending.pop(0)
                inflight[ex.submit(_call, fn, p, s)] = (p, s, key)
            finished, _ = wait(list(inflight), return_when=FIRST_COMPLETED)
            for fut in finished:
                p, s, key = inflight.pop(fut)
                res, secs = fut.result()
                if not isinstance(res, dict) or not res:
                    raise TypeError(f"fn must return a non-empty dict of metrics, got {res!r}")
                rows = []
                for metric, value in res.items():
                    try:
                        v = float(value)
                    except (TypeError, ValueError):
                        raise TypeError(
                            f"fn returned a non-numeric value for metric {metric!r}: {value!r}"
                        ) from None
                    rows.append(
                        [key, fn_path, canonical_json(p), s, str(metric), repr(v), len(res),
                         f"{secs:.3f}"]
                    )
                    new_rows.append({"key": key, "fn": fn_path, "params": p, "seed": s,
                                     "metric": str(metric), "value": v, "of": len(res),
                                     "seconds": secs})
                f.append_text(_csv_text(rows))
                if bar is not None:
                    bar.update(1)
    finally:
        if bar is not None:
            bar.close()
        if owned and executor is not None:
            ex.shutdown(wait=True)
    wanted = {_key(fn_path, p) for p in param_list}
    rows = [r for r in existing + new_rows if r["key"] in wanted and r["seed"] in set(seeds)]
    return summarize_grid(rows)


def _demo_metric(params: dict, seed: int) -> dict[str, float]:
    """A tiny metric function for examples and tests: a seeded normal draw times scale."""
    rng = np.random.default_rng(seed)
    return {"value": float(params["scale"] * rng.normal())}
