"""Declared task parameters (sim.declare): validation, identity, the derived sampler and
flags, for a toy family and for every registered sampler."""

from __future__ import annotations

import dataclasses
from importlib.metadata import entry_points

import numpy as np
import pytest
import sinter

import sim
from sim import DeclaredSampler, TaskParams, param, task_params


@task_params
class CoinParams(TaskParams):
    family = "coin-test"

    p: float = param(0.5, help="probability of heads", unit="probability")
    flips: int = param(help="flips per shot", low=1, high=64)
    label: str = param("a", help="a label", choices=("a", "b"))
    fair: bool = param(False, help="ignore p", record="non_default")
    scale: float = param(1.0, help="a positive scale", low=0, low_open=True,
                         record="non_default")
    cap: int | None = param(None, help="optional cap", low=0)

    def check(self) -> None:
        if self.cap is not None and self.cap > self.flips:
            self.fail(f"cap must be <= flips={self.flips}, got {self.cap}")

    def model_version(self) -> int:
        return 2 if self.label == "b" else 1


def run_coin(params, shots, rng):
    heads = rng.random((shots, params.flips)) < (0.5 if params.fair else params.p)
    return sinter.AnonTaskStats(shots=shots, errors=int(heads.all(axis=1).sum()))


class CoinSampler(DeclaredSampler):
    params = CoinParams
    run = staticmethod(run_coin)


def test_values_are_coerced_and_checked_with_the_field_and_range_named():
    c = CoinParams(flips=4.0, p=1)
    assert (c.flips, c.p) == (4, 1.0) and type(c.flips) is int and type(c.p) is float
    cases = [({"flips": 0}, ValueError,
              r"coin-test: parameter flips must be an integer in \[1, 64\], got 0"),
             ({"flips": 65}, ValueError, r"flips must be an integer in \[1, 64\]"),
             ({"flips": 2.5}, TypeError, "flips must be an integer"),
             ({"flips": 2, "p": 1.5}, ValueError,
              r"p must be a finite number in \[0, 1\], got 1.5"),
             ({"flips": 2, "p": "0.1"}, TypeError, "p must be a number"),
             ({"flips": 2, "label": "c"}, ValueError, r"label must be one of \['a', 'b'\]"),
             ({"flips": 2, "scale": 0}, ValueError, "scale must be a finite number > 0"),
             ({"flips": 2, "fair": "maybe"}, TypeError, "fair must be True or False"),
             ({"flips": 2, "cap": 3}, ValueError, "cap must be <= flips=2"),
             ({"flips": 2, "cap": -1}, ValueError, "cap must be an integer >= 0")]
    for kw, exc, match in cases:
        with pytest.raises(exc, match=match):
            CoinParams(**kw)
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['q'\]"):
        CoinParams.from_json({"flips": 2, "q": 1})
    with pytest.raises(ValueError, match=r"missing required parameter\(s\) \['flips'\]"):
        CoinParams.from_json({"p": 0.1})
    with pytest.raises(TypeError, match="dict"):
        CoinParams.from_json([1, 2])


