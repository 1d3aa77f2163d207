"""The declared task parameters of fbqc's two sweep families.

:class:`FusionParams` (sampler ``fbqc``) is a fusion network under hardware-agnostic
noise (:class:`fbqc.HardwareAgnostic`); :class:`OpticsParams` (sampler
``fbqc-optics``) is a network under the linear-optics model
(:class:`fbqc.LinearOptics`).  Both are run by :func:`fbqc.simulate.run_task`, the
same code path as :func:`fbqc.simulate`.

``errors`` says which failure counts as a logical error: ``"primal-x"`` (the primal
x-membrane) or ``"any-x"`` (the primal or the dual x-membrane); every membrane's
failures are kept as custom counts either way.  Its default is each family's historical
choice (``primal-x`` for ``fbqc``, ``any-x`` for ``fbqc-optics``) and it is recorded in
a task only when it differs, so older result files keep their strong ids.

Examples
--------
>>> p = FusionParams(network="6ring", L=8, p_erasure=0.12)
>>> p.to_json()
{'L': 8, 'decoder': 'uf', 'network': '6ring', 'p_erasure': 0.12, 'p_pauli': 0.0}
>>> p.replace(errors="any-x").to_json()["errors"]
'any-x'
>>> FusionParams(network="6ring", L=8, p_pauli=0.01, decoder="erasure-ml")
Traceback (most recent call last):
...
ValueError: fbqc: parameter decoder 'erasure-ml' needs pure erasure (p_pauli = 0, p_state = 0)
"""

from __future__ import annotations

from sim import TaskParams, param, task_params

from .decoders import DECODERS
from .network import BOUNDARIES, network_params
from .noise import HardwareAgnostic
from .optics import BASES, PATTERNS, LinearOptics

__all__ = [
    "BACKENDS",
    "ERRORS",
    "FusionParams",
    "OpticsParams",
    "STIM_DECODERS",
    "UF_MIXED_VERSION",
    "check_run_options",
    "network_bytes",
]

#: Which failure counts as ``errors``: the primal x-membrane, or primal or dual x.
ERRORS = ("primal-x", "any-x")
BACKENDS = ("direct", "stim")
#: Decoders of the stim backend (herald-aware, :mod:`fbqc.herald_decoders`).
STIM_DECODERS = ("uf", "mwpm", "erasure-ml", "erasure-uf", "erasure-mwpm", "mwpm-correlated",
                 "fusion-blossom", "erasure-fusion-blossom", "local-mwpm",
                 "erasure-local-mwpm")
#: ``uf`` / ``erasure-uf`` on mixed erasure + Pauli noise changed on 2026-12-03 (peeling
#: trees hold the fewest grown edges): such tasks carry ``model_version=2`` so older result
#: files do not resume into them.  Pure erasure and pure Pauli decode exactly as before and
#: keep their ids.
UF_MIXED_VERSION = 2


