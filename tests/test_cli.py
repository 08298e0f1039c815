import subprocess
import sys

from tacebench.cli import main


def test_help_lists_program(capsys):
    assert main([]) == 0
    assert "tacebench" in capsys.readouterr().out


def test_version_flag():
    out = subprocess.run(
        [sys.executable, "-m", "tacebench", "--version"],
        capture_output=True, text=True, check=True,
    )
    assert out.stdout.startswith("tacebench ")


def _subparsers(parser):
    import argparse
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices
    return {}


def _all_parsers():
    from tacebench.cli import build_parser
    stack = [("tacebench", build_parser())]
    while stack:
        name, p = stack.pop()
        yield name, p
        stack.extend((f"{name} {k}", v) for k, v in _subparsers(p).items())


def test_readme_synopsis_names_every_sub_command():
    from pathlib import Path
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    synopsis = readme.split("## Commands", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    missing = [name for name, p in _all_parsers()
               if name != "tacebench" and not _subparsers(p) and name not in synopsis]
    assert missing == []


def test_help_is_plain_text_without_markup():
    bad = [name for name, p in _all_parsers()
           if "``" in p.format_help() or ":func:`" in p.format_help()]
    assert bad == []


def test_each_command_describes_itself_and_no_other():
    """`targets --help` printed check's description (one docstring for both), and the
    study actions had none; every argument says what it takes."""
    import argparse
    import re

    problems = []
    for name, p in _all_parsers():
        if name == "tacebench":
            continue
        if not (p.description or "").strip():
            problems.append(f"{name}: no description")
        heads = set(re.findall(r"^tacebench ([a-z-]+(?: [a-z]+)?):", p.description or "",
                               flags=re.M))
        if heads - {name.split(" ", 1)[1]}:
            problems.append(f"{name}: describes {sorted(heads)}")
        problems += [f"{name}: {a.dest} has no help" for a in p._actions
                     if not a.help and not a.option_strings
                     and not isinstance(a, argparse._SubParsersAction)]
    assert problems == []


def test_shared_options_have_one_meaning_everywhere():
    """--seed, --reps, --n-jobs, --out: one metavar and one type wherever they appear."""
    seen: dict[str, set] = {}
    for name, p in _all_parsers():
        for a in p._actions:
            for opt in a.option_strings:
                if opt in ("--seed", "--n-jobs", "--reps"):
                    seen.setdefault(opt, set()).add((a.metavar, getattr(a.type, "__qualname__", a.type)))
    for opt, kinds in seen.items():
        assert len(kinds) == 1, (opt, kinds)


def test_a_bad_option_value_is_refused_before_the_out_folder_is_written(tmp_path, capsys):
    """The value is named, the status is 2 and no folder is left behind (a later run
    would otherwise find a run to resume that never started)."""
    bad_cluster = tmp_path / "cluster.toml"
    bad_cluster.write_text('kind = "slurm"\n')           # no [cluster] table
    cases = [(["closed-loop", "--kinds", "ph", "nope"], "--kinds: nope"),
             (["study", "run", "default", "--backend", "nope"], "--backend: invalid choice: 'nope'"),
             (["study", "run", "default", "--cluster", str(bad_cluster)],
              "cluster.toml: needs a [cluster] table")]
    for k, (argv, message) in enumerate(cases):
        out = tmp_path / f"out{k}"
        try:
            status = main([*argv, "--out", str(out)])
        except SystemExit as exc:  # argparse's own refusal
            status = exc.code
        assert status == 2, argv
        assert message in capsys.readouterr().err, argv
        assert not out.exists(), argv
