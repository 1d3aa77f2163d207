"""Missing optional dependencies ("extras"): one line naming the extra and how to install it.

The ``erasurelab`` command runs every subcommand through :func:`run_guarded`: an
``ImportError`` whose cause is a module of an extra (scikit-learn for ``unlearn``, torch
for ``t2i``, fusion-blossom for ``blossom`` …) becomes the one line of
:func:`missing_extra_message` and exit code 2, never a traceback.  Any other import error
is a bug and propagates.  Which extra provides a module is read from the installed
package's metadata (the smallest extra that lists it), with a built-in table as fallback.

Examples
--------
>>> extra_for("sklearn")
('scikit-learn', 'unlearn')
>>> err = ModuleNotFoundError("No module named 'torch'", name="torch")
>>> print(missing_extra_message(err, "erasurelab unlearn erase"))  # doctest: +NORMALIZE_WHITESPACE
erasurelab unlearn erase: needs torch (not installed), from the extra 't2i':
pip install 'erasurelab[t2i]'

"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable

__all__ = ["extra_for", "missing_extra_message", "run_guarded"]

#: Distribution names whose import name differs from the name with "-" -> "_".
_IMPORT_NAMES = {
    "scikit-learn": "sklearn",
    "fusion-blossom": "fusion_blossom",
    "import-linter": "importlinter",
    "pytest-xdist": "xdist",
    "pytest-benchmark": "pytest_benchmark",
    "mkdocs-material": "material",
}

#: Used when the package metadata is not available (a bare checkout on sys.path).
_FALLBACK = {
    "sklearn": ("scikit-learn", "unlearn"),
    "tokenizers": ("tokenizers", "unlearn"),
    "safetensors": ("safetensors", "unlearn"),
    "threadpoolctl": ("threadpoolctl", "unlearn"),
    "torch": ("torch", "t2i"),
    "diffusers": ("diffusers", "t2i"),
    "transformers": ("transformers", "t2i"),
    "fusion_blossom": ("fusion-blossom", "blossom"),
    "distributed": ("distributed", "dask"),
    "dask": ("distributed", "dask"),
    "jupytext": ("jupytext", "notebooks"),
    "nbclient": ("nbclient", "notebooks"),
    "nbformat": ("nbformat", "notebooks"),
    "mkdocs": ("mkdocs", "docs"),
}


@functools.lru_cache(maxsize=1)
def _table() -> dict[str, tuple[str, str]]:
    """import name -> (distribution, extra), from the installed metadata."""
    try:
        from importlib.metadata import PackageNotFoundError, requires

        reqs = requires("erasurelab") or []
    except (ImportError, PackageNotFoundError):
        return dict(_FALLBACK)
    by_dist: dict[str, list[str]] = {}
    for r in reqs:
        m = re.match(r"^\s*([A-Za-z0-9_.\-]+).*;\s*extra\s*==\s*['\"]([^'\"]+)['\"]", r)
        if m:
            by_dist.setdefault(m.group(1).lower(), []).append(m.group(2))
    size = {}
    for extras in by_dist.values():
        for e in extras:
            size[e] = size.get(e, 0) + 1
    out = dict(_FALLBACK)
    for dist, extras in by_dist.items():
        module = _IMPORT_NAMES.get(dist, dist.replace("-", "_"))
        out[module] = (dist, min(extras, key=lambda e: (size[e], e)))
    return out


def extra_for(module: str) -> tuple[str, str] | None:
    """``(distribution, extra)`` providing the top-level ``module``, or None."""
    return _table().get(module.split(".", 1)[0])


def _missing_module(exc: BaseException) -> str | None:
    """The name of the missing module behind ``exc`` (following its causes), if any."""
    seen = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, ModuleNotFoundError) and e.name:
            return e.name
        e = e.__cause__ or e.__context__
    return None


def missing_extra_message(exc: BaseException, command: str = "erasurelab") -> str | None:
    """One line naming the extra and its install command, if ``exc`` is a missing extra."""
    name = _missing_module(exc)
    found = extra_for(name) if name else None
    if found is None:
        return None
    dist, extra = found
    return (f"{command}: needs {dist} (not installed), from the extra {extra!r}: "
            f"pip install 'erasurelab[{extra}]'")


def run_guarded(fn: Callable[[], int], command: str) -> int:
    """Run ``fn``; a missing extra prints one line to stderr and returns 2."""
    try:
        return fn()
    except ImportError as exc:
        msg = missing_extra_message(exc, command)
        if msg is None:
            raise
        print(msg, file=sys.stderr)
        return 2
