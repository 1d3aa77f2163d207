"""Bad-input probes of the Python API (issue: every refusal is one named line).

Each probe is a call that once returned garbage (NaN, another model, seed 0's stream),
raised a deep error that did not name its argument, or crashed; it must now raise
``ValueError``/``TypeError`` whose one-line message starts with the argument's name.
The property tests draw numeric arguments at random: a named error or a valid result,
never anything else.  (The command-line probes are in the CLI test modules.)
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from hebbian import CliqueNetwork, SparseCliqueNetwork, Willshaw
from sim.validate import (
    check_float,
    check_int,
    check_int_array,
    check_probability,
    check_seed,
    check_seeds,
)

NAN, INF = float("nan"), float("inf")
_rng = np.random.default_rng(0)
X = _rng.normal(size=(40, 3)) / 4
Y = (X[:, 0] > 0).astype(int)
XN = X.copy()
XN[0, 0] = NAN
XI = X.copy()
XI[3, 1] = INF
GD = dict(lam=0.1, sigma=0.01, eta=1.0, steps=3)


def _net():
    return CliqueNetwork(4, 16).store([[1, 2, 3, 4]])


def _noisy_gd(**kw):
    from unlearn.certified import noisy_gd

    args = dict(GD)
    args.update(kw)
    x = args.pop("X", X)
    y = args.pop("y", Y)
    return noisy_gd(x, y, **args)


def _service(**kw):
    from unlearn.certified import DeletionService

    args = dict(lam=0.1, sigma=0.05, learn_steps=3)
    args.update(kw)
    return DeletionService(X, Y, **args)


def _uce_dependent_keys(lam):
    from unlearn.closed_form import uce

    rng = np.random.default_rng(3)
    B = rng.normal(size=(2, 5))
    return uce(rng.normal(size=(4, 5)), rng.normal(size=(3, 2)) @ B, np.ones((3, 5)), None,
               lam=lam)


def _gslora(**kw):
    from unlearn.gslora import continual_forget
    from unlearn.models import MLP

    rng = np.random.default_rng(1)
    Xd, yd = rng.normal(size=(60, 3)), rng.integers(0, 4, 60)
    return continual_forget(MLP.init([3, 8, 4], seed=0), [(0,)], Xd, yd, Xd, yd,
                            **{"steps": 2, **kw})


PROBES = [
    # hebbian: kernel-bound arguments, types, dtypes
    ("recall memory=10**30", lambda: _net().recall([[1, 2, -1, -1]], memory=10**30),
     ValueError, "memory"),
    ("recall iterations=2**64", lambda: _net().recall([[1, 2, -1, -1]], iterations=2**64),
     ValueError, "iterations"),
    ("recall rng=5", lambda: _net().recall([[1, 2, -1, -1]], tie="random", rng=5),
     TypeError, "rng"),
    ("recall release='x'", lambda: _net().recall([[1, 2, -1, -1]], release="x",
                                                 rng=np.random.default_rng(0)),
     TypeError, "release"),
    ("uint64 cue 2**64-1", lambda: _net().recall(np.array([[1, 2, 3, 2**64 - 1]], np.uint64)),
     ValueError, "cues"),
    ("sparse uint64 cue", lambda: SparseCliqueNetwork(8, 16, 4).recall(
        np.array([[1, 2**64 - 1]], np.uint64)), ValueError, "cues"),
    ("Willshaw.correct out of range", lambda: Willshaw(10, 2).correct(
        np.zeros((1, 10), bool), [[0, 10]]), ValueError, "messages"),
    ("Willshaw.correct -1", lambda: Willshaw(10, 2).correct(
        np.zeros((1, 10), bool), [[0, -1]]), ValueError, "messages"),
    ("CliqueNetwork clusters=2.0", lambda: CliqueNetwork(2.0, 16), TypeError, "clusters"),
    # sim
    ("collect seed=2**64", lambda: sim.collect([("repetition", {"n": 3, "p": 0.1})],
                                               max_shots=10, seed=2**64, workers=1),
     ValueError, "seed"),
    ("collect shard=(False, True)", lambda: sim.collect(
        [("repetition", {"n": 3, "p": 0.1})], max_shots=10, seed=1, workers=1,
        shard=(False, True)), ValueError, "shard"),
    ("run_grid seeds=2.5", lambda: sim.run_grid(sim.grid._demo_metric, {"scale": [1.0]},
                                                seeds=2.5, out="never-written.csv"),
     TypeError, "seeds"),
    ("threshold max_rate='0.4'", lambda: sim.threshold([], max_rate="0.4"), TypeError,
     "max_rate"),
    ("threshold bootstrap=True", lambda: sim.threshold([], bootstrap=True), TypeError,
     "bootstrap"),
    ("collect workers=True", lambda: sim.collect([("repetition", {"n": 3, "p": 0.1})],
                                                 max_shots=10, seed=1, workers=True),
     ValueError, "workers"),
    # unlearn
    ("noisy_gd X nan", lambda: _noisy_gd(X=XN), ValueError, "X"),
    ("noisy_gd X inf", lambda: _noisy_gd(X=XI), ValueError, "X"),
    ("noisy_gd theta0 nan", lambda: _noisy_gd(theta0=[NAN, 0, 0]), ValueError, "theta0"),
    ("noisy_gd theta0 inf", lambda: _noisy_gd(theta0=[0, INF, 0]), ValueError, "theta0"),
    ("noisy_gd labels >= n_classes", lambda: _noisy_gd(y=Y + 1, n_classes=2), ValueError,
     "y labels"),
    ("noisy_gd n_classes=2.5", lambda: _noisy_gd(n_classes=2.5), TypeError, "n_classes"),
    ("noisy_gd steps=True", lambda: _noisy_gd(steps=True), TypeError, "steps"),
    ("noisy_gd lam='0.1'", lambda: _noisy_gd(lam="0.1"), TypeError, "lam"),
    ("noisy_gd seed=-1", lambda: _noisy_gd(seed=-1), ValueError, "seed"),
    ("DeletionService L=nan", lambda: _service(L=NAN), ValueError, "L"),
    ("DeletionService L=inf", lambda: _service(L=INF), ValueError, "L"),
    ("DeletionService q=nan", lambda: _service(q=NAN), ValueError, "q"),
    ("DeletionService q=inf", lambda: _service(q=INF), ValueError, "q"),
    ("DeletionService learn_steps=-5", lambda: _service(learn_steps=-5), ValueError,
     "learn_steps"),
    ("DeletionService steps=2.5", lambda: _service(steps=2.5), TypeError, "steps"),
    ("DeletionService stationarity_tol=nan", lambda: _service(stationarity_tol=NAN),
     ValueError, "stationarity_tol"),
    ("uce lam=1e-300 (dependent keys)", lambda: _uce_dependent_keys(1e-300), ValueError,
     "lam"),
    ("gslora rank=0", lambda: _gslora(rank=0), ValueError, "rank"),
    ("gslora alpha=nan", lambda: _gslora(alpha=NAN), ValueError, "alpha"),
    ("gslora bnd=inf", lambda: _gslora(bnd=INF), ValueError, "bnd"),
    ("gslora steps=-1", lambda: _gslora(steps=-1), ValueError, "steps"),
    ("gslora steps=2.5", lambda: _gslora(steps=2.5), TypeError, "steps"),
    ("worstcase ensemble=1", lambda: __import__("unlearn.experiments").experiments.worstcase(
        {"ensemble": 1}, 0), ValueError, "ensemble"),
    ("audit ensemble=2", lambda: __import__("unlearn.experiments").experiments.audit(
        {"ensemble": 2}, 0), ValueError, "ensemble"),
    ("deletion learn_steps=-5", lambda: __import__("unlearn.experiments").experiments.deletion(
        {"learn_steps": -5}, 0), ValueError, "learn_steps"),
    ("deletion sigma=nan", lambda: __import__("unlearn.experiments").experiments.deletion(
        {"sigma": NAN}, 0), ValueError, "sigma"),
    ("deletion unknown param", lambda: __import__("unlearn.experiments").experiments.deletion(
        {"sigmaa": 0.1}, 0), ValueError, "params"),
    ("empirical_epsilon q=nan", lambda: __import__("unlearn.certified").certified
     .empirical_epsilon(np.ones((8, 2)), np.zeros((8, 2)), q=NAN), ValueError, "q"),
    ("accounting eps0 q=nan", lambda: __import__("unlearn.accounting").accounting.eps0(
        NAN, k=1, n=10, lam=0.1, sigma=0.1), ValueError, "q"),
    ("MLP.train lr=nan", lambda: __import__("unlearn.models").models.MLP.init(
        [3, 4, 2], seed=0).train(X, Y, epochs=1, lr=NAN), ValueError, "lr"),
    ("loss_mia nan losses", lambda: __import__("unlearn.metrics").metrics.loss_mia(
        np.full(4, NAN), np.ones(4)), ValueError, "member_losses"),
    ("train_test_split n=1", lambda: __import__("unlearn.data").data.train_test_split(1),
     ValueError, "n"),
    # fbqc masks: a cast to uint8 read 0.5 as 0, 256 as 0 and -1 as 255
    ("UF syndromes 0.5", lambda: _uf().decode_batch(_syn(0.5)), ValueError, "syndromes"),
    ("UF syndromes 2", lambda: _uf().decode_batch(_syn(2)), ValueError, "syndromes"),
    ("UF syndromes -1", lambda: _uf().decode_batch(_syn(-1)), ValueError, "syndromes"),
    ("UF erased 256", lambda: _uf().decode_batch(_syn(0), erased=np.full(
        _G().n_edges, 256)), ValueError, "erased"),
    ("MWPM syndromes 0.5", lambda: __import__("fbqc.decoders").decoders.MatchingDecoder(
        _G()).decode_batch(_syn(0.5)), ValueError, "syndromes"),
    ("erasure_windings erased 2", lambda: __import__("fbqc.decoders").decoders
     .erasure_windings(_G(), np.full(_G().n_edges, 2)), ValueError, "erased"),
    ("herald decoder dets 2", lambda: _herald().decode(_dets(2)), ValueError, "dets"),
    ("herald decoder dets 0.5", lambda: _herald().decode(_dets(0.5)), ValueError, "dets"),
    ("herald decoder dets width", lambda: _herald().decode(_dets(0)[:, :-1]), ValueError,
     "dets"),
    # sizes whose memory cannot exist: refused before anything is allocated
    ("CliqueNetwork neurons 10**7", lambda: CliqueNetwork(8, 10**7), ValueError, "clusters"),
    ("SparseCliqueNetwork neurons 10**7", lambda: SparseCliqueNetwork(8, 10**7, 4),
     ValueError, "clusters"),
    ("Willshaw n=10**9", lambda: Willshaw(10**9, 4), ValueError, "n"),
    ("Hopfield n=10**7", lambda: __import__("hebbian").Hopfield(10**7), ValueError, "n"),
    ("RecurrentHebbian 8 x 10**6", lambda: __import__("hebbian").RecurrentHebbian(
        8, 10**6), ValueError, "clusters"),
    ("ReleaseNoise n_syn=10**13", lambda: __import__("hebbian").noise.ReleaseNoise(
        10**13, 0.5), ValueError, "n_syn"),
    ("FusionParams L=10000", lambda: __import__("fbqc.params").params.FusionParams(
        network="6ring", L=10000), ValueError, "fbqc: parameter L=10000"),
    ("hebbian messages=10**12", lambda: __import__("hebbian.params").params.CliqueParams(
        clusters=8, neurons=256, messages=10**12), ValueError,
     "hebbian: parameter clusters=8, neurons=256, messages="),
    ("parse_values COUNT=10**11", lambda: sim.parse_values("0:1:100000000000"), ValueError,
     "values"),
    ("product of 10**5 x 10**6", lambda: sim.product({"a": range(10**5), "b": range(10**6)}),
     ValueError, "grid"),
    # output paths, checked before anything is written
    ("collect into res.png", lambda: sim.collect([("repetition", {"n": 3, "p": 0.1})],
                                                 max_shots=10, seed=1, workers=1,
                                                 save_resume_filepath="res.png"),
     ValueError, "save_resume_filepath res.png"),
    ("collect into d/", lambda: sim.collect([("repetition", {"n": 3, "p": 0.1})],
                                            max_shots=10, seed=1, workers=1,
                                            save_resume_filepath="d/"),
     ValueError, "save_resume_filepath d/"),
    ("run_grid out=''", lambda: sim.run_grid(sim.grid._demo_metric, {"scale": [1.0]},
                                             seeds=1, out=""), ValueError, "out"),
]


def _G():
    from fbqc.network import FusionNetwork

    return FusionNetwork("6ring", 3).primal


def _uf():
    from fbqc.decoders import UnionFindDecoder

    return UnionFindDecoder(_G())


def _syn(value):
    s = np.zeros((1, _G().n_nodes))
    s[0, :2] = value
    return s


def _herald():
    from fbqc.herald_decoders import ErasureDecoder
    from tests.fbqc.test_herald_decoders import _surface

    dem = _surface(3, 0.1).detector_error_model(approximate_disjoint_errors=True)
    return ErasureDecoder("uf").compile_decoder_for_dem(dem=dem)


def _dets(value):
    from tests.fbqc.test_herald_decoders import _surface

    d = np.zeros((1, _surface(3, 0.1).num_detectors))
    d[0, 0] = value
    return d


@pytest.mark.parametrize("call,exc,name", [p[1:] for p in PROBES], ids=[p[0] for p in PROBES])
def test_api_probe_is_refused_with_one_named_line(call, exc, name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(exc) as info:
        call()
    msg = str(info.value)
    assert msg.startswith(name), msg
    assert "\n" not in msg
    assert not list(tmp_path.iterdir())  # nothing written


def test_valid_edge_values_still_work():
    """The checks do not refuse what is valid: numpy integers, the largest seed, memory
    beyond every score, and the noisy-GD defaults."""
    net = _net()
    a = net.recall([[1, 2, -1, -1]], memory=np.int64(2**62), iterations=np.uint8(3))
    assert a.messages.tolist() == [[1, 2, 3, 4]]
    assert check_seed("seed", 2**64 - 1) == 2**64 - 1
    th = _noisy_gd(steps=np.int32(2), chains=np.int64(2), n_classes=np.int8(2))
    assert th.shape == (2, 3) and np.isfinite(th).all()
    got = sim.collect([("repetition", {"n": 3, "p": 0.1})], max_shots=100,
                      seed=np.uint64(2**64 - 1), workers=np.int64(1), shard=(np.int8(0), 1))
    assert got[0].shots == 100


# ----------------------------------------------------------------------- properties
NUMBERS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.sampled_from(["1", None, 1j, np.float32(0.5), np.int64(7), np.uint64(2**64 - 1)]),
)


def _named(fn, name):
    """Call fn; return its result, or None after checking a refusal names ``name``."""
    try:
        return fn()
    except (ValueError, TypeError) as exc:
        assert str(exc).startswith(name) and "\n" not in str(exc), str(exc)
        return None


@settings(max_examples=300, deadline=None)
@given(value=NUMBERS, low=st.integers(-5, 5), span=st.integers(0, 10))
def test_check_int_and_float_accept_exactly_the_valid_values(value, low, span):
    got = _named(lambda: check_int("x", value, low=low, high=low + span), "x")
    valid_int = (isinstance(value, (int, np.integer)) and not isinstance(value, bool)
                 and low <= int(value) <= low + span)
    assert (got is not None) == valid_int
    f = _named(lambda: check_float("y", value, low=low, high=low + span), "y")
    if f is not None:
        assert math.isfinite(f) and low <= f <= low + span
    p = _named(lambda: check_probability("p", value), "p")
    if p is not None:
        assert 0 <= p <= 1
    s = _named(lambda: check_seed("seed", value), "seed")
    assert s is None or 0 <= s < 2**64


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(memory=NUMBERS, iterations=NUMBERS)
def test_recall_numeric_arguments_give_a_named_error_or_a_result(memory, iterations):
    net = _net()
    if isinstance(iterations, (int, np.integer)) and not isinstance(iterations, bool) \
            and int(iterations) > 50:
        iterations = 50  # (a valid count: the check is what is probed, not the run time)
    for name, kw in (("memory", dict(memory=memory, iterations=2)),
                     ("iterations", dict(memory=1, iterations=iterations))):
        res = _named(lambda kw=kw: net.recall([[1, 2, -1, -1]], **kw), name)
        if res is not None:
            assert res.messages.shape == (1, 4)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lam=NUMBERS, sigma=NUMBERS, eta=NUMBERS, steps=st.one_of(NUMBERS, st.integers(0, 5)))
def test_noisy_gd_numeric_arguments_give_a_named_error_or_a_finite_result(lam, sigma, eta,
                                                                          steps):
    if isinstance(steps, (int, np.integer)) and not isinstance(steps, bool) \
            and int(steps) > 50:
        steps = 50  # keep the run short; the range check is what is being probed
    checks = [("lam", lambda: check_float("lam", lam, low=0, low_open=True)),
              ("sigma", lambda: check_float("sigma", sigma, low=0)),
              ("eta", lambda: check_float("eta", eta, low=0, low_open=True)),
              ("steps", lambda: check_int("steps", steps, low=0))]
    name = None  # the first argument the rules refuse (noisy_gd checks in this order)
    for n, check in checks:
        try:
            check()
        except (ValueError, TypeError):
            name = n
            break
    try:
        th = _noisy_gd(lam=lam, sigma=sigma, eta=eta, steps=steps)
    except (ValueError, TypeError) as exc:
        assert name is not None and str(exc).startswith(name), str(exc)
        return
    assert name is None
    assert th.shape == (1, 3)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(-(2**65), 2**65), max_size=5), st.sampled_from(
    [np.int64, np.uint64, np.int8, object]))
def test_int_arrays_keep_every_value_or_refuse(values, dtype):
    try:
        arr = np.array(values, dtype=dtype)
    except (OverflowError, ValueError):
        return  # numpy itself refuses the value for that dtype
    got = _named(lambda: check_int_array("a", arr), "a")
    if got is not None:
        assert [int(v) for v in got.ravel()] == [int(v) for v in arr.ravel()]


def test_check_seeds_forms():
    assert check_seeds("seeds", np.int64(2)) == [0, 1]
    assert check_seeds("seeds", (5, np.uint64(2**64 - 1))) == [5, 2**64 - 1]
    for bad in (2.5, "3", [], [1, 1], [True]):
        with pytest.raises((TypeError, ValueError), match="^seeds"):
            check_seeds("seeds", bad)


def test_masks_with_whole_floats_decode_as_integers():
    """A float 0/1 mask is accepted and decodes exactly as the integer one."""
    g = _G()
    syn = np.zeros((2, g.n_nodes), np.uint8)
    syn[:, g.edges[0]] = 1  # one flipped edge: its two end nodes
    er = np.zeros(g.n_edges, np.uint8)
    er[:5] = 1
    ref = _uf().decode_batch(syn, erased=er)
    assert np.array_equal(_uf().decode_batch(syn.astype(float), erased=er.astype(float)), ref)
    assert np.array_equal(_uf().decode_batch(syn.astype(bool), erased=er.astype(bool)), ref)


def test_noise_models_are_frozen():
    import dataclasses

    from fbqc.noise import HardwareAgnostic
    from fbqc.optics import LinearOptics

    m = HardwareAgnostic(0.1, 0.01)
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.p_erasure = 5  # used to run with p_erasure=5 after validation
    with pytest.raises(dataclasses.FrozenInstanceError):
        LinearOptics(0.01, 0.25).loss_per_photon = 2.0
    assert m == HardwareAgnostic(0.1, 0.01) and hash(m) == hash(HardwareAgnostic(0.1, 0.01))


def test_memory_check_names_the_need_and_the_machine():
    from sim.validate import check_memory, total_memory

    check_memory("x=1", 10, available=10)  # exactly fits
    with pytest.raises(ValueError, match=r"^x=2 needs at least 11 B of memory; this machine "
                                         r"has 10 B$"):
        check_memory("x=2", 11, available=10)
    assert 2**20 < total_memory() < 2**62
    from hebbian.params import CliqueParams

    # a size that fits is untouched: the estimate is a lower bound, not a guess
    p = CliqueParams(clusters=8, neurons=256, messages=10_000)
    assert p.memory_bytes() == 8 * 8 * 256 * 7 * 4 + 8 * 10_000 * 8
    assert p.memory_params == ("clusters", "neurons", "messages")
    assert "n_syn" in CliqueParams(clusters=8, neurons=256, messages=10, p_rel=0.5).memory_params
