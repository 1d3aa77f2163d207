r"""``unlearn.t2i.evaluate``: EraseEval's three questions, plus robustness and cost.

For a target concept and any :class:`~unlearn.t2i.model.T2IModel`, each seed generates,
with the same initial noise for the model and its reference (paired comparisons):

- **erasure** — images for the target's prompts, per phrasing set (``train``, ``heldout``,
  ``implicit``; for a digit also ``styled``: the digit's held-out prompts in every style).
  ``erasure_<set>`` is the fraction the evaluator still assigns to the target (digit head for a
  digit, style head for a style); ``erasure_<set>_ref`` the same for the reference.  For a
  style target, ``content_kept`` is the digit accuracy of those images (ESD's art case: the
  style goes, the content stays).
- **specificity** — accuracy on every other concept from its held-out prompts: ``others``
  (mean over concepts), ``related`` (the concepts of :func:`unlearn.t2i.data.related`), each with
  its reference value, and ``acc_<concept>`` per concept.  For a digit target, style prompts
  leave the target digit out.
- **quality** — Fréchet distance in the evaluator's 64-d feature space, over the other
  concepts: ``fd_real`` (generated vs real images of the concept), ``fd_real_ref`` (the
  reference's), ``fd_ref`` (generated vs the reference's images of the same prompts).
- **robustness** — ``recovery_<attack>`` for each attack (:func:`unlearn.t2i.attack`) and
  ``attack_recovery``, the best.  The default ``("paraphrase",)`` costs nothing extra: the
  paraphrase attack is the held-out and implicit phrasings, whose images are already
  generated (its recovery is the larger of ``erasure_heldout`` and ``erasure_implicit``).
- **cost** — ``seconds`` (of the erasure, from ``model.info``) and ``params_changed`` (entries
  that differ from the reference).

**Combined score.** With :math:`e = 1 - \max(\text{erasure\_train}, \text{erasure\_heldout},
\text{attack\_recovery})` (the target's worst-case survival over the ways of asking for it that
were evaluated), chance-corrected retention :math:`s = \mathrm{clip}_{[0,1]}\big((a - a_0) /
(a_\text{ref} - a_0)\big)` for ``others`` and for ``related`` (:math:`a_0` the chance accuracy of
each concept's head: 1/10 for digits, 1/4 for styles), and quality :math:`q =
\min(1, \text{fd\_real\_ref} / \text{fd\_real})`, the preservation is :math:`p = (s_\text{others}
\, s_\text{related} \, q)^{1/3}` and

.. math:: \text{score} = \frac{2 e p}{e + p}

(the harmonic mean, 0 when either is 0).  A no-op eraser keeps the target (:math:`e \approx 0`)
and an eraser that removes everything keeps nothing (:math:`p \approx 0`): both score near 0.
``score`` depends on the attacks evaluated: compare scores computed with the same attacks.

Every metric comes per seed; :func:`evaluate` returns their means with Student-t 95 % CIs
(``sim.summarize_grid``).  :func:`experiment` is the ``fn(params, seed)`` for
``sim.run_grid`` (erase, attack, evaluate one seed), so long tables resume.

Examples
--------
>>> from unlearn.t2i import pretrained, erase, evaluate
>>> model = pretrained("digits")
>>> res = evaluate(erase(model, "seven", method="uce"), "seven", seeds=[0],
...                images_per_set=8, steps=10)
>>> res["metrics"]["erasure_heldout"]["mean"] < res["metrics"]["erasure_heldout_ref"]["mean"]
True
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np

from . import data
from .model import DEFAULT_GUIDANCE, DEFAULT_STEPS

__all__ = ["combined_score", "experiment", "evaluate", "evaluate_seed", "frechet", "plan"]

#: Images of the last attack run by :func:`evaluate_seed` per (target, attack, seed), in this
#: process (``scripts/t2i_erase.py`` draws its figure from them instead of attacking again).
ATTACK_IMAGES: dict = {}


def frechet(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (rows).

    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(500, 4))
    >>> frechet(x, x)
    0.0
    >>> round(frechet(x, x + 1.0), 6)
    4.0
    """
    from scipy import linalg

    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
        raise ValueError(f"a, b must be (n, d) feature arrays with n >= 2, got {a.shape}, "
                         f"{b.shape}")
    mu = a.mean(0) - b.mean(0)
    sa, sb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    import warnings

    with warnings.catch_warnings():  # few samples in 64-d: singular covariances are expected
        warnings.simplefilter("ignore")
        covmean = np.real(linalg.sqrtm(sa @ sb))
    val = float(mu @ mu + np.trace(sa) + np.trace(sb) - 2.0 * np.trace(covmean))
    return max(0.0, round(val, 9))


