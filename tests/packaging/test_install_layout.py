"""The distribution installs one import package, ``tacebench``, laid out as pyproject says."""
from __future__ import annotations

import subprocess
import sys
import tomllib

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
    assert out == "['estimators', 'simulate']"
