"""What a run folder holds, checked before a session does any work.

A session continues a run only when the folder says, in files that can be read, which
study, seed, format and code computed what is on disk: ``manifest.json`` whole and of the
right shape, the study's fingerprint and seed the same, the code the same - tacebench's
sources (:func:`tacebench.engine.code_version`) and the source file of every module of the
user's own that the study names (``generator = "module:function"``, ``family =
"module:function"``, :func:`user_code`). Results on disk with no manifest, or with one that
cannot be read, are never continued either. ``force`` moves such results to
``OUT/superseded/<version>/`` and the study starts again, so two computations are never
mixed. The derived files are checked too: a ``truth.csv`` that cannot be read or lacks a
true value is set aside and computed again (true values depend on the study only), a
damaged ``sessions.json`` (the run's accounting) is set aside and a new record started,
and a missing ``study.json`` is written again from the study, whose fingerprint matched.

Messages name the file and what is wrong with it. :class:`RunRefused` words the way on
twice: as Python arguments (``force=True``) and as command-line options (``--force``).
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
from pathlib import Path

import pandas as pd

from .sessions import NAME as SESSIONS, read_sessions
from .store import RunDirectory
from .study import GENERATORS, Study

__all__ = ["RunNotice", "RunRefused", "braced", "check_run", "read_manifest", "read_truths",
           "repair", "set_aside", "supersede", "user_code", "user_modules"]

#: How a refusal names the arguments that go on: (Python API, command line).
WORDS = {"resume": ("resume=True", "--resume"), "force": ("force=True", "--force"),
         "out": ("out", "--out"), "fmt": ("fmt", "--format"), "reps": ("reps", "--reps"),
         "reps_is": ("reps=", "--reps ")}

#: Files of a run, moved together when it is superseded.
RUN_FILES = ("chunks", "damaged", "sessions.json", "plans", "truth.csv", "manifest.json",
             "study.json", "results.parquet", "results.csv", "performance.csv", "summary.md",
             "summary.html", "figures")
#: Of those, the ones that hold results (a folder holding any is a run, manifest or not).
RESULT_FILES = ("chunks", "damaged", "truth.csv", "sessions.json", "results.parquet",
                "results.csv", "performance.csv", "summary.md")
#: manifest.json's keys and their types.
MANIFEST_KEYS = {"study": str, "fingerprint": str, "seed": int, "format": str}


class RunNotice(RuntimeWarning):
    """What a run did on its own that its user should know: a damaged file set aside and
    computed again, a lost worker retried. A command shows each as one line."""


class RunRefused(ValueError):
    """A run the folder's state does not allow. ``str()`` words the way on in the Python
    API's arguments, :attr:`cli` in the command line's options."""

    def __init__(self, template: str):
        self.template = template
        super().__init__(template.format(**{k: api for k, (api, _) in WORDS.items()}))

    @property
    def cli(self) -> str:
        return self.template.format(**{k: opt for k, (_, opt) in WORDS.items()})


def braced(text: str) -> str:
    """``text`` (a path, a value) safe inside a :class:`RunRefused` template."""
    return str(text).replace("{", "{{").replace("}", "}}")


def user_modules(study: Study) -> list[str]:
    """The modules of the user's own that the study names: every ``module:function``
    generator and method family outside tacebench, sorted."""
    names = [GENERATORS.get(s.generator, s.generator) for s in study.scenarios]
    names += [m.family for m in study.methods]
    mods = {n.partition(":")[0] for n in names if ":" in n}
    return sorted(m for m in mods if m != "tacebench" and not m.startswith("tacebench."))


def user_code(study: Study) -> dict[str, str]:
    """``{module: SHA-256 (16 hex digits) of its source file}`` for :func:`user_modules`
    (a module whose file cannot be found is left out: the run fails importing it)."""
    out = {}
    for mod in user_modules(study):
        try:
            spec = importlib.util.find_spec(mod)
        except (ImportError, ValueError):
            continue
        if spec is None or not spec.origin or not os.path.isfile(spec.origin):
            continue
        out[mod] = hashlib.sha256(Path(spec.origin).read_bytes()).hexdigest()[:16]
    return out


def read_manifest(run: RunDirectory) -> dict | None:
    """``manifest.json`` (None if there is none), checked.

    Raises
    ------
    RunRefused
        It cannot be parsed or is not an object with the keys and types a run writes;
        the file and the problem are named.
    """
    path = run.manifest_path
    if not path.exists():
        return None
    where = f"{braced(path)} is damaged"
    try:
        manifest = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunRefused(f"{where}: {braced(exc)}") from None
    if not isinstance(manifest, dict):
        raise RunRefused(f"{where}: it holds a {type(manifest).__name__}, not an object "
                         f"with {', '.join(MANIFEST_KEYS)}")
    for key, kind in MANIFEST_KEYS.items():
        value = manifest.get(key)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise RunRefused(f"{where}: its {key!r} is {braced(repr(value))}, not a "
                             f"{kind.__name__}")
    if manifest["format"] not in ("parquet", "csv"):
        raise RunRefused(f"{where}: its 'format' is {braced(repr(manifest['format']))}, "
                         "not 'parquet' or 'csv'")
    return manifest


def set_aside(run: RunDirectory, name: str) -> Path:
    """Move ``OUT/name`` to ``OUT/damaged/`` (a free name there); returns where it went."""
    dest = run.path / "damaged" / name
    dest.parent.mkdir(exist_ok=True)
    n = 1
    while dest.exists():
        dest = dest.with_name(f"{name}.{n}")
        n += 1
    os.replace(run.path / name, dest)
    return dest


def supersede(run: RunDirectory, version: str) -> Path:
    """Move a run's files aside (``OUT/superseded/<version>/``); returns the folder."""
    dest = run.path / "superseded" / version.replace("/", "_")
    n = 1
    while dest.exists():
        dest = dest.with_name(f"{dest.name}.{n}")
        n += 1
    dest.mkdir(parents=True)
    for name in RUN_FILES:
        if (run.path / name).exists():
            shutil.move(str(run.path / name), str(dest / name))
    return dest