@functools.lru_cache(maxsize=64)
def _real_features(concept: str) -> np.ndarray:
    from .evaluator import Evaluator

    return Evaluator.load().features(data.real(concept, "all"))


def _head(concept: str) -> tuple[str, int, float]:
    """(head, label, chance) with which the evaluator scores a concept."""
    if data.is_style(concept):
        return "style", data.STYLES.index(concept), 1.0 / len(data.STYLES)
    return "digit", data.DIGITS.index(concept), 0.1


def plan(target, images_per_set: int = 48) -> list[tuple[str, str, list[str]]]:
    """The prompt groups of one evaluation: ``(group, concept, prompts)``, prompts repeated so
    that each group has about ``images_per_set`` images (at least one per prompt)."""
    target = data.concept(target)
    if isinstance(images_per_set, bool) or not isinstance(images_per_set, int) \
            or images_per_set < 1:
        raise ValueError(f"images_per_set must be an int >= 1, got {images_per_set!r}")

    def rep(ps):
        k = max(1, math.ceil(images_per_set / len(ps)))
        return [p for p in ps for _ in range(k)]

    groups = [(f"erasure_{ph}", target, rep(data.prompts(target, ph))) for ph in data.PHRASINGS]
    if not data.is_style(target):
        styled = [p for s in data.STYLES[1:] for p in data.prompts(s, "heldout", digits=[target])]
        groups.append(("erasure_styled", target, rep(styled)))
    for c in data.concepts():
        if c == target:
            continue
        if data.is_style(c):
            digits = [d for d in data.DIGITS if d != target]
            ps = data.prompts(c, "heldout", digits=digits)
            rng = np.random.default_rng(data.STYLES.index(c))
            ps = [ps[i] for i in np.sort(rng.permutation(len(ps))[:images_per_set])]
        else:
            ps = data.prompts(c, "heldout")
        groups.append((f"acc_{c}", c, rep(ps)))
    return groups


def _generate(model, prompts, seed, steps, guidance):
    return model.generate(prompts, n_per_prompt=1, seed=seed, steps=steps, guidance=guidance)


@functools.lru_cache(maxsize=32)
def _reference_images(key, prompts: tuple, seed: int, steps: int, guidance: float):
    from .model import pretrained

    return _generate(pretrained(key), list(prompts), seed, steps, guidance)


def _score_groups(ev, groups, x):
    """Per group: (rate of the group's concept, digit accuracy) and features."""
    out, feats = {}, {}
    lo = 0
    probs = ev.predict(x)
    f = ev.features(x)
    for name, c, ps in groups:
        hi = lo + len(ps)
        head, label, _ = _head(c)
        out[name] = float((probs[head][lo:hi].argmax(1) == label).mean())
        if name.startswith("erasure_") and data.is_style(c):
            digits = [data.DIGITS.index(w) for w in _digits_of(ps)]
            out[f"content_{name[8:]}"] = float((probs["digit"][lo:hi].argmax(1)
                                                == np.array(digits)).mean())
        feats[name] = f[lo:hi]
        lo = hi
    return out, feats


def _digits_of(prompts) -> list[str]:
    out = []
    for p in prompts:
        words = p.replace(",", " ").split()
        hit = [w for w in words if w in data.DIGITS] + [data.DIGITS[int(w)] for w in words
                                                         if w in data.NUMERALS]
        out.append(hit[0])
    return out


def combined_score(m: dict) -> float:
    """The combined score of one seed's metrics (see the module docstring)."""
    e = 1.0 - max(m["erasure_train"], m["erasure_heldout"], m.get("attack_recovery", 0.0))
    s = []
    for k in ("others", "related"):
        a, ref, chance = m[k], m[f"{k}_ref"], m[f"{k}_chance"]
        s.append(float(np.clip((a - chance) / max(ref - chance, 1e-9), 0.0, 1.0)))
    q = min(1.0, m["fd_real_ref"] / max(m["fd_real"], 1e-12))
    p = (s[0] * s[1] * q) ** (1.0 / 3.0)
    e = max(0.0, e)
    return 0.0 if e + p == 0 else 2.0 * e * p / (e + p)


