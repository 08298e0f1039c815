"""Value equality of records that hold arrays (``tacebench.records``): the invariants of the
specification on generated records, every array-holding dataclass of the package compared
by value, and reproducibility checked with ``==`` (the same seed gives equal fits, another
seed unequal ones)."""
from __future__ import annotations

import copy
import dataclasses
import importlib
import pickle
import pkgutil
import re
import typing
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

from tacebench import records
from tacebench.estimators.survival.cox import cox_ph
from tacebench.estimators.survival.km import kaplan_meier
from tacebench.estimators.survival.logrank import logrank_test
from tacebench.simulate import compile_plan, generate_cohort

from .conftest import ROOT

BASES = [records.ArrayRecord]


def record_classes(base: type, prefix: str) -> tuple[type, type]:
    """Two record classes with the same fields, on ``base`` (module-level names, so that
    they pickle)."""
    @dataclass(frozen=True, eq=False)
    class Fit(base):
        coef: np.ndarray
        extra: object = None
        note: str = ""
        cache: object = field(default=None, compare=False)

    @dataclass(frozen=True, eq=False)
    class Other(Fit):
        """The same fields, another class (a subclass is another class)."""

    for cls in (Fit, Other):
        cls.__name__ = cls.__qualname__ = prefix + cls.__name__
        globals()[cls.__name__] = cls
    return Fit, Other


CLASSES = {base: record_classes(base, prefix)
           for base, prefix in zip(BASES, ("Record",))}

floats = st.floats(allow_nan=True, allow_infinity=True, width=64)
arrays = hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=3, max_side=4),
                    elements=floats)
leaves = st.one_of(arrays, floats, st.integers(-5, 5), st.text(max_size=3), st.none(),
                   hnp.arrays(np.bool_, st.integers(0, 4)))
values = st.recursive(leaves, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.lists(inner, max_size=3).map(tuple),
    st.dictionaries(st.text(max_size=2), inner, max_size=3)), max_leaves=6)


def with_a_different_element(a: np.ndarray) -> np.ndarray:
    b = a.copy()
    flat = b.reshape(-1)
    flat[0] = 1.0 if (np.isnan(flat[0]) or flat[0] != 1.0) else 2.0
    return b