def _result_files(run: RunDirectory) -> list[str]:
    found = []
    for name in RESULT_FILES:
        p = run.path / name
        if p.is_dir() and any(p.iterdir()) or p.is_file():
            found.append(name)
    return found


def _changed_code(manifest: dict, study: Study, version: str) -> str:
    """How the code that computed the run differs from this session's ('' if it does not)."""
    theirs = manifest.get("code_version", "unrecorded")
    if theirs != version:
        return (f"its results were computed by tacebench {braced(theirs)}, this is "
                f"{braced(version)}")
    recorded, mine = manifest.get("user_code", {}), user_code(study)
    if not isinstance(recorded, dict):
        recorded = {}
    changed = [m for m in sorted(set(recorded) | set(mine)) if recorded.get(m) != mine.get(m)]
    if changed:
        files = ", ".join(f"{m} ({braced(importlib.util.find_spec(m).origin)})"
                          if m in mine else m for m in changed)
        return (f"the source of the study's own module {files} changed since its results "
                "were computed")
    return ""


def check_run(run: RunDirectory, study: Study, *, version: str, resume: bool, force: bool,
              fmt: str | None) -> dict | None:
    """The manifest of the run to continue in ``run`` (None: start a new run there), after
    every check of the module docstring; a run that cannot be continued is moved aside
    with ``force``, else refused.

    Raises
    ------
    RunRefused
        The folder holds results that this session may not continue; the message names
        the file or the difference and how to go on.
    """
    out = braced(run.path)
    how = (f"Pass {{force}} to move them to {out}/superseded/ and start again, or choose "
           "another directory")
    try:
        manifest = read_manifest(run)
    except RunRefused as exc:
        if not force:
            raise RunRefused(f"cannot continue {out}: {exc.template}; nothing says which "
                             f"study, seed or code computed its results. {how}") from None
        supersede(run, "unrecorded")
        return None
    if manifest is None:
        found = _result_files(run)
        if found and not force:
            raise RunRefused(
                f"{out} holds run files ({', '.join(found)}) but no manifest.json, so nothing "
                "says which study, seed or code computed them; they are never continued. "
                + how)
        if found:
            supersede(run, "unrecorded")
        return None
    if not resume:
        raise RunRefused(f"{{out}} {out} already holds a run; pass {{resume}} to continue it "
                         "or choose another directory")
    if fmt is not None and fmt != manifest["format"]:  # (was ignored without a word)
        raise RunRefused(f"cannot resume {out} with {{fmt}} {fmt!r}: its chunks are "
                         f"{manifest['format']}; resume without a format or with "
                         f"{manifest['format']!r}")
    if manifest["fingerprint"] != study.fingerprint:
        raise RunRefused(f"cannot resume {out}: the study changed since the run began (the "
                         f"run's study {manifest['study']!r} has fingerprint "
                         f"{manifest['fingerprint']}, this one {study.fingerprint}); run it "
                         "into another directory")
    if manifest["seed"] != study.seed:
        raise RunRefused(f"cannot resume {out}: its seed is {manifest['seed']!r} but the "
                         f"study's is {study.seed!r}")
    if changed := _changed_code(manifest, study, version):
        if not force:
            raise RunRefused(f"cannot resume {out}: {changed}; results of two versions of "
                             f"the code are never mixed. {how}")
        supersede(run, manifest.get("code_version", "unrecorded"))
        return None
    return manifest


