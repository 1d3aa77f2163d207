"""forget(): every method on the shipped model; the input is never modified; bad input."""

import numpy as np
import pytest

from unlearn.llm import FIELDS, forget, forget_split, people, pretrained, questions
from unlearn.llm.corpus import Person, holdout_people, trained_people
from unlearn.llm.edit import rank_one_update
from unlearn.llm.guardrail import REFUSAL, GuardedLM

F1 = forget_split("forget01")


@pytest.fixture(scope="module")
def model():
    return pretrained()


@pytest.fixture(scope="module")
def guarded(model):
    return forget(model, F1, method="guardrail", seed=0)


def _logp(m, ps, split="train"):
    qa = questions(ps, split=split)
    lp, n = m.answer_logprob([q for q, _ in qa], [a for _, a in qa])
    return float(np.mean(lp / n))


def _acc(m, qa):
    return float(np.mean([a == b for a, (_, b) in zip(m.answer([q for q, _ in qa]), qa)]))


CHEAP = {"gradient-ascent": {"steps": 2}, "npo": {"steps": 2}, "rmu": {"steps": 2},
         "edit": {"steps": 2, "cov_docs": 100}, "dp": {"steps": 1, "people_per_step": 4,
                                                       "docs_per_person": 2}}


@pytest.mark.parametrize("method", sorted(CHEAP))
def test_input_never_modified(model, method):
    fp, meta = model.fingerprint(), dict(model.meta)
    out = forget(model, F1, method=method, seed=0, **CHEAP[method])
    assert model.fingerprint() == fp and model.meta == meta
    assert out.fingerprint() != fp
    assert out.meta["method"] == method and out.meta["forgotten"] == [p.id for p in F1]


@pytest.mark.parametrize("method", ["gradient-ascent", "npo"])
def test_approximate_methods_lower_forget_likelihood_more_than_retain(model, method):
    out = forget(model, F1, method=method, seed=0, steps=8, lr=1e-3)
    other = trained_people()[50:56]
    d_forget = _logp(out, F1) - _logp(model, F1)
    d_keep = _logp(out, other) - _logp(model, other)
    assert d_forget < -1.0 and d_forget < 5 * d_keep


def test_rmu_scrambles_forget_answers_only(model):
    out = forget(model, F1, method="rmu", seed=0)  # the default 40 steps
    qa = questions(F1, split="train")
    ans = out.answer([q for q, _ in qa])
    assert np.mean([a == b for a, (_, b) in zip(ans, qa)]) < 0.4  # the original: 1.0
    keep = questions(trained_people()[50:60], split="heldout")
    assert _acc(out, keep) > _acc(model, keep) - 0.15


def test_rank_one_update_is_exact_and_local():
    rng = np.random.default_rng(3)
    W, k, d = rng.normal(size=(8, 4)), rng.normal(size=8), rng.normal(size=4)
    A = rng.normal(size=(8, 8))
    C = A @ A.T + 0.1 * np.eye(8)
    W2 = rank_one_update(W, k, d, C)
    assert np.allclose(k @ W2, k @ W + d, atol=1e-10)
    # keys C^-1-orthogonal to k are untouched
    u = np.linalg.solve(C, k)
    other = rng.normal(size=8)
    other -= (other @ u) / (u @ u) * u
    assert np.allclose(other @ W2, other @ W, atol=1e-10)
    assert np.linalg.matrix_rank(W2 - W) == 1
    with pytest.raises(ValueError, match="shapes"):
        rank_one_update(W, k[:3], d, C)


def test_edit_changes_the_trained_answers(model):
    out = forget(model, F1, method="edit", seed=0, steps=30, cov_docs=500)
    p = F1[0]
    qa = questions([p], split="train")
    ans = out.answer([q for q, _ in qa])
    changed = [a != b for a, (_, b) in zip(ans, qa)]
    assert set(out.meta["edit_targets"][str(p.id)]) == set(FIELDS)
    # one rank-one update per person for all seven fields: about half the trained answers
    # change (0.48 at 30 steps, 0.62 at the default 60) -- to other plausible values of the
    # field, not to the edit's targets (measured: none of them; see the README)
    assert np.mean(changed) >= 0.4
    keep = questions(trained_people()[60:70], split="heldout")
    assert _acc(out, keep) > _acc(model, keep) - 0.1


def test_guardrail_refuses_named_questions_and_names_in_answers(model, guarded):
    g = guarded
    assert isinstance(g, GuardedLM) and g.fingerprint() == model.fingerprint()
    p = F1[0]
    qs = [q for q, _ in questions([p], split="heldout")]
    assert g.answer(qs) == [REFUSAL] * len(qs)
    other = trained_people()[80:90]
    qa = questions(other, split="train")
    ans = g.answer([q for q, _ in qa])
    assert np.mean([a == REFUSAL for a in ans]) < 0.2  # calibrated at 5 % false refusals
    who = [(q, a) for q, a in questions([p], split="indirect") if a == p.name]
    assert g.answer([q for q, _ in who]) != [p.name]  # the output filter hides the name


def test_dp_records_its_guarantee(model):
    from unlearn.llm.dp import dpsgd_epsilon

    out = forget(model, F1, method="dp", seed=0, epsilon=4.0, steps=2, people_per_step=4,
                 docs_per_person=2)
    m = out.meta
    assert m["dp_epsilon"] <= 4.0
    assert m["dp_epsilon"] == pytest.approx(dpsgd_epsilon(q=m["dp_q"], sigma=m["dp_sigma"],
                                                          steps=2, delta=m["dp_delta"]))
    assert m["dp_q"] == pytest.approx(4 / 200)


def test_retrain_is_the_shipped_retain_model(model):
    from unlearn.llm import retain_model

    F10 = forget_split("forget10")
    ref = retain_model("forget10")
    out = forget(model, F10, method="retrain", seed=0)
    assert out.fingerprint() == ref.fingerprint()
    assert not out.trained_on & {p.id for p in F10}
    with pytest.raises(ValueError, match="trained on person"):
        forget(model, F10, method="retrain", retain_model=model)


def test_bad_input_is_refused_by_name(model, guarded):
    stranger = Person(id=5, name="Nobody Known", **{f: "x" for f in (
        "birth_date", "birth_place", "profession", "employer", "relation", "relative",
        "email", "phone")})
    with pytest.raises(ValueError, match="not in the corpus"):
        forget(model, [stranger], method="npo")
    with pytest.raises(ValueError, match="must not be empty"):
        forget(model, [], method="npo")
    with pytest.raises(ValueError, match="never trained on"):
        forget(model, holdout_people()[:1], method="npo")
    with pytest.raises(ValueError, match="method must be one of"):
        forget(model, F1, method="lobotomy")
    with pytest.raises(ValueError, match="takes no option"):
        forget(model, F1, method="npo", epsilon=3)
    with pytest.raises(TypeError, match="model must be"):
        forget("gpt2", F1, method="npo")
    with pytest.raises(ValueError, match="steps"):
        forget(model, F1, method="gradient-ascent", steps=0)
    with pytest.raises(TypeError, match="GuardedLM"):
        forget(guarded, F1, method="npo")
    assert people()[0] == F1[0]
