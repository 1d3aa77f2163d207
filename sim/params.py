"""Parsing parameter values and grids, as the command line writes them."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from .sampler import canonical
from .validate import check_memory

#: Bytes a grid cannot do without per value (a float in a list, its linspace entry)
#: and per task (its parameter dict, task and strong id): lower bounds.
BYTES_PER_VALUE = 40
BYTES_PER_TASK = 1000

__all__ = ["parse_param", "parse_shard", "parse_values", "product"]


def _scalar(text: str) -> Any:
    t = text.strip()
    if t == "":
        raise ValueError("empty value")
    low = t.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    try:
        return int(t)
    except ValueError:
        pass
    try:
        return canonical(float(t))
    except ValueError:
        return t


def parse_values(text: str) -> list[Any]:
    """Parse ``"1,2,3"`` or an inclusive linspace ``"START:STOP:COUNT"``.

    Floats are canonicalised to 12 significant digits; integers stay integers;
    anything else stays a string.

    Examples
    --------
    >>> parse_values("0.10:0.14:5")
    [0.1, 0.11, 0.12, 0.13, 0.14]
    >>> parse_values("8,12,16")
    [8, 12, 16]
    >>> parse_values("5000:30000:6")
    [5000, 10000, 15000, 20000, 25000, 30000]
    >>> parse_values("uf,mwpm")
    ['uf', 'mwpm']
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"values: expected 'A,B,...' or 'START:STOP:COUNT', got {text!r}")
    if text.count(":") == 2:
        a, b, n = text.split(":")
        try:
            start, stop, count = float(a), float(b), int(n)
        except ValueError:
            raise ValueError(
                f"values: malformed range {text!r}; expected START:STOP:COUNT"
            ) from None
        if count < 1:
            raise ValueError(f"values: COUNT must be >= 1 in {text!r}")
        check_memory(f"values: COUNT={count} in {text!r}", BYTES_PER_VALUE * count)
        pts = np.linspace(start, stop, count)
        all_int = all(float(x).is_integer() for x in (a, b)) and all(
            float(v).is_integer() for v in pts
        )
        if all_int and "." not in a + b:
            return [int(round(v)) for v in pts]
        return [canonical(float(v)) for v in pts]
    if ":" in text:
        raise ValueError(f"values: malformed range {text!r}; expected START:STOP:COUNT")
    try:
        return [_scalar(v) for v in text.split(",")]
    except ValueError:
        raise ValueError(f"values: empty item in {text!r}") from None


def parse_param(text: str) -> tuple[str, list[Any]]:
    """Parse ``NAME=VALUES`` (see :func:`parse_values`).

    >>> parse_param("p=0.1,0.2")
    ('p', [0.1, 0.2])
    """
    if not isinstance(text, str) or "=" not in text:
        raise ValueError(f"--param: expected NAME=VALUES, got {text!r}")
    name, _, values = text.partition("=")
    name = name.strip()
    if not name.isidentifier():
        raise ValueError(f"--param: invalid parameter name {name!r} in {text!r}")
    try:
        return name, parse_values(values)
    except ValueError as exc:
        raise ValueError(f"--param {name}: {exc}") from None


def parse_shard(text: str) -> tuple[int, int]:
    """Parse ``K/N`` (0 <= K < N) into ``(K, N)``.

    >>> parse_shard("2/8")
    (2, 8)
    """
    try:
        k, n = (int(v) for v in str(text).split("/"))
    except ValueError:
        raise ValueError(f"shard: expected K/N with integers, got {text!r}") from None
    if not (n >= 1 and 0 <= k < n):
        raise ValueError(f"shard: need 0 <= K < N, got {text!r}")
    return k, n


def product(grid: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """The Cartesian product of a grid ``{name: [values]}`` as a list of dicts.

    >>> product({"L": [4, 8], "p": [0.1]})
    [{'L': 4, 'p': 0.1}, {'L': 8, 'p': 0.1}]
    """
    if not isinstance(grid, dict):
        raise TypeError(f"grid must be a dict of lists, got {type(grid).__name__}")
    names = list(grid)
    values = []
    for name in names:
        v = grid[name]
        if isinstance(v, (str, bytes)) or not hasattr(v, "__iter__"):
            v = [v]
        v = list(v)
        if not v:
            raise ValueError(f"grid: parameter {name!r} has no values")
        values.append(v)
    size = 1
    for v in values:
        size *= len(v)
    check_memory(f"grid: {' x '.join(str(len(v)) for v in values)} = {size} tasks",
                 BYTES_PER_TASK * size)
    return [dict(zip(names, combo)) for combo in itertools.product(*values)]
