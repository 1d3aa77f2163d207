"""The substrate: MiniLM in transformers, the fixed context, generation, persistence, training."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest


def test_import_unlearn_and_t2i_data_do_not_import_torch():
    code = ("import sys, unlearn, unlearn.t2i, unlearn.t2i.data as d; d.prompts('seven'); "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_bert_pooled_output_matches_the_numpy_encoder():
    from unlearn.embed import MiniLM
    from unlearn.t2i.text import TextEncoder

    prompts = ["a handwritten digit seven", "the number 7", "", "a bold handwritten eight",
               "the number of days in a week"]
    a = TextEncoder().pooled(prompts)
    b = MiniLM().encode(prompts)
    assert np.abs(a - b).max() < 1e-5


def test_context_is_fixed_length_with_mask_and_long_prompts_are_refused(model):
    states, mask = model.encode(["the number 7", ""])
    assert tuple(states.shape) == (2, 16, 384)
    assert mask.sum(1).tolist() == [5, 2]
    with pytest.raises(ValueError, match="prompts"):
        model.encode(["a very long prompt " * 6])
    with pytest.raises(ValueError, match="prompts"):
        model.generate(["seven " * 20])
    with pytest.raises(TypeError, match="prompts"):
        model.generate([7])


def test_generate_shape_range_and_determinism(model):
    ps = ["the number 7", "a handwritten digit two"]
    a = model.generate(ps, n_per_prompt=3, seed=5, steps=8)
    b = model.generate(ps, n_per_prompt=3, seed=5, steps=8)
    c = model.generate(ps, n_per_prompt=3, seed=6, steps=8)
    assert a.shape == (6, 16, 16) and a.dtype == np.float32
    assert a.min() >= 0.0 and a.max() <= 1.0
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    # batching does not change the images
    d = model.generate(ps, n_per_prompt=3, seed=5, steps=8, batch_size=2)
    np.testing.assert_allclose(a, d, atol=1e-5)


@pytest.mark.parametrize(("kw", "name"), [({"n_per_prompt": 0}, "n_per_prompt"),
                                         ({"steps": 0}, "steps"), ({"guidance": -1}, "guidance"),
                                         ({"seed": -1}, "seed")])
def test_generate_bad_input_names_the_argument(model, kw, name):
    with pytest.raises(ValueError, match=name):
        model.generate(["the number 7"], **kw)


def test_save_load_roundtrip_and_sha256_check(model, tmp_path):
    from unlearn.t2i import T2IModel

    path = tmp_path / "m.safetensors"
    digest = model.save(path)
    assert path.stat().st_size < 5e6  # the stock text encoder is not written
    back = T2IModel.load(path, sha256=digest)
    ps = ["the number 3"]
    assert np.array_equal(model.generate(ps, n_per_prompt=2, seed=1, steps=5),
                          back.generate(ps, n_per_prompt=2, seed=1, steps=5))
    with pytest.raises(ValueError, match="sha256"):
        T2IModel.load(path, sha256="0" * 64)
    with pytest.raises(ValueError, match="path"):
        model.save(tmp_path / "m.bin")


def test_a_tuned_text_encoder_is_saved_and_loaded(model, tmp_path):
    import torch

    from unlearn.t2i import T2IModel

    m = model.copy()
    with torch.no_grad():
        m.text_encoder.bert.encoder.layer[5].output.dense.bias.add_(0.5)
    path = tmp_path / "te.safetensors"
    m.save(path)
    back = T2IModel.load(path)
    a, _ = back.encode(["the number 7"])
    b, _ = m.encode(["the number 7"])
    c, _ = model.encode(["the number 7"])
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_copy_is_independent(model):
    import torch

    m = model.copy()
    with torch.no_grad():
        next(m.unet.parameters()).add_(1.0)
        m.text_encoder.bert.embeddings.word_embeddings.weight[0].add_(1.0)
    assert not torch.equal(next(m.unet.parameters()), next(model.unet.parameters()))
    assert not torch.equal(m.text_encoder.bert.embeddings.word_embeddings.weight,
                           model.text_encoder.bert.embeddings.word_embeddings.weight)


def test_pretrained_is_a_fresh_copy_with_its_recipe(model):
    from unlearn.t2i import pretrained

    m = pretrained("digits")
    assert m is not model
    rec = m.info["training"]
    assert rec["batch_size"] == 32 and rec["seed"] == 0 and rec["seconds"] > 0
    with pytest.raises(ValueError, match="name"):
        pretrained("faces")


def test_tampered_weights_are_refused(tmp_path, monkeypatch):
    from unlearn.t2i import model as mod

    src = mod._WEIGHTS / mod.PRETRAINED["digits"][0]
    bad = tmp_path / "digits.safetensors"
    data = bytearray(src.read_bytes())
    data[-1] ^= 1
    bad.write_bytes(bytes(data))
    monkeypatch.setattr(mod, "_WEIGHTS", tmp_path)
    mod._load_pretrained.cache_clear()
    try:
        with pytest.raises(ValueError, match="sha256"):
            mod.pretrained("digits")
    finally:
        monkeypatch.undo()
        mod._load_pretrained.cache_clear()


def test_training_a_few_steps_lowers_the_loss():
    from unlearn.t2i.model import T2IModel
    from unlearn.t2i.train import train

    m = T2IModel(seed=1)
    hist = train(m, steps=30, batch_size=16, seed=1, warmup=5, ema=0.0)
    loss = np.array(hist["loss"])
    assert loss[-5:].mean() < 0.5 * loss[:5].mean()
    with pytest.raises(ValueError, match="ema"):
        train(m, steps=1, ema=1.0)
    with pytest.raises(ValueError, match="steps"):
        train(m, steps=0)


def test_evaluator_reads_real_test_digits_and_styles():
    from unlearn.t2i import data
    from unlearn.t2i.evaluator import Evaluator

    ev = Evaluator.load()
    for s in data.STYLES:
        x, d, si = data.images("test", s)
        p = ev.predict(x)
        assert (p["digit"].argmax(1) == d).mean() >= 0.97
        assert (p["style"].argmax(1) == si).mean() >= 0.97
    assert ev.features(x[:3]).shape == (3, 64)