@pytest.mark.parametrize("base", BASES, ids=["records"])
class TestInvariants:

    @given(coef=arrays, extra=values)
    def test_reflexive_also_with_nan(self, base, coef, extra):
        Fit, _ = CLASSES[base]
        a = Fit(coef, extra, "x")
        assert a == a
        assert a == Fit(coef.copy(), copy.deepcopy(extra), "x")
        assert a == pickle.loads(pickle.dumps(a))
        assert not a != copy.deepcopy(a)

    @given(a=st.tuples(arrays, values), b=st.tuples(arrays, values))
    def test_symmetric(self, base, a, b):
        Fit, _ = CLASSES[base]
        x, y = Fit(*a), Fit(*b)
        assert (x == y) == (y == x)
        assert (x != y) == (not x == y)

    @given(coef=arrays.filter(lambda a: a.size > 0), extra=values)
    def test_a_different_element_is_unequal(self, base, coef, extra):
        Fit, _ = CLASSES[base]
        assert Fit(coef, extra) != Fit(with_a_different_element(coef), extra)
        # the same inside a container field
        assert Fit(coef, {"k": (coef,)}) != Fit(coef, {"k": (with_a_different_element(coef),)})

    @given(coef=arrays, extra=values)
    def test_a_different_shape_is_unequal(self, base, coef, extra):
        Fit, _ = CLASSES[base]
        assert Fit(coef, extra) != Fit(coef[np.newaxis], extra)
        assert Fit(coef, extra) != Fit(np.append(coef, 0.0), extra)

    @given(coef=arrays, extra=values.filter(lambda v: not isinstance(v, np.ndarray)))
    def test_another_class_is_not_equal_and_raises_nothing(self, base, coef, extra):
        Fit, Other = CLASSES[base]
        a = Fit(coef, extra)
        # (not an array: ``a == array`` is numpy's elementwise comparison, an array)
        for other in (Other(coef, extra), extra, None, "x", 1.0, (coef, extra)):
            assert not a == other and a != other
            assert not other == a
        assert a.__eq__(Other(coef, extra)) is NotImplemented

    def test_what_takes_part(self, base):
        Fit, _ = CLASSES[base]
        nan = np.array([1.0, np.nan])
        assert Fit(nan, cache=np.zeros(3)) == Fit(nan.copy(), cache=np.ones(2))   # compare=False
        assert Fit(nan, note="a") != Fit(nan, note="b")
        assert Fit(nan, float("nan")) == Fit(nan, np.float64("nan"))
        assert Fit(nan, 0.0) == Fit(nan, -0.0)
        assert Fit(nan, {"a": 1, "b": nan}) == Fit(nan, {"b": nan.copy(), "a": 1})
        assert Fit(nan, {"a": 1}) != Fit(nan, {"a": 1, "b": 2})
        assert Fit(nan, (1, 2)) != Fit(nan, [1, 2])
        assert Fit(nan, (nan,)) != Fit(nan, (nan, nan))

    def test_dtype_kind(self, base):
        """A boolean mask is not a 0/1 float array, nor an integer count a float one;
        float32 and float64 of the same values are equal."""
        Fit, _ = CLASSES[base]
        assert Fit(np.array([True, False])) != Fit(np.array([1.0, 0.0]))
        assert Fit(np.array([1, 0])) != Fit(np.array([1.0, 0.0]))
        assert Fit(np.array([0.5, np.nan], np.float32)) == Fit(np.array([0.5, np.nan]))
        words = np.array(["a", "b"])
        assert Fit(words) == Fit(words.copy()) != Fit(np.array(["a", "c"]))
        objects = np.array([np.array([np.nan]), "a"], dtype=object)
        assert Fit(objects) == Fit(copy.deepcopy(objects))

    def test_pandas(self, base):
        Fit, _ = CLASSES[base]
        frame = pd.DataFrame({"x": [1.0, np.nan], "y": ["a", "b"]})
        assert Fit(np.zeros(1), {"t": frame}) == Fit(np.zeros(1), {"t": frame.copy()})
        assert Fit(np.zeros(1), frame) != Fit(np.zeros(1), frame.assign(x=[1.0, 2.0]))
        assert Fit(np.zeros(1), frame["x"]) != Fit(np.zeros(1), frame[["x"]])

    def test_not_hashable(self, base):
        Fit, _ = CLASSES[base]
        assert Fit.__hash__ is None
        with pytest.raises(TypeError):
            hash(Fit(np.zeros(2)))


# ------------------------------------- every array-holding dataclass compares by value

PACKAGES = ("tacebench", "tacebench.simulate", "tacebench.estimators",
            "tacebench.replications", "tacebench.benchmarks")
ARRAY_TYPES = re.compile(r"\b(ndarray|NDArray|ArrayLike|DataFrame|Series|csr_array)\b")
#: classes whose annotations do not say so (tuple, dict) but whose fields hold arrays
HOLD_ARRAYS_UNDECLARED = ("tacebench.estimators.mice.MICEResult",
                          "tacebench.simulate.outcomes.AssessmentPlan",
                          "tacebench.engine.figure_style.RiskRow",
                          "tacebench.engine.run.ChunkResult")


def _without_callables(annotation: str) -> str:
    """The annotation without its ``Callable[...]`` parts (a function returning an array
    holds no array)."""
    while (start := annotation.find("Callable[")) >= 0:
        depth, end = 0, start + len("Callable")
        for end in range(end, len(annotation)):
            depth += {"[": 1, "]": -1}.get(annotation[end], 0)
            if depth == 0:
                break
        annotation = annotation[:start] + annotation[end + 1:]
    return annotation


def holds_arrays(cls: type) -> bool:
    name = f"{cls.__module__}.{cls.__qualname__}"
    return name in HOLD_ARRAYS_UNDECLARED or any(
        ARRAY_TYPES.search(_without_callables(str(f.type))) for f in dataclasses.fields(cls))


def dataclasses_of_the_package() -> dict[str, type]:
    found = {}
    for package in PACKAGES:
        modules = [importlib.import_module(package)]
        for info in pkgutil.walk_packages(modules[0].__path__, package + "."):
            if info.name.endswith("__main__") or ".speed" in info.name:
                continue
            modules.append(importlib.import_module(info.name))
        for module in modules:
            for value in vars(module).values():
                if (isinstance(value, type) and dataclasses.is_dataclass(value)
                        and value.__module__.startswith("tacebench")):
                    found[f"{value.__module__}.{value.__qualname__}"] = value
    return found


