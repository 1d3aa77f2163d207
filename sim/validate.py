"""Checks for function arguments, shared by every domain: one named line per refusal.

Each ``check_*`` function returns the value converted to a plain Python type (or an
array of a fixed dtype) and raises :class:`TypeError` (wrong kind of value) or
:class:`ValueError` (right kind, out of range) whose message starts with the argument's
name, so a wrapper can validate everything up front, before a kernel runs or a file is
touched.  The rules are the same everywhere:

* an integer is a Python ``int`` or a NumPy integer, never a ``bool`` (nor a float that
  happens to be whole: ``2.5`` and ``2.0`` are both refused);
* a real number is an ``int``, ``float`` or NumPy number, never a ``bool`` or a string;
  NaN is always refused, infinities unless ``finite=False`` and the range allows them;
* a seed is an integer in ``[0, 2**64)`` (what :class:`numpy.random.SeedSequence` keeps
  of it without silently wrapping), or ``None`` where fresh entropy is allowed;
* integer arrays keep every value: a ``uint64`` above ``2**63 - 1`` is refused, not read
  as a negative (``-1`` is the "erased" marker of several APIs).

Examples
--------
>>> check_int("iterations", 3, low=1)
3
>>> check_int("iterations", 2.5, low=1)
Traceback (most recent call last):
...
TypeError: iterations must be an integer, got 2.5
>>> check_float("lam", float("nan"), low=0, low_open=True)
Traceback (most recent call last):
...
ValueError: lam must be a finite number > 0, got nan
>>> check_seed("seed", 2**64)
Traceback (most recent call last):
...
ValueError: seed must be a non-negative integer < 2**64, got 18446744073709551616
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "FIGURE_SUFFIXES",
    "INT64_MAX",
    "SEED_MAX",
    "check_binary_array",
    "check_bool",
    "check_choice",
    "check_float",
    "check_float_array",
    "check_generator",
    "check_int",
    "check_int_array",
    "check_memory",
    "check_output_path",
    "check_probability",
    "check_seed",
    "check_seeds",
    "format_bytes",
    "total_memory",
]

INT64_MAX = 2**63 - 1
#: Seeds are 64-bit words: ``seed`` must lie in ``[0, SEED_MAX]``.
SEED_MAX = 2**64 - 1


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_real(value: Any) -> bool:
    return (
        isinstance(value, (numbers.Real, np.integer, np.floating))
        and not isinstance(value, (bool, np.bool_))
    )


def _range_text(low: Any, high: Any, low_open: bool = False, high_open: bool = False) -> str:
    if low is not None and high is not None:
        return f"in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
    if low is not None:
        return f"{'>' if low_open else '>='} {low}"
    if high is not None:
        return f"{'<' if high_open else '<='} {high}"
    return ""


def check_int(name: str, value: Any, *, low: int | None = None, high: int | None = None) -> int:
    """An integer (Python or NumPy, not bool) in ``[low, high]``; returns a Python int.

    >>> check_int("count", np.int32(4), low=0)
    4
    >>> check_int("count", True)
    Traceback (most recent call last):
    ...
    TypeError: count must be an integer, got True
    """
    if not _is_int(value):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    v = int(value)
    if (low is not None and v < low) or (high is not None and v > high):
        raise ValueError(f"{name} must be an integer {_range_text(low, high)}, got {v}")
    return v


def check_float(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    finite: bool = True,
) -> float:
    """A real number (not bool, not str) in the given range; returns a Python float.

    NaN is always refused; ``±inf`` too unless ``finite=False`` (and the range allows
    it).  ``low_open``/``high_open`` make the bounds strict.

    >>> check_float("sigma", 0.5, low=0)
    0.5
    >>> check_float("alpha", "1.0")
    Traceback (most recent call last):
    ...
    TypeError: alpha must be a number, got '1.0'
    >>> check_float("bnd", float("inf"), low=0)
    Traceback (most recent call last):
    ...
    ValueError: bnd must be a finite number >= 0, got inf
    """
    if not _is_real(value):
        raise TypeError(f"{name} must be a number, got {value!r}")
    try:
        v = float(value)
    except OverflowError:  # an int beyond the float range
        v = math.inf if value > 0 else -math.inf
    bad = math.isnan(v) or (finite and math.isinf(v))
    if low is not None and (v < low or (low_open and v == low)):
        bad = True
    if high is not None and (v > high or (high_open and v == high)):
        bad = True
    if bad:
        kind = "a finite number" if finite else "a number"
        rng = _range_text(low, high, low_open, high_open)
        raise ValueError(f"{name} must be {kind}{' ' + rng if rng else ''}, got {v!r}")
    return v


def check_probability(name: str, value: Any, *, low_open: bool = False,
                      high_open: bool = False) -> float:
    """A probability in ``[0, 1]`` (bounds made strict by ``low_open``/``high_open``).

    >>> check_probability("p", 0.25)
    0.25
    >>> check_probability("q", float("nan"))
    Traceback (most recent call last):
    ...
    ValueError: q must be a finite number in [0, 1], got nan
    """
    return check_float(name, value, low=0, high=1, low_open=low_open, high_open=high_open)


def check_bool(name: str, value: Any) -> bool:
    """A ``bool`` (or ``numpy.bool_``); 0/1 and strings are refused.

    >>> check_bool("shuffle", np.True_)
    True
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_choice(name: str, value: Any, options: Iterable[Any]) -> Any:
    """One of ``options`` (compared with ``==``; unhashable values are refused too).

    >>> check_choice("rule", "sos", ("sos", "som"))
    'sos'
    """
    opts = list(options)
    ok = False
    for o in opts:
        if isinstance(o, str) != isinstance(value, str):
            continue
        try:
            ok = bool(value == o)
        except (TypeError, ValueError):  # an array or odd object: not a valid choice
            ok = False
        if ok:
            break
    if not ok:
        raise ValueError(f"{name} must be one of {opts}, got {value!r}")
    return value


