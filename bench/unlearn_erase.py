"""Benchmark: closed-form concept erasure, the inversion attack and the numpy MiniLM.

Every row is a ratio against a reference measured in the same run (wall-clock times move
with machine load; ratios are what to compare):

- ``uce`` on a 384→64 map with 8 erase + 72 preserve keys, against the textbook formula
  ``B @ inv(A)`` (384×384 explicit inverse) and against the primal ``solve`` on A.
- ``invert_linear`` (exact trust-region solve, 16 targets) against SciPy's generic SLSQP on
  the same constrained problem.
- ``MiniLM.encode`` of 160 prompts in batches of 32, against one prompt per forward pass.

Usage::

    .venv/bin/python bench/unlearn_erase.py [--repeat 20]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

# bench/unlearn.py would shadow the ``unlearn`` package when this file runs as a script
# (sys.path[0] is bench/), so drop this directory from the import path.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

import numpy as np
from scipy import linalg, optimize

from unlearn.attacks import invert_linear
from unlearn.closed_form import uce


def _time(fn, repeat: int) -> float:
    fn()  # warm
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _uce_inverse(W, E, G, P, lam):
    A = lam * np.eye(W.shape[1]) + E.T @ E + P.T @ P
    B = lam * W + (W @ G.T) @ E + (W @ P.T) @ P
    return B @ np.linalg.inv(A)


def _uce_primal(W, E, G, P, lam):
    A = lam * np.eye(W.shape[1]) + E.T @ E + P.T @ P
    X = linalg.solve(A, E.T, assume_a="pos")
    return W + (W @ (G - E).T) @ X.T


def _slsqp(W, t, B):
    def f(x):
        r = W @ x - t
        return float(r @ r)

    return optimize.minimize(f, np.zeros(W.shape[1]), jac=lambda x: 2 * W.T @ (W @ x - t),
                             method="SLSQP", options={"ftol": 1e-12, "maxiter": 300},
                             constraints=[{"type": "ineq", "fun": lambda x: B**2 - x @ x}]).x


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=20)
    p.add_argument("--no-minilm", action="store_true", help="skip the encoder rows")
    args = p.parse_args(argv)
    rng = np.random.default_rng(0)
    d_in, d_out = 384, 64
    W = rng.normal(size=(d_out, d_in)) / np.sqrt(d_in)

    def unit(k):
        x = rng.normal(size=(k, d_in))
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    E, G, P = unit(8), unit(1).repeat(8, 0), unit(72)
    lam = 0.1
    ours = uce(W, E, G, P, lam=lam)
    assert np.allclose(ours, _uce_inverse(W, E, G, P, lam), atol=1e-8)
    rows = []
    t_ours = _time(lambda: uce(W, E, G, P, lam=lam), args.repeat)
    t_inv = _time(lambda: _uce_inverse(W, E, G, P, lam), args.repeat)
    t_primal = _time(lambda: _uce_primal(W, E, G, P, lam), args.repeat)
    rows.append(("UCE edit, 384→64, 80 keys", "explicit inverse B·inv(A)", t_ours, t_inv))
    rows.append(("UCE edit, 384→64, 80 keys", "primal solve on A (384×384)", t_ours, t_primal))

    T = (W @ unit(16).T).T
    t_att = _time(lambda: invert_linear(ours, T, norm_budget=0.5), max(3, args.repeat // 4))
    t_ref = _time(lambda: [_slsqp(ours, t, 0.5) for t in T[:4]], 1) * 4
    v = invert_linear(ours, T[0], norm_budget=0.5)
    ref = _slsqp(ours, T[0], 0.5)
    assert np.sum((ours @ v - T[0]) ** 2) <= np.sum((ours @ ref - T[0]) ** 2) + 1e-6
    rows.append(("invert_linear, 16 targets", "SciPy SLSQP (same problem)", t_att, t_ref))

    if not args.no_minilm:
        from unlearn.embed import MiniLM
        from unlearn.t2i import data as t2i_data  # the prompt lists only (no torch)

        model = MiniLM()
        texts = [p for d in t2i_data.DIGITS for ph in ("train", "heldout")
                 for p in t2i_data.prompts(d, ph)]
        t_b = _time(lambda: model.encode(texts), 2)
        t_1 = _time(lambda: [model.encode(s) for s in texts], 1)
        rows.append((f"MiniLM encode, {len(texts)} prompts (batch 32)", "one prompt per pass",
                     t_b, t_1))
        print(f"MiniLM: {len(texts) / t_b:.0f} prompts/s batched, {len(texts) / t_1:.0f} "
              "prompts/s one by one\n")

    print("| operation | reference | ours (ms) | reference (ms) | speed-up |")
    print("|---|---|---|---|---|")
    for name, ref_name, a, b in rows:
        print(f"| {name} | {ref_name} | {1e3 * a:.3g} | {1e3 * b:.3g} | {b / a:.1f}× |")


if __name__ == "__main__":
    main()
