"""audit(): the original model against the retain model, and retraining (the reference)."""

import pytest

from unlearn.llm import audit, forget, forget_split, pretrained, retain_model
from unlearn.llm.train import heldout_accuracy

F10 = forget_split("forget10")


@pytest.fixture(scope="module")
def models():
    return pretrained(), retain_model("forget10")


def test_shipped_model_memorises_trained_phrasings(models):
    import random

    from unlearn.llm.corpus import holdout_people, trained_people
    from unlearn.llm.weights import manifest

    m, _ = models
    sample = random.Random(0).sample(trained_people(), 50)
    assert heldout_accuracy(m, sample, split="train") >= 0.99
    assert heldout_accuracy(m, holdout_people()[:20]) < 0.15  # memorised, not inferred
    # Held-out phrasings (never trained on), all 200 trained people: the design asks >= 0.9,
    # and the manifest records exactly what the shipped float16 weights score.
    acc, ref = heldout_accuracy(m, trained_people()), manifest()["original"]["metrics"]["heldout"]
    assert acc >= 0.9
    assert abs(acc - ref) < 1e-4


def test_original_vs_retrain(models):
    m, ref = models
    few = F10[:4]  # any people the retain model never saw; four keep the test short
    a = audit(m, few, retain_model=ref, seed=0, n_utility=20, relearn=False)
    assert a["forget_quality"] < 1e-3
    assert a["extraction"] > 0.9 and a["extraction_retain"] < 0.3
    assert a["mia_auc"] > 0.9 and a["mia_auc"] > a["mia_auc_retain"]
    r = audit(forget(m, F10, method="retrain"), few, retain_model=ref, seed=0, n_utility=20,
              relearn=False)
    assert r["forget_quality"] == 1.0  # by construction
    assert r["extraction"] == r["extraction_retain"]
    assert r["utility"] >= a["utility"] - 0.15  # retraining keeps the others' facts


def test_audit_bad_input(models):
    m, ref = models
    with pytest.raises(ValueError, match="retain_model is required"):
        audit(m, F10, retain_model=None)
    with pytest.raises(ValueError, match="retain_model was trained on"):
        audit(m, F10, retain_model=m)
    with pytest.raises(ValueError, match="attacks"):
        audit(m, F10, retain_model=ref, attacks=["telepathy"])
    with pytest.raises(ValueError, match="must not be empty"):
        audit(m, [], retain_model=ref)
