"""Machine unlearning: certified deletion, audits, worst-case forget sets, GS-LoRA.

Verbs of ``erasurelab unlearn`` (registered through the ``erasurelab.commands`` entry
point, built with the shared machinery of :mod:`sim.cli`): ``deletion``, ``audit``,
``worstcase``, ``gslora``.  Each runs its experiment function over seeds through
:func:`sim.run_grid`, writing tidy CSV to ``--out`` and a figure beside it
(``--figure``, default ``OUT.png``).  ``erase`` is handed, with the rest of the command
line, to ``unlearn.erase_cli:main``, and ``llm`` to ``unlearn.llm.cli:main``.

Examples
--------
>>> main(["deletion", "--deletions", "0", "--out", "never-written.csv"])  # bad input
2
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np

from sim.cli import ListAction, Parser, add_output_flags, domain_main

__all__ = ["main", "register"]

#: ``erasurelab unlearn ARGS`` as a function (``main(["audit", "--out", "a.csv"])``).
main = domain_main("unlearn")


def _seeds(text: str) -> list[int]:
    """``--seeds``: a count N (seeds 0..N-1) or distinct integer seeds ``a,b,c``."""
    from sim import parse_values
    from sim.validate import check_seeds

    vals = parse_values(text)
    if len(vals) == 1 and "," not in text:
        return check_seeds("--seeds", vals[0])
    return check_seeds("--seeds", vals)


def register(parser: argparse.ArgumentParser) -> None:
    """Add the verbs of ``erasurelab unlearn`` to ``parser``."""
    sub = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=Parser)

    def common(sp, seeds):
        sp.add_argument("--seeds", default=str(seeds),
                        help=f"a count N (seeds 0..N-1) or a list 'a,b,c' (default {seeds})")
        sp.add_argument("--figure", default=None, help="figure path (default OUT.png)")
        add_output_flags(sp, "tidy CSV (appended to; resumes)")
        sp.set_defaults(handler=_run)

    d = sub.add_parser("deletion", help="certified vs empirical deletion ε as steps grow")
    d.add_argument("--dataset", default="breast_cancer", choices=["breast_cancer"],
                   help="dataset (default breast_cancer)")
    d.add_argument("--deletions", type=int, default=20, help="records deleted k (default 20)")
    d.add_argument("--sigma", type=float, default=0.05,
                   help="Langevin noise scale σ (default 0.05)")
    d.add_argument("--lam", type=float, default=1e-2,
                   help="L2 regularisation λ (default 0.01)")
    d.add_argument("--chains", type=int, default=400,
                   help="Langevin chains for the empirical estimates (default 400)")
    d.add_argument("--learn-steps", type=int, default=2000,
                   help="learning steps before deletion (default 2000)")
    d.add_argument("--steps", action=ListAction, default=[0, 25, 50, 100, 200, 400],
                   help="deletion steps K_U: a list or START:STOP:COUNT "
                        "(default 0 25 50 100 200 400)")
    d.add_argument("--select", default="influential", choices=["influential", "random"],
                   help="which records are deleted (default influential)")
    d.add_argument("--delta", type=float, default=1e-3, help="δ of (ε, δ) (default 0.001)")
    common(d, 2)

    a = sub.add_parser("audit", help="MIA / U-LiRA / KS audits of original vs retrain")
    a.add_argument("--frac", type=float, default=0.1, help="forget fraction (default 0.1)")
    a.add_argument("--ensemble", type=int, default=5,
                   help="shadow/retrain models per audit (default 5)")
    a.add_argument("--epochs", type=int, default=20, help="training epochs (default 20)")
    common(a, 10)

    w = sub.add_parser("worstcase", help="worst-case forget sets vs random / lowest-loss")
    w.add_argument("--frac", type=float, default=0.1, help="forget fraction (default 0.1)")
    w.add_argument("--selectors", action=ListAction, default=["random", "lowest", "bilevel"],
                   help="forget-set selectors: random, lowest, bilevel (default all)")
    w.add_argument("--ensemble", type=int, default=3,
                   help="retrain models per estimate (default 3)")
    w.add_argument("--approx", default="ft", choices=["ft", "ga"],
                   help="approximate unlearning: fine-tune on retained data, or gradient ascent")
    common(w, 3)

    g = sub.add_parser("gslora", help="GS-LoRA continual forgetting on the digits MLP")
    g.add_argument("--tasks", type=int, default=4, help="forgetting tasks, 1-4 (default 4)")
    g.add_argument("--alpha", type=float, default=1e-4,
                   help="group-sparsity weight α (default 1e-4)")
    g.add_argument("--beta", type=float, default=1.0, help="forgetting-loss weight β "
                   "(default 1)")
    g.add_argument("--bnd", type=float, default=10.0, help="forgetting-loss bound "
                   "(default 10)")
    g.add_argument("--rank", type=int, default=8, help="LoRA rank (default 8)")
    g.add_argument("--steps", type=int, default=200, help="training steps per task "
                   "(default 200)")
    g.add_argument("--proximal", action="store_true",
                   help="proximal group-sparsity updates instead of the penalty")
    common(g, 2)

    e = sub.add_parser("erase", add_help=False,
                       help="closed-form concept erasure (see erasurelab unlearn erase -h)")
    e.set_defaults(handler=_erase, passthrough=True)
    ll = sub.add_parser("llm", add_help=False, help="right to be forgotten in a small LM: "
                        "train|forget|audit (see erasurelab unlearn llm -h)")
    ll.set_defaults(handler=_llm, passthrough=True)


def _erase(args: argparse.Namespace) -> int:
    # a missing extra (tokenizers, safetensors...) becomes one line naming it (sim.cli)
    from . import erase_cli

    return erase_cli.main(list(args.extra_args))


def _llm(args: argparse.Namespace) -> int:
    # the language-model RTBF toolbox (torch, imported lazily)
    from .llm import cli as llm_cli

    return llm_cli.main(list(args.extra_args))


def _validate(args):
    if args.verb == "deletion":
        if args.deletions < 1:
            raise ValueError(f"--deletions must be >= 1, got {args.deletions}")
        if args.sigma <= 0:
            raise ValueError(f"--sigma must be > 0, got {args.sigma}")
        if args.lam <= 0:
            raise ValueError(f"--lam must be > 0, got {args.lam}")
        if args.chains < 4:
            raise ValueError(f"--chains must be >= 4, got {args.chains}")
        if not 0 < args.delta < 1:
            raise ValueError(f"--delta must lie in (0, 1), got {args.delta}")
        if args.deletions >= 569:
            raise ValueError("--deletions must be smaller than the dataset (569)")
    if args.verb in ("audit", "worstcase") and not 0 < args.frac < 1:
        raise ValueError(f"--frac must lie in (0, 1), got {args.frac}")
    if args.verb == "audit" and args.ensemble < 3:
        raise ValueError(f"--ensemble must be >= 3, got {args.ensemble}")
    if args.verb == "worstcase":
        bad = set(args.selectors) - {"random", "lowest", "bilevel"}
        if bad:
            raise ValueError(f"--selectors: unknown selector(s) {sorted(bad)}")
    if args.verb == "gslora":
        if not 1 <= args.tasks <= 4:
            raise ValueError(f"--tasks must lie in [1, 4], got {args.tasks}")
        if args.alpha < 0 or args.beta < 0 or args.bnd < 0:
            raise ValueError("--alpha, --beta and --bnd must be >= 0")


def _figure(args):
    return Path(args.figure) if args.figure else Path(args.out).with_suffix(".png")


def _plot(summary, x, metrics, path, *, xlabel, ylabel, logy=True, title="", names=None,
          nonneg=False, caption=None):
    """Mean over seeds per metric with its Student-t band.  ``nonneg``: the quantity is
    ≥ 0, so the band is cut at 0 (a 2-seed t-interval otherwise reaches far below)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.6))
    for m in metrics:
        rows = sorted((s for s in summary if s["metric"] == m), key=lambda s: s[x])
        if not rows:
            continue
        xs = np.array([s[x] for s in rows], float)
        mu = np.array([s["mean"] for s in rows], float)
        lo = np.array([s["ci_low"] for s in rows], float)
        hi = np.array([s["ci_high"] for s in rows], float)
        lo = np.where(np.isfinite(lo), lo, mu)
        hi = np.where(np.isfinite(hi), hi, mu)
        if nonneg:
            lo = np.maximum(lo, 0.0)
        (line,) = ax.plot(xs, mu, marker="o", label=(names or {}).get(m, m))
        ax.fill_between(xs, lo, hi, alpha=0.15, color=line.get_color(), lw=0)
    if logy:
        ax.set_yscale("symlog", linthresh=1e-2)
        ax.set_ylim(bottom=0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    if caption:
        ax.annotate(caption, xy=(0.5, 0), xycoords=ax.xaxis.label, xytext=(0, -4),
                    textcoords="offset points", ha="center", va="top", fontsize=7,
                    color="0.25", wrap=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def _table(summary, keys, metrics):
    lines = []
    for s in summary:
        if s["metric"] in metrics:
            head = " ".join(f"{k}={s[k]}" for k in keys)
            lines.append(f"{head} {s['metric']}: {s['mean']:.4g} "
                         f"[{s['ci_low']:.4g}, {s['ci_high']:.4g}] (n={s['n']})")
    print("\n".join(lines))


def _grid(args: argparse.Namespace) -> tuple[Callable, dict]:
    """The experiment function of the verb and its one-point grid (``--steps``,
    ``--selectors``: several)."""
    from sim.validate import check_int

    from . import experiments as ex

    if args.verb == "deletion":
        steps = [check_int("--steps", v, low=0) for v in args.steps]
        return ex.deletion, {
            "dataset": [args.dataset], "k": [args.deletions], "sigma": [args.sigma],
            "lam": [args.lam], "chains": [args.chains], "learn_steps": [args.learn_steps],
            "select": [args.select], "delta": [args.delta], "steps": steps}
    if args.verb == "audit":
        return ex.audit, {"frac": [args.frac], "ensemble": [args.ensemble],
                          "epochs": [args.epochs]}
    if args.verb == "worstcase":
        return ex.worstcase, {"selector": list(args.selectors), "frac": [args.frac],
                              "ensemble": [args.ensemble], "approx": [args.approx]}
    return ex.gslora, {"n_tasks": [args.tasks], "alpha": [args.alpha], "beta": [args.beta],
                       "bnd": [args.bnd], "rank": [args.rank], "steps": [args.steps],
                       "proximal": [bool(args.proximal)]}


#: Experiment parameters whose flag is not ``--`` + the name with dashes.
_FLAGS = {"k": "--deletions", "n_tasks": "--tasks", "selector": "--selectors"}


def _as_flag(message: str) -> str:
    """``learn_steps must be …`` -> ``--learn-steps must be …``.

    >>> _as_flag("k must be an integer >= 1, got 0")
    '--deletions must be an integer >= 1, got 0'
    """
    m = re.match(r"[a-z_]+(?=[ =])", message)
    if not m:
        return message
    name = m.group(0)
    return _FLAGS.get(name, "--" + name.replace("_", "-")) + message[m.end():]


def _run(args: argparse.Namespace) -> Callable[[], int]:
    """Validate a deletion/audit/worstcase/gslora command completely (every parameter
    of every grid point, the seeds, both output paths) and return its job: a refusal
    leaves every file as it was."""
    from sim import product
    from sim.csvio import check_result_path
    from sim.validate import FIGURE_SUFFIXES, check_output_path

    from .experiments import check_params

    _validate(args)
    seeds = _seeds(args.seeds)
    fn, grid = _grid(args)
    for point in product(grid):
        try:
            check_params(fn, point)
        except (TypeError, ValueError) as exc:  # the message names the flag, not the key
            raise type(exc)(_as_flag(str(exc))) from None
    out = check_result_path("--out", args.out, "grid")
    fig = check_output_path("--figure" if args.figure else "--out (its figure)",
                            _figure(args), suffixes=FIGURE_SUFFIXES)
    if fig.resolve() == out.resolve():
        raise ValueError(f"--figure {fig}: the same file as --out")
    return lambda: _experiment(args, seeds, grid)


def _experiment(args: argparse.Namespace, seeds: list[int], grid: dict) -> int:
    import sim

    from . import experiments as ex

    progress = False if args.no_progress else None
    fig = _figure(args)
    if args.verb == "deletion":
        summary = sim.run_grid(ex.deletion, grid, seeds=seeds, out=args.out, progress=progress)
        mets = ["eps_rdp_upper", "eps_delta_upper", "renyi_fit", "eps_attack", "eps_attack_lb"]
        _table(summary, ["steps"], mets)
        names = {"eps_rdp_upper": "certified upper bound, Rényi (q = 2)",
                 "eps_delta_upper": f"certified upper bound, (ε, δ = {args.delta:g})",
                 "renyi_fit": "Rényi divergence of fitted Gaussians (estimate)",
                 "eps_attack": "best threshold attack (estimate)",
                 "eps_attack_lb": "attack, 95 % lower confidence limit"}
        _plot(summary, "steps", mets, fig, xlabel="deletion steps $K_U$ (noisy GD on the "
              "kept data)", ylabel="privacy loss ε (symlog axis)", names=names, nonneg=True,
              title=f"Certified deletion on {args.dataset}: ε after $K_U$ steps, upper "
                    f"bounds vs estimates\nk = {args.deletions} records deleted, "
                    f"σ = {args.sigma}, λ = {args.lam}, {args.chains} chains, "
                    f"{len(seeds)} seeds",
              caption="Lines: mean over seeds; bands: 95 % Student-t interval over seeds, "
                      "cut at 0 (ε ≥ 0). Upper bounds: Rényi accounting of noisy gradient "
                      "descent (bound: chien24-code).")
    elif args.verb == "audit":
        summary = sim.run_grid(ex.audit, grid, seeds=seeds, out=args.out, progress=progress)
        rows = [r for r in sim.read_grid(args.out) if r["seed"] in set(seeds)]
        by = {}
        for r in rows:
            by.setdefault(r["metric"], {})[r["seed"]] = r["value"]
        _table(summary, [], [s["metric"] for s in summary])
        if len(seeds) >= 2:
            from .metrics import paired_advantage_test

            t = paired_advantage_test([by["mia_auc_orig"][s] for s in seeds],
                                      [by["mia_auc_retrain"][s] for s in seeds])
            print(f"paired MIA AUC orig > retrain: {t['n_higher']}/{t['n']} seeds, "
                  f"Wilcoxon p = {t['p_wilcoxon']:.3g}, t-test p = {t['p_ttest']:.3g}")
        _bar(summary, ["mia_auc_orig", "mia_auc_retrain", "tpr1_orig", "tpr1_retrain",
                       "ulira_p_orig", "ulira_p_retrain"], fig, "digits MLP audit")
    elif args.verb == "worstcase":
        summary = sim.run_grid(ex.worstcase, grid, seeds=seeds, out=args.out, progress=progress)
        _table(summary, ["selector"], ["gap", "ref_spread", "excess", "gap_ratio", "forget_acc_ft",
                                       "forget_acc_retrain"])
        _bar([dict(s, metric=f"{s['metric']}:{s['selector']}") for s in summary
              if s["metric"] == "excess"], None, fig, "fine-tune vs retrain gap (excess TV)")
    else:
        summary = sim.run_grid(ex.gslora, grid, seeds=seeds, out=args.out, progress=progress)
        _table(summary, [], [s["metric"] for s in summary])
        _bar(summary, [f"{m}_{t}" for t in range(args.tasks)
                       for m in ("forget_acc", "retain_acc", "h_mean")], fig,
             "GS-LoRA per task")
    print(f"wrote {args.out} and {fig}")
    return 0


def _bar(summary, metrics, path, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [s for s in summary if metrics is None or s["metric"] in metrics]
    fig, ax = plt.subplots(figsize=(max(4, 0.6 * len(rows) + 2), 4))
    ax.bar(range(len(rows)), [s["mean"] for s in rows],
           yerr=[s["mean"] - s["ci_low"] if np.isfinite(s["ci_low"]) else 0.0 for s in rows],
           capsize=3)
    ax.set_xticks(range(len(rows)), [s["metric"] for s in rows], rotation=60, ha="right",
                  fontsize=7)
    ax.set_title(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
