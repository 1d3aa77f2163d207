"""``erasurelab fbqc optics …``: linear-optics sweeps (loss, fusion failure, basis, encoding).

Examples
--------
>>> main(["--L", "3", "--fusion-failure", "1.5", "--max-shots", "10",
...       "--out", "/tmp/never.csv"])
2
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Sequence

__all__ = ["main"]

SAMPLER = "fbqc.optics_sampler:OpticsSampler"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        raise ValueError(f"{self.prog}: error: {message}")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="erasurelab fbqc optics",
                description="Sweep the linear-optics model (photon loss, fusion failure and "
                            "its basis, (2,2)-Shor encoding) into sinter CSV; errors = primal "
                            "or dual x-membrane failure.")
    p.add_argument("--network", nargs="+", default=["6ring"], help="6ring and/or 4star")
    p.add_argument("--L", required=True, nargs="+", help="sizes (or START:STOP:COUNT)")
    p.add_argument("--loss-per-photon", default="0", help="values: 0.01,0.02 or 0:0.04:5")
    p.add_argument("--fusion-failure", default="0.5", help="values: 0.25 or 0.38:0.48:11")
    p.add_argument("--photons-per-fusion", type=int, default=4)
    p.add_argument("--basis", nargs="+", default=["random"],
                   help="random, standard, rotated; encoded also UR,UR UU,RR UR,RR")
    p.add_argument("--encoding", nargs="+", default=["none"], help="none and/or shor22")
    p.add_argument("--decoder", default="erasure-ml", help="erasure-ml or uf")
    p.add_argument("--max-shots", type=int, required=True)
    p.add_argument("--max-errors", type=int, default=None)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--out", required=True, help="sinter CSV (appended to; resumes)")
    p.add_argument("--threshold", choices=["fusion_failure", "loss_per_photon"], default=None,
                   help="fit a threshold in this parameter per (network, basis, encoding)")
    p.add_argument("--no-progress", action="store_true")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Parse, build the task grid, run :func:`sim.collect`, print rates (and thresholds)."""
    import sim

    try:
        a = _parser().parse_args(list(argv or []))
        Ls = [v for t in a.L for v in sim.parse_values(t)]
        losses = sim.parse_values(a.loss_per_photon)
        fails = sim.parse_values(a.fusion_failure)
        if a.max_shots <= 0:
            raise ValueError("--max-shots must be positive")
        tasks = [
            sim.make_task(SAMPLER, {
                "network": net, "L": L, "loss_per_photon": lp, "fusion_failure": pf,
                "photons_per_fusion": a.photons_per_fusion, "basis": basis, "encoding": enc,
                "decoder": a.decoder})[0]
            for net, enc, basis, L, lp, pf in itertools.product(
                a.network, a.encoding, a.basis, Ls, losses, fails)
        ]
    except (ValueError, TypeError) as exc:
        print(f"erasurelab fbqc optics: {exc}", file=sys.stderr)
        return 2
    stats = sim.collect(tasks, max_shots=a.max_shots, max_errors=a.max_errors, seed=a.seed,
                        workers=a.workers, save_resume_filepath=a.out,
                        progress=False if a.no_progress else None)
    for s in stats:
        m = s.json_metadata
        print(f"{m['network']} {m['encoding']} {m['basis']} L={m['L']} "
              f"loss={m['loss_per_photon']} fail={m['fusion_failure']}: "
              f"{s.errors}/{s.shots} = {s.errors / max(1, s.shots):.4f}")
    if a.threshold:
        groups = sorted({(s.json_metadata["network"], s.json_metadata["basis"],
                          s.json_metadata["encoding"]) for s in stats})
        for g in groups:
            try:
                r = sim.threshold(stats, x=a.threshold, size="L",
                                  where=dict(zip(("network", "basis", "encoding"), g)))
                print(f"threshold {g}: {r.value:.4f} [{r.ci[0]:.4f}, {r.ci[1]:.4f}]")
            except ValueError as exc:
                print(f"threshold {g}: not estimable ({exc})")
    return 0
