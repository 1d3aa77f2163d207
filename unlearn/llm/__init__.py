"""unlearn.llm — the right to be forgotten in a small language model.

A seeded corpus of fictitious people (:func:`people`, :func:`questions`), a small GPT-2
trained to memorise them (:func:`pretrained`, an :class:`LM`), every branch of the
right-to-be-forgotten toolbox behind one call (:func:`forget`: ``retrain``,
``gradient-ascent``, ``npo``, ``rmu``, ``edit``, ``guardrail``, ``dp``) and the audits that
show what each one removes (:func:`audit`: TOFU forget quality against the retain model,
utility, PII extraction under attacks, membership inference).

Only this subpackage imports torch, and only when a model is built or loaded
(importing it does not): ``people`` and ``questions`` are plain Python.

Examples
--------
>>> from unlearn import llm
>>> ps = llm.people()
>>> q, a = llm.questions(ps[:1], split="heldout")[0]
>>> a == ps[0].birth_date
True
"""

from __future__ import annotations

from .auditing import audit
from .corpus import FIELDS, FORGET_SPLITS, Person, forget_split, people, questions
from .methods import METHODS, forget, pretrained, retain_model
from .model import LM

__all__ = [
    "FIELDS",
    "FORGET_SPLITS",
    "LM",
    "METHODS",
    "Person",
    "audit",
    "forget",
    "forget_split",
    "people",
    "pretrained",
    "questions",
    "retain_model",
]
