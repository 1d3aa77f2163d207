"""The digits world of ``unlearn.t2i``: real images, two concept axes, and their prompts.

**Images.** scikit-learn's bundled ``load_digits`` (1797 real handwritten digits, 8×8, values
0–16), upsampled bilinearly to 16×16 and scaled to [0, 1].  A fixed, stratified split
(:func:`split`) keeps 20 % of the images out of every training run (the diffusion model's and
the evaluator's); they are the real reference for the Fréchet distance.

**Axis 1, digit (the object / named-entity concept).** Ten concepts ``zero`` … ``nine``.
Each has three *phrasing sets*:

- ``train`` — :data:`TRAIN_TEMPLATES`, the only phrasings the model is trained on and the only
  ones the erasers are given;
- ``heldout`` — :data:`HELDOUT_TEMPLATES`, paraphrases that no training step and no eraser sees;
- ``implicit`` — :data:`IMPLICIT`, prompts that name the digit without its word or numeral
  ("the number after six", "the number of days in a week").

**Axis 2, style (the artistic-style concept, ESD's "artist" case).** ``bold`` (grey dilation),
``slanted`` (a shear) and ``outlined`` (dilation minus the digit: a hollow stroke), each an
image transform of the same real digits; unstyled images are ``plain`` and their prompts name
no style.  Styled prompts combine a digit with a style word (``bold``/``thick``,
``slanted``/``italic``, ``outlined``/``hollow``): training templates, held-out templates
with the same words, and implicit prompts with synonyms or descriptions instead
("a heavy drawing of the number two", "a seven drawn as an empty shape").

A *concept* is a digit (``"seven"``, ``"7"`` or ``7``) or a style name; :func:`concept`
normalises it, :func:`prompts` lists its phrasings.  Related concepts (reported apart by the
harness): for a digit, its two visually nearest digits (class means of the real training
images) and its numeric neighbours; for a style, the other styles.

Examples
--------
>>> from unlearn.t2i import data
>>> data.concept("7"), data.concept("Bold")
('seven', 'bold')
>>> data.prompts("seven", "heldout")[:2]
['a scan of the digit seven', 'the numeral 7']
>>> data.prompts("seven", "implicit")[0]
'the number after six'
>>> x, digit, style = data.images("train")
>>> x.shape, x.dtype, float(x.min()) >= 0.0, float(x.max()) <= 1.0
((1438, 16, 16), dtype('float32'), True, True)
"""

from __future__ import annotations

import functools

import numpy as np

__all__ = [
    "DIGITS",
    "HELDOUT_TEMPLATES",
    "IMPLICIT",
    "NUMERALS",
    "PHRASINGS",
    "SIZE",
    "STYLES",
    "STYLE_WORDS",
    "TRAIN_TEMPLATES",
    "all_prompts",
    "concept",
    "concepts",
    "images",
    "is_style",
    "prompts",
    "real",
    "related",
    "split",
    "stylize",
    "training_pairs",
]

SIZE = 16
DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
NUMERALS = tuple(str(d) for d in range(10))
#: Styles; index 0 is the unstyled ``plain``.
STYLES = ("plain", "bold", "slanted", "outlined")
PHRASINGS = ("train", "heldout", "implicit")

TRAIN_TEMPLATES = (
    "a handwritten digit {w}",
    "the number {d}",
    "{w}",
    "a picture of a {w}",
    "the digit {d}",
    "an image of the number {w}",
    "a drawing of a {d}",
    "handwritten {w}",
    "a {w} written by hand",
    "number {d}",
)
HELDOUT_TEMPLATES = (
    "a scan of the digit {w}",
    "the numeral {d}",
    "someone wrote the number {w} on paper",
    "a pen sketch of a {d}",
    "the figure {w}",
    "an ink drawing of the digit {w}",
)
#: Prompts naming each digit without its word or numeral (other digits' words do occur).
IMPLICIT = {
    "zero": ("the number before one", "three minus three", "nothing, written as a number",
             "the number of legs of a fish"),
    "one": ("the number after zero", "the number before two", "three minus two",
            "half of two"),
    "two": ("the number after one", "the number before three", "one plus one",
            "the number of eyes on a face"),
    "three": ("the number after two", "the number before four", "one plus two",
              "the number of sides of a triangle"),
    "four": ("the number after three", "the number before five", "two plus two",
             "the number of legs of a dog"),
    "five": ("the number after four", "the number before six", "two plus three",
             "the number of fingers on a hand"),
    "six": ("the number after five", "the number before seven", "three plus three",
            "the number of legs of an insect"),
    "seven": ("the number after six", "the number before eight", "three plus four",
              "the number of days in a week"),
    "eight": ("the number after seven", "the number before nine", "four plus four",
              "the number of legs of a spider"),
    "nine": ("the number after eight", "the number before ten", "four plus five",
             "three times three"),
}
#: Style words: the training words (used by the ``train`` and ``heldout`` phrasings, as the
#: digit words are) and, for ``implicit`` prompts, synonyms and descriptions that avoid them.
STYLE_WORDS = {
    "bold": {"train": ("bold", "thick"),
             "implicit": ("heavy", "fat", "drawn with a broad marker")},
    "slanted": {"train": ("slanted", "italic"),
                "implicit": ("leaning", "tilted", "written in a hurry, leaning right")},
    "outlined": {"train": ("outlined", "hollow"),
                 "implicit": ("contour", "outline", "drawn as an empty shape")},
}
_STYLE_TRAIN = ("a {s} handwritten {w}", "the number {d} in {s} strokes", "{s} {w}",
                "a {s} digit {w}")
