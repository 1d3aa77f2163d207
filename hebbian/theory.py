"""Closed forms for the clustered memories, Willshaw and Hopfield baselines.

The derivations are in docs/science/memories.md.

Parameter names match the sampler's (:mod:`hebbian.sampler`): ``clusters``, ``neurons``
(units per cluster, or all units for Willshaw/Hopfield), ``active``, ``messages``,
``erased``, ``p_rel``, ``n_syn``; so a sweep row's ``json_metadata`` can be passed to
:func:`theory_curve` directly.

Efficiency convention (:func:`capacity`): ``eta(P*) = bits * M*(P*) / Q`` with ``M*``
the largest load whose error is <= ``P*``.  ``info="stored"`` counts the information
of a whole message (clique ``c log2 l``; sparse ``log2 C(chi, c) + c log2 l``; Willshaw
``log2 C(n, k)``; Hopfield ``n``), ``info="retrieved"`` only the erased part.
``synapses="independent"`` counts each unordered pair once (``Q = c(c-1)l^2/2`` for a
clique network, ``chi(chi-1)l^2/2`` sparse, ``n(n-1)/2`` Willshaw, and ``n(n-1)/2``
weights of ``ceil(log2(2M+1))`` bits for Hopfield); ``"all"`` counts both directions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import comb, gammaln
from scipy.stats import binom, norm

from sim.validate import check_probability

__all__ = [
    "Capacity",
    "capacity",
    "density",
    "error_rate",
    "hopfield_error_rate",
    "link_distribution",
    "release_error_rate",
    "sparse_error_rate",
    "theory_curve",
    "willshaw_error_rate",
]


def _pos_int(name: str, v: Any, low: int = 1) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {v!r}")
    return int(v)


def _load(messages: Any) -> float:
    m = float(messages)
    if not m >= 0:
        raise ValueError(f"messages must be >= 0, got {messages!r}")
    return m


def density(clusters: int, neurons: int, messages: float, active: int | None = None) -> float:
    """Expected fraction of set inter-cluster synapses after ``messages`` messages.

    Clique: ``1 - (1 - 1/l^2)^M``; sparse (``active`` = c of χ = ``clusters``):
    ``1 - (1 - c(c-1)/(χ(χ-1)l^2))^M``.

    >>> round(density(8, 256, 10_000), 4)
    0.1415
    """
    chi = _pos_int("clusters", clusters, 2)
    l = _pos_int("neurons", neurons)
    M = _load(messages)
    c = chi if active is None else _pos_int("active", active)
    if c > chi:
        raise ValueError(f"active must be <= clusters, got {c} > {chi}")
    p = c * (c - 1) / (chi * (chi - 1) * l * l)
    return float(-np.expm1(M * np.log1p(-p)))


def _tie_error(q: float, wrong: int, erased: int, tie: str) -> float:
    """Error from per-wrong-unit probability ``q``: ``wrong`` candidates per erased cluster."""
    q = min(max(q, 0.0), 1.0)
    if tie == "error":
        return float(-np.expm1(erased * wrong * np.log1p(-q))) if q < 1 else 1.0
    if tie == "random":
        # E[1/(1+W)], W ~ Bin(wrong, q) = (1 - (1-q)^(wrong+1)) / ((wrong+1) q)
        n1 = wrong + 1
        ps = 1.0 if q == 0 else float(-np.expm1(n1 * np.log1p(-q)) / (n1 * q)) if q < 1 else 1 / n1
        return float(1.0 - ps**erased)
    raise ValueError(f"tie must be 'error' or 'random', got {tie!r}")


def error_rate(
    clusters: int,
    neurons: int,
    messages: float,
    erased: int,
    *,
    method: str = "overlap",
    tie: str = "error",
) -> float:
    """One-iteration SoS+WTA error of a clique network with ``erased`` erased clusters.

    ``method="overlap"`` (default): the message-overlap theory, exact to first order for
    stored messages: a wrong unit u links to all ``c_k`` known units with probability
    ``p_u = sum_t C(c_k,t)(-1)^t exp(-((M-1)/l)(1-(1-1/l)^t))``.
    ``method="independent_edges"``: Gripon–Berrou, edges iid with the density ``d``,
    ``p_u = d^c_k`` (exact for a planted clique in a Bernoulli(d) graph).
    ``tie="error"`` counts any tie as an error: ``1 - (1-p_u)^(c_e(l-1))``;
    ``tie="random"`` breaks ties at random: ``1 - [(1-(1-p_u)^l)/(l p_u)]^c_e``.

    >>> round(error_rate(8, 256, 10_000, 4), 3), round(error_rate(8, 256, 10_000, 4,
    ...       method="independent_edges"), 3)
    (0.371, 0.336)
    """
    c = _pos_int("clusters", clusters, 2)
    l = _pos_int("neurons", neurons)
    M = _load(messages)
    ce = _pos_int("erased", erased, 0)
    if ce >= c:
        raise ValueError(f"erased must be < clusters={c}, got {ce}")
    ck = c - ce
    if ce == 0:
        return 0.0
    if method == "overlap":
        q = _all_links(ck, M, l)
    elif method == "independent_edges":
        q = density(c, l, M) ** ck
    else:
        raise ValueError(f"method must be 'overlap' or 'independent_edges', got {method!r}")
    return _tie_error(q, l - 1, ce, tie)


def sparse_error_rate(
    clusters: int,
    neurons: int,
    active: int,
    messages: float,
    erased: int,
    *,
    guided: bool = False,
    tie: str = "error",
) -> float:
    """One-iteration error of a sparse clustered network (independent edges).

    ``q = d^(c - c_e)``; guided: ``1 - (1-q)^(c_e(l-1))``; blind (GWsTA):
    ``1 - (1-q)^(c_e(l-1) + (χ-c)l)``.

    >>> round(sparse_error_rate(100, 64, 12, 103_000, 3), 3)
    0.069
    """
    chi = _pos_int("clusters", clusters, 2)
    l = _pos_int("neurons", neurons)
    c = _pos_int("active", active)
    ce = _pos_int("erased", erased, 0)
    if c > chi:
        raise ValueError(f"active must be <= clusters, got {c} > {chi}")
    if ce >= c:
        raise ValueError(f"erased must be < active={c}, got {ce}")
    q = density(chi, l, messages, active=c) ** (c - ce)
    if guided:
        return _tie_error(q, l - 1, ce, tie)
    if tie != "error":
        raise ValueError("tie: blind recall theory only has tie='error'")
    wrong = ce * (l - 1) + (chi - c) * l
    return float(-np.expm1(wrong * np.log1p(-min(q, 1.0)))) if q < 1 else 1.0


def _all_links(t: int, messages: float, l: int) -> float:
    """P(a given wrong unit links to all of t given known units), message-overlap model."""
    lam = max(float(messages) - 1.0, 0.0) / l
    s = np.arange(t + 1)
    terms = comb(t, s) * (-1.0) ** s * np.exp(-lam * -np.expm1(s * np.log1p(-1.0 / l)))
    return float(max(terms.sum(), 0.0))


def link_distribution(
    known: int, neurons: int, messages: float, *, method: str = "overlap"
) -> np.ndarray:
    """P(a wrong unit links to exactly i of the ``known`` cue units), i = 0..known.

    ``"independent_edges"``: ``Bin(known, d)``; ``"overlap"``: inclusion–exclusion over
    the message-overlap probabilities of :func:`error_rate`.

    >>> p = link_distribution(4, 256, 4000)
    >>> round(float(p.sum()), 12)
    1.0
    """
    ck = _pos_int("known", known, 0)
    l = _pos_int("neurons", neurons)
    if method == "independent_edges":
        d = float(-np.expm1(_load(messages) * np.log1p(-1.0 / (l * l))))  # clique density
        return binom.pmf(np.arange(ck + 1), ck, d)
    if method != "overlap":
        raise ValueError(f"method must be 'overlap' or 'independent_edges', got {method!r}")
    g = [_all_links(t, messages, l) for t in range(ck + 1)]
    out = np.array([
        comb(ck, i) * sum(comb(ck - i, t - i) * (-1.0) ** (t - i) * g[t] for t in range(i, ck + 1))
        for i in range(ck + 1)
    ])
    return np.clip(out, 0.0, 1.0)


def release_error_rate(
    clusters: int,
    neurons: int,
    messages: float,
    erased: int,
    p_rel: float,
    n_syn: int,
    *,
    method: str = "overlap",
) -> float:
    """One-iteration SoS+WTA error under binomial release noise, ties broken at random.

    Coyac et al. draft §4.2: correct unit ``S0 ~ Bin(n_syn c_k, p)``; a wrong unit linked
    to ``i`` knowns with probability ``P_E(i)`` gets ``Bin(n_syn i, p)``;
    ``P_s = sum_x P(S0=x) [(a+b)^l - b^l] / (l a)``, ``a = P(Ss=x)``, ``b = P(Ss<x)``;
    error ``1 - P_s^c_e``.  ``method="independent_edges"`` takes
    ``P_E(i) = C(c_k,i) d^i (1-d)^(c_k-i)`` (the draft's formula, 0.145 below);
    ``"overlap"`` (default) takes ``P_E`` from :func:`link_distribution`, which matches
    simulations of stored messages (0.161 against 0.160 simulated).

    >>> round(release_error_rate(8, 256, 4000, 4, 0.5, 10, method="independent_edges"), 3)
    0.145
    >>> round(release_error_rate(8, 256, 4000, 4, 0.5, 10), 3)
    0.161
    """
    c = _pos_int("clusters", clusters, 2)
    l = _pos_int("neurons", neurons)
    ce = _pos_int("erased", erased, 0)
    if ce >= c:
        raise ValueError(f"erased must be < clusters={c}, got {ce}")
    ck = c - ce
    p = check_probability("p_rel", p_rel)
    ns = _pos_int("n_syn", n_syn)
    pe = link_distribution(ck, l, messages, method=method)
    xs = np.arange(ns * ck + 1)
    p0 = binom.pmf(xs, ns * ck, p)
    ss = np.zeros(ns * ck + 1)
    for i in range(ck + 1):
        ss += pe[i] * binom.pmf(xs, ns * i, p)
    below = np.concatenate(([0.0], np.cumsum(ss)[:-1]))
    a, b = ss, below
    with np.errstate(divide="ignore", invalid="ignore"):
        win = np.where(a > 1e-300, ((a + b) ** l - b**l) / (l * a), b ** (l - 1))
    ps = float(np.sum(p0 * win))
    return float(1.0 - min(ps, 1.0) ** ce)


def willshaw_error_rate(neurons: int, active: int, messages: float, erased: int) -> float:
    """One-step Willshaw error (auto-association, threshold = known count):
    ``d = 1-(1-k(k-1)/(n(n-1)))^M``, error ``1 - (1 - d^(k-e))^(n-k)``.

    >>> round(willshaw_error_rate(6400, 12, 79_700, 3), 3)
    0.01
    """
    n = _pos_int("neurons", neurons, 2)
    k = _pos_int("active", active)
    e = _pos_int("erased", erased, 0)
    if e >= k:
        raise ValueError(f"erased must be < active={k}, got {e}")
    M = _load(messages)
    d = float(-np.expm1(M * np.log1p(-k * (k - 1) / (n * (n - 1)))))
    q = d ** (k - e)
    return float(-np.expm1((n - k) * np.log1p(-q))) if q < 1 else 1.0


def hopfield_error_rate(neurons: int, messages: float, erased: int) -> float:
    """Approximate one-step exact-recall error of a Hopfield net with ``erased`` zeroed bits.

    Signal-to-noise (Gaussian crosstalk): a bit is wrong with ``p_b = Phi(-sqrt((N-e)/(M-1)))``
    and exact recall needs all N bits: ``1 - (1-p_b)^N``.  An approximation (no closed
    form is exact here); the sampler's simulation is the reference.

    >>> hopfield_error_rate(2048, 1, 1024)
    0.0
    """
    N = _pos_int("neurons", neurons, 2)
    e = _pos_int("erased", erased, 0)
    M = _load(messages)
    if e >= N:
        raise ValueError(f"erased must be < neurons={N}")
    if M <= 1:
        return 0.0
    pb = float(norm.sf(math.sqrt((N - e) / (M - 1))))
    return float(-np.expm1(N * np.log1p(-pb)))


@dataclass(frozen=True)
class Capacity:
    """Result of :func:`capacity`: the load ``messages`` (M*), ``efficiency`` η(P*),
    ``bits`` per message and ``resource`` bits Q under the stated convention."""

    messages: int
    efficiency: float
    bits: float
    resource: float
    info: str
    synapses: str


def _log2comb(n: int, k: int) -> float:
    return float((gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)) / math.log(2))


_CAP_PARAMS = {
    "clique": ("clusters", "neurons", "erased"),
    "sparse": ("clusters", "neurons", "active", "erased"),
    "willshaw": ("neurons", "active", "erased"),
    "hopfield": ("neurons", "erased"),
}


def _model_error(model: str, M: float, p: dict[str, Any]) -> float:
    if model not in _CAP_PARAMS:
        raise ValueError(f"model must be clique, sparse, willshaw or hopfield, got {model!r}")
    missing = [k for k in _CAP_PARAMS[model] if k not in p]
    if missing:
        raise ValueError(f"capacity: model {model!r} needs parameter(s) {missing}")
    method = p.get("method", p.get("theory", "overlap"))
    if model == "clique":
        if float(p.get("p_rel", 1.0)) < 1.0:
            if p.get("tie", "random") != "random":
                raise ValueError("tie: the release-noise formula breaks ties at random")
            return release_error_rate(p["clusters"], p["neurons"], M, p["erased"],
                                      p["p_rel"], p.get("n_syn", 10), method=method)
        return error_rate(p["clusters"], p["neurons"], M, p["erased"],
                          method=method, tie=p.get("tie", "error"))
    if model == "sparse":
        return sparse_error_rate(p["clusters"], p["neurons"], p["active"], M, p["erased"],
                                 guided=bool(p.get("guided", False)), tie=p.get("tie", "error"))
    if model == "willshaw":
        return willshaw_error_rate(p["neurons"], p["active"], M, p["erased"])
    return hopfield_error_rate(p["neurons"], M, p["erased"])


def efficiency(
    model: str, M: float, /, *, info: str = "stored", synapses: str = "independent", **p: Any
) -> tuple[float, float, float]:
    """(η, bits per message, Q) at load ``M`` under the module's convention."""
    p.pop("model", None)
    if info not in ("stored", "retrieved"):
        raise ValueError(f"info must be 'stored' or 'retrieved', got {info!r}")
    if synapses not in ("independent", "all"):
        raise ValueError(f"synapses must be 'independent' or 'all', got {synapses!r}")
    factor = 1.0 if synapses == "independent" else 2.0
    if model == "clique":
        c, l, e = p["clusters"], p["neurons"], p["erased"]
        bits = (c if info == "stored" else e) * math.log2(l)
        Q = c * (c - 1) * l * l / 2
    elif model == "sparse":
        chi, l, c, e = p["clusters"], p["neurons"], p["active"], p["erased"]
        bits = _log2comb(chi, c) + c * math.log2(l) if info == "stored" else e * math.log2(l)
        Q = chi * (chi - 1) * l * l / 2
    elif model == "willshaw":
        n, k, e = p["neurons"], p["active"], p["erased"]
        bits = _log2comb(n, k) if info == "stored" else _log2comb(n - (k - e), e)
        Q = n * (n - 1) / 2
    elif model == "hopfield":
        n, e = p["neurons"], p["erased"]
        bits = float(n if info == "stored" else e)
        Q = n * (n - 1) / 2 * math.ceil(math.log2(2 * M + 1))
    else:
        raise ValueError(f"model must be clique, sparse, willshaw or hopfield, got {model!r}")
    Q *= factor
    return bits * M / Q, bits, Q


def capacity(
    model: str,
    target_error: float,
    /,
    *,
    info: str = "stored",
    synapses: str = "independent",
    **params: Any,
) -> Capacity:
    """Largest load M* with theoretical error <= ``target_error``, and η(P*).

    ``params`` are the model's parameters (sampler names): clique ``clusters, neurons,
    erased`` (optional ``method`` or ``theory``, ``tie``, and ``p_rel``, ``n_syn`` for
    the release-noise formula); sparse ``clusters, neurons, active, erased`` (optional
    ``guided``, ``tie``); Willshaw ``neurons, active, erased``; Hopfield ``neurons,
    erased`` (approximate theory).  The error is the one-step closed form of
    :func:`theory_curve`.  A sweep row can be passed as is: other keys (``messages``,
    ``queries_per_network``, ...) are ignored, and a ``model`` key must agree.

    >>> cap = capacity("clique", 0.01, clusters=8, neurons=256, erased=4,
    ...                method="independent_edges")
    >>> 3700 < cap.messages < 3900
    True
    >>> row = {"model": "clique", "clusters": 8, "neurons": 256, "erased": 4,
    ...        "messages": 3000, "tie": "error"}
    >>> capacity(row["model"], 0.01, **row).messages
    3430
    """
    if "model" in params and params.pop("model") != model:
        raise ValueError(f"model: the params say another model than {model!r}")
    P = check_probability("target_error", target_error)
    if P <= 0:
        raise ValueError("target_error must be > 0")
    lo, hi = 0, 1
    while _model_error(model, hi, params) <= P:
        lo, hi = hi, hi * 2
        if hi > 2**40:
            raise ValueError("capacity: error never reaches target_error")
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _model_error(model, mid, params) <= P:
            lo = mid
        else:
            hi = mid
    eta, bits, Q = efficiency(model, lo, info=info, synapses=synapses, **params)
    return Capacity(lo, eta, bits, Q, info, synapses)


def theory_curve(params: dict) -> float:
    """Closed-form error for a sweep row's ``json_metadata`` (``hebbian`` sampler).

    Applies to one-iteration recall without insertions or faults: clique SoS+WTA
    (``overlap`` theory; ``independent_edges`` if ``params["theory"]`` says so; release
    noise formula when ``p_rel < 1``), sparse guided/blind, Willshaw, Hopfield.
    Raises ValueError where no closed form applies (iterated recall, SoM, insertions,
    stuck-at faults).

    >>> round(theory_curve({"model": "clique", "clusters": 8, "neurons": 256,
    ...     "messages": 10000, "erased": 4, "iterations": 1, "rule": "sos"}), 3)
    0.371
    """
    p = dict(params)
    model = p.get("model", "clique")
    if int(p.get("inserted", 0) or 0) > 0:
        raise ValueError("theory_curve: no closed form with insertions")
    if float(p.get("stuck", 0) or 0) > 0:
        raise ValueError("theory_curve: no closed form with stuck-at faults")
    M = p.get("messages")
    if M is None:
        raise ValueError("theory_curve: params need 'messages'")
    if model == "hopfield":
        return hopfield_error_rate(p["neurons"], M, p["erased"])
    if model == "willshaw":
        return willshaw_error_rate(p["neurons"], p["active"], M, p["erased"])
    if p.get("iterations", 1) != 1:
        raise ValueError("theory_curve: closed forms are for one iteration")
    if model == "clique":
        if p.get("rule", "sos") != "sos" or p.get("filter", "wta") != "wta":
            raise ValueError("theory_curve: clique theory is for SoS+WTA")
        if int(p.get("memory", 1)) < 1:
            raise ValueError("theory_curve: clique theory needs memory >= 1")
        if float(p.get("p_rel", 1.0)) < 1.0:
            if p.get("tie", "error") != "random":
                raise ValueError("theory_curve: the release-noise formula breaks ties at random")
            return release_error_rate(p["clusters"], p["neurons"], M, p["erased"],
                                      p["p_rel"], p.get("n_syn", 10),
                                      method=p.get("theory", "overlap"))
        return error_rate(p["clusters"], p["neurons"], M, p["erased"],
                          method=p.get("theory", "overlap"), tie=p.get("tie", "error"))
    if model == "sparse":
        return sparse_error_rate(p["clusters"], p["neurons"], p["active"], M, p["erased"],
                                 guided=bool(p.get("guided", False)), tie=p.get("tie", "error"))
    raise ValueError(f"theory_curve: no closed form for model {model!r}")
