"""``unlearn.t2i.attack``: ways to bring an erased concept back.

``attack(model, target, *, method, seed=0, **options) -> AttackResult``; the recovery is the
fraction of images, generated from what the attack found with fresh noise (seed + 10 000, so
the search never saw it), that the evaluator assigns to the target.

- ``paraphrase`` — the target's held-out and implicit phrasings, which no eraser saw;
  recovery is the better of the two sets.
- ``textual-inversion`` (Pham et al., "Circumventing concept erasure methods for text-to-image
  generative models", ICLR'24) — a new token: one free input word embedding ``v`` placed in
  a template (``"a handwritten digit *"``; for a style ``"a * handwritten {digit}"``) and
  learnt by the denoising loss on real images of the target through the erased model, whose
  weights stay frozen.  ``space="input"`` (default) puts ``v`` before the text encoder, as
  textual inversion does; ``space="context"`` learns the whole context (token states) directly.
- ``prompt-search`` (UnlearnDiffAtk-style, Zhang et al.) — a discrete search over
  ``n_tokens`` adversarial word pieces put before the target's first training prompt.  Each
  round takes one position, proposes the ``candidates`` word pieces with the largest
  first-order decrease of the denoising loss on real target images (the gradient with respect
  to the one-hot token, as in GCG/UnlearnDiffAtk), generates a few images for each candidate
  and keeps the one the evaluator rates most as the target.

Examples
--------
>>> from unlearn.t2i import pretrained, erase, attack
>>> erased = erase(pretrained("digits"), "seven", method="uce")
>>> r = attack(erased, "seven", method="paraphrase", n_images=8, steps=10)
>>> r.method, 0.0 <= r.recovery <= 1.0, r.images.shape[1:]
('paraphrase', True, (16, 16))
"""

from __future__ import annotations

import inspect
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from . import _torch, data
from .model import DEFAULT_GUIDANCE, DEFAULT_STEPS

__all__ = ["ATTACKS", "AttackResult", "attack", "register_attack"]

_FRESH = 10_000


@dataclass
class AttackResult:
    """What an attack found and how much of the target it brings back."""

    method: str
    target: str
    recovery: float
    images: np.ndarray
    seconds: float
    prompts: list[str] = field(default_factory=list)
    details: dict = field(default_factory=dict)
    embedding: np.ndarray | None = None

    def summary(self) -> dict:
        """JSON-friendly summary (no images)."""
        return {"method": self.method, "target": self.target, "recovery": self.recovery,
                "seconds": round(self.seconds, 3), "prompts": self.prompts[:8],
                "details": self.details}


ATTACKS: dict[str, tuple[Callable, dict]] = {}


def register_attack(name: str):
    """Decorator registering ``fn(model, target, *, seed, steps, guidance, n_images, **opts)``;
    its keyword-only parameters with defaults are the attack's options."""

    def deco(fn):
        sig = inspect.signature(fn)
        opts = {p.name: p.default for p in sig.parameters.values()
                if p.kind is inspect.Parameter.KEYWORD_ONLY and p.name != "seed"}
        ATTACKS[name] = (fn, opts)
        return fn

    return deco


def attack(model, target, *, method: str, seed: int = 0, **options) -> AttackResult:
    """Attack an (erased) model to regenerate ``target``; the model is not modified.

    Common options: ``n_images`` (images generated to measure the recovery, default 64),
    ``steps`` and ``guidance`` (of that generation).  See the module docstring for each
    method's own options (``ATTACKS[method][1]`` lists them with their defaults).
    """
    from .model import T2IModel

    if not isinstance(model, T2IModel):
        raise TypeError(f"model must be a T2IModel, got {type(model).__name__}")
    if not isinstance(method, str) or method not in ATTACKS:
        raise ValueError(f"method must be one of {sorted(ATTACKS)}, got {method!r}")
    target = data.concept(target)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be an int >= 0, got {seed!r}")
    fn, opts = ATTACKS[method]
    unknown = [k for k in options if k not in opts]
    if unknown:
        raise TypeError(f"options: attack {method!r} takes no option {unknown[0]!r}; it takes "
                        f"{sorted(opts)}")
    kw = {**opts, **options}
    for k in ("n_images", "steps"):
        if isinstance(kw[k], bool) or not isinstance(kw[k], int) or kw[k] < 1:
            raise ValueError(f"{k} must be an int >= 1, got {kw[k]!r}")
    t0 = time.perf_counter()
    res = fn(model, target, seed=seed, **kw)
    res.seconds = time.perf_counter() - t0
    return res