def evaluate_seed(model, target, *, seed: int, reference=None, images_per_set: int = 48,
                  steps: int = DEFAULT_STEPS, guidance: float = DEFAULT_GUIDANCE,
                  attacks: Sequence = ("paraphrase",), attack_options: dict | None = None
                  ) -> dict[str, float]:
    """All metrics of one seed, flat ``{name: value}`` (what :func:`experiment` writes)."""
    from .attacks import ATTACKS, AttackResult, attack
    from .erasers import params_changed
    from .evaluator import Evaluator
    from .model import T2IModel, pretrained

    if not isinstance(model, T2IModel):
        raise TypeError(f"model must be a T2IModel, got {type(model).__name__}")
    target = data.concept(target)
    if reference is not None and not isinstance(reference, T2IModel | str):
        raise TypeError("reference must be None, a T2IModel or a pretrained name")
    bad = [a for a in attacks if not isinstance(a, AttackResult) and a not in ATTACKS]
    if bad:
        raise ValueError(f"attacks must hold names from {sorted(ATTACKS)} or AttackResult "
                         f"objects, got {bad[0]!r}")
    ev = Evaluator.load()
    groups = plan(target, images_per_set)
    prompts = [p for _, _, ps in groups for p in ps]
    ref_key = "digits" if reference is None else reference
    if isinstance(ref_key, str):
        xr = _reference_images(ref_key, tuple(prompts), seed, steps, float(guidance))
        base = pretrained(ref_key)
    else:
        xr = _generate(ref_key, prompts, seed, steps, guidance)
        base = ref_key
    changed = params_changed(base, model)
    same = changed == 0 and model.noise_scheduler.config == base.noise_scheduler.config
    # generation is deterministic given the weights and the seed: an unchanged model's
    # images are the reference's (the "none" row of a table costs no second generation)
    x = xr if same else _generate(model, prompts, seed, steps, guidance)
    m, feats = _score_groups(ev, groups, x)
    mr, feats_r = _score_groups(ev, groups, xr)
    out: dict[str, float] = {}
    for name, _, _ in groups:
        if name.startswith("erasure_"):
            out[name] = m[name]
            out[f"{name}_ref"] = mr[name]
    if data.is_style(target):
        out["content_kept"] = m["content_heldout"]
        out["content_kept_ref"] = mr["content_heldout"]
    others = [c for c in data.concepts() if c != target]
    rel = list(data.related(target))
    for c in others:
        out[f"acc_{c}"] = m[f"acc_{c}"]
        out[f"acc_{c}_ref"] = mr[f"acc_{c}"]
    for k, cs in (("others", others), ("related", rel)):
        out[k] = float(np.mean([m[f"acc_{c}"] for c in cs]))
        out[f"{k}_ref"] = float(np.mean([mr[f"acc_{c}"] for c in cs]))
        out[f"{k}_chance"] = float(np.mean([_head(c)[2] for c in cs]))
    fd, fd_ref_real, fd_ref = [], [], []
    for c in others:
        real = _real_features(c)
        fd.append(frechet(feats[f"acc_{c}"], real))
        fd_ref_real.append(frechet(feats_r[f"acc_{c}"], real))
        fd_ref.append(frechet(feats[f"acc_{c}"], feats_r[f"acc_{c}"]))
    out["fd_real"] = float(np.mean(fd))
    out["fd_real_ref"] = float(np.mean(fd_ref_real))
    out["fd_ref"] = float(np.mean(fd_ref))
    out["fd_target_real"] = frechet(feats["erasure_heldout"], _real_features(target))
    # robustness
    rec = []
    opts = dict(attack_options or {})
    for a in attacks:
        if isinstance(a, AttackResult):
            res = a.recovery
            name = a.method
        elif a == "paraphrase" and not opts.get(a):
            # the paraphrase attack is the held-out and implicit phrasings: already generated
            res, name = max(out["erasure_heldout"], out["erasure_implicit"]), a
        else:
            r = attack(model, target, method=a, seed=seed,
                       **{"steps": steps, "guidance": guidance, **opts.get(a, {})})
            res, name = r.recovery, a
            ATTACK_IMAGES[(target, a, seed)] = r.images
        out[f"recovery_{name.replace('-', '_')}"] = res
        rec.append(res)
    if rec:
        out["attack_recovery"] = float(max(rec))
    # cost
    erasures = model.info.get("erasure", [])
    out["seconds"] = float(sum(r.get("seconds", 0.0) for r in erasures))
    out["params_changed"] = float(changed)
    out["score"] = combined_score(out)
    return out


