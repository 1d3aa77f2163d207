# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # FBQC thresholds: 6-ring and 4-star fusion networks
#
# Crossings and data collapse of the erasure threshold, a Pauli crossing, and the 6-ring
# erasure–Pauli region along rays from the origin.  `CI_MODE=1` (SMOKE) uses tiny sizes;
# the full numbers come from `scripts/fbqc_thresholds.py` (CSV under `out/fbqc/full/`,
# which this notebook plots when present).

# %%
# Run from the repository root, where `out/`, `scripts/` and the packages are: Jupyter
# starts the kernel in notebooks/, the command line usually in the root.
import os
from pathlib import Path

os.chdir(next(p for p in (Path.cwd(), *Path.cwd().parents) if (p / "pyproject.toml").is_file()))

# %%
import math
import os
from pathlib import Path

import matplotlib.pyplot as plt

import sim

SMOKE = os.environ.get("CI_MODE") == "1"
OUT = Path("out/fbqc_notebook")
OUT.mkdir(parents=True, exist_ok=True)
FULL = Path("out/fbqc/full")
WORKERS = 1 if SMOKE else 2

# %% [markdown]
# ## Erasure crossings (exact ML decoder: winding of the erased subgraph)

# %%
Ls = [4, 6, 8] if SMOKE else [8, 12, 16]
shots = 600 if SMOKE else 4000
ps = [0.10, 0.11, 0.12, 0.13, 0.14] if SMOKE else [0.114, 0.117, 0.12, 0.123, 0.126]
if not SMOKE and (FULL / "erasure_6ring.csv").exists():
    erasure = sim.read_stats(FULL / "erasure_6ring.csv")
else:
    tasks = [("fbqc", {"network": "6ring", "L": L, "p_erasure": p, "decoder": "erasure-ml"})
             for L in Ls for p in ps]
    erasure = sim.collect(tasks, max_shots=shots, seed=1, workers=WORKERS,
                          save_resume_filepath=OUT / "erasure_6ring.csv")
res = sim.threshold(erasure, x="p_erasure", size="L", bootstrap=50 if SMOKE else 200)
print(res.summary())  # warnings, if any, say why the fit is no threshold
print("threshold:", res.text(), "  FCC bond percolation: 0.1201635")
sim.plot(erasure, x="p_erasure", group="L", threshold=res, out=OUT / "erasure_6ring.png",
         title="6-ring network, erasure only, exact ML decoder")

# %% [markdown]
# ## Data collapse

# %%
sim.plot_collapse(res, out=OUT / "erasure_6ring_collapse.png")

# %% [markdown]
# ## Pauli crossing (MWPM)

# %%
Lp = [4, 6] if SMOKE else [8, 12, 16]
pp = [0.008, 0.011, 0.014] if SMOKE else [0.0095, 0.0101, 0.0107, 0.0113, 0.0119]
if not SMOKE and (FULL / "pauli_6ring_mwpm.csv").exists():
    pauli = sim.read_stats(FULL / "pauli_6ring_mwpm.csv")
else:
    tasks = [("fbqc", {"network": "6ring", "L": L, "p_pauli": p, "decoder": "mwpm"})
             for L in Lp for p in pp]
    pauli = sim.collect(tasks, max_shots=300 if SMOKE else 8000, seed=2, workers=WORKERS,
                        save_resume_filepath=OUT / "pauli_6ring_mwpm.csv")
sim.plot(pauli, x="p_pauli", group="L", out=OUT / "pauli_6ring.png",
         title="6-ring network, Pauli errors only, decoder mwpm")

# %% [markdown]
# ## Erasure–Pauli region (union-find), rays from the origin
#
# Along the ray at angle θ, `p_E = t cos θ · p_E*` and `p_P = t sin θ · p_P*`; the
# threshold `t*` of each ray is a point of the boundary of the correctable region.

# %%
pE_star, pP_star = 0.1201635, 0.0107
angles = [30, 60] if SMOKE else [10, 25, 45, 65, 80]
Lr = [4, 6] if SMOKE else [8, 12, 16]
pts = []
for ang in angles:
    th = math.radians(ang)
    t0 = 0.9 / (math.cos(th) + math.sin(th))  # a little inside the straight line
    ts = [t0 * f for f in ((0.7, 1.0, 1.3) if SMOKE else (0.75, 0.875, 1.0, 1.125, 1.25))]
    tasks = [("fbqc", {"network": "6ring", "L": L,
                       "p_erasure": round(t * math.cos(th) * pE_star, 6),
                       "p_pauli": round(t * math.sin(th) * pP_star, 6), "decoder": "uf"})
             for L in Lr for t in ts]
    st = sim.collect(tasks, max_shots=300 if SMOKE else 3000, seed=3, workers=WORKERS,
                     save_resume_filepath=OUT / f"region_uf_{ang}.csv")
    try:
        r = sim.threshold(st, x=lambda s, th=th: s.json_metadata["p_erasure"]
                          / (math.cos(th) * pE_star), size="L", bootstrap=30, max_rate=None)
    except ValueError as exc:  # too few points at tiny sizes
        print(f"θ={ang}°: no threshold in range ({exc})")
        continue
    print(f"θ={ang}°: t* = {r.text('.4g')}")
    if r.ok:  # a fit that is no threshold is not drawn
        pts.append((ang, r.value))
fig, ax = plt.subplots(figsize=(4.5, 4))
xs = [0.0] + [t * math.cos(math.radians(a)) for a, t in pts] + [1.0]
ys = [1.0] + [t * math.sin(math.radians(a)) for a, t in pts] + [0.0]
ax.plot(xs, ys, "o-", label="uf (this notebook)")
ax.plot([0, 1], [1, 0], "k:", lw=1, label="linear")
ax.set_xlabel("erasure probability / erasure threshold")
ax.set_ylabel("Pauli probability / Pauli threshold")
ax.set_title("6-ring correctable region (union-find), rays with a threshold")
ax.legend()
fig.savefig(OUT / "region.png", dpi=100, bbox_inches="tight")
print(pts)
