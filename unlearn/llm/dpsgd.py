"""DP-SGD from the start, with the **person** as the privacy unit.

Each step samples every trained person independently with probability
``q = people_per_step / N`` (Poisson sampling, which the accountant assumes), takes the
gradient of the mean LM loss on ``docs_per_person`` of that person's documents, clips it to
norm ``clip``, sums, adds ``N(0, σ² clip²)`` noise per coordinate and divides by the
expected batch ``q N`` (Abadi et al. 2016); the optimiser (Adam) is post-processing.  The
noise multiplier ``σ`` is calibrated by :func:`unlearn.llm.dp.calibrate_sigma` so that all
``steps`` together are ``(epsilon, delta)``-DP with respect to adding or removing one
person (Rényi accounting of the sampled Gaussian mechanism).

The same architecture, tokenizer and seed as the non-private model; only the optimiser
and the budget differ (``steps`` is far below the non-private recipe's on 2 cores).
``epsilon=inf`` is the control: the same clipping, sampling and budget without noise, so
that what the noise costs can be told apart from what the small budget costs.  Because no
single person can influence the weights much, nobody needs forgetting later: the price is
what the model can learn about anyone.
"""

from __future__ import annotations

import random
import time

import numpy as np

from . import _torch
from .corpus import people
from .dp import calibrate_sigma, dpsgd_epsilon
from .model import LM

__all__ = ["dp_train"]


def dp_train(model: LM, *, seed: int, epsilon: float = 8.0, delta: float | None = None,
             steps: int = 150, people_per_step: int = 16, docs_per_person: int = 4,
             clip: float = 1.0, lr: float = 3e-3) -> LM:
    """Train a fresh model on ``model``'s people with DP-SGD (``model`` gives the recipe
    and tokenizer and is not modified)."""
    torch = _torch.torch()
    from .methods import doc_pairs
    from .train import new_model

    for name, v in (("steps", steps), ("people_per_step", people_per_step),
                    ("docs_per_person", docs_per_person)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be an int >= 1, got {v!r}")
    if not clip > 0 or not lr > 0:
        raise ValueError(f"clip and lr must be > 0, got {clip}, {lr}")
    corpus = people(seed=int(model.meta.get("corpus_seed", 0)),
                    n=int(model.meta.get("corpus_n", 240)))
    trained = [corpus[i] for i in sorted(model.trained_on)]
    N = len(trained)
    if people_per_step > N:
        raise ValueError(f"people_per_step must be <= {N} (the people trained on)")
    delta = 1.0 / N**2 if delta is None else float(delta)
    if not 0 < delta < 1:
        raise ValueError(f"delta must lie in (0, 1), got {delta}")
    q = people_per_step / N
    epsilon = float(epsilon)  # "inf" (a string, as grid parameters must be finite) too
    if epsilon == float("inf"):  # the control: same clipping and budget, no noise
        sigma, eps_spent = 0.0, float("inf")
    else:
        sigma = calibrate_sigma(epsilon, q=q, steps=steps, delta=delta)
        eps_spent = dpsgd_epsilon(q=q, sigma=sigma, steps=steps, delta=delta)
    t0 = time.perf_counter()
    net = new_model(model.tokenizer, seed=seed, recipe=model.meta.get("recipe"))
    out = LM(net, model.tokenizer, {k: v for k, v in model.meta.items()
                                    if k in ("corpus_seed", "corpus_n", "holdout", "recipe",
                                             "trained_on")})
    out.meta["seed"] = seed
    per_person = {p.id: doc_pairs(out, [p]) for p in trained}
    rng = random.Random(seed)
    gen = torch.Generator().manual_seed(seed)
    params = [p for p in net.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=lr)
    net.train()
    sizes = []
    for _step in range(steps):
        batch = [p for p in trained if rng.random() < q]
        sizes.append(len(batch))
        acc = [torch.zeros_like(p) for p in params]
        for p in batch:
            pairs = rng.sample(per_person[p.id], min(docs_per_person, len(per_person[p.id])))
            lp, n = out.pair_logprob(pairs, grad=True)
            loss = -(lp.sum() / n.sum())
            grads = torch.autograd.grad(loss, params)
            norm = torch.sqrt(sum((g.double() ** 2).sum() for g in grads)).float()
            scale = torch.clamp(clip / (norm + 1e-12), max=1.0)
            for a, g in zip(acc, grads):
                a.add_(g * scale)
        for prm, a in zip(params, acc):
            if sigma > 0:
                a = a + torch.normal(0.0, sigma * clip, size=a.shape, generator=gen)
            prm.grad = a / (q * N)
        opt.step()
        opt.zero_grad(set_to_none=True)
    net.eval()
    out.meta.update({"dp_epsilon": eps_spent, "dp_delta": delta, "dp_sigma": sigma,
                     "dp_q": q, "dp_steps": steps, "dp_clip": clip,
                     "dp_mean_batch": float(np.mean(sizes)),
                     "train_seconds": time.perf_counter() - t0})
    return out