def evaluate(model, target, *, reference=None, seeds: Sequence[int] | int = (0, 1, 2),
             images_per_set: int = 48, steps: int = DEFAULT_STEPS,
             guidance: float = DEFAULT_GUIDANCE, attacks: Sequence = ("paraphrase",),
             attack_options: dict | None = None) -> dict:
    """Evaluate an (erased) model on a target concept, with CIs over seeds.

    Parameters
    ----------
    model : T2IModel
        Any model (erased, fine-tuned, or the original).
    target : str or int
        A digit or a style.
    reference : T2IModel or str, optional
        The model before erasure (default: ``pretrained("digits")``, whose images are cached
        per process).
    seeds : sequence of int or int
        One generation (and attack) per seed; an int ``n`` means ``range(n)``.
    images_per_set : int
        Images per phrasing set and per other concept, per seed.
    steps, guidance
        DDIM steps and classifier-free guidance of every generation.
    attacks : sequence
        Attack names (run with ``attack_options[name]``) or :class:`AttackResult` objects.

    Returns
    -------
    dict
        ``{"target", "seeds", "settings", "metrics": {name: {"mean", "std", "n", "ci_low",
        "ci_high", "values"}}}``.
    """
    from sim.grid import summarize_grid

    if isinstance(seeds, int) and not isinstance(seeds, bool):
        seeds = list(range(seeds))
    seeds = [int(s) for s in seeds]
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct and non-empty, got {seeds}")
    rows = []
    per = []
    for s in seeds:
        m = evaluate_seed(model, target, seed=s, reference=reference,
                          images_per_set=images_per_set, steps=steps, guidance=guidance,
                          attacks=attacks, attack_options=attack_options)
        per.append(m)
        rows += [{"params": {}, "metric": k, "value": v, "seed": s} for k, v in m.items()]
    summary = {r["metric"]: {k: r[k] for k in ("mean", "std", "n", "ci_low", "ci_high")}
               for r in summarize_grid(rows)}
    for k in summary:
        summary[k]["values"] = [p[k] for p in per]
    return {"target": data.concept(target), "seeds": seeds,
            "settings": {"images_per_set": images_per_set, "steps": steps,
                         "guidance": guidance,
                         "attacks": [a if isinstance(a, str) else a.method for a in attacks]},
            "metrics": summary}


def experiment(params: dict, seed: int) -> dict[str, float]:
    """``fn(params, seed)`` for :func:`sim.run_grid`: erase, attack and evaluate one seed.

    ``params``: ``target``, ``method`` (an eraser, ``"none"`` for the original), optional
    ``anchor``, ``options`` (dict of the eraser's options), ``attacks`` (list of names),
    ``attack_options`` (dict name -> options), ``images_per_set``, ``steps``, ``guidance``,
    ``model`` (``"digits"`` or a path to a saved model).
    """
    from .erasers import erase
    from .model import T2IModel, pretrained

    p = dict(params)
    src = p.get("model", "digits")
    base = pretrained(src) if src == "digits" else T2IModel.load(src)
    model = erase(base, p["target"], method=p.get("method", "none"),
                  anchor=p.get("anchor", ""), **dict(p.get("options") or {}))
    out = evaluate_seed(model, p["target"], seed=seed,
                        reference=src if src == "digits" else base,
                        images_per_set=int(p.get("images_per_set", 48)),
                        steps=int(p.get("steps", DEFAULT_STEPS)),
                        guidance=float(p.get("guidance", DEFAULT_GUIDANCE)),
                        attacks=tuple(p.get("attacks", ("paraphrase",))),
                        attack_options=p.get("attack_options"))
    target = data.concept(p["target"])
    for a in p.get("attacks", ()):
        if (target, a, seed) in ATTACK_IMAGES:
            ATTACK_IMAGES[(target, p.get("method", "none"), a, seed)] = ATTACK_IMAGES.pop(
                (target, a, seed))
    return out