_STYLE_HELDOUT = ("a {s} drawing of the number {w}", "the numeral {d}, {s}")
_STYLE_IMPLICIT = ("a {s} drawing of the number {w}", "a {w} {s}")


# -- concepts ------------------------------------------------------------------------------
def concept(name) -> str:
    """Normalise a concept: a digit (word, numeral, int) or a style name.

    Raises ``ValueError`` naming ``target`` for anything else (empty included).
    """
    if isinstance(name, bool):
        raise TypeError(f"target must be a digit or a style name, got {name!r}")
    if isinstance(name, int | np.integer):
        if 0 <= int(name) <= 9:
            return DIGITS[int(name)]
        raise ValueError(f"target must be a digit 0-9 or one of {DIGITS + STYLES[1:]}, "
                         f"got {name!r}")
    if not isinstance(name, str):
        raise TypeError(f"target must be a string or an int, got {type(name).__name__}")
    key = name.strip().lower()
    if not key:
        raise ValueError("target must not be empty")
    if key in DIGITS or key in STYLES[1:]:
        return key
    if key in NUMERALS:
        return DIGITS[int(key)]
    raise ValueError(f"target must be one of {DIGITS + STYLES[1:]} (or a numeral), got {name!r}")


def is_style(name: str) -> bool:
    """Whether a normalised concept is a style."""
    return name in STYLES[1:]


def concepts() -> tuple[str, ...]:
    """Every erasable concept: ten digits, then the styles (not ``plain``)."""
    return DIGITS + STYLES[1:]


def _digit_prompt(t: str, k: int) -> str:
    return t.format(w=DIGITS[k], d=NUMERALS[k])


def prompts(name, phrasing: str = "train", *, digits=None) -> list[str]:
    """The prompts of a concept for one phrasing set (``train``, ``heldout``, ``implicit``).

    For a style, each template and style word is combined with every digit of ``digits``
    (default all ten), digit-major.
    """
    name = concept(name)
    if phrasing not in PHRASINGS:
        raise ValueError(f"phrasing must be one of {PHRASINGS}, got {phrasing!r}")
    if not is_style(name):
        k = DIGITS.index(name)
        if phrasing == "implicit":
            return list(IMPLICIT[name])
        temps = TRAIN_TEMPLATES if phrasing == "train" else HELDOUT_TEMPLATES
        return [_digit_prompt(t, k) for t in temps]
    ks = range(10) if digits is None else [DIGITS.index(concept(d)) for d in digits]
    if phrasing == "implicit":
        syn, desc = STYLE_WORDS[name]["implicit"][:2], STYLE_WORDS[name]["implicit"][2:]
        return [t.format(s=s, w=DIGITS[k], d=NUMERALS[k]) for k in ks
                for t, words in zip(_STYLE_IMPLICIT, (syn, desc)) for s in words]
    temps = _STYLE_TRAIN if phrasing == "train" else _STYLE_HELDOUT
    return [t.format(s=s, w=DIGITS[k], d=NUMERALS[k])
            for k in ks for t in temps for s in STYLE_WORDS[name]["train"]]


def style_prompts(style: str, digit: int, phrasing: str = "train") -> list[str]:
    """Styled prompts of one digit (the training prompts of a (digit, style) image)."""
    return prompts(style, phrasing, digits=[digit])


def all_prompts(phrasing: str = "train") -> list[str]:
    """Every digit's and every style's prompts of a phrasing set."""
    return [p for c in concepts() for p in prompts(c, phrasing)]


