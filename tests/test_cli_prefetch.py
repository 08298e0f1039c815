"""tacebench.cli.prefetch and the replicate command's studies set up one ahead."""
from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pytest

from tacebench.cli import main
from tacebench.cli.prefetch import StudyPrefetch

FICTIONAL = Path(__file__).parent / "replications" / "fictional_study"
FAST = ["--reps", "12", "--seed", "3", "--decompose-reps", "4", "--worlds", "none",
        "--max-reps", "12", "--format", "json", "--quiet"]


@pytest.mark.parametrize("ahead", [False, True])
def test_studies_come_in_order_with_their_errors(monkeypatch, ahead):
    from tacebench.cli import prefetch
    monkeypatch.setattr(prefetch, "load_study", lambda ref: ref if ref != "bad" else
                        (_ for _ in ()).throw(ValueError("no such study: bad")))
    threads, started = set(), []

    def setup(study):
        threads.add(threading.current_thread().name)
        started.append(study)
        if study == "boom":
            raise KeyError("boom")
        return f"set up {study}"

    studies = StudyPrefetch(["a", "bad", "b", "boom"], setup, ahead)
    try:
        assert studies.study(0) == "a"
        assert studies.setup(0, "a") == "set up a"
        with pytest.raises(ValueError, match="no such study: bad"):
            studies.study(1)
        assert studies.study(2) == "b" and studies.setup(2, "b") == "set up b"
        assert studies.study(3) == "boom"
        with pytest.raises(KeyError, match="boom"):
            studies.setup(3, "boom")
    finally:
        studies.close()
    assert started == ["a", "b", "boom"]          # each set up once, in order
    assert any(t.startswith("tacebench-setup") for t in threads) == ahead


def test_replicate_with_workers_and_set_up_ahead_prints_the_same(tmp_path, capsys):
    bad = tmp_path / "bad"
    shutil.copytree(FICTIONAL, bad)
    p = bad / "analysis.toml"
    p.write_text(p.read_text().replace('method = "psm"', 'method = "pms"'))
    studies = [str(FICTIONAL), str(bad), str(FICTIONAL)]
    outs = []
    for jobs in ("1", "2"):
        assert main(["replicate", *studies, *FAST, "--n-jobs", jobs]) == 2
        data = json.loads(capsys.readouterr().out)
        for d in data:
            d.pop("elapsed_seconds", None)
        outs.append(data)
    assert outs[0] == outs[1]
    assert [bool(d.get("error")) for d in outs[1]] == [False, True, False]
