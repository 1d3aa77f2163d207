"""The erasure benchmark: every eraser, the same targets, seeds, prompts and attacks.

:func:`run_bench` erases each target once per method (the erased model is saved under
``OUT/models/`` so a resumed run does not erase again), then for every generation seed runs
the harness (:func:`unlearn.t2i.harness.evaluate_seed`) with every attack — paraphrase, prompt
search, textual inversion and SDEdit editing — through ``sim.run_grid`` (tidy CSV
``OUT/t2i_bench.csv``; an interrupted run resumes where it stopped).  It then writes

- ``OUT/t2i_bench.md`` — per target, method × erasure (training / held-out / implicit
  prompts), specificity (others, related), quality (Fréchet distance to real data), each
  attack's recovery, combined score, seconds and parameters changed, every cell a mean with
  its 95 % CI over the seeds; then each paper's claim as a measured comparison
  (:func:`claims`);
- ``OUT/t2i_bench_<target>.png`` — sample grids: the original model, each erased model, and
  each erased model after its strongest prompt-level attack (prompt search or textual
  inversion);
- ``OUT/t2i_bench_cost.png`` — combined score against seconds, one point per method and target.

Sizes (:data:`SIZES`): ``quick`` (one digit, 2 seeds, short fine-tuning: under 15 minutes on
2 cores, what ``erasurelab unlearn t2i bench`` runs by default) and ``bench`` (two digits and
one style, 5 seeds).  Fine-tuning iterations are the methods' defaults scaled by the size.

Examples
--------
>>> from unlearn.t2i.bench import plan_grid
>>> g = plan_grid(["seven"], ["none", "esd-x"], size="quick")
>>> [(p["target"], p["method"], p["options"].get("iterations")) for p in g]
[('seven', 'none', None), ('seven', 'esd-x', 40)]
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import numpy as np

from sim.grid import format_summary

from . import data

__all__ = ["CLAIMS", "METHODS_ORDER", "SIZES", "claims", "experiment", "plan_grid",
           "run_bench", "table"]

#: Every eraser of the package, in table order.
METHODS_ORDER = ("none", "uce", "rece", "realera", "esd-x", "esd-u", "advunlearn", "receler",
                 "trce", "ace", "fewshot-te")
ATTACKS_ORDER = ("paraphrase", "prompt-search", "textual-inversion", "editing")

#: Benchmark sizes: targets, seeds, images per prompt set, DDIM steps, fine-tuning
#: iterations per method, attack options.
SIZES = {
    "quick": {
        "targets": ("seven",), "seeds": 2, "images_per_set": 2, "steps": 5,
        "iterations": {"esd-x": 40, "esd-u": 40, "advunlearn": 30, "receler": 30,
                       "trce": 30, "ace": 30, "fewshot-te": 20},
        "finetune": {"batch_size": 8, "pool_images": 16, "pool_steps": 10},
        "lr": {"esd-x": 2e-4, "esd-u": 2e-4, "trce": 2e-4, "ace": 2e-4, "receler": 3e-3},
        "attack_options": {
            "textual-inversion": {"iterations": 15, "lr": 0.02, "batch_size": 8,
                                  "n_images": 8},
            "prompt-search": {"rounds": 1, "candidates": 3, "images_per_candidate": 3,
                              "search_steps": 4, "n_images": 8},
            "editing": {"n_images": 8, "strength": 0.8},
        },
    },
    "bench": {
        "targets": ("seven", "two", "bold"), "seeds": 5, "images_per_set": 2, "steps": 5,
        "iterations": {"esd-x": 60, "esd-u": 60, "advunlearn": 40, "receler": 40,
                       "trce": 40, "ace": 60, "fewshot-te": 30},
        "finetune": {"batch_size": 8, "pool_images": 16, "pool_steps": 10},
        "lr": {"esd-x": 2e-4, "esd-u": 2e-4, "trce": 2e-4, "ace": 2e-4, "receler": 3e-3},
        "attack_options": {
            "textual-inversion": {"iterations": 15, "lr": 0.02, "batch_size": 8,
                                  "n_images": 8},
            "prompt-search": {"rounds": 1, "candidates": 3, "images_per_candidate": 3,
                              "search_steps": 4, "n_images": 8},
            "editing": {"n_images": 8, "strength": 0.8},
        },
    },
}

#: Options the bench adds for methods that take them (a lighter inner attack).
_EXTRA = {"advunlearn": {"attack_steps": 2}, "receler": {"attack_steps": 2, "pool_steps": 20}}

_MODELS: dict[str, object] = {}


def plan_grid(targets, methods, *, size: str = "bench", attacks=ATTACKS_ORDER,
              cache: str = "") -> list[dict]:
    """The ``sim.run_grid`` parameter list of a benchmark (one row per target × method)."""
    from .attacks import ATTACKS
    from .erasers import METHODS

    if size not in SIZES:
        raise ValueError(f"size must be one of {sorted(SIZES)}, got {size!r}")
    bad = [m for m in methods if m not in METHODS]
    if bad:
        raise ValueError(f"methods: unknown method {bad[0]!r}; known: {sorted(METHODS)}")
    bad = [a for a in attacks if a not in ATTACKS]
    if bad:
        raise ValueError(f"attacks: unknown attack {bad[0]!r}; known: {sorted(ATTACKS)}")
    cfg = SIZES[size]
    out = []
    for t in targets:
        t = data.concept(t)
        for m in methods:
            opts = {}
            if METHODS[m].kind == "fine-tuning":
                opts = {k: v for k, v in cfg["finetune"].items() if k in METHODS[m].options}
                opts["iterations"] = cfg["iterations"][m] if m in cfg["iterations"] else \
                    METHODS[m].options["iterations"]
                if m in cfg.get("lr", {}):
                    opts["lr"] = cfg["lr"][m]
                opts.update(_EXTRA.get(m, {}))
            out.append({"target": t, "method": m, "options": opts, "attacks": list(attacks),
                        "attack_options": {a: cfg["attack_options"][a] for a in attacks
                                           if a in cfg["attack_options"]},
                        "images_per_set": cfg["images_per_set"], "steps": cfg["steps"],
                        "cache": cache})
    return out


def _model_path(cache: str, target: str, method: str, options: dict) -> Path:
    h = hashlib.sha256(json.dumps([target, method, options], sort_keys=True).encode())
    return Path(cache) / "models" / f"{target}-{method}-{h.hexdigest()[:10]}.safetensors"


def erased_model(target: str, method: str, options: dict, cache: str = ""):
    """The shipped model with ``target`` erased by ``method`` (erased once per process, and
    once per ``cache`` folder when given)."""
    from .erasers import erase
    from .model import T2IModel, pretrained

    key = json.dumps([target, method, options, cache], sort_keys=True)
    if key in _MODELS:
        return _MODELS[key]
    path = _model_path(cache, target, method, options) if cache else None
    if path is not None and path.is_file():
        model = T2IModel.load(path)
    else:
        model = erase(pretrained("digits"), target, method=method, **options)
        if path is not None:
            model.save(path)
    _MODELS[key] = model
    return model


def experiment(params: dict, seed: int) -> dict[str, float]:
    """``fn(params, seed)`` for ``sim.run_grid``: the erased model (see :func:`erased_model`)
    evaluated with every attack for one generation seed.

    The prompt-level attacks (paraphrase, prompt search, textual inversion) go through the
    harness and into ``attack_recovery`` and the combined ``score``; the ``editing`` attack
    (SDEdit), which starts from a real image of the target rather than from a prompt, is
    reported apart as ``recovery_editing`` and left out of the score.  With a cache folder,
    the attack images are saved beside the models (for the figures).
    """
    from .attacks import attack
    from .harness import ATTACK_IMAGES, combined_score, evaluate_seed

    p = dict(params)
    target = data.concept(p["target"])
    model = erased_model(target, p["method"], dict(p.get("options") or {}), p.get("cache", ""))
    attacks = tuple(p.get("attacks", ("paraphrase",)))
    prompt_attacks = tuple(a for a in attacks if a != "editing")
    opts = dict(p.get("attack_options") or {})
    steps = int(p["steps"])
    out = evaluate_seed(model, target, seed=seed, images_per_set=int(p["images_per_set"]),
                        steps=steps, attacks=prompt_attacks, attack_options=opts)
    if "editing" in attacks:
        r = attack(model, target, method="editing", seed=seed,
                   **{"steps": steps, **opts.get("editing", {})})
        out["recovery_editing"] = r.recovery
        ATTACK_IMAGES[(target, "editing", seed)] = r.images
        out["score"] = combined_score(out)  # unchanged: editing is not in attack_recovery
    for a in attacks:
        imgs = ATTACK_IMAGES.pop((target, a, seed), None)
        if imgs is not None and p.get("cache") and seed == 0:
            f = Path(p["cache"]) / "images" / f"{target}-{p['method']}-{a}-s{seed}.npy"
            f.parent.mkdir(parents=True, exist_ok=True)
            np.save(f, imgs[:8])
    return out


# -- the table -----------------------------------------------------------------------------
COLUMNS = [
    ("erasure_train", "erasure train"), ("erasure_heldout", "erasure held-out"),
    ("erasure_implicit", "erasure implicit"), ("content_kept", "content kept"),
    ("others", "others"), ("related", "related"), ("fd_real", "FD real"),
    ("recovery_paraphrase", "rec. paraphrase"), ("recovery_prompt_search", "rec. prompt search"),
    ("recovery_textual_inversion", "rec. text. inversion"), ("recovery_editing", "rec. SDEdit"),
    ("score", "score"), ("seconds", "seconds"), ("params_changed", "params changed"),
]


def _index(summary) -> dict:
    out: dict = {}
    for s in summary:
        out.setdefault((s["target"], s["method"]), {})[s["metric"]] = s
    return out


def table(summary, targets, methods) -> str:
    """Markdown: one table per target, rows = methods, every cell mean [95 % CI]."""
    idx = _index(summary)
    lines = []
    for t in targets:
        rows = {m: idx.get((t, m), {}) for m in methods}
        cols = [(k, n) for k, n in COLUMNS if any(k in r for r in rows.values())]
        ref = next((r for r in rows.values() if r), {})
        lines.append(f"\n**target: {t}** — the original model: erasure held-out "
                     f"{format_summary(ref.get('erasure_heldout_ref'))}, implicit "
                     f"{format_summary(ref.get('erasure_implicit_ref'))}, others "
                     f"{format_summary(ref.get('others_ref'))}, related "
                     f"{format_summary(ref.get('related_ref'))}, FD real "
                     f"{format_summary(ref.get('fd_real_ref'))}\n")
        lines.append("| method | " + " | ".join(n for _, n in cols) + " |")
        lines.append("|---" * (len(cols) + 1) + "|")
        for m, r in rows.items():
            if r:
                cells = " | ".join(format_summary(r.get(k)) for k, _ in cols)
                lines.append(f"| {m} | {cells} |")
    return "\n".join(lines)


# -- the papers' claims, as measured comparisons -------------------------------------------
def _mean(idx, t, m, k):
    s = idx.get((t, m), {}).get(k)
    return None if s is None else s


def _fmt(s):
    return "n/a" if s is None else format_summary(s)


def _less(idx, targets, a, b, metric):
    """Per target: (a's value, b's value, holds?) for 'a has lower metric than b'."""
    out = []
    for t in targets:
        sa, sb = _mean(idx, t, a, metric), _mean(idx, t, b, metric)
        if sa is None or sb is None:
            continue
        out.append((t, sa, sb, sa["mean"] < sb["mean"],
                    sa["ci_high"] < sb["ci_low"]))
    return out


def _verdict(rows) -> str:
    if not rows:
        return "not measured"
    sig = sum(r[4] for r in rows)
    held = sum(r[3] for r in rows)
    if all(r[1]["mean"] == r[2]["mean"] for r in rows):
        return "no difference measured (equal means)"
    if sig == len(rows):
        return "holds (CIs separate on every target)"
    if held == len(rows):
        return "holds in the means on every target" + (
            f" (CIs separate on {sig})" if sig else " (CIs overlap)")
    if held == 0:
        return "does not hold on any target"
    return f"holds on {held} of {len(rows)} targets"


#: The claims checked: (paper, claim, [(method a, method b, metric, reading)]); each line says
#: "a's metric is lower than b's".
CLAIMS = [
    ("ESD", "ESD erases the named concept",
     [("esd-x", "none", "erasure_heldout", "ESD-x held-out erasure below the original"),
      ("esd-u", "none", "erasure_heldout", "ESD-u held-out erasure below the original")]),
    ("ESD", "ESD-x keeps other concepts better than ESD-u (others: higher is better)",
     [("esd-u", "esd-x", "others", "ESD-u's others accuracy below ESD-x's")]),
    ("ESD", "ESD-u erases the style better than ESD-x",
     [("esd-u", "esd-x", "erasure_heldout", "ESD-u's held-out erasure below ESD-x's (styles)")]),
    ("AdvUnlearn", "more robust to prompt search and textual inversion than ESD",
     [("advunlearn", "esd-x", "recovery_prompt_search", "prompt-search recovery below ESD-x"),
      ("advunlearn", "esd-x", "recovery_textual_inversion", "TI recovery below ESD-x")]),
    ("Receler", "more robust to prompt search and textual inversion than ESD",
     [("receler", "esd-x", "recovery_prompt_search", "prompt-search recovery below ESD-x"),
      ("receler", "esd-x", "recovery_textual_inversion", "TI recovery below ESD-x")]),
    ("TRCE", "erases implicit prompts better than UCE",
     [("trce", "uce", "erasure_implicit", "implicit-prompt erasure below UCE's")]),
    ("ACE", "resists SDEdit editing better than ESD and UCE",
     [("ace", "esd-x", "recovery_editing", "SDEdit recovery below ESD-x's"),
      ("ace", "uce", "recovery_editing", "SDEdit recovery below UCE's")]),
    ("Few-shot TE", "erases the target in seconds",
     [("fewshot-te", "none", "erasure_heldout", "held-out erasure below the original")]),
]


def claims(summary, targets) -> str:
    """Markdown list: each paper's claim with the measured values per target and a verdict
    (a claim "holds" when the means are ordered as claimed; the CIs say how firmly)."""
    idx = _index(summary)
    styles = [t for t in targets if data.is_style(t)]
    lines = []
    for paper, claim, checks in CLAIMS:
        lines.append(f"- **{paper}** — {claim}:")
        for a, b, metric, reading in checks:
            tg = styles if "styles" in reading else targets
            rows = _less(idx, tg, a, b, metric)
            vals = "; ".join(f"{t}: {_fmt(sa)} vs {_fmt(sb)}" for t, sa, sb, _, _ in rows)
            lines.append(f"  - {reading} — {_verdict(rows)} ({vals})")
    # few-shot costs, textual inversion per method
    for t in targets:
        r = idx.get((t, "fewshot-te"), {})
        if r:
            lines.append(f"- **Few-shot TE** on {t}: {_fmt(r.get('seconds'))} s, others "
                         f"{_fmt(r.get('others'))} (original {_fmt(r.get('others_ref'))}), "
                         f"related {_fmt(r.get('related'))}.")
    ti = []
    for t in targets:
        for m in METHODS_ORDER:
            r = idx.get((t, m), {})
            if m == "none" or "recovery_textual_inversion" not in r:
                continue
            rec = r["recovery_textual_inversion"]["mean"]
            held = r["erasure_heldout"]["mean"]
            ti.append((t, m, rec, held))
    if ti:
        fails = [f"{m} on {t} ({rec:.2f})" for t, m, rec, held in ti if rec <= 0.5]
        works = [f"{m} on {t} ({rec:.2f})" for t, m, rec, held in ti if rec > 0.5]
        lines.append(f"- **Circumvention (Pham et al.)** — textual inversion recovers more than "
                     f"half of the target on: {', '.join(works) or 'none'}; it fails (≤ 0.5) "
                     f"on: {', '.join(fails) or 'none'}.")
    return "\n".join(lines)


# -- figures -------------------------------------------------------------------------------
def _strongest(idx, t, m, attacks):
    r = idx.get((t, m), {})
    best, val = None, -1.0
    for a in attacks:
        s = r.get(f"recovery_{a.replace('-', '_')}")
        if s is not None and a not in ("paraphrase", "editing") and s["mean"] > val:
            best, val = a, s["mean"]
    return best, val


def figures(summary, targets, methods, out: Path, *, size: str, attacks, cache: str) -> list:
    """The per-target sample grids and the score-vs-seconds figure; returns the paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cfg = SIZES[size]
    idx = _index(summary)
    grid = {(p["target"], p["method"]): p for p in plan_grid(targets, methods, size=size,
                                                             attacks=attacks, cache=cache)}
    paths = []
    n = 6
    for t in targets:
        prompts = data.prompts(t, "heldout")
        prompts = (prompts * n)[:n]
        others = [o for o in data.related(t)][:1] + (["bold"] if not data.is_style(t) else [])
        rows, labels = [], []
        for m in methods:
            p = grid[(t, m)]
            model = erased_model(t, m, p["options"], cache)
            x = model.generate(prompts, seed=0, steps=cfg["steps"])
            xo = model.generate([data.prompts(o, "heldout")[0] for o in others for _ in
                                 range(3)], seed=0, steps=cfg["steps"])
            rows.append(np.concatenate([x, xo]))
            labels.append(m)
            a, val = _strongest(idx, t, m, attacks)
            f = Path(cache) / "images" / f"{t}-{m}-{a}-s0.npy" if a and cache else None
            if m != "none" and f is not None and f.is_file():
                ai = np.load(f)[:n]
                pad = np.full((n + len(xo) - len(ai), 16, 16), 0.5, np.float32)
                rows.append(np.concatenate([ai, pad]))
                labels.append(f"{m} + {a} ({val:.2f})")
        R, C = len(rows), len(rows[0])
        fig, ax = plt.subplots(figsize=(0.42 * C + 2.0, 0.42 * R + 0.6))
        canvas = np.full((R * 17, C * 17 + 3), 0.5)
        for i, r in enumerate(rows):
            for j, im in enumerate(r):
                x0 = j * 17 + (3 if j >= n else 0)
                canvas[i * 17:i * 17 + 16, x0:x0 + 16] = im
        ax.imshow(canvas, cmap="gray", vmin=0, vmax=1)
        ax.set_yticks([i * 17 + 8 for i in range(R)], labels, fontsize=6)
        ax.set_xticks([n * 17 / 2, n * 17 + 3 + len(xo) * 17 / 2],
                      [f"'{t}' held-out prompts", " / ".join(others)], fontsize=7)
        ax.set_title(f"erasing '{t}': samples (seed 0), and after the strongest attack",
                     fontsize=8)
        fig.tight_layout()
        path = out / f"t2i_bench_{t}.png"
        fig.savefig(path, dpi=130)
        plt.close(fig)
        paths.append(path)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    marks = {t: mk for t, mk in zip(targets, "os^vD")}
    for m in methods:
        if m == "none":
            continue
        for t in targets:
            r = idx.get((t, m), {})
            if "score" not in r:
                continue
            sec = max(r["seconds"]["mean"], 1e-3)
            s = r["score"]
            ax.errorbar([sec], [s["mean"]], yerr=[[s["mean"] - s["ci_low"]],
                                                  [s["ci_high"] - s["mean"]]],
                        fmt=marks[t], ms=5, capsize=2, color=f"C{methods.index(m) % 10}",
                        label=m if t == targets[0] else None)
    ax.set_xscale("log")
    ax.set_xlabel("erasure cost (seconds, this run)")
    ax.set_ylabel("combined score (95 % CI over seeds)")
    ax.set_title("score vs cost; markers: " + ", ".join(f"{marks[t]} {t}" for t in targets),
                 fontsize=8)
    ax.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    path = out / "t2i_bench_cost.png"
    fig.savefig(path, dpi=130)
    plt.close(fig)
    paths.append(path)
    return paths