def check_run_options(*, decoder: str, backend: str, erasure: bool, pauli: bool,
                      p_state: float, errors: str, stim_ok: bool = True) -> None:
    """Refuse option combinations no path can run (one rule set for every path).

    ``erasure`` / ``pauli``: whether the noise model has erasures / flips.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if errors not in ERRORS:
        raise ValueError(f"errors must be one of {ERRORS}, got {errors!r}")
    if backend == "stim" and not stim_ok:
        raise ValueError("backend 'stim' is not available for this model")
    allowed = STIM_DECODERS if backend == "stim" else DECODERS
    if decoder not in allowed:
        raise ValueError(f"decoder must be one of {allowed} with backend={backend!r}, "
                         f"got {decoder!r}")
    if p_state and backend != "stim":
        raise ValueError("p_state: resource-state noise needs backend='stim'")
    if decoder == "erasure-ml" and (pauli or p_state):
        raise ValueError("decoder 'erasure-ml' needs pure erasure (p_pauli = 0, p_state = 0)")
    if decoder == "mwpm-correlated" and erasure:
        raise ValueError("decoder 'mwpm-correlated' does not read heralds; use it without "
                         "erasure")


#: Bytes per fusion a sweep cannot do without: the decoding graph (nodes, edges, their
#: adjacency) and the decoder's buffers.  A lower bound: a direct union-find sweep
#: measured about 3.5 kB per fusion at L=16 (peak RSS over the interpreter).
BYTES_PER_FUSION = 1000


def network_bytes(L: int, T: int | None = None) -> int:
    """A lower bound on the memory of one task on an L x L x T network (T = L: the
    periodic L^3 one; about 6 fusions per cell), as :meth:`sim.TaskParams.memory_bytes`
    wants it.

    >>> network_bytes(10000) > 10**15
    True
    """
    return BYTES_PER_FUSION * 6 * int(L) ** 2 * int(T or L)


_NETWORK_HELP = ("fusion network: 6ring, 4star or a registered description (6ring-d, "
                 "4star-d, 12ring, 3ghz, 4star-bell, ...)")
_L_HELP = "lattice size (L^3 unit cells periodic; L x L x T open)"
_BOUNDARY_HELP = ("periodic (an L^3 torus, six membranes) or open (an L x L x T block with "
                  "rough and smooth boundaries, one membrane)")
_T_HELP = "time extent of an open block (default: L)"


def _check_shape(params: TaskParams) -> None:
    """The network name and the block shape; ``T`` equal to ``L`` is stored as ``None``
    (one task, one id)."""
    try:
        network_params(params.network, params.L, params.boundary, params.T)
    except ValueError as exc:
        params.fail(str(exc))
    if params.T == params.L:
        params._set("T", None)


def _check(params: TaskParams, **kw) -> None:
    try:
        check_run_options(**kw)
    except ValueError as exc:
        params.fail(str(exc))


@task_params
class FusionParams(TaskParams):
    """A fusion network (periodic, or an open block) under hardware-agnostic noise,
    decoded by name."""

    family = "fbqc"

    network: str = param(help=_NETWORK_HELP)
    L: int = param(help=_L_HELP, unit="cells", low=3)
    p_erasure: float = param(0.0, help="erasure probability of every fusion outcome",
                             unit="probability")
    p_pauli: float = param(0.0, help="flip probability of every fusion outcome",
                           unit="probability")
    decoder: str = param("uf", help="decoder (stim backend: also erasure-uf, erasure-mwpm, "
                         "erasure-fusion-blossom, erasure-local-mwpm, mwpm-correlated)",
                         choices=tuple(dict.fromkeys(DECODERS + STIM_DECODERS)))
    backend: str = param("direct", help="direct syndrome sampling, or the network as a stim "
                         "circuit", choices=BACKENDS, record="non_default")
    p_state: float = param(0.0, help="DEPOLARIZE1 on every resource-state qubit before "
                           "fusion (stim backend only)", unit="probability",
                           record="non_default")
    errors: str = param("primal-x", help="which failure counts as a logical error",
                        choices=ERRORS, record="non_default")
    boundary: str = param("periodic", help=_BOUNDARY_HELP, choices=BOUNDARIES,
                          record="non_default")
    T: int | None = param(None, help=_T_HELP, unit="cells", low=3, record="non_default")

    def check(self) -> None:
        _check_shape(self)
        _check(self, decoder=self.decoder, backend=self.backend, erasure=self.p_erasure > 0,
               pauli=self.p_pauli > 0, p_state=self.p_state, errors=self.errors)

    def model(self) -> HardwareAgnostic:
        """The noise model of this task."""
        return HardwareAgnostic(self.p_erasure, self.p_pauli)

    def model_version(self) -> int:
        mixed = self.p_erasure > 0 and (self.p_pauli > 0 or self.p_state > 0)
        return UF_MIXED_VERSION if self.decoder in ("uf", "erasure-uf") and mixed else 1

    def chunk_shots(self) -> int:
        per = 6 * self.L**2 * (self.T or self.L) * (4 if self.decoder == "mwpm" else 1)
        return max(16, min(4096, (1 << 21) // per))

    @property
    def memory_params(self) -> tuple[str, ...]:  # type: ignore[override]
        return ("L", "T") if getattr(self, "T", None) else ("L",)

    def memory_bytes(self) -> int:
        return network_bytes(self.L, getattr(self, "T", None))

    @classmethod
    def examples(cls) -> list[FusionParams]:  # pragma: no mutate block
        return [cls(network="6ring", L=3, p_erasure=0.1, p_pauli=0.01),
                cls(network="6ring", L=3, p_erasure=0.1, decoder="erasure-ml")]


@task_params
class OpticsParams(TaskParams):
    """A fusion network under linear-optics noise: photon loss, fusion failure and its
    basis, optional (2,2)-Shor encoding.  Pure erasure, so ``erasure-ml`` (the default)
    is exact maximum likelihood."""

    family = "fbqc-optics"

    network: str = param("6ring", help=_NETWORK_HELP)
    L: int = param(help=_L_HELP, unit="cells", low=3)
    loss_per_photon: float = param(0.0, help="probability that a photon is lost",
                                   unit="probability")
    fusion_failure: float = param(0.5, help="probability that a loss-free physical fusion "
                                  "fails (0.5 unboosted, 0.25 boosted)", unit="probability")
    photons_per_fusion: int = param(4, help="photons whose loss erases a physical fusion",
                                    unit="photons", low=1)
    basis: str = param("random", help="fusion basis: random, standard, rotated; encoded "
                       "also the patterns UR,UR UU,RR UR,RR", choices=BASES + PATTERNS[2:])
    encoding: str | None = param("none", help="none or shor22 ((2,2)-Shor encoded fusions)",
                                 choices=("none", "shor22"))
    decoder: str = param("erasure-ml", help="decoder", choices=DECODERS)
    errors: str = param("any-x", help="which failure counts as a logical error",
                        choices=ERRORS, record="non_default")
    boundary: str = param("periodic", help=_BOUNDARY_HELP, choices=BOUNDARIES,
                          record="non_default")
    T: int | None = param(None, help=_T_HELP, unit="cells", low=3, record="non_default")

    def check(self) -> None:
        _check_shape(self)
        if self.encoding is None:
            self._set("encoding", "none")
        if self.basis in PATTERNS[2:] and self.encoding != "shor22":
            self.fail(f"basis {self.basis!r} needs encoding 'shor22'")
        # (decoder and errors are checked by their choices: every direct decoder runs
        # pure erasure)

    def model(self, network=None) -> LinearOptics:
        """The noise model of this task (a fixed pattern basis needs the ``network``)."""
        enc = None if self.encoding == "none" else self.encoding
        basis = self.basis
        if basis not in BASES:
            from .optics import basis_pattern

            basis = basis_pattern(network, basis, encoding=enc)
        return LinearOptics(self.loss_per_photon, self.fusion_failure,
                            self.photons_per_fusion, basis=basis, encoding=enc)

    def chunk_shots(self) -> int:
        per = 6 * self.L**2 * (self.T or self.L) * (4 if self.encoding == "shor22" else 1)
        return max(16, min(2048, (1 << 21) // per))

    @property
    def memory_params(self) -> tuple[str, ...]:  # type: ignore[override]
        return ("L", "T") if getattr(self, "T", None) else ("L",)

    def memory_bytes(self) -> int:
        return network_bytes(self.L, getattr(self, "T", None))

    @classmethod
    def examples(cls) -> list[OpticsParams]:  # pragma: no mutate block
        return [cls(L=3, fusion_failure=0.2), cls(L=3, fusion_failure=0.2, decoder="uf")]
