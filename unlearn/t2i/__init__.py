"""unlearn.t2i: concept erasure in a small text-to-image diffusion model.

A MiniLM text encoder (``transformers.BertModel`` on the pinned all-MiniLM-L6-v2 weights), a
``diffusers.UNet2DConditionModel`` denoiser with cross-attention on its token states, DDPM
training and DDIM sampling with classifier-free guidance, trained on scikit-learn's real
handwritten digits with a second concept axis (styles); concept erasers
(:func:`erase`: UCE, RECE, RealEra, and a registry for more), attacks (:func:`attack`:
paraphrases, textual inversion, prompt search) and an evaluation harness (:func:`evaluate`).

Needs the torch stack: ``pip install 'erasurelab[t2i]'``.  Everything is imported on first
use, so ``import unlearn.t2i`` does not import torch.

Examples
--------
>>> import unlearn.t2i as t2i
>>> model = t2i.pretrained("digits")
>>> sevens = model.generate(["a handwritten digit seven"], n_per_prompt=4, seed=0)
>>> sevens.shape
(4, 16, 16)
>>> erased = t2i.erase(model, "seven", method="uce")
>>> sorted(t2i.METHODS)[:6]
['ace', 'advunlearn', 'esd-u', 'esd-x', 'fewshot-te', 'none']
"""

from __future__ import annotations

import importlib

__all__ = [
    "ATTACKS",
    "METHODS",
    "AttackResult",
    "T2IModel",
    "attack",
    "data",
    "erase",
    "evaluate",
    "pretrained",
    "register",
]

_WHERE = {
    "T2IModel": ".model",
    "pretrained": ".model",
    "erase": ".erasers",
    "register": ".erasers",
    "METHODS": ".erasers",
    "attack": ".attacks",
    "ATTACKS": ".attacks",
    "AttackResult": ".attacks",
    "evaluate": ".harness",
}
_MODULES = ("data", "evaluator", "model", "text", "train", "erasers", "attacks", "harness",
            "cli", "finetune", "bench")


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name], __name__), name)
    if name in _MODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'unlearn.t2i' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)

