"""Honest accounting: distinct numbers, calibration apart, not simulated apart from not
estimable, and the count of "not reproduced" chance alone gives."""
import shutil
from pathlib import Path

import pytest

from tacebench.replications.accounting import account, accounting_frame
from tacebench.replications.check import load_study
from tacebench.replications.reproduce import reproduce

FICTIONAL = Path(__file__).parent / "fictional_study"

_QUOTE = '''
[[targets]]
id = "os_hr_iptw_{slug}"
analysis = "iptw"
quantity = "hr"
endpoint = "os"
contrast = ["TACE-L", "TACE"]
value = 0.70
ci = [0.52, 0.94]
role = "predicted"
where = "{where}"
source = "the HR was 0.70 (95% CI 0.52-0.94)"
'''

_TTP = '''
[[targets]]
id = "ttp_median_tace_crude"
analysis = "crude"
quantity = "km_median"
endpoint = "ttp"
arm = "TACE"
value = 5.0
role = "predicted"
where = "text"
source = "the median time to progression was 5.0 months"
'''


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("acc") / "fictional"
    shutil.copytree(FICTIONAL, d)
    p = d / "targets.toml"
    text = p.read_text()
    head, sep, rest = text.partition("[[targets]]")
    extra = "".join(_QUOTE.format(where=w, slug=w.replace(" ", "")) for w in (
        "abstract", "discussion", "table 2")) + _TTP
    p.write_text(head + extra.lstrip() + "\n" + sep + rest)
    plain = load_study(FICTIONAL)
    quoted = load_study(d)
    kw = dict(reps=30, seed=2, decompose_reps=0)
    return (plain, reproduce(plain, **kw)), (quoted, reproduce(quoted, **kw))


def test_a_number_quoted_four_times_counts_once(runs):
    (ps, plain), (qs, quoted) = runs
    a, b = plain.accounting, quoted.accounting
    assert b.targets == a.targets + 4
    # the three extra quotes of the IPTW HR are one number with the original: only the
    # TTP median (not simulated) is a new distinct number
    assert b.distinct == a.distinct + 1
    assert [set(g) for g in b.groups] == [{"os_hr_iptw", "os_hr_iptw_abstract",
                                           "os_hr_iptw_discussion", "os_hr_iptw_table2"}]
    assert b.predicted == a.predicted and b.calibration == a.calibration
    assert (a.not_simulated, b.not_simulated) == (0, 1) and b.not_estimable == 0
    # account() on its own gives what summarise attached
    assert account(quoted, {t.id: t for t in qs.targets.targets}) == b


def test_expected_by_chance_is_five_percent_of_judged_predictions(runs):
    (_, plain), _ = runs
    a = plain.accounting
    assert a.judged_predicted > 0
    assert a.expected_by_chance == pytest.approx(0.05 * a.judged_predicted)
    assert a.chance_upper >= round(a.expected_by_chance)
    frame = accounting_frame([a, a])
    assert list(frame.study) == [a.study, a.study, "all"]
    assert frame.iloc[-1].distinct == 2 * a.distinct


def test_the_table_shows_each_number_once(runs):
    from tacebench.replications.report import StudyReport, render
    _, (qs, quoted) = runs
    text = render([StudyReport(qs.id, qs.title, [], quoted)])
    rows = [line for line in text.splitlines() if line.startswith("os_hr_iptw")]
    assert len(rows) == 1 and "also os_hr_iptw_discussion" in rows[0]
    assert "distinct numbers" in text


def test_undetermined_predictions_are_counted_in_the_sentence_and_the_table():
    """13 distinct numbers were told as 'predicted 7 reproduced, 0 not reproduced ...;
    calibration 3/3': the 3 undetermined predictions were in no count."""
    from types import SimpleNamespace

    import numpy as np

    verdicts = ["reproduced"] * 7 + ["undetermined"] * 3 + ["reproduced"] * 3
    targets = [SimpleNamespace(id=f"t{i}", role="calibration" if i >= 10 else "predicted",
                               reported=float(i), verdict=v, spec_gap=False)
               for i, v in enumerate(verdicts)]
    draws = np.arange(13 * 4, dtype=float).reshape(4, 13)
    result = SimpleNamespace(study_id="s", targets=targets, shifts=(), draws=draws,
                             draw_ids=[t.id for t in targets])
    a = account(result)
    assert a.distinct == 13
    assert ("predicted 7 reproduced, 0 not reproduced (chance alone: 0.4 expected, up to 2), "
            "3 undetermined (within Monte Carlo error of a bound of the simulated interval); "
            "calibration 3/3") in a.sentence()
    frame = accounting_frame([a, a])
    assert frame["predicted_undetermined"].tolist() == [3, 3, 6]