def repair(run: RunDirectory, study: Study) -> list[str]:
    """Make good the derived files of a run about to be continued, before any work:
    temporaries of a killed write deleted; damaged chunks, a ``truth.csv`` that
    :func:`read_truths` refuses and a ``sessions.json`` that cannot be read moved to
    ``damaged/`` (computed again, or a new record started); a missing or unreadable
    ``study.json`` written again from ``study`` (the manifest's fingerprint matched it).
    Returns what was done, one sentence each."""
    notes = []
    run.remove_temporaries()
    notes += [f"{reason}; moved to damaged/ and computed again"
              for reason in run.set_aside_damaged()]  # never read as data
    if (run.path / "truth.csv").exists():
        try:
            read_truths(run.path / "truth.csv", study)
        except ValueError as exc:
            set_aside(run, "truth.csv")
            notes.append(f"{exc}; moved to damaged/ and computed again")
    if (run.path / SESSIONS).exists():
        try:
            read_sessions(run)
        except ValueError as exc:
            set_aside(run, SESSIONS)
            notes.append(f"{exc}; moved to damaged/: the run's accounting starts again with "
                         "this session")
    try:
        intact = isinstance(run.read_json("study.json"), dict)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        intact = False
    if not intact:
        run.write_json("study.json", study.raw)
        notes.append(f"{run.path / 'study.json'} was missing or damaged; written again "
                     "from the study (its fingerprint is the run's)")
    return notes


def expected_truths(study: Study) -> set[tuple[int, str]]:
    """The (scenario index, estimand) pairs ``truth.csv`` holds a value for."""
    return {(s.index, m.estimand) for s in study.scenarios for m in study.methods
            if m.name in s.methods}


def read_truths(path: Path, study: Study | None = None) -> pd.DataFrame:
    """``truth.csv``, checked: it is whole, parses, has its columns and (given
    ``study``) a row for every scenario and estimand the study's methods target.

    Raises
    ------
    ValueError
        Naming the file and what is wrong.
    """
    try:
        if not path.read_bytes().endswith(b"\n"):  # written whole, it ends with a line's end
            raise ValueError("it ends mid-line (cut short)")
        truths = pd.read_csv(path, keep_default_na=False, dtype={"scenario": str, "estimand": str},
                             float_precision="round_trip")
    except (OSError, ValueError, pd.errors.ParserError) as exc:  # EmptyDataError too
        raise ValueError(f"{path} cannot be read: {type(exc).__name__}: {exc}") from None
    missing = {"scenario_index", "scenario", "estimand", "truth"} - set(truths.columns)
    if missing:
        raise ValueError(f"{path} lacks the column(s) {', '.join(sorted(missing))}")
    index = pd.to_numeric(truths["scenario_index"], errors="coerce")
    if index.isna().any():
        raise ValueError(f"{path}: a row has no scenario index")
    if study is not None:
        have = set(zip(index.astype(int), truths["estimand"]))
        lost = sorted(expected_truths(study) - have)
        if lost:
            raise ValueError(f"{path} lacks the true value of {len(lost)} (scenario, "
                             f"estimand) pair(s), first scenario index {lost[0][0]} "
                             f"{lost[0][1]!r}")
    return truths
