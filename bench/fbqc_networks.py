"""fbqc networks from descriptions: construction and sampling cost against the hand-built
networks, measured in one run (ratios only).

1. Building the periodic 6-ring and 4-star at L = 8, 12, 16: hand-built
   (``FusionNetwork(kind, L)``) against derived from the description
   (``FusionNetwork("6ring-d", L)``; the one-off GF(2) derivation is cached, timed
   separately).
2. Sampling + decoding the same noise (``uf``, (p_E, p_P) = (0.06, 0.0015)) on the two
   networks: equal graphs should cost the same.
3. Open blocks: building ``L × L × L`` blocks and decoding with the boundary-node
   union-find kernel, per shot, against the periodic network of the same L.

    python bench/fbqc_networks.py [--shots 2000]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [os.path.dirname(_HERE)] + [
    q for q in sys.path if os.path.abspath(q or ".") != _HERE]

import fbqc  # noqa: E402
from fbqc.catalog import get_description  # noqa: E402
from fbqc.description import derive  # noqa: E402


def _t(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shots", type=int, default=2000)
    a = ap.parse_args(argv)
    print("## 1. construction (best of 3)")
    for kind in ("6ring", "4star"):
        d = get_description(f"{kind}-d")
        derive.cache_clear()
        t_der = _t(lambda d=d: derive(d), repeat=1)
        print(f"{kind}: one-off derivation of the check types {t_der:.2f} s")
        for L in (8, 12, 16):
            th = _t(lambda kind=kind, L=L: fbqc.FusionNetwork(kind, L))
            td = _t(lambda kind=kind, L=L: fbqc.FusionNetwork(f"{kind}-d", L))
            print(f"  L={L}: hand-built {th:.3f} s, derived {td:.3f} s, "
                  f"derived/hand-built = {td / th:.3f}")
    print("## 2. sample + decode (uf, (0.06, 0.0015)), same shots and seed")
    model = fbqc.HardwareAgnostic(0.06, 0.0015)
    for kind in ("6ring", "4star"):
        for L in (8, 12):
            h, d = fbqc.FusionNetwork(kind, L), fbqc.FusionNetwork(f"{kind}-d", L)
            fbqc.simulate(h, model, shots=16, seed=0)  # warm
            th = _t(lambda h=h: fbqc.simulate(h, model, shots=a.shots, seed=1), 2)
            td = _t(lambda d=d: fbqc.simulate(d, model, shots=a.shots, seed=1), 2)
            print(f"  {kind} L={L}: derived/hand-built time = {td / th:.2f}")
    print("## 3. open blocks (uf with the boundary node) against periodic, per shot")
    for kind in ("6ring", "4star", "12ring", "3ghz"):
        for L in (8, 12):
            tb = _t(lambda kind=kind, L=L: fbqc.FusionNetwork(kind, L, boundary="open"), 1)
            o = fbqc.FusionNetwork(kind, L, boundary="open")
            p = fbqc.FusionNetwork(kind, L)
            fbqc.simulate(o, model, shots=16, seed=0)
            to = _t(lambda o=o: fbqc.simulate(o, model, shots=a.shots, seed=1), 2)
            tp = _t(lambda p=p: fbqc.simulate(p, model, shots=a.shots, seed=1), 2)
            print(f"  {kind} L={L}: block build {tb:.2f} s; open/periodic time per shot = "
                  f"{to / tp:.2f} (open decodes the primal graph only)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
