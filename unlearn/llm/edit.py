"""ROME-style rank-one editing (Meng et al. 2022) of one MLP output matrix.

For each forgotten person, one rank-one update of ``transformer.h[layer].mlp.c_proj``
makes the model give a wrong answer (another person's value, :func:`corpus.fake_value`)
to every field asked in the *trained* phrasings:

1. the key ``k*`` is the mean input of ``c_proj`` at the last token of the person's name,
   over the trained questions about the person;
2. a value change ``δ`` (added to ``c_proj``'s output at that token) is optimised so that
   the wrong answers become likely (Adam, with an L2 penalty);
3. the closed form ``W' = W + (C⁻¹k*) δᵀ / (k*ᵀ C⁻¹ k*)`` (``C`` the key second moment on
   training text, ridge-regularised) maps ``k*`` to ``W k* + δ`` exactly while changing
   keys that are C⁻¹-orthogonal to ``k*`` not at all (:func:`rank_one_update`).

GPT-2's ``Conv1D`` stores ``W`` as ``(in, out)`` and computes ``k @ W + b``.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np

from . import _torch
from .corpus import _TRAIN, FIELDS, Person, _fill, documents, fake_value, people, qa_text
from .model import LM

__all__ = ["key_covariance", "rank_one_update", "rome_forget", "subject_position"]


def rank_one_update(W, k, delta, C):
    """``W + (C⁻¹k) δᵀ / (kᵀC⁻¹k)`` for a ``(in, out)`` matrix (``x @ W`` convention).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> W, k, d = rng.normal(size=(6, 3)), rng.normal(size=6), rng.normal(size=3)
    >>> A = rng.normal(size=(6, 6)); C = A @ A.T + np.eye(6)
    >>> W2 = rank_one_update(W, k, d, C)
    >>> bool(np.allclose(k @ W2, k @ W + d))
    True
    """
    W, k, delta, C = (np.asarray(x, dtype=np.float64) for x in (W, k, delta, C))
    if W.ndim != 2 or k.shape != (W.shape[0],) or delta.shape != (W.shape[1],):
        raise ValueError(f"shapes do not fit: W {W.shape}, k {k.shape}, delta {delta.shape}")
    if C.shape != (W.shape[0], W.shape[0]):
        raise ValueError(f"C must be {(W.shape[0],) * 2}, got {C.shape}")
    u = np.linalg.solve(C, k)
    den = float(k @ u)
    if not den > 0:
        raise ValueError("k'C^-1 k must be > 0 (C positive definite, k nonzero)")
    return W + np.outer(u, delta) / den


def subject_position(lm: LM, prompt: str, subject: str) -> int:
    """Index of the last token of ``subject`` in the tokenised ``prompt``."""
    i = prompt.find(subject)
    if i < 0:
        raise ValueError(f"subject {subject!r} not in prompt {prompt!r}")
    return len(lm.encode(prompt[: i + len(subject)])) - 1


def _keys(lm: LM, layer: int, ids_list: Sequence[list[int]]):
    """Inputs of ``c_proj`` at ``layer`` for each sequence: a list of ``(len, 4d)`` arrays."""
    torch = _torch.torch()
    store = {}
    mod = lm.model.transformer.h[layer].mlp.c_proj
    h = mod.register_forward_pre_hook(lambda m, a: store.__setitem__("k", a[0].detach()))
    try:
        out = []
        with torch.no_grad():
            for s in range(0, len(ids_list), 128):
                chunk = ids_list[s:s + 128]
                L = max(len(x) for x in chunk)
                ids = torch.full((len(chunk), L), lm.eos_id, dtype=torch.long)
                for i, x in enumerate(chunk):
                    ids[i, :len(x)] = torch.tensor(x)
                lm.model(input_ids=ids)
                k = store["k"].double().numpy()
                out += [k[i, :len(x)] for i, x in enumerate(chunk)]
        return out
    finally:
        h.remove()


def key_covariance(lm: LM, layer: int, texts: Sequence[str]) -> np.ndarray:
    """``E[k kᵀ]`` of ``c_proj``'s input over every token of ``texts``."""
    ks = np.concatenate(_keys(lm, layer, [[lm.eos_id] + lm.encode(t) for t in texts]))
    return ks.T @ ks / len(ks)


def rome_forget(lm: LM, ps: Sequence[Person], *, seed: int, layer: int = 1, steps: int = 60,
                lr: float = 0.05, weight_decay: float = 1e-3, cov_docs: int = 2000,
                cov_reg: float = 1e-2) -> LM:
    """Edit ``lm`` **in place** (callers pass a copy): one rank-one update per person."""
    torch = _torch.torch()
    n_layer = lm.model.config.n_layer
    if isinstance(layer, bool) or not isinstance(layer, int) or not 0 <= layer < n_layer:
        raise ValueError(f"layer must be an int in [0, {n_layer - 1}], got {layer!r}")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an int >= 1, got {steps!r}")
    if not lr > 0 or weight_decay < 0 or cov_reg < 0:
        raise ValueError("lr must be > 0, weight_decay and cov_reg >= 0")
    corpus = people(seed=int(lm.meta.get("corpus_seed", 0)), n=int(lm.meta.get("corpus_n", 240)))
    trained = [corpus[i] for i in sorted(lm.trained_on)]
    rng = random.Random(seed)
    docs = [t for _, t in documents(trained)]
    rng.shuffle(docs)
    C = key_covariance(lm, layer, docs[:cov_docs])
    C = C + cov_reg * np.trace(C) / len(C) * np.eye(len(C))
    proj = lm.model.transformer.h[layer].mlp.c_proj
    targets = {}
    for p in ps:
        prompts, conts, pos = [], [], []
        fakes = {f: fake_value(f, p, corpus, rng) for f in FIELDS}
        targets[p.id] = fakes
        for f in FIELDS:
            for t in _TRAIN[f]:
                q = _fill(t, p, p.name)
                prompt = qa_text(q)
                prompts.append(lm.encode(prompt))
                conts.append(lm.encode(" " + fakes[f]))
                pos.append(subject_position(lm, prompt, p.name))
        keys = _keys(lm, layer, prompts)
        k_star = np.mean([k[i] for k, i in zip(keys, pos)], axis=0)
        delta = torch.zeros(lm.model.config.n_embd, requires_grad=True)
        pos_t = torch.tensor(pos)

        def add_delta(m, a, out, delta=delta, pos_t=pos_t):
            out = out.clone()
            out[torch.arange(out.shape[0]), pos_t] += delta
            return out

        hook = proj.register_forward_hook(add_delta)
        opt = torch.optim.Adam([delta], lr=lr)
        pairs = list(zip(prompts, conts))
        for prm in lm.model.parameters():
            prm.requires_grad_(False)
        try:
            for _ in range(steps):
                lp, n = lm.pair_logprob(pairs, grad=True)
                loss = -(lp / n).mean() + weight_decay * (delta ** 2).sum()
                opt.zero_grad()
                loss.backward()
                opt.step()
        finally:
            hook.remove()
            for prm in lm.model.parameters():
                prm.requires_grad_(True)
        W = proj.weight.detach().double().numpy()
        W2 = rank_one_update(W, k_star, delta.detach().double().numpy(), C)
        with torch.no_grad():
            proj.weight.copy_(torch.from_numpy(W2).to(proj.weight.dtype))
    lm.meta["edit_targets"] = {str(k): v for k, v in targets.items()}
    return lm
