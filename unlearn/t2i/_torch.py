"""Import torch for ``unlearn.t2i`` (and nothing else in the package).

The first call sets ``OMP_WAIT_POLICY=PASSIVE`` unless the caller set it (on a shared
machine, OpenMP threads that spin while waiting slowed training steps 4-8x whenever another
process held a core), imports torch, fixes the number of intra-op threads (default 2, or
``ERASURELAB_TORCH_THREADS``).  It does not turn on flush-to-zero: that CPU flag is global to
the process and would change every numpy computation of a caller that imports this package.
A missing torch stack raises ``ImportError`` with the install hint.
"""

from __future__ import annotations

import functools
import importlib
import os
from collections.abc import Callable

INSTALL_HINT = ("unlearn.t2i needs the torch stack (torch, diffusers, transformers); install it "
                "with: pip install 'erasurelab[t2i]'")


@functools.lru_cache(maxsize=1)
def torch():
    """Return the ``torch`` module, configured once per process (see module docstring)."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        import torch as _torch
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(INSTALL_HINT) from exc
    threads = int(os.environ.get("ERASURELAB_TORCH_THREADS", "2"))
    if _torch.get_num_threads() != threads:
        _torch.set_num_threads(max(1, threads))
    return _torch


def _library(name: str, quiet: Callable):
    """Import ``name`` after :func:`torch` (the install hint if absent) and quiet its logging."""
    torch()
    try:
        mod = importlib.import_module(name)
    except ImportError as exc:  # pragma: no cover
        raise ImportError(INSTALL_HINT) from exc
    try:
        quiet(mod)
    except AttributeError:  # pragma: no cover
        pass
    return mod


def diffusers():
    """Return the ``diffusers`` module (after :func:`torch`), with the install hint if absent."""
    return _library("diffusers", lambda d: d.utils.logging.set_verbosity_error())


def transformers():
    """Return the ``transformers`` module (after :func:`torch`)."""
    return _library("transformers", lambda t: t.logging.set_verbosity_error())


def generator(seed: int):
    """A CPU ``torch.Generator`` seeded with ``seed``."""
    g = torch().Generator(device="cpu")
    g.manual_seed(int(seed))
    return g
