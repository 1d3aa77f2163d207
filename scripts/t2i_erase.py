"""Closed-form concept erasure on the digits model: the table and the figure.

For each target (default: the digit ``seven`` and the style ``bold``) and each eraser
(``none``, ``uce``, ``rece``, ``realera``), over seeds: erase, attack (paraphrases and
textual inversion by default) and evaluate with ``unlearn.t2i.evaluate``'s metrics, through
``sim.run_grid`` (tidy CSV ``OUT/t2i_erase.csv``; an interrupted run resumes).  Writes

- ``OUT/t2i_erase.md`` — method × erasure (training / held-out / implicit phrasings),
  specificity (other concepts, related concepts, both against the original), quality
  (Fréchet distance to real data), each attack's recovery, combined score, seconds and
  parameters changed; every cell is a mean with its 95 % CI over seeds;
- ``OUT/t2i_erase.png`` — per target, sample grids: the original model, each erased model,
  and each erased model after textual inversion (rows), on the target's held-out prompts
  and on two other concepts.

Usage::

    .venv/bin/python scripts/t2i_erase.py [--seeds 3] [--targets seven,bold]
        [--methods none,uce,rece,realera] [--attacks paraphrase,textual-inversion]
        [--ti-methods uce,rece] [--images-per-set 48] [--ti-iterations 200]
        [--ti-batch 32] [--ti-images 64] [--steps 25] [--guidance 1.5] [--out-dir out]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from sim import format_summary

COLUMNS = [
    ("erasure_train", "erasure (train)"), ("erasure_heldout", "erasure (held-out)"),
    ("erasure_implicit", "erasure (implicit)"), ("others", "others"),
    ("related", "related"), ("fd_real", "FD to real"),
    ("recovery_paraphrase", "paraphrase rec."),
    ("recovery_textual_inversion", "text. inv. rec."),
    ("recovery_prompt_search", "prompt search rec."), ("score", "score"),
    ("seconds", "seconds"), ("params_changed", "params changed"),
]


def table(summary, targets, methods) -> str:
    lines = []
    for t in targets:
        rows = {m: {s["metric"]: s for s in summary if s["target"] == t and s["method"] == m}
                for m in methods}
        cols = [(k, name) for k, name in COLUMNS if any(k in r for r in rows.values())]
        ref = rows.get("none") or next(iter(rows.values()))
        lines.append(f"\n**target: {t}** (reference: erasure held-out "
                     f"{format_summary(ref.get('erasure_heldout_ref'))}, others "
                     f"{format_summary(ref.get('others_ref'))}, related "
                     f"{format_summary(ref.get('related_ref'))}, FD "
                     f"{format_summary(ref.get('fd_real_ref'))})\n")
        lines.append("| method | " + " | ".join(name for _, name in cols) + " |")
        lines.append("|---" * (len(cols) + 1) + "|")
        lines += [f"| {m} | " + " | ".join(format_summary(rows[m].get(k)) for k, _ in cols) + " |"
                  for m in methods]
    return "\n".join(lines)


def figure(targets, methods, path, *, ti: dict, steps: int, guidance: float,
           ti_methods=()):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from unlearn.t2i import attack, data, erase, pretrained
    from unlearn.t2i.harness import ATTACK_IMAGES

    base = pretrained("digits")
    n = 6
    fig, axes = plt.subplots(len(targets), 1, figsize=(3 * n * 0.5 + 2.5,
                                                       len(targets) * (2 * len(methods)) * 0.55
                                                       + 0.6), squeeze=False)
    for ti, target in enumerate(targets):
        others = ["one", "bold"] if target != "bold" else ["seven", "slanted"]
        rows, labels = [], []
        for m in methods:
            model = erase(base, target, method=m)
            cols = []
            for c in [target, *others]:
                ps = data.prompts(c, "heldout")
                ps = [ps[i] for i in np.linspace(0, len(ps) - 1, n).astype(int)]
                cols.append(model.generate(ps, seed=0, steps=steps, guidance=guidance))
            rows.append(np.concatenate(cols, axis=0))
            labels.append("original" if m == "none" else m)
            if m in ti_methods:
                imgs = ATTACK_IMAGES.get((target, m, "textual-inversion", 0))
                if imgs is None:  # not run in this process (e.g. the table was resumed)
                    imgs = attack(model, target, method="textual-inversion", seed=0,
                                  **{**ti, "n_images": n}, steps=steps,
                                  guidance=guidance).images
                pad = np.full((2 * n, 16, 16), 0.5, np.float32)
                rows.append(np.concatenate([imgs[:n], pad]))
                labels.append(f"{m} + textual inversion")
        grid = np.stack(rows)  # (rows, 3n, 16, 16)
        R, C = grid.shape[:2]
        canvas = np.ones((R * 17, C * 17 + 4)) * 0.5
        for i in range(R):
            for j in range(C):
                x0 = j * 17 + (2 if j >= n else 0) + (2 if j >= 2 * n else 0)
                canvas[i * 17:i * 17 + 16, x0:x0 + 16] = grid[i, j]
        ax = axes[ti, 0]
        ax.imshow(canvas, cmap="gray", vmin=0, vmax=1)
        ax.set_yticks([i * 17 + 8 for i in range(R)], labels, fontsize=7)
        ax.set_xticks([n * 17 / 2, n * 17 * 1.5 + 2, n * 17 * 2.5 + 4],
                      [f"{target} (held-out)", *others], fontsize=7)
        ax.set_title(f"erasing '{target}' (guidance {guidance}, {steps} DDIM steps)",
                     fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--targets", default="seven,bold")
    p.add_argument("--methods", default="none,uce,rece,realera")
    p.add_argument("--attacks", default="paraphrase,textual-inversion")
    p.add_argument("--images-per-set", type=int, default=48)
    p.add_argument("--ti-methods", default=None,
                   help="erasers attacked by textual inversion (default: all but none)")
    p.add_argument("--ti-iterations", type=int, default=200)
    p.add_argument("--ti-batch", type=int, default=32, help="textual inversion batch size")
    p.add_argument("--ti-images", type=int, default=64,
                   help="images generated to measure textual inversion's recovery")
    p.add_argument("--steps", type=int, default=25)
    p.add_argument("--guidance", type=float, default=1.5)
    p.add_argument("--no-figure", action="store_true")
    p.add_argument("--out-dir", default="out")
    p.add_argument("--name", default="t2i_erase", help="stem of the table and figure files")
    args = p.parse_args(argv)

    import sim
    from unlearn.t2i import data
    from unlearn.t2i.harness import experiment

    targets = [data.concept(t) for t in args.targets.split(",")]
    methods = args.methods.split(",")
    attacks = [a for a in args.attacks.split(",") if a]
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ti_methods = [m for m in methods if m != "none"] if args.ti_methods is None \
        else args.ti_methods.split(",")
    ti = {"iterations": args.ti_iterations, "batch_size": args.ti_batch,
          "n_images": args.ti_images}

    def attacks_of(m):
        return [a for a in attacks if a != "textual-inversion" or m in ti_methods] \
            if m != "none" else ["paraphrase"]

    grid = [{"target": t, "method": m, "attacks": attacks_of(m),
             "attack_options": ({"textual-inversion": ti}
                                if "textual-inversion" in attacks_of(m) else {}),
             "images_per_set": args.images_per_set, "steps": args.steps,
             "guidance": args.guidance} for t in targets for m in methods]
    t0 = time.perf_counter()
    summary = sim.run_grid(experiment, grid, seeds=args.seeds, out=out / "t2i_erase.csv")
    md = table(summary, targets, methods)
    (out / f"{args.name}.md").write_text(md + "\n")
    print(md)
    print(f"\n{time.perf_counter() - t0:.0f} s; wrote {out / 't2i_erase.csv'} and "
          f"{out / (args.name + '.md')}")
    if not args.no_figure:
        figure(targets, methods, out / f"{args.name}.png", ti=ti, steps=args.steps,
               guidance=args.guidance,
               ti_methods=ti_methods if "textual-inversion" in attacks else [])
        print(f"wrote {out / (args.name + '.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