def test_a_calibration_number_not_reproduced_is_counted_apart():
    """'calibration 11' in the cross-study table hid that one calibration number was NOT
    reproduced (the sentence said 10/11, 'fitted by construction')."""
    from types import SimpleNamespace

    import numpy as np

    from tacebench.replications.html_report import _overview
    from tacebench.replications.summaries import _clean

    verdicts = ["reproduced"] * 3 + ["not reproduced"]
    targets = [SimpleNamespace(id=f"t{i}", role="calibration", reported=float(i), verdict=v,
                               spec_gap=False) for i, v in enumerate(verdicts)]
    result = SimpleNamespace(study_id="s", targets=targets, shifts=(),
                             draws=np.arange(16, dtype=float).reshape(4, 4),
                             draw_ids=[t.id for t in targets])
    a = account(result)
    assert ("calibration 3/4 reproduced (1 NOT reproduced: the calibrated generator misses "
            "its own input)") in a.sentence()
    assert "fitted by construction" not in a.sentence()
    frame = accounting_frame([a, a])
    assert frame["calibration"].tolist() == [4, 4, 8]
    assert frame["calibration_not_reproduced"].tolist() == [1, 1, 2]
    # the HTML overview rebuilds the table from the JSON's accounting
    from dataclasses import asdict
    studies = [{"study": "s", "accounting": _clean(asdict(a))}] * 2
    html = _overview(studies)
    assert "<th>calibration inputs NOT reproduced</th>" in html
    assert "<td>4</td><td>1</td>" in html and "<td>8</td><td>2</td>" in html


def test_numbers_printed_once_each_stay_apart_when_value_and_draws_coincide():
    """Four complete-response shares (two arms at two times), 0 in the paper and in every
    replicate, are four numbers; a same_as repeat (even one whose label differs) and an
    abstract quote with the same fields are quotes of one of them."""
    from types import SimpleNamespace
    import numpy as np
    from tacebench.replications.accounting import distinct_groups
    from tacebench.replications.targets.model import Target

    def cr(tid, arm, time, **kw):
        return Target(tid, "psm", "rate", "predicted", "table 3", "CR 0 (0)", endpoint="cr",
                      arm=arm, time=time, value=0.0, **kw)
    specs = [cr("cr_a_3m", "A", 3), cr("cr_b_3m", "B", 3), cr("cr_a_6m", "A", 6),
             cr("cr_b_6m", "B", 6), cr("cr_a_3m_text", "A", 3, same_as="cr_a_3m", level="all"),
             cr("cr_a_3m_abstract", "A", 3)]
    result = SimpleNamespace(
        draws=np.zeros((50, len(specs))), draw_ids=tuple(t.id for t in specs),
        targets=tuple(SimpleNamespace(id=t.id, role=t.role, reported=t.value,
                                      verdict="reproduced") for t in specs))
    groups = distinct_groups(result, {t.id: t for t in specs})
    assert [[t.id for t in g] for g in groups] == [
        ["cr_a_3m", "cr_a_3m_text", "cr_a_3m_abstract"], ["cr_b_3m"], ["cr_a_6m"],
        ["cr_b_6m"]]


def _three(role, verdicts, **per_target):
    """A result of three targets of ``role`` (distinct values and draws), with
    ``per_target`` attributes given as lists."""
    from types import SimpleNamespace

    import numpy as np

    targets = [SimpleNamespace(id=f"t{k}", role=role, reported=float(k), verdict=v,
                               spec_gap=False, **{f: vals[k] for f, vals in per_target.items()})
               for k, v in enumerate(verdicts)]
    return SimpleNamespace(study_id="s", targets=targets, shifts=(),
                           draws=np.arange(12, dtype=float).reshape(4, 3),
                           draw_ids=[t.id for t in targets])


def test_contested_verdicts_are_counted_and_said():
    """A predicted verdict that a weakly disfavoured reading reverses is counted apart."""
    a = account(_three("predicted", ["not reproduced", "reproduced", "reproduced"],
                       contested_by=[("truncate=none",), (), ("x",)]))
    assert a.contested == 2
    assert "2 of these verdicts contested" in a.sentence()
    assert accounting_frame([a, a])["predicted_contested"].tolist() == [2, 2, 4]


