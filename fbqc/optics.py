"""The linear-optics error model of fusion networks, unencoded and (2,2)-Shor encoded.

A physical (type-II) fusion of ``n`` photons loses at least one photon with probability
``1 − (1 − ℓ)^n``, which erases **both** outcomes.  Otherwise it fails with probability
``p_f`` (1/2 unboosted, 1/4 boosted with a Bell-pair ancilla) and a failed fusion keeps
one of its two outcomes and erases the other: the *standard* fusion (``U``) keeps ``ZZ``
and erases ``XX`` (outcome basis 0), the *rotated* one (``R``) keeps ``XX`` and erases
``ZZ`` (basis 1).  ``basis`` chooses per fusion.

Encoded fusion (``encoding="shor22"``): every network fusion is a logical fusion of two
(2,2)-Shor-encoded qubits (parity form: 2 blocks of 2 photons), made of 4 transversal
physical fusions.  With ``a_i`` / ``b_i`` the probabilities that physical fusion ``i``
keeps ``XX`` / ``ZZ`` (``U``: ``a = (1−ℓ)(1−p_f)``, ``b = 1−ℓ``; ``R``: swapped),

* ``P(X̄X̄ erased) = Π_blocks (1 − Π_{i∈block} a_i)``
* ``P(Z̄Z̄ erased) = 1 − Π_blocks (1 − Π_{i∈block} (1 − b_i))``

(derived in docs/science/fusion.md).  Each network fusion sends one outcome to each
syndrome graph, and
the graphs decode independently, so these per-outcome marginals fix the distribution of
each graph's erasures exactly: a shot draws every outcome independently with its own
probability (:meth:`LinearOptics.outcome_erasure_probabilities`).  For
``basis="random"`` each physical fusion is ``U`` or ``R`` with probability 1/2 in every
shot, which averages ``a`` and ``b`` to ``q = (1−ℓ)(1 − p_f/2)``.

Basis arrays: unencoded, ``(n_fusions,)`` of 0 (``U``, failure erases basis 0) / 1
(``R``, erases basis 1); encoded, ``(n_fusions, 4)`` with the 4 physical fusions of one
logical fusion in block order ``[block 0: i=0, 1; block 1: i=2, 3]``.
:func:`basis_pattern` builds the named patterns used in the sweeps.

Examples
--------
>>> from fbqc.network import FusionNetwork
>>> net = FusionNetwork("6ring", 3)
>>> lo = LinearOptics(0.0, fusion_failure=0.25, basis="standard")
>>> p = lo.outcome_erasure_probabilities(net)
>>> float(p[0]), float(p[1])     # XX erased on failure, ZZ kept
(0.25, 0.0)
>>> enc = LinearOptics(0.0, fusion_failure=0.432, encoding="shor22")
>>> [round(x, 4) for x in enc.logical_erasure()]
[0.1485, 0.0911]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from sim.validate import check_int, check_probability

__all__ = ["BASES", "ENCODINGS", "PATTERNS", "LinearOptics", "basis_pattern", "logical_erasure"]

BASES = ("random", "standard", "rotated")
ENCODINGS = (None, "shor22")
#: Named fixed patterns for :func:`basis_pattern` (see its docstring).
PATTERNS = ("standard", "rotated", "UR,UR", "UU,RR", "UR,RR")


def logical_erasure(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(2,2)-Shor logical erasure probabilities from per-physical-fusion ``a``, ``b``.

    ``a``, ``b``: (..., 4) probabilities that each physical fusion keeps ``XX`` / ``ZZ``.
    Returns ``(P(X̄X̄ erased), P(Z̄Z̄ erased))``, each of shape ``(...)``.

    >>> q = 0.784
    >>> ex, ez = logical_erasure(np.full(4, q), np.full(4, q))
    >>> round(float(ex), 4), round(float(ez), 4)
    (0.1485, 0.0911)
    """
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    ax = a.reshape(*a.shape[:-1], 2, 2)
    bz = b.reshape(*b.shape[:-1], 2, 2)
    ex = np.prod(1.0 - np.prod(ax, axis=-1), axis=-1)
    ez = 1.0 - np.prod(1.0 - np.prod(1.0 - bz, axis=-1), axis=-1)
    return ex, ez


