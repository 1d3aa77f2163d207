"""A deliberately slow test sampler (sleeps per chunk) for kill-and-resume tests."""

from __future__ import annotations

import time
from collections import Counter

import numpy as np
import sinter

from sim import Sampler


class SlowSampler(Sampler):
    name = "slow-test"

    def validate(self, params):
        p = float(params.get("p", 0.3))
        if not 0 <= p <= 1:
            raise ValueError(f"p must lie in [0, 1], got {p}")
        return {"p": p, "delay": float(params.get("delay", 0.02))}

    def decoder(self, params):
        return "coin"

    def chunk_shots(self, params):
        return 100

    def sample(self, params, shots, rng, ctx=None):
        time.sleep(params["delay"])
        hits = int(np.count_nonzero(rng.random(shots) < params["p"]))
        return sinter.AnonTaskStats(shots=shots, errors=hits, custom_counts=Counter(calls=1))


class BoomSampler(SlowSampler):
    """Valid input, then a bug inside sampling (a ValueError, as a careless sampler raises)."""

    name = "boom-test"

    def sample(self, params, shots, rng, ctx=None):
        raise ValueError("boom: a bug inside the sampler")
