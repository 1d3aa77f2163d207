"""The fine-tuning erasers (ESD-x/-u, AdvUnlearn, Receler, TRCE, ACE, few-shot text encoder),
the SDEdit editing attack and the benchmark's plumbing; a few fine-tuning steps each."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("diffusers")

TINY = {"iterations": 2, "pool_images": 4, "pool_steps": 2, "batch_size": 4}
FT = ("esd-x", "esd-u", "advunlearn", "receler", "trce", "ace", "fewshot-te")


def _tiny(method):
    if method == "fewshot-te":
        return {"iterations": 2, "batch_size": 4, "shots": 2}
    return dict(TINY)


def _changed(a, b):
    """Names of state-dict entries of (unet, text encoder) that differ or are new."""
    import torch

    out = set()
    for tag, ma, mb in (("unet", a.unet, b.unet),
                        ("te", a.text_encoder.bert, b.text_encoder.bert)):
        sa = ma.state_dict()
        for k, v in mb.state_dict().items():
            if k not in sa or not torch.equal(sa[k], v):
                out.add(f"{tag}.{k}")
    return out


@pytest.fixture(scope="module")
def erased(model):
    from unlearn.t2i import erase

    before = {k: v.clone() for k, v in model.unet.state_dict().items()}
    te_before = {k: v.clone() for k, v in model.text_encoder.bert.state_dict().items()}
    out = {m: erase(model, "seven", method=m, **_tiny(m)) for m in FT}
    out["_before"] = (before, te_before)
    return out


def test_input_model_never_modified(model, erased):
    import torch

    before, te_before = erased["_before"]
    assert all(torch.equal(v, model.unet.state_dict()[k]) for k, v in before.items())
    assert all(torch.equal(v, model.text_encoder.bert.state_dict()[k])
               for k, v in te_before.items())


@pytest.mark.parametrize("method", FT)
def test_each_method_changes_only_its_parameters(model, erased, method):
    e = erased[method]
    ch = _changed(model, e)
    assert ch, method
    rec = e.info["erasure"][-1]
    assert rec["method"] == method and rec["params_changed"] > 0
    assert len(rec["details"]["losses"]) == 2
    assert not any(p.requires_grad for p in e.unet.parameters())
    assert not any(p.requires_grad for p in e.text_encoder.bert.parameters())
    unet = {c for c in ch if c.startswith("unet.")}
    te = ch - unet
    if method in ("esd-x", "trce", "ace"):
        assert not te and all(".attn2." in c for c in unet), sorted(ch)[:3]
    elif method == "esd-u":
        assert not te and not any(".attn2." in c for c in unet)
    elif method in ("advunlearn", "fewshot-te"):
        assert not unet and te  # a plug-in text encoder
    elif method == "receler":
        assert not te and unet and all(".attn2.to_out.1." in c for c in unet)
    if method == "trce":  # stage 1 edits to_k/to_v, stage 2 the rest of the cross-attention
        assert any("to_k" in c for c in unet) and any("to_q" in c for c in unet)


def test_esd_target_formula_and_training_moves_toward_it(model):
    import torch

    from unlearn.t2i import erase
    from unlearn.t2i.erasers import spec_for
    from unlearn.t2i.finetune import _Setup

    spec = spec_for(model, "seven")
    s = _Setup(model, spec, pool_images=4, pool_steps=3, seed=0)
    x, t, i = s.x[:6], s.t[:6], s.i[:6]
    with torch.no_grad():
        e_c = model.unet(x, t, encoder_hidden_states=s.c[i], encoder_attention_mask=s.cm[i]).sample
        e_u = model.unet(x, t, encoder_hidden_states=s.u.expand(6, -1, -1),
                         encoder_attention_mask=s.um.expand(6, -1)).sample
    target = s.esd_target(x, t, i, 2.0)
    assert torch.allclose(target, e_u - 2.0 * (e_c - e_u), atol=1e-5)
    e = erase(model, "seven", method="esd-x", iterations=6, lr=1e-3, pool_images=4,
              pool_steps=3, batch_size=8)
    with torch.no_grad():
        new = e.unet(x, t, encoder_hidden_states=s.c[i], encoder_attention_mask=s.cm[i]).sample
    tgt1 = s.esd_target(x, t, i, 1.0)
    assert float(((new - tgt1) ** 2).mean()) < 0.8 * float(((e_c - tgt1) ** 2).mean())


def test_receler_adapters_start_as_identity_and_save_load(model, tmp_path, erased):
    from unlearn.t2i import T2IModel, erase

    e0 = erase(model, "seven", method="receler", iterations=0, pool_images=2, pool_steps=1)
    a = model.generate(["the number 7"], n_per_prompt=2, seed=3, steps=4)
    assert np.allclose(e0.generate(["the number 7"], n_per_prompt=2, seed=3, steps=4), a,
                       atol=1e-6)
    e = erased["receler"]
    path = tmp_path / "r.safetensors"
    e.save(path)
    back = T2IModel.load(path)
    assert np.array_equal(back.generate(["the number 7"], seed=1, steps=4),
                          e.generate(["the number 7"], seed=1, steps=4))


def test_concept_token_mask_and_trce_contexts(model):
    from unlearn.t2i import data
    from unlearn.t2i.finetune import _context_prompts, concept_token_mask

    enc = model.text_encoder
    m = concept_token_mask(enc, ["a handwritten digit seven", "the number 7", "a bold two"],
                           "seven")
    assert m.sum(1).tolist() == [1.0, 1.0, 0.0]
    assert m[0, 5] == 1.0  # [CLS] a hand ##written digit seven
    ms = concept_token_mask(enc, ["a bold two", "a thick two", "a bold two"][:2], "bold")
    assert ms.sum(1).tolist() == [1.0, 1.0]
    evaluated = {p for ph in data.PHRASINGS[1:] for c in data.concepts()
                 for p in data.prompts(c, ph)}
    assert not set(_context_prompts("seven")) & evaluated
    assert not set(_context_prompts("bold")) & evaluated


def test_fewshot_reports_layers(erased):
    rec = erased["fewshot-te"].info["erasure"][-1]["details"]
    vals = [v for _, v in rec["layers"]]
    assert vals == sorted(vals, reverse=True) and vals[0] > 0
    assert rec["shots"] == 2


@pytest.mark.parametrize("method", FT)
def test_bad_input_refused_by_name(model, method):
    from unlearn.t2i import erase

    with pytest.raises(TypeError, match="options: method .* takes no option 'lamb'"):
        erase(model, "seven", method=method, lamb=1.0)
    with pytest.raises(ValueError, match="anchor must differ"):
        erase(model, "seven", method=method, anchor="seven")
    with pytest.raises(ValueError, match="iterations"):
        erase(model, "seven", method=method, iterations=-1)


def test_bad_values_named(model):
    from unlearn.t2i import erase

    with pytest.raises(ValueError, match="layers"):
        erase(model, "seven", method="advunlearn", layers="middle")
    with pytest.raises(ValueError, match="mask_threshold"):
        erase(model, "seven", method="receler", mask_threshold=2.0)
    with pytest.raises(ValueError, match="early_from"):
        erase(model, "seven", method="trce", early_from=1.5)
    with pytest.raises(ValueError, match="real_fraction"):
        erase(model, "seven", method="ace", real_fraction=-0.1)
    with pytest.raises(TypeError, match="lr"):
        erase(model, "seven", method="esd-x", lr="fast")
    with pytest.raises(ValueError, match="method must be one of"):
        erase(model, "seven", method="esd")


def test_editing_attack(model, erased):
    from unlearn.t2i import attack

    r = attack(model, "seven", method="editing", n_images=8, steps=6)
    assert r.method == "editing" and r.images.shape == (8, 16, 16)
    assert r.recovery >= 0.75  # the original model keeps an edited seven a seven
    assert r.details["start_step"] == 3
    again = attack(model, "seven", method="editing", n_images=8, steps=6)
    assert np.array_equal(again.images, r.images)
    full = attack(model, "seven", method="editing", n_images=8, steps=6, strength=1.0)
    assert full.details["start_step"] == 0
    with pytest.raises(ValueError, match="strength"):
        attack(model, "seven", method="editing", strength=0.0)


def test_bench_plan_table_and_claims():
    from unlearn.t2i.bench import claims, plan_grid, table

    g = plan_grid(["seven", "bold"], ["none", "esd-x", "advunlearn", "uce"], size="bench")
    assert len(g) == 8
    adv = next(p for p in g if p["method"] == "advunlearn")
    assert adv["options"]["attack_steps"] == 2 and adv["options"]["iterations"] == 40
    assert next(p for p in g if p["method"] == "uce")["options"] == {}
    with pytest.raises(ValueError, match="methods: unknown method 'esd'"):
        plan_grid(["seven"], ["esd"])
    with pytest.raises(ValueError, match="attacks: unknown attack"):
        plan_grid(["seven"], ["uce"], attacks=["nope"])
    with pytest.raises(ValueError, match="size"):
        plan_grid(["seven"], ["uce"], size="huge")

    def s(t, m, k, mean, lo, hi):
        return {"target": t, "method": m, "metric": k, "mean": mean, "ci_low": lo,
                "ci_high": hi, "n": 5, "std": 0.1}

    summary = [s("seven", "uce", "erasure_implicit", 0.5, 0.4, 0.6),
               s("seven", "trce", "erasure_implicit", 0.1, 0.0, 0.2),
               s("seven", "uce", "erasure_heldout", 0.0, 0.0, 0.0),
               s("seven", "trce", "erasure_heldout", 0.0, 0.0, 0.0)]
    md = table(summary, ["seven"], ["uce", "trce"])
    assert "| trce | 0 | 0.1 [0, 0.2] |" in md
    text = claims(summary, ["seven"])
    line = next(x for x in text.splitlines() if "implicit-prompt erasure" in x)
    assert "holds (CIs separate" in line
    summary[1] = s("seven", "trce", "erasure_implicit", 0.7, 0.6, 0.8)
    line = next(x for x in claims(summary, ["seven"]).splitlines()
                if "implicit-prompt erasure" in x)
    assert "does not hold" in line


def test_bench_experiment_and_cli(tmp_path, monkeypatch):
    from unlearn.t2i import bench
    from unlearn.t2i.cli import main

    monkeypatch.setitem(bench.SIZES, "tiny", {
        **bench.SIZES["quick"], "images_per_set": 2, "steps": 2,
        "attack_options": {"editing": {"n_images": 4, "steps": 2}}})
    p = bench.plan_grid(["seven"], ["none"], size="tiny", attacks=["paraphrase", "editing"],
                        cache=str(tmp_path))[0]
    m = bench.experiment(p, 0)
    assert 0.0 <= m["recovery_editing"] <= 1.0 and m["attack_recovery"] >= m["recovery_editing"]
    assert (tmp_path / "images" / "seven-none-editing-s0.npy").is_file()
    assert main(["bench", "--methods", "none,esd", "--out", str(tmp_path / "b")]) == 2
    assert main(["bench", "--size", "huge", "--out", str(tmp_path / "b")]) == 2
    assert main(["bench", "--seeds", "0", "--out", str(tmp_path / "b")]) == 2
    assert not (tmp_path / "b").exists()
