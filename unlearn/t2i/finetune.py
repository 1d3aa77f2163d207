r"""Fine-tuning concept erasers for ``unlearn.t2i.erase``: ESD, AdvUnlearn, Receler, TRCE, ACE
and few-shot text-encoder erasure, on one shared training loop.

Every method here fine-tunes a copy of the model (:func:`unlearn.t2i.erase` makes the copy)
against a frozen copy of the original, :math:`\epsilon_0`.  Most of them share ESD's
*negative-guidance target*: for a noisy image :math:`x_t` of the target,

.. math:: \epsilon_\theta(x_t, t, c) \leftarrow \epsilon_0(x_t, t, a)
          - \eta\,[\epsilon_0(x_t, t, c) - \epsilon_0(x_t, t, a)],

with :math:`c` a target prompt and :math:`a` its anchor prompt (the empty prompt, i.e. the
unconditional branch, for a digit; the same prompt without the style word for a style, so the
digit is kept).  The :math:`x_t` come from a *pool*: DDIM trajectories of the frozen model on
the target's training prompts (``pool_images`` trajectories of ``pool_steps`` steps, every
intermediate :math:`x_t` kept), drawn once per erasure.

Methods (options and defaults in ``unlearn.t2i.METHODS[name].options``):

- ``esd-x`` / ``esd-u`` — ESD (Gandikota et al., ICCV'23): the target above on the UNet's
  cross-attention parameters only (``attn2``: ``to_q``, ``to_k``, ``to_v``, ``to_out``) or on
  every other UNet parameter.  The paper draws :math:`x_t` by partially denoising with the
  model being tuned; here, as the issue states it, from the frozen model (one pool, so the
  cost is one sampling pass instead of one per iteration).
- ``advunlearn`` — AdvUnlearn (Zhang et al., NeurIPS'24): min over the *text encoder* of ESD's
  loss at an adversarial prompt, plus ``retain_weight`` × a utility term on retain prompts
  (the UNet's output for retain prompts through the tuned encoder against the original
  encoder, on :math:`x_t` from the retain prompts' own trajectories).  The inner attack is a
  soft prompt: ``adv_tokens`` free input embeddings inserted after ``[CLS]``, ``attack_steps``
  signed-gradient ascent steps on the same ESD loss per outer step (the paper's fast
  attack on the embedding), re-initialised every ``attack_every`` iterations.  Only the text
  encoder changes: the result is a plug-in encoder.
- ``receler`` — Receler (Huang et al.): a lightweight eraser module after every
  cross-attention output (``h + up(GELU(down(h)))``, rank ``rank``, ``up`` initialised to 0),
  trained with ESD's target; a concept-localised regulariser (``reg_weight``) penalises the
  eraser's output outside the mask where the cross-attention maps of the concept's word
  pieces exceed ``mask_threshold`` of their maximum; adversarial prompt learning in
  alternation (soft prompts as for AdvUnlearn, trained against the current eraser).  Only the
  eraser modules are new parameters (saved models carry them: a registered patch).  The
  default rate, 3e-3, is higher than the other methods' because the erasers start from zero
  (``up`` = 0) with no pretrained weights to protect: at 1e-3 and the bench's 40 iterations
  they barely move (held-out erasure 0.78 on seven, seed 0, against 0.17 at 3e-3; 1e-2
  erases everything but drops another digit, four, to 0).
- ``trce`` — TRCE (Chen et al.): stage 1 is UCE on every cross-attention ``to_k``/``to_v`` whose
  erase set also holds the end-of-text (``[SEP]``) and ``[CLS]`` states of the target's
  words placed in extra context sentences (:data:`CONTEXTS`), weighted ``s_eot`` — those are
  the states through which prompts that never name the concept still carry it; stage 2 is
  contrastive fine-tuning of the cross-attention on the *early* denoising steps only
  (:math:`t \ge` ``early_from`` of the trajectory): pull :math:`\epsilon_\theta(x_t, c)` to the
  anchor's prediction, push it at least ``margin`` away from the target's, keep the preserve
  prompts' predictions.
- ``ace`` — ACE (Wang et al.): the erasure guidance applied to *both* the conditional and the
  unconditional prediction on :math:`x_t` that hold the target (the pool plus
  ``real_fraction`` of noised real target images, which is what an editing attack starts from),
  and prior preservation of the conditional and unconditional predictions on the preserve
  prompts' trajectories (``preserve_weight``); cross-attention parameters.  An editing pipeline
  that leans on the unconditional branch (SDEdit) then finds the concept gone there too.
- ``fewshot-te`` — few-shot text-encoder erasure (Fuchi & Takagi): ``shots`` real images of the
  target, noised at random steps, and only the text encoder tuned so that the target's
  prompts predict what the original model predicts for the anchor,
  :math:`\|\epsilon(x_t, E_\theta(c)) - \epsilon(x_t, E_0(a))\|^2`; ``details["layers"]`` ranks
  the encoder's layers by relative weight change (where the change sits).

Examples
--------
>>> from unlearn.t2i import pretrained, erase
>>> model = pretrained("digits")
>>> e = erase(model, "seven", method="esd-x", iterations=2, pool_images=4, pool_steps=2,
...           batch_size=4)
>>> rec = e.info["erasure"][-1]
>>> rec["method"], rec["params_changed"] > 0, len(rec["details"]["losses"])
('esd-x', True, 2)
"""

