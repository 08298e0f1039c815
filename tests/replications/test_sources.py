"""Every quoted `source` in every shipped targets.toml and cohort.toml is in its seed text.

The comparison normalises runs of whitespace only (tabs between table cells and the line
breaks the seed texts put inside sentences become one space); nothing else is forgiven.
``[study].source`` of cohort.toml is a citation ("seed 000 (Yuan et al.)"), not a quote,
and is skipped. Skips where the seed texts are absent (``seeds_dir`` fixture).

Quotes sit on variables, effects and, since the format allows it, on the calibration
entries (``outcomes.<endpoint>.calibrate[i]``, ``censoring.events``, ``response``,
``time_varying`` and its ``start`` / ``duration`` / ``inclusion``): every shipped calibration entry must
carry one, so the numbers the generator is solved to are traceable like the targets.
"""
from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

from tacebench.replications.quotes import QUOTED_FILES, quote_problems, sources, typography_found

STUDIES = Path(__file__).resolve().parents[2] / "tacebench" / "studies"
FOLDERS = sorted(p for p in STUDIES.iterdir() if (p / "targets.toml").is_file())


def test_the_five_seed_studies_ship_targets():
    assert {p.name for p in FOLDERS} >= {"tace_sorafenib_ehs", "tace_regorafenib",
                                        "tace_sorafenib_matched", "tace_mtt_pd1_lung",
                                        "len_sora_pd1_ehm"}


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
@pytest.mark.parametrize("file", ["targets.toml", "cohort.toml"])
def test_every_source_is_a_verbatim_quote_of_the_seed(seeds_dir, folder, file):
    path = folder / file
    if not path.is_file():
        pytest.skip(f"{path} not written yet")
    seed_file = tomllib.loads((folder / "targets.toml").read_text("utf-8"))["study"]["seed_file"]
    quotes = list(sources(tomllib.loads(path.read_text("utf-8"))))
    assert quotes, f"{path} quotes nothing"
    missing = [(p.key, p.value) for p in quote_problems(folder, seeds_dir / seed_file)
               if Path(p.file).name == file]
    assert missing == [], f"{path}: {len(missing)} quotes not in {seed_file}: {missing[:3]}"


def _calibration_entries(cohort_toml: dict):
    """(key path, entry) of every calibration entry of every cohort."""
    for cname, co in cohort_toml.get("cohorts", {}).items():
        for ep, e in co.get("outcomes", {}).items():
            for i, cal in enumerate(e.get("calibrate", [])):
                yield f"cohorts.{cname}.outcomes.{ep}.calibrate[{i}]", cal
        events = co.get("censoring", {}).get("events")
        if events is not None:
            yield f"cohorts.{cname}.censoring.events", events
        for key in ("response", "time_varying"):
            if key in co:
                yield f"cohorts.{cname}.{key}", co[key]
        inclusion = co.get("time_varying", {}).get("inclusion")
        if inclusion is not None:
            yield f"cohorts.{cname}.time_varying.inclusion", inclusion


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_every_calibration_entry_quotes_its_source(folder):
    path = folder / "cohort.toml"
    if not path.is_file():
        pytest.skip(f"{path} not written yet")
    raw = tomllib.loads(path.read_text("utf-8"))
    entries = list(_calibration_entries(raw))
    assert entries, f"{path} has no calibration entry"
    unquoted = [k for k, e in entries if not (isinstance(e.get("source"), str) and e["source"].strip())]
    assert unquoted == [], f"{path}: calibration entries without a source: {unquoted}"
    quoted = {k for k, _ in sources(raw)}
    assert all(f"{k}.source" in quoted for k, _ in entries)  # the verbatim check above reads them


