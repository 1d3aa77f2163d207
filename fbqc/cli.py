"""Fusion-based quantum computation: threshold sweeps, linear optics, stim circuits.

Verbs of ``erasurelab fbqc`` (registered through the ``erasurelab.commands`` entry
point; ``sweep`` and ``optics`` are generated from the declared parameters of
:mod:`fbqc.params`, so every parameter is a flag taking a list):

``sweep``
    hardware-agnostic noise (erasure, Pauli) into sinter CSV (sampler ``fbqc``).
``optics``
    linear-optics noise (loss, fusion failure, basis, encoding) into sinter CSV
    (sampler ``fbqc-optics``), optionally fitting thresholds (``--threshold``).
``stim circuit`` / ``stim simulate``
    write a network's stim circuit (and a diagram), or sample and decode it.
``resources``
    open-boundary blocks at one noise point: p_L against L, the fit
    ``p_L = A·Λ^(−(L+1)/2)`` and fusions / photons per logical qubit per layer
    (:mod:`fbqc.resources_cli`).

Every verb takes any network name (``6ring``, ``4star`` and the registered descriptions
of :mod:`fbqc.catalog`) and ``--boundary open`` (an ``L × L × T`` block).

Examples
--------
>>> from sim.cli import main
>>> main(["fbqc", "sweep", "--network", "6ring", "--L", "3", "--p-erasure", "0.05",
...       "--max-shots", "64", "--out", "/nonexistent/dir/x.csv", "--decoder", "nope"])
2
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from sim.cli import Parser, sweep_command

from .network import BOUNDARIES

__all__ = ["register"]


def register(parser: argparse.ArgumentParser) -> None:
    """Add the verbs of ``erasurelab fbqc`` to ``parser``."""
    from .params import FusionParams, OpticsParams

    sub = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=Parser)
    sweep_command(sub, "sweep", FusionParams,
                  help="hardware-agnostic noise (erasure, Pauli) on a fusion network into "
                       "sinter CSV",
                  description="Sweep a fusion network under hardware-agnostic noise into "
                              "sinter CSV (sampler fbqc; errors = primal x-membrane "
                              "failures unless --errors any-x).")
    sweep_command(sub, "optics", OpticsParams,
                  help="linear-optics noise (loss, fusion failure, basis, encoding) into "
                       "sinter CSV",
                  description="Sweep the linear-optics model (photon loss, fusion failure "
                              "and its basis, (2,2)-Shor encoding) into sinter CSV (sampler "
                              "fbqc-optics; errors = primal or dual x-membrane failure "
                              "unless --errors primal-x).",
                  extra=_threshold_flag, report=_report_thresholds)
    stim = sub.add_parser("stim", help="the network as a stim circuit: write it, draw it, "
                          "or sample it")
    verbs = stim.add_subparsers(dest="stim_verb", metavar="VERB", parser_class=Parser,
                                required=True)
    for name in ("circuit", "simulate"):
        q = verbs.add_parser(name, help="write the circuit (.stim) and a diagram"
                             if name == "circuit" else "sample the circuit and decode it")
        q.add_argument("--network", default="6ring",
                       help="6ring, 4star or a registered description (default 6ring)")
        q.add_argument("--L", type=int, required=True, help="lattice size (>= 3)")
        q.add_argument("--boundary", default="periodic", choices=BOUNDARIES,
                       help="periodic (L^3 torus) or open (L x L x T block, one "
                            "observable) (default periodic)")
        q.add_argument("--T", type=int, default=None,
                       help="time extent of an open block (default: L)")
        q.add_argument("--p-erasure", type=float, default=0.0,
                       help="erasure probability of every fusion outcome (default 0)")
        q.add_argument("--p-pauli", type=float, default=0.0,
                       help="flip probability of every fusion outcome (default 0)")
        q.add_argument("--p-state", type=float, default=0.0,
                       help="DEPOLARIZE1 on every resource-state qubit (default 0)")
        q.add_argument("--seed", type=int, default=None, help="seed (default: fresh entropy)")
        if name == "circuit":
            q.add_argument("--out", default=None, help=".stim file (default: stdout; "
                           "missing folders are created)")
            q.add_argument("--diagram", default=None,
                           help=".svg (detector slice at the fusion tick) or .html (3-D)")
            q.set_defaults(handler=_stim_circuit)
        else:
            q.add_argument("--decoder", default="uf",
                           help="uf, mwpm, erasure-ml, erasure-uf, erasure-mwpm, "
                                "mwpm-correlated (default uf)")
            q.add_argument("--shots", type=int, required=True, help="shots to sample")
            q.set_defaults(handler=_stim_simulate)
    from .resources_cli import add_resources_command

    add_resources_command(sub)


def _threshold_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--threshold", choices=["fusion_failure", "loss_per_photon"], default=None,
                   help="also fit a threshold in this parameter per (network, basis, "
                        "encoding)")


def _report_thresholds(a: argparse.Namespace, stats: list) -> None:
    import sim

    if not a.threshold:
        return
    groups = sorted({(s.json_metadata["network"], s.json_metadata["basis"],
                      s.json_metadata["encoding"]) for s in stats})
    for g in groups:
        try:
            r = sim.threshold(stats, x=a.threshold, size="L",
                              where=dict(zip(("network", "basis", "encoding"), g)))
            print(f"threshold {g}: {r.value:.4f} [{r.ci[0]:.4f}, {r.ci[1]:.4f}]")
        except ValueError as exc:
            print(f"threshold {g}: not estimable ({exc})")


def _stim_circuit(a: argparse.Namespace) -> Callable[[], int]:
    from pathlib import Path

    from sim.validate import FIGURE_SUFFIXES, check_output_path

    from .noise import HardwareAgnostic
    from .simulate import as_network
    from .stim_circuits import stim_circuit

    # every output path is checked before anything is built or written
    out = None if a.out is None else check_output_path(
        "--out", a.out, refuse_suffixes=(*FIGURE_SUFFIXES, ".html", ".csv"),
        expected="a .stim circuit file")
    diagram = (None if a.diagram is None else
               check_output_path("--diagram", a.diagram, suffixes=(".svg", ".html")))
    if out is not None and diagram is not None and out.resolve() == diagram.resolve():
        raise ValueError(f"--diagram {a.diagram}: the same file as --out")
    net = as_network(a.network, a.L, boundary=a.boundary, T=a.T)
    circ = stim_circuit(net, a.L, HardwareAgnostic(a.p_erasure, a.p_pauli),
                        p_state=a.p_state, seed=a.seed)

    def write(path: Path, text: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    def job() -> int:
        text = str(circ) + "\n"
        # both texts exist before either file is written
        pic = None if diagram is None else str(circ.diagram(
            "interactive-html" if diagram.suffix.lower() == ".html" else "detslice-svg"))
        if out is not None:
            write(out, text)
        else:
            print(text, end="")
        if diagram is not None:
            write(diagram, pic)
        return 0

    return job


def _stim_simulate(a: argparse.Namespace) -> Callable[[], int]:
    from .noise import HardwareAgnostic
    from .params import STIM_DECODERS, check_run_options
    from .simulate import as_network, simulate

    model = HardwareAgnostic(a.p_erasure, a.p_pauli)
    net = as_network(a.network, a.L, boundary=a.boundary, T=a.T)
    if a.shots < 0:
        raise ValueError(f"--shots must be non-negative, got {a.shots}")
    if a.decoder not in STIM_DECODERS:
        raise ValueError(f"--decoder must be one of {STIM_DECODERS}, got {a.decoder!r}")
    check_run_options(decoder=a.decoder, backend="stim", erasure=model.has_erasure,
                      pauli=model.has_flips, p_state=a.p_state, errors="primal-x")

    def job() -> int:
        r = simulate(net, model, decoder=a.decoder, shots=a.shots, seed=a.seed,
                     backend="stim", p_state=a.p_state)
        shape = "" if a.boundary == "periodic" else f" open T={net.T}"
        print(f"{a.network} L={a.L}{shape} pE={a.p_erasure} pP={a.p_pauli} pS={a.p_state} "
              f"decoder={a.decoder}: {r.errors}/{r.shots} = {r.rate:.4f} ({r.seconds:.1f} s)")
        return 0

    return job