from __future__ import annotations

import numpy as np

from . import _torch, data
from .erasers import erase_keys, projections, register
from .model import DEFAULT_GUIDANCE, register_patch

__all__ = ["CONTEXTS", "EraserAdapter", "add_erasers", "concept_token_mask", "pool"]

#: Context sentences for TRCE's stage 1 (``{w}`` = a word of the concept); disjoint from the
#: training, held-out and implicit templates of :mod:`unlearn.t2i.data`.
CONTEXTS = ("{w} is written on the board", "my favourite is {w}", "they circled the {w}",
            "a sign that says {w}", "count up to {w}", "the answer was {w}")


# -- checks --------------------------------------------------------------------------------
def _int(v, name, lo=1):
    if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < lo:
        raise ValueError(f"{name} must be an int >= {lo}, got {v!r}")
    return int(v)


def _num(v, name, lo=0.0, hi=None):
    if isinstance(v, bool):
        raise TypeError(f"{name} must be a real number, got {v!r}")
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number, got {v!r}") from None
    if not np.isfinite(f) or f < lo or (hi is not None and f > hi):
        raise ValueError(f"{name} must be in [{lo}, {hi if hi is not None else 'inf'}), "
                         f"got {v!r}")
    return f


# -- the pool of noisy images --------------------------------------------------------------
def pool(model, prompts, *, n: int, steps: int, seed: int, guidance: float = DEFAULT_GUIDANCE):
    """``(x_t, t, prompt_index)`` from DDIM trajectories of ``model`` (no gradients).

    ``n`` trajectories (prompts cycled), every intermediate state of ``steps`` DDIM steps kept:
    ``n * steps`` rows.
    """
    torch = _torch.torch()
    idx = torch.tensor([i % len(prompts) for i in range(n)])
    st, mk = model.encode(list(prompts))
    uncond = model.encode([""])
    sched = model.sampler(steps)
    x = model.noise(n, seed)
    xs, ts = [], []
    with torch.no_grad():
        for t in sched.timesteps:
            xs.append(x)
            ts.append(torch.full((n,), int(t), dtype=torch.long))
            e = model.eps(x, t, st[idx], mk[idx], uncond=uncond, guidance=guidance)
            x = sched.step(e, t, x).prev_sample
    return torch.cat(xs), torch.cat(ts), idx.repeat(len(xs))


def _real_pool(model, target, n, rng, gen):
    """Noised real images of the target: ``(x_t, t, prompt_index)`` (index into the training
    prompts: for a style, one whose digit matches the image)."""
    torch = _torch.torch()
    prompts = data.prompts(target, "train")
    if data.is_style(target):
        x, d, _ = data.images("train", target)
    else:
        x = data.real(target, "train")
        d = np.full(len(x), data.DIGITS.index(target))
    sel = rng.choice(len(x), size=min(n, len(x)), replace=False)
    x0 = torch.from_numpy(x[sel] * 2.0 - 1.0)[:, None].float()
    pidx = []
    for k in d[sel]:
        w = data.DIGITS[int(k)]
        cand = [i for i, p in enumerate(prompts) if w in p.split() or str(int(k)) in p.split()]
        pidx.append(cand[int(rng.integers(len(cand)))] if cand else int(rng.integers(len(prompts))))
    T = model.noise_scheduler.config.num_train_timesteps
    t = torch.randint(0, T, (len(sel),), generator=gen)
    xt = model.noise_scheduler.add_noise(x0, torch.randn(x0.shape, generator=gen), t)
    return xt, t, torch.tensor(pidx)


