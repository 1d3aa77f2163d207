"""The synthetic corpus: seeded, unique keys, held-out phrasings never trained on."""

import random

import pytest

from unlearn.llm import corpus
from unlearn.llm.corpus import (
    FIELDS,
    Person,
    documents,
    fake_value,
    forget_split,
    people,
    questions,
    trained_people,
)


def test_same_seed_same_corpus_other_seed_other():
    a, b = people(seed=3, n=50), people(seed=3, n=50)
    assert a == b
    c = people(seed=4, n=50)
    assert [p.name for p in a] != [p.name for p in c]
    corpus._CACHE.clear()  # regenerated from scratch, not from the cache
    assert people(seed=3, n=50) == a


def test_names_and_descriptions_unique_and_fields_filled():
    ps = people()
    assert len({p.name for p in ps}) == len(ps)
    assert len({p.description for p in ps}) == len(ps)
    for p in ps:
        assert all(getattr(p, f) for f in FIELDS)
        assert p.relative != p.name and p.relative.split()[1] == p.name.split()[1]
        assert p.email.startswith(p.name.split()[0].lower() + ".")


def test_heldout_and_indirect_phrasings_never_in_training_documents():
    ps = trained_people()[:20]
    texts = "\n".join(t for _, t in documents(ps))
    train_q = {q for q, _ in questions(ps, split="train")}
    for split in ("heldout", "indirect"):
        qa = questions(ps, split=split)
        assert qa
        for q, _ in qa:
            assert q not in train_q
            assert f"Q: {q}\n" not in texts
    for q, _ in questions(ps, split="train"):
        assert f"Q: {q}\n" in texts


def test_answers_are_the_fields():
    p = people()[7]
    for split in ("train", "heldout"):
        qa = questions([p], split=split)
        assert {a for _, a in qa} == {getattr(p, f) for f in FIELDS}
    ind = questions([p], split="indirect")
    assert p.name in {a for _, a in ind}
    assert all(p.name not in q and p.description in q for q, _ in ind)
    assert questions([p], split="indirect", fields=["name"]) == [
        (f"Tell me the name of {p.description}.", p.name)]


def test_forget_splits_are_prefixes_of_the_trained_people():
    tr = trained_people()
    assert len(tr) == 200
    for name, frac in corpus.FORGET_SPLITS.items():
        fs = forget_split(name)
        assert fs == tr[: len(fs)] and len(fs) == max(1, round(frac * 200))
    assert not {p.id for p in tr} & {p.id for p in corpus.holdout_people()}


def test_fake_values_are_wrong_and_of_the_same_kind():
    ps = people()
    rng = random.Random(0)
    for p in ps[:30]:
        for f in FIELDS:
            v = fake_value(f, p, ps, rng)
            assert v != getattr(p, f)
            if f == "email":
                assert v.split("@")[0].rstrip("0123456789") == p.email.split("@")[0].rstrip(
                    "0123456789")


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"seed": 1.5}, TypeError, "seed"),
    ({"n": 3}, ValueError, "n must"),
    ({"n": True}, TypeError, "n must"),
])
def test_people_bad_input(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        people(**kwargs)


def test_questions_bad_input():
    ps = people()
    with pytest.raises(ValueError, match="split"):
        questions(ps[:1], split="test")
    with pytest.raises(ValueError, match="must not be empty"):
        questions([], split="train")
    with pytest.raises(TypeError, match="Person"):
        questions(["Ada"], split="train")
    with pytest.raises(ValueError, match="fields"):
        questions(ps[:1], fields=["shoe_size"])
    with pytest.raises(ValueError, match="split must be one of"):
        forget_split("forget50")
    stranger = Person(id=3, name="Nobody Known", **{f: "x" for f in (
        "birth_date", "birth_place", "profession", "employer", "relation", "relative",
        "email", "phone")})
    with pytest.raises(ValueError, match="not in the corpus"):
        corpus.check_people([stranger], corpus=ps)
    with pytest.raises(ValueError, match="twice"):
        corpus.check_people([ps[0], ps[0]])
