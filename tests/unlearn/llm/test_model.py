"""LM: tokenizer round trip, greedy decoding and scores against plain references, files."""

import numpy as np
import pytest

from unlearn.llm import corpus
from unlearn.llm.model import LM, sha256_file


def test_tokenizer_round_trips_every_answer(tokenizer):
    for p in corpus.people()[:60]:
        for f in corpus.FIELDS:
            v = " " + getattr(p, f)
            assert tokenizer.decode(tokenizer.encode(v).ids) == v
    digits = tokenizer.encode(" 767-1875").tokens
    assert digits[1:4] == ["7", "6", "7"]  # digits are single tokens


def _naive_greedy(lm, prompt_ids, n):
    import torch

    ids = list(prompt_ids)
    out = []
    for _ in range(n):
        with torch.no_grad():
            logits = lm.model(input_ids=torch.tensor([ids])).logits[0, -1]
        t = int(logits.argmax())
        if t in lm._stop_ids():
            break
        out.append(t)
        ids.append(t)
    return lm.tokenizer.decode(out).split("\n")[0].strip()


def test_batched_cached_greedy_equals_naive_decoding(tiny):
    import torch

    torch.manual_seed(1)
    with torch.no_grad():  # a random model that does not stop at once
        tiny.model.lm_head.weight.mul_(3.0)
    qs = ["Where was Ada born?", "What is the phone number of Teifirem Bago?", "Hi"]
    got = tiny.answer(qs, max_new_tokens=6)
    want = [_naive_greedy(tiny, tiny._prompt_ids(q), 6) for q in qs]
    assert got == want
    assert any(got)


def test_answer_logprob_matches_full_softmax(tiny):
    import torch

    q, a = "Where was Ada born?", "Lovwick"
    lp, n = tiny.answer_logprob([q, q + " x"], [a, a + "s"])
    ids = tiny._prompt_ids(q) + tiny.encode(" " + a)
    with torch.no_grad():
        logp = torch.log_softmax(tiny.model(input_ids=torch.tensor([ids])).logits[0], -1)
    k = len(tiny._prompt_ids(q))
    ref = sum(float(logp[t - 1, ids[t]]) for t in range(k, len(ids)))
    assert lp[0] == pytest.approx(ref, abs=1e-4)
    assert n[0] == len(ids) - k
    with pytest.raises(ValueError, match="differ in length"):
        tiny.answer_logprob([q], [a, a])
    with pytest.raises(TypeError, match="single string"):
        tiny.answer(q)


def test_save_load_round_trip_and_sha_check(tiny, tmp_path):
    path = tmp_path / "m.safetensors"
    sha = tiny.save(path)
    assert sha == sha256_file(path)
    back = LM.load(path, sha256=sha)
    assert back.fingerprint() == tiny.fingerprint()
    assert back.meta == tiny.meta
    qs = ["Where was Ada born?"]
    assert back.answer(qs) == tiny.answer(qs)
    with pytest.raises(ValueError, match="does not match"):
        LM.load(path, sha256="0" * 64)
    half = tmp_path / "h.safetensors"
    tiny.save(half, dtype="float16")
    assert half.stat().st_size < 0.6 * path.stat().st_size
    w = LM.load(half).model.transformer.h[0].mlp.c_fc.weight
    assert np.allclose(w.detach().numpy(),
                       tiny.model.transformer.h[0].mlp.c_fc.weight.detach().numpy(), atol=1e-3)
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a model")
    with pytest.raises(ValueError, match="not a readable safetensors"):
        LM.load(bad)
    import torch
    from safetensors.torch import save_file

    other = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(2)}, str(other))
    with pytest.raises(ValueError, match="not an unlearn.llm model"):
        LM.load(other)
    with pytest.raises(FileNotFoundError):
        LM.load(tmp_path / "missing.safetensors")
    with pytest.raises(ValueError, match="safetensors"):
        tiny.save(tmp_path / "m.bin")


def test_copy_is_independent(tiny):
    import torch

    c = tiny.copy()
    with torch.no_grad():
        c.model.transformer.wte.weight.add_(1.0)
    assert c.fingerprint() != tiny.fingerprint()
    c.meta["x"] = 1
    assert "x" not in tiny.meta
