"""Sub-threshold scaling and resource estimates of FBQC memories: the figure and tables.

For each network (``--networks``; default all five: ``6ring``, ``4star``, ``12ring``,
``3ghz``, ``4star-bell``) open ``L × L × L`` blocks (rough primal boundaries at
``x = 0, L``) are sampled through :func:`sim.collect` (resumable: rows already in the
CSV count) at

* **hardware-agnostic** points on the ray ``p_P = p_E / 10`` (erasure-dominated photonic
  noise), at fractions ``--fractions`` (default 0.35, 0.5, 0.65) of each network's
  straight-line estimate of its threshold on that ray (``p_E/p_E* + p_P/p_P* = 1`` from
  the axis thresholds), decoded with union-find (boundary-aware kernel);
* **linear optics**: (2,2)-Shor encoded, boosted fusions (failure 1/4, 4 photons per
  physical fusion, random failure basis), loss per photon at ``--loss-fractions``
  (default 0.2 and 0.4) of each network's loss threshold, for the networks that have
  one there (``6ring``, ``12ring``, ``4star``), exact ML erasure decoding.

Each series is fitted with ``p_L ≈ A·Λ^{−(L+1)/2}`` per layer
(:func:`fbqc.resources.fit_scaling`, 95 % parametric-bootstrap CIs, χ²/dof), and turned
into fusions and photons per logical qubit per layer at ``p_L = 1e-6, 1e-9, 1e-12``
(:func:`fbqc.resources.resource_table`).

Output (``--out``, default ``out/fbqc_resources``): ``blocks.csv`` / ``optics.csv`` (sinter
CSV), ``fits.csv``, ``resources.md`` and ``fbqc_resources.png`` (p_L against L; fusions
per logical qubit against physical error, one curve per network; linear optics).

Usage::

    nice python scripts/fbqc_resources.py              # default: < 20 min on 2 cores
    nice python scripts/fbqc_resources.py --L 5 7 9 11 13 --max-shots 400000  # larger
    python scripts/fbqc_resources.py --quick           # a minute
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import numpy as np

import sim
from fbqc.resources import fit_scaling, per_layer, resource_table, scaling_points

#: axis thresholds (p_E*, p_P*) per outcome, from scripts/fbqc_networks.py (network
#: threshold = the lower of primal and dual)
AXES = {
    "6ring": (0.1202, 0.0106),
    "4star": (0.0692, 0.0075),
    "12ring": (0.1178, 0.0100),
    "3ghz": (0.0438, 0.0040),
    "4star-bell": (0.0351, 0.0037),
}
#: loss-per-photon thresholds ℓ* of the (2,2)-Shor boosted random-basis model (from
#: scripts/fbqc_networks.py); the linear-optics points are fractions of them
LOSS_STAR = {"6ring": 0.0275, "12ring": 0.0275, "4star": 0.0047}
TARGETS = (1e-6, 1e-9, 1e-12)


def ray_threshold(name: str, ratio: float = 0.1) -> float:
    """p_E where the straight line p_E/p_E* + p_P/p_P* = 1 meets p_P = ratio · p_E."""
    pe, pp = AXES[name]
    return 1.0 / (1.0 / pe + ratio / pp)


def _fit_rows(stats, label_of, targets, physical, photons):
    groups: dict[tuple, list] = {}
    for s in stats:
        groups.setdefault(label_of(s), []).append(s)
    rows, fits = [], {}
    for key, st in sorted(groups.items()):
        pts = scaling_points(st)
        try:
            fit = fit_scaling(pts, bootstrap=300, seed=0)
        except ValueError as exc:
            print(f"   {key}: no fit ({exc})")
            continue
        fits[key] = (fit, pts)
        row = {"network": key[0], "noise": key[1], "Lambda": f"{fit.Lambda:.4g}",
               "Lambda_lo": f"{fit.Lambda_ci[0]:.4g}", "Lambda_hi": f"{fit.Lambda_ci[1]:.4g}",
               "A": f"{fit.A:.4g}", "A_lo": f"{fit.A_ci[0]:.4g}", "A_hi": f"{fit.A_ci[1]:.4g}",
               "chi2_dof": f"{fit.chi2_dof:.3g}",
               "sizes": " ".join(str(int(v)) for v in pts[:, 0])}
        if fit.Lambda > 1:
            for r in resource_table(fit, key[0], targets=targets, physical_per_fusion=physical,
                                    photons_per_fusion=photons):
                t = f"{r['target']:.0e}"
                hi = "∞" if r["L_hi"] > 10**5 else r["L_hi"]
                row[f"L@{t}"] = f"{r['L']} [{r['L_lo']}, {hi}]"
                row[f"fusions@{t}"] = r["fusions"]
                row[f"fusions@{t} range"] = f"[{r['fusions_lo']}, {r['fusions_hi']}]"
                row[f"photons@{t}"] = r["photons"]
        rows.append(row)
        print(f"   {key[0]:11s} {key[1]:28s} {fit.summary()}")
    return rows, fits


def _markdown(rows, title: str) -> list[str]:
    out = [f"### {title}", "",
           "| network | noise | Λ [95 % CI] | A | χ²/dof | L for 1e-9 | fusions / logical "
           "qubit / layer at 1e-6, 1e-9, 1e-12 | photons at 1e-9 |", "|" + "---|" * 8]
    for r in rows:
        f = [str(r.get(f"fusions@{t:.0e}", "–")) for t in TARGETS]
        out.append(f"| {r['network']} | {r['noise']} | {r['Lambda']} [{r['Lambda_lo']}, "
                   f"{r['Lambda_hi']}] | {r['A']} | {r['chi2_dof']} | {r.get('L@1e-09', '–')} | "
                   f"{', '.join(f)} | {r.get('photons@1e-09', '–')} |")
    return out + [""]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--networks", nargs="+", default=list(AXES), choices=list(AXES))
    ap.add_argument("--fractions", nargs="+", type=float, default=[0.35, 0.5, 0.65])
    ap.add_argument("--loss-fractions", nargs="+", type=float, default=[0.2, 0.4],
                    help="linear optics: loss per photon as fractions of ℓ*")
    ap.add_argument("--L", nargs="+", type=int, default=None, help="sizes (default 5 7 9)")
    ap.add_argument("--max-shots", type=int, default=None)
    ap.add_argument("--max-errors", type=int, default=150)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--out", default="out/fbqc_resources")
    a = ap.parse_args(argv)
    Ls = a.L or ([3, 4, 5] if a.quick else [5, 7, 9])
    shots = a.max_shots or (3000 if a.quick else 40_000)
    out = Path(a.out) / ("quick" if a.quick else "full")
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    # ---------------------------------------------------------- hardware-agnostic
    tasks = []
    for net in a.networks:
        for fr in a.fractions:
            pe = float(f"{fr * ray_threshold(net):.4g}")
            tasks += [("fbqc", {"network": net, "L": L, "boundary": "open", "p_erasure": pe,
                                "p_pauli": float(f"{pe / 10:.4g}"), "decoder": "uf"})
                      for L in Ls]
    st = sim.collect(tasks, max_shots=shots, max_errors=a.max_errors, seed=a.seed,
                     workers=a.workers, save_resume_filepath=out / "blocks.csv",
                     progress=False)
    print(f"hardware-agnostic blocks sampled ({time.time() - t0:.0f} s); fits:")

    def ha_label(s):
        m = s.json_metadata
        return (m["network"], f"p_E={m['p_erasure']:g}, p_P={m['p_pauli']:g}")

    ha_rows, ha_fits = _fit_rows(st, ha_label, TARGETS, 1, 2)
    # ---------------------------------------------------------- linear optics
    lo_tasks = [("fbqc-optics",
                 {"network": net, "L": L, "boundary": "open",
                 "loss_per_photon": float(f"{fr * LOSS_STAR[net]:.4g}"),
                  "fusion_failure": 0.25, "photons_per_fusion": 4, "basis": "random",
                  "encoding": "shor22", "decoder": "erasure-ml"})
                for net in a.networks if net in LOSS_STAR for fr in a.loss_fractions
                for L in Ls]
    lo_st = sim.collect(lo_tasks, max_shots=shots, max_errors=a.max_errors, seed=a.seed,
                        workers=a.workers, save_resume_filepath=out / "optics.csv",
                        progress=False) if lo_tasks else []
    print(f"linear-optics blocks sampled ({time.time() - t0:.0f} s); fits:")

    def lo_label(s):
        m = s.json_metadata
        return (m["network"], f"shor22, ℓ={m['loss_per_photon']:g}/photon, p_f=1/4")

    lo_rows, lo_fits = _fit_rows(lo_st, lo_label, TARGETS, 4, 4)
    # ---------------------------------------------------------- outputs
    rows = ha_rows + lo_rows
    keys = list(dict.fromkeys(k for r in rows for k in r))
    with open(out / "fits.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)
    md = ["# FBQC memories: p_L ≈ A·Λ^(−(L+1)/2) per layer and resources per logical qubit",
          "", f"Sizes L = {Ls}, up to {shots} shots and {a.max_errors} errors per block.", ""]
    md += _markdown(ha_rows, "Hardware-agnostic, p_P = p_E/10, union-find")
    md += _markdown(lo_rows, "Linear optics, (2,2)-Shor boosted fusions (4 physical fusions "
                             "and 16 photons per network fusion), exact ML")
    (out / "resources.md").write_text("\n".join(md))
    print("\n".join(md))
    _figure(ha_fits, lo_fits, a, out / "fbqc_resources.png")
    print(f"done in {time.time() - t0:.0f} s; results in {out}/")
    return 0


def _figure(ha_fits, lo_fits, a, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 3, figsize=(16, 4.6))
    colors = {n: f"C{i}" for i, n in enumerate(AXES)}
    mid = sorted(a.fractions)[len(a.fractions) // 2]
    for (net, noise), (fit, pts) in ha_fits.items():
        pe = float(noise.split(",")[0].split("=")[1])
        if abs(pe - float(f"{mid * ray_threshold(net):.4g}")) > 1e-12:
            continue
        _panel_pL(ax[0], fit, pts, colors[net], f"{net}: {noise}")
    ax[0].set_title(f"p_L per layer vs L (uf), {mid:g} × ray threshold")
    for net in AXES:
        xs, ys, lo, hi = [], [], [], []
        for (n2, noise), (fit, _) in sorted(ha_fits.items()):
            if n2 != net or fit.Lambda <= 1:
                continue
            r = resource_table(fit, net, targets=(1e-9,))[0]
            if not np.isfinite(r["fusions"]):
                continue
            xs.append(float(noise.split(",")[0].split("=")[1]))
            ys.append(r["fusions"])
            lo.append(r["fusions_lo"])
            hi.append(r["fusions_hi"])
        if xs:
            o = np.argsort(xs)
            x, y = np.array(xs)[o], np.array(ys)[o]
            ax[1].errorbar(x, y, yerr=[y - np.array(lo)[o], np.array(hi)[o] - y], fmt="o-",
                           color=colors[net], capsize=3, label=net)
    ax[1].set_yscale("log")
    ax[1].set_xlabel("p_E per outcome (p_P = p_E / 10)")
    ax[1].set_ylabel("fusions per logical qubit per layer")
    ax[1].set_title("cost of p_L = 1e-9 per layer (95 % range)")
    ax[1].legend(fontsize=8)
    lo_loss = {}
    for (net, noise) in lo_fits:
        lo_loss.setdefault(net, []).append(noise)
    for (net, noise), (fit, pts) in lo_fits.items():
        ls = "-" if noise == min(lo_loss[net]) else "--"
        _panel_pL(ax[2], fit, pts, colors[net], f"{net}: {noise.split(',')[1]}", ls=ls)
    ax[2].set_title("linear optics: (2,2)-Shor, boosted, random basis")
    for x in (ax[0], ax[2]):
        x.set_yscale("log")
        x.set_xlabel("L")
        x.set_ylabel("p_L per layer")
        x.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _panel_pL(ax, fit, pts, color, label, ls="-") -> None:
    L, T, k, n = pts.T.astype(float)
    rate = per_layer(k / n, T)
    cis = [sim.binomial_ci(int(ki), int(ni)) for ki, ni in zip(k, n)]
    lo = per_layer(np.array([c[0] for c in cis]), T)
    hi = per_layer(np.array([c[1] for c in cis]), T)
    ok = k > 0
    ax.errorbar(L[ok], rate[ok], yerr=[rate[ok] - lo[ok], hi[ok] - rate[ok]], fmt="o",
                color=color, capsize=2)
    xs = np.linspace(L.min(), L.max() + 2, 50)
    ax.plot(xs, fit.p_L(xs), ls, color=color,
            label=f"{label}; Λ={fit.Lambda:.2g} [{fit.Lambda_ci[0]:.2g}, {fit.Lambda_ci[1]:.2g}]")


if __name__ == "__main__":
    raise SystemExit(main())
