"""The examples of docs/study-format.md and the signatures of docs/design.md match the code.

``docs/study-format.md`` marks the fenced blocks of its complete example study with an HTML
comment on the line before the fence::

    <!-- example: paper -->           the example paper (a ```text block)
    <!-- example: cohort.toml -->     blocks of one file, concatenated in page order
    <!-- example: table1.tsv -->      (the compact form: Table 1 as a file, [[results]],
    <!-- example: targets.toml -->     [calibration])
    <!-- example: analysis.toml -->
    <!-- long form: targets.toml -->  the same study in the long form ([[targets]] one
    <!-- long form: cohort.toml -->   number each, Table 1 in TOML), the reference
    <!-- example, long form: X -->    a block of both

The blocks are written to a study folder and loaded with the real loaders
(``simulate.load_spec``, ``replications.targets.load_targets``,
``replications.analysis.load_plan``, ``replications.check.check_folder`` and ``tacebench
check``): a doc example that does not load is a bug. The long form is loaded the same way
(a file it has no block of is the example's) and must give the same cohort and the same
targets. Every other ```toml block of the page must at least be valid TOML.

``docs/design.md`` marks its signature lists with ``<!-- signatures: MODULE -->``; each entry
(``name(...) -> Type``, continued on indented lines, ``#`` comments ignored) must be
``inspect.signature`` of ``MODULE.name`` without annotations, and every function the
documented modules export must be listed.
"""
from __future__ import annotations

import importlib
import inspect
import re
import tomllib
from pathlib import Path

import pytest

# the same whitespace-normalised quote check as the shipped studies'
from tacebench.replications.quotes import quote_problems, sources

DOCS = Path(__file__).resolve().parents[2] / "docs"
STUDY_FORMAT = DOCS / "study-format.md"
DESIGN = DOCS / "design.md"
FILES = ("cohort.toml", "targets.toml", "analysis.toml")
LONG = ("cohort.toml", "targets.toml")           # the files the long form writes out

_MARKED = re.compile(r"<!--\s*((?:example|long form|signatures)(?:\s*,\s*(?:example|long form))*)"
                     r":\s*([\w.]+)\s*-->\s*\n```(\w*)[ \t]*\n(.*?)^```", re.S | re.M)
_FENCE = re.compile(r"^```(\w*)[ \t]*\n(.*?)^```", re.S | re.M)


def marked_blocks(text: str, kind: str) -> list[tuple[str, str, str]]:
    """(marker value, fence language, body) of the blocks marked ``<!-- kind: ... -->`` (or
    ``<!-- kind, other: ... -->``)."""
    return [(m.group(2), m.group(3), m.group(4)) for m in _MARKED.finditer(text)
            if kind in re.split(r"\s*,\s*", m.group(1))]


def example_files(text: str, kind: str = "example") -> dict[str, str]:
    """The example's files: marker value -> the concatenated bodies of its blocks."""
    out: dict[str, str] = {}
    for name, _, body in marked_blocks(text, kind):
        out[name] = out.get(name, "") + body + "\n"
    return out


