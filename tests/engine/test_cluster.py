"""Cluster configs: a SLURM/PBS cluster object built from TOML (its job script checked, no
batch system needed), a stand-in cluster class run end to end, bad files named."""
from __future__ import annotations

import pytest

from tacebench.engine.cluster import (ClusterConfig, build_cluster, cluster_config,
                                      load_cluster_config, open_cluster)

SLURM = """
[cluster]
kind = "slurm"
jobs = 3

[cluster.options]
cores = 8
processes = 4
memory = "16GB"
walltime = "12:00:00"
queue = "normal"
job_extra_directives = ["--account=myproject"]
"""


@pytest.mark.parametrize("kind, directive", [("slurm", "#SBATCH"), ("pbs", "#PBS")])
def test_a_batch_queue_cluster_is_built_from_toml(tmp_path, kind, directive):
    pytest.importorskip("dask_jobqueue")
    path = tmp_path / "cluster.toml"
    text = SLURM.replace('"slurm"', f'"{kind}"')
    if kind == "pbs":
        text = text.replace('job_extra_directives = ["--account=myproject"]',
                            'account = "myproject"')
    path.write_text(text)
    config = load_cluster_config(path)
    assert config == ClusterConfig(kind, 3, config.options, str(path))
    cluster = build_cluster(config)
    try:
        script = cluster.job_script()
        assert directive in script and "myproject" in script and "12:00:00" in script
        assert "--nworkers 4" in script and "--nthreads 2" in script
        assert cluster.scheduler_address.startswith("tcp://")
    finally:
        cluster.close()


class FakeQueue:
    """Stands in for a dask-jobqueue class: records its options, the jobs asked for and
    whether it was closed."""

    made: list = []

    def __init__(self, **options):
        self.options, self.jobs, self.closed = options, None, False
        self.scheduler_address = f"tcp://fake:{8786 + len(FakeQueue.made)}"
        FakeQueue.made.append(self)

    def scale(self, jobs):
        self.jobs = jobs

    def close(self):
        self.closed = True


def test_open_cluster_submits_the_jobs_yields_the_scheduler_and_closes():
    config = cluster_config({"cluster": {"kind": "slurm", "jobs": 2,
                                         "options": {"cores": 1, "memory": "1GB"}}})
    with pytest.raises(KeyError):
        with open_cluster(config, cluster_class=FakeQueue) as address:
            fake = FakeQueue.made[-1]
            assert address == fake.scheduler_address and fake.jobs == 2
            assert fake.options == {"cores": 1, "memory": "1GB"} and not fake.closed
            raise KeyError("the run failed")
    assert fake.closed   # closed (its jobs cancelled) even when the run raised


@pytest.mark.parametrize("raw, match", [
    ({}, r"needs a \[cluster\] table"),
    ({"cluster": {"kind": "kubernetes"}}, "cluster.kind must be one of .*'kubernetes'"),
    ({"cluster": {"kind": "slurm", "jobs": 0}}, "cluster.jobs must be a positive integer; got 0"),
    ({"cluster": {"kind": "slurm", "jobs": True}}, "cluster.jobs must be"),
    ({"cluster": {"kind": "slurm", "options": 3}}, "cluster.options must be a table; got 3"),
    ({"cluster": {"kind": "slurm", "nodes": 3}}, r"\[cluster\] has unknown key\(s\) \['nodes'\]")])
def test_bad_configs_name_file_key_and_value(raw, match):
    with pytest.raises(ValueError, match=f"^my.toml: {match}"):
        cluster_config(raw, "my.toml")


def test_unreadable_file_and_rejected_option_are_named(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[cluster\nkind = 1")
    with pytest.raises(ValueError, match="cannot read cluster config .*bad.toml"):
        load_cluster_config(bad)

    def strict(*, cores):
        return None
    config = cluster_config({"cluster": {"kind": "pbs", "options": {"corez": 2}}}, "c.toml")
    with pytest.raises(ValueError, match="c.toml: cluster.options rejected by strict: .*corez"):
        build_cluster(config, strict)
