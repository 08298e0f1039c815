"""A Dask cluster from a small TOML file: a batch-queue cluster (SLURM, PBS, ...) through
dask-jobqueue, or a local one; the run connects to its scheduler like to any other.

A file such as::

    [cluster]
    kind = "slurm"        # slurm, pbs, sge, lsf, htcondor, oar, moab (dask-jobqueue) or local
    jobs = 10             # batch jobs submitted, each running `processes` workers
                          # (kind = "local": the number of worker processes)

    [cluster.options]     # keyword arguments of dask_jobqueue.SLURMCluster, as documented there
    cores = 8
    processes = 8
    memory = "16GB"
    walltime = "12:00:00"
    queue = "normal"
    job_extra_directives = ["--account=myproject"]

is read by :func:`load_cluster_config`; :func:`open_cluster` builds the cluster, submits
the jobs and yields the scheduler's address for ``run_design(..., backend="dask",
scheduler=address)``, closing the cluster (and cancelling its jobs) afterwards. Results do
not depend on the cluster: every replicate's seed is named by its place in the design.
"""
from __future__ import annotations

import contextlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

__all__ = ["CLUSTER_KINDS", "ClusterConfig", "build_cluster", "load_cluster_config",
           "open_cluster"]

#: ``kind`` -> class of dask-jobqueue (``local``: distributed.LocalCluster)
CLUSTER_KINDS = {"slurm": "SLURMCluster", "pbs": "PBSCluster", "sge": "SGECluster",
                 "lsf": "LSFCluster", "htcondor": "HTCondorCluster", "oar": "OARCluster",
                 "moab": "MoabCluster", "local": "LocalCluster"}


@dataclass(frozen=True)
class ClusterConfig:
    """A cluster to build: its kind, the class's keyword arguments, the jobs to submit."""

    kind: str
    jobs: int = 1
    options: Mapping[str, Any] = field(default_factory=dict)
    source: str = "<cluster config>"


def cluster_config(raw: Mapping[str, Any], source: str = "<cluster config>") -> ClusterConfig:
    """Validate the ``[cluster]`` table of a config; errors name the file, key and value."""
    table = raw.get("cluster")
    if not isinstance(table, Mapping):
        raise ValueError(f"{source}: needs a [cluster] table; got {table!r}")
    unknown = sorted(set(table) - {"kind", "jobs", "options"})
    if unknown:
        raise ValueError(f"{source}: [cluster] has unknown key(s) {unknown}; "
                         "allowed: kind, jobs, options")
    kind = table.get("kind")
    if kind not in CLUSTER_KINDS:
        raise ValueError(f"{source}: cluster.kind must be one of {sorted(CLUSTER_KINDS)}; "
                         f"got {kind!r}")
    jobs = table.get("jobs", 1)
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"{source}: cluster.jobs must be a positive integer; got {jobs!r}")
    options = table.get("options", {})
    if not isinstance(options, Mapping):
        raise ValueError(f"{source}: cluster.options must be a table; got {options!r}")
    return ClusterConfig(kind, jobs, dict(options), source)


def load_cluster_config(path: str | Path) -> ClusterConfig:
    """Read a cluster TOML file (see the module docstring)."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"cannot read cluster config {path}: {exc}") from exc
    return cluster_config(raw, str(path))


def _cluster_class(kind: str):
    name = CLUSTER_KINDS[kind]
    if kind == "local":
        from distributed import LocalCluster
        return LocalCluster
    try:
        import dask_jobqueue
    except ImportError:
        raise ValueError(f"cluster.kind = {kind!r} needs dask-jobqueue; install "
                         "tacebench[cluster]") from None
    return getattr(dask_jobqueue, name)


def build_cluster(config: ClusterConfig, cluster_class: Callable | None = None):
    """The cluster object (no job submitted yet); ``cluster_class`` replaces the class
    ``config.kind`` names (a test's stand-in)."""
    cls = cluster_class or _cluster_class(config.kind)
    try:
        return cls(**config.options)
    except TypeError as exc:  # an option the class does not take
        raise ValueError(f"{config.source}: cluster.options rejected by "
                         f"{getattr(cls, '__name__', cls)}: {exc}") from exc


@contextlib.contextmanager
def open_cluster(config: ClusterConfig, cluster_class: Callable | None = None) -> Iterator[str]:
    """Build the cluster, ask for ``config.jobs`` jobs, yield the scheduler address; close
    the cluster on exit (its batch jobs are cancelled)."""
    cluster = build_cluster(config, cluster_class)
    try:
        if config.kind == "local":
            cluster.scale(config.jobs)   # a local cluster has no jobs: ``jobs`` workers
        else:
            cluster.scale(jobs=config.jobs)
        yield cluster.scheduler_address
    finally:
        cluster.close()