def test_frozen_and_replace_revalidates():
    c = CoinParams(flips=3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.p = 0.9
    assert c.replace(p=0.25).p == 0.25
    with pytest.raises(ValueError, match="flips"):
        c.replace(flips=0)
    assert c == CoinParams(flips=3.0) and hash(c) == hash(CoinParams(flips=3))


def test_json_records_non_default_fields_and_versions_only_when_needed():
    c = CoinParams(flips=3)
    assert c.to_json() == {"cap": None, "flips": 3, "label": "a", "p": 0.5}
    assert CoinParams(flips=3, fair=True, scale=2).to_json()["fair"] is True
    assert "scale" in CoinParams(flips=3, scale=2).to_json()
    b = CoinParams(flips=3, label="b").to_json()
    assert b["model_version"] == 2
    assert CoinParams.from_json(b) == CoinParams(flips=3, label="b")  # a CSV row round-trips
    with pytest.raises(ValueError, match="model_version"):
        CoinParams.from_json({**b, "model_version": 1})
    assert list(c.to_json()) == sorted(c.to_json())
    assert CoinParams(flips=3, p=0.1 + 0.2).to_json()["p"] == 0.3  # canonical floats


def test_declaration_is_checked():
    with pytest.raises(ValueError, match="help"):
        param(1, help="")
    with pytest.raises(ValueError, match="needs a default"):
        param(help="x", record="non_default")
    with pytest.raises(TypeError, match="sim.param"):
        @task_params
        class NoMeta(TaskParams):
            family = "x"
            a: int = 1
    with pytest.raises(TypeError, match="family"):
        @task_params
        class NoFamily(TaskParams):
            a: int = param(1, help="a")
    with pytest.raises(TypeError, match="int, float, bool or str"):
        @task_params
        class BadType(TaskParams):
            family = "x"
            a: list = param(help="a")
    with pytest.raises(ValueError, match="a must be a finite number in"):
        @task_params
        class BadDefault(TaskParams):
            family = "x"
            a: float = param(2.0, help="a", unit="probability")


def test_the_derived_sampler_validates_labels_and_runs():
    s = CoinSampler()
    assert s.name == "coin-test"
    p = s.validate({"flips": 2, "p": 1})
    assert p == {"cap": None, "flips": 2, "label": "a", "p": 1.0}
    assert s.decoder(p) == "default" and s.chunk_shots(p) == 1024 and s.theory(p) is None
    assert s.sample(p, 100, np.random.default_rng(0)).errors == 100
    assert s.sample(CoinParams(flips=2, p=0.0), 50, np.random.default_rng(0)).errors == 0
    task, path = sim.make_task(s, CoinParams(flips=2))
    assert task.json_metadata == CoinParams(flips=2).to_json()
    assert task.decoder == "coin-test:default" and path.endswith(":CoinSampler")


def test_spec_help_names_unit_range_default_and_recording():
    specs = {s.name: s for s in CoinParams.specs()}
    assert specs["flips"].describe() == "flips per shot; int in [1, 64]; required"
    assert specs["p"].describe() == "probability of heads; probability in [0, 1]; default: 0.5"
    assert "recorded only when not default" in specs["fair"].describe()
    assert specs["cap"].allowed() == "int >= 0 or none"
    assert specs["scale"].allowed() == "float > 0"  # an open lower end
    assert specs["cap"].describe() == "optional cap; int >= 0 or none; default: none"
    assert specs["label"].describe() == "a label; one of a, b; default: a"
    assert specs["fair"].describe() == ("ignore p; bool; default: false; "
                                        "recorded only when not default")
    # defaults are shown as written (only booleans and None in lower case)
    assert dataclasses.replace(specs["label"], default="B").describe().endswith("default: B")
    # a help line's final full stop is dropped, nothing else
    assert dataclasses.replace(specs["label"], help=".label X.").describe().startswith(
        ".label X; one of a, b")
    assert specs["p"].flag == "--p"


def _samplers():
    return sorted((ep.name, ep.value) for ep in entry_points(group="erasurelab.samplers"))


@pytest.mark.parametrize("name,path", _samplers())
def test_every_registered_sampler_is_declared_with_help_and_examples(name, path):
    inst = sim.resolve_sampler(name)
    assert isinstance(inst, DeclaredSampler) and inst.name == name
    specs = inst.params.cli_specs()
    assert specs and all(s.help and s.describe() for s in specs)
    for ex in inst.params.examples():  # examples run, are seeded and round-trip
        again = inst.params.from_json(ex.to_json())
        assert again == ex
        a = inst.sample(ex, 8, np.random.default_rng(1))
        b = inst.sample(again, 8, np.random.default_rng(1))
        assert a == b and a.shots == 8


def test_canonical_json_and_theory_of_a_declared_family():
    from sim.repetition import RepetitionParams, RepetitionSampler, exact_error_rate

    p = RepetitionParams(n=3, p=0.1)
    assert p.canonical_json() == '{"n":3,"p":0.1}'
    assert p.theory() == pytest.approx(3 * 0.01 * 0.9 + 0.001)
    assert RepetitionSampler().theory({"n": 5, "p": 0.5}) == pytest.approx(0.5)
    assert exact_error_rate(5, 0.2) == RepetitionParams(n=5, p=0.2).theory()