def test_calibration_numbers_the_generator_misses_are_not_fitted_by_construction():
    """Seed 001: 'calibration 10/10 reproduced (fitted by construction)' beside a misfit
    line naming two of them (PFS median +3.43 months, 6-month PFS rate +11 points)."""
    a = account(_three("calibration", ["reproduced"] * 3,
                       calibration_missed=[False, True, True]))
    assert a.calibration_missed == 2
    assert "calibration 3/3 reproduced (2 missed by the calibrated generator" in a.sentence()
    assert "fitted by construction" not in a.sentence()


def _result(columns, roles, reported=None, verdicts=None):
    from types import SimpleNamespace

    import numpy as np

    ids = [f"t{k}" for k in range(len(columns))]
    targets = [SimpleNamespace(id=i, role=r, reported=(reported or {}).get(i, float(k)),
                               verdict=(verdicts or {}).get(i, "reproduced"), spec_gap=False)
               for k, (i, r) in enumerate(zip(ids, roles))]
    return SimpleNamespace(study_id="s", targets=targets, shifts=(),
                           draws=np.column_stack(columns), draw_ids=ids)


def test_numbers_the_draws_of_another_or_the_inputs_determine_are_not_counted():
    """Seed 000: ORR = PR share in every replicate (no complete response), DCR = 1 - PD
    share to 5e-16, and the CR shares 0 in every replicate counted as 8 of 56 'predicted
    reproduced' numbers that cannot fail on their own."""
    import numpy as np
    rng = np.random.default_rng(1)
    pd_share = rng.uniform(0.2, 0.4, 50)        # a calibration input
    pr_share = rng.uniform(0.1, 0.3, 50)
    cols = [pd_share,
            pr_share,                            # predicted PR share
            pr_share + 0.0,                      # predicted ORR: identical
            (0.3 + 0.2 + pr_share * 0 + 1 - pd_share) - 0.5,  # DCR = 1 - PD, float noise
            np.zeros(50),                        # CR share: 0 in every replicate
            pr_share + 1e-9,                     # a real (if tiny) difference stays apart
            rng.uniform(0, 1, 50)]
    roles = ["calibration"] + ["predicted"] * 6
    a = account(_result(cols, roles))
    assert a.copies == {"predicted": 2} and a.constant == {"predicted": 1}
    assert a.predicted == {"reproduced": 3} and a.calibration == {"reproduced": 1}
    assert a.judged_predicted == 3 and a.expected_by_chance == pytest.approx(0.15)
    assert a.distinct == 7 and a.determined == 3
    assert ("; 3 determined by another number or by the inputs, not counted above (3 "
            "declared predicted): 2 repeat another number's draws in every replicate "
            "(identical, or its complement 1 - x) and 1 are constant in every replicate "
            "(fixed by the inputs); 0 not simulated") in a.sentence()
    frame = accounting_frame([a, a])
    assert frame["determined"].tolist() == [3, 3, 6]


def test_a_determined_number_not_reproduced_is_said():
    import numpy as np
    x = np.linspace(0.1, 0.5, 20)
    a = account(_result([x, x, np.zeros(20)], ["predicted"] * 3,
                        verdicts={"t1": "not reproduced"}))
    assert a.predicted == {"reproduced": 1} and a.determined_not_reproduced == 1
    assert "2 of them not reproduced" not in a.sentence()
    assert ", 1 of them not reproduced" in a.sentence()


def test_reported_only_numbers_are_counted_by_quantity():
    """'0 not simulated' was printed while seed 000 has 33 reported-only numbers (7
    p-values, among them the headline log-rank p = 0.004, and the person-months): none was
    in any count."""
    import numpy as np
    from tacebench.replications.targets.model import Target

    def rep(tid, quantity, **kw):
        return Target(tid, "crude", quantity, kw.pop("role", "reported"), "text", "q", **kw)
    specs = [rep("t0", "hr", role="predicted", value=0.7, endpoint="os"),
             rep("p_logrank", "p_value", p=0.004, endpoint="os"),
             rep("p_logrank_abstract", "p_value", p=0.004, endpoint="os",
                 same_as="p_logrank"),
             rep("p_other", "p_value", p=0.2, endpoint="pfs"),
             rep("person_months", "person_time", value=4043.3),
             rep("hr_abstract", "hr", value=0.7, endpoint="os", same_as="t0")]
    result = _result([np.linspace(0.5, 0.9, 10)], ["predicted"], reported={"t0": 0.7})
    a = account(result, {t.id: t for t in specs})
    assert a.reported_only == {"p_value": 2, "person_time": 1}
    assert a.sentence().endswith("; 3 reported only (audited, not judged: p_value 2, "
                                 "person_time 1)")
    assert accounting_frame([a, a])["reported_only"].tolist() == [3, 3, 6]


