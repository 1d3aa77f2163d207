"""Selecting and grouping result rows by their metadata: ``where`` filters and the fields
that vary.

A row's *fields* are its ``json_metadata`` plus, when the metadata has no ``decoder`` key,
the ``decoder`` column.  Fits and plots must never pool rows that differ in anything but
the swept parameter (``x``) and the size: :func:`varying_fields` finds such fields, and
:func:`split` cuts the rows into groups in which only ``x`` and the size vary.

Examples
--------
>>> import sinter
>>> rows = [sinter.TaskStats(strong_id=f"{d}{p}", decoder=f"fbqc:{d}", shots=100,
...                          errors=1, json_metadata={"p": p, "L": 4, "decoder": d})
...         for d in ("uf", "mwpm") for p in (0.1, 0.2)]
>>> varying_fields(rows, exclude=("p", "L"))
{'decoder': ['mwpm', 'uf']}
>>> [g for g, _ in split(rows, exclude=("p", "L"))]
[{'decoder': 'mwpm'}, {'decoder': 'uf'}]
>>> len(select(rows, {"decoder": "uf"}))
2
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import sinter

from .csvio import combine, read_stats

__all__ = [
    "axis_label",
    "fields",
    "format_group",
    "parse_where",
    "sampler_labels",
    "select",
    "split",
    "varying_fields",
]

_MISSING = "<missing>"

Where = dict[str, Any] | Callable[[sinter.TaskStats], bool] | None


def load(stats: Any) -> list[sinter.TaskStats]:
    """Rows from ``sinter.TaskStats`` objects or CSV path(s), merged by strong id (a
    resumed run's file holds one row per chunk batch of a task)."""
    if isinstance(stats, (str, os.PathLike)):
        return combine(read_stats(stats))
    stats = list(stats)
    if stats and all(isinstance(s, (str, os.PathLike)) for s in stats):
        return combine(read_stats(stats))
    if not all(isinstance(s, sinter.TaskStats) for s in stats):
        raise TypeError("stats must be sinter.TaskStats rows or CSV paths")
    return combine(stats)


def fields(s: sinter.TaskStats) -> dict[str, Any]:
    """The fields of a row: its json_metadata, plus ``decoder`` (the column) if absent."""
    meta = dict(s.json_metadata) if isinstance(s.json_metadata, dict) else {}
    meta.setdefault("decoder", s.decoder)
    return meta


def _key(v: Any) -> Any:
    """A hashable stand-in for a metadata value (lists and dicts as canonical JSON)."""
    if isinstance(v, (list, dict, tuple)):
        return json.dumps(v, sort_keys=True)
    return v


def sort_key(g: Any) -> tuple:
    """Numbers first, in numeric order, then everything else by its text."""
    numeric = isinstance(g, int | float | np.integer | np.floating) and not isinstance(g, bool)
    return (0, float(g), "") if numeric else (1, 0.0, str(g))


def _matches(value: Any, wanted: Any, key: str, s: sinter.TaskStats) -> bool:
    if value == wanted:
        return True
    # ``decoder=uf`` also matches the column ``fbqc:uf`` when the metadata has no decoder
    if key == "decoder" and isinstance(wanted, str) and isinstance(value, str):
        return value.split(":", 1)[-1] == wanted
    return False


def select(rows: Iterable[sinter.TaskStats], where: Where) -> list[sinter.TaskStats]:
    """The rows whose fields equal every ``where`` item (or that satisfy the predicate).

    A ``where`` key that no row has, or a filter that keeps nothing, raises ``ValueError``
    naming the key and the values present: a typo must not read as "no data".
    """
    rows = list(rows)
    if where is None:
        return rows
    if callable(where):
        return [s for s in rows if where(s)]
    if not isinstance(where, dict):
        raise TypeError("where must be a dict of field values or a predicate on a row")
    out = rows
    for key, wanted in where.items():
        present = [s for s in out if key in fields(s)]
        if rows and not any(key in fields(s) for s in rows):
            known = sorted({k for s in rows for k in fields(s)})
            raise ValueError(f"where: no row has the field {key!r}; fields: {', '.join(known)}")
        kept = [s for s in present if _matches(fields(s)[key], wanted, key, s)]
        if rows and not kept:
            seen = sorted({_key(fields(s)[key]) for s in present}, key=sort_key)
            raise ValueError(
                f"where: no row has {key}={wanted!r}; {key} takes the values "
                f"{', '.join(map(str, seen))}"
            )
        out = kept
    return out


def parse_where(items: Sequence[str] | None) -> dict[str, Any] | None:
    """Parse command-line ``FIELD=VALUE`` items (one value each, typed like ``--param``).

    >>> parse_where(["decoder=uf", "p_pauli=0", "basis=UR,UR"])
    {'decoder': 'uf', 'p_pauli': 0, 'basis': 'UR,UR'}
    """
    from .params import _scalar

    if not items:
        return None
    out: dict[str, Any] = {}
    for text in items:
        name, sep, value = text.partition("=")
        name = name.strip()
        if not sep or not name or not value.strip():
            raise ValueError(f"--where: expected FIELD=VALUE, got {text!r}")
        if name in out:
            raise ValueError(f"--where: field {name!r} given twice")
        out[name] = _scalar(value)
    return out


def _value(s: sinter.TaskStats, key: str) -> Any:
    return _key(fields(s).get(key, _MISSING))


def varying_fields(
    rows: Sequence[sinter.TaskStats],
    *,
    exclude: Iterable[str] = (),
    functions_of: Sequence[Callable[[sinter.TaskStats], Any]] = (),
) -> dict[str, list[Any]]:
    """Fields that take more than one value over ``rows``, with their sorted values.

    ``exclude`` names the fields that are meant to vary (x, the size).  ``functions_of``
    holds callables (an ``x`` or a size computed from several fields): a *numeric* field
    whose value is fixed by theirs is one of their inputs, not a separate curve.
    """
    exclude = set(exclude)
    keys = sorted({k for s in rows for k in fields(s)} - exclude)
    out: dict[str, list[Any]] = {}
    for k in keys:
        vals = {_value(s, k) for s in rows}
        if len(vals) < 2:
            continue
        if functions_of and all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in vals
        ):
            seen: dict[tuple, Any] = {}
            if all(
                seen.setdefault(tuple(f(s) for f in functions_of), _value(s, k)) == _value(s, k)
                for s in rows
            ):
                continue
        out[k] = sorted(vals, key=sort_key)
    return out


