"""``unlearn.t2i.erase``: concept erasers behind one entry point and a method registry.

``erase(model, target, *, method, anchor="", preserve=None, **options)`` copies the model,
runs the method on the copy and returns it; the input model is never modified.  Each method
is a function registered with :func:`register`, which declares its options and their
defaults; an option a method does not declare is refused by name.

What every method receives is an :class:`ErasureSpec`:

- ``prompts`` — the target's *training* phrasings (the only ones an eraser sees; held-out and
  implicit phrasings are kept for the evaluation);
- ``anchor_prompts`` — one per target prompt: for a digit, the anchor prompt itself (default
  the empty prompt, i.e. the unconditional branch); for a style, the same prompt with the
  style word replaced by the anchor (default: removed), so that the digit is kept;
- ``preserve_prompts`` — the training phrasings of every concept in ``preserve`` (default:
  every other digit and style; styled prompts of an erased digit are left out) and the empty
  prompt, whose output must not move because it is the unconditional branch of guidance.

Closed-form methods (this module):

- ``uce`` — Unified Concept Editing (Gandikota et al., WACV'24) on every cross-attention
  ``to_k`` and ``to_v`` at once, one key per *token state*: each kept token state of a target
  prompt is sent to the projection of the aligned token state of its anchor prompt
  (:func:`align`), the token states of the preserve prompts keep their projections
  (:func:`unlearn.closed_form.uce`; ridge ``lam``, weights ``s_erase``, ``s_preserve``).
- ``rece`` — RECE (Gong et al., ECCV'24): UCE, then ``rounds`` rounds in which the token
  states that the edited maps still send to the original projections of the target's states
  are derived in closed form, summed over all eight edited maps
  (:func:`unlearn.closed_form.rece_embedding`), and erased too.
- ``realera`` — RealEra (Liu et al.): UCE with neighbour concepts mined around each target
  token state (perturbations in a cosine band, erased like the target) and beyond-concept
  samples further out (preserved) (:func:`unlearn.closed_form.realera_sets`).  The paper's
  second stage, LoRA fine-tuning with a noise-alignment loss, is not included here.
- ``none`` — the identity (a reference row for tables).

Examples
--------
>>> from unlearn.t2i import pretrained, erase
>>> model = pretrained("digits")
>>> erased = erase(model, "seven", method="uce")
>>> erased.info["erasure"][-1]["method"], erased.info["erasure"][-1]["params_changed"] > 0
('uce', True)
>>> erase(model, "seven", method="uce", lamb=0.1)
Traceback (most recent call last):
...
TypeError: options: method 'uce' takes no option 'lamb'; it takes ['lam', 's_erase', 's_preserve']
"""

from __future__ import annotations

import inspect
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from . import _torch, data

__all__ = ["METHODS", "ErasureSpec", "Method", "align", "erase", "register", "spec_for"]


# -- registry ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Method:
    """A registered eraser: ``fn(model, spec, **options) -> dict`` edits ``model`` in place
    (it is always a copy) and returns details to record."""

    name: str
    fn: Callable
    options: dict
    kind: str
    summary: str


METHODS: dict[str, Method] = {}


def register(name: str, *, kind: str, summary: str = ""):
    """Decorator registering an eraser; its keyword-only parameters with defaults are its
    declared options.

    >>> @register("noop-demo", kind="closed-form", summary="does nothing")
    ... def _noop(model, spec, *, strength=1.0):
    ...     return {}
    >>> METHODS["noop-demo"].options
    {'strength': 1.0}
    >>> del METHODS["noop-demo"]
    """
    if not isinstance(name, str) or not name:
        raise ValueError("name must be a non-empty string")
    if kind not in ("closed-form", "fine-tuning", "reference"):
        raise ValueError(f"kind must be 'closed-form', 'fine-tuning' or 'reference', got {kind!r}")

    def deco(fn):
        sig = inspect.signature(fn)
        opts = {p.name: p.default for p in sig.parameters.values()
                if p.kind is inspect.Parameter.KEYWORD_ONLY}
        if any(v is inspect.Parameter.empty for v in opts.values()):
            raise TypeError(f"{name}: every option needs a default")
        METHODS[name] = Method(name, fn, opts, kind, summary or (fn.__doc__ or "").split("\n")[0])
        return fn

    return deco


# -- the erasure specification -------------------------------------------------------------
@dataclass
class ErasureSpec:
    """What an eraser is asked to do (built by :func:`spec_for`)."""

    target: str
    is_style: bool
    anchor: str
    prompts: list[str]
    anchor_prompts: list[str]
    preserve: list[str]
    preserve_prompts: list[str]
    extra: dict = field(default_factory=dict)


