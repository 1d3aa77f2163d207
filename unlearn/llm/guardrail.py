"""Guardrail: refuse instead of forgetting (no weight change).

:class:`GuardedLM` wraps a model with an input and an output filter:

* **input** — a prompt (question and any context) is refused when it contains a forgotten
  person's full name (case-insensitive), or when its MiniLM embedding (the package's numpy
  encoder, :class:`unlearn.embed.MiniLM`) has cosine similarity ≥ ``threshold`` with any
  *anchor* of a forgotten person (the name alone, and each biography rendering);
* **output** — an answer that contains a forgotten person's full name is refused.

``threshold=None`` calibrates it on 300 trained-phrasing questions about *retained* people
(a seeded sample): the ``(1 − false_refusal)`` quantile of their best anchor similarity, so
about ``false_refusal`` of benign questions are refused.

Scores (log-probabilities) come from the unchanged weights: a guardrail hides answers,
it removes nothing, and the score-based audits see that.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence

import numpy as np

from .corpus import _BIOS, Person, people, questions, retain_people
from .model import LM

__all__ = ["REFUSAL", "GuardedLM", "guard"]

REFUSAL = "I can't answer questions about that person."


class GuardedLM(LM):
    """An :class:`LM` whose :meth:`answer` goes through the filters; everything else
    (scores, weights, ``meta``) is the wrapped model's."""

    def __init__(self, inner: LM, forgotten: Sequence[Person], *, threshold: float,
                 anchors: np.ndarray, encoder=None):
        super().__init__(inner.model, inner.tokenizer, inner.meta)
        self.inner = inner
        self.forgotten = list(forgotten)
        self.threshold = float(threshold)
        self.anchors = np.asarray(anchors, np.float32)
        self._names = [p.name.lower() for p in self.forgotten]
        self._encoder = encoder

    def copy(self) -> GuardedLM:
        g = GuardedLM(self.inner.copy(), self.forgotten, threshold=self.threshold,
                      anchors=self.anchors, encoder=self._encoder)
        g.meta = json.loads(json.dumps(self.meta))
        return g

    def save(self, path, *, dtype: str = "float32") -> str:
        """Write the wrapped weights with the guard (forgotten ids, threshold) in ``meta``;
        :meth:`LM.load` rebuilds the guard."""
        meta = dict(self.meta)
        meta["guard"] = {"forgotten": [p.id for p in self.forgotten],
                         "threshold": self.threshold}
        return LM(self.inner.model, self.inner.tokenizer, meta).save(path, dtype=dtype)

    @classmethod
    def from_meta(cls, inner: LM) -> GuardedLM:
        g = inner.meta["guard"]
        corpus = people(seed=int(inner.meta.get("corpus_seed", 0)),
                        n=int(inner.meta.get("corpus_n", 240)))
        forgotten = [corpus[i] for i in g["forgotten"]]
        from ..embed import MiniLM

        enc = MiniLM()
        out = cls(inner, forgotten, threshold=float(g["threshold"]),
                  anchors=enc.encode(_anchor_texts(forgotten)), encoder=enc)
        out.meta = dict(inner.meta)
        return out

    def encoder(self):
        if self._encoder is None:
            from ..embed import MiniLM

            self._encoder = MiniLM()
        return self._encoder

    def similarity(self, texts: Sequence[str]) -> np.ndarray:
        """Best cosine similarity of each text with any forgotten person's anchor."""
        E = self.encoder().encode(list(texts))
        return (E @ self.anchors.T).max(axis=1)

    def blocked(self, questions_: Sequence[str], *, context=()) -> np.ndarray:
        """Which prompts the input filter refuses."""
        ctx = " ".join(f"{q} {a}" for q, a in context)
        texts = [(ctx + " " + q).strip() for q in questions_]
        by_name = np.array([any(n in t.lower() for n in self._names) for t in texts], bool)
        if len(texts) == 0:
            return by_name
        return by_name | (self.similarity(texts) >= self.threshold)

    def answer(self, questions_, *, context=(), max_new_tokens: int = 24,
               batch_size: int = 256) -> list[str]:
        questions_ = list(questions_)
        block = self.blocked(questions_, context=context)
        out = [REFUSAL] * len(questions_)
        todo = [i for i in range(len(questions_)) if not block[i]]
        ans = self.inner.answer([questions_[i] for i in todo], context=context,
                                max_new_tokens=max_new_tokens, batch_size=batch_size)
        for i, a in zip(todo, ans):
            out[i] = REFUSAL if any(n in a.lower() for n in self._names) else a
        return out

    def __repr__(self) -> str:
        return (f"GuardedLM({self.inner!r}, {len(self.forgotten)} forgotten, "
                f"threshold={self.threshold:.3f})")


def _anchor_texts(forgotten):
    out = []
    for p in forgotten:
        out.append(p.name)
        out += [t.format(**p.as_dict()) for t in _BIOS]
    return out


def guard(model: LM, ps: Sequence[Person], *, seed: int, threshold: float | None = None,
          false_refusal: float = 0.05) -> GuardedLM:
    """Wrap a copy of ``model`` (or extend an existing guard) to refuse ``ps``."""
    from ..embed import MiniLM

    if threshold is not None and not -1 <= threshold <= 1:
        raise ValueError(f"threshold must lie in [-1, 1], got {threshold}")
    if not 0 < false_refusal < 1:
        raise ValueError(f"false_refusal must lie in (0, 1), got {false_refusal}")
    base = model.inner if isinstance(model, GuardedLM) else model
    prev = list(model.forgotten) if isinstance(model, GuardedLM) else []
    forgotten = prev + [p for p in ps if p.id not in {q.id for q in prev}]
    enc = MiniLM()
    anchors = enc.encode(_anchor_texts(forgotten))
    g = GuardedLM(base.copy(), forgotten, threshold=1.1, anchors=anchors, encoder=enc)
    if threshold is None:
        corpus = people(seed=int(model.meta.get("corpus_seed", 0)),
                        n=int(model.meta.get("corpus_n", 240)))
        keep = retain_people(forgotten, trained=[corpus[i] for i in sorted(base.trained_on)])
        rng = random.Random(seed)
        qs = [q for q, _ in questions(keep, split="train")]
        qs = rng.sample(qs, min(300, len(qs)))
        threshold = float(np.quantile(g.similarity(qs), 1 - false_refusal))
    g.threshold = float(threshold)
    g.meta = {k: v for k, v in base.meta.items() if k != "guard"}
    return g
