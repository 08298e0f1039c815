"""Fuzz: mutated study folders give `check` and `replicate` a clear error or a run, never a
traceback.

Each example copies the fictional study and applies one to three mutations: a value
replaced by another type or an out-of-range number, a ``key = value`` pair deleted, a
string replaced by a name used elsewhere in the study (arm labels, analysis names, target
ids: cross-references and duplicate ids), a line duplicated, or the file's bytes damaged
(a Latin-1 byte, a byte-order mark, a truncation). Then:

- ``tacebench check`` returns 0 or 1; every error names a study file and a key (or, for a
  file that does not parse, its line);
- ``tacebench replicate`` (2 replicates, no worlds) returns 0 when check passed and 2 when
  it failed, printing the error, never raising.

The default run tries a few examples; the ``slow`` variant searches more.
"""
import json
import re
import shutil
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from tacebench.cli import main
from tacebench.replications.analysis.problems import StudyError
from tacebench.replications.audit import audit_study
from tacebench.replications.check import check_folder
from tacebench.replications.migrate_toml import toml_value

from .folders import FICTIONAL

SHIPPED = Path(__file__).resolve().parents[2] / "tacebench" / "studies"

FILES = ("cohort.toml", "targets.toml", "analysis.toml")
FAST = ["--reps", "2", "--max-reps", "2", "--worlds", "none", "--decompose-reps", "0",
        "--n-jobs", "1"]
#: ``key = value`` with a string, a bare word or number, or a one-line array as value.
PAIR = re.compile(r'(?m)([A-Za-z_][\w-]*|"[^"\n]*")[ \t]*=[ \t]*'
                  r'("(?:[^"\\\n]|\\.)*"|\[[^\[\]\n]*\]|[-+\w.:]+)')
NAMES = ("TACE", "TACE-L", "tace", "crude", "psm", "os_hr_crude", "os_median_tace_crude",
         "os", "pfs", "pvtt", "child_pugh", "main", "median", "x")
#: How a mutation edits a file (weights by repetition); "scale" keeps the type, so that many
#: mutated folders still pass check and replicate runs on them.
HOW = ("value", "value", "name", "delete", "duplicate", "bytes", "scale", "scale", "scale")
#: Factors of "scale" (an integer stays an integer).
FACTORS = (0.01, 0.5, 0.9, 1.5, 3, 100)
VALUES = ('"x"', '""', "0", "-1", "1e9", "0.5", "true", "[]", "{}", '["TACE", "TACE"]',
          "nan", "inf", "10000000")

@st.composite
def mutation(draw):
    return (draw(st.sampled_from(FILES)),
            draw(st.sampled_from(HOW)),
            draw(st.integers(0, 10 ** 6)),
            draw(st.sampled_from(VALUES)), draw(st.sampled_from(NAMES)),
            draw(st.sampled_from((b"\xe9", b"\xef\xbb\xbf", b""))))

def apply(folder: Path, m) -> None:
    name, how, k, value, label, damage = m
    path = folder / name
    text = path.read_text(encoding="utf-8", errors="surrogateescape")  # damaged before
    if how == "bytes":
        data = path.read_bytes()
        at = k % (len(data) + 1)
        if damage == b"\xef\xbb\xbf":
            data = damage + data
        elif damage:
            data = data[:at] + damage + data[at:]
        else:
            data = data[:at]                           # truncated
        path.write_bytes(data)
        return
    pairs = list(PAIR.finditer(text))
    if how == "duplicate":
        lines = text.splitlines(keepends=True)
        i = k % len(lines)
        text = "".join(lines[:i + 1] + [lines[i]] + lines[i + 1:])
    elif pairs:
        p = pairs[k % len(pairs)]
        if how == "delete":
            text = text[:p.start()] + text[p.end():]
        elif how == "scale":
            text = text[:p.start(2)] + _scaled(p.group(2), k) + text[p.end(2):]
        else:
            new = value if how == "value" else f'"{label}"'
            text = text[:p.start(2)] + new + text[p.end(2):]
    path.write_text(text, encoding="utf-8", errors="surrogateescape")

