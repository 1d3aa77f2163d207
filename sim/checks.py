"""Argument checks shared by every package: one definition of "a probability", "an
integer in a range", "one of these choices".

Each check returns the value normalised (a Python ``float``/``int``/``bool``/``str``)
or raises naming the argument: :class:`TypeError` for a value of the wrong kind,
:class:`ValueError` for one out of range.  Declared task parameters
(:mod:`sim.declare`) and the model classes of the domains (noise models, memories)
use these, so a bad value gets the same message everywhere.

Examples
--------
>>> check_probability(0.25, "p_erasure")
0.25
>>> check_probability(1.5, "p_erasure")
Traceback (most recent call last):
...
ValueError: p_erasure must lie in [0, 1], got 1.5
>>> check_int(4.0, "L", low=3)
4
>>> check_choice("mwpm", "decoder", ("uf", "mwpm"))
'mwpm'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "check_bool",
    "check_choice",
    "check_float",
    "check_int",
    "check_probability",
    "describe_range",
]

_NUMBER = (int, float, np.integer, np.floating)


def describe_range(low: float | None, high: float | None, *, integer: bool = False,
                   low_open: bool = False) -> str:
    """``"[0, 1]"``, ``">= 3"``, ``"> 0"``: the allowed range as the messages write it.

    >>> describe_range(0, 1), describe_range(3, None, integer=True)
    ('[0, 1]', '>= 3')
    >>> describe_range(0, None, low_open=True)
    '> 0'
    """
    def fmt(x: float) -> str:
        return str(int(x)) if integer or float(x).is_integer() else repr(float(x))

    if low is not None and high is not None and not low_open:
        return f"[{fmt(low)}, {fmt(high)}]"
    if low is not None and high is not None:
        return f"({fmt(low)}, {fmt(high)}]"
    if low is not None:
        return f"{'>' if low_open else '>='} {fmt(low)}"
    if high is not None:
        return f"<= {fmt(high)}"
    return "any value"


def _in_range(v: float, name: str, low: float | None, high: float | None, low_open: bool,
              integer: bool) -> None:
    bad = (low is not None and (v <= low if low_open else v < low)) or (
        high is not None and v > high)
    if bad:
        rng = describe_range(low, high, integer=integer, low_open=low_open)
        verb = "lie in" if rng.startswith(("[", "(")) else "be"
        raise ValueError(f"{name} must {verb} {rng}, got {v!r}")


def check_probability(x: Any, name: str) -> float:
    """A probability: a finite real number in [0, 1] (not a bool), as a float.

    >>> check_probability(1, "p")
    1.0
    >>> check_probability("0.1", "p_pauli")
    Traceback (most recent call last):
    ...
    TypeError: p_pauli must be a probability in [0, 1], got '0.1'
    """
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, _NUMBER):
        raise TypeError(f"{name} must be a probability in [0, 1], got {x!r}")
    v = float(x)
    if not (0.0 <= v <= 1.0):  # also refuses nan
        raise ValueError(f"{name} must lie in [0, 1], got {v}")
    return v


def check_float(x: Any, name: str, *, low: float | None = None, high: float | None = None,
                low_open: bool = False) -> float:
    """A finite real number (not a bool) in the given range, as a float.

    >>> check_float(2, "sigma", low=0, low_open=True)
    2.0
    >>> check_float(0, "sigma", low=0, low_open=True)
    Traceback (most recent call last):
    ...
    ValueError: sigma must be > 0, got 0.0
    """
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, _NUMBER):
        raise TypeError(f"{name} must be a number, got {x!r}")
    v = float(x)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {v}")
    _in_range(v, name, low, high, low_open, integer=False)
    return v


def check_int(x: Any, name: str, *, low: int | None = None, high: int | None = None) -> int:
    """An integer (not a bool; an integral float such as ``4.0`` is accepted) in
    ``[low, high]``, as an int.

    >>> check_int(3, "n", low=1)
    3
    >>> check_int(0, "messages", low=1)
    Traceback (most recent call last):
    ...
    ValueError: messages must be >= 1, got 0
    >>> check_int(2.5, "L")
    Traceback (most recent call last):
    ...
    TypeError: L must be an integer, got 2.5
    """
    if isinstance(x, (float, np.floating)) and float(x).is_integer():
        x = int(x)
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {x!r}")
    v = int(x)
    _in_range(v, name, low, high, False, integer=True)
    return v


def check_bool(x: Any, name: str) -> bool:
    """A bool; also ``0``/``1`` and the strings ``true``/``false``/``1``/``0``.

    >>> check_bool("true", "guided"), check_bool(0, "guided")
    (True, False)
    """
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)) and int(x) in (0, 1):
        return bool(x)
    if isinstance(x, str) and x.strip().lower() in ("true", "false", "1", "0"):
        return x.strip().lower() in ("true", "1")
    raise TypeError(f"{name} must be a bool (true/false), got {x!r}")


def check_choice(x: Any, name: str, choices: Sequence[Any]) -> Any:
    """One of ``choices`` (compared with ``==``).

    >>> check_choice("bp", "decoder", ("uf", "mwpm"))
    Traceback (most recent call last):
    ...
    ValueError: decoder must be one of ('uf', 'mwpm'), got 'bp'
    """
    try:
        ok = x in choices
    except TypeError:  # unhashable x against a set
        ok = False
    if not ok:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {x!r}")
    return x
