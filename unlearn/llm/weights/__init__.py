"""The shipped models: float16 ``.safetensors`` files and ``manifest.json`` (sha256,
recipe seed, training seconds and accuracies, written by ``scripts/llm_train.py``)."""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["MANIFEST", "WEIGHTS_DIR", "load", "manifest", "record"]

WEIGHTS_DIR = Path(__file__).resolve().parent
MANIFEST = WEIGHTS_DIR / "manifest.json"


def manifest() -> dict:
    """``{name: {"file", "sha256", "train_seconds", "threads", "metrics"}}``."""
    if not MANIFEST.is_file():
        return {}
    return json.loads(MANIFEST.read_text())


def record(name: str, *, sha: str, seconds: float, metrics: dict, threads: int) -> None:
    m = manifest()
    m[name] = {"file": f"{name}.safetensors", "sha256": sha, "train_seconds": round(seconds, 1),
               "threads": threads, "metrics": {k: round(v, 4) for k, v in metrics.items()}}
    MANIFEST.write_text(json.dumps(m, indent=1, sort_keys=True) + "\n")


_CACHE: dict = {}


def load(name: str):
    """The shipped model ``name`` (sha256 checked against the manifest); a fresh copy on
    every call, so callers may modify it."""
    from ..model import LM

    m = manifest()
    if name not in m:
        raise ValueError(f"no shipped model named {name!r}; shipped: {sorted(m)}")
    if name not in _CACHE:
        _CACHE[name] = LM.load(WEIGHTS_DIR / m[name]["file"], sha256=m[name]["sha256"])
    return _CACHE[name].copy()
