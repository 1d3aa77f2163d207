import pytest


@pytest.fixture(scope="session")
def tokenizer():
    from unlearn.llm.train import corpus_tokenizer

    return corpus_tokenizer()


@pytest.fixture()
def tiny(tokenizer):
    """A 1-layer, 32-wide GPT-2 on the corpus tokenizer, untrained (seeded)."""
    from unlearn.llm import corpus
    from unlearn.llm.model import LM
    from unlearn.llm.train import new_model

    net = new_model(tokenizer, seed=0, recipe={"n_layer": 1, "n_embd": 32, "n_head": 2})
    return LM(net, tokenizer, {"trained_on": [p.id for p in corpus.trained_people()],
                               "corpus_seed": 0, "corpus_n": 240, "holdout": 40,
                               "recipe": {"n_layer": 1, "n_embd": 32, "n_head": 2}})
