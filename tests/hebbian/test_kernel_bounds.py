"""No argument may make a kernel write out of bounds (issue: heap corruption by memory=2**34).

The recall kernel once kept 32 bit planes of scores whatever the memory γ, so
``memory=2**34`` wrote past its buffer and the process died with "double free or
corruption".  Each crashing case runs in a subprocess, so a regression fails this test
instead of killing pytest.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hebbian import CliqueNetwork, SparseCliqueNetwork, noise
from hebbian import _kernels as K
from tests.hebbian.reference import ref_recall, states_to_messages

ROOT = Path(__file__).resolve().parents[2]


def _isolated_checks() -> None:
    """Every case that aborted the process before the fix, printing tagged lines; run in
    one subprocess by :func:`isolated` (so a regression fails the tests, not pytest)."""
    from hebbian import CliqueNetwork, SparseCliqueNetwork

    # the probe of the issue, then larger memories: all equal to memory = n + 1 (any
    # memory above every possible score gives the same recall)
    for tag, net, cue in (
        ("clique", CliqueNetwork(4, 16).store([[1, 2, 3, 4]]), [[1, 2, -1, -1]]),
        ("sparse", SparseCliqueNetwork(8, 16, 4).store([[1, 18, 35, 52]]), [[1, 18, -1, -1]]),
    ):
        for mem in (net.n + 1, 2**31, 2**32, 2**34, 2**62, 2**63 - 1):
            r = net.recall(cue, memory=mem, iterations=3)
            print(tag, r.messages.tolist(), r.n_winners.tolist(), flush=True)
    # the kernel itself (no wrapper) takes any int64 memory: it sizes its planes
    net = CliqueNetwork(4, 16).store([[1, 2, 3, 4]])
    ids = np.array([[1, 18, -1, -1]], np.int64)
    for rule in (0, 1):
        for g in (2**34, 2**63 - 1):
            out = [np.empty((1, 4), np.int64), np.empty((1, 4), np.int64),
                   np.empty(1, np.int64), np.empty(1, bool)]
            K.recall_bitsliced(net._bits, 16, ids, np.full((1, 0), -1, np.int64),
                               np.zeros((1, 1), np.uint8), 0, np.zeros((1, 1), np.uint8), 0,
                               rule, 0, g, 4, 3, np.zeros((1, 1)), False, *out)
            print("direct", out[0].tolist(), flush=True)
    # memories beyond 32 planes against the NumPy reference, every rule and filter
    for rule, filt in RULES_FILTERS:
        for gamma in (2**34, 2**62):
            _compare_with_reference(rule, filt, gamma)
    print("reference ok", flush=True)


@pytest.fixture(scope="module")
def isolated():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    code = "from tests.hebbian.test_kernel_bounds import _isolated_checks; _isolated_checks()"
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    lines: dict[str, list[str]] = {}
    for line in proc.stdout.splitlines():
        tag, _, rest = line.partition(" ")
        lines.setdefault(tag, []).append(rest)
    return proc, lines


@pytest.mark.parametrize("tag", ["clique", "sparse"])
def test_huge_memory_recall_does_not_corrupt_the_heap(isolated, tag):
    proc, lines = isolated
    got = lines.get(tag, [])
    assert len(got) == 6, (proc.returncode, proc.stderr[-2000:])
    assert len(set(got)) == 1, got
    if tag == "clique":
        assert got[0].startswith("[[1, 2, 3, 4]]")


def test_huge_memory_kernel_call_direct_is_safe(isolated):
    proc, lines = isolated
    assert lines.get("direct") == ["[[1, 2, 3, 4]]"] * 4, (proc.returncode, proc.stderr[-2000:])


RULES_FILTERS = [("sos", "wta"), ("som", "wta"), ("sos", "gwta"), ("sos", "gwsta"),
                 ("sos", "glsko")]


@pytest.mark.parametrize("rule,filt", RULES_FILTERS)
@pytest.mark.parametrize("gamma", [7, 300, 2**20])
def test_large_memory_matches_the_numpy_reference(rule, filt, gamma):
    """Memories beyond any score (γ ≥ 256 needs more than the 8 register planes)
    against the plain-NumPy reference, which uses γ exactly as given."""
    _compare_with_reference(rule, filt, gamma)


def test_huge_memory_matches_the_numpy_reference_in_a_subprocess(isolated):
    """γ beyond 32 planes (what used to overflow the buffer)."""
    proc, lines = isolated
    assert lines.get("reference") == ["ok"], (proc.returncode, proc.stderr[-2000:])
    assert proc.returncode == 0


def _compare_with_reference(rule, filt, gamma):
    C, L, M = 4, 70, 200
    rng = np.random.default_rng(21)
    msgs = rng.integers(0, L, size=(M, C))
    net = CliqueNetwork(C, L).store(msgs)
    Q = 20
    target = msgs[rng.integers(0, M, Q)]
    cues = noise.erase(target, C // 2, rng)
    ins = noise.insert(cues, 2, L, rng)
    ids = np.where(cues >= 0, cues + np.arange(C) * L, -1)
    fill = (cues < 0) if rule == "som" else None
    st, it, cv = ref_recall(net.adjacency(), L, ids, ins, rule=rule, filt=filt, gamma=gamma,
                            maxit=3, fill=fill)
    msg, nw = states_to_messages(st, L)
    res = net.recall(cues, insertions=ins, rule=rule, filter=filt, memory=gamma, iterations=3)
    assert np.array_equal(res.messages, msg)
    assert np.array_equal(res.n_winners, nw)
    # the integer-score kernel with the same memory (int64 scores: cut, not overflowed)
    out = [np.empty((Q, C), np.int64), np.empty((Q, C), np.int64),
           np.empty(Q, np.int64), np.empty(Q, bool)]
    K.recall_int(net._bits, L, np.ascontiguousarray(ids), ins,
                 np.ascontiguousarray(fill, dtype=np.uint8) if fill is not None
                 else np.zeros((1, 1), np.uint8), 2 if fill is not None else 0,
                 np.zeros((1, 1), np.uint8), 0, int(rule == "som"),
                 {"wta": 0, "gwta": 1, "gwsta": 2, "glsko": 3}[filt], gamma, C, 3,
                 np.zeros((1, 1)), False, 0, np.ones(1), np.zeros(Q, np.uint64), *out)
    assert np.array_equal(out[0], msg)
    assert np.array_equal(out[1], nw)
    assert np.array_equal(out[2], it)


def test_memory_bound_is_exact_and_small():
    # B = n (SoS) or C - 1 (SoM), times n_syn under release noise; gamma > B is cut to B+1
    assert K.memory_bound(5, 100, 4, 0, 0) == 5
    assert K.memory_bound(2**62, 100, 4, 0, 0) == 101
    assert K.memory_bound(2**62, 100, 4, 1, 0) == 4
    assert K.memory_bound(2**62, 100, 4, 1, 7) == 22
    assert K.memory_bound(-3, 100, 4, 0, 0) == 0


def test_sparse_blind_recall_with_huge_memory_matches_reference():
    rng = np.random.default_rng(3)
    net = SparseCliqueNetwork(10, 40, 4)
    msgs = net.random_messages(150, rng)
    net.store(msgs)
    cues = noise.erase(msgs[:25], 2, rng)
    for gamma in (1, 2**20):
        for filt in ("gwsta", "glsko"):
            st, _, _ = ref_recall(net.adjacency(), 40, cues, filt=filt, gamma=gamma,
                                  select=4, maxit=4)
            msg, nw = states_to_messages(st, 40)
            res = net.recall(cues, filter=filt, memory=gamma, iterations=4)
            assert np.array_equal(res.messages, msg), (gamma, filt)
            assert np.array_equal(res.n_winners, nw), (gamma, filt)


@pytest.mark.parametrize(
    "kwargs,exc,name",
    [
        (dict(memory=10**30), ValueError, "memory"),
        (dict(memory=2**63), ValueError, "memory"),
        (dict(memory=-1), ValueError, "memory"),
        (dict(memory=1.5), TypeError, "memory"),
        (dict(iterations=2**64), ValueError, "iterations"),
        (dict(iterations=0), ValueError, "iterations"),
        (dict(iterations=2.0), TypeError, "iterations"),
        (dict(tie="random", rng=5), TypeError, "rng"),
        (dict(rng="seed"), TypeError, "rng"),
        (dict(release="x", rng=np.random.default_rng(0)), TypeError, "release"),
    ],
)
def test_recall_arguments_are_bounded_up_front(kwargs, exc, name):
    net = CliqueNetwork(4, 16).store([[1, 2, 3, 4]])
    with pytest.raises(exc, match=f"^{name}"):
        net.recall([[1, 2, -1, -1]], **kwargs)
    sp = SparseCliqueNetwork(8, 16, 4).store([[1, 18, 35, 52]])
    with pytest.raises(exc, match=f"^{name}"):
        sp.recall([[1, 18, -1, -1]], **kwargs)


def test_numpy_integer_arguments_are_accepted_everywhere():
    net = CliqueNetwork(np.int64(4), np.int32(16)).store(np.array([[1, 2, 3, 4]], np.uint8))
    a = net.recall(np.array([[1, 2, -1, -1]], np.int16), memory=np.uint64(3),
                   iterations=np.int8(2))
    b = net.recall([[1, 2, -1, -1]], memory=3, iterations=2)
    assert np.array_equal(a.messages, b.messages)


def test_uint64_cues_beyond_int64_are_refused_not_read_as_erased():
    net = CliqueNetwork(4, 16).store([[1, 2, 3, 4]])
    cue = np.array([[1, 2, 3, 2**64 - 1]], np.uint64)
    with pytest.raises(ValueError, match="^cues"):
        net.recall(cue)
    sp = SparseCliqueNetwork(8, 16, 4).store([[1, 18, 35, 52]])
    with pytest.raises(ValueError, match="^cues"):
        sp.recall(np.array([[1, 18, 2**64 - 1]], np.uint64))
    with pytest.raises(ValueError, match="^insertions"):
        net.recall([[1, 2, -1, -1]], insertions=np.array([[2**63]], np.uint64))
    # in range, uint64 is fine
    ok = net.recall(np.array([[1, 2, 3, 4]], np.uint64))
    assert ok.messages.tolist() == [[1, 2, 3, 4]]


def test_willshaw_correct_checks_its_arguments():
    from hebbian import Willshaw

    w = Willshaw(20, 3)
    msgs = np.array([[0, 5, 9], [1, 2, 3]])
    w.store(msgs)
    act = w.recall(msgs).state  # the boolean activity of the RecallResult
    assert w.correct(act, msgs).all()
    with pytest.raises(ValueError, match="^messages"):
        w.correct(act, [[0, 5, 20], [1, 2, 3]])
    with pytest.raises(ValueError, match="^messages"):
        w.correct(act, [[0, 5, -1], [1, 2, 3]])  # -1 would wrap to the last unit
    with pytest.raises(ValueError, match="^messages"):
        w.correct(act, [[0, 5, 9]])
    with pytest.raises(ValueError, match="^activity"):
        w.correct(act[:, :10], msgs)
    with pytest.raises(ValueError, match="^cues"):
        w.recall(np.array([[2**64 - 1]], np.uint64))


def test_recurrent_counts_fit_the_kernel():
    from hebbian import RecurrentHebbian
    from hebbian.noise import ReleaseNoise

    net = RecurrentHebbian(4, 8, seed=0)
    m = np.random.default_rng(0).integers(0, 8, (3, 4))
    net.learn(m)
    with pytest.raises(ValueError, match="^max_steps"):
        net.recall(m, max_steps=2**64)
    with pytest.raises(ValueError, match="^stable"):
        net.recall(m, stable=2**64)
    with pytest.raises(ValueError, match="^steps"):
        RecurrentHebbian(4, 8, steps=2**64)

    class Duck:
        n_syn = 2**70
        p_rel = 0.5

    with pytest.raises(ValueError, match="^release.n_syn"):
        RecurrentHebbian(4, 8, release=Duck())
    assert RecurrentHebbian(4, 8, release=ReleaseNoise(3, 0.5)).release.n_syn == 3
