# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %%
# Run from the repository root, where `out/`, `scripts/` and the packages are: Jupyter
# starts the kernel in notebooks/, the command line usually in the root.
import os
from pathlib import Path

os.chdir(next(p for p in (Path.cwd(), *Path.cwd().parents) if (p / "pyproject.toml").is_file()))

# %%
import os

SMOKE = os.environ.get("CI_MODE") == "1"

# %% [markdown]
# # Hebbian memories under erasure: error vs load, noise, capacity
#
# Clique networks (Gripon–Berrou) with `c` clusters of `l` units store messages as
# cliques; half of each cue is erased and recall fills it in.  We compare the simulated
# error (sinter counts from `hebbian.sampler`) with two closed forms: the message-overlap
# theory (`overlap`, matches stored messages) and the independent-edge formula
# (`independent_edges`, Gripon–Berrou).  Sizes are tiny when `CI_MODE=1`.

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import sim
from hebbian import theory

OUT = Path("out/notebooks")
OUT.mkdir(parents=True, exist_ok=True)
C, L = (8, 64) if SMOKE else (8, 256)
SHOTS = 2_000 if SMOKE else 50_000
scale = (L / 256) ** 2
loads = [int(m * scale) for m in (3000, 5000, 7500, 10_000, 15_000, 20_000)]
base = {"model": "clique", "clusters": C, "neurons": L, "erased": 4,
        "queries_per_network": SHOTS}


def rate(s):
    return s.errors / s.shots


# %% [markdown]
# ## Error vs load for each rule, with both theories

# %%
tasks = [("hebbian", dict(base, messages=m)) for m in loads]
tasks += [("hebbian", dict(base, messages=m, rule="som", iterations=None)) for m in loads]
stats = sim.collect(tasks, max_shots=SHOTS, seed=1, workers=1, progress=False)
fig, ax = plt.subplots(figsize=(6, 4))
for rule, lab in (("sos", "SoS, 1 iteration"), ("som", "SoM, iterated")):
    rows = sorted((s.json_metadata["messages"], rate(s)) for s in stats
                  if s.json_metadata["rule"] == rule)
    ax.plot(*zip(*rows), "o", label=f"simulation: {lab}")
grid = np.linspace(loads[0], loads[-1], 100)
ax.plot(grid, [theory.error_rate(C, L, m, 4) for m in grid], "k-", label="overlap theory")
ax.plot(grid, [theory.error_rate(C, L, m, 4, method="independent_edges") for m in grid],
        "k--", label="independent edges")
ax.set(yscale="log", xlabel="stored messages M", ylabel="message error rate",
       title=f"clique c={C}, l={L}, 4 erased")
ax.legend(fontsize=8)
fig.savefig(OUT / "hebbian_error_vs_load.png")

# %% [markdown]
# ## Insertions vs erasures (iterated SoS+WTA and SoM)

# %%
tasks = []
for m in loads[2:]:
    for rule in ("sos", "som"):
        tasks.append(("hebbian", dict(base, messages=m, erased=0, inserted=4, rule=rule,
                                      iterations=None)))
        tasks.append(("hebbian", dict(base, messages=m, rule=rule, iterations=None)))
ins = sim.collect(tasks, max_shots=SHOTS, seed=2, workers=1, progress=False)
fig, ax = plt.subplots(figsize=(6, 4))
for rule in ("sos", "som"):
    for kind, key in (("4 insertions", {"inserted": 4}), ("4 erasures", {"erased": 4})):
        rows = sorted((s.json_metadata["messages"], rate(s)) for s in ins
                      if s.json_metadata["rule"] == rule
                      and all(s.json_metadata[k] == v for k, v in key.items()))
        ax.plot(*zip(*rows), "o-", label=f"{rule.upper()}, {kind}")
ax.set(yscale="log", xlabel="stored messages M", ylabel="message error rate")
ax.legend(fontsize=8)
fig.savefig(OUT / "hebbian_insertions.png")

# %% [markdown]
# ## Release noise (annealed) vs stuck-at faults (quenched), one iteration

# %%
m_noise = int(4000 * scale)
prels = [0.3, 0.5, 0.8] if not SMOKE else [0.5]
tasks = [("hebbian", dict(base, messages=m_noise, p_rel=p, n_syn=10, tie="random",
                          memory=100)) for p in prels]
fracs = [0.01, 0.05, 0.1]
tasks += [("hebbian", dict(base, messages=m_noise, stuck=f, stuck_at=v))
          for f in fracs for v in (0, 1)]
nz = sim.collect(tasks, max_shots=SHOTS, seed=3, workers=1, progress=False)
for s in nz:
    md = s.json_metadata
    th = (theory.release_error_rate(C, L, m_noise, 4, md["p_rel"], 10)
          if md["p_rel"] < 1 else float("nan"))
    print(f"p_rel={md['p_rel']} stuck={md['stuck']}@{md['stuck_at']}: "
          f"sim {rate(s):.4f}  theory {th:.4f}")
fig, ax = plt.subplots(figsize=(6, 4))
for v in (0, 1):
    rows = [(s.json_metadata["stuck"], rate(s)) for s in nz
            if s.json_metadata["stuck"] > 0 and s.json_metadata["stuck_at"] == v]
    ax.plot(*zip(*sorted(rows)), "o-", label=f"stuck at {v}")
ax.set(xlabel="fraction of synapses stuck", ylabel="error rate (1 iteration)",
       title=f"M={m_noise}")
ax.legend()
fig.savefig(OUT / "hebbian_faults.png")

# %% [markdown]
# ## Capacity and efficiency at P* = 1 % (theory), n = 2048 units, half erased
#
# η = bits·M*/Q with the whole message's information and each unordered synapse pair
# counted once (Hopfield weights at ceil(log2(2M+1)) bits).

# %%
models = {
    "clique c=8,l=256": ("clique", dict(clusters=8, neurons=256, erased=4)),
    "sparse χ=32,l=64,c=8": ("sparse", dict(clusters=32, neurons=64, active=8, erased=4)),
    "Willshaw n=2048,k=8": ("willshaw", dict(neurons=2048, active=8, erased=4)),
    "Hopfield N=2048": ("hopfield", dict(neurons=2048, erased=1024)),
}
caps = {k: theory.capacity(m, 0.01, **p) for k, (m, p) in models.items()}
for k, cap in caps.items():
    print(f"{k:22s} M*={cap.messages:6d}  eta={cap.efficiency:.3f}")
fig, ax = plt.subplots(figsize=(6, 4))
ax.bar(list(caps), [c.efficiency for c in caps.values()])
ax.set(ylabel="η(P*=1%)")
ax.tick_params(axis="x", labelrotation=20, labelsize=8)
fig.tight_layout()
fig.savefig(OUT / "hebbian_efficiency.png")
