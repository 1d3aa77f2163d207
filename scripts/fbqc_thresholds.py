"""Reproduce the fbqc thresholds: one resumable run, CSVs and figures under ``out/fbqc/``.

Sections (``--only`` picks some):

``erasure``   6-ring and 4-star erasure thresholds (decoder ``erasure-ml``: exact ML; and
              ``local-mwpm``, ``--erasure-decoders``).
``pauli``     6-ring and 4-star Pauli thresholds with ``mwpm``, ``uf`` and ``local-mwpm``
              (``--pauli-decoders``).
``region``    6-ring erasure–Pauli region: thresholds along rays from the origin in the
              (p_E/p_E*, p_P/p_P*) plane, ``uf``, ``mwpm`` and ``local-mwpm``.

Every sweep goes through :func:`sim.collect` with ``save_resume_filepath`` (a rerun
continues where it stopped) and every number through :func:`sim.threshold`.  Everything
goes to ``out/fbqc/full/`` (``out/fbqc/quick/`` with ``--quick``): one CSV, curve figure
(threshold and its CI marked) and collapse figure per sweep, ``region.csv`` /
``region.png``, and a summary ``summary_<sections>.csv`` (e.g.
``summary_erasure_pauli_region.csv`` for the full run).  A fit that is no threshold (the
estimate outside the sampled range, no crossing, χ²/dof > 3, or a CI wider than the
range: :attr:`sim.ThresholdResult.warnings`) is reported as "no threshold in range" and
not drawn.  ``--figures DIR`` also writes the small PNGs kept in ``docs/figures``.

Usage::

    python scripts/fbqc_thresholds.py            # full run (about 40 min on 2 cores)
    python scripts/fbqc_thresholds.py --quick    # small sizes, a few minutes
    python scripts/fbqc_thresholds.py --figures docs/figures   # + the documentation PNGs
"""

from __future__ import annotations

import argparse
import csv
import itertools
import math
import time
from pathlib import Path

import numpy as np

import sim

# references: erasure (p_E*) and Pauli (p_P*) thresholds
REF = {
    ("6ring", "erasure"): 0.1201635,  # FCC bond percolation (paper: 11.98 %)
    ("4star", "erasure"): 1 - (1 - 0.2488) ** 0.25,  # cubic bond percolation per bundle
    ("6ring", "pauli"): 0.0107,
    ("4star", "pauli"): 0.0075,
}
PAPER = {("6ring", "erasure"): 0.1198, ("4star", "erasure"): 0.0690,
         ("6ring", "pauli"): 0.0107, ("4star", "pauli"): 0.0075}


def _grid(centre: float, rel: float, n: int) -> list[float]:
    return [float(f"{v:.6g}") for v in np.linspace(centre * (1 - rel), centre * (1 + rel), n)]


def _run(tasks, path: Path, args, shots: int, max_errors: int | None = None):
    return sim.collect(tasks, max_shots=shots, max_errors=max_errors, seed=args.seed,
                       workers=args.workers, save_resume_filepath=path,
                       progress=False if args.no_progress else None)


def _threshold(stats, x: str, where=None):
    try:
        return sim.threshold(stats, x=x, size="L", where=where, bootstrap=200)
    except ValueError as exc:
        print("threshold failed:", exc)
        return None


NO_THRESHOLD = "no threshold in range"


def _record(rows, name, res, ref, paper, command):
    """One summary row; a fit that is no threshold is recorded (and printed) as such."""
    if res is None or not res.ok:
        why = "the fit failed" if res is None else "; ".join(res.warnings)
        rows.append({"quantity": name, "value": NO_THRESHOLD, "warnings": why,
                     "reference": f"{ref:.6g}", "command": command})
        print(f"== {name}: {NO_THRESHOLD} ({why})")
        return
    cross = "; ".join(f"{c.size_a:g}/{c.size_b:g}:{c.value:.5g}" for c in res.crossings
                      if c.value is not None)
    rows.append({
        "quantity": name, "value": f"{res.value:.6g}", "ci_low": f"{res.ci[0]:.6g}",
        "ci_high": f"{res.ci[1]:.6g}", "half_width": f"{res.half_width:.3g}",
        "reference": f"{ref:.6g}", "paper": f"{paper:.6g}" if paper else "",
        "ci_contains_reference": str(res.ci[0] <= ref <= res.ci[1]),
        "nu": f"{res.nu:.3g}", "crossings": cross, "drift": f"{res.drift:.3g}",
        "chi2_dof": f"{res.chi2_dof:.3g}", "command": command,
    })
    print(f"== {name}\n{res.summary()}\n   reference {ref:.6g}")


