"""``erasurelab fbqc resources``: sub-threshold scaling and the cost of a logical qubit.

Samples open ``L × L × L`` blocks (:mod:`fbqc.boundary`) of each network at a fixed noise
point through :func:`sim.collect` (resumable with ``--out``), fits
``p_L ≈ A·Λ^{−(L+1)/2}`` per layer (:func:`fbqc.resources.fit_scaling`) and prints, per
target logical error per layer, the block size and the fusions and photons per logical
qubit per layer (:func:`fbqc.resources.resource_table`).

Noise: hardware-agnostic ``--p-erasure`` / ``--p-pauli`` (sampler ``fbqc``), or linear
optics when ``--loss-per-photon`` is given (sampler ``fbqc-optics``: ``--fusion-failure``,
``--photons-per-fusion``, ``--basis``, ``--encoding``).  The verb is registered on
``erasurelab fbqc`` by :func:`fbqc.cli.register` (:func:`add_resources_command`).

Examples
--------
>>> from sim.cli import main
>>> main(["fbqc", "resources", "--network", "hexagon", "--p-erasure", "0.01"])
2
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["add_resources_command"]


def add_resources_command(sub: Any) -> argparse.ArgumentParser:
    """Add ``resources`` to the verbs ``sub`` of ``erasurelab fbqc``."""
    from sim.cli import ListAction, add_output_flags

    p = sub.add_parser(
        "resources", help="open-boundary blocks: p_L against L, fit, fusions per logical "
                          "qubit",
        description="Logical error per layer of open-boundary blocks against L, the fit "
                    "p_L = A·Λ^(−(L+1)/2), and fusions and photons per logical qubit per "
                    "layer for target logical error rates.")
    g = p.add_argument_group("the blocks and the noise point")
    g.add_argument("--network", required=True, action=ListAction, metavar="NAME",
                   help="network names (6ring, 4star, registered descriptions)")
    g.add_argument("--L", default="3,5,7,9", metavar="LIST",
                   help="block sizes, at least two (default 3,5,7,9)")
    g.add_argument("--p-erasure", type=float, default=None,
                   help="erasure probability per fusion outcome")
    g.add_argument("--p-pauli", type=float, default=None,
                   help="flip probability per fusion outcome")
    g.add_argument("--loss-per-photon", type=float, default=None,
                   help="linear optics: photon loss (selects the linear-optics model)")
    g.add_argument("--fusion-failure", type=float, default=0.25,
                   help="linear optics: fusion failure (default 0.25, boosted)")
    g.add_argument("--photons-per-fusion", type=int, default=4,
                   help="linear optics: photons per physical fusion (default 4)")
    g.add_argument("--basis", default="random", help="linear optics: failure basis "
                   "(default random)")
    g.add_argument("--encoding", default="none", choices=("none", "shor22"),
                   help="linear optics: fusion encoding (default none)")
    g.add_argument("--decoder", default=None,
                   help="decoder (default: uf; erasure-ml for linear optics)")
    r = p.add_argument_group("fit and table")
    r.add_argument("--target", nargs="+", type=float, default=[1e-6, 1e-9, 1e-12],
                   help="target logical error rates per layer (default 1e-6 1e-9 1e-12)")
    r.add_argument("--bootstrap", type=int, default=400,
                   help="parametric-bootstrap replicas of the fit's CI (default 400)")
    run = p.add_argument_group("running")
    run.add_argument("--max-shots", type=int, default=100_000, metavar="N",
                     help="shots per block (default 100000)")
    run.add_argument("--max-errors", type=int, default=200, metavar="N",
                     help="stop a block once it has this many errors (default 200)")
    run.add_argument("--seed", type=int, default=None,
                     help="seed of the fixed chunks (default: fresh entropy)")
    run.add_argument("--workers", type=int, default=None, metavar="N",
                     help="processes of the spawn pool; 1 runs in-process (default: CPUs)")
    add_output_flags(run, "sinter CSV result file (appended to; a rerun resumes)",
                     required=False)
    p.set_defaults(handler=_handler)
    return p


def _tasks(a: argparse.Namespace, Ls: list[int]) -> list[tuple[str, dict[str, Any]]]:
    tasks = []
    for net in a.network:
        for L in Ls:
            if a.loss_per_photon is not None:
                tasks.append(("fbqc-optics", {
                    "network": net, "L": L, "boundary": "open",
                    "loss_per_photon": a.loss_per_photon, "fusion_failure": a.fusion_failure,
                    "photons_per_fusion": a.photons_per_fusion, "basis": a.basis,
                    "encoding": a.encoding, "decoder": a.decoder or "erasure-ml"}))
            else:
                tasks.append(("fbqc", {
                    "network": net, "L": L, "boundary": "open",
                    "p_erasure": a.p_erasure or 0.0, "p_pauli": a.p_pauli or 0.0,
                    "decoder": a.decoder or "uf"}))
    return tasks


def _fmt_int(x: float) -> str:
    return "∞" if not math.isfinite(x) else f"{int(x):,}"


def _handler(a: argparse.Namespace) -> Callable[[], int]:
    """Validate everything (exit 2 on bad input) and return the job."""
    import sim
    from sim.collect import prepare_collect

    if a.loss_per_photon is not None and (a.p_erasure or a.p_pauli):
        raise ValueError("--loss-per-photon (linear optics) excludes --p-erasure/--p-pauli")
    if a.loss_per_photon is None and a.p_erasure is None and a.p_pauli is None:
        raise ValueError("give --p-erasure and/or --p-pauli, or --loss-per-photon")
    Ls = [int(v) for v in sim.parse_values(a.L)]
    if len(set(Ls)) < 2:
        raise ValueError("--L needs at least two sizes for the fit")
    for t in a.target:
        if not 0 < t < 1:
            raise ValueError(f"--target must lie in (0, 1), got {t}")
    if a.bootstrap < 0:
        raise ValueError(f"--bootstrap must be >= 0, got {a.bootstrap}")
    run = prepare_collect(_tasks(a, Ls), max_shots=a.max_shots, max_errors=a.max_errors,
                          seed=a.seed, workers=a.workers, save_resume_filepath=a.out,
                          progress=False if a.no_progress else None)

    def job() -> int:
        stats = run()
        for net in a.network:
            _report(a, net, [s for s in stats if s.json_metadata["network"] == net])
        return 0

    return job


def _report(a: argparse.Namespace, net: str, mine: list) -> None:
    import sim

    from .resources import fit_scaling, per_layer, resource_table, scaling_points

    optics = a.loss_per_photon is not None
    pts = scaling_points(mine)
    head = (f"loss/photon {a.loss_per_photon}, fusion failure {a.fusion_failure}, "
            f"{a.photons_per_fusion} photons/fusion, basis {a.basis}, encoding {a.encoding}"
            if optics else f"p_erasure {a.p_erasure or 0.0}, p_pauli {a.p_pauli or 0.0}")
    print(f"\n== {net}: open L×L×L blocks, {head}, decoder "
          f"{mine[0].json_metadata['decoder']}")
    print("|  L | shots | errors | p_L per layer [95% CI] |")
    print("|---|---|---|---|")
    for L, T, k, n in pts.tolist():
        lo, hi = sim.binomial_ci(k, n)
        print(f"| {L} | {n} | {k} | {float(per_layer(k / n, T)):.3g} "
              f"[{float(per_layer(lo, T)):.3g}, {float(per_layer(hi, T)):.3g}] |")
    try:
        fit = fit_scaling(pts, bootstrap=a.bootstrap, seed=0)
    except ValueError as exc:
        print(f"fit: not possible ({exc})")
        return
    print("fit:", fit.summary())
    if fit.Lambda <= 1:
        print("Λ <= 1: p_L does not decrease with L at this noise (at or above threshold)")
        return
    enc = optics and a.encoding == "shor22"
    rows = resource_table(fit, net, targets=a.target,
                          physical_per_fusion=4 if enc else 1,
                          photons_per_fusion=a.photons_per_fusion if optics else 2)
    print("| target p_L | L [95% range] | fusions / logical qubit / layer [range] | "
          "photons / logical qubit / layer [range] |")
    print("|---|---|---|---|")
    for r in rows:
        hi = "∞" if r["L_hi"] > 10**5 else r["L_hi"]
        print(f"| {r['target']:.0e} | {r['L']} [{r['L_lo']}, {hi}] | "
              f"{_fmt_int(r['fusions'])} [{_fmt_int(r['fusions_lo'])}, "
              f"{_fmt_int(r['fusions_hi'])}] | {_fmt_int(r['photons'])} "
              f"[{_fmt_int(r['photons_lo'])}, {_fmt_int(r['photons_hi'])}] |")
    if np.any(fit.points[:, 2] == 0):
        print("(sizes with zero errors bound the fit from above)")
