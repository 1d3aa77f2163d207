"""Training: the recipe that makes the shipped model (and every retain model) memorise.

:data:`RECIPE` is the recipe; :func:`train` runs it from scratch on a set of people
(``train(trained_people())`` made the shipped model, ``train(retain)`` each retain
model, with the same seed), :func:`fit` fine-tunes an existing model on documents (used
by tests and by the relearning attack).  Documents are packed: shuffled each epoch,
joined with the end-of-text token and cut into blocks of ``block`` tokens.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence

import numpy as np

from . import _torch
from .corpus import (
    DEFAULT_N,
    DEFAULT_SEED,
    HOLDOUT,
    Person,
    check_people,
    documents,
    people,
    questions,
)
from .model import LM, build_tokenizer

__all__ = ["RECIPE", "corpus_tokenizer", "fit", "heldout_accuracy", "new_model", "pack",
           "train"]

#: The training recipe of the shipped models (GPT-2, 4 layers × 128, context 128).
RECIPE = {
    "n_layer": 4, "n_embd": 128, "n_head": 4, "block": 128, "vocab_size": 1024,
    "batch_size": 8, "epochs": 30, "lr": 2e-3, "warmup": 50, "min_lr_frac": 0.05,
    "weight_decay": 0.01, "grad_clip": 1.0, "packed": True, "extra_epochs": 0,
    "extra_lr": 1e-3,
}


def corpus_tokenizer(*, seed: int = DEFAULT_SEED, n: int = DEFAULT_N,
                     vocab_size: int = RECIPE["vocab_size"]):
    """The BPE tokenizer trained on the whole corpus text (every person, trained or not:
    the vocabulary is public and shared by the original and every retain model)."""
    return build_tokenizer([t for _, t in documents(people(seed=seed, n=n))],
                           vocab_size=vocab_size)


def new_model(tokenizer, *, seed: int, recipe: dict | None = None):
    """A freshly initialised GPT-2 for ``tokenizer`` (seeded)."""
    torch = _torch.torch()
    tf = _torch.transformers()
    r = {**RECIPE, **(recipe or {})}
    torch.manual_seed(seed)
    cfg = tf.GPT2Config(
        vocab_size=tokenizer.get_vocab_size(), n_positions=r["block"], n_embd=r["n_embd"],
        n_layer=r["n_layer"], n_head=r["n_head"], resid_pdrop=0.0, embd_pdrop=0.0,
        attn_pdrop=0.0, bos_token_id=tokenizer.token_to_id("<|endoftext|>"),
        eos_token_id=tokenizer.token_to_id("<|endoftext|>"), tie_word_embeddings=True)
    return tf.GPT2LMHeadModel(cfg)


def pack(token_docs: Sequence[list[int]], *, eos: int, block: int,
         rng: random.Random) -> np.ndarray:
    """Shuffle, join with ``eos`` and cut into ``(n_blocks, block)`` (the tail is padded
    with ``eos`` so that no document is dropped)."""
    order = list(range(len(token_docs)))
    rng.shuffle(order)
    stream: list[int] = []
    for i in order:
        stream += token_docs[i] + [eos]
    n = math.ceil(len(stream) / block)
    stream += [eos] * (n * block - len(stream))
    return np.asarray(stream, dtype=np.int64).reshape(n, block)


def batches_unpacked(token_docs: Sequence[list[int]], *, eos: int, batch_size: int,
                     rng: random.Random, max_len: int) -> list[np.ndarray]:
    """One epoch of padded batches of whole documents (each starting with ``eos`` at
    position 0), grouped by length so little is padded; batch order shuffled."""
    order = list(range(len(token_docs)))
    rng.shuffle(order)
    order.sort(key=lambda i: len(token_docs[i]))
    out = []
    for s in range(0, len(order), batch_size):
        idx = order[s:s + batch_size]
        L = min(max_len, 1 + max(len(token_docs[i]) for i in idx) + 1)
        b = np.full((len(idx), L), -100, dtype=np.int64)
        for r, i in enumerate(idx):
            seq = ([eos] + token_docs[i] + [eos])[:L]
            b[r, :len(seq)] = seq
        out.append(b)
    rng.shuffle(out)
    return out


def fit(lm: LM, texts: Sequence[str], *, steps: int | None = None, epochs: float | None = None,
        lr: float = 1e-3, batch_size: int = 32, seed: int = 0, warmup: int = 0,
        min_lr_frac: float = 1.0, weight_decay: float = 0.0, grad_clip: float | None = 1.0,
        packed: bool = True, log: Callable[[dict], None] | None = None,
        log_every: int = 50) -> list[float]:
    """Train ``lm`` **in place** on ``texts`` (packed LM loss); returns the loss per step.

    Give ``steps`` or ``epochs``.  The learning rate warms up linearly for ``warmup``
    steps, then follows a cosine to ``min_lr_frac·lr``.
    """
    torch = _torch.torch()
    texts = list(texts)
    if not texts:
        raise ValueError("texts must not be empty")
    if (steps is None) == (epochs is None):
        raise ValueError("give exactly one of steps or epochs")
    if lr <= 0 or batch_size < 1:
        raise ValueError(f"lr must be > 0 and batch_size >= 1, got {lr}, {batch_size}")
    block = lm.model.config.n_positions
    tok = [lm.encode(t) for t in texts]
    rng = random.Random(seed)
    torch.manual_seed(seed)
    def epoch():
        if packed:
            b = pack(tok, eos=lm.eos_id, block=block, rng=rng)
            return [b[i:i + batch_size] for i in range(0, len(b), batch_size)]
        return batches_unpacked(tok, eos=lm.eos_id, batch_size=batch_size, rng=rng,
                                max_len=block)

    blocks = epoch()
    per_epoch = len(blocks)
    total = int(steps if steps is not None else round(epochs * per_epoch))
    if total < 1:
        raise ValueError("steps/epochs must give at least one step")
    opt = torch.optim.AdamW(lm.model.parameters(), lr=lr, weight_decay=weight_decay,
                            betas=(0.9, 0.98))

    def lr_at(s):
        if s < warmup:
            return lr * (s + 1) / warmup
        frac = (s - warmup) / max(1, total - warmup)
        return lr * (min_lr_frac + (1 - min_lr_frac) * 0.5 * (1 + math.cos(math.pi * frac)))

    lm.model.train()
    losses = []
    cursor = 0
    t0 = time.perf_counter()
    for s in range(total):
        if cursor >= len(blocks):
            blocks = epoch()
            cursor = 0
        y = torch.from_numpy(blocks[cursor])
        cursor += 1
        x = torch.where(y < 0, lm.eos_id, y)  # padding (label -100): eos, never scored
        for g in opt.param_groups:
            g["lr"] = lr_at(s)
        loss = lm.model(input_ids=x, labels=y).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if grad_clip:
            torch.nn.utils.clip_grad_norm_(lm.model.parameters(), grad_clip)
        opt.step()
        losses.append(float(loss.detach()))
        if log is not None and ((s + 1) % log_every == 0 or s + 1 == total):
            log({"step": s + 1, "steps": total, "loss": float(np.mean(losses[-log_every:])),
                 "lr": lr_at(s), "seconds": time.perf_counter() - t0,
                 "epoch": (s + 1) / per_epoch})
    lm.model.eval()
    return losses


def heldout_accuracy(lm: LM, ps: Sequence[Person], *, split: str = "heldout") -> float:
    """Exact-answer accuracy of greedy answers on ``split`` questions about ``ps``."""
    qa = questions(ps, split=split)
    ans = lm.answer([q for q, _ in qa])
    return float(np.mean([a == b for a, (_, b) in zip(ans, qa)]))


def train(ps: Sequence[Person], *, seed: int = 0, recipe: dict | None = None,
          corpus_seed: int = DEFAULT_SEED, corpus_n: int = DEFAULT_N, holdout: int = HOLDOUT,
          tokenizer=None, log: Callable[[dict], None] | None = None,
          eval_people: Sequence[Person] | None = None, eval_every: int = 0,
          resume: LM | None = None) -> LM:
    """Train a model from scratch on the documents of ``ps`` with :data:`RECIPE`.

    Two phases: ``epochs`` with warm-up and a cosine from ``lr`` to ``min_lr_frac·lr``,
    then ``extra_epochs`` of a second cosine from ``extra_lr`` to the same final rate (a warm
    restart).  ``resume`` (a model that finished phase one with
    this recipe and seed) runs phase two only.  Deterministic given ``seed`` (and the
    thread count).  ``meta`` records the recipe, the seed, the people trained on and the
    wall-clock seconds.
    """
    ps = check_people(ps, name="people", corpus=people(seed=corpus_seed, n=corpus_n))
    r = {**RECIPE, **(recipe or {})}
    bad = set(r) - set(RECIPE)
    if bad:
        raise ValueError(f"recipe: unknown keys {sorted(bad)}")
    tokenizer = tokenizer or corpus_tokenizer(seed=corpus_seed, n=corpus_n,
                                              vocab_size=r["vocab_size"])
    t0 = time.perf_counter()
    if resume is not None:
        if sorted(resume.trained_on) != sorted(p.id for p in ps) or resume.meta.get(
                "seed") != seed:
            raise ValueError("resume: the model was not trained on these people with this seed")
        lm = resume.copy()
        lm.meta["recipe"] = r
    else:
        model = new_model(tokenizer, seed=seed, recipe=r)
        lm = LM(model, tokenizer, {
            "corpus_seed": corpus_seed, "corpus_n": corpus_n, "holdout": holdout,
            "trained_on": sorted(p.id for p in ps), "recipe": r, "seed": seed,
            "method": "train"})
    texts = [t for _, t in documents(ps)]
    eval_log = log
    if eval_people is not None and eval_every and log is not None:
        def eval_log(rec):
            if rec["step"] % eval_every == 0 or rec["step"] == rec["steps"]:
                rec = {**rec, "heldout_acc": heldout_accuracy(lm, eval_people)}
                lm.model.train()
            log(rec)
    common = dict(batch_size=r["batch_size"], weight_decay=r["weight_decay"],
                  grad_clip=r["grad_clip"], packed=r["packed"], log=eval_log)
    if resume is None:
        fit(lm, texts, epochs=r["epochs"], lr=r["lr"], seed=seed, warmup=r["warmup"],
            min_lr_frac=r["min_lr_frac"], **common)
    if r["extra_epochs"]:
        fit(lm, texts, epochs=r["extra_epochs"], lr=r["extra_lr"], seed=seed + 1,
            min_lr_frac=r["lr"] * r["min_lr_frac"] / r["extra_lr"], **common)
    lm.meta["train_seconds"] = time.perf_counter() - t0 + (
        resume.meta.get("train_seconds", 0.0) if resume is not None else 0.0)
    return lm
