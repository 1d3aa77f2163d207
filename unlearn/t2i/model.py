"""``T2IModel``: a small text-to-image diffusion model (diffusers UNet + MiniLM text encoder).

The parts are those of Stable Diffusion at a laptop's scale: a
``diffusers.UNet2DConditionModel`` denoiser with cross-attention on the MiniLM token states
(:class:`unlearn.t2i.text.TextEncoder`), trained with DDPM's noise-prediction loss and
sampled with DDIM and classifier-free guidance (the unconditional branch is the empty prompt).
Images are 16×16, one channel, pixels in [0, 1] (the denoiser works on [-1, 1]).

What fine-tuning methods need is exposed: :attr:`T2IModel.unet`,
:attr:`T2IModel.text_encoder` (``.bert`` is the torch module), :attr:`T2IModel.noise_scheduler`
(DDPM, for training losses), :meth:`T2IModel.sampler` (a fresh DDIM scheduler),
:meth:`T2IModel.encode` (prompts to context states and mask), :meth:`T2IModel.eps` (one guided
or unguided noise prediction), :meth:`T2IModel.sample` (DDIM from given context states, with
an optional start step for SDEdit-style editing) and :meth:`T2IModel.copy`.

Examples
--------
>>> from unlearn.t2i import pretrained
>>> model = pretrained("digits")
>>> x = model.generate(["the number 7", "a handwritten digit two"], n_per_prompt=2, seed=0,
...                    steps=10)
>>> x.shape, float(x.min()) >= 0.0, float(x.max()) <= 1.0
((4, 16, 16), True, True)
>>> bool((x == model.generate(["the number 7", "a handwritten digit two"], n_per_prompt=2,
...                           seed=0, steps=10)).all())
True
"""

from __future__ import annotations

import copy as _copy
import functools
import hashlib
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from . import _torch
from .text import MAX_TOKENS, TextEncoder, check_prompts, pinned_state

__all__ = [
    "DEFAULT_GUIDANCE",
    "DEFAULT_STEPS",
    "PRETRAINED",
    "UNET_CONFIG",
    "T2IModel",
    "pretrained",
    "register_patch",
]

#: The denoiser's architecture (0.90 M parameters): two resolutions, cross-attention on the
#: MiniLM states at both and in the middle block (four ``attn2`` layers).
UNET_CONFIG = {
    "sample_size": 16,
    "in_channels": 1,
    "out_channels": 1,
    "layers_per_block": 1,
    "block_out_channels": [32, 64],
    "down_block_types": ["CrossAttnDownBlock2D", "DownBlock2D"],
    "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D"],
    "cross_attention_dim": 384,
    "attention_head_dim": 2,
    "norm_num_groups": 8,
}
#: The noise schedule (DDPM's linear betas), shared by training and sampling.
SCHEDULE = {"num_train_timesteps": 1000, "beta_start": 1e-4, "beta_end": 0.02,
            "beta_schedule": "linear", "clip_sample": True, "prediction_type": "epsilon"}
DEFAULT_STEPS = 25
DEFAULT_GUIDANCE = 1.5

_WEIGHTS = Path(__file__).parent / "weights"
#: Shipped models: name -> (file, sha256 of the file).
PRETRAINED = {
    "digits": ("digits.safetensors",
               "674986aacd825ce0eba3ff1e39395cbb73f62a52444eeea7870f12a2fe736762"),
}

#: Structural patches (e.g. adapter modules) re-applied by :meth:`T2IModel.load` before the
#: weights are read: name -> fn(model, **options).  See :func:`register_patch`.
_PATCHES: dict[str, Callable] = {}


def register_patch(name: str, fn: Callable) -> None:
    """Register a structural change to a model so that saved models carrying it load again.

    A method that adds modules (adapters after cross-attention, say) calls
    ``model.apply_patch(name, **options)``; :meth:`T2IModel.save` records ``(name, options)``
    and :meth:`T2IModel.load` calls ``fn(model, **options)`` on a fresh model before loading
    the state dict.  ``options`` must be JSON-serialisable.
    """
    if not isinstance(name, str) or not name:
        raise ValueError("name must be a non-empty string")
    if not callable(fn):
        raise TypeError("fn must be callable")
    _PATCHES[name] = fn


