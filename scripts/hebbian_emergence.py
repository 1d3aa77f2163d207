"""Reproduce the recurrent Hebbian network results and the forgetting audit.

Writes under ``--out`` (default ``out/hebbian_emergence``):

* ``load_curve.csv`` — sinter CSV rows (shots, errors, json_metadata) of the retrieval
  error vs load for the learned network (plastic recall off / on) and the ideal clique
  network, recurrent recall, c = 8, l = 256, 4 erased;
* ``emergence.json`` / ``emergence.png`` — density, edge precision/recall and error over
  repeated noisy presentations;
* ``noisy_recall.json`` — edge recall after r noisy presentations vs 1-(1-(1-p)^2)^r;
* ``audit.json`` — exact vs naive forgetting, membership-inference AUCs;
* ``summary.md`` — the tables quoted in the README (section "Hebbian: a clique memory
  grown by a recurrent network, and exact forgetting").

``--quick`` shrinks everything (well under a minute once the JIT cache is warm); the full
run takes about 8-10 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path

import numpy as np
import sinter

from hebbian.audit import forgetting_audit
from hebbian.forgetting import CountingCliqueNetwork
from hebbian.recurrent import RecurrentHebbian, emergence_curve, load_curve

SPEC = {10000: (0.0018, 0.0018), 15000: (0.039, 0.025), 20000: (0.26, 0.18),
        25000: (0.70, 0.60)}


def _ci(errors: int, shots: int) -> tuple[float, float, float]:
    fit = sinter.fit_binomial(num_shots=shots, num_hits=errors, max_likelihood_factor=1000)
    return errors / shots, fit.low, fit.high


def run_load(args, out: Path, lines: list[str]) -> None:
    rows = load_curve(8, args.neurons, args.loads, erased=4, queries=args.queries,
                      networks=args.networks, seed=args.seed)
    agg: dict[tuple[int, str], list[int]] = {}
    secs: dict[int, list[float]] = {}
    exact = True
    for r in rows:
        a = agg.setdefault((r["messages"], r["variant"]), [0, 0])
        a[0] += r["errors"]
        a[1] += r["shots"]
        secs.setdefault(r["messages"], []).append(r["learn_seconds"])
        exact &= r["exact"]
    with open(out / "load_curve.csv", "w") as fh:
        print(sinter.CSV_HEADER, file=fh)
        for (M, variant), (e, n) in sorted(agg.items()):
            meta = {"model": "recurrent", "clusters": 8, "neurons": args.neurons,
                    "messages": M, "erased": 4, "variant": variant}
            sid = hashlib.sha256(json.dumps(meta, sort_keys=True).encode()).hexdigest()
            st = sinter.TaskStats(strong_id=sid, decoder=variant, json_metadata=meta,
                                  shots=n, errors=e)
            print(st.to_csv_line(), file=fh)
    lines += ["## Retrieval error vs load (recurrent recall, c=8, "
              f"l={args.neurons}, 4 erased, {args.networks}x{args.queries} queries)", "",
              f"learned graph == ideal clique graph for every network: {exact}", "",
              "| M | learned, plastic recall | learned, no plasticity | ideal clique | "
              "ratio plastic/ideal | reference Hebbian/clique | learn s (mean) |",
              "|---|---|---|---|---|---|---|"]
    for M in args.loads:
        cells = []
        for v in ("learned-plastic", "learned", "ideal"):
            e, n = agg[(M, v)]
            p, lo, hi = _ci(e, n)
            cells.append(f"{p:.4f} [{lo:.4f}, {hi:.4f}]")
        ratio = agg[(M, "learned-plastic")][0] / max(agg[(M, "ideal")][0], 1)
        spec = SPEC.get(M, ("-", "-"))
        lines.append(f"| {M} | {' | '.join(cells)} | {ratio:.2f} | {spec[0]} / {spec[1]} | "
                     f"{np.mean(secs[M]):.1f} |")
    lines.append("")
    _plot_load(args, agg, out)


def _plot_load(args, agg, out: Path) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.2, 4.4))
    names = {"learned-plastic": "learned network, plastic recall",
             "learned": "learned network, no plasticity", "ideal": "ideal clique network"}
    any_zero = False
    for v, style in (("learned-plastic", "o-"), ("learned", "s--"), ("ideal", "^:")):
        xs, ps, los, his, zx, zy = [], [], [], [], [], []
        for M in args.loads:
            e, n = agg[(M, v)]
            p, lo, hi = _ci(e, n)
            if e == 0:  # no errors seen: draw the upper end of the band
                zx.append(M)
                zy.append(hi)
                continue
            xs.append(M)
            ps.append(p)
            los.append(p - lo)
            his.append(hi - p)
        line = ax.errorbar(xs, ps, yerr=[los, his], fmt=style, label=names[v], capsize=3)
        if zx:
            any_zero = True
            ax.plot(zx, zy, "v", mfc="none", color=line[0].get_color())
    spec = [M for M in args.loads if M in SPEC]
    if spec:
        ax.plot(spec, [SPEC[M][0] for M in spec], "kx", ms=8,
                label="reference value: Hebbian-learned")
        ax.plot(spec, [SPEC[M][1] for M in spec], "k+", ms=9, label="reference value: clique")
    ax.set_yscale("log")
    ax.set_xlabel("stored messages M")
    ax.set_ylabel("retrieval error rate (per query)")
    ax.set_title(f"Recurrent recall vs load: c = 8 clusters, l = {args.neurons} neurons, "
                 f"4 erased\n{args.networks} network(s) × {args.queries:,} queries per point",
                 fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    cap = "Bars: rates within ×1000 of the best likelihood (sinter, ≈ ±3.7σ)."
    if any_zero:
        cap += " ▽: no errors seen (upper end of that band)."
    ax.annotate(cap, xy=(0.5, 0), xycoords=ax.xaxis.label, xytext=(0, -4),
                textcoords="offset points", ha="center", va="top", fontsize=7, color="0.25")
    fig.savefig(out / "load_curve.png", dpi=120, bbox_inches="tight")
    if args.figures:
        fig.savefig(Path(args.figures) / "hebbian_load_curve.png", dpi=100, bbox_inches="tight")
    plt.close(fig)


def run_noisy(args, out: Path, lines: list[str]) -> None:
    p, C, L, M = 0.5, 8, 64, args.noisy_messages
    rng = np.random.default_rng(args.seed)
    msgs = rng.integers(0, L, size=(M, C))
    res = {}
    lines += ["## Noisy presentation (p_erase = 0.5, c = 8, l = 64, "
              f"M = {M}): edge precision / recall", "",
              "| r | formula | recall, no completion | precision | recall, completion | "
              "precision |", "|---|---|---|---|---|---|"]
    for r in (1, 3, 10):
        row = {"formula": 1 - (1 - (1 - p) ** 2) ** r}
        for comp in (False, True):
            net = RecurrentHebbian(C, L, p_erase=p, completion=comp, seed=args.seed + r)
            m = net.learn(msgs, rounds=r).edge_metrics(msgs)
            row[f"completion={comp}"] = m
        res[r] = row
        a, b = row["completion=False"], row["completion=True"]
        lines.append(f"| {r} | {row['formula']:.4f} | {a['recall']:.4f} | {a['precision']:.3f} "
                     f"| {b['recall']:.4f} | {b['precision']:.3f} |")
    lines.append("")
    (out / "noisy_recall.json").write_text(json.dumps(res, indent=1))


def _plot_emergence(args, curves: dict, out: Path) -> None:
    """Three panels (density, edge precision/recall, retrieval error), one colour per
    input, line style per quantity; zero errors drawn as upper bounds."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    fig, axes = plt.subplots(1, 3, figsize=(13.5, 4.3))
    q = args.emergence_queries
    upper = sinter.fit_binomial(num_shots=q, num_hits=0, max_likelihood_factor=1000).high
    zero_seen = False
    for i, rows in enumerate(curves.values()):
        c = f"C{i}"
        x = [r["presentations"] for r in rows]
        axes[0].plot(x, [r["density"] for r in rows], "o-", color=c)
        axes[0].plot(x, [r["ideal_density"] for r in rows], ":", color=c, lw=1.5)
        axes[1].plot(x, [r["precision"] for r in rows], "o-", color=c)
        axes[1].plot(x, [r["recall"] for r in rows], "s--", color=c)
        for key, style in (("error_recurrent", "o-"), ("error_som", "s--")):
            pts = [(xx, r[key]) for xx, r in zip(x, rows)]
            seen = [p for p in pts if p[1] > 0]
            axes[2].plot([p[0] for p in seen], [p[1] for p in seen], style, color=c)
            zeros = [p[0] for p in pts if p[1] == 0]
            if zeros:
                zero_seen = True
                axes[2].plot(zeros, [upper] * len(zeros), "v", mfc="none", color=c)
    titles = ("(a) density of the stored graph", "(b) edges: precision and recall",
              "(c) retrieval error, 4 of 8 clusters erased")
    ylabels = ("fraction of possible edges present", "fraction", "error rate (per query)")
    styles = ((("o-", "learned network"), (":", "ideal clique network")),
              (("o-", "precision"), ("s--", "recall")),
              (("o-", "recurrent recall"), ("s--", "SoM recall, binarized learned graph")))
    for ax, title, ylabel, keys in zip(axes, titles, ylabels, styles):
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("presentations of each message")
        ax.set_ylabel(ylabel)
        ax.grid(True, alpha=0.3)
        ax.legend([Line2D([], [], color="0.3", linestyle=ls.lstrip("os"),
                          marker=ls[0] if ls[0] in "os" else "") for ls, _ in keys],
                  [name for _, name in keys], fontsize=8, loc="best")
    axes[2].set_yscale("log")
    words = {"p_erase=0.5, no completion": "each neuron erased with probability 0.5, "
                                           "no completion",
             "p_erase=0.25, p_insert=0.1, p_spont=0.01": "erasure 0.25, insertion 0.1, "
                                                         "spontaneous firing 0.01"}
    fig.legend([Line2D([], [], color=f"C{i}", lw=3) for i in range(len(curves))],
               [f"presentations: {words.get(k, k)}" for k in curves], loc="lower center",
               ncol=len(curves),
               fontsize=9, bbox_to_anchor=(0.5, -0.06), frameon=False)
    note = (f"c = 8 clusters, l = 64 neurons, M = {args.emergence_messages} messages, "
            f"{args.rounds} rounds, {q:,} queries per point")
    if zero_seen:
        note += f"; ▽: no errors in {q:,} queries (upper bound {upper:.2g})"
    fig.suptitle("A clique memory emerging in a recurrent Hebbian network from noisy "
                 f"presentations\n{note}", fontsize=10)
    fig.tight_layout()
    fig.savefig(out / "emergence.png", dpi=120, bbox_inches="tight")
    if args.figures:
        fig.savefig(Path(args.figures) / "hebbian_emergence.png", dpi=90, bbox_inches="tight")
    plt.close(fig)


