"""The sinter/sim sampler of fbqc: one task = (network, L, p_erasure, p_pauli, decoder).

Registered as ``fbqc`` (entry point ``fbqc.sampler:FusionSampler``).  Counts: ``errors``
are primal x-membrane failures; custom counts ``obs_mistake_mask=…`` over the six
membranes (:data:`fbqc.network.MEMBRANE_NAMES`) and, for ``erasure-ml``,
``winding:<membrane>``.

Examples
--------
>>> import numpy as np
>>> s = FusionSampler()
>>> p = s.validate({"network": "6ring", "L": 4, "p_erasure": 0.05, "p_pauli": 0.0,
...                 "decoder": "erasure-ml"})
>>> s.sample(p, 100, np.random.default_rng(0)).shots
100
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sinter

from sim import ChunkContext, Sampler

from .decoders import DECODERS
from .network import KINDS, MEMBRANE_NAMES, FusionNetwork, _check_L
from .noise import HardwareAgnostic, _prob
from .simulate import _Decoders, run_shots
from .stim_backend import STIM_DECODERS, StimSimulator

__all__ = ["FusionSampler"]

_KEYS = ("network", "L", "p_erasure", "p_pauli", "decoder", "backend", "p_state",
         "model_version")
#: ``uf`` / ``erasure-uf`` on mixed erasure + Pauli noise changed on 2026-12-03 (peeling
#: trees hold the fewest grown edges): such tasks carry ``model_version=2`` so older result
#: files do not resume into them.  Pure erasure and pure Pauli decode exactly as before and
#: keep their ids.
UF_MIXED_VERSION = 2


class FusionSampler(Sampler):
    """Hardware-agnostic noise on a periodic fusion network, decoded by name."""

    name = "fbqc"
    observables = MEMBRANE_NAMES
    labels = {"p_erasure": "erasure probability per fusion outcome $p_E$",
              "p_pauli": "Pauli error probability per fusion outcome $p_P$",
              "p_state": "resource-state Pauli probability $p_{state}$",
              "L": "lattice size L",
              "errors": "logical error rate (primal x-membrane)"}

    def __init__(self) -> None:
        self._nets: dict[tuple[str, int], tuple[FusionNetwork, _Decoders]] = {}
        self._stim: dict[tuple, Any] = {}

    def validate(self, params: dict[str, Any]) -> dict[str, Any]:
        unknown = set(params) - set(_KEYS)
        if unknown:
            raise ValueError(f"fbqc: unknown parameter(s) {sorted(unknown)}; expected {_KEYS}")
        missing = [k for k in ("network", "L") if k not in params]
        if missing:
            raise ValueError(f"fbqc: missing parameter(s) {missing}")
        net = params["network"]
        if net not in KINDS:
            raise ValueError(f"network must be one of {KINDS}, got {net!r}")
        L = _check_L(params["L"])
        model = HardwareAgnostic(params.get("p_erasure", 0.0), params.get("p_pauli", 0.0))
        backend = params.get("backend", "direct")
        if backend not in ("direct", "stim"):
            raise ValueError(f"backend must be 'direct' or 'stim', got {backend!r}")
        dec = params.get("decoder", "uf")
        allowed = STIM_DECODERS if backend == "stim" else DECODERS
        if dec not in allowed:
            raise ValueError(f"decoder must be one of {allowed}, got {dec!r}")
        p_state = _prob(params.get("p_state", 0.0), "p_state")
        if p_state and backend != "stim":
            raise ValueError("p_state: resource-state noise needs backend='stim'")
        if dec == "erasure-ml" and (model.p_pauli != 0 or p_state):
            raise ValueError("decoder 'erasure-ml' is only valid for p_pauli = 0 and p_state = 0")
        out = {"network": net, "L": L, "p_erasure": model.p_erasure,
               "p_pauli": model.p_pauli, "decoder": dec}
        # only recorded when not the default, so old ids stay valid
        if backend == "stim":
            out["backend"] = "stim"
        if p_state:
            out["p_state"] = p_state
        version = (UF_MIXED_VERSION if dec in ("uf", "erasure-uf") and model.p_erasure > 0
                   and (model.p_pauli > 0 or p_state) else None)
        given = params.get("model_version")
        if given is not None and given != version:
            raise ValueError(f"model_version: this fbqc decodes these parameters as version "
                             f"{version}, not {given!r}")
        if version is not None:
            out["model_version"] = version
        return out

    def decoder(self, params: dict[str, Any]) -> str:
        return str(params.get("decoder", "uf"))

    def chunk_shots(self, params: dict[str, Any]) -> int:
        L = int(params["L"])
        per = 6 * L**3 * (4 if params.get("decoder") == "mwpm" else 1)
        return int(max(16, min(4096, (1 << 21) // per)))

    def _get(self, kind: str, L: int) -> tuple[FusionNetwork, _Decoders]:
        key = (kind, L)
        if key not in self._nets:
            net = FusionNetwork(kind, L)
            self._nets[key] = (net, _Decoders(net))
        return self._nets[key]

    def warm(self, params: dict[str, Any] | None = None) -> None:
        net, decs = self._get("6ring", 3)
        rng = np.random.default_rng(0)
        run_shots(net, HardwareAgnostic(0.1, 0.01), "uf", 4, rng, decs)
        run_shots(net, HardwareAgnostic(0.1, 0.0), "erasure-ml", 4, rng, decs)

    def sample(self, params: dict[str, Any], shots: int, rng: np.random.Generator,
               ctx: ChunkContext | None = None) -> sinter.AnonTaskStats:
        model = HardwareAgnostic(params["p_erasure"], params["p_pauli"])
        if params.get("backend") == "stim":
            p_state = float(params.get("p_state", 0.0))
            key = (params["network"], int(params["L"]), model.p_erasure, model.p_pauli,
                   params["decoder"], p_state)
            if key not in self._stim:
                self._stim[key] = StimSimulator(params["network"], int(params["L"]), model,
                                                decoder=params["decoder"], p_state=p_state)
            errors, counts = self._stim[key].run(int(shots), rng)
            return sinter.AnonTaskStats(shots=int(shots), errors=errors, custom_counts=counts)
        net, decs = self._get(params["network"], int(params["L"]))
        errors, counts = run_shots(net, model, params["decoder"], int(shots), rng, decs)
        return sinter.AnonTaskStats(shots=int(shots), errors=errors, custom_counts=counts)
