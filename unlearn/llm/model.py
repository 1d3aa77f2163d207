"""``LM``: a small causal language model (``transformers`` GPT-2) with its tokenizer.

One model is one ``.safetensors`` file: the weights, and in the file's metadata the GPT-2
configuration, the tokenizer (a ``tokenizers`` BPE trained on the corpus) and a ``meta``
record (corpus seed and size, the ids of the people trained on, the recipe, the seed,
the history of forgetting applied).  :meth:`LM.save` returns the file's sha256 and
:meth:`LM.load` checks it when given one; the shipped models are always checked.

Questions are asked as ``"Q: <question>\\nA:"`` and answered by greedy decoding until
the end-of-text token or a newline.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from . import _torch
from .corpus import qa_text

__all__ = ["EOS", "LM", "build_tokenizer", "sha256_file"]

EOS = "<|endoftext|>"
_FORMAT = "erasurelab-llm-1"


def _cache_arg() -> str:
    import inspect

    tf = _torch.transformers()
    params = inspect.signature(tf.GPT2LMHeadModel.forward).parameters
    return "cache" if "cache" in params else "past_key_values"


_CACHE_NAME: list[str] = []


def _cache_name() -> str:
    """The keyword for the key-value cache (``cache`` in transformers >= 5.2x,
    ``past_key_values`` before)."""
    if not _CACHE_NAME:
        _CACHE_NAME.append(_cache_arg())
    return _CACHE_NAME[0]


def sha256_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def build_tokenizer(texts: Sequence[str], *, vocab_size: int = 1024):
    """A byte-level BPE (digits split one by one) trained on ``texts`` by ``tokenizers``.

    Examples
    --------
    >>> tok = build_tokenizer(["Q: Where was Ada Vex born?\\nA: Lovwick"] * 3, vocab_size=300)
    >>> tok.decode(tok.encode("A: 767-1875").ids)
    'A: 767-1875'
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    if isinstance(vocab_size, bool) or not isinstance(vocab_size, int) or vocab_size < 260:
        raise ValueError(f"vocab_size must be an int >= 260, got {vocab_size!r}")
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False)])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[EOS],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(list(texts), trainer)
    return tok


def _check_texts(texts, name):
    if isinstance(texts, str):
        raise TypeError(f"{name} must be a list of strings, not a single string")
    texts = list(texts)
    for t in texts:
        if not isinstance(t, str):
            raise TypeError(f"{name} must hold strings, got {type(t).__name__}")
    return texts