def run_emergence(args, out: Path, lines: list[str]) -> None:
    curves = {}
    for label, kw in (("p_erase=0.5, no completion", {"p_erase": 0.5, "completion": False}),
                      ("p_erase=0.25, p_insert=0.1, p_spont=0.01",
                       {"p_erase": 0.25, "p_insert": 0.1, "p_spont": 0.01})):
        curves[label] = emergence_curve(8, 64, args.emergence_messages, rounds=args.rounds,
                                        erased=4, queries=args.emergence_queries,
                                        seed=args.seed, **kw)
    (out / "emergence.json").write_text(json.dumps(curves, indent=1))
    _plot_emergence(args, curves, out)
    last = {k: v[-1] for k, v in curves.items()}
    lines += ["## Emergence (c = 8, l = 64, "
              f"M = {args.emergence_messages}, {args.rounds} rounds), last round", "",
              "| input | density | ideal | precision | recall | error recurrent | error SoM |",
              "|---|---|---|---|---|---|---|"]
    for k, r in last.items():
        lines.append(f"| {k} | {r['density']:.4f} | {r['ideal_density']:.4f} | "
                     f"{r['precision']:.3f} | {r['recall']:.3f} | {r['error_recurrent']:.3f} "
                     f"| {r['error_som']:.3f} |")
    lines.append("")