def check_seed(name: str, value: Any, *, allow_none: bool = True) -> int | None:
    """A seed: an integer in ``[0, 2**64)``, or ``None`` (fresh entropy) if allowed.

    ``2**64`` would otherwise be cut to its low 64 bits and give the stream of seed 0.

    >>> check_seed("seed", None) is None
    True
    >>> check_seed("seed", -1)
    Traceback (most recent call last):
    ...
    ValueError: seed must be a non-negative integer < 2**64, got -1
    """
    if value is None and allow_none:
        return None
    if not _is_int(value):
        extra = " or None" if allow_none else ""
        raise TypeError(f"{name} must be a non-negative integer < 2**64{extra}, got {value!r}")
    v = int(value)
    if not 0 <= v <= SEED_MAX:
        raise ValueError(f"{name} must be a non-negative integer < 2**64, got {v}")
    return v


def check_seeds(name: str, value: Any) -> list[int]:
    """Seeds for repeated runs: a count ``n >= 1`` (``range(n)``) or distinct seeds.

    >>> check_seeds("seeds", 3)
    [0, 1, 2]
    >>> check_seeds("seeds", [4, 4])
    Traceback (most recent call last):
    ...
    ValueError: seeds must be distinct, got [4, 4]
    """
    if _is_int(value):
        n = check_int(name, value, low=1)
        return list(range(n))
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise TypeError(f"{name} must be a positive count or a list of integer seeds, "
                        f"got {value!r}")
    # (allow_none=None would be the same: an equivalent mutant)
    out = [check_seed(f"{name}[{i}]", s, allow_none=False)  # pragma: no mutate
           for i, s in enumerate(value)]
    if not out:
        raise ValueError(f"{name} must not be empty")
    if len(set(out)) != len(out):
        raise ValueError(f"{name} must be distinct, got {out}")
    return out


def check_generator(name: str, value: Any, *, allow_none: bool = False):
    """A :class:`numpy.random.Generator` (or ``None`` if allowed).

    >>> check_generator("rng", 5)
    Traceback (most recent call last):
    ...
    TypeError: rng must be a numpy.random.Generator, got 5
    """
    if value is None and allow_none:
        return None
    if not isinstance(value, np.random.Generator):
        extra = " or None" if allow_none else ""
        raise TypeError(f"{name} must be a numpy.random.Generator{extra}, got {value!r}")
    return value