def _scaled(value: str, k: int) -> str:
    """Every number of a value (a number or a one-line array) times a factor."""
    factor = FACTORS[k % len(FACTORS)]

    def one(m):
        x = float(m.group(0)) * factor
        return str(round(x)) if re.fullmatch(r"-?\d+", m.group(0)) else f"{x:.6g}"
    return re.sub(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?", one, value)


def clear(problem) -> bool:
    """An error names a study file and a key (for a file that does not parse: the line)."""
    named = Path(problem.file).name in (*FILES, "worlds.toml")
    return named and bool(problem.key or problem.kind == "missing-file")


def run_mutated(tmp_path_factory, mutations, capsys) -> None:
    folder = tmp_path_factory.mktemp("fuzz") / "study"
    shutil.copytree(FICTIONAL, folder)
    for m in mutations:
        apply(folder, m)
    report = check_folder(folder, build=True, worlds="none")     # as replicate below
    unclear = [str(p) for p in report.errors if not clear(p)]
    assert unclear == [], unclear
    assert main(["check", str(folder), "--quiet", "--worlds", "none"]) == (0 if report.ok
                                                                         else 1)
    status = main(["replicate", str(folder), *FAST])
    cap = capsys.readouterr()
    assert status == (0 if report.ok else 2), cap.out[-2000:]
    assert "Traceback" not in cap.out + cap.err

@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(mutation(), min_size=1, max_size=3))
# found by the slow search: a target id, an arm label, a shift id made an array (a
# TypeError in the targets' parse, and in the constant-covariate warning and the audit's
# arm sizes); a response block's levels made a number (in the response inputs' reading)
@example(mutations=[("targets.toml", "value", 208, "[]", "TACE", b"\xe9")])
@example(mutations=[("cohort.toml", "value", 156007, "[]", "TACE", b"\xe9")])
@example(mutations=[("cohort.toml", "value", 0, '"x"', "TACE", b"\xe9"),
                    ("targets.toml", "value", 1245, "[]", "TACE", b"\xe9")])
@example(mutations=[("cohort.toml", "value", 0, '"x"', "TACE", b"\xe9"),
                    ("cohort.toml", "value", 0, '"x"', "TACE", b"\xe9"),
                    ("cohort.toml", "value", 9277, "-1", "TACE", b"\xe9")])
def test_mutated_folders_give_clear_errors(tmp_path_factory, capsys, mutations):
    run_mutated(tmp_path_factory, mutations, capsys)

@pytest.mark.slow
@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(mutation(), min_size=1, max_size=3))
def test_mutated_folders_give_clear_errors_searching_more(tmp_path_factory, capsys,
                                                          mutations):
    run_mutated(tmp_path_factory, mutations, capsys)


def _without_tables(text: str, header: str) -> str:
    return "".join(b for b in re.split(r"(?m)^(?=\[)", text) if not b.startswith(header))


@pytest.mark.parametrize("file, key, edit", [
    ("cohort.toml", "cohorts.main.variables", lambda t: _without_tables(
        t, "[[cohorts.main.variables]]").replace("[cohorts.main]\n",
                                                 "[cohorts.main]\nvariables = 5\n", 1)),
    ("cohort.toml", "cohorts.main.arms", lambda t: _without_tables(
        t, "[[cohorts.main.arms]]").replace("[cohorts.main]\n", "[cohorts.main]\narms = 5\n", 1)),
    ("cohort.toml", "cohorts.main.outcomes.os.calibrate",
     lambda t: re.sub(r"(?ms)^calibrate = \[.*?^\]", "calibrate = 5", t, count=1)),
    ("targets.toml", "targets", lambda t: "targets = 5\n" + _without_tables(t, "[[targets]]")),
    ("targets.toml", "shifts", lambda t: "shifts = 5\n" + _without_tables(t, "[[shifts]]")),
    ("targets.toml", "baseline", lambda t: "baseline = 5\n" + t),
    ("targets.toml", "results", lambda t: "results = 5\n" + t),
])
def test_an_array_of_tables_given_a_number_is_named(tmp_path, file, key, edit):
    """`variables = 5` and the like raised TypeError ('int' object is not iterable) in
    readers that run beside the checks (targets' parse, the plausibility warnings, the
    calibration rows) and in the audit's reading of cohort.toml."""
    folder = tmp_path / "study"
    shutil.copytree(FICTIONAL, folder)
    path = folder / file
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    report = check_folder(folder, build=True, worlds="none")
    assert (file, key) in {(Path(p.file).name, p.key) for p in report.errors}, \
        [str(p) for p in report.errors]
    assert all(clear(p) for p in report.errors)
    try:                    # the audit reads the raw files too (public: audit_study)
        audit_study(folder)
    except StudyError:      # the targets' problems, each named
        pass


