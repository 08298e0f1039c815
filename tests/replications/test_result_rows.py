"""The note column of the results table (replications.result_rows)."""
from types import SimpleNamespace as NS

from tacebench.replications.result_rows import _reading_note


def _target(**kw):
    base = dict(reading="", reading_declared=True, reproduced_under=None, analysis="iptw",
                contested_by=(), verdict="reproduced")
    base.update(kw)
    return NS(**base)


def _result(k: int):
    return NS(readings=[NS(analyses=("iptw",), scores=[0] * k)])


def test_the_note_names_the_reading_its_share_and_a_contest_joined():
    """Each part of the note is said, in order, joined by '; ' (a split once dropped the
    join and every note vanished without a failing test)."""
    t = _target(reading="stabilized=true", reading_declared=False,
                reproduced_under=("a", "b"), contested_by=("stabilized=false",))
    note = _reading_note(t, _result(4))
    assert note == ("under stabilized=true; reproduced under 2/4 readings; contested: "
                    "not reproduced under stabilized=false, which the other numbers favour "
                    "about as much (LR < 3)")


def test_no_note_under_the_declared_reading_reproduced_under_all():
    t = _target(reproduced_under=("a", "b", "c"))
    assert _reading_note(t, _result(3)) == ""
    assert _reading_note(_target(reproduced_under=()), _result(3)) == \
        "reproduced under 0/3 readings"
