"""``erasurelab fbqc stim …``: write a fusion network's stim circuit, or simulate with stim.

``circuit`` writes the circuit (``.stim``) and optionally a diagram (``--diagram
out.svg``, stim's ``detslice-svg`` at the fusion tick, or ``.html`` 3-D model);
``simulate`` samples it and decodes with the herald-aware decoders.

Examples
--------
>>> main(["circuit", "--network", "6ring", "--L", "3", "--p-erasure", "2"])
2
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        raise ValueError(f"{self.prog}: error: {message}")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="erasurelab fbqc stim",
                description="Fusion networks as stim circuits with heralded erasure.")
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("circuit", "simulate"):
        q = sub.add_parser(name)
        q.add_argument("--network", default="6ring", help="a network name (fbqc networks)")
        q.add_argument("--L", type=int, required=True)
        q.add_argument("--boundary", default="periodic", help="periodic or open (L×L×T block)")
        q.add_argument("--T", type=int, default=None, help="open block's time extent (L)")
        q.add_argument("--p-erasure", type=float, default=0.0)
        q.add_argument("--p-pauli", type=float, default=0.0)
        q.add_argument("--p-state", type=float, default=0.0)
        q.add_argument("--seed", type=int, default=None)
        if name == "circuit":
            q.add_argument("--out", default=None, help=".stim file (default: stdout)")
            q.add_argument("--diagram", default=None, help=".svg or .html diagram")
        else:
            q.add_argument("--decoder", default="uf",
                           help="uf, mwpm, erasure-ml, mwpm-correlated")
            q.add_argument("--shots", type=int, required=True)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``circuit`` or ``simulate``; 2 on bad input."""
    from .network import FusionNetwork, network_params
    from .noise import HardwareAgnostic
    from .stim_backend import STIM_DECODERS, simulate_stim
    from .stim_circuits import stim_circuit

    try:
        a = _parser().parse_args(list(argv or []))
        model = HardwareAgnostic(a.p_erasure, a.p_pauli)
        network_params(a.network, a.L, a.boundary, a.T)
        net = FusionNetwork(a.network, a.L, boundary=a.boundary, T=a.T)
        if a.cmd == "circuit":
            circ = stim_circuit(net, a.L, model, p_state=a.p_state, seed=a.seed)
        else:
            if a.shots < 0:
                raise ValueError("--shots must be non-negative")
            if a.decoder not in STIM_DECODERS:
                raise ValueError(f"--decoder must be one of {STIM_DECODERS}, got {a.decoder!r}")
    except (ValueError, TypeError) as exc:
        print(f"erasurelab fbqc stim: {exc}", file=sys.stderr)
        return 2
    if a.cmd == "circuit":
        text = str(circ)
        if a.out:
            with open(a.out, "w") as fh:
                fh.write(text + "\n")
        else:
            print(text)
        if a.diagram:
            kind = "interactive-html" if a.diagram.endswith(".html") else "detslice-svg"
            d = circ.diagram(kind)
            with open(a.diagram, "w") as fh:
                fh.write(str(d))
        return 0
    r = simulate_stim(net, a.L, model, decoder=a.decoder, shots=a.shots, seed=a.seed,
                      p_state=a.p_state)
    print(f"{a.network} L={a.L} pE={a.p_erasure} pP={a.p_pauli} pS={a.p_state} "
          f"decoder={a.decoder}: {r.errors}/{r.shots} = {r.rate:.4f} ({r.seconds:.1f} s)")
    return 0