def check_int_array(
    name: str,
    value: Any,
    *,
    ndim: int | None = None,
    low: int | None = None,
    high: int | None = None,
) -> np.ndarray:
    """An integer array (not bool, not float) as C-contiguous ``int64``.

    Every value must fit in ``int64`` (a ``uint64`` of ``2**64 - 1`` is refused rather
    than read as ``-1``) and lie in ``[low, high]``.  With ``ndim=2`` a 1-D array is
    taken as one row.  An empty array of any dtype is accepted.

    >>> check_int_array("cues", np.array([[2**64 - 1]], np.uint64))
    Traceback (most recent call last):
    ...
    ValueError: cues values must fit in int64, got 18446744073709551615
    """
    arr = np.asarray(value)
    if arr.dtype == object and arr.size and all(_is_int(v) for v in arr.flat):
        lo_v, hi_v = min(int(v) for v in arr.flat), max(int(v) for v in arr.flat)
        if lo_v < -(2**63) or hi_v > INT64_MAX:
            bad = hi_v if hi_v > INT64_MAX else lo_v
            raise ValueError(f"{name} values must fit in int64, got {bad}")
        arr = arr.astype(np.int64)
    if arr.size and (arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer)):
        raise TypeError(f"{name} must be an integer array, got dtype {arr.dtype}")
    if ndim == 2 and arr.ndim == 1:
        arr = arr[None, :]
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D integer array, got shape {arr.shape}")
    if arr.size and arr.dtype == np.uint64 and int(arr.max()) > INT64_MAX:
        raise ValueError(f"{name} values must fit in int64, got {int(arr.max())}")
    out = np.ascontiguousarray(arr, dtype=np.int64)
    if out.size and (low is not None or high is not None):
        lo_v, hi_v = int(out.min()), int(out.max())
        if (low is not None and lo_v < low) or (high is not None and hi_v > high):
            bad = lo_v if low is not None and lo_v < low else hi_v
            raise ValueError(f"{name} values must be integers {_range_text(low, high)}, "
                             f"got {bad}")
    return out


def check_float_array(name: str, value: Any, *, ndim: int | None = None,
                      finite: bool = True, dtype: Any = np.float64) -> np.ndarray:
    """A real array (bool and complex refused) as ``dtype``; NaN/inf refused if ``finite``.

    >>> check_float_array("X", [[0.0, float("inf")]], ndim=2)
    Traceback (most recent call last):
    ...
    ValueError: X must hold finite numbers (found inf at index (0, 1))
    """
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric array ({exc})") from None
    if arr.size and (arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer)
                                                or np.issubdtype(arr.dtype, np.floating))):
        raise TypeError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array, got shape {arr.shape}")
    out = np.asarray(arr, dtype=dtype)
    if finite and out.size:
        ok = np.isfinite(out)
        if not ok.all():
            where = tuple(int(i) for i in np.argwhere(~ok)[0])
            idx = where[0] if len(where) == 1 else where
            bad = float(out[where])
            raise ValueError(f"{name} must hold finite numbers (found {bad!r} at index {idx})")
    return out


def check_binary_array(name: str, value: Any, *, ndim: int | None = None) -> np.ndarray:
    """A 0/1 array (bool, integers or whole floats, each 0 or 1) as C-contiguous ``uint8``.

    A value other than 0 or 1 (``0.5``, ``2``, ``-1``, ``256``) is refused rather than
    cast: a plain ``astype(np.uint8)`` reads 0.5 as 0, 256 as 0 and -1 as 255.

    >>> check_binary_array("syndromes", [[0.0, 1.0]]).dtype
    dtype('uint8')
    >>> check_binary_array("syndromes", [[0.5, 1.0]])
    Traceback (most recent call last):
    ...
    ValueError: syndromes must hold only 0 and 1, got 0.5 at index (0, 0)
    """
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a 0/1 array ({exc})") from None
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array, got shape {arr.shape}")
    if arr.dtype == bool or arr.dtype == np.uint8 and (not arr.size or arr.max() <= 1):
        return np.ascontiguousarray(arr, dtype=np.uint8)
    if arr.size and not (np.issubdtype(arr.dtype, np.integer)
                         or np.issubdtype(arr.dtype, np.floating)):
        raise TypeError(f"{name} must be a 0/1 array of bools or numbers, got dtype "
                        f"{arr.dtype}")
    if arr.size:
        bad = ~((arr == 0) | (arr == 1))
        if bad.any():
            where = tuple(int(i) for i in np.argwhere(bad)[0])
            idx = where[0] if len(where) == 1 else where
            v = arr[where].item()
            raise ValueError(f"{name} must hold only 0 and 1, got {v!r} at index {idx}")
    return np.ascontiguousarray(arr, dtype=np.uint8)