def basis_pattern(network: Any, name: str, *, encoding: str | None = None,
                  rng: np.random.Generator | None = None) -> np.ndarray:
    """A fixed basis array for ``network`` (0 = ``U``/standard, 1 = ``R``/rotated).

    Names: ``"standard"`` / ``"rotated"`` (all ``U`` / all ``R``); encoded only:
    ``"UR,UR"`` (``X̄X̄`` erased with ``p_f²``, ``Z̄Z̄`` never, at ``ℓ = 0``),
    ``"UU,RR"`` (the reverse) and ``"UR,RR"``.  ``"random"`` with ``rng``: a frozen
    uniformly random pattern.

    >>> from fbqc.network import FusionNetwork
    >>> basis_pattern(FusionNetwork("6ring", 3), "UU,RR", encoding="shor22")[0].tolist()
    [0, 0, 1, 1]
    """
    F = int(network.n_fusions)
    shape = (F, 4) if encoding == "shor22" else (F,)
    if name == "standard":
        return np.zeros(shape, np.int8)
    if name == "rotated":
        return np.ones(shape, np.int8)
    if name == "random":
        if rng is None:
            raise ValueError("basis 'random' as a frozen pattern needs rng")
        return rng.integers(0, 2, size=shape).astype(np.int8)
    rows = {"UR,UR": [0, 1, 0, 1], "UU,RR": [0, 0, 1, 1], "UR,RR": [0, 1, 1, 1]}
    if name in rows:
        if encoding != "shor22":
            raise ValueError(f"basis pattern {name!r} needs encoding='shor22'")
        return np.tile(np.array(rows[name], np.int8), (F, 1))
    raise ValueError(f"basis must be one of {PATTERNS} or 'random', got {name!r}")