NAMES = {"6ring": "6-ring", "4star": "4-star"}
#: the figures ``--figures DIR`` writes (besides region.png): the main reproduced ones
DOC_FIGURES = {"erasure_6ring", "erasure_6ring_collapse", "erasure_4star", "pauli_6ring_mwpm",
               "pauli_4star_mwpm", "pauli_6ring_uf"}


def _figures(args, out: Path, stem: str, st, x: str, res, title: str) -> None:
    """Curves with the threshold marked, and the collapse; small copies for the docs."""
    import matplotlib.pyplot as plt

    figs = {stem: sim.plot(st, x=x, group="L", threshold=res, title=title,
                           out=out / f"{stem}.png")}
    if res is not None:
        figs[f"{stem}_collapse"] = sim.plot_collapse(res, out=out / f"{stem}_collapse.png")
    for name, fig in figs.items():
        if args.figures and name in DOC_FIGURES:
            sim.plotting.save_figure(fig, Path(args.figures) / f"fbqc_{name}.png", dpi=100,
                                     svg=False)
        plt.close(fig)


def erasure(args, out: Path, rows) -> None:
    Ls = [6, 8, 10] if args.quick else [12, 16, 20]
    shots = 2000 if args.quick else 6000
    for kind, dec in itertools.product(("6ring", "4star"), args.erasure_decoders):
        ref = REF[(kind, "erasure")]
        ps = _grid(ref, 0.08 if args.quick else 0.035, 7)
        tasks = [("fbqc", {"network": kind, "L": L, "p_erasure": p, "p_pauli": 0.0,
                           "decoder": dec}) for L in Ls for p in ps]
        stem = f"erasure_{kind}" + ("" if dec == "erasure-ml" else f"_{dec}")
        path = out / f"{stem}.csv"
        st = _run(tasks, path, args, shots)
        res = _threshold(st, "p_erasure")
        _record(rows, f"{kind} erasure threshold ({dec})", res, ref,
                PAPER[(kind, "erasure")], f"section erasure, {path.name}")
        what = "exact ML decoder (erasure-ml)" if dec == "erasure-ml" else f"decoder {dec}"
        _figures(args, out, stem, st, "p_erasure", res,
                 f"{NAMES[kind]} network, erasure only, {what}\n"
                 f"L {'/'.join(map(str, Ls))}, {shots:,} shots per point; "
                 f"percolation threshold {ref:.5g}")


def pauli(args, out: Path, rows) -> None:
    Ls = [6, 8] if args.quick else [8, 12, 16]
    shots = 1000 if args.quick else 8000
    for kind in ("6ring", "4star"):
        for dec in args.pauli_decoders:
            centre = REF[(kind, "pauli")] * (0.9 if dec == "uf" else 1.0)
            ps = _grid(centre, 0.12, 5)
            tasks = [("fbqc", {"network": kind, "L": L, "p_erasure": 0.0, "p_pauli": p,
                               "decoder": dec}) for L in Ls for p in ps]
            path = out / f"pauli_{kind}_{dec}.csv"
            st = _run(tasks, path, args, shots)
            res = _threshold(st, "p_pauli")
            _record(rows, f"{kind} Pauli threshold ({dec})", res, REF[(kind, "pauli")],
                    PAPER[(kind, "pauli")], f"section pauli, {path.name}")
            _figures(args, out, f"pauli_{kind}_{dec}", st, "p_pauli", res,
                     f"{NAMES[kind]} network, Pauli errors only, decoder {dec}\n"
                     f"L {'/'.join(map(str, Ls))}, {shots:,} shots per point")