ALL = dataclasses_of_the_package()
HOLDERS = sorted(name for name, cls in ALL.items() if holds_arrays(cls))


def assert_compares_by_value(cls: type) -> None:
    """Two instances whose every field holds an equal (not the same) array with a NaN are
    equal; one compared field changed makes them unequal; neither can be hashed."""
    names = [f.name for f in dataclasses.fields(cls)]
    compared = [f.name for f in dataclasses.fields(cls) if f.compare]

    def instance(changed: str | None = None):
        obj = object.__new__(cls)
        for name in names:
            object.__setattr__(obj, name, np.array([1.0, np.nan, 2.0 if name == changed else 3.0]))
        return obj

    a, b = instance(), instance()
    assert a == b and not a != b
    for name in compared:
        assert a != instance(changed=name), name
    with pytest.raises(TypeError):
        hash(a)


@pytest.mark.parametrize("name", HOLDERS)
def test_an_array_holding_dataclass_compares_by_value(name):
    assert_compares_by_value(ALL[name])


def test_the_walk_finds_the_records():
    for name in ("tacebench.estimators.survival.cox.CoxResult",
                 "tacebench.estimators.survival.km.KaplanMeier",
                 "tacebench.estimators.propensity.PropensityModel",
                 "tacebench.estimators.matching_result.MatchResult",
                 "tacebench.estimators.survival.logrank.LogRankResult",
                 "tacebench.estimators.survival.ate.SurvivalATE",
                 "tacebench.simulate.cohort.Cohort", "tacebench.simulate.batch.CohortBatch",
                 "tacebench.replications.summaries.ReproductionResult", *HOLD_ARRAYS_UNDECLARED):
        assert name in HOLDERS
    # a function returning arrays holds none: the benchmarks' prepared generator is hashable
    assert "tacebench.benchmarks.dgm.PreparedDGM" not in HOLDERS
    assert ALL["tacebench.benchmarks.dgm.PreparedDGM"].__hash__ is not None


def test_the_check_fails_for_a_generated_eq():
    """The check is able to fail: a dataclass with the generated ``__eq__`` and an array
    field is found and does not compare by value."""
    @dataclass(frozen=True)
    class Plain:
        coef: np.ndarray
        fn: typing.Callable[[], np.ndarray] | None = None

    assert holds_arrays(Plain)
    with pytest.raises((AssertionError, ValueError)):
        assert_compares_by_value(Plain)


# ------------------------------------------------ reproducibility, checked with ==

@pytest.fixture(scope="module")
def cohorts():
    plan = compile_plan(ROOT / "tests" / "simulate" / "specs" / "small.toml")
    return tuple(generate_cohort(plan, seed=seed) for seed in (1, 1, 2))


def _fits(cohort):
    c = cohort.columns
    X = np.column_stack([c["treated"], c["age"]]).astype(float)
    return (cox_ph(c["os_time"], c["os_event"], X, robust=True),
            kaplan_meier(c["os_time"], c["os_event"]),
            logrank_test(c["os_time"], c["os_event"], c["treated"]))


def test_the_same_seed_gives_equal_cohorts_and_fits(cohorts):
    first, again, other = cohorts
    assert first == again and first != other
    for a, b, c in zip(_fits(first), _fits(again), _fits(other)):
        assert a == b, type(a).__name__
        assert a != c, type(a).__name__


def test_a_nan_standard_error_at_the_same_coefficient_is_the_same_result():
    """A Cox fit whose likelihood is monotone (NaN standard errors) equals its refit."""
    time = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    event = np.array([1, 1, 0, 1, 1, 0])
    X = np.array([[0.0, 1.0], [0.0, 2.0], [1.0, 3.0], [1.0, 1.0], [0.0, 2.0], [1.0, 1.0]])
    fit = cox_ph(time, event, X)
    assert np.isnan(fit.se).all()
    assert fit == cox_ph(time, event, X)
    assert fit != dataclasses.replace(fit, se=np.zeros_like(fit.se))
