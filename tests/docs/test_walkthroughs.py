"""The teaching walkthroughs (docs/teach/*.md) run as tests, so that they never rot.

Every ```python block of a page runs, in order, in one namespace per page, in a temporary
folder, with ``TACEBENCH_FAST=1`` (fewer simulated cohorts); the blocks assert the lesson's
claims on the numbers they computed. The figures the pages link must exist and open as PNG,
the generated numbers blocks must be present and report every claim as holding, and (slow)
a full rerun must reproduce them.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

TEACH = Path(__file__).resolve().parents[2] / "docs" / "teach"
WALKTHROUGHS = ("crude-vs-adjusted", "matching-discards", "wrong-matching-variables",
                "immortal-time")
FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.S | re.M)
FIGURE = re.compile(r"!\[[^\]]*\]\((figures/[^)\s]+\.png)\)")


def python_blocks(text: str) -> list[str]:
    return [m.group(1) for m in FENCE.finditer(text)]


def pages() -> list[Path]:
    return sorted(TEACH.glob("*.md"))


def test_every_lesson_has_a_walkthrough_and_the_index_links_them():
    from tacebench.benchmarks.lessons import LESSONS

    assert set(WALKTHROUGHS) == set(LESSONS)
    index = (TEACH / "index.md").read_text(encoding="utf-8")
    for name in WALKTHROUGHS:
        assert (TEACH / f"{name}.md").is_file()
        assert f"({name}.md)" in index and f"({name}-report.md)" in index


def test_block_extraction_finds_fenced_python_only():
    text = "intro\n```python\na = 1\n```\n```\nshell\n```\n```python\nb = a + 1\n```\n"
    assert python_blocks(text) == ["a = 1\n", "b = a + 1\n"]


@pytest.mark.parametrize("name", WALKTHROUGHS)
def test_walkthrough_code_runs_and_its_claims_hold(name, tmp_path, monkeypatch):
    """Run every code block of the page (fast setting) and check the files it writes."""
    text = (TEACH / f"{name}.md").read_text(encoding="utf-8")
    blocks = python_blocks(text)
    assert len(blocks) >= 3, f"{name}.md should walk through its lesson in several blocks"
    monkeypatch.setenv("TACEBENCH_FAST", "1")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": f"walkthrough_{name.replace('-', '_')}"}
    for i, block in enumerate(blocks):
        try:
            exec(compile(block, f"{name}.md[block {i + 1}]", "exec"), namespace)
        except AssertionError as exc:
            raise AssertionError(f"{name}.md block {i + 1} failed: {exc}\n{block}") from exc
    res = namespace["res"]
    assert res.lesson == name and not res.contradicted
    # the run wrote the report and every figure the page links
    written = {p.name for p in (tmp_path / "teach-out" / "figures").glob("*.png")}
    linked = {Path(f).name for f in FIGURE.findall(text)}
    assert linked and linked <= written, f"linked but not produced: {linked - written}"
    assert (tmp_path / "teach-out" / f"{name}-report.md").is_file()


@pytest.mark.parametrize("page", [p.name for p in pages()])
def test_linked_figures_exist_and_open_as_png(page):
    from matplotlib.image import imread

    text = (TEACH / page).read_text(encoding="utf-8")
    for rel in FIGURE.findall(text):
        path = TEACH / rel
        assert path.is_file(), f"{page} links {rel}, which is not committed"
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{rel} is not a PNG"
        img = imread(path)
        assert img.ndim == 3 and min(img.shape[:2]) >= 300 and np.ptp(img) > 0, rel


@pytest.mark.parametrize("name", WALKTHROUGHS)
def test_committed_numbers_block_is_complete(name):
    from tacebench.benchmarks.lessons.report import generated_block

    block = generated_block(TEACH / f"{name}.md")
    assert block, f"{name}.md has an empty generated block: run `tacebench teach all --out docs/teach --update-docs`"
    claims = re.findall(r"^\d+\. (\S+)", block, re.M)
    assert claims and all(c == "✓" for c in claims), f"{name}.md: not every committed claim holds"
    assert f"tacebench teach {name} --seed " in block


NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")


def same_numbers(committed: str, fresh: str) -> list[str]:
    """Differences between two generated blocks beyond rounding: the text must agree once
    numbers are masked, and each number within 0.01 or 2% (last-digit drift from upstream
    numerical changes is not staleness; a changed model or claim is)."""
    problems = []
    if NUMBER.sub("#", committed) != NUMBER.sub("#", fresh):
        problems.append("the text differs beyond its numbers")
    a = [float(x) for x in NUMBER.findall(committed)]
    b = [float(x) for x in NUMBER.findall(fresh)]
    if len(a) != len(b):
        return problems + [f"{len(a)} numbers committed, {len(b)} computed"]
    problems += [f"{x} vs {y}" for x, y in zip(a, b) if abs(x - y) > max(0.01, 0.02 * abs(x))]
    return problems


def test_same_numbers_tolerates_rounding_only():
    assert same_numbers("HR 0.786 (96%) ✓", "HR 0.787 (96%) ✓") == []
    assert same_numbers("HR 0.786 ✓", "HR 0.900 ✓")
    assert same_numbers("HR 0.786 ✓", "HR 0.786 ?")


@pytest.mark.slow
@pytest.mark.parametrize("name", WALKTHROUGHS)
def test_full_run_reproduces_the_committed_numbers(name, tmp_path):
    """The committed block is what the documented command produces (full run, default seed)."""
    from tacebench.benchmarks.lessons import DEFAULT_SEED, lesson_module
    from tacebench.benchmarks.lessons.report import generated_block

    mod = lesson_module(name)
    res = mod.run_lesson(DEFAULT_SEED, tmp_path)
    assert res.all_hold, [c.describe() for c in res.claims if not c.holds]
    problems = same_numbers(generated_block(TEACH / f"{name}.md"), mod.summary(res))
    assert not problems, (f"docs/teach/{name}.md is stale; run `tacebench teach all --out "
                          f"docs/teach --update-docs`: {problems[:5]}")
