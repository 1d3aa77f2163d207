"""Linear algebra over GF(2) on bit-packed rows, and binary symplectic Pauli operators.

Used by :mod:`fbqc.description` to derive the checks of a fusion network: a product of
fusion outcomes is a check when it commutes with every stabilizer generator of the
resource states, i.e. when its indicator vector lies in the null space of the
outcome–stabilizer commutation matrix.

Matrices are NumPy ``bool``/``uint8`` arrays ``(m, n)``; internally each row is packed
into ``uint64`` words so that one row operation is ``n / 64`` word XORs.

Examples
--------
>>> A = np.array([[1, 1, 0], [0, 1, 1]], bool)
>>> rank(A)
2
>>> nullspace(A).astype(int).tolist()
[[1, 1, 1]]
>>> symplectic("XZ_Y")[0].astype(int).tolist(), symplectic("XZ_Y")[1].astype(int).tolist()
([1, 0, 0, 1], [0, 1, 0, 1])
"""

from __future__ import annotations

import numpy as np

__all__ = ["nullspace", "rank", "rref", "solve", "symplectic", "anticommutes", "pauli_string"]


def _pack(A: np.ndarray) -> tuple[np.ndarray, int]:
    A = np.asarray(A).astype(bool)
    m, n = A.shape
    W = max(1, (n + 63) // 64)
    padded = np.zeros((m, W * 64), bool)
    padded[:, :n] = A
    # little-endian bit order inside each word: column j -> word j // 64, bit j % 64
    by = np.packbits(padded.reshape(m, W * 8, 8)[:, :, ::-1], axis=-1).reshape(m, W * 8)
    return np.ascontiguousarray(by).view("<u8").reshape(m, W).copy(), n


def _unpack(P: np.ndarray, n: int) -> np.ndarray:
    m, W = P.shape
    by = np.ascontiguousarray(P.astype("<u8")).view(np.uint8).reshape(m, W * 8, 1)
    bits = np.unpackbits(by, axis=-1)[:, :, ::-1].reshape(m, W * 64)
    return bits[:, :n].astype(bool)


def rref(A: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """Reduced row echelon form of ``A`` over GF(2): ``(R, pivots)``.

    ``R`` has ``len(pivots)`` rows (the zero rows are dropped); ``pivots[i]`` is the
    column of row ``i``'s leading one.

    >>> R, piv = rref(np.array([[0, 1, 1], [0, 1, 1], [1, 0, 1]], bool))
    >>> R.astype(int).tolist(), piv
    ([[1, 0, 1], [0, 1, 1]], [0, 1])
    """
    A = np.asarray(A)
    if A.ndim != 2:
        raise ValueError(f"A must be a 2-D array, got shape {A.shape}")
    m, n = A.shape
    if m == 0 or n == 0:
        return np.zeros((0, n), bool), []
    P, _ = _pack(A)
    pivots: list[int] = []
    r = 0
    for col in range(n):
        if r == m:
            break
        w, b = divmod(col, 64)
        bit = np.uint64(1) << np.uint64(b)
        colbits = (P[r:, w] & bit) != 0
        nz = np.flatnonzero(colbits)
        if nz.size == 0:
            continue
        p = r + int(nz[0])
        if p != r:
            P[[r, p]] = P[[p, r]]
        rows = np.flatnonzero((P[:, w] & bit) != 0)
        rows = rows[rows != r]
        if rows.size:
            P[rows] ^= P[r]
        pivots.append(col)
        r += 1
    return _unpack(P[:r], n), pivots


def rank(A: np.ndarray) -> int:
    """Rank of ``A`` over GF(2)."""
    return len(rref(A)[1])


def nullspace(A: np.ndarray) -> np.ndarray:
    """A basis ``(k, n)`` (bool) of ``{x : A x = 0}`` over GF(2).

    >>> nullspace(np.zeros((1, 2), bool)).astype(int).tolist()
    [[1, 0], [0, 1]]
    """
    A = np.asarray(A)
    n = A.shape[1]
    R, piv = rref(A)
    free = [c for c in range(n) if c not in set(piv)]
    out = np.zeros((len(free), n), bool)
    for i, f in enumerate(free):
        out[i, f] = True
        if piv:
            out[i, piv] = R[:, f]
    return out


def solve(A: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """One solution ``x`` of ``A x = b`` over GF(2), or ``None`` if there is none.

    >>> solve(np.array([[1, 1], [0, 1]], bool), np.array([0, 1], bool)).astype(int).tolist()
    [1, 1]
    >>> solve(np.array([[1, 1], [1, 1]], bool), np.array([0, 1], bool)) is None
    True
    """
    A = np.asarray(A, bool)
    b = np.asarray(b, bool).reshape(-1, 1)
    m, n = A.shape
    R, piv = rref(np.concatenate([A, b], axis=1))
    if n in piv:
        return None
    x = np.zeros(n, bool)
    for i, c in enumerate(piv):
        x[c] = R[i, n]
    return x


def symplectic(pauli: str) -> tuple[np.ndarray, np.ndarray]:
    """``(x, z)`` bool vectors of a Pauli string (``I``/``_``, ``X``, ``Y``, ``Z``; signs
    are ignored)."""
    s = pauli.upper().lstrip("+-")
    bad = set(s) - set("IXYZ_")
    if bad:
        raise ValueError(f"not a Pauli string: {pauli!r} (letters {sorted(bad)})")
    x = np.array([c in "XY" for c in s], bool)
    z = np.array([c in "ZY" for c in s], bool)
    return x, z


def pauli_string(x: np.ndarray, z: np.ndarray) -> str:
    """The Pauli string of ``(x, z)`` bool vectors.

    >>> pauli_string(np.array([1, 0, 1], bool), np.array([0, 1, 1], bool))
    'XZY'
    """
    return "".join("IXZY"[int(a) + 2 * int(b)] for a, b in zip(np.asarray(x), np.asarray(z)))


def anticommutes(x1: np.ndarray, z1: np.ndarray, x2: np.ndarray, z2: np.ndarray
                 ) -> np.ndarray:
    """Symplectic products ``(m1, m2)`` bool: ``True`` where row ``i`` of operator set 1
    anticommutes with row ``j`` of set 2.

    >>> x, z = symplectic("XX"); x2, z2 = symplectic("ZI")
    >>> anticommutes(x[None], z[None], x2[None], z2[None]).tolist()
    [[True]]
    """
    a = np.concatenate([np.atleast_2d(x1), np.atleast_2d(z1)], axis=1).astype(np.float32)
    b = np.concatenate([np.atleast_2d(z2), np.atleast_2d(x2)], axis=1).astype(np.float32)
    return ((a @ b.T).astype(np.int64) & 1).astype(bool)
