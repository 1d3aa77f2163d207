"""Training: a few steps lower the loss; runs are deterministic given the seed."""

import numpy as np
import pytest

from unlearn.llm import corpus
from unlearn.llm.train import fit, pack, train


def test_a_few_steps_lower_the_loss(tiny):
    texts = [t for _, t in corpus.documents(corpus.trained_people()[:10])]
    before = tiny.fingerprint()
    losses = fit(tiny, texts, steps=30, lr=3e-3, batch_size=8, seed=0)
    assert tiny.fingerprint() != before  # fit trains in place
    assert np.mean(losses[-5:]) < 0.7 * np.mean(losses[:5])


def test_train_is_deterministic_and_records_provenance(tokenizer):
    ps = corpus.trained_people()[:6]
    small = {"n_layer": 1, "n_embd": 16, "n_head": 2, "epochs": 1, "batch_size": 4}
    a = train(ps, seed=3, recipe=small, tokenizer=tokenizer)
    b = train(ps, seed=3, recipe=small, tokenizer=tokenizer)
    c = train(ps, seed=4, recipe=small, tokenizer=tokenizer)
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()
    assert a.meta["trained_on"] == [p.id for p in ps]
    assert a.meta["recipe"]["n_embd"] == 16 and a.meta["seed"] == 3
    with pytest.raises(ValueError, match="unknown keys"):
        train(ps, recipe={"depth": 3})
    with pytest.raises(ValueError, match="must not be empty"):
        train([])


def test_pack_keeps_every_token():
    import random

    docs = [[1, 2, 3], [4], [5, 6]]
    blocks = pack(docs, eos=0, block=4, rng=random.Random(0))
    assert blocks.shape == (3, 4)  # 6 tokens + 3 separators, padded to 12
    flat = blocks.ravel().tolist()
    assert sorted(t for t in flat if t) == [1, 2, 3, 4, 5, 6]
    assert flat.count(0) == 6
    assert flat[flat.index(4) + 1] == 0  # every document ends with a separator
