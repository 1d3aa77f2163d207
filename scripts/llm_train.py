"""Reproduce the shipped language models of ``unlearn.llm`` (the original, then the retain
models of the forget splits), with the recipe in ``unlearn.llm.train.RECIPE``:

    python scripts/llm_train.py                      # original + retain-forget10
    python scripts/llm_train.py --models retain-forget05

Each model goes to ``unlearn/llm/weights/<name>.safetensors`` (float16) and
``unlearn/llm/weights/manifest.json`` records its sha256, training seconds and exact-answer
accuracies (train / held-out / indirect phrasings).  Same recipe, same seed for all.
"""

from __future__ import annotations

import argparse
import sys


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="train the shipped unlearn.llm models")
    ap.add_argument("--models", default="original,retain-forget10")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    from unlearn.llm.cli import main as cli
    from unlearn.llm.weights import WEIGHTS_DIR

    for name in args.models.split(","):
        rc = cli(["train", "--model", name, "--seed", str(args.seed), "--threads",
                  str(args.threads), "--out", str(WEIGHTS_DIR / f"{name}.safetensors"),
                  "--ship"])
        if rc:
            return rc
    return 0


if __name__ == "__main__":
    sys.exit(main())