def format_group(group: dict[str, Any]) -> str:
    """``{'decoder': 'uf', 'network': '6ring'}`` → ``'decoder=uf, network=6ring'``."""
    return ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                     for k, v in group.items())


def split(
    rows: Sequence[sinter.TaskStats],
    *,
    exclude: Iterable[str] = (),
    functions_of: Sequence[Callable[[sinter.TaskStats], Any]] = (),
) -> list[tuple[dict[str, Any], list[sinter.TaskStats]]]:
    """Cut rows into groups that agree on every varying field not in ``exclude``.

    Returns ``[(group, rows), ...]`` with ``group`` the fields that tell the groups apart
    (``{}`` and all rows when nothing else varies), in numeric-aware order.
    """
    rows = list(rows)
    vary = list(varying_fields(rows, exclude=exclude, functions_of=functions_of))
    groups: dict[tuple, list[sinter.TaskStats]] = {}
    for s in rows:
        groups.setdefault(tuple(_value(s, k) for k in vary), []).append(s)
    order = sorted(groups, key=lambda t: tuple(sort_key(v) for v in t))
    return [(dict(zip(vary, key)), groups[key]) for key in order]


def sampler_labels(rows: Iterable[sinter.TaskStats]) -> dict[str, str]:
    """The :attr:`sim.Sampler.labels` of the samplers named in the rows' decoder column
    (resolved lazily; rows of unknown samplers contribute nothing)."""
    from .sampler import resolve_sampler

    out: dict[str, str] = {}
    for name in sorted({s.decoder.split(":", 1)[0] for s in rows if ":" in s.decoder}):
        try:
            out.update(getattr(resolve_sampler(name), "labels", {}) or {})
        except (ValueError, TypeError):
            continue
    return out


def axis_label(key: Any, rows: Iterable[sinter.TaskStats] = ()) -> str:
    """Words for a parameter name: the sampler's label, else the name with spaces.

    >>> axis_label("p_erasure", [])
    'p erasure'
    """
    if not isinstance(key, str):
        return "x"
    return sampler_labels(rows).get(key, key.replace("_", " "))