def _squash(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip(" ,")


def _anchor_for_style(prompt: str, style: str, anchor: str) -> str:
    words = data.STYLE_WORDS[style]["train"]
    out = prompt
    for w in sorted(words, key=len, reverse=True):
        out = re.sub(rf"\b{re.escape(w)}\b", anchor, out)
    out = out.replace(" in  strokes", "").replace("in strokes", "").replace("  ", " ")
    return _squash(out)


def _check_anchor(anchor, target: str) -> str:
    """The squashed anchor; refuses a non-string or the target itself."""
    if not isinstance(anchor, str):
        raise TypeError(f"anchor must be a string, got {type(anchor).__name__}")
    anchor = _squash(anchor)
    if anchor:
        try:
            same = data.concept(anchor) == target
        except (ValueError, TypeError):
            same = False
        if same or anchor in data.prompts(target, "train"):
            raise ValueError(f"anchor must differ from the target, got {anchor!r}")
    return anchor


def _split_preserve(preserve, target: str, prompts: list[str]) -> tuple[list[str], list[str]]:
    """``preserve`` as (concepts, free prompts); refuses the target and its prompts."""
    if preserve is None:
        return [c for c in data.concepts() if c != target], []
    if isinstance(preserve, str):
        preserve = [preserve]
    if not isinstance(preserve, Sequence):
        raise TypeError(f"preserve must be None or a sequence of concepts/prompts, got "
                        f"{type(preserve).__name__}")
    concepts, free = [], []
    for p in preserve:
        try:
            c = data.concept(p)
        except (ValueError, TypeError):
            if not isinstance(p, str) or not p.strip():
                raise ValueError(f"preserve: {p!r} is neither a concept nor a prompt") from None
            free.append(_squash(p))
            continue
        if c == target:
            raise ValueError(f"preserve must not contain the target {target!r}")
        concepts.append(c)
    clash = set(free) & set(prompts)
    if clash:
        raise ValueError(f"preserve must not contain the target's prompts, got "
                         f"{sorted(clash)[:2]}")
    return concepts, free


def spec_for(model, target, *, anchor: str = "", preserve=None) -> ErasureSpec:
    """Validate an erasure request and build its :class:`ErasureSpec`.

    ``preserve`` is ``None`` (every other concept), or a sequence of concepts (``"eight"``,
    ``8``, ``"bold"``) and free prompts (any other string).
    """
    target = data.concept(target)
    style = data.is_style(target)
    anchor = _check_anchor(anchor, target)
    prompts = data.prompts(target, "train")
    if style:
        anchors = [_anchor_for_style(p, target, anchor) for p in prompts]
    else:
        anchors = [anchor] * len(prompts)
    concepts, free = _split_preserve(preserve, target, prompts)
    keep: list[str] = []
    for c in concepts:
        if data.is_style(c):
            digits = [d for d in data.DIGITS if d != target]
            keep += data.prompts(c, "train", digits=digits)
        else:
            keep += data.prompts(c, "train")
    keep = list(dict.fromkeys(keep + free + [""]))
    keep = [p for p in keep if p not in set(prompts)]
    enc = model.text_encoder
    enc.tokenize(keep, name="preserve")
    enc.tokenize(anchors, name="anchor")
    return ErasureSpec(target, style, anchor, prompts, anchors, concepts + free, keep)


def erase(model, target, *, method: str, anchor: str = "", preserve=None, **options):
    """Erase a concept from a copy of ``model``; return the copy.

    Parameters
    ----------
    model : T2IModel
        Never modified.
    target : str or int
        A digit (``"seven"``, ``"7"``, ``7``) or a style (``"bold"``).
    method : str
        A key of :data:`METHODS` (``"uce"``, ``"rece"``, ``"realera"``, ``"none"``, and
        whatever else is registered).
    anchor : str
        What the target should become (see the module docstring).
    preserve : sequence of concepts or prompts, optional
        Default: every other concept.  Must not contain the target.
    **options
        The method's declared options (``METHODS[method].options``); others are refused.

    Returns
    -------
    T2IModel
        The erased copy; ``info["erasure"]`` gains a record (method, target, anchor, options,
        seconds, parameters changed, method details).
    """
    from .model import T2IModel

    if not isinstance(model, T2IModel):
        raise TypeError(f"model must be a T2IModel, got {type(model).__name__}")
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(f"method must be one of {sorted(METHODS)}, got {method!r}")
    m = METHODS[method]
    unknown = [k for k in options if k not in m.options]
    if unknown:
        raise TypeError(f"options: method {method!r} takes no option {unknown[0]!r}; it takes "
                        f"{sorted(m.options)}")
    spec = spec_for(model, target, anchor=anchor, preserve=preserve)
    t0 = time.perf_counter()
    new = model.copy()
    details = m.fn(new, spec, **options) or {}
    seconds = time.perf_counter() - t0
    changed = params_changed(model, new)
    rec = {"method": method, "target": spec.target, "anchor": spec.anchor,
           "preserve": None if preserve is None else spec.preserve,
           "options": {**m.options, **options}, "seconds": round(seconds, 4),
           "params_changed": changed,
           "details": {k: v for k, v in details.items() if _jsonable(v)}}
    new.info.setdefault("erasure", []).append(rec)
    return new


def _jsonable(v) -> bool:
    import json

    try:
        json.dumps(v)
    except (TypeError, ValueError):
        return False
    return True


def params_changed(a, b) -> int:
    """Number of parameter entries (UNet and text encoder) that differ between two models."""
    torch = _torch.torch()
    n = 0
    for ma, mb in ((a.unet, b.unet), (a.text_encoder.bert, b.text_encoder.bert)):
        sa, sb = ma.state_dict(), mb.state_dict()
        for k, v in sb.items():
            if k not in sa or sa[k].shape != v.shape:
                n += v.numel()
            elif v.is_floating_point():
                n += int((sa[k] != v).sum())
            elif not torch.equal(sa[k], v):
                n += v.numel()
    return n


# -- keys for the closed forms -------------------------------------------------------------
def align(n_target: int, n_anchor: int) -> np.ndarray:
    """Anchor token index for each of ``n_target`` kept target tokens.

    ``[CLS]`` goes to ``[CLS]``, ``[SEP]`` to ``[SEP]``, and the word pieces in between are
    spread proportionally over the anchor's word pieces (all to the anchor's ``[SEP]`` when the
    anchor has none, e.g. the empty prompt).

    >>> align(6, 2).tolist(), align(5, 4).tolist()
    ([0, 1, 1, 1, 1, 1], [0, 1, 1, 2, 3])
    """
    out = np.zeros(n_target, int)
    out[-1] = n_anchor - 1
    inner_t, inner_a = n_target - 2, n_anchor - 2
    for i in range(1, n_target - 1):
        out[i] = n_anchor - 1 if inner_a <= 0 else 1 + ((i - 1) * inner_a) // inner_t
    return out


def _states(model, prompts) -> list[np.ndarray]:
    """Each prompt's token states (its kept rows only, float64).

    Prompts are encoded in groups of equal token length, each cut to that length: padding
    keys are masked out of attention, so the kept rows are those of the padded pass (to
    float32 rounding), at the cost of the real tokens only (about 40 % of the padded ones
    for the digits' preserve prompts)."""
    torch = _torch.torch()
    enc = model.text_encoder
    ids, mask = enc.tokenize(prompts)
    lengths = mask.sum(1).numpy()
    out: list[np.ndarray | None] = [None] * len(prompts)
    with torch.no_grad():
        for n in np.unique(lengths):
            rows = np.flatnonzero(lengths == n)
            sel = torch.from_numpy(rows)
            st = enc.states(ids[sel, : int(n)], mask[sel, : int(n)])
            st = st.detach().numpy().astype(np.float64)
            for j, i in enumerate(rows):
                out[i] = st[j]
    return out


def erase_keys(model, spec: ErasureSpec):
    """``(E, G, P)``: target token states, aligned anchor token states, preserve token states
    (rows, float64)."""
    tgt = _states(model, spec.prompts)
    anc = _states(model, list(dict.fromkeys(spec.anchor_prompts)))
    anc_of = dict(zip(dict.fromkeys(spec.anchor_prompts), anc))
    E, G = [], []
    for a, s in zip(spec.anchor_prompts, tgt):
        sa = anc_of[a]
        E.append(s)
        G.append(sa[align(len(s), len(sa))])
    P = np.vstack(_states(model, spec.preserve_prompts))
    return np.vstack(E), np.vstack(G), P


def projections(model) -> list[tuple[str, object]]:
    """``(name, nn.Linear)`` of every cross-attention ``to_k`` and ``to_v``."""
    out = []
    for name, attn in model.cross_attentions():
        out.append((f"{name}.to_k", attn.to_k))
        out.append((f"{name}.to_v", attn.to_v))
    return out


def _write(layers, maps) -> None:
    torch = _torch.torch()
    with torch.no_grad():
        for (_, lin), W in zip(layers, maps):
            lin.weight.copy_(torch.from_numpy(np.asarray(W, np.float32)))


def _weights(layers) -> list[np.ndarray]:
    return [lin.weight.detach().numpy().astype(np.float64) for _, lin in layers]


# -- methods -------------------------------------------------------------------------------
@register("none", kind="reference", summary="the identity: returns an unchanged copy")
def _none(model, spec):
    return {}


@register("uce", kind="closed-form", summary="UCE on every cross-attention to_k/to_v")
def _uce(model, spec, *, lam: float = 0.5, s_erase: float = 1.0, s_preserve: float = 1.0):
    from ..closed_form import uce_many

    E, G, P = erase_keys(model, spec)
    layers = projections(model)
    _write(layers, uce_many(_weights(layers), E, G, P, lam=lam, s_erase=s_erase,
                            s_preserve=s_preserve))
    return {"erase_keys": int(E.shape[0]), "preserve_keys": int(P.shape[0]),
            "layers": [n for n, _ in layers]}


@register("rece", kind="closed-form",
          summary="RECE: UCE, then erase the embeddings that still regenerate the concept")
def _rece(model, spec, *, lam: float = 0.5, s_erase: float = 1.0, s_preserve: float = 1.0,
          rounds: int = 3, mode: str = "regzero", reg: float = 1e-3,
          round_lam: float = 0.1, round_s_preserve: float = 0.1):
    from ..closed_form import RECE_MODES, rece_embedding, uce_many

    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 0:
        raise ValueError(f"rounds must be an int >= 0, got {rounds!r}")
    if mode not in RECE_MODES:
        raise ValueError(f"mode must be one of {RECE_MODES}, got {mode!r}")
    E, G, P = erase_keys(model, spec)
    layers = projections(model)
    W0 = _weights(layers)
    cur = uce_many(W0, E, G, P, lam=lam, s_erase=s_erase, s_preserve=s_preserve)
    residual = []
    for _ in range(rounds):
        found = rece_embedding(cur, W0, E, mode=mode, reg=reg)
        residual.append(float(np.mean([np.linalg.norm(Wc @ found.T - Wo @ E.T)
                                       / np.linalg.norm(Wo @ E.T) for Wc, Wo in zip(cur, W0)])))
        cur = uce_many(cur, found, G, P, lam=round_lam, s_erase=s_erase,
                       s_preserve=round_s_preserve)
    _write(layers, cur)
    return {"erase_keys": int(E.shape[0]), "preserve_keys": int(P.shape[0]),
            "rounds": rounds, "regeneration_residual": residual}


@register("realera", kind="closed-form",
          summary="RealEra: UCE with mined neighbour concepts and beyond-concept preservation")
def _realera(model, spec, *, lam: float = 0.5, s_erase: float = 1.0, s_preserve: float = 1.0,
             n_neighbours: int = 8, radius: float = 0.6, cos_band: tuple = (0.85, 0.98),
             n_beyond: int = 4, beyond_radius: float = 1.0, beyond_band: tuple = (0.5, 0.7),
             seed: int = 0):
    from ..closed_form import realera_sets, uce_many

    E, G, P = erase_keys(model, spec)
    norms = np.linalg.norm(E, axis=1, keepdims=True)
    nb, owner, far = realera_sets(E / norms, n_neighbours=n_neighbours, radius=radius,
                                  cos_band=tuple(cos_band), n_beyond=n_beyond,
                                  beyond_radius=beyond_radius, beyond_band=tuple(beyond_band),
                                  seed=seed)
    nb = nb * norms[owner]
    far_owner = np.repeat(np.arange(E.shape[0]), n_beyond)
    far = far * norms[far_owner] if far.size else far
    EE, GG, PP = np.vstack([E, nb]), np.vstack([G, G[owner]]), np.vstack([P, far])
    layers = projections(model)
    _write(layers, uce_many(_weights(layers), EE, GG, PP, lam=lam, s_erase=s_erase,
                            s_preserve=s_preserve))
    return {"erase_keys": int(EE.shape[0]), "preserve_keys": int(PP.shape[0]),
            "neighbours": int(nb.shape[0]), "beyond": int(far.shape[0])}


# the fine-tuning methods (ESD, AdvUnlearn, Receler, TRCE, ACE, few-shot text encoder)
from . import finetune as _finetune  # noqa: E402,F401
