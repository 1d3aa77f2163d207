"""Task identity and seeded counts pinned against values measured on main before the
declared-parameters refactor (``tests/data/pins_main.json``).

* Strong ids: a task whose meaning did not change keeps its id, so result files written
  before the refactor resume into the same rows (and a CSV row's ``json_metadata`` fed
  back to ``make_task`` gives the same id again).
* Seeded counts: with the same seed, ``sim.collect`` draws the same shots and decodes
  them to the same counts, bit for bit (pure erasure, pure Pauli, linear optics, every
  Hebbian model).

These values were *not* re-measured from the code under test: they are the old code's
output, so a change of identity or of any drawn bit fails here.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

import sim

DATA = json.loads((Path(__file__).parents[1] / "data" / "pins_main.json").read_text())


def _id(case: dict) -> str:
    return f"{case['decoder']}-{case['strong_id'][:8]}"


@pytest.mark.parametrize("case", DATA["strong_ids"] + DATA["collect"], ids=_id)
def test_strong_id_unchanged(case):
    task, _ = sim.make_task(case["sampler"], case["params"])
    assert task.decoder == case["decoder"]
    assert task.json_metadata == case["json_metadata"]
    assert task.strong_id() == case["strong_id"]
    again, _ = sim.make_task(case["sampler"], dict(task.json_metadata))  # a CSV row
    assert again.strong_id() == case["strong_id"]


@pytest.mark.parametrize("case", DATA["collect"], ids=_id)
def test_seeded_counts_unchanged(case):
    st = sim.collect([(case["sampler"], case["params"])], max_shots=case["shots"],
                     seed=DATA["collect_seed"], workers=1, progress=False)[0]
    assert st.strong_id == case["strong_id"]
    assert (st.shots, st.errors) == (case["shots"], case["errors"])
    # (the engine's own bookkeeping counts, "sim:...", came later and are not physics)
    assert Counter({k: v for k, v in st.custom_counts.items()
                    if v and not k.startswith("sim:")}) == Counter(case["custom_counts"])


@pytest.mark.parametrize("case", DATA["simulate"], ids=lambda c: f"{c['network']}-{c['decoder']}")
def test_simulate_counts_unchanged(case):
    import fbqc

    r = fbqc.simulate(case["network"], fbqc.HardwareAgnostic(case["p_erasure"], case["p_pauli"]),
                      L=case["L"], decoder=case["decoder"], shots=case["shots"],
                      seed=case["seed"])
    assert r.errors == case["errors"] and r.errors_counted == "primal-x"
    assert Counter({k: v for k, v in r.custom_counts.items() if v}) == Counter(
        case["custom_counts"])


@pytest.mark.parametrize("case", DATA["simulate_stim_optics"],
                         ids=lambda c: f"{c['basis']}-{c['decoder']}")
def test_stim_backend_optics_counts_unchanged(case):
    """A linear-optics model on the stim backend (a random basis frozen from the seed)
    draws and decodes as on main, where it counted primal-x failures."""
    import fbqc

    lo = fbqc.LinearOptics(case["loss_per_photon"], case["fusion_failure"],
                           basis=case["basis"])
    r = fbqc.simulate(case["network"], lo, L=case["L"], decoder=case["decoder"],
                      shots=case["shots"], seed=case["seed"], backend="stim",
                      errors="primal-x")
    assert r.errors == case["errors_primal_x"]
    assert Counter({k: v for k, v in r.custom_counts.items() if v}) == Counter(
        case["custom_counts"])
