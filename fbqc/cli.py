"""``erasurelab fbqc …``: fusion-network sweeps.

Subcommands are looked up in :data:`SUBCOMMANDS` (name → ``"module:function"``), so
another module adds one by adding an entry; each target is ``main(argv) -> int``.

Examples
--------
>>> main(["sweep", "--network", "6ring", "--L", "3", "--p-erasure", "0.05",
...       "--max-shots", "64", "--out", "/nonexistent/dir/x.csv", "--decoder", "nope"])
2
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

__all__ = ["SUBCOMMANDS", "main", "sweep_main"]

SUBCOMMANDS = {
    "sweep": "fbqc.cli:sweep_main",
    "optics": "fbqc.optics_cli:main",
    "stim": "fbqc.stim_cli:main",
    "resources": "fbqc.resources_cli:main",
}
#: One-line help of each subcommand (``erasurelab fbqc --help``).
DESCRIPTIONS = {
    "sweep": "hardware-agnostic noise (erasure, Pauli) on a fusion network into sinter CSV",
    "optics": "linear-optics noise (loss, fusion failure, basis, encoding) into sinter CSV",
    "stim": "the network as a stim circuit: write it, draw it, or sample it",
    "resources": "open-boundary blocks: p_L against L, fit, fusions per logical qubit",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        raise ValueError(f"{self.prog}: error: {message}")


def _sweep_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="erasurelab fbqc sweep",
                description="Sweep a fusion network under hardware-agnostic noise into "
                            "sinter CSV (errors = primal x-membrane failures).")
    p.add_argument("--network", required=True, nargs="+", help="6ring and/or 4star")
    p.add_argument("--L", required=True, nargs="+", help="sizes (or START:STOP:COUNT)")
    p.add_argument("--p-erasure", default="0", help="values: 0.1,0.12 or 0.10:0.14:9")
    p.add_argument("--p-pauli", default="0", help="values: 0.01 or 0.008:0.012:5")
    p.add_argument("--decoder", nargs="+", default=["uf"],
                   help="uf, mwpm, erasure-ml (stim backend also: erasure-uf, erasure-mwpm, "
                        "mwpm-correlated)")
    p.add_argument("--backend", default="direct", choices=("direct", "stim"),
                   help="direct syndrome sampling (default) or the network as a stim circuit")
    p.add_argument("--p-state", default="0",
                   help="resource-state DEPOLARIZE1 probability (stim backend only)")
    p.add_argument("--max-shots", type=int, required=True)
    p.add_argument("--max-errors", type=int, default=None)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--out", required=True, help="sinter CSV (appended to; resumes)")
    p.add_argument("--no-progress", action="store_true")
    return p


def sweep_main(argv: Sequence[str]) -> int:
    """``erasurelab fbqc sweep``: build the task grid and run :func:`sim.collect`."""
    import sim

    try:
        a = _sweep_parser().parse_args(list(argv))
        Ls = [v for t in a.L for v in sim.parse_values(t)]
        pes = sim.parse_values(a.p_erasure)
        pps = sim.parse_values(a.p_pauli)
        pss = sim.parse_values(a.p_state)
        extra = {"backend": "stim"} if a.backend == "stim" else {}
        tasks = [
            sim.make_task("fbqc", {"network": net, "L": L, "p_erasure": pe, "p_pauli": pp,
                                   "decoder": dec, **extra,
                                   **({"p_state": ps} if ps else {})})[0]
            for net in a.network for dec in a.decoder for L in Ls for pe in pes for pp in pps
            for ps in pss
        ]
        if a.max_shots <= 0:
            raise ValueError("--max-shots must be positive")
    except (ValueError, TypeError) as exc:
        print(f"erasurelab fbqc sweep: {exc}", file=sys.stderr)
        return 2
    stats = sim.collect(tasks, max_shots=a.max_shots, max_errors=a.max_errors, seed=a.seed,
                        workers=a.workers, save_resume_filepath=a.out,
                        progress=False if a.no_progress else None)
    for s in stats:
        m = s.json_metadata
        print(f"{m['network']} L={m['L']} pE={m['p_erasure']} pP={m['p_pauli']} "
              f"{m['decoder']}: {s.errors}/{s.shots} = {s.errors / max(s.shots, 1):.4g}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch ``erasurelab fbqc SUBCOMMAND ARGS…``; returns an exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: erasurelab fbqc {" + ",".join(SUBCOMMANDS) + "} ...\n\n"
              "Fusion-based quantum computation: networks, thresholds, linear optics.\n\n"
              "subcommands (each takes --help):")
        for name in SUBCOMMANDS:
            print(f"  {name:8s}  {DESCRIPTIONS.get(name, SUBCOMMANDS[name])}")
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in SUBCOMMANDS:
        print(f"erasurelab fbqc: unknown subcommand {name!r}; choose from "
              f"{', '.join(SUBCOMMANDS)}", file=sys.stderr)
        return 2
    module_name, _, func = SUBCOMMANDS[name].partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        print(f"erasurelab fbqc: subcommand {name!r} is not available "
              f"(module {module_name} is not installed in this checkout)", file=sys.stderr)
        return 2
    return int(getattr(module, func)(rest))