# ----------------------------------------------------------------------------- memory
def total_memory() -> int:
    """Bytes of memory this process can have: the machine's physical memory, or the
    cgroup's limit when that is lower (a container, a batch job)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):  # pragma: no cover - not POSIX
        total = 2**62
    for limit_file in ("/sys/fs/cgroup/memory.max",
                       "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(limit_file).read_text().strip()
        except OSError:
            continue
        if text.isdigit():
            total = min(total, int(text))
    return int(total)


def format_bytes(n: float) -> str:
    """``1.5 GB`` style (powers of 1000).

    >>> format_bytes(6e15)
    '6 PB'
    """
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1000 or unit == "PB":
            return f"{n:.3g} {unit}"
        n /= 1000
    return f"{n:.3g} PB"  # pragma: no cover


def check_memory(what: str, nbytes: float, *, available: int | None = None) -> None:
    """Refuse, naming ``what`` (the arguments, ``"L=10000"``), a size whose memory need
    ``nbytes`` (a lower bound: the arrays it cannot do without) exceeds the memory this
    process can have (:func:`total_memory`, or ``available``).

    The one estimate check every domain uses, before anything is allocated or written.

    >>> check_memory("neurons=1000000", 4 * 10**12, available=16 * 10**9)
    Traceback (most recent call last):
    ...
    ValueError: neurons=1000000 needs at least 4 TB of memory; this machine has 16 GB
    """
    avail = total_memory() if available is None else available
    if nbytes > avail:
        raise ValueError(f"{what} needs at least {format_bytes(nbytes)} of memory; this "
                         f"machine has {format_bytes(avail)}")


# ----------------------------------------------------------------------------- paths
#: Suffixes matplotlib writes (``savefig``); a CSV output path with one is refused.
FIGURE_SUFFIXES = (".eps", ".jpeg", ".jpg", ".pdf", ".pgf", ".png", ".ps", ".raw",
                   ".rgba", ".svg", ".svgz", ".tif", ".tiff", ".webp")


def check_output_path(name: str, value: Any, *, suffixes: Iterable[str] | None = None,
                      refuse_suffixes: Iterable[str] = (), expected: str = "another kind of file"
                      ) -> Path:
    """An output file path, checked before anything is written.

    Refused by name: an empty path, a path ending in ``/`` or naming a directory, an
    existing path that is not a regular file (``/dev/null``), a path under a file, a
    folder that cannot be written, a suffix outside ``suffixes`` (when given) or in
    ``refuse_suffixes`` (the message says what is ``expected`` instead).  Missing
    parent folders are fine (writers create them).

    >>> check_output_path("--diagram", "d.xyz", suffixes=(".svg", ".html"))
    Traceback (most recent call last):
    ...
    ValueError: --diagram d.xyz: unsupported suffix '.xyz' (expected one of .svg, .html)
    """
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} must be a file path, got {value!r}")
    text = os.fspath(value)
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{name} must be a file path, got {text!r}")
    if text.endswith(("/", os.sep)):
        raise ValueError(f"{name} {text}: names a directory; give a file name")
    path = Path(text)
    if path.is_dir():
        raise ValueError(f"{name} {text}: is a directory; give a file name")
    if path.exists() and not path.is_file():
        raise ValueError(f"{name} {text}: exists and is not a regular file")
    suffix = path.suffix.lower()
    if suffixes is not None and suffix not in tuple(suffixes):
        raise ValueError(f"{name} {text}: unsupported suffix {suffix or 'none'!r} (expected "
                         f"one of {', '.join(suffixes)})")
    if suffix and suffix in tuple(refuse_suffixes):
        raise ValueError(f"{name} {text}: expected {expected}, not a {suffix} file")
    parent = path.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise ValueError(f"{name} {text}: {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"{name} {text}: cannot write in {parent} (permission denied)")
    if path.exists() and not os.access(path, os.W_OK):
        raise ValueError(f"{name} {text}: the file is not writable (permission denied)")
    return path