# -- shared pieces -------------------------------------------------------------------------
class _Setup:
    """Frozen reference, prompt states and the pool shared by the ESD-style methods."""

    def __init__(self, model, spec, *, pool_images, pool_steps, seed, guidance=DEFAULT_GUIDANCE):
        torch = _torch.torch()
        self.torch = torch
        self.ref = model.copy()
        self.ref.unet.requires_grad_(False)
        self.prompts = list(spec.prompts)
        self.c, self.cm = self.ref.encode(self.prompts)
        self.a, self.am = self.ref.encode(list(spec.anchor_prompts))
        self.u, self.um = self.ref.encode([""])
        self.gen = _torch.generator(seed)
        self.rng = np.random.default_rng([seed, 0xE5D])
        self.x, self.t, self.i = pool(self.ref, self.prompts, n=pool_images, steps=pool_steps,
                                      seed=seed, guidance=guidance)

    def preserve_pool(self, spec, *, n_prompts, pool_images, pool_steps, seed):
        """``(prompts, x_t, t, index, states, mask)``: up to ``n_prompts`` of the spec's
        preserve prompts (the empty prompt left out), their trajectories from the frozen
        model and their context states."""
        keep = [p for p in spec.preserve_prompts if p] or [""]
        keep = [keep[j] for j in self.rng.choice(len(keep), size=min(n_prompts, len(keep)),
                                                 replace=False)]
        px, pt, pi = pool(self.ref, keep, n=max(len(keep), pool_images // 2),
                          steps=pool_steps, seed=seed + 1)
        states, mask = self.ref.encode(keep)
        return keep, px, pt, pi, states, mask

    def batch(self, b, x=None, t=None, i=None):
        x = self.x if x is None else x
        t = self.t if t is None else t
        i = self.i if i is None else i
        sel = self.torch.from_numpy(self.rng.choice(len(x), size=min(b, len(x)), replace=False))
        return x[sel], t[sel], i[sel]

    def ref_eps(self, x, t, states, mask):
        with self.torch.no_grad():
            return self.ref.unet(x, t, encoder_hidden_states=states,
                                 encoder_attention_mask=mask).sample

    def esd_target(self, x, t, i, eta):
        """ε₀(a) − η (ε₀(c) − ε₀(a)) for pool rows with prompt indices ``i``."""
        n = len(x)
        e = self.ref_eps(self.torch.cat([x, x]), self.torch.cat([t, t]),
                         self.torch.cat([self.c[i], self.a[i]]),
                         self.torch.cat([self.cm[i], self.am[i]]))
        e_c, e_a = e[:n], e[n:]
        return e_a - eta * (e_c - e_a)


def _select(module, pick):
    params = [p for n, p in module.named_parameters() if pick(n)]
    if not params:
        raise ValueError("no parameters selected for fine-tuning")
    return params


def _train(params, step, *, iterations, lr, model):
    """Adam over ``params`` for ``iterations`` calls of ``step() -> loss``; returns the losses
    (rounded) and leaves every parameter of the model frozen again."""
    torch = _torch.torch()
    for p in params:
        p.requires_grad_(True)
    opt = torch.optim.Adam(params, lr=lr)
    losses = []
    try:
        model.unet.train()
        for _ in range(iterations):
            loss = step()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(round(float(loss.item()), 6))
    finally:
        model.unet.eval()
        model.unet.requires_grad_(False)
        model.text_encoder.bert.requires_grad_(False)
    return losses


def _check_common(iterations, lr, batch_size, pool_images, pool_steps, eta):
    _int(iterations, "iterations", 0)
    _num(lr, "lr")
    _int(batch_size, "batch_size")
    _int(pool_images, "pool_images")
    _int(pool_steps, "pool_steps")
    _num(eta, "eta")


def _mse(a, b):
    return ((a - b) ** 2).mean()


# -- ESD -----------------------------------------------------------------------------------
def _esd(model, spec, *, cross, iterations, lr, eta, batch_size, pool_images, pool_steps,
         seed):
    _check_common(iterations, lr, batch_size, pool_images, pool_steps, eta)
    s = _Setup(model, spec, pool_images=pool_images, pool_steps=pool_steps, seed=seed)
    params = _select(model.unet, (lambda n: "attn2" in n) if cross else
                     (lambda n: "attn2" not in n))

    def step():
        x, t, i = s.batch(batch_size)
        target = s.esd_target(x, t, i, eta)
        pred = model.unet(x, t, encoder_hidden_states=s.c[i],
                          encoder_attention_mask=s.cm[i]).sample
        return _mse(pred, target)

    losses = _train(params, step, iterations=iterations, lr=lr, model=model)
    return {"losses": losses, "tuned": int(sum(p.numel() for p in params)),
            "pool": int(len(s.x))}


@register("esd-x", kind="fine-tuning",
          summary="ESD-x: negative guidance fine-tuning of the cross-attention")
def _esd_x(model, spec, *, iterations: int = 150, lr: float = 1e-4, eta: float = 1.0,
           batch_size: int = 16, pool_images: int = 32, pool_steps: int = 20, seed: int = 0):
    return _esd(model, spec, cross=True, iterations=iterations, lr=lr, eta=eta,
                batch_size=batch_size, pool_images=pool_images, pool_steps=pool_steps,
                seed=seed)


@register("esd-u", kind="fine-tuning",
          summary="ESD-u: negative guidance fine-tuning of every non-cross-attention layer")
def _esd_u(model, spec, *, iterations: int = 150, lr: float = 1e-4, eta: float = 1.0,
           batch_size: int = 16, pool_images: int = 32, pool_steps: int = 20, seed: int = 0):
    return _esd(model, spec, cross=False, iterations=iterations, lr=lr, eta=eta,
                batch_size=batch_size, pool_images=pool_images, pool_steps=pool_steps,
                seed=seed)


# -- soft adversarial prompts (AdvUnlearn, Receler) ----------------------------------------
def _with_prefix(enc, ids, mask, delta):
    """Context states of token ids with ``delta`` (``(k, 384)``) inserted after ``[CLS]``."""
    torch = _torch.torch()
    k = delta.shape[0]
    if int(mask.sum(1).max()) + k > enc.max_tokens:
        raise ValueError(f"adv_tokens: {k} adversarial tokens do not fit the context")
    emb = enc.bert.embeddings.word_embeddings(ids)
    n = ids.shape[0]
    emb = torch.cat([emb[:, :1], delta[None].expand(n, -1, -1), emb[:, 1:-k]], dim=1)
    m = torch.cat([mask[:, :1], torch.ones((n, k), dtype=mask.dtype), mask[:, 1:-k]], dim=1)
    return enc.states(None, m, inputs_embeds=emb), m


def _adversary(enc, k, rng):
    torch = _torch.torch()
    W = enc.bert.embeddings.word_embeddings.weight.detach()
    rows = rng.choice(W.shape[0], size=k, replace=False)
    return W[torch.from_numpy(rows)].clone()


def _attack_step(delta, loss_fn, *, steps, step_size):
    """Signed-gradient ascent on ``loss_fn(delta)``; returns the new (detached) delta."""
    torch = _torch.torch()
    d = delta.detach().clone()
    for _ in range(steps):
        d.requires_grad_(True)
        loss = loss_fn(d)
        (g,) = torch.autograd.grad(loss, d)
        d = (d + step_size * g.sign()).detach()
    return d


# -- AdvUnlearn ----------------------------------------------------------------------------
@register("advunlearn", kind="fine-tuning",
          summary="AdvUnlearn: adversarial ESD on the text encoder with a utility term")
def _advunlearn(model, spec, *, iterations: int = 100, lr: float = 1e-4, eta: float = 1.0,
                batch_size: int = 16, pool_images: int = 32, pool_steps: int = 20,
                adv_tokens: int = 1, attack_steps: int = 3, attack_step_size: float = 0.01,
                attack_every: int = 10, retain_weight: float = 1.0, retain_prompts: int = 16,
                layers: str = "all", seed: int = 0):
    _torch.torch()
    _check_common(iterations, lr, batch_size, pool_images, pool_steps, eta)
    _int(adv_tokens, "adv_tokens")
    _int(attack_steps, "attack_steps", 0)
    _num(attack_step_size, "attack_step_size")
    _int(attack_every, "attack_every")
    _num(retain_weight, "retain_weight")
    _int(retain_prompts, "retain_prompts")
    if layers not in ("all", "first"):
        raise ValueError(f"layers must be 'all' or 'first', got {layers!r}")
    s = _Setup(model, spec, pool_images=pool_images, pool_steps=pool_steps, seed=seed)
    enc = model.text_encoder
    ids, mask = enc.tokenize(s.prompts)
    keep, rx, rt, ri, r_states, _ = s.preserve_pool(
        spec, n_prompts=retain_prompts, pool_images=pool_images, pool_steps=pool_steps, seed=seed)
    r_ids, r_mask = enc.tokenize(keep)
    pick = (lambda n: True) if layers == "all" else (
        lambda n: n.startswith("encoder.layer.0."))
    params = _select(enc.bert, pick)
    unet = model.unet
    unet.requires_grad_(False)
    state = {"delta": _adversary(enc, adv_tokens, s.rng), "it": 0}

    def esd_loss(delta, x, t, i, target):
        st, m = _with_prefix(enc, ids[i], mask[i], delta)
        pred = unet(x, t, encoder_hidden_states=st, encoder_attention_mask=m).sample
        return _mse(pred, target)

    def step():
        x, t, i = s.batch(batch_size)
        target = s.esd_target(x, t, i, eta)
        if state["it"] % attack_every == 0:
            state["delta"] = _adversary(enc, adv_tokens, s.rng)
        state["it"] += 1
        if attack_steps:
            state["delta"] = _attack_step(state["delta"],
                                          lambda d: esd_loss(d, x, t, i, target),
                                          steps=attack_steps, step_size=attack_step_size)
        loss = esd_loss(state["delta"], x, t, i, target)
        if retain_weight:
            xr, tr, ir = s.batch(batch_size, rx, rt, ri)
            st = enc.states(r_ids[ir], r_mask[ir])
            pred = unet(xr, tr, encoder_hidden_states=st, encoder_attention_mask=r_mask[ir]
                        ).sample
            loss = loss + retain_weight * _mse(pred, s.ref_eps(xr, tr, r_states[ir],
                                                               r_mask[ir]))
        return loss

    losses = _train(params, step, iterations=iterations, lr=lr, model=model)
    return {"losses": losses, "tuned": int(sum(p.numel() for p in params)),
            "retain_prompts": len(keep)}


# -- Receler -------------------------------------------------------------------------------
class _Adapter:  # namespace for the lazily built torch module class
    cls = None


def _adapter_cls():
    if _Adapter.cls is None:
        torch = _torch.torch()

        class EraserAdapter(torch.nn.Module):
            """``h + up(GELU(down(h)))`` after a cross-attention output (Receler's eraser).

            While ``mask`` is set (training), ``reg`` holds the mean squared output outside
            the mask."""

            def __init__(self, dim: int, rank: int):
                super().__init__()
                self.down = torch.nn.Linear(dim, rank)
                self.up = torch.nn.Linear(rank, dim)
                torch.nn.init.zeros_(self.up.weight)
                torch.nn.init.zeros_(self.up.bias)
                self.mask = None
                self.reg = None

            def forward(self, h):
                d = self.up(torch.nn.functional.gelu(self.down(h)))
                if self.mask is not None and self.mask.shape[0] == h.shape[0]:
                    self.reg = ((d * (1.0 - self.mask)) ** 2).mean()
                return h + d

        _Adapter.cls = EraserAdapter
    return _Adapter.cls


def EraserAdapter(dim: int, rank: int):  # noqa: N802 - a class factory (torch is lazy)
    """A Receler eraser module (see :func:`add_erasers`)."""
    return _adapter_cls()(dim, rank)


def add_erasers(model, *, rank: int = 8) -> None:
    """Insert an :func:`EraserAdapter` after every cross-attention output of ``model``
    (replacing ``attn2.to_out[1]``, a dropout, which it applies no more)."""
    rank = _int(rank, "rank")
    for _, attn in model.cross_attentions():
        dim = attn.to_out[0].out_features
        attn.to_out[1] = EraserAdapter(dim, rank)


register_patch("receler-erasers", add_erasers)


def concept_token_mask(enc, prompts, concept) -> np.ndarray:
    """``(n, L)`` 0/1: the word pieces of ``concept``'s words (its name and numeral, or its
    style words) in each prompt's tokens."""
    concept = data.concept(concept)
    words = (data.STYLE_WORDS[concept]["train"] if data.is_style(concept) else
             (concept, str(data.DIGITS.index(concept))))
    ids_set = {i for w in words for i in enc.tokenizer.encode(w, add_special_tokens=False).ids}
    ids, _ = enc.tokenize(prompts)
    out = np.isin(ids.numpy(), sorted(ids_set)).astype(np.float32)
    return out


def _attention_masks(model, attn_maps_on, threshold):
    """Forward pre-hooks on every ``attn2`` that set its adapter's mask from the
    cross-attention map of the concept tokens (``attn_maps_on["tokens"]``, ``(n, L)``)."""
    torch = _torch.torch()
    handles = []
    for _, attn in model.cross_attentions():
        adapter = attn.to_out[1]

        def hook(mod, args, kwargs, adapter=adapter):
            tok = attn_maps_on.get("tokens")
            if tok is None:
                adapter.mask = None
                return
            h = args[0] if args else kwargs["hidden_states"]
            ctx = kwargs["encoder_hidden_states"]
            bias = kwargs.get("attention_mask")
            b, n, _ = h.shape
            heads = mod.heads
            with torch.no_grad():
                q = mod.to_q(h).view(b, n, heads, -1).transpose(1, 2)
                k = mod.to_k(ctx).view(b, ctx.shape[1], heads, -1).transpose(1, 2)
                sc = q @ k.transpose(-1, -2) * mod.scale
                if bias is not None:
                    sc = sc + bias.view(b, 1, 1, -1)
                p = sc.softmax(-1).mean(1)  # (b, n, L)
                m = (p * tok[:, None, :]).sum(-1)
                m = m / m.amax(1, keepdim=True).clamp_min(1e-12)
                adapter.mask = (m >= threshold).to(h.dtype)[..., None]

        handles.append(attn.register_forward_pre_hook(hook, with_kwargs=True))
    return handles


@register("receler", kind="fine-tuning",
          summary="Receler: eraser modules after cross-attention, localised, adversarial")
def _receler(model, spec, *, iterations: int = 100, lr: float = 3e-3, eta: float = 1.0,
             batch_size: int = 16, pool_images: int = 32, pool_steps: int = 20, rank: int = 8,
             reg_weight: float = 1.0, mask_threshold: float = 0.5, adv_tokens: int = 1,
             attack_steps: int = 3, attack_step_size: float = 0.01, attack_every: int = 10,
             seed: int = 0):
    torch = _torch.torch()
    _check_common(iterations, lr, batch_size, pool_images, pool_steps, eta)
    _num(reg_weight, "reg_weight")
    _num(mask_threshold, "mask_threshold", 0.0, 1.0)
    _int(adv_tokens, "adv_tokens")
    _int(attack_steps, "attack_steps", 0)
    _num(attack_step_size, "attack_step_size")
    _int(attack_every, "attack_every")
    s = _Setup(model, spec, pool_images=pool_images, pool_steps=pool_steps, seed=seed)
    model.apply_patch("receler-erasers", rank=_int(rank, "rank"))
    adapters = [attn.to_out[1] for _, attn in model.cross_attentions()]
    params = [p for a in adapters for p in a.parameters()]
    enc = model.text_encoder
    ids, mask = enc.tokenize(s.prompts)
    tok = torch.from_numpy(concept_token_mask(enc, s.prompts, spec.target))
    k = _int(adv_tokens, "adv_tokens")
    tok_adv = torch.cat([tok[:, :1], torch.zeros((len(tok), k)), tok[:, 1:-k]], dim=1)
    maps = {}
    handles = _attention_masks(model, maps, mask_threshold)
    unet = model.unet
    state = {"delta": _adversary(enc, k, s.rng), "it": 0}

    def loss_at(x, t, st, m, toks, target, with_reg=True):
        maps["tokens"] = toks if with_reg and reg_weight else None
        pred = unet(x, t, encoder_hidden_states=st, encoder_attention_mask=m).sample
        loss = _mse(pred, target)
        if maps["tokens"] is not None:
            loss = loss + reg_weight * sum(a.reg for a in adapters) / len(adapters)
        return loss

    def step():
        x, t, i = s.batch(batch_size)
        target = s.esd_target(x, t, i, eta)
        loss = loss_at(x, t, s.c[i], s.cm[i], tok[i], target)
        if attack_steps:
            if state["it"] % attack_every == 0:
                state["delta"] = _adversary(enc, k, s.rng)

            def adv_loss(d):
                st, m = _with_prefix(enc, ids[i], mask[i], d)
                return loss_at(x, t, st, m, tok_adv[i], target, with_reg=False)

            state["delta"] = _attack_step(state["delta"], adv_loss, steps=attack_steps,
                                          step_size=attack_step_size)
            with torch.no_grad():
                st, m = _with_prefix(enc, ids[i], mask[i], state["delta"])
            loss = loss + loss_at(x, t, st, m, tok_adv[i], target)
        state["it"] += 1
        return loss

    try:
        losses = _train(params, step, iterations=iterations, lr=lr, model=model)
    finally:
        for h in handles:
            h.remove()
        for a in adapters:
            a.mask, a.reg = None, None
    return {"losses": losses, "tuned": int(sum(p.numel() for p in params)),
            "adapters": len(adapters), "rank": rank}


# -- TRCE ----------------------------------------------------------------------------------
def _context_prompts(target: str) -> list[str]:
    if data.is_style(target):
        words = [f"{w} {d}" for w in data.STYLE_WORDS[target]["train"]
                 for d in ("seven", "two")]
    else:
        words = [target, str(data.DIGITS.index(target))]
    return [c.format(w=w) for c in CONTEXTS for w in words]


def _trce_anchor(prompt: str, spec) -> str:
    if not spec.is_style:
        return spec.anchor
    from .erasers import _anchor_for_style

    return _anchor_for_style(prompt, spec.target, spec.anchor)


@register("trce", kind="fine-tuning",
          summary="TRCE: UCE incl. [EoT] states of context prompts, then contrastive "
                  "early-step fine-tuning")
def _trce(model, spec, *, lam: float = 0.5, s_eot: float = 1.0, iterations: int = 100,
          lr: float = 1e-4, margin: float = 0.05, push_weight: float = 1.0,
          preserve_weight: float = 1.0, early_from: float = 0.5, batch_size: int = 16,
          pool_images: int = 32, pool_steps: int = 20, seed: int = 0):
    from ..closed_form import uce_many
    from .erasers import _states, _weights, _write

    torch = _torch.torch()
    _check_common(iterations, lr, batch_size, pool_images, pool_steps, 0.0)
    _num(lam, "lam")
    _num(s_eot, "s_eot")
    _num(margin, "margin")
    _num(push_weight, "push_weight")
    _num(preserve_weight, "preserve_weight")
    _num(early_from, "early_from", 0.0, 1.0)
    s = _Setup(model, spec, pool_images=pool_images, pool_steps=pool_steps, seed=seed)
    # stage 1: closed form, target token states plus [CLS]/[SEP] states of context prompts
    E, G, P = erase_keys(model, spec)
    ctx = _context_prompts(spec.target)
    ctx_states = _states(model, ctx)
    anc = _states(model, list(dict.fromkeys(_trce_anchor(p, spec) for p in ctx)))
    anc_of = dict(zip(dict.fromkeys(_trce_anchor(p, spec) for p in ctx), anc))
    w = float(np.sqrt(s_eot))
    extra_e, extra_g = [], []
    for p, st in zip(ctx, ctx_states):
        a = anc_of[_trce_anchor(p, spec)]
        extra_e += [w * st[0], w * st[-1]]
        extra_g += [w * a[0], w * a[-1]]
    EE, GG = np.vstack([E, extra_e]), np.vstack([G, extra_g])
    layers = projections(model)
    _write(layers, uce_many(_weights(layers), EE, GG, P, lam=lam))
    # stage 2: contrastive fine-tuning of the cross-attention on the early steps
    T = int(s.t.max())
    early = s.t >= (1.0 - early_from) * T if early_from < 1.0 else s.t >= 0
    ex, et, ei = s.x[early], s.t[early], s.i[early]
    _, px, pt, pi, p_states, p_mask = s.preserve_pool(
        spec, n_prompts=16, pool_images=pool_images, pool_steps=pool_steps, seed=seed)
    pe = pt >= (1.0 - early_from) * T if early_from < 1.0 else pt >= 0
    px, pt, pi = px[pe], pt[pe], pi[pe]
    params = _select(model.unet, lambda n: "attn2" in n)
    unet = model.unet

    def step():
        x, t, i = s.batch(batch_size, ex, et, ei)
        n = len(x)
        with torch.no_grad():
            e = s.ref_eps(torch.cat([x, x]), torch.cat([t, t]), torch.cat([s.c[i], s.a[i]]),
                          torch.cat([s.cm[i], s.am[i]]))
        neg, pos = e[:n], e[n:]
        pred = unet(x, t, encoder_hidden_states=s.c[i], encoder_attention_mask=s.cm[i]).sample
        d_neg = ((pred - neg) ** 2).mean((1, 2, 3))
        loss = _mse(pred, pos) + push_weight * torch.relu(margin - d_neg).mean()
        if preserve_weight:
            xr, tr, ir = s.batch(batch_size, px, pt, pi)
            pr = unet(xr, tr, encoder_hidden_states=p_states[ir],
                      encoder_attention_mask=p_mask[ir]).sample
            loss = loss + preserve_weight * _mse(pr, s.ref_eps(xr, tr, p_states[ir],
                                                               p_mask[ir]))
        return loss

    losses = _train(params, step, iterations=iterations, lr=lr, model=model)
    return {"losses": losses, "erase_keys": int(EE.shape[0]), "context_prompts": len(ctx),
            "early_rows": int(len(ex)), "tuned": int(sum(p.numel() for p in params))}


# -- ACE -----------------------------------------------------------------------------------
@register("ace", kind="fine-tuning",
          summary="ACE: erasure guidance on the conditional and unconditional predictions, "
                  "prior preservation")
def _ace(model, spec, *, iterations: int = 100, lr: float = 1e-4, eta: float = 1.0,
         eta_uncond: float = 1.0, preserve_weight: float = 1.0, real_fraction: float = 0.5,
         batch_size: int = 16, pool_images: int = 32, pool_steps: int = 20, seed: int = 0):
    torch = _torch.torch()
    _check_common(iterations, lr, batch_size, pool_images, pool_steps, eta)
    _num(eta_uncond, "eta_uncond")
    _num(preserve_weight, "preserve_weight")
    _num(real_fraction, "real_fraction", 0.0, 1.0)
    s = _Setup(model, spec, pool_images=pool_images, pool_steps=pool_steps, seed=seed)
    n_real = int(round(real_fraction / max(1e-9, 1 - real_fraction) * len(s.x))) \
        if real_fraction < 1 else len(s.x)
    if n_real:
        rx, rt, ri = _real_pool(model, spec.target, n_real, s.rng, s.gen)
        X, Tt, I = torch.cat([s.x, rx]), torch.cat([s.t, rt]), torch.cat([s.i, ri])
    else:
        X, Tt, I = s.x, s.t, s.i
    _, px, pt, pi, p_states, p_mask = s.preserve_pool(
        spec, n_prompts=16, pool_images=pool_images, pool_steps=pool_steps, seed=seed)
    params = _select(model.unet, lambda n: "attn2" in n)
    unet = model.unet

    def step():
        x, t, i = s.batch(batch_size, X, Tt, I)
        n = len(x)
        with torch.no_grad():
            e = s.ref_eps(torch.cat([x, x, x]), torch.cat([t, t, t]),
                          torch.cat([s.c[i], s.a[i], s.u.expand(n, -1, -1)]),
                          torch.cat([s.cm[i], s.am[i], s.um.expand(n, -1)]))
        e_c, e_a, e_u = e[:n], e[n:2 * n], e[2 * n:]
        tgt_c = e_a - eta * (e_c - e_a)
        tgt_u = e_u - eta_uncond * (e_c - e_u)
        pred = unet(torch.cat([x, x]), torch.cat([t, t]),
                    encoder_hidden_states=torch.cat([s.c[i], s.u.expand(n, -1, -1)]),
                    encoder_attention_mask=torch.cat([s.cm[i], s.um.expand(n, -1)])).sample
        loss = _mse(pred[:n], tgt_c) + _mse(pred[n:], tgt_u)
        if preserve_weight:
            xr, tr, ir = s.batch(batch_size, px, pt, pi)
            m = len(xr)
            ctx = torch.cat([p_states[ir], s.u.expand(m, -1, -1)])
            msk = torch.cat([p_mask[ir], s.um.expand(m, -1)])
            xx, tt = torch.cat([xr, xr]), torch.cat([tr, tr])
            pr = unet(xx, tt, encoder_hidden_states=ctx, encoder_attention_mask=msk).sample
            loss = loss + preserve_weight * _mse(pr, s.ref_eps(xx, tt, ctx, msk))
        return loss

    losses = _train(params, step, iterations=iterations, lr=lr, model=model)
    return {"losses": losses, "tuned": int(sum(p.numel() for p in params)),
            "real_rows": n_real, "pool": int(len(X))}


# -- few-shot text-encoder erasure ---------------------------------------------------------
def layer_changes(before, after) -> list[tuple[str, float]]:
    """Relative weight change ``‖ΔW‖ / ‖W‖`` per text-encoder block (embeddings, each layer's
    attention and feed-forward), largest first."""
    torch = _torch.torch()
    sa, sb = before.state_dict(), after.state_dict()
    num: dict[str, float] = {}
    den: dict[str, float] = {}
    for k, v in sb.items():
        if not v.is_floating_point():
            continue
        parts = k.split(".")
        if parts[0] == "embeddings":
            g = "embeddings"
        elif parts[0] == "encoder":
            sub = "attention" if parts[3] == "attention" else "feed-forward"
            g = f"layer{parts[2]}.{sub}"
        else:
            g = parts[0]
        num[g] = num.get(g, 0.0) + float(torch.sum((v - sa[k]) ** 2))
        den[g] = den.get(g, 0.0) + float(torch.sum(sa[k] ** 2))
    out = [(g, float(np.sqrt(num[g] / max(den[g], 1e-30)))) for g in num]
    return sorted(out, key=lambda kv: -kv[1])


@register("fewshot-te", kind="fine-tuning",
          summary="few-shot text-encoder erasure: real images, target prompt to the anchor")
def _fewshot_te(model, spec, *, shots: int = 4, iterations: int = 30, lr: float = 1e-4,
                batch_size: int = 16, seed: int = 0):
    torch = _torch.torch()
    _int(shots, "shots")
    _int(iterations, "iterations", 0)
    _num(lr, "lr")
    _int(batch_size, "batch_size")
    ref_bert = model.copy().text_encoder.bert
    rng = np.random.default_rng([seed, 0xF5])
    gen = _torch.generator(seed)
    enc = model.text_encoder
    prompts = list(spec.prompts)
    a_states, a_mask = model.encode(list(spec.anchor_prompts))
    ids, mask = enc.tokenize(prompts)
    if data.is_style(spec.target):
        x, d, _ = data.images("train", spec.target)
    else:
        x = data.real(spec.target, "train")
        d = np.full(len(x), data.DIGITS.index(spec.target))
    sel = rng.choice(len(x), size=min(shots, len(x)), replace=False)
    x0 = torch.from_numpy(x[sel] * 2.0 - 1.0)[:, None].float()
    # each shot is paired with the training prompts that fit it (its digit, for a style)
    fits = []
    for k in d[sel]:
        w = data.DIGITS[int(k)]
        c = [j for j, p in enumerate(prompts) if not spec.is_style or w in p.split()
             or str(int(k)) in p.split()]
        fits.append(c or list(range(len(prompts))))
    T = model.noise_scheduler.config.num_train_timesteps
    unet = model.unet
    unet.requires_grad_(False)
    params = list(enc.bert.parameters())

    def step():
        b = rng.integers(len(x0), size=batch_size)
        pi = torch.tensor([fits[j][int(rng.integers(len(fits[j])))] for j in b])
        xb = x0[torch.from_numpy(b)]
        t = torch.randint(0, T, (batch_size,), generator=gen)
        xt = model.noise_scheduler.add_noise(xb, torch.randn(xb.shape, generator=gen), t)
        with torch.no_grad():
            target = unet(xt, t, encoder_hidden_states=a_states[pi],
                          encoder_attention_mask=a_mask[pi]).sample
        st = enc.states(ids[pi], mask[pi])
        pred = unet(xt, t, encoder_hidden_states=st, encoder_attention_mask=mask[pi]).sample
        return _mse(pred, target)

    losses = _train(params, step, iterations=iterations, lr=lr, model=model)
    changes = layer_changes(ref_bert, enc.bert)
    return {"losses": losses, "shots": int(len(sel)), "tuned": int(sum(p.numel()
                                                                        for p in params)),
            "layers": [[g, round(v, 6)] for g, v in changes[:6]]}