def region(args, out: Path, rows) -> None:
    """Thresholds along rays p = t·(cos θ·p_E*, sin θ·p_P*) for the 6-ring."""
    pE, pP = REF[("6ring", "erasure")], REF[("6ring", "pauli")]
    res_rows = []
    for dec in args.region_decoders:
        # mwpm rebuilds PyMatching every shot with erasures (no per-shot reweighting API):
        # smaller sizes and fewer rays
        if dec != "mwpm":
            Ls = [6, 8] if args.quick else [8, 12, 16]
            shots = 800 if args.quick else 2000
            angles = [15, 45, 75] if args.quick else [10, 25, 45, 65, 80]
        else:
            Ls = [4, 6] if args.quick else [6, 8, 10]
            shots = 300 if args.quick else 1000
            angles = [45] if args.quick else [25, 45, 65]
        for ang in angles:
            th = math.radians(ang)
            # centre each ray's grid a little inside the straight line p_E/p_E* + p_P/p_P* = 1
            ts = _grid(0.9 / (math.cos(th) + math.sin(th)), 0.25, 5)
            tasks = [("fbqc", {"network": "6ring", "L": L,
                               "p_erasure": float(f"{t * math.cos(th) * pE:.6g}"),
                               "p_pauli": float(f"{t * math.sin(th) * pP:.6g}"),
                               "decoder": dec}) for L in Ls for t in ts]
            path = out / f"region_{dec}_{ang}.csv"
            st = _run(tasks, path, args, shots)

            def tfun(s, th=th):
                m = s.json_metadata
                return m["p_erasure"] / (math.cos(th) * pE) if math.cos(th) > 1e-9 else \
                    m["p_pauli"] / (math.sin(th) * pP)

            try:
                res = sim.threshold(st, x=tfun, size="L", bootstrap=100)
            except ValueError as exc:
                print(f"region {dec} θ={ang}°: {NO_THRESHOLD} (the fit failed: {exc})")
                res_rows.append({"decoder": dec, "angle_deg": ang, "ok": False,
                                 "sizes": "/".join(map(str, Ls)), "shots": shots,
                                 "warnings": f"the fit failed: {exc}"})
                continue
            t, lo, hi = res.value, res.ci[0], res.ci[1]
            res_rows.append({"decoder": dec, "angle_deg": ang, "t": t, "t_lo": lo, "t_hi": hi,
                             "p_erasure": t * math.cos(th) * pE,
                             "p_pauli": t * math.sin(th) * pP, "drift": res.drift,
                             "ok": res.ok, "sizes": "/".join(map(str, Ls)), "shots": shots,
                             "warnings": "; ".join(res.warnings)})
            if res.ok:
                print(f"region {dec} θ={ang}°: t*={t:.4g} [{lo:.4g}, {hi:.4g}]")
            else:
                print(f"region {dec} θ={ang}°: {NO_THRESHOLD} ({'; '.join(res.warnings)})")
    with open(out / "region.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["decoder", "angle_deg", "t", "t_lo", "t_hi",
                                           "p_erasure", "p_pauli", "drift", "ok", "sizes",
                                           "shots", "warnings"])
        w.writeheader()
        w.writerows(res_rows)
    _plot_region(res_rows, out, rows, args.figures)


def _axis_pauli(out: Path, rows=()) -> dict[str, float]:
    """Pauli-axis end points (p_P threshold / p_P*): from this run's Pauli section when it
    ran, else from an earlier run's summary CSV (any ``summary_*pauli*.csv``), else 1."""
    ends = {"uf": 1.0, "mwpm": 1.0, "local-mwpm": 1.0}
    found: dict[str, float] = {}
    sources = [list(rows)]
    for path in sorted(out.glob("summary_*pauli*.csv"), key=lambda q: q.stat().st_mtime):
        with open(path) as fh:
            sources.insert(1, list(csv.DictReader(fh)))  # newest file first after rows
    for src in sources:
        for row in src:
            for dec in ends:
                if (dec not in found and row.get("quantity") == f"6ring Pauli threshold ({dec})"
                        and row.get("value", "nan") not in ("nan", NO_THRESHOLD)):
                    found[dec] = float(row["value"]) / REF[("6ring", "pauli")]
    if "local-mwpm" not in found and "mwpm" in found:
        found["local-mwpm"] = found["mwpm"]  # Pauli-only shots: local-mwpm is PyMatching
    ends.update(found)
    return ends


