"""Benchmark: unlearn.llm decoding and DP-SGD, as ratios against references in the same run.

- ``LM.answer`` (batched, left-padded, key-value cache, stops when every row has stopped)
  against ``transformers``' ``model.generate`` (greedy, same batch, same padding) on the
  held-out questions about 20 people; the answers must agree.
- One DP-SGD step (per-person gradients, clipped, noised) against one ordinary training step
  on the same documents (the price of per-example clipping).

Usage::

    .venv/bin/python bench/llm.py [--people 20] [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]


def _best(fn, repeat):
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t0)
    return min(ts), out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    from unlearn.llm import _torch, pretrained, questions
    from unlearn.llm.corpus import trained_people

    _torch.set_threads(args.threads)
    torch = _torch.torch()
    m = pretrained()
    qa = questions(trained_people()[: args.people], split="heldout")
    qs = [q for q, _ in qa]

    t_ours, ours = _best(lambda: m.answer(qs), args.repeat)

    def hf():
        prompts = [m._prompt_ids(q) for q in qs]
        L = max(map(len, prompts))
        ids = torch.full((len(prompts), L), m.eos_id)
        mask = torch.zeros((len(prompts), L), dtype=torch.long)
        for i, p in enumerate(prompts):
            ids[i, L - len(p):] = torch.tensor(p)
            mask[i, L - len(p):] = 1
        with torch.no_grad():
            out = m.model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=24,
                                   do_sample=False, eos_token_id=sorted(m._stop_ids()),
                                   pad_token_id=m.eos_id)
        res = []
        for row in out[:, L:].tolist():
            toks = []
            for t in row:
                if t in m._stop_ids():
                    break
                toks.append(t)
            res.append(m.tokenizer.decode(toks).split("\n")[0].strip())
        return res

    t_hf, theirs = _best(hf, args.repeat)
    agree = sum(a == b for a, b in zip(ours, theirs)) / len(qs)
    print(f"greedy answers, {len(qs)} questions: LM.answer {t_ours:.2f} s, "
          f"transformers generate {t_hf:.2f} s, ratio {t_hf / t_ours:.2f}x, "
          f"agreement {agree:.3f}")

    from unlearn.llm.methods import doc_pairs

    ps = trained_people()[:16]
    pairs = {p.id: doc_pairs(m, [p])[:4] for p in ps}
    net = m.copy()
    params = list(net.model.parameters())

    def dp_step():
        acc = [torch.zeros_like(p) for p in params]
        for p in ps:
            lp, n = net.pair_logprob(pairs[p.id], grad=True)
            grads = torch.autograd.grad(-(lp.sum() / n.sum()), params)
            norm = torch.sqrt(sum((g ** 2).sum() for g in grads))
            for a, g in zip(acc, grads):
                a.add_(g * torch.clamp(1.0 / (norm + 1e-12), max=1.0))
        return acc

    def plain_step():
        allp = [x for p in ps for x in pairs[p.id]]
        lp, n = net.pair_logprob(allp, grad=True)
        return torch.autograd.grad(-(lp.sum() / n.sum()), params)

    t_dp, _ = _best(dp_step, args.repeat)
    t_plain, _ = _best(plain_step, args.repeat)
    print(f"one step on 16 people x 4 documents: DP-SGD (per-person clipping) {t_dp:.2f} s, "
          f"plain {t_plain:.2f} s, ratio {t_dp / t_plain:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
