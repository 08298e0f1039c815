"""The audit's shortcuts give the same numbers: scipy.stats.norm's formulas called
directly, and cohort.toml parsed once per study."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, strategies as st
from scipy.special import ndtr, ndtri
from scipy.stats import norm

from tacebench.replications.audit import audit_study, cohort

FICTIONAL = Path(__file__).parent / "fictional_study"


@given(st.floats(-40, 40, allow_nan=False))
def test_ndtr_of_minus_x_is_norm_sf(x):
    assert np.float64(ndtr(-x)).tobytes() == np.float64(norm.sf(x)).tobytes()


@given(st.floats(0.0, 1.0))
def test_ndtri_is_norm_ppf(q):
    assert np.float64(ndtri(q)).tobytes() == np.float64(norm.ppf(q)).tobytes()


def test_audit_parses_cohort_toml_once(monkeypatch):
    reads = []
    real = cohort.read_cohort_toml
    monkeypatch.setattr(cohort, "read_cohort_toml", lambda p: reads.append(p) or real(p))
    one = audit_study(FICTIONAL)
    assert len(reads) == 1
    monkeypatch.undo()
    # the same findings as each reader parsing the file for itself
    sizes = cohort.analysis_arm_sizes(FICTIONAL)
    counts = cohort.cohort_facts(FICTIONAL)[1]
    from tacebench.replications.audit import audit_targets
    from tacebench.replications.targets import load_targets
    two = audit_targets(load_targets(FICTIONAL), arm_sizes=sizes, cohort_counts=counts)
    assert one.findings == two.findings


@pytest.mark.parametrize("line, value", [('label = "TACE"', "[]"), ('label = "TACE"', "{x = 1}"),
                                         ("n = 160", "[]"), ("n = 160", '"many"')])
def test_an_arm_label_or_size_of_another_type_gives_no_facts_for_that_arm(tmp_path, line,
                                                                          value):
    """A label or n that is not a string or a number is the cohort check's error; the
    audit's reading of the file leaves that arm out (it raised TypeError: unhashable)."""
    text = (FICTIONAL / "cohort.toml").read_text(encoding="utf-8")
    key = line.split(" = ")[0]
    assert text.count(line + "\n") == 1
    (tmp_path / "cohort.toml").write_text(text.replace(line, f"{key} = {value}"),
                                          encoding="utf-8")
    sizes, facts = cohort.cohort_facts(tmp_path / "cohort.toml")
    whole_sizes, whole_facts = cohort.cohort_facts(FICTIONAL / "cohort.toml")
    assert sizes == {k: v for k, v in whole_sizes.items() if k != "TACE"}
    assert 0 < len(facts) < len(whole_facts)