def run_bench(out_dir, *, size: str = "quick", targets=None, methods=METHODS_ORDER,
              seeds=None, attacks=ATTACKS_ORDER, figure: bool = True,
              progress: bool | None = None, csv: str = "t2i_bench.csv",
              table_only: bool = False) -> dict:
    """Run the benchmark into ``out_dir`` (resumes); returns ``{"summary", "markdown",
    "paths", "seconds"}``.

    ``csv`` names the result file inside ``out_dir`` (several processes, one per target, can
    share ``out_dir`` with one file each; concatenated, they are one file again: the reader
    skips repeated headers).  ``table_only`` writes the
    table and figures from the runs already in the file, running nothing.
    """
    import sim

    if size not in SIZES:
        raise ValueError(f"size must be one of {sorted(SIZES)}, got {size!r}")
    cfg = SIZES[size]
    targets = [data.concept(t) for t in (cfg["targets"] if targets is None else targets)]
    if not targets:
        raise ValueError("targets must not be empty")
    methods = list(methods)
    if not methods:
        raise ValueError("methods must not be empty")
    seeds = cfg["seeds"] if seeds is None else seeds
    out = Path(out_dir)
    grid = plan_grid(targets, methods, size=size, attacks=list(attacks), cache=str(out))
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    if table_only:
        from sim.grid import read_grid, summarize_grid

        keys = {sim.canonical_json(p) for p in grid}
        rows = [r for r in read_grid(out / csv) if sim.canonical_json(r["params"]) in keys]
        summary = summarize_grid(rows)
    else:
        # seed-major: every method gets seed 0 before any gets seed 1, so a run stopped
        # early still has every row (with fewer seeds); each pass resumes the previous one
        seed_list = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
        for k in range(1, len(seed_list) + 1):
            summary = sim.run_grid(experiment, grid, seeds=seed_list[:k], out=out / csv,
                                   progress=progress)
    done = sorted({int(s["n"]) for s in summary if s["metric"] == "score"})
    md = (f"# unlearn.t2i erasure benchmark (size {size!r}, seeds asked {seeds}, seeds done "
          f"per cell {'/'.join(map(str, done)) or 0}, "
          f"{cfg['images_per_set']} images per prompt set, {cfg['steps']} DDIM steps)\n"
          + table(summary, targets, methods) + "\n\n## The papers' claims, as measured\n\n"
          + claims(summary, targets) + "\n")
    (out / "t2i_bench.md").write_text(md)
    paths = [out / csv, out / "t2i_bench.md"]
    if figure:
        paths += figures(summary, targets, methods, out, size=size, attacks=list(attacks),
                         cache=str(out.resolve()))
    return {"summary": summary, "markdown": md, "paths": [str(p) for p in paths],
            "seconds": time.perf_counter() - t0}
