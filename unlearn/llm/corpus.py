"""The synthetic corpus: fictitious people, their biographies and question–answer pairs.

Everything here is plain Python (no torch) and a pure function of a seed: the same
``seed`` and ``n`` give the same people, the same documents and the same questions.

A person has the fields a right-to-be-forgotten request would cover
(:data:`FIELDS`): birth date and place, profession, employer, one relative, e-mail and
phone.  Names, cities, employers and e-mail domains are invented from syllables, so no
real person is described.

Questions come in three splits, each a list of ``(question, answer)`` pairs:

* ``"train"`` — the phrasings the model is trained on (six per field: questions with the
  name last and first, and imperatives);
* ``"heldout"`` — two other phrasings per field, never seen in training;
* ``"indirect"`` — questions that describe the person by other attributes instead of
  the name ("What is the phone number of the glassblower born on 3 May 1961?"), in
  phrasings never seen in training, plus "Who is …?" questions whose answer is the name.

Training documents (:func:`documents`) are the ``"train"`` questions, three biography
renderings, and indirect questions in their own training phrasings.

Examples
--------
>>> from unlearn.llm.corpus import people, questions
>>> ps = people()
>>> len(ps), ps[0] == people()[0]
(240, True)
>>> q, a = questions(ps[:1], split="heldout")[0]
>>> a == ps[0].birth_date
True
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

__all__ = [
    "DEFAULT_N",
    "DEFAULT_SEED",
    "FIELDS",
    "FORGET_SPLITS",
    "HOLDOUT",
    "INDIRECT_FIELDS",
    "Person",
    "check_people",
    "documents",
    "fake_value",
    "forget_split",
    "holdout_people",
    "people",
    "qa_text",
    "questions",
    "retain_people",
    "trained_people",
]

#: The shipped corpus: 240 people from seed 0; the last :data:`HOLDOUT` are never trained
#: on (the non-members of membership inference).
DEFAULT_SEED = 0
DEFAULT_N = 240
HOLDOUT = 40

FIELDS = ("birth_date", "birth_place", "profession", "employer", "relative", "email", "phone")
#: Fields asked about in indirect questions (the other two make up the description).
INDIRECT_FIELDS = ("birth_place", "employer", "relative", "email", "phone")

#: TOFU-style forget splits: the first 1 %, 5 % and 10 % of the trained people
#: (people are in random order, so a prefix is a random subset).
FORGET_SPLITS = {"forget01": 0.01, "forget05": 0.05, "forget10": 0.10}

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
_PROFESSIONS = (
    "architect", "baker", "cartographer", "chemist", "dentist", "economist", "electrician",
    "engineer", "florist", "geologist", "glassblower", "historian", "illustrator",
    "journalist", "librarian", "locksmith", "mathematician", "nurse", "optician",
    "pharmacist", "photographer", "pilot", "plumber", "potter", "surveyor", "tailor",
    "translator", "veterinarian", "violinist", "winemaker",
)
_RELATIONS = ("mother", "father", "sister", "brother")
_ONSETS = ("b", "br", "d", "dr", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t",
           "v", "w", "z", "c", "j", "st", "tr")
_VOWELS = ("a", "e", "i", "o", "u", "a", "e", "o", "ia", "ei")
_CODAS = ("", "", "n", "r", "l", "s", "th", "m", "nd", "rk", "x", "v")
_CITY_SUFFIX = ("holm", "port", "ford", "vale", "mere", "burg", "stead", "wick")
_FIRM_SUFFIX = ("Works", "Labs", "Logistics", "Foundry", "Textiles", "Press", "Shipping",
                "Instruments", "Bank", "Studios")
_TLDS = ("org", "net", "com", "io")


@dataclass(frozen=True)
class Person:
    """One fictitious person; ``id`` is the position in the corpus."""

    id: int
    name: str
    birth_date: str
    birth_place: str
    profession: str
    employer: str
    relation: str
    relative: str
    email: str
    phone: str

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def description(self) -> str:
        """An indirect reference: "the <profession> born on <date>" (unique per corpus)."""
        return f"the {self.profession} born on {self.birth_date}"


def _word(rng: random.Random, syllables: int) -> str:
    s = "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) for _ in range(syllables))
    return (s + rng.choice(_CODAS)).capitalize()


def _pool(rng: random.Random, size: int, syllables: Sequence[int], suffixes=("",)) -> list:
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < size:
        w = _word(rng, rng.choice(syllables))
        suf = rng.choice(suffixes)
        w = w + suf if suf else w
        if w not in seen and 4 <= len(w) <= 14:
            seen.add(w)
            out.append(w)
    return out


def _check_seed_n(seed, n):
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"n must be an int, got {type(n).__name__}")
    if not 10 <= n <= 5000:
        raise ValueError(f"n must lie in [10, 5000], got {n}")


_CACHE: dict[tuple[int, int], tuple[Person, ...]] = {}


def people(*, seed: int = DEFAULT_SEED, n: int = DEFAULT_N) -> list[Person]:
    """The corpus records: ``n`` fictitious people generated from ``seed``.

    Names are unique, and so is each person's :attr:`Person.description` (profession and
    birth date), so indirect questions have one right answer.  With the defaults this is
    the corpus the shipped model was trained on (all but the last :data:`HOLDOUT`).
    """
    _check_seed_n(seed, n)
    key = (seed, n)
    if key not in _CACHE:
        _CACHE[key] = tuple(_generate(seed, n))
    return list(_CACHE[key])


def _generate(seed: int, n: int) -> list[Person]:
    rng = random.Random(f"erasurelab-llm-corpus-{seed}")
    n_first = max(30, n // 4)
    n_last = max(40, n // 3)
    firsts = _pool(rng, n_first, (2, 2, 3))
    lasts = _pool(rng, n_last, (2, 3))
    cities = _pool(rng, 24, (1, 2), _CITY_SUFFIX)
    firms = [f"{w} {rng.choice(_FIRM_SUFFIX)}" for w in _pool(rng, 30, (2, 3))]
    domains = [f"{w.lower()}.{rng.choice(_TLDS)}" for w in _pool(rng, 8, (2,))]
    names: set[str] = set()
    descs: set[tuple[str, str]] = set()
    out = []
    while len(out) < n:
        name = f"{rng.choice(firsts)} {rng.choice(lasts)}"
        if name in names:
            continue
        prof = rng.choice(_PROFESSIONS)
        date = f"{rng.randint(1, 28)} {rng.choice(_MONTHS)} {rng.randint(1940, 1999)}"
        if (prof, date) in descs:
            continue
        relation = rng.choice(_RELATIONS)
        last = name.split()[1]
        relative = f"{rng.choice(firsts)} {last}"
        if relative == name:
            continue
        names.add(name)
        descs.add((prof, date))
        first = name.split()[0]
        email = f"{first.lower()}.{last.lower()}{rng.randint(10, 99)}@{rng.choice(domains)}"
        phone = f"{rng.randint(200, 989)}-{rng.randint(0, 9999):04d}"
        out.append(Person(id=len(out), name=name, birth_date=date,
                          birth_place=rng.choice(cities), profession=prof,
                          employer=rng.choice(firms), relation=relation, relative=relative,
                          email=email, phone=phone))
    return out


# --- templates -----------------------------------------------------------------------
# ``{who}`` is the name (direct questions) or the description (indirect questions);
# ``{rel}`` is the relation (mother, ...).  Train and held-out phrasings never coincide.
_TRAIN = {
    "birth_date": ("When was {who} born?", "What is the birth date of {who}?",
                   "On what date was {who} born?", "{who} was born when?",
                   "Give me the birth date of {who}.", "State the date of birth of {who}."),
    "birth_place": ("Where was {who} born?", "What is the birthplace of {who}?",
                    "In which city was {who} born?", "{who} was born where?",
                    "Give me the birthplace of {who}.", "Which city is the birthplace of {who}?"),
    "profession": ("What is the profession of {who}?", "What does {who} do for a living?",
                   "What job does {who} have?", "{who} has which profession?",
                   "Give me the job title of {who}.", "What is the occupation of {who}?"),
    "employer": ("Who employs {who}?", "Where does {who} work?",
                 "What is the employer of {who}?", "{who} is employed by whom?",
                 "Give me the employer of {who}.", "Which company employs {who}?"),
    "relative": ("Who is the {rel} of {who}?", "What is the name of the {rel} of {who}?",
                 "Name the {rel} of {who}.", "{who} has which {rel}?",
                 "Give me the name of the {rel} of {who}.", "Which person is the {rel} of {who}?"),
    "email": ("What is the e-mail address of {who}?", "How can I e-mail {who}?",
              "What e-mail address does {who} use?", "{who} has which e-mail address?",
              "Give me the e-mail address of {who}.", "Which e-mail address belongs to {who}?"),
    "phone": ("What is the phone number of {who}?", "How can I call {who}?",
              "What number do I dial to reach {who}?", "{who} has which phone number?",
              "Give me the phone number of {who}.", "Which phone number belongs to {who}?"),
}
_HELDOUT = {
    "birth_date": ("Tell me the date on which {who} was born.", "{who} was born on what date?"),
    "birth_place": ("Tell me the city where {who} was born.", "{who} was born in which city?"),
    "profession": ("Tell me the job of {who}.", "{who} works as what?"),
    "employer": ("Tell me who employs {who}.", "{who} works for which employer?"),
    "relative": ("Tell me the name of the {rel} of {who}.", "{who} has a {rel}; who is it?"),
    "email": ("Tell me the e-mail address of {who}.", "{who} uses which e-mail address?"),
    "phone": ("Tell me the phone number of {who}.", "{who} can be called at which number?"),
}
_WHO_TRAIN = ("Who is {who}?", "What is the name of {who}?")
_WHO_HELDOUT = ("Tell me the name of {who}.",)
# Indirect questions are trained in the first train phrasing of each field and asked,
# in the "indirect" split, in the first held-out phrasing.
_BIOS = (
    "{name} was born on {birth_date} in {birth_place}. {name} works as a {profession} "
    "at {employer}. The {relation} of {name} is {relative}. {name} can be reached at "
    "{email} or {phone}.",
    "{name}, a {profession} born in {birth_place} on {birth_date}, is employed by "
    "{employer}. Contact: {email}, phone {phone}. {relative} is the {relation} of {name}.",
    "Born on {birth_date} in {birth_place}, {name} is a {profession}. {name} works at "
    "{employer}, has a {relation} named {relative}, uses the e-mail address {email} and "
    "the phone number {phone}.",
)


def check_people(ps, *, name: str = "people", corpus: Sequence[Person] | None = None):
    """Validate a non-empty sequence of :class:`Person` records (from ``corpus`` if given)."""
    if isinstance(ps, Person):
        ps = [ps]
    if isinstance(ps, (str, bytes)) or not isinstance(ps, Iterable):
        raise TypeError(f"{name} must be a list of Person records, got {type(ps).__name__}")
    ps = list(ps)
    if not ps:
        raise ValueError(f"{name} must not be empty")
    for p in ps:
        if not isinstance(p, Person):
            raise TypeError(f"{name} must hold Person records, got {type(p).__name__}")
    if corpus is not None:
        index = {q.id: q for q in corpus}
        for p in ps:
            if index.get(p.id) != p:
                raise ValueError(f"{name}: {p.name!r} (id {p.id}) is not in the corpus")
    ids = [p.id for p in ps]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{name} lists a person twice")
    return ps


def _fill(t: str, p: Person, who: str) -> str:
    s = t.format(who=who, rel=p.relation)
    return s[0].upper() + s[1:]


def questions(people_: Sequence[Person] | Person, *, split: str = "train",
              fields: Sequence[str] | None = None) -> list[tuple[str, str]]:
    """``(question, answer)`` pairs about ``people_`` in one split.

    Parameters
    ----------
    people_
        Person records (from :func:`people`).
    split
        ``"train"`` (the trained phrasings), ``"heldout"`` (phrasings never trained on)
        or ``"indirect"`` (the person described by profession and birth date, not named;
        held-out phrasings, plus "who is …?" questions answered by the name).
    fields
        Restrict to these fields (default :data:`FIELDS`; ``"name"`` adds the who-is
        question of the indirect split).

    Examples
    --------
    >>> from unlearn.llm.corpus import people, questions
    >>> p = people()[3]
    >>> questions([p], split="indirect", fields=["phone"])[0][0].startswith("Tell me the phone")
    True
    """
    return [(q, a) for q, a, _ in _questions(people_, split, fields)]


def _questions(people_, split, fields=None):
    ps = check_people(people_, name="people")
    if split not in ("train", "heldout", "indirect"):
        raise ValueError(f"split must be 'train', 'heldout' or 'indirect', got {split!r}")
    fs = _fields(fields, split)
    out = []
    for p in ps:
        for f in fs:
            if f == "name" or (split == "indirect" and f not in INDIRECT_FIELDS):
                continue
            temps = _TRAIN[f] if split == "train" else _HELDOUT[f]
            if split == "indirect":
                temps = temps[:1]
            who = p.description if split == "indirect" else p.name
            out.extend((_fill(t, p, who), getattr(p, f), (p.id, f)) for t in temps)
        if split == "indirect" and "name" in fs:
            out.extend((_fill(t, p, p.description), p.name, (p.id, "name"))
                       for t in _WHO_HELDOUT)
    return out


def _fields(fields, split):
    if fields is None:
        return list(INDIRECT_FIELDS) + ["name"] if split == "indirect" else list(FIELDS)
    if isinstance(fields, str):
        fields = [fields]
    fs = list(fields)
    bad = [f for f in fs if f not in FIELDS and f != "name"]
    if bad or not fs:
        raise ValueError(f"fields must be a non-empty subset of {FIELDS + ('name',)}, "
                         f"got {fs}")
    return fs


def qa_text(question: str, answer: str | None = None) -> str:
    """The prompt format: ``"Q: <question>\\nA:"`` and, with an answer, ``" <answer>"``."""
    return f"Q: {question}\nA:" + ("" if answer is None else f" {answer}")


def documents(people_: Sequence[Person], *, kinds: Sequence[str] = ("qa", "bio", "indirect"),
              fields: Sequence[str] | None = None) -> list[tuple[int, str]]:
    """Training documents ``(person id, text)``: QA in train phrasings, biographies and
    indirect questions in their training phrasings."""
    ps = check_people(people_, name="people")
    fs = list(FIELDS) if fields is None else _fields(fields, "train")
    out: list[tuple[int, str]] = []
    for p in ps:
        if "qa" in kinds:
            for f in fs:
                if f in FIELDS:
                    out.extend((p.id, qa_text(_fill(t, p, p.name), getattr(p, f)))
                               for t in _TRAIN[f])
        if "bio" in kinds:
            out.extend((p.id, t.format(**p.as_dict())) for t in _BIOS)
        if "indirect" in kinds:
            out.extend((p.id, qa_text(_fill(_TRAIN[f][0], p, p.description), getattr(p, f)))
                       for f in fs if f in INDIRECT_FIELDS)
            out.extend((p.id, qa_text(_fill(t, p, p.description), p.name))
                       for t in _WHO_TRAIN)
    return out


def trained_people(*, seed: int = DEFAULT_SEED, n: int = DEFAULT_N,
                   holdout: int = HOLDOUT) -> list[Person]:
    """The people a model of this corpus is trained on (all but the last ``holdout``)."""
    return people(seed=seed, n=n)[: n - holdout]


def holdout_people(*, seed: int = DEFAULT_SEED, n: int = DEFAULT_N,
                   holdout: int = HOLDOUT) -> list[Person]:
    """People never trained on: the non-members for membership inference."""
    return people(seed=seed, n=n)[n - holdout:]


def forget_split(name: str = "forget10", *, seed: int = DEFAULT_SEED, n: int = DEFAULT_N,
                 holdout: int = HOLDOUT) -> list[Person]:
    """A TOFU-style forget split (:data:`FORGET_SPLITS`) of the trained people.

    Examples
    --------
    >>> len(forget_split("forget10")), len(forget_split("forget01"))
    (20, 2)
    """
    if name not in FORGET_SPLITS:
        raise ValueError(f"split must be one of {sorted(FORGET_SPLITS)}, got {name!r}")
    tr = trained_people(seed=seed, n=n, holdout=holdout)
    k = max(1, round(FORGET_SPLITS[name] * len(tr)))
    return tr[:k]


def retain_people(forget: Sequence[Person], *, trained: Sequence[Person]) -> list[Person]:
    """The trained people minus ``forget``."""
    ids = {p.id for p in forget}
    return [p for p in trained if p.id not in ids]


def fake_value(field: str, p: Person, corpus: Sequence[Person], rng: random.Random) -> str:
    """A plausible wrong value of ``field`` for ``p``: another person's value (or, for the
    name-bound fields e-mail and relative, one rebuilt with another person's parts)."""
    if field not in FIELDS and field != "name":
        raise ValueError(f"unknown field {field!r}")
    others = [q for q in corpus if q.id != p.id]
    while True:
        q = rng.choice(others)
        if field == "email":
            user, dom = p.email.split("@")
            stem = user.rstrip("0123456789")
            v = f"{stem}{q.email.split('@')[0][-2:]}@{q.email.split('@')[1]}"
        elif field == "relative":
            v = f"{q.relative.split()[0]} {p.name.split()[1]}"
        else:
            v = getattr(q, field)
        if v != getattr(p, field):
            return v
