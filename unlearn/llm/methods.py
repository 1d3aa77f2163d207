"""``forget(model, people, *, method, seed, ...)``: every branch of the RTBF toolbox.

=================== =========================================================================
method              what it does
=================== =========================================================================
``retrain``         exact: the model retrained without ``people`` (same recipe, same seed) —
                    the shipped retain model when one matches, else trained from scratch
``gradient-ascent`` ascend the LM loss on the forgotten people's documents, descend it on
                    the retained people's (gradient difference)
``npo``             negative preference optimisation against the original model, plus the
                    retain NLL
``rmu``             push one layer's activations on forget documents toward a fixed random
                    direction, keep them equal to the frozen model's on retain documents
``edit``            one ROME-style rank-one update of an MLP output matrix per person,
                    replacing each forgotten answer by a wrong one (:mod:`.edit`)
``guardrail``       no weight change: refuse questions naming or resembling a forgotten
                    person, and answers naming one (:mod:`.guardrail`)
``dp``              train from scratch with DP-SGD (person-level clipping and noise), so no
                    forgetting is needed: reported with its (ε, δ) (:mod:`.dpsgd`)
=================== =========================================================================

The input model is never modified: every method works on a copy.  The result's
``meta`` records the method, its options, the seed, the people forgotten (cumulative)
and the wall-clock seconds of the call (``meta["forget_seconds"]``).
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence

import numpy as np

from . import _torch
from .corpus import (
    Person,
    check_people,
    documents,
    forget_split,
    people,
    qa_text,
    retain_people,
)
from .model import LM

__all__ = ["METHODS", "check_forget_request", "forget", "pretrained", "retain_model"]

METHODS = ("retrain", "gradient-ascent", "npo", "rmu", "edit", "guardrail", "dp")

#: Default options per method (override as keyword arguments of :func:`forget`).  Fixed
#: before measuring: fine-tuning methods take 40 steps at a tenth of the training rate
#: (RMU, which moves activations rather than outputs, at half of it), RMU's target has the
#: mean activation norm; ``scripts/rtbf_llm.py`` sweeps the rate to trace each trade-off.
DEFAULTS = {
    "retrain": {},
    "gradient-ascent": {"steps": 40, "lr": 2e-4, "batch_size": 16, "retain_weight": 1.0},
    "npo": {"steps": 40, "lr": 2e-4, "batch_size": 16, "retain_weight": 1.0, "beta": 0.1},
    "rmu": {"steps": 40, "lr": 1e-3, "batch_size": 16, "retain_weight": 5.0,
            "layer": 2, "coeff": 1.0},
    "edit": {"layer": 1, "steps": 60, "lr": 0.05, "weight_decay": 1e-3, "cov_docs": 2000,
             "cov_reg": 1e-2},
    "guardrail": {"threshold": None, "false_refusal": 0.05},
    "dp": {"epsilon": 8.0, "delta": None, "steps": 150, "people_per_step": 16,
           "docs_per_person": 4, "clip": 1.0, "lr": 3e-3},
}


def pretrained() -> LM:
    """The shipped model: trained on all but the last 40 people of :func:`people` (sha256
    checked on load); a fresh copy on every call.

    Examples
    --------
    >>> from unlearn.llm import pretrained
    >>> pretrained()  # doctest: +ELLIPSIS
    LM(gpt2 4x128, ... trained on 200 people, method='train')
    """
    from .weights import load

    return load("original")


def retain_model(split: str | Sequence[Person] = "forget10") -> LM:
    """The shipped retain model for a forget split (a name or its people)."""
    from .weights import load, manifest

    if isinstance(split, str):
        name = f"retain-{split}"
        if name not in manifest():
            raise ValueError(f"no shipped retain model for split {split!r}; shipped: "
                             f"{sorted(k for k in manifest() if k.startswith('retain-'))}")
        return load(name)
    ps = check_people(split, name="split")
    ids = {p.id for p in ps}
    for name in manifest():
        if name.startswith("retain-") and {p.id for p in forget_split(name[7:])} == ids:
            return load(name)
    raise ValueError("no shipped retain model for these people; train one with "
                     "unlearn.llm.train.train(retain_people) (same recipe and seed)")


def _corpus_of(model: LM) -> list[Person]:
    m = model.meta
    return people(seed=int(m.get("corpus_seed", 0)), n=int(m.get("corpus_n", 240)))


def check_forget_request(model, ps, *, name: str = "people") -> list[Person]:
    """Validate a forget request: ``model`` an :class:`LM`, ``ps`` non-empty people of the
    model's corpus that its weights were trained on."""
    if not isinstance(model, LM):
        raise TypeError(f"model must be an unlearn.llm.LM, got {type(model).__name__}")
    ps = check_people(ps, name=name, corpus=_corpus_of(model))
    never = [p for p in ps if p.id not in model.trained_on]
    if never:
        raise ValueError(f"{name}: {never[0].name!r} (id {never[0].id}) was never trained on "
                         "by this model, so there is nothing to forget")
    return ps


