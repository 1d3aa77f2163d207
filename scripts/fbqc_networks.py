"""Thresholds of the fusion networks derived from descriptions: one table.

For every network of ``--networks`` (default: the derived ``12ring``, ``3ghz`` and
``4star-bell``, plus the hand-built ``6ring`` and ``4star`` for reference):

``structure``  per-cell resource states, qubits, fusions; syndrome-graph shape; each
               check and membrane verified deterministic by stim at L = 3 (noiseless
               samples all zero).
``erasure``    erasure threshold per outcome (``erasure-ml``, exact ML), for the primal
               and the dual graph separately (the network's threshold is the lower one).
               Every fusion sends one outcome to each graph and the graphs decode
               independently, so this is also the threshold on erasing whole fusions; a
               fusion of two photons is erased when either is lost, so the per-photon
               loss threshold is ``1 − sqrt(1 − p*)``.
``pauli``      Pauli threshold per outcome, minimum-weight matching (``mwpm``; the stim
               backend's DEM matching for ``3ghz``, whose graph has parallel outcomes of
               different multiplicity that the direct decoder would weigh uniformly;
               L = 8, 12 there, as the stim backend recompiles its circuit per chunk).
``optics``     linear optics with (2,2)-Shor encoded, boosted fusions (random failure
               basis, 4 photons per physical fusion): fusion-failure threshold at zero
               loss, and loss-per-photon threshold at failure 1/4 where one exists.

Every sweep goes through :func:`sim.collect` with a resume file (a rerun continues), every
number through :func:`sim.threshold` (finite-size-scaling fit, bootstrap CI).  Output
under ``--out`` (default ``out/fbqc_networks``): CSVs, ``networks.md`` (the table) and
``networks.csv``.

Usage::

    nice python scripts/fbqc_networks.py            # ~1 h on 2 cores
    python scripts/fbqc_networks.py --quick         # small sizes, minutes
"""

from __future__ import annotations

import argparse
import csv
import math
import time
from pathlib import Path

import numpy as np

import sim
from fbqc import FusionNetwork, HardwareAgnostic, stim_circuit

#: centres of the sweeps: (erasure, pauli, optics failure at ℓ=0, optics loss at p_f=1/4)
CENTRES = {
    "6ring": (0.1202, 0.0106, 0.432, 0.0275),
    "4star": (0.0692, 0.0075, 0.28, 0.0047),
    "12ring": (0.120, 0.0100, 0.43, 0.026),
    "3ghz": (0.044, 0.0042, 0.23, None),
    "4star-bell": (0.0351, 0.0037, 0.225, None),
}
STIM_PAULI = {"3ghz"}


def _grid(c: float, rel: float, n: int) -> list[float]:
    return [float(f"{v:.5g}") for v in np.linspace(c * (1 - rel), c * (1 + rel), n)]


def _membrane_stats(stats, k: int):
    """Stats whose errors are the failures of membrane ``k`` (``obs_mistake_mask``)."""
    out = []
    for s in stats:
        n = sum(v for key, v in s.custom_counts.items()
                if key.startswith("obs_mistake_mask=") and key[17 + k] == "E")
        out.append(s.with_edits(errors=int(n)))
    return out


class _Crossing:
    """The crossing of the two largest sizes, with a 95 % parametric-bootstrap CI."""

    def __init__(self, value: float, ci: tuple[float, float]):
        self.value, self.ci = value, ci


def _largest_crossing(stats, x: str, boot: int = 400, seed: int = 0):
    """The crossing of the two largest sizes (:func:`fbqc_optics.pair_crossing`)."""
    from fbqc_optics import pair_crossing

    acc: dict[tuple, list[int]] = {}
    for s in stats:
        a = acc.setdefault((s.json_metadata[x], s.json_metadata["L"]), [0, 0])
        a[0] += s.errors
        a[1] += s.shots
    Ls = sorted({L for _, L in acc})
    if len(Ls) < 2:
        return None
    La, Lb = Ls[-2], Ls[-1]
    grid = sorted(v for v, L in acc if L == La and (v, Lb) in acc)
    c, ci = pair_crossing(acc, grid, La, Lb, np.random.default_rng(seed), boot)
    if not np.isfinite(c) or ci is None:
        return None
    return _Crossing(c, ci)


