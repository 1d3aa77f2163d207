# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # unlearn: certified deletion, audits, worst-case sets, continual forgetting
#
# Everything runs on numpy/SciPy with scikit-learn's bundled datasets.  With
# `CI_MODE=1` the sizes are tiny (the numbers are then only a smoke test); the full sizes
# reproduce the numbers of docs/results/unlearning.md.

# %%
# Run from the repository root, where `out/`, `scripts/` and the packages are: Jupyter
# starts the kernel in notebooks/, the command line usually in the root.
import os
from pathlib import Path

os.chdir(next(p for p in (Path.cwd(), *Path.cwd().parents) if (p / "pyproject.toml").is_file()))

# %%
import os

SMOKE = os.environ.get("CI_MODE") == "1"

import sys
from pathlib import Path

# Run as `python notebooks/unlearn.py`, this file's folder comes first on sys.path and
# would shadow the `unlearn` package; drop it.
_here = Path(globals().get("__file__", "notebooks/unlearn.py")).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _here]

import matplotlib.pyplot as plt
import numpy as np

import sim
from unlearn import experiments
from unlearn.metrics import paired_advantage_test

OUT = Path("out")
OUT.mkdir(exist_ok=True)
CHAINS, LEARN = (60, 400) if SMOKE else (400, 2000)
SEEDS = 1 if SMOKE else 3

# %% [markdown]
# ## 1. Deletion vs retrain: contraction with a shared noise stream
# Unlearned (learned on D, then K_U steps on D′) and retrained chains driven by the same
# noise contract at least as fast as the noiseless GD map: ‖θ_U − θ_R‖ ≤ (1−ηλ)^K·d₀.

# %%
Ks = [0, 50, 100, 200]
rows = [experiments.deletion_distance({"k": 20, "steps": K, "chains": 4 if SMOKE else 8,
                                       "learn_steps": LEARN}, 0) for K in Ks]
for K, r in zip(Ks, rows):
    print(f"K_U={K:4d}  ||θU-θR|| = {r['dist']:.4g}   (1-ηλ)^K d0 = {r['bound']:.4g}")

# %% [markdown]
# ## 2. Certified upper bound vs empirical lower estimates of the deletion ε
# The upper bound is Chien et al.'s code form (`bound="chien24-code"`; the Chourasia–Shah
# theorem is unchecked, so nothing is called certified).  The lower estimates come from
# `CHAINS` unlearned vs retrained chains on a near-worst-case (influential) forget set: a
# Gaussian Rényi fit of a 1-D projection, and a threshold attack with Clopper–Pearson
# limits (`eps_attack_lb`, a statistically valid lower bound).

# %%
steps = [0, 25, 50, 100] if SMOKE else [0, 25, 50, 100, 200, 400]
summary = sim.run_grid(
    experiments.deletion,
    {"k": [20], "chains": [CHAINS], "learn_steps": [LEARN], "steps": steps, "delta": [1e-3]},
    seeds=SEEDS, out=OUT / "unlearn_deletion.csv", progress=False)
fig, ax = plt.subplots(figsize=(6, 4))
for m in ["eps_rdp_upper", "eps_delta_upper", "renyi_fit", "eps_attack", "eps_attack_lb"]:
    pts = sorted((s["steps"], s["mean"]) for s in summary if s["metric"] == m)
    ax.plot(*zip(*pts), marker="o", label=m)
ax.set_yscale("symlog", linthresh=1e-2)
ax.set_xlabel("deletion steps K_U")
ax.set_ylabel("ε")
ax.legend(fontsize=8)
fig.savefig(OUT / "unlearn_eps_bounds.png")

# %% [markdown]
# ## 3. Cost: deletion steps vs a fresh chain's steps for the same target
# Ratio < 1: deletion wins.  It loses only when the deleted share k/n is large.

# %%
cost = sim.run_grid(experiments.deletion_cost,
                    {"k": [1, 20, 100, 400], "n_records": [569], "eps": [1.0],
                     "delta": [0.0, 1e-5]},
                    seeds=[0], out=OUT / "unlearn_cost.csv", progress=False)
for s in cost:
    if s["metric"] == "ratio":
        print(f"k={s['k']:4d} δ={s['delta']:g}: deletion/fresh = {s['mean']:.2f}")

# %% [markdown]
# ## 4. Audits on the digits MLP
# Loss-threshold MIA AUC (forget vs test) of the original and of an exact retrain, paired
# over seeds; the U-LiRA-style audit of both against a retrain ensemble.

# %%
n_audit = 3 if SMOKE else 10
aud = [experiments.audit({"ensemble": 3 if SMOKE else 5, "epochs": 10 if SMOKE else 20}, s)
       for s in range(n_audit)]