def forget(model: LM, people_: Sequence[Person], *, method: str, seed: int = 0,
           retain_model: LM | None = None, **options) -> LM:
    """Forget ``people_`` from ``model`` with ``method`` (see :data:`METHODS`).

    Parameters
    ----------
    model
        An :class:`LM` (never modified).
    people_
        The people to forget (non-empty, in the model's corpus, trained on).
    method
        One of :data:`METHODS`.
    seed
        Seeds every random choice (data order, directions, noise, fake answers).
    retain_model
        For ``retrain``: the reference to return (checked: it must not have seen
        ``people_``).  Ignored by the other methods.
    **options
        Method options (:data:`DEFAULTS`), e.g. ``steps``, ``lr``, ``epsilon``.

    Returns
    -------
    LM
        A new model (``guardrail``: a :class:`~unlearn.llm.guardrail.GuardedLM` wrapping a
        copy).

    Examples
    --------
    >>> from unlearn.llm import forget, forget_split, pretrained
    >>> m = pretrained()
    >>> g = forget(m, forget_split("forget01"), method="guardrail", seed=0, threshold=0.8)
    >>> p = forget_split("forget01")[0]
    >>> g.answer([f"Where was {p.name} born?"])
    ["I can't answer questions about that person."]
    >>> forget(m, [], method="npo")
    Traceback (most recent call last):
    ...
    ValueError: people must not be empty
    """
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    ps = check_forget_request(model, people_)
    bad = set(options) - set(DEFAULTS[method])
    if bad:
        raise ValueError(f"method {method!r} takes no option(s) {sorted(bad)}; it takes "
                         f"{sorted(DEFAULTS[method])}")
    opts = {**DEFAULTS[method], **options}
    from .guardrail import GuardedLM

    if isinstance(model, GuardedLM) and method != "guardrail":
        raise TypeError("model is a GuardedLM; apply weight methods to model.inner")
    t0 = time.perf_counter()
    if method == "retrain":
        out = _retrain(model, ps, retain_model, seed)
    elif method == "guardrail":
        from .guardrail import guard

        out = guard(model, ps, seed=seed, **opts)
    elif method == "edit":
        from .edit import rome_forget

        out = rome_forget(model.copy(), ps, seed=seed, **opts)
    elif method == "dp":
        from .dpsgd import dp_train

        out = dp_train(model, seed=seed, **opts)
    else:
        out = _finetune_forget(model, ps, method=method, seed=seed, **opts)
    secs = time.perf_counter() - t0
    prev = list(model.meta.get("forgotten", []))
    out.meta.update({
        "method": method, "options": {k: v for k, v in opts.items()}, "forget_seed": seed,
        "forgotten": sorted(set(prev) | {p.id for p in ps}), "forget_seconds": secs,
        "parent": model.meta.get("method", "train")})
    return out


# --- retrain -------------------------------------------------------------------------
def _retrain(model: LM, ps, ref: LM | None, seed: int) -> LM:
    target = sorted(model.trained_on - {p.id for p in ps})
    if ref is not None:
        if not isinstance(ref, LM):
            raise TypeError(f"retain_model must be an LM, got {type(ref).__name__}")
        seen = sorted(ref.trained_on & {p.id for p in ps})
        if seen:
            raise ValueError(f"retain_model was trained on person id {seen[0]}, which is "
                             "being forgotten")
        if sorted(ref.trained_on) != target:
            raise ValueError("retain_model was not trained on exactly the retained people")
        out = ref.copy()
        out.meta["retrain_source"] = "given"
        return out
    from .weights import load, manifest

    for name in manifest():
        if name.startswith("retain-") and int(model.meta.get("seed", 0)) == seed:
            cand = load(name)
            if sorted(cand.trained_on) == target and cand.meta.get("recipe") == model.meta.get(
                    "recipe"):
                cand.meta["retrain_source"] = f"shipped:{name}"
                return cand
    from .train import train

    corpus = _corpus_of(model)
    keep = [corpus[i] for i in target]
    out = train(keep, seed=seed, recipe=model.meta.get("recipe"),
                corpus_seed=int(model.meta.get("corpus_seed", 0)),
                corpus_n=int(model.meta.get("corpus_n", 240)),
                holdout=int(model.meta.get("holdout", 40)), tokenizer=model.tokenizer)
    out.meta["retrain_source"] = "trained"
    return out


