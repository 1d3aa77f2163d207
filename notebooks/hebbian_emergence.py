# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # hebbian: a clique memory grown by a recurrent Hebbian network, and exact forgetting
#
# A recurrent network of `c` clusters of `l` units starts with no links.  Each message is
# shown for T = 60 steps; co-active units strengthen their link by ε = 0.141 and the
# bistable map σ(w) = ½(1 + tanh(tan(π(w − ½)))) consolidates it (Coyac et al. 2017;
# see docs/science/memories.md).  We watch the clique memory emerge, compare its retrieval with
# the ideal clique network, then delete stored messages exactly (counting synapses) and
# audit the deletion with a membership-inference attack.
#
# With `CI_MODE=1` the sizes are tiny (a smoke test); the full sizes are those of
# docs/results/memories.md, "A clique memory grown by a recurrent network, and exact
# forgetting" (`scripts/hebbian_emergence.py` runs them with more statistics).

# %%
# Run from the repository root, where `out/`, `scripts/` and the packages are: Jupyter
# starts the kernel in notebooks/, the command line usually in the root.
import os
from pathlib import Path

os.chdir(next(p for p in (Path.cwd(), *Path.cwd().parents) if (p / "pyproject.toml").is_file()))

# %%
import os

SMOKE = os.environ.get("CI_MODE") == "1"

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from hebbian import CliqueNetwork, CountingCliqueNetwork, RecurrentHebbian
from hebbian.audit import forgetting_audit
from hebbian.recurrent import emergence_curve, ideal_adjacency, load_curve

OUT = Path("out")
OUT.mkdir(exist_ok=True)
C = 8
L = 32 if SMOKE else 256

# %% [markdown]
# ## 1. Clean input: the learned graph is the clique graph
# c = 8, l = 32, M = 100, T = 60: after binarizing at w ≥ 0.8 the learned adjacency
# equals the OR of the messages' cliques, edge for edge.

# %%
rng = np.random.default_rng(0)
msgs = rng.integers(0, 32, size=(100, 8))
net = RecurrentHebbian(8, 32, seed=1).learn(msgs)
print("learned == ideal:", bool((net.adjacency() == ideal_adjacency(msgs, 8, 32)).all()))
print("weights:", np.unique(net.weights))

# %% [markdown]
# ## 2. Emergence over noisy presentations
# Each message is presented repeatedly.  Without completion and with half of each
# message erased, edges appear at the rate 1 − (1 − ¼)^r and none is spurious.  With
# erasures (p = 0.25), insertions in the silent clusters (0.1), spontaneous activity
# (0.01 per step and cluster) and the network free to complete erased units, it also
# learns spurious links (precision < 1) while reaching every edge of the ideal graph.

# %%
kw = dict(p_erase=0.25, p_insert=0.1, p_spont=0.01)
M_em = 60 if SMOKE else 400
rounds = 3 if SMOKE else 8
curves = {
    "p_erase=0.5, no completion": emergence_curve(
        8, 64, M_em, rounds=rounds, erased=4, queries=100 if SMOKE else 1000, seed=0,
        p_erase=0.5, completion=False),
    "noisy": emergence_curve(8, 64, M_em, rounds=rounds, erased=4,
                             queries=100 if SMOKE else 1000, seed=0, **kw),
}
fig, axes = plt.subplots(1, 3, figsize=(11, 3.2))
for label, rows in curves.items():
    x = [r["presentations"] for r in rows]
    axes[0].plot(x, [r["density"] for r in rows], "o-", label=label)
    axes[1].plot(x, [r["precision"] for r in rows], "o-", label=f"precision {label}")
    axes[1].plot(x, [r["recall"] for r in rows], "s--", label=f"recall {label}")
    axes[2].plot(x, [max(r["error_recurrent"], 1e-3) for r in rows], "o-", label=label)
axes[0].set_ylabel("density")
axes[1].set_ylabel("edge precision / recall")
axes[2].set_ylabel("retrieval error, 4 of 8 erased")
axes[2].set_yscale("log")
for ax in axes:
    ax.set_xlabel("presentations")
    ax.legend(fontsize=7)
fig.tight_layout()
fig.savefig(OUT / "hebbian_emergence.png", dpi=110)
print(curves["noisy"][-1])

# %% [markdown]
# ## 3. Noisy presentation without completion: edge recall 1 − (1 − (1 − p)²)^r
# With completion off only presented units fire, so an edge is learnt iff both ends are
# presented together in one of the r rounds.

# %%
p, r = 0.5, 10
msgs = np.random.default_rng(1).integers(0, 64, size=(40 if SMOKE else 200, 8))
m = RecurrentHebbian(8, 64, p_erase=p, completion=False, seed=2).learn(msgs, rounds=r)
print("edge recall", round(m.edge_metrics(msgs)["recall"], 4), "formula",
      round(1 - (1 - (1 - p) ** 2) ** r, 4), "precision", m.edge_metrics(msgs)["precision"])

# %% [markdown]
# ## 4. Retrieval error vs load: learned network vs clique network
# Recurrent recall (known units driven, stop after 3 identical states), with plasticity
# on during recall (as in the published runs) and off.  With clean input the learned
# graph *is* the clique graph, so the gap comes from plasticity during recall.

# %%
loads = [150, 250, 350] if SMOKE else [10000, 15000, 20000]
rows = load_curve(C, L, loads, erased=4, queries=200 if SMOKE else 2000, seed=0)
table = {}
for row in rows:
    table.setdefault(row["messages"], {})[row["variant"]] = row["errors"] / row["shots"]
fig, ax = plt.subplots(figsize=(4.5, 3.2))
for v in ("learned-plastic", "learned", "ideal"):
    ax.plot(loads, [max(table[M][v], 1e-4) for M in loads], "o-", label=v)
ax.set_yscale("log")
ax.set_xlabel("M")
ax.set_ylabel("retrieval error")
ax.legend()
fig.tight_layout()
fig.savefig(OUT / "hebbian_recurrent_load.png", dpi=110)
print(table)

# %% [markdown]
# ## 5. Exact forgetting and its audit
# A counting network deletes messages exactly: its binary view equals the network that
# never stored them.  The binary network cannot (it raises); deleting a message's edges
# by hand cuts edges other messages share and leaves a hole an observer can see.

# %%
gen = np.random.default_rng(3)
stored = gen.integers(0, 32, size=(300, 8))
cnt = CountingCliqueNetwork(8, 32).store(stored).forget(stored[:50])
never = CliqueNetwork(8, 32).store(stored[50:])
print("exact:", bool((cnt.adjacency() == never.adjacency()).all()))
try:
    CliqueNetwork(8, 32).store(stored).forget(stored[:50])
except TypeError as e:
    print("binary:", e)

audit = forgetting_audit(8, 64 if SMOKE else 256, 1200 if SMOKE else 10000,
                         250 if SMOKE else 1000, seed=0)
for k in ("exact", "naive"):
    v = audit[k]
    print(f"{k:5s}  AUC(recall) {v['auc_recall'][0]:.3f}  AUC(cue edges) "
          f"{v['auc_cue_edges'][0]:.3f}  kept error {v['kept_error']:.4f} "
          f"(never-stored net {v['kept_error_reference']:.4f})  lost edges {v['lost_edges']}")
