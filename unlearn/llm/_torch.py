"""Import torch on first use, with explicit threads (torch is never imported by ``unlearn``).

``OMP_WAIT_POLICY=PASSIVE`` is set before the first import unless the caller set it
(spinning OpenMP workers starve other processes on a shared machine).  The thread count
is ``ERASURELAB_TORCH_THREADS`` (default 1) unless :func:`set_threads` is called.
"""

from __future__ import annotations

import os

_INSTALL = ("unlearn.llm needs the torch stack; install it with: "
            "pip install 'erasurelab[t2i]'")
_state: dict = {}


def torch():
    """The torch module, imported and configured once."""
    if "torch" not in _state:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        try:
            import torch as _t
        except ImportError as exc:  # pragma: no cover - the extra is installed in CI
            raise ImportError(_INSTALL) from exc
        _state["torch"] = _t
        n = int(os.environ.get("ERASURELAB_TORCH_THREADS", "1"))
        if _t.get_num_threads() != n:
            _t.set_num_threads(max(1, n))
    return _state["torch"]


def set_threads(n: int) -> None:
    """Set torch's intra-op threads (``n >= 1``)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"threads must be an int >= 1, got {n!r}")
    if "torch" not in _state:  # applied on first import
        os.environ["ERASURELAB_TORCH_THREADS"] = str(n)
        return
    t = _state["torch"]
    if t.get_num_threads() != n:
        t.set_num_threads(n)


def transformers():
    torch()
    import logging

    import transformers as tf

    logging.getLogger("transformers").setLevel(logging.ERROR)
    tf.logging.set_verbosity_error()
    return tf