def run_audit(args, out: Path, lines: list[str]) -> None:
    res = {}
    for seed in range(args.audit_seeds):
        res[seed] = forgetting_audit(8, args.audit_neurons, args.audit_stored,
                                     args.audit_forgotten, seed=seed)
    (out / "audit.json").write_text(json.dumps(res, indent=1))
    r = res[0]
    fmt = lambda t: f"{t[0]:.3f} [{t[1]:.3f}, {t[2]:.3f}]"  # noqa: E731
    lines += [f"## Forgetting audit (c = 8, l = {args.audit_neurons}, "
              f"M = {args.audit_stored}, forget {args.audit_forgotten}, "
              f"{args.audit_forgotten} never-stored controls, 4 known), seed 0", "",
              f"exact view identical to never-stored network (all {args.audit_seeds} seeds): "
              f"{all(v['identical'] for v in res.values())}", "",
              f"attack before forgetting (stored vs never-stored): recall-score AUC "
              f"{fmt(r['member_auc_recall'])}, cue-edge AUC {fmt(r['member_auc_cue_edges'])}",
              "", "| forgetting | AUC recall score | AUC cue-edge score | "
              "error of kept messages | same, never-stored net | kept edges lost |",
              "|---|---|---|---|---|---|"]
    for name in ("exact", "naive"):
        v = r[name]
        lines.append(f"| {name} | {fmt(v['auc_recall'])} | {fmt(v['auc_cue_edges'])} | "
                     f"{v['kept_error']:.4f} | {v['kept_error_reference']:.4f} | "
                     f"{v['lost_edges']} |")
    n = CountingCliqueNetwork(8, 256).memory_bytes()
    n16 = CountingCliqueNetwork(8, 256, dtype="uint16").memory_bytes()
    lines += ["", f"memory (c = 8, l = 256): bits {n['bits']} B, uint8 counts {n['counts']} B "
              f"({n['counts'] / n['bits']:.0f}x), uint16 counts {n16['counts']} B "
              f"({n16['counts'] / n16['bits']:.0f}x)", ""]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="out/hebbian_emergence")
    ap.add_argument("--quick", action="store_true", help="small sizes (well under a minute)")
    ap.add_argument("--only", default="load,noisy,emergence,audit")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--networks", type=int, default=4)
    ap.add_argument("--queries", type=int, default=2000)
    ap.add_argument("--figures", default=None, metavar="DIR",
                    help="also write small PNGs for the documentation (docs/figures)")
    a = ap.parse_args(argv)
    a.neurons = 256
    a.loads = [10000, 15000, 20000, 25000]
    a.noisy_messages, a.emergence_messages, a.rounds, a.emergence_queries = 200, 400, 8, 1000
    a.audit_neurons, a.audit_stored, a.audit_forgotten, a.audit_seeds = 256, 10000, 1000, 3
    if a.quick:
        a.neurons, a.loads, a.networks, a.queries = 64, [600, 900, 1200], 1, 500
        a.noisy_messages, a.emergence_messages, a.rounds, a.emergence_queries = 60, 150, 4, 200
        a.audit_neurons, a.audit_stored, a.audit_forgotten, a.audit_seeds = 64, 1200, 250, 1
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    lines: list[str] = []
    t0 = time.perf_counter()
    parts = a.only.split(",")
    for name, fn in (("load", run_load), ("noisy", run_noisy), ("emergence", run_emergence),
                     ("audit", run_audit)):
        if name in parts:
            t = time.perf_counter()
            fn(a, out, lines)
            print(f"[{name}: {time.perf_counter() - t:.0f} s]", flush=True)
    lines.append(f"total {time.perf_counter() - t0:.0f} s")
    text = "\n".join(lines)
    (out / "summary.md").write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