def toml_lines(text: str) -> int:
    """Lines of a TOML file that are neither blank nor a comment."""
    return sum(1 for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#"))


@pytest.fixture(scope="module")
def page() -> str:
    return STUDY_FORMAT.read_text(encoding="utf-8")


def _write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir()
    for name, text in files.items():
        (folder / ("paper.txt" if name == "paper" else name)).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def example(page, tmp_path_factory) -> Path:
    files = example_files(page)
    assert set(files) == {"paper", "table1.tsv", *FILES}, f"example blocks: {sorted(files)}"
    return _write(tmp_path_factory.mktemp("docs") / "example_tace_lenvatinib", files)


@pytest.fixture(scope="module")
def long_form(page, tmp_path_factory) -> Path:
    files = example_files(page, "long form")
    assert set(files) == set(LONG), f"long-form blocks: {sorted(files)}"
    shared = {k: v for k, v in example_files(page).items() if k in ("paper", "analysis.toml")}
    return _write(tmp_path_factory.mktemp("docs") / "example_tace_lenvatinib", {**shared, **files})


def test_the_marker_finder_reads_marked_blocks_only():
    text = ("<!-- example: targets.toml -->\n```toml\na = 1\n```\n\n```toml\nb = 2\n```\n"
            "<!-- example, long form: targets.toml -->\n```toml\nc = 3\n```\n"
            "<!-- long form: targets.toml -->\n```toml\nd = 4\n```\n")
    assert example_files(text) == {"targets.toml": "a = 1\n\nc = 3\n\n"}
    assert example_files(text, "long form") == {"targets.toml": "c = 3\n\nd = 4\n\n"}
    assert toml_lines("# a\n\na = 1  # b\n  # c\n[t]\n") == 2


def test_the_compact_example_gives_the_long_forms_cohort_and_targets(example, long_form):
    """The compact form loses nothing: the same cohort inputs, the same Target objects (ids,
    values, roles, quotes, every field) and shifts as the long form."""
    from tacebench import simulate
    from tacebench.replications.targets import load_targets

    assert simulate.load_spec(example).cohorts == simulate.load_spec(long_form).cohorts
    compact, long = load_targets(example), load_targets(long_form)
    assert {t.id: t for t in compact} == {t.id: t for t in long}
    assert len(compact.targets) == len(long.targets) == 49
    assert compact.shifts == long.shifts
    cal = {t.id for t in compact if t.role == "calibration"}
    assert cal == {"os_median_tace_crude", "os_median_tace_l_crude", "pfs_median_tace_crude",
                   "pfs_median_tace_l_crude", "os_count_crude",
                   # the response counts of cohort.toml are their inputs
                   "orr_tace_imaging", "orr_tace_l_imaging", "response_cr_tace_imaging",
                   # and so of their unadjusted odds ratio
                   "orr_or_imaging",
                   # and the multivariable HR of a covariate with a cohort.toml effect
                   "os_hr_pvtt_multivariable"}


def test_the_example_is_as_short_as_the_page_says(page, example, long_form):
    """The line counts the page states are the example's (comment and blank lines aside)."""
    stated = re.search(r"whole\s+`targets.toml`:\s+(\d+) lines of TOML for\s+(\d+) targets,"
                       r"\s+and\s+(\d+) lines for\s+`cohort.toml`", page)
    assert stated, "the page no longer states the example's line counts"
    n_targets, n_ids, n_cohort = map(int, stated.groups())
    text = {name: (example / name).read_text("utf-8") for name in LONG}
    assert toml_lines(text["targets.toml"]) == n_targets
    assert toml_lines(text["cohort.toml"]) == n_cohort
    assert n_targets + n_cohort <= 120           # the bound: Table 1 and calibration once
    from tacebench.replications.targets import load_targets
    assert len(load_targets(example).targets) == n_ids
    long = re.search(r"long form below\s+gives the same\s+\d+\s+targets in\s+(\d+)\s+lines,"
                     r"\s+its cohort in\s+(\d+)", page)
    assert long and tuple(map(int, long.groups())) == tuple(
        toml_lines((long_form / name).read_text("utf-8")) for name in ("targets.toml", "cohort.toml"))


def test_the_long_form_passes_the_check_too(long_form):
    from tacebench.replications.check import check_folder

    assert [str(p) for p in check_folder(long_form).problems] == []


def test_every_toml_block_of_the_page_is_valid_toml(page):
    for lang, body in _FENCE.findall(page):
        if lang == "toml":
            tomllib.loads(body)          # raises on a malformed fragment


def test_each_file_loads_with_its_own_loader(example):
    from tacebench import simulate
    from tacebench.replications.analysis import load_plan
    from tacebench.replications.targets import load_targets

    spec = simulate.load_spec(example)
    plan = load_plan(example / "analysis.toml")
    targets = load_targets(example)
    assert spec.id == targets.study_id == "example_tace_lenvatinib"
    assert set(targets.analyses) <= set(plan.names)
    # the page shows every quantity the format has, as a target or as an estimate an
    # analysis shows, except the two that need a time contrast or a restricted horizon
    # (arr/nnt/rmst are in the tables only), risk_ratio (in the tables only too) and a
    # covariate's median (the example paper prints none; "Table 1 as a table" shows it)
    from tacebench.replications.targets import QUANTITIES
    shown = {s.fields["quantity"] for a in plan.analyses for s in a.show}
    assert QUANTITIES - {t.quantity for t in targets} - shown == {"arr", "nnt", "rmst",
                                                                  "risk_ratio", "median"}
    assert {t.role for t in targets} == {"calibration", "predicted", "reported"}
    assert [s.id for s in targets.shifts] == ["os_hr_crude_to_iptw",
                                              "os_hr_crude_to_multivariable"]
    # Table 1's level rows are reported proportion targets named by the convention
    cells = [t for t in targets if t.id.startswith("bl_child_pugh_") and t.quantity != "smd"]
    assert {t.id for t in cells} == {"bl_child_pugh_a_tace_crude", "bl_child_pugh_a_tace_l_crude",
                                     "bl_child_pugh_b_tace_crude", "bl_child_pugh_b_tace_l_crude"}
    assert all(t.quantity == "proportion" and t.role == "reported" and
               t.partition == "child_pugh" for t in cells)
    assert targets["os_rate12m_tace_crude"].value == pytest.approx(0.56)


def test_the_example_passes_tacebench_check_without_warnings(example, capsys):
    from tacebench.replications.check import check_folder
    from tacebench.cli import main

    report = check_folder(example)
    assert [str(p) for p in report.problems] == []
    simulated = {t.id for t in report.study.targets if t.role != "reported"}
    assert set(report.requests) == simulated          # every simulated target is bound
    assert main(["check", str(example)]) == 0
    assert "OK (0 error(s), 0 warning(s)" in capsys.readouterr().out


def test_the_example_is_consistent_by_the_audit(example):
    from tacebench.replications.audit import audit_study

    findings = [f for f in audit_study(example).findings if f.severity != "info"]
    assert [f.message for f in findings] == []


def test_example_ids_follow_the_convention(example):
    from tacebench.replications.targets import expected_id, load_targets

    wrong = [(t.id, expected_id(t)) for t in load_targets(example)
             if not (t.id == expected_id(t) or t.id.startswith(expected_id(t) + "_"))]
    assert wrong == []


def test_every_source_is_a_verbatim_quote_of_the_example_paper(example):
    for name in ("targets.toml", "cohort.toml"):
        assert list(sources(tomllib.loads((example / name).read_text(encoding="utf-8"))))
    missing = [str(p) for p in quote_problems(example, example / "paper.txt")]
    assert missing == [], f"quotes not in the example paper: {missing}"


@pytest.mark.parametrize("file, old, new, kind", [
    ("targets.toml", 'analysis = "landmark_3m"', 'analysis = "landmark_6m"', "missing-analysis"),
    ("targets.toml", "value = 0.70,", "value = 0.71,", "number-not-in-source"),
    ("targets.toml", "percent = [33.3, 47.6]", "percent = [33.3, 47.7]", "number-not-in-source"),
    # a calibration number changed in cohort.toml: its derived target no longer matches the quote
    ("cohort.toml", "value = 19.0,", "value = 19.5,", "number-not-in-source"),
])
def test_a_broken_copy_of_the_example_fails_the_check(example, tmp_path, file, old, new, kind):
    """The check above can fail: a dangling analysis, a number not in its quote."""
    from tacebench.replications.check import check_folder

    for path in example.iterdir():
        (tmp_path / path.name).write_text(path.read_text("utf-8"), encoding="utf-8")
    t = (tmp_path / file).read_text("utf-8")
    assert old in t
    (tmp_path / file).write_text(t.replace(old, new, 1), encoding="utf-8")
    assert kind in {p.kind for p in check_folder(tmp_path).errors}


def test_the_pages_results_error_is_the_loaders(page, example, tmp_path):
    """The error the [[results]] section quotes is, word for word, the loader's."""
    from tacebench.replications.analysis.problems import StudyError
    from tacebench.replications.targets import load_targets

    quoted = re.search(r"`(results\[\d+\]\.rows\[[^`]*)`", page).group(1)
    for path in example.iterdir():
        (tmp_path / path.name).write_text(path.read_text("utf-8"), encoding="utf-8")
    t = (tmp_path / "targets.toml").read_text("utf-8")
    (tmp_path / "targets.toml").write_text(t.replace("percent = [33.3, 47.6]",
                                                     "percent = [33.3, 147.6]"), encoding="utf-8")
    with pytest.raises(StudyError) as err:
        load_targets(tmp_path)
    assert [str(p).split(": ", 1)[1] for p in err.value.problems] == [quoted]


@pytest.mark.slow
def test_the_example_replicates_end_to_end(example):
    """40 replicates (about 5 s): every simulated target gets a verdict."""
    from tacebench.replications.reproduce import reproduce
    from tacebench.replications.check import load_study

    result = reproduce(load_study(example), reps=40, seed=1, decompose_reps=0)
    verdicts = {t.id: t.verdict for t in result.targets}
    assert len(verdicts) == 29
    assert "not estimable" not in verdicts.values()


# ------------------------------------------------------------------ design.md signatures

def _render(obj, name: str) -> str:
    sig = inspect.signature(obj)
    params = [p.replace(annotation=inspect.Parameter.empty) for p in sig.parameters.values()]
    text = name + str(sig.replace(parameters=params, return_annotation=inspect.Signature.empty))
    ret = sig.return_annotation
    if ret is not inspect.Signature.empty:
        text += " -> " + (ret if isinstance(ret, str) else getattr(ret, "__name__", str(ret)))
    return text


def _resolve(module: str, dotted: str):
    parts = dotted.split(".")
    for i in range(len(parts) - 1, -1, -1):
        try:
            obj = importlib.import_module(".".join(["tacebench", module, *parts[:i]]))
        except ImportError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise AssertionError(f"{module}.{dotted} not found")


def signature_entries(body: str) -> list[str]:
    """Entries of a signature block: a line at column 0 plus its indented continuations."""
    entries: list[str] = []
    for line in body.splitlines():
        code = line.split("#", 1)[0].rstrip()
        if not code.strip():
            continue
        if line[0].isspace() and entries:
            entries[-1] += " " + code.strip()
        else:
            entries.append(code)
    return entries


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_design_signatures_are_the_code_signatures():
    blocks = marked_blocks(DESIGN.read_text(encoding="utf-8"), "signatures")
    assert len(blocks) >= 8
    wrong = []
    for module, _, body in blocks:
        for entry in signature_entries(body):
            name = entry.split("(", 1)[0]
            actual = _render(_resolve(module, name), name)
            if _squash(entry) != _squash(actual):
                wrong.append((f"{module}.{name}", entry, actual))
    assert wrong == [], "docs/design.md is out of date:\n" + "\n".join(
        f"{n}\n  doc:  {d}\n  code: {c}" for n, d, c in wrong)


@pytest.mark.parametrize("module", ["estimators", "simulate", "benchmarks",
                                    "replications.targets", "replications.audit"])
def test_design_lists_every_exported_function(module):
    text = DESIGN.read_text(encoding="utf-8")
    listed = {name.split("(", 1)[0].rsplit(".", 1)[-1]
              for mod, _, body in marked_blocks(text, "signatures")
              for name in signature_entries(body)}
    mod = importlib.import_module(f"tacebench.{module}")
    missing = [n for n in mod.__all__ if inspect.isfunction(getattr(mod, n))
               and n not in listed and not n.isupper()]
    assert missing == [], f"docs/design.md does not list {module}.{missing}"
    classes = [n for n in mod.__all__ if inspect.isclass(getattr(mod, n))]
    unnamed = [n for n in classes if f"`{n}`" not in text]
    assert unnamed == [], f"docs/design.md does not name {module}.{unnamed}"
