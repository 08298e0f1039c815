"""An estimate printed only as its CI: judged on the interval's centre on the scale it is
symmetric on, with the imprecision the bounds' rounding leaves."""
from __future__ import annotations

import math

import numpy as np
import pytest

from tacebench.replications.reading_choice import printed_half_unit
from tacebench.replications.targets import parse_targets
from tacebench.replications.verdicts import judge

QUOTE = "TACE-L prolonged survival (95% CI 0.55-0.95) and the mean difference was (-1.2 to 3.4)"


def target(**kw):
    return {"id": "os_hr_crude", "analysis": "crude", "quantity": "hr", "endpoint": "os",
            "contrast": ["TACE-L", "TACE"], "ci": [0.55, 0.95], "role": "predicted",
            "where": "text", "source": QUOTE, **kw}


def parse(*targets):
    return parse_targets({"study": {"id": "demo"}, "targets": list(targets)}).targets


def test_ratio_is_the_log_centre_with_the_bounds_rounding():
    t, = parse(target())
    assert t.value_from_ci and t.value == pytest.approx(math.sqrt(0.55 * 0.95))
    # each bound may be off by 0.005: the log-centre by (0.005/0.55 + 0.005/0.95) / 2
    half = printed_half_unit(t, "hr")
    assert half == pytest.approx(t.value * (0.005 / 0.55 + 0.005 / 0.95) / 2)
    assert half < 0.01 * t.value        # far narrower than the interval: no free pass


def test_difference_is_the_arithmetic_centre():
    t, = parse(target(quantity="arr", contrast=["TACE-L", "TACE"], time=12, ci=[1.2, 3.4],
                      id="os_arr_crude"))
    assert t.value == pytest.approx(2.3) and printed_half_unit(t, "arr") == pytest.approx(0.05)


@pytest.mark.parametrize("kw, key, words", [
    ({"quantity": "km_median", "arm": "TACE", "contrast": None, "id": "os_median_tace_crude"},
     "targets[0].value", "no recoverable estimate"),
    ({"ci": [0.95, 0.55]}, "targets[0].ci", "lower < upper"),
])
def test_unusable_ci_only_names_key(kw, key, words):
    raw = {k: v for k, v in target(**kw).items() if v is not None}
    with pytest.raises(ValueError) as info:
        parse(raw)
    found = [p for p in info.value.problems if p.key == key]
    assert found and words in found[0].message, info.value.problems


def test_verdict_uses_the_centre():
    t, = parse(target())
    rng = np.random.default_rng(0)
    near = np.exp(rng.normal(math.log(0.72), 0.1, 400))
    far = np.exp(rng.normal(math.log(1.3), 0.1, 400))
    half = printed_half_unit(t, "hr")
    assert judge(near, t.value, "log", half_unit=half).verdict == "reproduced"
    assert judge(far, t.value, "log", half_unit=half).verdict == "not reproduced"