def _check_int(v, name: str, lo: int) -> int:
    if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < lo:
        raise ValueError(f"{name} must be an int >= {lo}, got {v!r}")
    return int(v)


def _check_float(v, name: str, lo: float = 0.0) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number, got {v!r}") from None
    if not np.isfinite(f) or f < lo:
        raise ValueError(f"{name} must be finite and >= {lo}, got {v!r}")
    return f


class T2IModel:
    """A text-to-image diffusion model: MiniLM text encoder + diffusers UNet + DDPM/DDIM.

    Build one with :func:`pretrained`, :meth:`load` or ``T2IModel()`` (random denoiser).

    Parameters
    ----------
    unet_config : dict, optional
        ``UNet2DConditionModel`` keyword arguments (default :data:`UNET_CONFIG`).
    seed : int
        Seed of the denoiser's random initialisation.
    max_tokens : int
        Context length of the text encoder.

    Attributes
    ----------
    unet : diffusers.UNet2DConditionModel
    text_encoder : unlearn.t2i.text.TextEncoder
    noise_scheduler : diffusers.DDPMScheduler
    info : dict
        Free-form provenance (training recipe, erasure history), saved with the model.
    """

    def __init__(self, unet_config: dict | None = None, *, seed: int = 0,
                 max_tokens: int = MAX_TOKENS, _text_encoder: TextEncoder | None = None):
        torch = _torch.torch()
        d = _torch.diffusers()
        cfg = dict(UNET_CONFIG if unet_config is None else unet_config)
        torch.manual_seed(int(seed))
        self.unet = d.UNet2DConditionModel(**cfg)
        self.unet.eval()
        self.unet_config = cfg
        self.text_encoder = _text_encoder if _text_encoder is not None else TextEncoder(
            max_tokens)
        self.noise_scheduler = d.DDPMScheduler(**SCHEDULE)
        self.info: dict = {}
        self.patches: list[dict] = []

    # -- structure --------------------------------------------------------------------------
    @property
    def size(self) -> int:
        return int(self.unet_config["sample_size"])

    def cross_attentions(self) -> list[tuple[str, object]]:
        """``(name, module)`` of every cross-attention layer (``attn2``) of the UNet."""
        return [(n, m) for n, m in self.unet.named_modules() if n.endswith("attn2")]

    def apply_patch(self, name: str, **options) -> None:
        """Apply a registered structural patch and record it (see :func:`register_patch`)."""
        if name not in _PATCHES:
            raise ValueError(f"name: unknown patch {name!r}; registered: {sorted(_PATCHES)}")
        _PATCHES[name](self, **options)
        self.patches.append({"name": name, "options": options})

    def copy(self) -> T2IModel:
        """An independent deep copy (denoiser, text encoder, info)."""
        new = T2IModel.__new__(T2IModel)
        new.unet = _copy.deepcopy(self.unet)
        new.unet_config = dict(self.unet_config)
        te = TextEncoder.__new__(TextEncoder)
        te.__dict__.update(self.text_encoder.__dict__)
        te.bert = _copy.deepcopy(self.text_encoder.bert)
        new.text_encoder = te
        new.noise_scheduler = self.noise_scheduler
        new.info = json.loads(json.dumps(self.info))
        new.patches = json.loads(json.dumps(self.patches))
        return new

    # -- conditioning -----------------------------------------------------------------------
    def encode(self, prompts, *, name: str = "prompts"):
        """Context states and mask of prompts: ``(n, L, 384)`` and ``(n, L)`` tensors."""
        return self.text_encoder.encode(prompts, name=name)

    def eps(self, x, t, context, mask, *, uncond=None, guidance: float | None = None):
        """Noise prediction at ``x`` (``(n, 1, H, W)``), step ``t``, for context states.

        With ``uncond=(states, mask)`` (one row, broadcast) and ``guidance`` g, returns the
        classifier-free guided ``ε_u + g (ε_c − ε_u)``; otherwise the conditional ``ε_c``.
        """
        torch = _torch.torch()
        n = x.shape[0]
        if not torch.is_tensor(t) or t.ndim == 0:
            t = torch.full((n,), int(t), dtype=torch.long)
        if uncond is None or guidance is None:
            return self.unet(x, t, encoder_hidden_states=context,
                             encoder_attention_mask=mask).sample
        us, um = uncond
        ctx = torch.cat([us.expand(n, -1, -1), context])
        msk = torch.cat([um.expand(n, -1), mask])
        out = self.unet(torch.cat([x, x]), torch.cat([t, t]), encoder_hidden_states=ctx,
                        encoder_attention_mask=msk).sample
        e_u, e_c = out[:n], out[n:]
        return e_u + guidance * (e_c - e_u)

    def sampler(self, steps: int = DEFAULT_STEPS):
        """A fresh DDIM scheduler (η = 0) with ``steps`` inference steps set."""
        d = _torch.diffusers()
        s = d.DDIMScheduler(**SCHEDULE, set_alpha_to_one=False)
        s.set_timesteps(int(steps))
        return s

    # -- sampling ---------------------------------------------------------------------------
    def noise(self, n: int, seed: int):
        """The initial noise of ``n`` images for a seed, ``(n, 1, H, W)`` (seeded, CPU)."""
        torch = _torch.torch()
        return torch.randn((n, 1, self.size, self.size), generator=_torch.generator(seed))

    def sample(self, context, mask, *, seed: int = 0, steps: int = DEFAULT_STEPS,
               guidance: float = DEFAULT_GUIDANCE, batch_size: int = 512, x=None,
               start_step: int = 0, grad: bool = False):
        """DDIM with classifier-free guidance from context states; returns ``(n, 1, H, W)`` in
        [-1, 1].

        ``x`` replaces the seeded initial noise; ``start_step`` skips the first DDIM steps
        (``x`` must then be an image noised to that step: SDEdit).  ``grad=True`` keeps the
        autograd graph (for attacks that differentiate through sampling).
        """
        torch = _torch.torch()
        n = context.shape[0]
        sched = self.sampler(steps)
        x = self.noise(n, seed) if x is None else x
        uncond = self.encode([""])
        outs = []
        ctxm = torch.enable_grad() if grad else torch.no_grad()
        with ctxm:
            for lo in range(0, n, batch_size):
                xb = x[lo:lo + batch_size]
                cb, mb = context[lo:lo + batch_size], mask[lo:lo + batch_size]
                for t in sched.timesteps[start_step:]:
                    e = self.eps(xb, t, cb, mb, uncond=uncond, guidance=guidance)
                    xb = sched.step(e, t, xb).prev_sample
                outs.append(xb)
        return torch.cat(outs) if outs else x[:0]

    def generate(self, prompts, *, n_per_prompt: int = 1, seed: int = 0,
                 steps: int = DEFAULT_STEPS, guidance: float = DEFAULT_GUIDANCE,
                 batch_size: int = 512) -> np.ndarray:
        """Images for prompts: ``(len(prompts) * n_per_prompt, H, W)`` float32 in [0, 1].

        Images are prompt-major (``n_per_prompt`` consecutive images per prompt) and
        deterministic given ``seed`` (the initial noise of all images is drawn from one
        seeded generator, and DDIM with η = 0 adds no other randomness).

        Raises
        ------
        ValueError / TypeError
            Naming ``prompts`` (not strings, longer than the context), ``n_per_prompt``,
            ``steps``, ``guidance`` or ``seed``.
        """
        torch = _torch.torch()
        prompts = check_prompts(prompts)
        n_per = _check_int(n_per_prompt, "n_per_prompt", 1)
        steps = _check_int(steps, "steps", 1)
        if steps > SCHEDULE["num_train_timesteps"]:
            raise ValueError(f"steps must be <= {SCHEDULE['num_train_timesteps']}, got {steps}")
        guidance = _check_float(guidance, "guidance")
        seed = _check_int(seed, "seed", 0)
        batch_size = _check_int(batch_size, "batch_size", 1)
        if not prompts:
            return np.zeros((0, self.size, self.size), np.float32)
        uniq = list(dict.fromkeys(prompts))
        states, mask = self.encode(uniq)
        idx = torch.tensor([uniq.index(p) for p in prompts for _ in range(n_per)])
        x = self.sample(states[idx], mask[idx], seed=seed, steps=steps, guidance=guidance,
                        batch_size=batch_size)
        return ((x[:, 0].clamp(-1, 1) + 1) / 2).numpy().astype(np.float32)

    # -- persistence ------------------------------------------------------------------------
    def state_tensors(self) -> dict:
        """The tensors :meth:`save` writes: the UNet's, and the text encoder's that differ
        from the pinned MiniLM weights (prefixed ``text_encoder.``)."""
        torch = _torch.torch()
        out = {f"unet.{k}": v.detach().contiguous() for k, v in self.unet.state_dict().items()}
        pinned = pinned_state()
        for k, v in self.text_encoder.bert.state_dict().items():
            ref = pinned.get(k)
            if ref is None or ref.shape != v.shape or not torch.equal(ref, v):
                if "position_ids" in k:
                    continue
                out[f"text_encoder.{k}"] = v.detach().contiguous()
        return out

    def save(self, path: str | os.PathLike) -> str:
        """Write the model to one ``.safetensors`` file (config and info in its metadata).

        Only text-encoder tensors that differ from the pinned MiniLM weights are written, so
        a model with the stock encoder takes ~3.6 MB.  Returns the file's sha256.
        """
        from safetensors.torch import save_file

        path = Path(path)
        if path.suffix != ".safetensors":
            raise ValueError(f"path must end in .safetensors, got {str(path)!r}")
        meta = {"format": "erasurelab.t2i/1",
                "unet_config": json.dumps(self.unet_config, sort_keys=True),
                "max_tokens": str(self.text_encoder.max_tokens),
                "schedule": json.dumps(SCHEDULE, sort_keys=True),
                "patches": json.dumps(self.patches, sort_keys=True),
                "info": json.dumps(self.info, sort_keys=True)}
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        save_file(self.state_tensors(), str(tmp), metadata=meta)
        os.replace(tmp, path)
        return _sha256(path)

    @classmethod
    def load(cls, path: str | os.PathLike, *, sha256: str | None = None) -> T2IModel:
        """Read a model written by :meth:`save`; with ``sha256``, check the file first."""
        from safetensors import safe_open

        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"path: no model file at {path}")
        if sha256 is not None:
            digest = _sha256(path)
            if digest != sha256:
                raise ValueError(f"path: {path} has sha256 {digest}, expected {sha256}")
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            if meta.get("format") != "erasurelab.t2i/1":
                raise ValueError(f"path: {path} is not an erasurelab t2i model file")
            tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
        if json.loads(meta["schedule"]) != SCHEDULE:
            raise ValueError(f"path: {path} was trained with another noise schedule")
        model = cls(json.loads(meta["unet_config"]), max_tokens=int(meta["max_tokens"]))
        for p in json.loads(meta.get("patches", "[]")):
            model.apply_patch(p["name"], **p["options"])
        unet = {k[5:]: v for k, v in tensors.items() if k.startswith("unet.")}
        model.unet.load_state_dict(unet, strict=True)
        te = {k[13:]: v for k, v in tensors.items() if k.startswith("text_encoder.")}
        if te:
            model.text_encoder.bert.load_state_dict(te, strict=False)
        model.info = json.loads(meta.get("info", "{}"))
        return model

    def __repr__(self) -> str:
        n = sum(p.numel() for p in self.unet.parameters())
        return (f"T2IModel(unet={n / 1e6:.2f}M params, {self.size}x{self.size}, "
                f"text=MiniLM-L6 ({self.text_encoder.max_tokens} tokens))")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@functools.lru_cache(maxsize=4)
def _load_pretrained(name: str) -> T2IModel:
    fname, digest = PRETRAINED[name]
    return T2IModel.load(_WEIGHTS / fname, sha256=digest)


def pretrained(name: str = "digits") -> T2IModel:
    """A shipped, trained model (a fresh copy each call; the file's sha256 is checked).

    ``"digits"``: the digits-and-styles model trained by ``scripts/t2i_train.py`` (recipe and
    cost in ``model.info["training"]``).
    """
    if name not in PRETRAINED:
        raise ValueError(f"name must be one of {sorted(PRETRAINED)}, got {name!r}")
    t0 = time.perf_counter()
    model = _load_pretrained(name).copy()
    model.info.setdefault("loaded_seconds", round(time.perf_counter() - t0, 3))
    return model