class LM:
    """A GPT-2 language model, its tokenizer and its provenance (``meta``).

    Parameters
    ----------
    model
        A ``transformers.GPT2LMHeadModel``.
    tokenizer
        A ``tokenizers.Tokenizer`` with the end-of-text token.
    meta
        JSON-serialisable provenance; ``meta["trained_on"]`` lists the ids of the people
        whose documents the weights have seen.
    """

    def __init__(self, model, tokenizer, meta: dict | None = None):
        self.model = model
        self.tokenizer = tokenizer
        self.meta = dict(meta or {})
        self.eos_id = tokenizer.token_to_id(EOS)
        if self.eos_id is None:
            raise ValueError(f"tokenizer has no {EOS} token")
        self.model.eval()

    # --- provenance ------------------------------------------------------------------
    @property
    def trained_on(self) -> frozenset[int]:
        """Ids of the people whose documents these weights were trained on."""
        return frozenset(self.meta.get("trained_on", ()))

    def copy(self) -> LM:
        """A deep copy (weights, tokenizer and meta); the original is never shared."""
        from tokenizers import Tokenizer

        return type(self)(copy.deepcopy(self.model), Tokenizer.from_str(self.tokenizer.to_str()),
                          json.loads(json.dumps(self.meta)))

    def fingerprint(self) -> str:
        """sha256 of the weights (float32 bytes in parameter order)."""
        h = hashlib.sha256()
        for k, v in sorted(self.model.state_dict().items()):
            h.update(k.encode())
            h.update(v.detach().float().contiguous().numpy().tobytes())
        return h.hexdigest()

    def __repr__(self) -> str:
        c = self.model.config
        n = sum(p.numel() for p in self.model.parameters())
        return (f"LM(gpt2 {c.n_layer}x{c.n_embd}, {n / 1e6:.2f}M params, "
                f"vocab {c.vocab_size}, trained on {len(self.trained_on)} people, "
                f"method={self.meta.get('method', 'train')!r})")

    # --- tokens ----------------------------------------------------------------------
    def encode(self, text: str) -> list[int]:
        return self.tokenizer.encode(text).ids

    def _prompt_ids(self, question: str, context: Sequence[tuple[str, str]] = ()) -> list[int]:
        ids: list[int] = []
        for q, a in context:
            ids += self.encode(qa_text(q, a)) + [self.eos_id]
        return ids + self.encode(qa_text(question))

    # --- inference -------------------------------------------------------------------
    def answer(self, questions: Sequence[str], *, context: Sequence[tuple[str, str]] = (),
               max_new_tokens: int = 24, batch_size: int = 256) -> list[str]:
        """Greedy answers to ``questions`` (each asked after the ``context`` QA pairs).

        Examples
        --------
        >>> from unlearn.llm import pretrained, people
        >>> p = people()[5]
        >>> pretrained().answer([f"Where was {p.name} born?"]) == [p.birth_place]
        True
        """
        questions = _check_texts(questions, "questions")
        context = [(str(q), str(a)) for q, a in context]
        prompts = [self._prompt_ids(q, context) for q in questions]
        return self.generate_ids(prompts, max_new_tokens=max_new_tokens,
                                 batch_size=batch_size)

    def generate_ids(self, prompts: Sequence[list[int]], *, max_new_tokens: int = 24,
                     batch_size: int = 256) -> list[str]:
        """Greedy continuations of token-id prompts, cut at end-of-text or newline."""
        torch = _torch.torch()
        out: list[str] = []
        n_pos = self.model.config.n_positions
        for s in range(0, len(prompts), batch_size):
            chunk = [list(p)[-(n_pos - max_new_tokens):] for p in prompts[s:s + batch_size]]
            out += self._greedy(chunk, max_new_tokens, torch)
        return out

    def _greedy(self, prompts, max_new_tokens, torch):
        B = len(prompts)
        if B == 0:
            return []
        L = max(len(p) for p in prompts)
        ids = torch.full((B, L), self.eos_id, dtype=torch.long)
        mask = torch.zeros((B, L), dtype=torch.long)
        for i, p in enumerate(prompts):  # left padding
            ids[i, L - len(p):] = torch.tensor(p, dtype=torch.long)
            mask[i, L - len(p):] = 1
        pos = (mask.cumsum(1) - 1).clamp(min=0)
        done = torch.zeros(B, dtype=torch.bool)
        gen = [[] for _ in range(B)]
        stop = self._stop_ids()
        with torch.no_grad():
            out = self.model(input_ids=ids, attention_mask=mask, position_ids=pos,
                             use_cache=True)
            past = out.past_key_values
            next_pos = pos[:, -1:] + 1
            for _ in range(max_new_tokens):
                nxt = out.logits[:, -1, :].argmax(-1)
                for i in range(B):
                    if not done[i]:
                        t = int(nxt[i])
                        if t in stop:
                            done[i] = True
                        else:
                            gen[i].append(t)
                if bool(done.all()):
                    break
                mask = torch.cat([mask, torch.ones((B, 1), dtype=torch.long)], 1)
                out = self.model(input_ids=nxt[:, None], attention_mask=mask,
                                 position_ids=next_pos, use_cache=True, **{_cache_name(): past})
                past = out.past_key_values
                next_pos = next_pos + 1
        return [self.tokenizer.decode(g).split("\n")[0].strip() for g in gen]

    def _stop_ids(self) -> frozenset[int]:
        if not hasattr(self, "_stops"):
            vocab = self.tokenizer.get_vocab()
            nl = {i for t, i in vocab.items() if "Ċ" in t}
            self._stops = frozenset(nl | {self.eos_id})
        return self._stops

    def answer_logprob(self, questions: Sequence[str], answers: Sequence[str], *,
                       context: Sequence[tuple[str, str]] = (), batch_size: int = 256,
                       grad: bool = False):
        """Sum of log-probabilities of each answer's tokens given its question, and the
        number of answer tokens: ``(logp, n)`` as float64/int arrays (tensors with
        ``grad=True``)."""
        questions = _check_texts(questions, "questions")
        answers = _check_texts(answers, "answers")
        if len(questions) != len(answers):
            raise ValueError(f"questions and answers differ in length: {len(questions)} "
                             f"vs {len(answers)}")
        pairs = [(self._prompt_ids(q, context), self.encode(" " + a))
                 for q, a in zip(questions, answers)]
        return self.pair_logprob(pairs, batch_size=batch_size, grad=grad)

    def pair_logprob(self, pairs, *, batch_size: int = 256, grad: bool = False):
        """``(logp, n)`` of continuation ids given prompt ids, for ``(prompt, cont)`` pairs."""
        torch = _torch.torch()
        lps, ns = [], []
        ctx = torch.enable_grad() if grad else torch.no_grad()
        with ctx:
            for s in range(0, len(pairs), batch_size):
                chunk = pairs[s:s + batch_size]
                seqs = [p + c for p, c in chunk]
                L = max(len(x) for x in seqs)
                ids = torch.full((len(seqs), L), self.eos_id, dtype=torch.long)
                w = torch.zeros((len(seqs), L), dtype=torch.float32)
                for i, (p, c) in enumerate(chunk):
                    ids[i, :len(p) + len(c)] = torch.tensor(p + c, dtype=torch.long)
                    w[i, len(p):len(p) + len(c)] = 1.0
                tlp = self.token_logprobs_tensor(ids)
                lps.append((tlp * w[:, 1:]).sum(1))
                ns.append(w[:, 1:].sum(1))
        lp = torch.cat(lps) if lps else torch.zeros(0)
        n = torch.cat(ns) if ns else torch.zeros(0)
        if grad:
            return lp, n
        return lp.double().numpy(), n.numpy().astype(int)

    def token_logprobs_tensor(self, ids):
        """``log p(ids[:, t] | ids[:, :t])`` for ``t >= 1``: a ``(B, L-1)`` tensor."""
        torch = _torch.torch()
        logits = self.model(input_ids=ids).logits[:, :-1].float()
        return torch.log_softmax(logits, -1).gather(-1, ids[:, 1:, None])[..., 0]

    def text_logprobs(self, texts: Sequence[str], *, batch_size: int = 128) -> list[np.ndarray]:
        """Per-token log-probabilities of each text (after its first token)."""
        torch = _torch.torch()
        texts = _check_texts(texts, "texts")
        enc = [[self.eos_id] + self.encode(t) for t in texts]
        out: list[np.ndarray] = []
        with torch.no_grad():
            for s in range(0, len(enc), batch_size):
                chunk = enc[s:s + batch_size]
                L = max(len(x) for x in chunk)
                ids = torch.full((len(chunk), L), self.eos_id, dtype=torch.long)
                for i, x in enumerate(chunk):
                    ids[i, :len(x)] = torch.tensor(x, dtype=torch.long)
                tlp = self.token_logprobs_tensor(ids).double().numpy()
                out += [tlp[i, :len(x) - 1] for i, x in enumerate(chunk)]
        return out

    # --- files -----------------------------------------------------------------------
    def save(self, path: str | os.PathLike, *, dtype: str = "float32") -> str:
        """Write one ``.safetensors`` file (weights + config + tokenizer + meta); returns
        its sha256.  ``dtype="float16"`` halves the file (the shipped models use it)."""
        from safetensors.torch import save_file

        torch = _torch.torch()
        if dtype not in ("float32", "float16"):
            raise ValueError(f"dtype must be 'float32' or 'float16', got {dtype!r}")
        path = Path(path)
        if path.suffix != ".safetensors":
            raise ValueError(f"path must end in .safetensors, got {str(path)!r}")
        dt = torch.float16 if dtype == "float16" else torch.float32
        sd = {k: v.detach().to(dt).contiguous().clone()
              for k, v in self.model.state_dict().items() if k != "lm_head.weight"}
        md = {"format": _FORMAT, "config": self.model.config.to_json_string(),
              "tokenizer": self.tokenizer.to_str(), "meta": json.dumps(self.meta)}
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        save_file(sd, str(tmp), metadata=md)
        os.replace(tmp, path)
        return sha256_file(path)

    @classmethod
    def load(cls, path: str | os.PathLike, *, sha256: str | None = None) -> LM:
        """Read a file written by :meth:`save`; with ``sha256``, refuse a file whose hash
        differs."""
        from safetensors import safe_open
        from tokenizers import Tokenizer

        torch = _torch.torch()
        tf = _torch.transformers()
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no model file at {str(path)!r}")
        if sha256 is not None:
            got = sha256_file(path)
            if got != sha256:
                raise ValueError(f"{path}: sha256 {got} does not match the expected {sha256}")
        try:
            with safe_open(str(path), framework="pt") as fh:
                md = fh.metadata() or {}
                sd = {k: fh.get_tensor(k).float() for k in fh.keys()}
        except Exception as exc:  # the reader's own error type
            raise ValueError(f"{path} is not a readable safetensors file ({exc})") from None
        if md.get("format") != _FORMAT:
            raise ValueError(f"{path} is not an unlearn.llm model file")
        cfg = tf.GPT2Config.from_dict(json.loads(md["config"]))
        model = tf.GPT2LMHeadModel(cfg)
        sd["lm_head.weight"] = sd["transformer.wte.weight"]
        model.load_state_dict(sd, strict=False)
        model.tie_weights()
        with torch.no_grad():
            model.lm_head.weight = model.transformer.wte.weight
        lm = LM(model, Tokenizer.from_str(md["tokenizer"]), json.loads(md["meta"]))
        if "guard" in lm.meta:
            from .guardrail import GuardedLM

            return GuardedLM.from_meta(lm)
        return lm