def test_a_paper_text_saved_by_a_desktop_program_reads_or_names_its_byte(tmp_path):
    """A byte-order mark and CRLF read as the plain text; a code-page byte was reported as
    the codec's 'can't decode byte 0xb1 in position 97'."""
    fictional = Path(__file__).with_name("fictional_study")
    text = "Median OS 14.0 months \u00b1 2\n"
    (tmp_path / "bom.txt").write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    (tmp_path / "plain.txt").write_text(text, encoding="utf-8")
    (tmp_path / "cp.txt").write_bytes(text.encode("cp1252"))
    def found(paper):      # the quotes found in the paper (those not reported missing)
        return {p.key for p in quote_problems(fictional, paper)}
    assert found(tmp_path / "bom.txt") == found(tmp_path / "plain.txt")
    (problem,) = quote_problems(fictional, tmp_path / "cp.txt")
    assert problem.message.endswith("cp.txt: line 1, column 23: byte 0xB1 is not UTF-8 (in "
                                    "Latin-1 that byte is '\u00b1'); save the paper's text as "
                                    "UTF-8"), problem.message


@pytest.mark.parametrize("extract, fold", [
    (lambda t: t.replace("fi", "\ufb01"), "ligatures and compatibility characters"),
    (lambda t: t.replace("-", "\u2013"), "dashes and minus signs"),
    (lambda t: t.replace("'", "\u2019"), "quotation marks"),
    (lambda t: re.sub(r"\b(\w{4})(\w{5,})\b", r"\1-\n\2", t), "words hyphenated at a line end"),
])
def test_a_quote_found_only_once_typography_is_folded_still_fails_and_says_why(
        tmp_path, extract, fold):
    """A paper's text from another PDF extraction ('ﬁ' ligatures, en dashes, curly quotes,
    words broken at line ends) failed every quote it touched with the verbatim message
    alone. It still fails, and the message names the folding that finds the quote."""
    folder = tmp_path / "study"
    folder.mkdir()
    quotes = ["The first-line findings were confirmed in a sub-analysis",
              "the patients' median OS was 14.3 months", "hazard ratio 0.72 (0.55-0.94)"]
    (folder / "targets.toml").write_text(  # (a JSON string is a TOML basic string)
        "".join(f"[[targets]]\nsource = {json.dumps(q)}\n" for q in quotes), encoding="utf-8")
    text = "\n\n".join(quotes)
    (tmp_path / "verbatim.txt").write_text(text, encoding="utf-8")
    assert quote_problems(folder, tmp_path / "verbatim.txt") == []
    paper = tmp_path / "other.txt"
    paper.write_text(extract(text), encoding="utf-8")
    problems = quote_problems(folder, paper)
    assert problems, "the extraction changed no quote: the case tests nothing"
    for p in problems:
        assert p.message.startswith("this quote is not in other.txt (compared verbatim")
        assert f"it is there once {fold} are folded" in p.message, p.message


def test_typography_never_finds_a_quote_that_is_not_there():
    text = "the median OS was 14.3 months (95% CI 10.1\u201318.5)"
    assert typography_found("the median OS was 14.3 months (95% CI 10.1-18.5)", text) == (
        "dashes and minus signs",)
    assert typography_found("the median OS was 14.8 months", text) == ()
    assert typography_found("the median OS was 14.3 months", text) == ()   # (verbatim)


def test_a_quote_of_a_results_row_names_the_row_id(tmp_path):
    """A quote error on a [[results]] row read ``results[0].rows[1].source``, without the
    id that errors carry; a row of several arms names each target's id."""
    folder = tmp_path / "study"
    folder.mkdir()
    (folder / "targets.toml").write_text(
        '[[results]]\nanalysis = "crude"\nendpoint = "os"\nrows = [\n'
        '  { id = "os_hr_crude", quantity = "hr", contrast = ["B", "A"], value = 0.72, '
        'source = "HR 0.72" },\n'
        '  { id = "os_hr_crude_abstract", quantity = "hr", contrast = ["B", "A"], value = 0.72, '
        'source = "not in the paper" },\n'
        '  { quantity = "km_rate", time = 12, arm = ["A", "B"], percent = [56.0, 70.0], '
        'source = "also not in the paper" },\n]\n', encoding="utf-8")
    (tmp_path / "paper.txt").write_text("HR 0.72", encoding="utf-8")
    keys = [p.key for p in quote_problems(folder, tmp_path / "paper.txt")]
    assert keys == ["results[0].rows[1] (os_hr_crude_abstract).source",
                    "results[0].rows[2] (os_rate12m_a_crude, os_rate12m_b_crude).source"]