def _fit(stats, x: str, max_rate: float = 0.4):
    """FSS fit (:func:`sim.threshold`); where it is unstable (CI wider than ±10 %), the
    crossing of the two largest sizes instead."""
    try:
        res = sim.threshold(stats, x=x, size="L", bootstrap=200, max_rate=max_rate)
        if res.ci[1] - res.ci[0] < 0.2 * abs(res.value):
            return res
        print(f"   FSS fit unstable ({res.value:.4g} [{res.ci[0]:.4g}, {res.ci[1]:.4g}]); "
              "using the largest-size crossing")
    except ValueError as exc:
        print("   threshold fit failed:", exc)
    return _largest_crossing(stats, x)


def _fmt(res, scale: float = 1.0, digits: int = 4) -> str:
    if res is None:
        return "n/a"
    return (f"{res.value * scale:.{digits}g} [{res.ci[0] * scale:.{digits}g}, "
            f"{res.ci[1] * scale:.{digits}g}]")


def _primal_dual(row: dict, st: list, x: str, label: str):
    """Thresholds of the primal and the dual x-membrane into ``row``; the lower one is the
    network's (``row[label + "*"]``), returned."""
    rp = _fit(st, x)
    rd = _fit(_membrane_stats(st, 3), x)
    row[f"{label} primal"] = _fmt(rp)
    row[f"{label} dual"] = _fmt(rd)
    lo = min((r for r in (rp, rd) if r is not None), key=lambda r: r.value, default=None)
    row[f"{label}*"] = _fmt(lo)
    return lo


def structure(name: str) -> dict:
    net = FusionNetwork(name, 4)
    pc = net.counts()["per_cell"]
    g = net.graphs
    c = stim_circuit(name, 3, HardwareAgnostic(0.0, 0.0))
    c.detector_error_model()  # raises on a non-deterministic detector or observable
    dets, obs = c.compile_detector_sampler(seed=1).sample(50, separate_observables=True)
    assert not dets.any() and not obs.any()
    shape = "; ".join(f"{x.name}: degree {x.degree}, bundle {x.bundle_size}" for x in g)
    return {"network": name, **{f"{k}/cell": v for k, v in pc.items()}, "graphs": shape,
            "checks": "/".join(str(w) for w in net.counts()["check_weights"]),
            "stim_deterministic": "yes (L=3, 50 noiseless shots all zero)"}


