"""Training the digits model: DDPM's noise-prediction loss, EMA weights, a seeded recipe.

:func:`train` is what ``scripts/t2i_train.py`` runs to make the shipped weights (and what a
test runs for a few steps).  Each step draws a batch of real training images — plain with
probability ``1 - p_style``, else one of the styles — each with one of its training prompts
(:func:`unlearn.t2i.data.training_pairs`), replaces the prompt by the empty one with
probability ``p_uncond`` (so the model learns the unconditional branch of classifier-free
guidance), noises the images to uniform random steps and regresses the noise (plain MSE).
The text encoder is frozen, so the context states of every training prompt are computed once.

AdamW (weight decay ``weight_decay``), learning rate ``lr`` with a linear warm-up of
``warmup`` steps and cosine decay to 0, and an exponential moving average of the weights
(decay ``ema``) which becomes the model's weights at the end.

Examples
--------
>>> from unlearn.t2i.model import T2IModel
>>> from unlearn.t2i.train import train
>>> m = T2IModel(seed=0)
>>> hist = train(m, steps=3, batch_size=8, seed=0)
>>> len(hist["loss"]), hist["recipe"]["batch_size"]
(3, 8)
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from . import _torch
from .data import STYLES, training_pairs

__all__ = ["RECIPE", "train"]

#: The default recipe (the shipped model's, apart from ``steps``; see ``model.info``).
RECIPE = {"batch_size": 32, "lr": 1e-3, "warmup": 50, "weight_decay": 1e-4, "ema": 0.995,
          "p_uncond": 0.1, "p_style": 0.5}


def train(model, *, steps: int, seed: int = 0, batch_size: int = RECIPE["batch_size"],
          lr: float = RECIPE["lr"], warmup: int = RECIPE["warmup"],
          weight_decay: float = RECIPE["weight_decay"], ema: float = RECIPE["ema"],
          p_uncond: float = RECIPE["p_uncond"], p_style: float = RECIPE["p_style"],
          log: Callable[[dict], None] | None = None, log_every: int = 50,
          checkpoint: Callable[[object, int], None] | None = None,
          checkpoint_every: int = 0) -> dict:
    """Train ``model.unet`` in place; return the history (loss per step, recipe, seconds).

    Parameters
    ----------
    model : T2IModel
    steps : int >= 1
    seed : int
        Seeds the batch draws, noise and timesteps (runs are deterministic given the seed
        and the thread count).
    batch_size, lr, warmup, weight_decay, ema, p_uncond, p_style
        The recipe (:data:`RECIPE`).  ``ema = 0`` keeps the raw weights.
    log : callable, optional
        Called every ``log_every`` steps with ``{"step", "loss", "lr", "seconds"}``.
    checkpoint : callable, optional
        Called every ``checkpoint_every`` steps with ``(ema_model_copy, step)``.
    """
    torch = _torch.torch()
    d = _torch.diffusers()
    for name, v, lo in (("steps", steps, 1), ("batch_size", batch_size, 1), ("warmup", warmup, 0),
                        ("log_every", log_every, 1), ("checkpoint_every", checkpoint_every, 0)):
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise ValueError(f"{name} must be an int >= {lo}, got {v!r}")
    for name, v in (("p_uncond", p_uncond), ("p_style", p_style)):
        if not 0.0 <= float(v) <= 1.0:
            raise ValueError(f"{name} must lie in [0, 1], got {v!r}")
    if not 0.0 <= float(ema) < 1.0:
        raise ValueError(f"ema must lie in [0, 1), got {ema!r}")
    if not float(lr) > 0:
        raise ValueError(f"lr must be > 0, got {lr!r}")
    recipe = {"steps": steps, "seed": seed, "batch_size": batch_size, "lr": lr, "warmup": warmup,
              "weight_decay": weight_decay, "ema": ema, "p_uncond": p_uncond, "p_style": p_style,
              "threads": torch.get_num_threads()}
    x_all, _, s_all, prompt_lists = training_pairs()
    uniq = sorted({p for pl in prompt_lists for p in pl} | {""})
    pid = {p: i for i, p in enumerate(uniq)}
    states, mask = model.encode(uniq)
    states, mask = states.detach(), mask.detach()
    lists = [np.array([pid[p] for p in pl]) for pl in prompt_lists]
    by_style = [np.flatnonzero(s_all == k) for k in range(len(STYLES))]
    x_t = torch.from_numpy(x_all * 2.0 - 1.0)[:, None]
    rng = np.random.default_rng([int(seed), 0x7215])
    gen = _torch.generator(seed)
    unet = model.unet
    unet.train()
    params = [p for p in unet.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    sched = d.optimization.get_cosine_schedule_with_warmup(opt, warmup, steps)
    shadow = [p.detach().clone() for p in params] if ema > 0 else None
    T = model.noise_scheduler.config.num_train_timesteps
    empty = pid[""]
    hist = {"loss": [], "recipe": recipe}
    t0 = time.perf_counter()
    for step in range(1, steps + 1):
        plain = rng.random(batch_size) >= p_style
        kind = np.where(plain, 0, rng.integers(1, len(STYLES), batch_size))
        idx = np.array([by_style[k][rng.integers(by_style[k].size)] for k in kind])
        pr = np.array([lists[i][rng.integers(lists[i].size)] for i in idx])
        pr[rng.random(batch_size) < p_uncond] = empty
        x0 = x_t[idx]
        noise = torch.randn(x0.shape, generator=gen)
        t = torch.randint(0, T, (batch_size,), generator=gen)
        xt = model.noise_scheduler.add_noise(x0, noise, t)
        pr_t = torch.from_numpy(pr)
        pred = unet(xt, t, encoder_hidden_states=states[pr_t],
                    encoder_attention_mask=mask[pr_t]).sample
        loss = torch.nn.functional.mse_loss(pred, noise)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if shadow is not None:
            with torch.no_grad():
                for s, p in zip(shadow, params):
                    s.mul_(ema).add_(p.detach(), alpha=1.0 - ema)
        hist["loss"].append(loss.item())
        if log is not None and (step % log_every == 0 or step == steps):
            log({"step": step, "loss": float(np.mean(hist["loss"][-log_every:])),
                 "lr": sched.get_last_lr()[0], "seconds": time.perf_counter() - t0})
        if checkpoint is not None and checkpoint_every and step % checkpoint_every == 0:
            snap = model.copy()
            if shadow is not None:
                _assign(snap.unet, shadow, params, unet)
            snap.unet.eval()
            checkpoint(snap, step)
    if shadow is not None:
        with torch.no_grad():
            for s, p in zip(shadow, params):
                p.copy_(s)
    unet.eval()
    hist["seconds"] = time.perf_counter() - t0
    hist["steps_per_second"] = steps / hist["seconds"]
    return hist


def _assign(target_unet, shadow, params, source_unet):
    """Copy EMA values into the matching parameters of a copied UNet."""
    torch = _torch.torch()
    names = {id(p): n for n, p in source_unet.named_parameters()}
    tp = dict(target_unet.named_parameters())
    with torch.no_grad():
        for s, p in zip(shadow, params):
            tp[names[id(p)]].copy_(s)
