"""The distribution installs one import package, ``tacebench``, laid out as pyproject says."""
from __future__ import annotations

import os
import subprocess
import sys
import tomllib

import pytest

from .import_graph import NOT_INSTALLED, PACKAGE_DIRS, ROOT


def _setuptools() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_package_dir_maps_the_folders_into_tacebench():
    assert _setuptools()["package-dir"] == {v: k for k, v in PACKAGE_DIRS.items()}


def test_every_source_package_is_listed_and_nothing_else():
    """A new subpackage must be added to pyproject.toml, or it would not be installed."""
    found = set()
    for folder, prefix in PACKAGE_DIRS.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT).as_posix()
            if any(rel == p or rel.startswith(p + "/") for p in NOT_INSTALLED):
                continue
            parts = init.parent.relative_to(ROOT / folder).parts
            found.add(".".join([prefix, *parts]))
    assert sorted(_setuptools()["packages"]) == sorted(found)


def test_console_script_is_the_front_door():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"tacebench": "tacebench.cli:main"}


def test_bare_folder_names_do_not_import_outside_a_checkout(tmp_path):
    """Installed, ``import tacebench`` works and ``import simulate`` does not (run from a
    folder that is not the checkout, where the current directory would shadow)."""
    code = ("import importlib.util, tacebench, tacebench.simulate, tacebench.estimators;"
            "print([n for n in ('simulate','estimators','replications','benchmarks')"
            " if importlib.util.find_spec(n) is not None])")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == "[]"


def test_importing_a_core_package_does_not_load_the_replication_machinery(tmp_path):
    code = ("import sys, tacebench.estimators, tacebench.simulate;"
            "print(sorted({m.split('.')[1] for m in sys.modules if m.startswith('tacebench.')}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == "['estimators', 'records', 'simulate']"   # records: the leaf both import


@pytest.mark.slow
def test_a_regular_install_holds_one_package_with_its_data(tmp_path):
    """A non-editable install (a wheel built from the committed files, into its own
    folder) puts only ``tacebench`` at top level, with the shipped studies, templates and
    benchmark studies, and without the speed suite; from there a study checks and
    replicates. Builds in an isolated environment, so it needs the package index."""
    src, target = tmp_path / "src", tmp_path / "site"
    src.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", "HEAD"],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(src)], input=archive, check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target",
                    str(target), str(src)], check=True, capture_output=True)
    assert sorted(p.name for p in target.iterdir() if not p.name.endswith(".dist-info")
                  and p.name != "bin") == ["tacebench"]
    pkg = target / "tacebench"
    assert not (pkg / "benchmarks" / "speed").exists()
    for data in ("studies/tace_regorafenib/table1.tsv", "replications/templates/cohort.toml",
                 "benchmarks/studies/default.toml", "benchmarks/lessons/worlds.toml"):
        assert (pkg / data).is_file(), data
    env = {**os.environ, "PYTHONPATH": str(target)}
    code = ("import sys, tacebench; from tacebench.cli import main;"
            f"assert tacebench.__file__.startswith({str(target)!r}), tacebench.__file__;"
            "sys.exit(main(['replicate', 'tace_regorafenib', '--reps', '10', '--worlds', "
            "'none', '--quiet', '--format', 'json']))")
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    assert '"study"' in run.stdout or '"studies"' in run.stdout
