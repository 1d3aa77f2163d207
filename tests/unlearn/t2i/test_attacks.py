"""Attacks: paraphrases, textual inversion, prompt search (mechanics at a small size; the
recovery numbers with CIs come from scripts/t2i_erase.py)."""

from __future__ import annotations

import numpy as np
import pytest


def test_placeholder_embedding_of_a_real_word_reproduces_that_prompt(model):
    import torch

    from unlearn.t2i.attacks import _placeholder_states

    enc = model.text_encoder
    v = enc.bert.embeddings.word_embeddings.weight[enc.token_id("seven")]
    with torch.no_grad():
        st, mk = _placeholder_states(model, ["a handwritten digit *"], v)
    ref, rmk = model.encode(["a handwritten digit seven"])
    assert torch.equal(mk, rmk)
    assert (st - ref).abs().max() < 1e-5


def test_paraphrase_attack_uses_unseen_phrasings(uce_seven):
    from unlearn.t2i import attack, data

    r = attack(uce_seven, "seven", method="paraphrase", n_images=6, steps=6)
    assert set(r.prompts) == set(data.prompts("seven", "heldout") + data.prompts("seven",
                                                                                 "implicit"))
    assert r.recovery == max(r.details["rates"].values())
    assert r.images.shape == (12, 16, 16)


def test_textual_inversion_learns_an_input_embedding_and_leaves_the_model_alone(uce_seven):
    import torch

    from unlearn.t2i import attack

    before = [p.detach().clone() for p in uce_seven.unet.parameters()]
    grads = [p.requires_grad for p in uce_seven.unet.parameters()]
    r = attack(uce_seven, "seven", method="textual-inversion", iterations=4, batch_size=8,
               n_real=16, n_images=4, steps=4)
    assert r.embedding.shape == (384,)
    assert r.images.shape == (4, 16, 16) and 0.0 <= r.recovery <= 1.0
    assert all(torch.equal(a, b) for a, b in zip(before, uce_seven.unet.parameters()))
    assert grads == [p.requires_grad for p in uce_seven.unet.parameters()]
    c = attack(uce_seven, "bold", method="textual-inversion", iterations=2, batch_size=4,
               n_real=8, n_images=4, steps=3, space="context")
    assert c.embedding.shape[1:] == (16, 384)


def test_prompt_search_keeps_the_best_prompt(uce_seven):
    from unlearn.t2i import attack

    r = attack(uce_seven, "seven", method="prompt-search", n_tokens=2, rounds=2, candidates=3,
               images_per_candidate=2, search_steps=2, n_real=4, n_images=4, steps=3)
    h = r.details["search_history"]
    assert len(h) == 3 and all(b >= a for a, b in zip(h, h[1:]))
    assert r.prompts[0].endswith("a handwritten digit seven")
    assert len(r.details["tokens"]) == 2


@pytest.mark.parametrize(("kw", "exc", "name"), [
    ({"method": "jailbreak"}, ValueError, "method"),
    ({"method": "paraphrase", "n_images": 0}, ValueError, "n_images"),
    ({"method": "textual-inversion", "space": "pixels"}, ValueError, "space"),
    ({"method": "textual-inversion", "learning_rate": 1}, TypeError, "learning_rate"),
    ({"method": "prompt-search", "n_tokens": 15}, ValueError, "n_tokens"),
    ({"method": "paraphrase", "seed": -2}, ValueError, "seed"),
])
def test_attack_bad_input(model, kw, exc, name):
    from unlearn.t2i import attack

    with pytest.raises(exc, match=name):
        attack(model, "seven", **kw)
    with pytest.raises(ValueError, match="target"):
        attack(model, " ", method="paraphrase")


def test_attack_results_summarise_to_json(uce_seven):
    import json

    from unlearn.t2i import attack

    r = attack(uce_seven, "seven", method="paraphrase", n_images=2, steps=2)
    s = json.loads(json.dumps(r.summary()))
    assert s["method"] == "paraphrase" and np.isfinite(s["recovery"])
