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