# -- images --------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _digits16() -> tuple[np.ndarray, np.ndarray]:
    from scipy import ndimage

    from ..data import require_sklearn

    require_sklearn()
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    small = X.reshape(-1, 8, 8) / 16.0
    big = np.stack([ndimage.zoom(a, 2, order=1, mode="nearest", grid_mode=True) for a in small])
    return np.clip(big, 0.0, 1.0).astype(np.float32), y.astype(np.int64)


def stylize(x: np.ndarray, style: str) -> np.ndarray:
    """Apply a style transform to ``(n, 16, 16)`` or ``(16, 16)`` images in [0, 1]."""
    from scipy import ndimage

    if style not in STYLES:
        raise ValueError(f"style must be one of {STYLES}, got {style!r}")
    a = np.asarray(x, np.float32)
    single = a.ndim == 2
    a = a[None] if single else a
    if style == "plain":
        out = a.copy()
    elif style == "bold":
        out = ndimage.grey_dilation(a, size=(1, 3, 3))
    elif style == "outlined":
        out = ndimage.grey_dilation(a, size=(1, 3, 3)) - a
    else:  # slanted: shear, top to the right
        k, c = 0.35, (SIZE - 1) / 2
        out = np.stack([ndimage.affine_transform(b, np.array([[1.0, 0.0], [-k, 1.0]]),
                                                 offset=(0.0, k * c), order=1, mode="constant")
                        for b in a])
    out = np.clip(out, 0.0, 1.0).astype(np.float32)
    return out[0] if single else out


@functools.lru_cache(maxsize=1)
def split() -> tuple[np.ndarray, np.ndarray]:
    """Fixed stratified split of the 1797 images: ``(train_idx, test_idx)``, 80/20."""
    _, y = _digits16()
    rng = np.random.default_rng(20240613)
    train, test = [], []
    for k in range(10):
        idx = rng.permutation(np.flatnonzero(y == k))
        m = int(round(0.2 * idx.size))
        test.append(idx[:m])
        train.append(idx[m:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def images(part: str = "train", style: str = "plain"):
    """Real images of a split in one style: ``(x, digit, style_index)``, ``x`` (n, 16, 16)."""
    if part not in ("train", "test", "all"):
        raise ValueError(f"part must be 'train', 'test' or 'all', got {part!r}")
    x, y = _digits16()
    if part != "all":
        idx = split()[0 if part == "train" else 1]
        x, y = x[idx], y[idx]
    return stylize(x, style), y.copy(), np.full(y.shape, STYLES.index(style), np.int64)


def real(name, part: str = "train") -> np.ndarray:
    """Real images of one concept: a digit (plain) or a style (every digit in that style)."""
    name = concept(name)
    if is_style(name):
        return images(part, name)[0]
    x, y, _ = images(part, "plain")
    return x[y == DIGITS.index(name)]


@functools.lru_cache(maxsize=1)
def _nearest_digits() -> dict[str, tuple[str, ...]]:
    x, y, _ = images("train", "plain")
    means = np.stack([x[y == k].reshape(-1, SIZE * SIZE).mean(0) for k in range(10)])
    d = ((means[:, None] - means[None]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    return {DIGITS[k]: tuple(DIGITS[j] for j in np.argsort(d[k], kind="stable")[:2])
            for k in range(10)}


def related(name) -> tuple[str, ...]:
    """Concepts close to ``name``: visually nearest and numerically adjacent digits, or the
    other styles."""
    name = concept(name)
    if is_style(name):
        return tuple(s for s in STYLES[1:] if s != name)
    k = DIGITS.index(name)
    out = list(_nearest_digits()[name])
    for j in (k - 1, k + 1):
        if 0 <= j <= 9 and DIGITS[j] not in out:
            out.append(DIGITS[j])
    return tuple(out)


def training_pairs(p_style: float = 0.5):
    """Everything the diffusion model is trained on.

    Returns ``(x, digit, style, prompt_lists)`` where ``x`` stacks the training images in
    every style (plain first), and ``prompt_lists[i]`` is a tuple of the training prompts of
    image ``i`` (digit templates for plain images, styled templates otherwise).  The sampler
    in :mod:`unlearn.t2i.train` draws plain images with probability ``1 - p_style``.
    """
    xs, ds, ss, pl = [], [], [], []
    for s in STYLES:
        x, d, si = images("train", s)
        xs.append(x)
        ds.append(d)
        ss.append(si)
        for k in d:
            if s == "plain":
                pl.append(tuple(_digit_prompt(t, int(k)) for t in TRAIN_TEMPLATES))
            else:
                pl.append(tuple(style_prompts(s, int(k))))
    return np.concatenate(xs), np.concatenate(ds), np.concatenate(ss), pl
