"""The sim sampler of the linear-optics model: ``fbqc-optics``.

One task = (network, L, loss_per_photon, fusion_failure, photons_per_fusion, basis,
encoding, decoder).  Every shot draws each physical fusion's loss, failure and basis
(:meth:`fbqc.optics.LinearOptics.sample`), erases the outcomes on both syndrome graphs
and decodes each graph.  The model is pure erasure, so the default decoder
``erasure-ml`` is exact maximum likelihood: a membrane fails with probability 1/2 when
the erased subgraph carries a cycle winding oddly across it
(:func:`fbqc.decoders.erasure_windings`); ``uf`` decodes the random values of the erased
outcomes with union-find instead (the same up to statistical noise: peeling is ML for
erasure).

``errors`` counts shots where the **primal or the dual x-membrane** fails: a basis
pattern could otherwise protect one graph at the other's expense.  Custom counts
``obs_mistake_mask=…`` record all six membranes (order of
:data:`fbqc.network.MEMBRANE_NAMES`).

Examples
--------
>>> import numpy as np
>>> s = OpticsSampler()
>>> p = s.validate({"network": "6ring", "L": 4, "loss_per_photon": 0.0,
...                 "fusion_failure": 0.1})
>>> p["basis"], p["encoding"], p["decoder"]
('random', 'none', 'erasure-ml')
>>> s.sample(p, 100, np.random.default_rng(0)).shots
100
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import sinter

from sim import ChunkContext, Sampler

from .decoders import UnionFindDecoder, erasure_windings
from .network import KINDS, MEMBRANE_NAMES, FusionNetwork, _check_L
from .optics import BASES, PATTERNS, LinearOptics, basis_pattern

__all__ = ["OpticsSampler", "mistakes_from_erasure"]

_KEYS = ("network", "L", "loss_per_photon", "fusion_failure", "photons_per_fusion", "basis",
         "encoding", "decoder")
OPTICS_DECODERS = ("erasure-ml", "uf")


def _mask_key(bits: np.ndarray) -> str:
    return "obs_mistake_mask=" + "".join("E" if b else "_" for b in bits)


def mistakes_from_erasure(net: FusionNetwork, erased: np.ndarray, rng: np.random.Generator,
                          decoder: str = "erasure-ml", decoders: dict | None = None
                          ) -> np.ndarray:
    """(S, 6) uint8 membrane failures of per-outcome erasures ``erased`` (S, n_outcomes).

    ``erasure-ml``: each membrane in the span of the erased windings fails with a fair
    coin (a uniformly random element of the span).  ``uf``: the erased outcomes take
    random values, union-find decodes them.
    """
    S = erased.shape[0]
    out = np.zeros((S, 6), np.uint8)
    for g, graph in enumerate(net.graphs):
        er_e, _ = graph.bundle(erased, np.zeros_like(erased))
        if decoder == "erasure-ml":
            basis, rank = erasure_windings(graph, er_e)
            coins = rng.integers(0, 2, size=(S, 3))
            coins[np.arange(3)[None, :] >= rank[:, None]] = 0
            vec = np.bitwise_xor.reduce(coins * basis, axis=1)
            out[:, 3 * g:3 * g + 3] = (vec[:, None] >> np.arange(3)[None, :]) & 1
        else:
            flips = er_e & (rng.random(er_e.shape) < 0.5)
            truth = (flips.astype(np.uint8) @ graph.crossing.astype(np.uint8)) & 1
            dec = decoders.get(g) if decoders is not None else None
            if dec is None:
                dec = UnionFindDecoder(graph)
                if decoders is not None:
                    decoders[g] = dec
            pred = dec.decode_batch(graph.syndrome(flips), er_e)
            out[:, 3 * g:3 * g + 3] = pred ^ truth
    return out


class OpticsSampler(Sampler):
    """Linear-optics erasure (loss, fusion failure and its basis, encoding) on a network."""

    name = "fbqc-optics"
    observables = MEMBRANE_NAMES
    labels = {"loss_per_photon": "photon loss probability ℓ",
              "fusion_failure": "fusion failure probability $p_f$",
              "photons_per_fusion": "photons per fusion",
              "L": "lattice size L",
              "errors": "logical error rate (primal or dual x-membrane)"}

    def __init__(self) -> None:
        self._nets: dict[tuple[str, int], FusionNetwork] = {}
        self._decs: dict[tuple[str, int], dict] = {}
        self._patterns: dict[tuple, np.ndarray] = {}

    def validate(self, params: dict[str, Any]) -> dict[str, Any]:
        unknown = set(params) - set(_KEYS)
        if unknown:
            raise ValueError(
                f"fbqc-optics: unknown parameter(s) {sorted(unknown)}; expected {_KEYS}")
        missing = [k for k in ("network", "L") if k not in params]
        if missing:
            raise ValueError(f"fbqc-optics: missing parameter(s) {missing}")
        net = params["network"]
        if net not in KINDS:
            raise ValueError(f"network must be one of {KINDS}, got {net!r}")
        L = _check_L(params["L"])
        enc = params.get("encoding", "none")
        if enc not in ("none", "shor22", None):
            raise ValueError(f"encoding must be 'none' or 'shor22', got {enc!r}")
        enc = "none" if enc is None else enc
        basis = params.get("basis", "random")
        if basis not in (*BASES, *PATTERNS):
            raise ValueError(f"basis must be one of {(*BASES, *PATTERNS[2:])}, got {basis!r}")
        if basis in ("UR,UR", "UU,RR", "UR,RR") and enc != "shor22":
            raise ValueError(f"basis {basis!r} needs encoding 'shor22'")
        model = LinearOptics(params.get("loss_per_photon", 0.0),
                             params.get("fusion_failure", 0.5),
                             params.get("photons_per_fusion", 4))
        dec = params.get("decoder", "erasure-ml")
        if dec not in OPTICS_DECODERS:
            raise ValueError(f"decoder must be one of {OPTICS_DECODERS}, got {dec!r}")
        return {"network": net, "L": L, "loss_per_photon": model.loss_per_photon,
                "fusion_failure": model.fusion_failure,
                "photons_per_fusion": model.photons_per_fusion, "basis": basis,
                "encoding": enc, "decoder": dec}

    def decoder(self, params: dict[str, Any]) -> str:
        return str(params.get("decoder", "erasure-ml"))

    def chunk_shots(self, params: dict[str, Any]) -> int:
        L = int(params["L"])
        per = 6 * L**3 * (4 if params.get("encoding") == "shor22" else 1)
        return int(max(16, min(2048, (1 << 21) // per)))

    def _net(self, kind: str, L: int) -> FusionNetwork:
        key = (kind, L)
        if key not in self._nets:
            self._nets[key] = FusionNetwork(kind, L)
            self._decs[key] = {}
        return self._nets[key]

    def model(self, params: dict[str, Any]) -> tuple[FusionNetwork, LinearOptics]:
        """The network and the :class:`~fbqc.optics.LinearOptics` model of a task."""
        net = self._net(params["network"], int(params["L"]))
        enc = None if params["encoding"] == "none" else params["encoding"]
        basis = params["basis"]
        if basis not in BASES:
            key = (params["network"], int(params["L"]), basis, enc)
            if key not in self._patterns:
                self._patterns[key] = basis_pattern(net, basis, encoding=enc)
            basis = self._patterns[key]
        lo = LinearOptics(params["loss_per_photon"], params["fusion_failure"],
                          params["photons_per_fusion"], basis=basis, encoding=enc)
        return net, lo

    def warm(self, params: dict[str, Any] | None = None) -> None:
        p = self.validate({"network": "6ring", "L": 3, "fusion_failure": 0.2})
        self.sample(p, 4, np.random.default_rng(0))
        self.sample({**p, "decoder": "uf"}, 4, np.random.default_rng(0))

    def sample(self, params: dict[str, Any], shots: int, rng: np.random.Generator,
               ctx: ChunkContext | None = None) -> sinter.AnonTaskStats:
        net, lo = self.model(params)
        decs = self._decs[(params["network"], int(params["L"]))]
        errors = 0
        counts: Counter = Counter()
        batch = max(1, (1 << 22) // (net.n_fusions * (4 if lo.encoding else 1)))
        done = 0
        while done < shots:
            S = min(batch, int(shots) - done)
            done += S
            erased = lo.sample(net, S, rng)
            mis = mistakes_from_erasure(net, erased, rng, params["decoder"], decs)
            errors += int(np.count_nonzero(mis[:, 0] | mis[:, 3]))
            nz = np.flatnonzero(mis.any(axis=1))
            if nz.size:
                codes = mis[nz] @ (1 << np.arange(6))
                for code, n in zip(*np.unique(codes, return_counts=True)):
                    counts[_mask_key((int(code) >> np.arange(6)) & 1)] += int(n)
        return sinter.AnonTaskStats(shots=int(shots), errors=errors, custom_counts=counts)