t = paired_advantage_test([a["mia_auc_orig"] for a in aud], [a["mia_auc_retrain"] for a in aud])
print(f"MIA AUC orig {np.mean([a['mia_auc_orig'] for a in aud]):.3f} vs retrain "
      f"{np.mean([a['mia_auc_retrain'] for a in aud]):.3f}; higher in {t['n_higher']}/{t['n']}"
      f" seeds, Wilcoxon p = {t['p_wilcoxon']:.3g}")
print("U-LiRA p (retrain):", np.round([a["ulira_p_retrain"] for a in aud], 2))

# %% [markdown]
# ## 5. Worst-case forget sets
# The gap between approximate unlearning (gradient ascent on the forget set, or
# fine-tuning on the retained data) and a retrain ensemble (mean TV on the forget set,
# minus the ensemble's own spread) for random, lowest-loss and bi-level sets.

# %%
wc = {(approx, sel): [experiments.worstcase({"selector": sel, "approx": approx,
                                              "ensemble": 2 if SMOKE else 3,
                                              "epochs": 10 if SMOKE else 20}, s)["excess"]
                       for s in range(1 if SMOKE else 5)]
      for approx in ("ga", "ft") for sel in ("random", "lowest", "bilevel")}
for (approx, sel), v in wc.items():
    print(f"{approx} {sel:8s} excess gap = {np.mean(v):.4f}")
fig, ax = plt.subplots(figsize=(5, 3))
ax.bar([f"{a}:{s}" for a, s in wc], [np.mean(v) for v in wc.values()])
ax.set_ylabel("excess TV gap")
ax.tick_params(axis="x", labelsize=7)
fig.savefig(OUT / "unlearn_worstcase.png")

# %% [markdown]
# ## 6. GS-LoRA continual forgetting ({0,1}, then {2,3}, ...)

# %%
gs = experiments.gslora({"n_tasks": 2 if SMOKE else 4, "steps": 100 if SMOKE else 200,
                         "epochs": 10 if SMOKE else 20}, 0)
for t in range(2 if SMOKE else 4):
    print(f"task {t}: forget acc {gs[f'forget_acc_{t}']:.3f}, retain acc "
          f"{gs[f'retain_acc_{t}']:.3f}, H-mean {gs[f'h_mean_{t}']:.3f}")

# %% [markdown]
# ## 7. Closed-form erasure vs the circumvention attack
# MiniLM keys of digit prompts → a ridge map 384→64 onto class-mean digit images; a softmax
# regression on digits is the detector.  UCE (`unlearn.closed_form.uce`) sends the
# "seven" prompts to "a handwritten digit" while preserving the other digits; a
# norm-budgeted inversion (`unlearn.attacks.invert_linear`, the linear analogue of Pham et
# al.'s concept inversion) finds an input the edited map still sends to the erased output.

# %%
from unlearn.attacks import invert_linear
from unlearn.closed_form import uce
from unlearn.data import load
from unlearn.embed import MiniLM
from unlearn.models import LogReg

WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
TRAIN_T = ["a handwritten digit {}", "the number {} written by hand", "a scanned image of a {}"]
HELD_T = ["a photo of the numeral {}", "someone wrote the digit {} on paper"]
enc = MiniLM.load()


def prompt_keys(templates):
    return enc.encode([t.format(w) for w in WORDS for t in templates]).astype(np.float64)


K_tr, K_ho = prompt_keys(TRAIN_T), prompt_keys(HELD_T)
lab_tr = np.repeat(np.arange(10), len(TRAIN_T))
lab_ho = np.repeat(np.arange(10), len(HELD_T))
Xd, yd = load("digits")
means = np.stack([Xd[yd == c].mean(0) for c in range(10)])
det = LogReg(lam=1e-3, n_classes=10)
th_det = det.fit(Xd, yd)
W = np.linalg.solve(K_tr.T @ K_tr + 1e-2 * np.eye(K_tr.shape[1]), K_tr.T @ means[lab_tr]).T


def detect(M, K):
    return det.predict(th_det[None], (M @ K.T).T)[0]


seven = lab_tr == 7
guide = enc.encode(["a handwritten digit"]).astype(np.float64)[0]
W_uce = uce(W, K_tr[seven], guide, K_tr[~seven], lam=0.1)
for name, M in [("original", W), ("UCE", W_uce)]:
    p = detect(M, K_ho)
    print(f"{name:8s}: held-out 'seven' detected as 7: {np.mean(p[lab_ho == 7] == 7):.2f}; "
          f"other digits correct: {np.mean(p[lab_ho != 7] == lab_ho[lab_ho != 7]):.2f}")
target = W @ K_ho[lab_ho == 7].mean(0)
for budget in (0.25, 0.5, 1.0):
    v = invert_linear(W_uce, target, norm_budget=budget)
    print(f"attack with ||v|| <= {budget}: the edited map's output is detected as "
          f"{detect(W_uce, v[None])[0]}")
