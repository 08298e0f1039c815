"""Every quoted `source` in every shipped targets.toml and cohort.toml is in its seed text.

The comparison normalises runs of whitespace only (tabs between table cells and the line
breaks the seed texts put inside sentences become one space); nothing else is forgiven.
``[study].source`` of cohort.toml is a citation ("seed 000 (Yuan et al.)"), not a quote,
and is skipped. Skips where the seed texts are absent (``seeds_dir`` fixture).
"""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

STUDIES = Path(__file__).resolve().parents[2] / "replications" / "studies"
FOLDERS = sorted(p for p in STUDIES.iterdir() if (p / "targets.toml").is_file())


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _sources(node, path=""):
    """(key path, quote) for every string under a key named ``source``."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}.{key}" if path else key
            if key == "source" and isinstance(value, str):
                yield here, value
            else:
                yield from _sources(value, here)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _sources(value, f"{path}[{i}]")


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
    seed = _norm((seeds_dir / seed_file).read_text("utf-8"))
    quotes = [(k, q) for k, q in _sources(tomllib.loads(path.read_text("utf-8")))
              if k != "study.source"]
    assert quotes, f"{path} quotes nothing"
    missing = [(k, q) for k, q in quotes if _norm(q) not in seed]
    assert missing == [], f"{path}: {len(missing)} quotes not in {seed_file}: {missing[:3]}"