def test_a_number_the_study_cannot_simulate_is_not_simulated_everywhere(runs):
    """A spec gap (here a TTP median, an endpoint the cohort does not generate) was
    'not estimable' in the table, the JSON and check's warning ('it will be 'not
    estimable''), while the summary counted it 'not simulated': 'not estimable' says the
    paper's analysis fails on data like the paper's."""
    import json
    import xml.etree.ElementTree as ET

    from tacebench.replications.check import check_folder
    from tacebench.replications.junit import junit_xml
    from tacebench.replications.report import StudyReport, render

    _, (qs, quoted) = runs
    row = next(t for t in quoted.targets if t.id == "ttp_median_tace_crude")
    assert row.verdict == "not simulated" and row.spec_gap
    assert quoted.accounting.not_simulated == 1 and quoted.accounting.not_estimable == 0
    report = StudyReport(qs.id, qs.title, [], quoted)
    (line,) = [x for x in render([report]).splitlines() if x.startswith("ttp_median")]
    assert "not simulated (spec gap)" in line and "not estimable" not in line
    (study,) = json.loads(render([report], "json"))
    (js,) = [t for t in study["targets"] if t["id"] == "ttp_median_tace_crude"]
    assert js["verdict"] == "not simulated"
    case = next(c for c in ET.fromstring(junit_xml([study])).iter("testcase")
                if c.get("name") == "ttp_median_tace_crude")
    (skipped,) = case.findall("skipped")
    assert skipped.get("type") == "not simulated"
    assert skipped.get("message").startswith("not simulated: ")
    (w,) = [p for p in check_folder(qs.path).problems if p.value == "ttp"]
    assert w.message.endswith("it will be 'not simulated' (a spec gap)")


def test_a_worlds_table_counts_spec_gaps_apart_only_when_there_is_one():
    from tacebench.replications.verdicts import world_verdicts
    plain = ("reproduced", "not reproduced", "not estimable", "undetermined")
    assert world_verdicts([{"reproduced": 3}, {"not estimable": 1}]) == plain
    assert world_verdicts([{"reproduced": 3}, {"not simulated": 1}]) == (*plain,
                                                                         "not simulated")


def test_reported_only_numbers_are_split_into_inputs_not_computed_and_computed():
    """One 'reported only' count mixed the generator's inputs, numbers the run cannot
    compute and numbers it computes but does not judge; quotes of one number are one, of
    the kind of any quote that is an input, else computed."""
    import numpy as np
    from tacebench.replications.targets.model import Target
    from tacebench.replications.unjudged import Kind, Reported

    def rep(tid, quantity, **kw):
        return Target(tid, "crude", quantity, kw.pop("role", "reported"), "text", "q", **kw)
    specs = [rep("t0", "hr", role="predicted", value=0.7, endpoint="os"),
             rep("p_logrank", "p_value", p=0.004, endpoint="os"),
             rep("n_tace", "group_size", value=160, arm="TACE"),
             rep("n_tace_abstract", "group_size", value=160, arm="TACE", same_as="n_tace"),
             rep("hr_psm", "hr", value=0.5, endpoint="os"),
             rep("hr_iptw", "hr", value=0.6, endpoint="os"),
             rep("smd_age", "smd", value=0.02, term="age")]
    kinds = {"p_logrank": Reported("p_logrank", Kind.NOT_COMPUTED, "no estimate"),
             "n_tace": Reported("n_tace", Kind.INPUT, "the arm sizes"),
             "n_tace_abstract": Reported("n_tace_abstract", Kind.INPUT, "the arm sizes"),
             "hr_psm": Reported("hr_psm", Kind.COMPUTED, "hr", "psm", reason="shown only"),
             "hr_iptw": Reported("hr_iptw", Kind.COMPUTED, "hr", "iptw", reason="shown only"),
             "smd_age": Reported("smd_age", Kind.COMPUTED, "balance", "iptw")}
    result = _result([np.linspace(0.5, 0.9, 10)], ["predicted"], reported={"t0": 0.7})
    a = account(result, {t.id: t for t in specs}, kinds)
    assert a.reported_kinds == {"input": 1, "not computed": 1, "computed": 3}
    assert a.not_judged == {"shown only": 2, "": 1}
    assert a.sentence().endswith(
        "; 5 reported only, not judged: 1 input of the generator (audited), 1 not computed "
        "by the run (audited), 3 computed but not judged (reasons: 'shown only' (2); "
        "no reason given)")
    frame = accounting_frame([a])
    assert frame[["reported_inputs", "reported_not_computed", "reported_computed"]
                 ].iloc[0].tolist() == [1, 1, 3]
