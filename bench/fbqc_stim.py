"""Benchmark: direct vs stim sampling of a 6-ring fusion network (per shot).

Direct = the core noise model's per-edge erasure masks on both syndrome graphs
(:meth:`fbqc.noise.HardwareAgnostic.sample`); stim = ``compile_detector_sampler`` on
:func:`fbqc.stim_circuits.stim_circuit` (bit-packed detectors and heralds).  Also the
end-to-end simulation: direct ``simulate(decoder="erasure-ml")`` vs
``simulate(decoder="erasure-ml", backend="stim")`` (stim sampling + herald-aware union-find).
Prints a markdown table; ratios are stim / direct, measured in the same run.

    python bench/fbqc_stim.py --L 8 12 --shots 2000
"""

from __future__ import annotations

import argparse
import os
import sys
import time

# bench/fbqc.py would shadow the fbqc package: drop this folder from the path
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [os.path.dirname(_HERE)] + [
    q for q in sys.path if os.path.abspath(q or ".") != _HERE]

import numpy as np  # noqa: E402

from fbqc.network import FusionNetwork
from fbqc.noise import HardwareAgnostic  # noqa: E402
from fbqc.simulate import simulate
from fbqc.stim_backend import StimSimulator
from fbqc.stim_circuits import stim_circuit


def _best(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--L", type=int, nargs="+", default=[8, 12])
    ap.add_argument("--shots", type=int, default=2000)
    ap.add_argument("--p-erasure", type=float, default=0.11)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args(argv)
    model = HardwareAgnostic(a.p_erasure, 0.0)
    # warm the Numba kernels
    simulate("6ring", model, L=3, decoder="erasure-ml", shots=8, seed=0)
    StimSimulator("6ring", model, L=3, decoder="erasure-ml").run(8, np.random.default_rng(0))
    print(f"p_erasure = {a.p_erasure}, {a.shots} shots, best of {a.repeat}\n")
    print("| L | qubits | direct sample (µs/shot) | stim sample (µs/shot) | ratio stim/direct "
          "| direct simulate (µs/shot) | stim simulate (µs/shot) | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for L in a.L:
        net = FusionNetwork("6ring", L)
        rng = np.random.default_rng(1)
        S = a.shots

        def direct_sample(net=net, rng=rng, S=S):
            for g in net.graphs:
                model.sample(g, S, rng)

        sampler = stim_circuit(net, L, model).compile_detector_sampler(seed=1)
        t_d = _best(direct_sample, a.repeat) / S
        t_s = _best(lambda sampler=sampler, S=S: sampler.sample(S, bit_packed=True),
                    a.repeat) / S
        sim_ = StimSimulator(net, model, L=L, decoder="erasure-ml")
        t_dd = _best(lambda net=net, L=L, S=S: simulate(net, model, L=L, decoder="erasure-ml",
                                                        shots=S, seed=2), a.repeat) / S
        t_ss = _best(lambda sim_=sim_, S=S: sim_.run(S, np.random.default_rng(3)),
                     a.repeat) / S
        print(f"| {L} | {net.n_qubits} | {t_d * 1e6:.1f} | {t_s * 1e6:.1f} | {t_s / t_d:.1f} "
              f"| {t_dd * 1e6:.1f} | {t_ss * 1e6:.1f} | {t_ss / t_dd:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