def _tables(data: dict, path: tuple = ()):
    """Key paths of every table and array of tables of parsed TOML, and of an array's
    first table (which stands for its others)."""
    for k, v in data.items():
        if isinstance(v, dict):
            yield path + (k,)
            yield from _tables(v, path + (k,))
        elif isinstance(v, list) and v and isinstance(v[0], dict):
            yield path + (k,)
            yield path + (k, 0)
            yield from _tables(v[0], path + (k, 0))


def _toml(v) -> str:
    """A TOML value, tables inline, every key quoted (``toml_value`` leaves keys bare)."""
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {_toml(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    return toml_value(v)


def _replaced(data: dict, path: tuple, value) -> str:
    """``data`` as TOML with the node at ``path`` replaced (inline tables throughout)."""
    out = node = {k: v for k, v in data.items()}
    for k in path[:-1]:
        node[k] = node[k].copy() if isinstance(node[k], dict) else list(node[k])
        node = node[k]
    node[path[-1]] = value
    text = "".join(f"{json.dumps(k)} = {_toml(v)}\n" for k, v in out.items())
    assert tomllib.loads(text) == out        # the mutation, not a file that fails to parse
    return text


#: the fictional study, and a shipped one whose cohort declares a Table 1 file (the table
#: completes the cohort's arrays, read beside the loader)
WALKED = {"fictional": FICTIONAL, "table-file": SHIPPED / "tace_regorafenib"}


def _cases(study: str) -> list[tuple[str, str]]:
    return [(f, ".".join(map(str, p))) for f in FILES
            for p in _tables(tomllib.loads((WALKED[study] / f).read_text(encoding="utf-8")))]


@pytest.mark.parametrize("study", sorted(WALKED))
def test_every_table_given_a_number_gives_named_errors(tmp_path, capsys, study):
    """Each table and array of tables of a study replaced by ``5``, one at a time: check
    reports errors that name the file and a key, never raises (the readers beside the
    loaders took ``(raw.get("cohorts") or {}).items()`` of ``cohorts = 5``; with a Table 1
    file, ``arms = 5`` reached the table's reader)."""
    cases = _cases(study)
    assert len(cases) > 20          # the walk reaches the nested tables
    bad = {}
    for file, dotted in cases:
        folder = tmp_path / f"{file}-{dotted}"
        shutil.copytree(WALKED[study], folder)
        data = tomllib.loads((folder / file).read_text(encoding="utf-8"))
        path = tuple(int(k) if k.isdigit() else k for k in dotted.split("."))
        (folder / file).write_text(_replaced(data, path, 5), encoding="utf-8")
        try:
            report = check_folder(folder, build=True, worlds="none")
            status = main(["check", str(folder), "--quiet"])    # its worlds and audit too
        except Exception as exc:                          # noqa: BLE001 - the finding
            bad[(file, dotted)] = repr(exc)
            continue
        out = capsys.readouterr()
        if (report.ok or not all(clear(p) for p in report.errors) or status != 1
                or "Traceback" in out.out + out.err):
            bad[(file, dotted)] = [str(p) for p in report.errors] + [out.out[-500:]]
    assert bad == {}