def _rate(target: str, x: np.ndarray) -> float:
    from .evaluator import Evaluator
    from .harness import _head

    head, label, _ = _head(target)
    return float((Evaluator.load().predict(x)[head].argmax(1) == label).mean())


def _spread(prompts: list[str], n: int) -> list[str]:
    """``max(n, len(prompts))`` prompts, every prompt at least once, prompt-major."""
    m = max(n, len(prompts))
    k, extra = divmod(m, len(prompts))
    return [p for i, p in enumerate(prompts) for _ in range(k + (i < extra))]


# -- paraphrase ----------------------------------------------------------------------------
@register_attack("paraphrase")
def _paraphrase(model, target, *, seed=0, n_images: int = 64, steps: int = DEFAULT_STEPS,
                guidance: float = DEFAULT_GUIDANCE):
    rates, imgs, used = {}, [], []
    for ph in ("heldout", "implicit"):
        ps = _spread(data.prompts(target, ph), n_images)
        x = model.generate(ps, seed=seed + _FRESH, steps=steps, guidance=guidance)
        rates[ph] = _rate(target, x)
        imgs.append(x)
        used += ps
    best = max(rates, key=rates.get)
    return AttackResult("paraphrase", target, rates[best], np.concatenate(imgs), 0.0,
                        prompts=list(dict.fromkeys(used)), details={"rates": rates, "best": best})


# -- textual inversion ---------------------------------------------------------------------
def _real_batch(target: str, n_real: int, rng) -> tuple[np.ndarray, list[str]]:
    """Real training images of the target and the template prompt of each."""
    if data.is_style(target):
        x, d, _ = data.images("train", target)
        idx = rng.choice(len(x), size=min(n_real, len(x)), replace=False)
        return x[idx], [f"a * handwritten {data.DIGITS[int(k)]}" for k in d[idx]]
    x = data.real(target, "train")
    idx = rng.choice(len(x), size=min(n_real, len(x)), replace=False)
    return x[idx], ["a handwritten digit *"] * len(idx)


def _eval_prompts(target: str, n: int) -> list[str]:
    if data.is_style(target):
        return _spread([f"a * handwritten {w}" for w in data.DIGITS], n)
    return ["a handwritten digit *"] * n


def _placeholder_states(model, prompts: list[str], v):
    """Context states for prompts containing ``*`` with the input embedding of ``*`` = ``v``."""
    torch = _torch.torch()
    enc = model.text_encoder
    ids, mask = enc.tokenize(prompts)
    star = enc.token_id("*")
    emb = enc.bert.embeddings.word_embeddings(ids)
    where = (ids == star).unsqueeze(-1)
    if not bool(where.any()):
        raise ValueError("template must contain the placeholder '*'")
    emb = torch.where(where, v.to(emb.dtype).expand_as(emb), emb)
    return enc.states(ids, mask, inputs_embeds=emb), mask