@dataclass(frozen=True, eq=False)
class LinearOptics:
    """Photon loss and fusion failure (with its basis), optionally (2,2)-Shor encoded
    (frozen: a basis array is copied and made read-only).

    Parameters
    ----------
    loss_per_photon : probability ``ℓ`` that a photon is lost.
    fusion_failure : probability ``p_f`` that a loss-free physical fusion fails
        (0.5 unboosted, 0.25 boosted).
    photons_per_fusion : photons whose loss erases a physical fusion (default 4: two
        qubit photons and two boost-ancilla photons, which turns the paper's 2.7 % per
        photon into its 10.4 % per fusion).
    basis : ``"random"`` (each physical fusion ``U`` or ``R`` with probability 1/2,
        fresh every shot), ``"standard"`` (all ``U``: failure erases ``XX``),
        ``"rotated"`` (all ``R``: failure erases ``ZZ``), or an int array of 0/1 of
        shape ``(n_fusions,)`` (``(n_fusions, 4)`` encoded), checked against the
        network when used.
    encoding : ``None`` or ``"shor22"``.

    Examples
    --------
    >>> lo = LinearOptics(0.027, fusion_failure=0.25)
    >>> round(lo.loss_per_fusion, 4)
    0.1037
    >>> LinearOptics(0.1, basis="diagonal")
    Traceback (most recent call last):
    ...
    ValueError: basis must be 'random', 'standard', 'rotated' or an array of 0/1, got 'diagonal'
    """

    loss_per_photon: float
    fusion_failure: float = 0.5
    photons_per_fusion: int = 4
    basis: str | np.ndarray = "random"
    encoding: str | None = None

    #: What :func:`fbqc.simulate` counts as ``errors`` unless told otherwise: a basis
    #: pattern could protect one syndrome graph at the other's expense.
    default_errors: ClassVar[str] = "any-x"
    has_erasure: ClassVar[bool] = True
    has_flips: ClassVar[bool] = False

    def __post_init__(self) -> None:
        def put(name: str, value: Any) -> None:
            object.__setattr__(self, name, value)

        put("loss_per_photon", check_probability("loss_per_photon", self.loss_per_photon))
        put("fusion_failure", check_probability("fusion_failure", self.fusion_failure))
        put("photons_per_fusion", check_int("photons_per_fusion", self.photons_per_fusion,
                                            low=1))
        if self.encoding not in ENCODINGS:
            raise ValueError(f"encoding must be one of {ENCODINGS}, got {self.encoding!r}")
        basis = self.basis
        if isinstance(basis, str):
            if basis not in BASES:
                raise ValueError("basis must be 'random', 'standard', 'rotated' or an array "
                                 f"of 0/1, got {basis!r}")
            return
        arr = np.asarray(basis)
        if arr.dtype == bool:
            arr = arr.astype(np.int8)
        if not np.issubdtype(arr.dtype, np.integer) or np.any((arr != 0) & (arr != 1)):
            raise ValueError("basis array must hold only 0 (standard) and 1 (rotated)")
        want_ndim = 2 if self.encoding == "shor22" else 1
        if arr.ndim != want_ndim or (want_ndim == 2 and arr.shape[1] != 4):
            want = "(n_fusions, 4)" if self.encoding == "shor22" else "(n_fusions,)"
            raise ValueError(f"basis array must have shape {want}, got {arr.shape}")
        arr = arr.astype(np.int8)  # a copy: the caller's array cannot change the model
        arr.setflags(write=False)
        put("basis", arr)

    @property
    def loss_per_fusion(self) -> float:
        """``1 − (1 − ℓ)^n``: probability that a physical fusion loses a photon."""
        return 1.0 - (1.0 - self.loss_per_photon) ** self.photons_per_fusion

    def __repr__(self) -> str:
        b = self.basis if isinstance(self.basis, str) else f"array{self.basis.shape}"
        return (f"LinearOptics(loss_per_photon={self.loss_per_photon}, "
                f"fusion_failure={self.fusion_failure}, "
                f"photons_per_fusion={self.photons_per_fusion}, basis={b!r}, "
                f"encoding={self.encoding!r})")

    def _basis_array(self, n_fusions: int) -> np.ndarray | None:
        """Per-(physical-)fusion probability of ``R``, shaped like a basis array."""
        shape = (n_fusions, 4) if self.encoding == "shor22" else (n_fusions,)
        if isinstance(self.basis, str):
            v = {"random": 0.5, "standard": 0.0, "rotated": 1.0}[self.basis]
            return np.full(shape, v)
        if self.basis.shape != shape:
            raise ValueError(f"basis array must have shape {shape} for this network, "
                             f"got {self.basis.shape}")
        return self.basis.astype(float)

    def fusion_erasure_probabilities(self, n_fusions: int) -> np.ndarray:
        """``(n_fusions, 2)`` marginal erasure probabilities of outcome bases 0 and 1.

        >>> LinearOptics(0.0, 0.5, basis="random").fusion_erasure_probabilities(2)[0].tolist()
        [0.25, 0.25]
        """
        r = self._basis_array(int(n_fusions))
        pl = self.loss_per_fusion
        pf = self.fusion_failure
        # probability of keeping XX (a) and ZZ (b), averaged over the U/R choice
        a = (1.0 - pl) * (1.0 - pf * (1.0 - r))
        b = (1.0 - pl) * (1.0 - pf * r)
        if self.encoding == "shor22":
            ex, ez = logical_erasure(a, b)
            return np.stack([ex, ez], axis=1)
        return np.stack([1.0 - a, 1.0 - b], axis=1)

    def outcome_erasure_probabilities(self, network: Any) -> np.ndarray:
        """``(n_outcomes,)`` erasure probability of every outcome of ``network``."""
        pf = self.fusion_erasure_probabilities(network.n_fusions)
        return pf[network.outcome_fusion, network.outcome_basis]

    def logical_erasure(self) -> tuple[float, float]:
        """Erasure probabilities of the two outcomes of one fusion with a uniform basis
        (``"standard"``, ``"rotated"`` or ``"random"``): ``(P(XX or X̄X̄), P(ZZ or Z̄Z̄))``."""
        if not isinstance(self.basis, str):
            raise ValueError("logical_erasure needs a named basis, not an array")
        p = self.fusion_erasure_probabilities(1)[0]
        return float(p[0]), float(p[1])

    def joint_probabilities(self, n_fusions: int) -> np.ndarray:
        """``(n_fusions, 4)`` probabilities that a fusion's outcomes are erased as
        (neither, basis 0 only, basis 1 only, both).

        Exact: a physical fusion is lost (both erased), failed as ``U`` (basis 0 erased),
        failed as ``R`` (basis 1 erased) or fine; an encoded fusion enumerates the
        ``4^4`` states of its physical fusions.  Marginals equal
        :meth:`fusion_erasure_probabilities`.

        >>> P = LinearOptics(0.0, 0.5, basis="random").joint_probabilities(1)
        >>> P[0].tolist()
        [0.5, 0.25, 0.25, 0.0]
        """
        r = self._basis_array(int(n_fusions))
        pl, pf = self.loss_per_fusion, self.fusion_failure
        k = 4 if self.encoding == "shor22" else 1
        r = r.reshape(-1, k)
        rows, inverse = np.unique(r, axis=0, return_inverse=True)
        inverse = np.asarray(inverse).reshape(-1)
        # physical states: 0 fine, 1 XX erased, 2 ZZ erased, 3 both (lost)
        phys = np.stack([(1 - pl) * (1 - pf) + 0 * rows, (1 - pl) * pf * (1 - rows),
                         (1 - pl) * pf * rows, pl + 0 * rows], axis=-1)  # (U, k, 4)
        if k == 1:
            out = phys[:, 0, :]
        else:
            st = np.array(np.meshgrid(*[np.arange(4)] * 4, indexing="ij")).reshape(4, -1).T
            keep_x = (st == 0) | (st == 2)
            keep_z = (st == 0) | (st == 1)
            er_x = ~(keep_x[:, :2].all(1) | keep_x[:, 2:].all(1))
            er_z = ~(keep_z[:, :2].any(1) & keep_z[:, 2:].any(1))
            cls = er_x.astype(int) + 2 * er_z.astype(int)
            pr = np.ones((rows.shape[0], st.shape[0]))
            for i in range(4):
                pr *= phys[:, i, :][:, st[:, i]]
            out = np.stack([pr[:, cls == c].sum(1) for c in range(4)], axis=1)
        return out[inverse]

    def sample(self, network: Any, shots: int, rng: np.random.Generator) -> np.ndarray:
        """``(shots, n_outcomes)`` bool erasure masks, one joint draw per fusion.

        Each fusion's two outcomes are drawn from :meth:`joint_probabilities`, so they
        are correlated exactly as in the model (a loss erases both, an unencoded
        failure one), and fusions are independent.

        >>> from fbqc.network import FusionNetwork
        >>> net = FusionNetwork("6ring", 3)
        >>> er = LinearOptics(0.0, 0.5).sample(net, 200, np.random.default_rng(0))
        >>> bool(np.any(er[:, 0::2] & er[:, 1::2]))   # no loss: never both erased
        False
        """
        F = int(network.n_fusions)
        cum = np.cumsum(self.joint_probabilities(F), axis=1)[:, :3]
        u = rng.random((int(shots), F))
        state = ((u[:, :, None] >= cum[None, :, :]).sum(axis=2)).astype(np.int8)
        er = np.stack([(state & 1) > 0, (state & 2) > 0], axis=2)  # (S, F, basis)
        return er[:, network.outcome_fusion, network.outcome_basis]