def run(args) -> None:
    out = Path(args.out) / ("quick" if args.quick else "full")
    out.mkdir(parents=True, exist_ok=True)
    q = args.quick
    rows = []
    t0 = time.time()
    for name in args.networks:
        row = structure(name)
        ce, cp, cf, cl = CENTRES[name]
        print(f"== {name}: {row}")
        if "erasure" in args.only:
            Ls = [6, 8, 10] if q else [12, 16, 20]
            tasks = [("fbqc", {"network": name, "L": L, "p_erasure": p, "p_pauli": 0.0,
                               "decoder": "erasure-ml"})
                     for L in Ls for p in _grid(ce, 0.10 if q else 0.05, 7)]
            st = sim.collect(tasks, max_shots=1500 if q else 5000, seed=args.seed,
                             workers=args.workers, save_resume_filepath=out / f"erasure_{name}.csv",
                             progress=False)
            lo = _primal_dual(row, st, "p_erasure", "p_E")
            if lo is not None:
                row["loss/photon (2-photon fusion)"] = (
                    f"{1 - math.sqrt(1 - lo.value):.4g} [{1 - math.sqrt(1 - lo.ci[0]):.4g}, "
                    f"{1 - math.sqrt(1 - lo.ci[1]):.4g}]")
            print(f"   erasure primal {row['p_E primal']}  dual {row['p_E dual']}")
        if "pauli" in args.only:
            Ls = [6, 8] if q else [8, 12, 16]
            extra = {"backend": "stim"} if name in STIM_PAULI else {}
            if extra and not q:  # stim recompiles the circuit per chunk: stop at L = 12
                Ls = [8, 12]
            tasks = [("fbqc", {"network": name, "L": L, "p_erasure": 0.0, "p_pauli": p,
                               "decoder": "mwpm", **extra})
                     for L in Ls for p in _grid(cp, 0.15 if q else 0.12, 6)]
            st = sim.collect(tasks, max_shots=800 if q else 6000, seed=args.seed,
                             workers=args.workers, save_resume_filepath=out / f"pauli_{name}.csv",
                             progress=False)
            _primal_dual(row, st, "p_pauli", "p_P")
            row["pauli decoder"] = "mwpm (stim DEM)" if extra else "mwpm"
            print(f"   pauli primal {row['p_P primal']}  dual {row['p_P dual']}")
        if "optics" in args.only:
            Ls = [6, 8] if q else [8, 12, 16]
            base = {"network": name, "encoding": "shor22", "basis": "random",
                    "photons_per_fusion": 4}
            tasks = [("fbqc-optics",
                      {**base, "L": L, "loss_per_photon": 0.0, "fusion_failure": p})
                     for L in Ls for p in _grid(cf, 0.12, 7)]
            if cl is not None:
                tasks += [("fbqc-optics",
                           {**base, "L": L, "loss_per_photon": p, "fusion_failure": 0.25})
                          for L in Ls for p in _grid(cl, 0.3, 7)]
            st = sim.collect(tasks, max_shots=800 if q else 2000, seed=args.seed,
                             workers=args.workers, save_resume_filepath=out / f"optics_{name}.csv",
                             progress=False)
            rf = _fit([s for s in st if s.json_metadata["loss_per_photon"] == 0.0],
                      "fusion_failure", max_rate=0.7)
            row["shor22 p_f* (ℓ=0)"] = _fmt(rf)
            if cl is not None:
                rl = _fit([s for s in st if s.json_metadata["fusion_failure"] == 0.25],
                          "loss_per_photon", max_rate=0.7)
                row["shor22 ℓ*/photon (p_f=1/4)"] = _fmt(rl)
                if rl is not None:
                    per_f = [1 - (1 - v) ** 4 for v in (rl.value, *rl.ci)]
                    row["shor22 loss/fusion"] = (f"{per_f[0]:.4g} [{per_f[1]:.4g}, "
                                                 f"{per_f[2]:.4g}]")
            else:
                row["shor22 ℓ*/photon (p_f=1/4)"] = "none: above threshold at ℓ=0"
            print(f"   optics {row.get('shor22 p_f* (ℓ=0)')}  "
                  f"{row.get('shor22 ℓ*/photon (p_f=1/4)')}")
        rows.append(row)
    keys = list(dict.fromkeys(k for r in rows for k in r))
    with open(out / "networks.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)
    cols = ["network", "states/cell", "qubits/cell", "fusions/cell", "graphs", "p_E*",
            "loss/photon (2-photon fusion)", "p_P*", "shor22 p_f* (ℓ=0)",
            "shor22 ℓ*/photon (p_f=1/4)", "shor22 loss/fusion"]
    cols = [c for c in cols if c in keys]
    md = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    md += ["| " + " | ".join(str(r.get(c, "")) for c in cols) + " |" for r in rows]
    (out / "networks.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))
    print(f"done in {time.time() - t0:.0f} s; results in {out}/")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--networks", nargs="+", default=["6ring", "4star", "12ring", "3ghz",
                                                     "4star-bell"], choices=list(CENTRES))
    p.add_argument("--only", nargs="+", choices=["erasure", "pauli", "optics"],
                   default=["erasure", "pauli", "optics"])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--out", default="out/fbqc_networks")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=2026)
    args = p.parse_args(argv)
    run(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
