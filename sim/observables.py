"""Named observables from sinter's ``obs_mistake_mask=…`` custom counts.

A sampler that tracks several logical observables records, per shot pattern, a custom
count ``obs_mistake_mask=E__E__`` (sinter's convention: one character per observable,
``E`` where it failed, ``_`` where not).  The sampler declares the names of those
characters in its class attribute :attr:`sim.Sampler.observables` (fbqc: the six
membranes ``primal-x`` … ``dual-z``), so ``sim`` turns masks into per-observable rates
without importing the domain: the sampler is found from the ``decoder`` column
(``"fbqc:uf"`` → the sampler registered as ``fbqc``).  Rows of other origin (a plain
sinter CSV) take ``names=`` or observable indices.

Examples
--------
>>> from collections import Counter
>>> import sinter
>>> masks = Counter({"obs_mistake_mask=E_": 5, "obs_mistake_mask=EE": 2,
...                  "obs_mistake_mask=_E": 4})
>>> row = sinter.TaskStats(strong_id="a", decoder="x:y", json_metadata={}, shots=100,
...                        errors=7, custom_counts=masks)
>>> observable_counts(row, names=("a", "b"))
{'a': 7, 'b': 6}
>>> observable_stats([row], ["a", "b"], names=("a", "b"))[0].errors   # a or b failed
11
>>> observable_stats([row], 1)[0].errors                             # by index
6
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sinter

from .selection import load

__all__ = ["MASK_PREFIX", "observable_counts", "observable_names", "observable_stats"]

#: The custom-count prefix of sinter's per-observable failure masks.
MASK_PREFIX = "obs_mistake_mask="


def observable_names(row: sinter.TaskStats) -> tuple[str, ...]:
    """The observable names declared by the sampler that wrote ``row`` (``()`` if none).

    The sampler is resolved (imported lazily) from the part of the ``decoder`` column
    before ``":"``; rows of an unknown sampler declare no names.
    """
    from .sampler import resolve_sampler

    name = row.decoder.split(":", 1)[0] if ":" in row.decoder else ""
    if not name:
        return ()
    try:
        sampler = resolve_sampler(name)
    except (ValueError, TypeError):
        return ()
    return tuple(getattr(sampler, "observables", ()) or ())


def _masks(row: sinter.TaskStats) -> dict[str, int]:
    return {k[len(MASK_PREFIX):]: int(v) for k, v in row.custom_counts.items()
            if k.startswith(MASK_PREFIX)}


def _indices(observable: Any, names: Sequence[str], row: sinter.TaskStats) -> list[int]:
    items: list[Any]
    if isinstance(observable, str):
        items = [t.strip() for t in observable.split(",")]
    elif isinstance(observable, int) and not isinstance(observable, bool):
        items = [observable]
    elif isinstance(observable, Iterable):
        items = list(observable)
    else:
        raise TypeError(f"observable must be a name, an index or a list of them, "
                        f"got {observable!r}")
    if not items:
        raise ValueError("observable: give at least one name or index")
    out = []
    for it in items:
        if isinstance(it, int) and not isinstance(it, bool):
            out.append(it)
        elif isinstance(it, str) and it in names:
            out.append(list(names).index(it))
        elif isinstance(it, str) and not names:
            raise ValueError(
                f"observable: rows of decoder {row.decoder!r} declare no observable names; "
                f"pass names=(...) or an index"
            )
        else:
            raise ValueError(f"observable: unknown observable {it!r}; the rows of "
                             f"{row.decoder!r} have {', '.join(names)}")
    return out


def observable_counts(
    row: sinter.TaskStats, names: Sequence[str] | None = None
) -> dict[str, int]:
    """Failures of each observable in ``row``: the sum of the masks that mark it.

    ``names`` defaults to the sampler's :attr:`~sim.Sampler.observables`; without any,
    the observables are called ``obs0``, ``obs1``, ….
    """
    masks = _masks(row)
    width = {len(m) for m in masks}
    if len(width) > 1:
        raise ValueError(f"observable: masks of different lengths in row {row.strong_id}")
    n = width.pop() if width else 0
    names = tuple(names) if names is not None else observable_names(row)
    if not names:
        names = tuple(f"obs{i}" for i in range(n))
    if n and n != len(names):
        raise ValueError(f"observable: masks have {n} characters but {len(names)} names "
                         f"were given ({', '.join(names)})")
    return {name: sum(c for m, c in masks.items() if m[i] == "E")
            for i, name in enumerate(names)}


def observable_stats(
    stats: Any,
    observable: Any,
    *,
    names: Sequence[str] | None = None,
) -> list[sinter.TaskStats]:
    """Rows whose ``errors`` count the shots where ``observable`` failed.

    Parameters
    ----------
    stats : rows or CSV path(s).
    observable : a name (``"primal-x"``), an index into the masks, or a list of them
        (or a comma-separated string) meaning *any of them* failed.
    names : the observable names, when the rows' sampler declares none.

    Notes
    -----
    Everything else of each row (shots, discards, metadata, custom counts) is kept, so
    plots and fits treat the result like any other rows.  A row with errors but no
    masks raises ``ValueError``.
    """
    out = []
    for row in load(stats):
        masks = _masks(row)
        if not masks and row.errors:
            raise ValueError(f"observable: row {row.decoder} {row.json_metadata} has errors "
                             f"but no {MASK_PREFIX}… custom counts")
        known = tuple(names) if names is not None else observable_names(row)
        idx = _indices(observable, known, row)
        width = max((len(m) for m in masks), default=max(idx) + 1)
        if max(idx) >= width or min(idx) < -width:
            raise ValueError(f"observable: index out of range for masks of {width} characters")
        hits = sum(c for m, c in masks.items() if any(m[i] == "E" for i in idx))
        out.append(sinter.TaskStats(
            strong_id=row.strong_id, decoder=row.decoder, json_metadata=row.json_metadata,
            shots=row.shots, errors=hits, discards=row.discards, seconds=row.seconds,
            custom_counts=row.custom_counts,
        ))
    return out
