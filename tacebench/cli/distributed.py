"""Where ``tacebench study run`` sends its work: ``--backend``, ``--scheduler``, ``--cluster``."""
from __future__ import annotations

import contextlib
from typing import Iterator


def cluster_of(args):
    """The ``--cluster FILE`` configuration read and checked (None without it), so that a
    bad file is refused before the run's folder is made; ``ValueError`` naming the file."""
    if args.cluster is None:
        return None
    if args.scheduler or args.backend not in (None, "dask"):
        raise ValueError(f"--cluster {args.cluster} starts its own Dask cluster; it cannot be "
                         f"combined with --scheduler {args.scheduler!r} or --backend "
                         f"{args.backend!r}")
    from tacebench.engine.cluster import load_cluster_config

    return load_cluster_config(args.cluster)


@contextlib.contextmanager
def scheduler_of(args, config=None) -> Iterator[tuple[str | None, str | None]]:
    """``(backend, scheduler address)`` of the parsed options; with ``--cluster FILE`` (its
    ``config``, from :func:`cluster_of`) the cluster is started for the run and closed
    after it (its batch jobs cancelled)."""
    config = config if config is not None else cluster_of(args)
    if config is None:
        yield args.backend, args.scheduler
        return
    from tacebench.engine.cluster import open_cluster

    with open_cluster(config) as address:
        yield "dask", address