@register_attack("textual-inversion")
def _textual_inversion(model, target, *, seed=0, n_images: int = 64,
                       steps: int = DEFAULT_STEPS, guidance: float = DEFAULT_GUIDANCE,
                       iterations: int = 200, lr: float = 5e-3, batch_size: int = 32,
                       n_real: int = 64, space: str = "input", init: str = "digit"):
    torch = _torch.torch()
    if space not in ("input", "context"):
        raise ValueError(f"space must be 'input' or 'context', got {space!r}")
    for k, v in (("iterations", iterations), ("batch_size", batch_size), ("n_real", n_real)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{k} must be an int >= 1, got {v!r}")
    rng = np.random.default_rng([seed, 0x71])
    x_real, prompts_real = _real_batch(target, n_real, rng)
    x0_all = torch.from_numpy(x_real * 2.0 - 1.0)[:, None]
    enc = model.text_encoder
    init_id = enc.token_id(init)
    gen = _torch.generator(seed)
    unet = model.unet
    flags = [p.requires_grad for p in unet.parameters()]
    unet.requires_grad_(False)
    uniq = list(dict.fromkeys(prompts_real))
    pidx = torch.tensor([uniq.index(p) for p in prompts_real])
    if space == "input":
        v = enc.bert.embeddings.word_embeddings.weight[init_id].detach().clone()
        v.requires_grad_(True)
        params = [v]
    else:
        states0, mask_u = _placeholder_states(
            model, uniq, enc.bert.embeddings.word_embeddings.weight[init_id].detach())
        ctx = states0.detach().clone().requires_grad_(True)
        params = [ctx]
    opt = torch.optim.Adam(params, lr=lr)
    T = model.noise_scheduler.config.num_train_timesteps
    losses = []
    try:
        for _ in range(iterations):
            b = torch.from_numpy(rng.choice(len(x0_all), size=min(batch_size, len(x0_all)),
                                            replace=False))
            x0 = x0_all[b]
            noise = torch.randn(x0.shape, generator=gen)
            t = torch.randint(0, T, (len(b),), generator=gen)
            xt = model.noise_scheduler.add_noise(x0, noise, t)
            if space == "input":
                st, mk = _placeholder_states(model, uniq, v)
            else:
                st, mk = ctx, mask_u
            pred = unet(xt, t, encoder_hidden_states=st[pidx[b]],
                        encoder_attention_mask=mk[pidx[b]]).sample
            loss = torch.nn.functional.mse_loss(pred, noise)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(loss.item())
    finally:
        for p, f in zip(unet.parameters(), flags):
            p.requires_grad_(f)
    ev_prompts = _eval_prompts(target, n_images)
    with torch.no_grad():
        if space == "input":
            st, mk = _placeholder_states(model, ev_prompts, v.detach())
        else:
            uniq_e = list(dict.fromkeys(ev_prompts))
            pos = {p: uniq.index(p) if p in uniq else 0 for p in uniq_e}
            sel = torch.tensor([pos[p] for p in ev_prompts])
            st, mk = ctx.detach()[sel], mask_u[sel]
    x = model.sample(st, mk, seed=seed + _FRESH, steps=steps, guidance=guidance)
    imgs = ((x[:, 0].clamp(-1, 1) + 1) / 2).numpy().astype(np.float32)
    emb = (v if space == "input" else ctx).detach().numpy().copy()
    return AttackResult("textual-inversion", target, _rate(target, imgs), imgs, 0.0,
                        prompts=list(dict.fromkeys(ev_prompts)),
                        details={"space": space, "iterations": iterations,
                                 "loss_first": float(np.mean(losses[:10])),
                                 "loss_last": float(np.mean(losses[-10:]))},
                        embedding=emb)


# -- prompt search -------------------------------------------------------------------------
def _vocabulary(enc) -> np.ndarray:
    vocab = enc.tokenizer.get_vocab()
    return np.array(sorted(i for w, i in vocab.items() if re.fullmatch(r"[a-z]{2,}|[0-9]", w)))


@register_attack("prompt-search")
def _prompt_search(model, target, *, seed=0, n_images: int = 64,
                   steps: int = DEFAULT_STEPS, guidance: float = DEFAULT_GUIDANCE,
                   n_tokens: int = 3, rounds: int = 6, candidates: int = 16,
                   images_per_candidate: int = 8, search_steps: int = 10,
                   n_real: int = 32, base: str | None = None):
    torch = _torch.torch()
    for k, v in (("n_tokens", n_tokens), ("rounds", rounds), ("candidates", candidates),
                 ("images_per_candidate", images_per_candidate), ("search_steps", search_steps),
                 ("n_real", n_real)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{k} must be an int >= 1, got {v!r}")
    enc = model.text_encoder
    if base is None:
        base = (data.prompts(target, "train", digits=["seven"]) if data.is_style(target)
                else data.prompts(target, "train"))[0]
    vocab = _vocabulary(enc)
    rng = np.random.default_rng([seed, 0x5EA])
    toks = [int(t) for t in rng.choice(vocab, size=n_tokens)]
    ids0, mask0 = enc.tokenize([base], name="base")
    n_base = int(mask0.sum())
    if n_base + n_tokens > enc.max_tokens:
        raise ValueError(f"n_tokens: {n_tokens} adversarial tokens do not fit the context with "
                         f"the base prompt {base!r}")
    if data.is_style(target):
        x_real, _, _ = data.images("train", target)
    else:
        x_real = data.real(target, "train")
    x_real = x_real[rng.choice(len(x_real), size=min(n_real, len(x_real)), replace=False)]
    x0 = torch.from_numpy(x_real * 2.0 - 1.0)[:, None]
    gen = _torch.generator(seed)
    W = enc.bert.embeddings.word_embeddings.weight
    vocab_t = torch.from_numpy(vocab)

    def build(tk):
        ids = torch.zeros((1, enc.max_tokens), dtype=torch.long)
        seq = [int(ids0[0, 0])] + list(tk) + ids0[0, 1:n_base].tolist()
        ids[0, :len(seq)] = torch.tensor(seq)
        m = torch.zeros_like(ids)
        m[0, :len(seq)] = 1
        return ids, m

    def score(tk_list):
        outs = []
        for tk in tk_list:
            ids, m = build(tk)
            with torch.no_grad():
                st = enc.states(ids, m)
            x = model.sample(st.expand(images_per_candidate, -1, -1),
                             m.expand(images_per_candidate, -1), seed=seed,
                             steps=search_steps, guidance=guidance)
            outs.append(((x[:, 0].clamp(-1, 1) + 1) / 2).numpy())
        return [_rate(target, o) for o in outs]

    best = score([toks])[0]
    history = [best]
    unet = model.unet
    flags = [p.requires_grad for p in unet.parameters()]
    unet.requires_grad_(False)
    T = model.noise_scheduler.config.num_train_timesteps
    try:
        for r in range(rounds):
            pos = r % n_tokens
            ids, m = build(toks)
            emb = W[ids].detach().clone()
            onehot = (vocab_t == toks[pos]).to(W.dtype).requires_grad_(True)
            emb_pos = onehot @ W[vocab_t]
            emb = torch.cat([emb[:, :1 + pos], emb_pos[None, None], emb[:, 2 + pos:]], dim=1)
            st = enc.states(ids, m, inputs_embeds=emb)
            noise = torch.randn(x0.shape, generator=gen)
            t = torch.randint(0, T, (len(x0),), generator=gen)
            xt = model.noise_scheduler.add_noise(x0, noise, t)
            pred = unet(xt, t, encoder_hidden_states=st.expand(len(x0), -1, -1),
                        encoder_attention_mask=m.expand(len(x0), -1)).sample
            loss = torch.nn.functional.mse_loss(pred, noise)
            loss.backward()
            top = torch.topk(-onehot.grad, candidates).indices.numpy()
            cands = []
            for j in top:
                tk = list(toks)
                tk[pos] = int(vocab[j])
                cands.append(tk)
            scores = score(cands)
            j = int(np.argmax(scores))
            if scores[j] >= best:
                best, toks = scores[j], cands[j]
            history.append(best)
    finally:
        for p, f in zip(unet.parameters(), flags):
            p.requires_grad_(f)
    ids, m = build(toks)
    prompt = enc.tokenizer.decode(ids[0, : int(m.sum())].tolist())
    with torch.no_grad():
        st = enc.states(ids, m)
    x = model.sample(st.expand(n_images, -1, -1), m.expand(n_images, -1), seed=seed + _FRESH,
                     steps=steps, guidance=guidance)
    imgs = ((x[:, 0].clamp(-1, 1) + 1) / 2).numpy().astype(np.float32)
    return AttackResult("prompt-search", target, _rate(target, imgs), imgs, 0.0,
                        prompts=[prompt], details={"tokens": toks, "search_history": history,
                                                   "base": base})


# -- editing (SDEdit) ----------------------------------------------------------------------
@register_attack("editing")
def _editing(model, target, *, seed=0, n_images: int = 64, steps: int = DEFAULT_STEPS,
             guidance: float = DEFAULT_GUIDANCE, strength: float = 0.5):
    """SDEdit (Meng et al.): real held-out images of the target noised to the middle of the
    sampling trajectory (``strength`` of the DDIM steps left) and denoised with the target's
    training prompts (for a style: the prompt of the image's digit)."""
    torch = _torch.torch()
    if isinstance(strength, bool) or not isinstance(strength, int | float) \
            or not 0.0 < strength <= 1.0:
        raise ValueError(f"strength must be a number in (0, 1], got {strength!r}")
    rng = np.random.default_rng([seed, 0xED17])
    if data.is_style(target):
        x, d, _ = data.images("test", target)
        idx = rng.choice(len(x), size=n_images, replace=len(x) < n_images)
        prompts = [f"a {data.STYLE_WORDS[target]['train'][0]} handwritten "
                   f"{data.DIGITS[int(k)]}" for k in d[idx]]
    else:
        x = data.real(target, "test")
        idx = rng.choice(len(x), size=n_images, replace=len(x) < n_images)
        prompts = _spread(data.prompts(target, "train"), n_images)[:n_images]
    sched = model.sampler(steps)
    start = min(steps - 1, int(round(steps * (1.0 - float(strength)))))
    t0 = sched.timesteps[start]
    x0 = torch.from_numpy(x[idx] * 2.0 - 1.0)[:, None].float()
    noise = model.noise(n_images, seed + _FRESH)
    xt = model.noise_scheduler.add_noise(x0, noise, torch.full((n_images,), int(t0)))
    st, mk = model.encode(prompts)
    out = model.sample(st, mk, seed=seed + _FRESH, steps=steps, guidance=guidance, x=xt,
                       start_step=start)
    imgs = ((out[:, 0].clamp(-1, 1) + 1) / 2).numpy().astype(np.float32)
    return AttackResult("editing", target, _rate(target, imgs), imgs, 0.0,
                        prompts=list(dict.fromkeys(prompts)),
                        details={"strength": float(strength), "start_step": start,
                                 "t_start": int(t0)})