def _plot_region(res_rows, out: Path, rows=(), figures=None) -> None:
    """The correctable region: only rays whose fit is a threshold are drawn (a ray that
    is not is listed under the axes), each with its CI along the ray."""
    import matplotlib.pyplot as plt

    ends = _axis_pauli(out, rows)
    fig, ax = plt.subplots(figsize=(5.6, 5.0))
    skipped = []
    for i, dec in enumerate(("uf", "mwpm", "local-mwpm")):
        rr = sorted((r for r in res_rows if r["decoder"] == dec), key=lambda r: r["angle_deg"])
        skipped += [f"{dec} {r['angle_deg']}°" for r in rr if not r.get("ok", True)]
        rr = [r for r in rr if r.get("ok", True)]
        if not rr:
            continue
        c = [math.cos(math.radians(r["angle_deg"])) for r in rr]
        sn = [math.sin(math.radians(r["angle_deg"])) for r in rr]
        # the erasure-axis end is exact for both decoders (erasure-only decoding is ML);
        # the Pauli-axis end is this decoder's Pauli threshold
        x = [1.0] + [r["t"] * ci for r, ci in zip(rr, c)] + [0.0]
        y = [0.0] + [r["t"] * si for r, si in zip(rr, sn)] + [ends[dec]]
        sizes = rr[0].get("sizes", "")
        shots = rr[0].get("shots", "")
        ax.plot(x, y, "o-", color=f"C{i}",
                label=f"{dec} (L {sizes}, {shots} shots per point)" if sizes else dec)
        for j, (r, ci, si) in enumerate(zip(rr, c, sn)):  # CI along the ray
            ax.plot([r["t_lo"] * ci, r["t_hi"] * ci], [r["t_lo"] * si, r["t_hi"] * si],
                    color=f"C{i}", lw=4, alpha=0.35, solid_capstyle="butt",
                    label="95% CI along the ray" if i == 0 and j == 0 else None)
    ax.plot([0, 1], [1, 0], "k:", lw=1, label="straight line between the axis thresholds")
    ax.set_xlim(0, 1.08)
    ax.set_ylim(0, 1.08)
    ax.set_aspect("equal")
    pE, pP = REF[("6ring", "erasure")], REF[("6ring", "pauli")]
    ax.set_xlabel(f"erasure probability / erasure threshold  ($p_E$ / {pE:.4f})")
    ax.set_ylabel(f"Pauli probability / Pauli threshold  ($p_P$ / {pP:.4f})")
    ax.set_title("6-ring network: correctable region under erasure + Pauli noise\n"
                 "thresholds along rays from the origin (sim.threshold per ray)", fontsize=10)
    ax.legend(fontsize=7.5, loc="upper right")
    ax.grid(True, alpha=0.3)
    note = ("Inside each curve the logical error rate falls with L. "
            "End points: the erasure threshold (exact) and each decoder's Pauli threshold.")
    if skipped:
        note += f" Rays with no threshold in range (not drawn): {', '.join(skipped)}."
    ax.annotate(note, xy=(0.5, 0), xycoords=ax.xaxis.label, xytext=(0, -4),
                textcoords="offset points", ha="center", va="top", fontsize=7, color="0.25",
                wrap=True)
    fig.savefig(out / "region.png", dpi=120, bbox_inches="tight")
    if figures:
        sim.plotting.save_figure(fig, Path(figures) / "fbqc_region.png", dpi=100, svg=False)
    plt.close(fig)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="small sizes and shots")
    p.add_argument("--only", nargs="+", choices=["erasure", "pauli", "region"],
                   default=["erasure", "pauli", "region"])
    p.add_argument("--erasure-decoders", nargs="+", default=["erasure-ml", "local-mwpm"],
                   help="decoders of the erasure thresholds")
    p.add_argument("--pauli-decoders", nargs="+", default=["mwpm", "uf", "local-mwpm"],
                   help="decoders of the Pauli thresholds")
    p.add_argument("--region-decoders", nargs="+", default=["uf", "mwpm", "local-mwpm"],
                   help="decoders of the region rays (mwpm on smaller sizes)")
    p.add_argument("--out", default="out/fbqc")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--figures", default=None, metavar="DIR",
                   help="also write small PNGs for the documentation (docs/figures)")
    args = p.parse_args(argv)
    out = Path(args.out) / ("quick" if args.quick else "full")
    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    t0 = time.time()
    for name in args.only:
        {"erasure": erasure, "pauli": pauli, "region": region}[name](args, out, rows)
    keys = sorted({k for r in rows for k in r}, key=lambda k: (k != "quantity", k))
    with open(out / f"summary_{'_'.join(args.only)}.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)
    print(f"done in {time.time() - t0:.0f} s; results in {out}/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