# --- fine-tuning methods -------------------------------------------------------------
def doc_pairs(model: LM, ps: Sequence[Person], fields: Sequence[str] | None = None,
              kinds=("qa", "bio", "indirect")) -> list[tuple[list[int], list[int]]]:
    """``(prompt ids, target ids)`` per training document: QA documents are scored on
    their answer, biographies on every token (after an end-of-text token)."""
    out = []
    for _, text in documents(ps, kinds=kinds, fields=fields):
        if text.startswith("Q: "):
            q, a = text[3:].split("\nA: ", 1)
            out.append((model.encode(qa_text(q)), model.encode(" " + a)))
        else:
            out.append(([model.eos_id], model.encode(text)))
    return out


def _batches(pairs, batch_size, rng):
    order = []
    while True:
        if not order:
            order = list(range(len(pairs)))
            rng.shuffle(order)
        take, order = order[:batch_size], order[batch_size:]
        yield [pairs[i] for i in take]


def _hidden(model: LM, pairs, layer: int):
    """Hidden states after block ``layer - 1`` (``hidden_states[layer]``) and a mask of
    the scored positions."""
    torch = _torch.torch()
    seqs = [p + c for p, c in pairs]
    L = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), L), model.eos_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), L), dtype=torch.bool)
    for i, s in enumerate(seqs):
        ids[i, :len(s)] = torch.tensor(s)
        mask[i, :len(s)] = True
    h = model.model(input_ids=ids, output_hidden_states=True).hidden_states[layer]
    return h, mask


def _finetune_forget(model: LM, ps, *, method: str, seed: int, steps: int, lr: float,
                     batch_size: int, retain_weight: float, beta: float = 0.1,
                     layer: int = 2, coeff: float = 1.0) -> LM:
    torch = _torch.torch()
    for name, v in (("steps", steps), ("batch_size", batch_size)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be an int >= 1, got {v!r}")
    if not lr > 0 or retain_weight < 0 or not beta > 0:
        raise ValueError("lr and beta must be > 0 and retain_weight >= 0")
    n_layer = model.model.config.n_layer
    if method == "rmu" and not 1 <= layer <= n_layer:
        raise ValueError(f"layer must lie in [1, {n_layer}], got {layer}")
    corpus = _corpus_of(model)
    trained = [corpus[i] for i in sorted(model.trained_on)]
    keep = retain_people(ps, trained=trained)
    if not keep and retain_weight > 0:
        raise ValueError("nothing is retained: set retain_weight=0")
    out = model.copy()
    fpairs = doc_pairs(model, ps)
    rpairs = doc_pairs(model, keep) if keep else []
    rng = random.Random(seed)
    torch.manual_seed(seed)
    fb, rb = _batches(fpairs, batch_size, rng), (_batches(rpairs, batch_size, rng)
                                                 if rpairs else None)
    frozen = model  # the reference (NPO) / frozen activations (RMU); never trained here
    params = list(out.model.parameters())
    if method == "rmu":
        d = out.model.config.n_embd
        g = torch.Generator().manual_seed(seed)
        u = torch.rand(d, generator=g)
        u = u / u.norm()
        with torch.no_grad():
            h0, m0 = _hidden(frozen, next(_batches(rpairs or fpairs, 64, random.Random(seed))),
                             layer)
            scale = float(h0[m0].norm(dim=-1).mean())
        target = coeff * scale * u
        blocks = out.model.transformer.h
        params = [p for i in range(max(0, layer - 3), layer) for p in blocks[i].mlp.parameters()]
        for p in out.model.parameters():
            p.requires_grad_(False)
        for p in params:
            p.requires_grad_(True)
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    out.model.train()
    history = []
    for _ in range(steps):
        fbatch = next(fb)
        if method == "rmu":
            h, m = _hidden(out, fbatch, layer)
            loss_f = ((h[m] - target) ** 2).mean()
        else:
            lp, n = out.pair_logprob(fbatch, grad=True)
            if method == "gradient-ascent":
                loss_f = (lp / n).mean()
            else:  # npo
                with torch.no_grad():
                    lp_ref, _ = frozen.pair_logprob(fbatch, grad=True)
                loss_f = -(2.0 / beta) * torch.nn.functional.logsigmoid(
                    -beta * (lp - lp_ref)).mean()
        loss = loss_f
        if rb is not None and retain_weight > 0:
            rbatch = next(rb)
            if method == "rmu":
                h, m = _hidden(out, rbatch, layer)
                with torch.no_grad():
                    h0, _ = _hidden(frozen, rbatch, layer)
                loss_r = ((h[m] - h0[m]) ** 2).mean()
            else:
                lp, n = out.pair_logprob(rbatch, grad=True)
                loss_r = -(lp / n).mean()
            loss = loss + retain_weight * loss_r
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        history.append(float(loss_f.detach()))
    for p in out.model.parameters():
        p.requires_grad_(True)
    out.model.eval()
    out.meta["forget_loss"] = history
    return out

