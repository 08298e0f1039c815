"""Where ``tacebench study run`` sends its work: ``--backend``, ``--scheduler``, ``--cluster``."""
from __future__ import annotations

import contextlib
from typing import Iterator


@contextlib.contextmanager
def scheduler_of(args) -> Iterator[tuple[str | None, str | None]]:
    """``(backend, scheduler address)`` of the parsed options; with ``--cluster FILE`` the
    cluster is started for the run and closed after it (its batch jobs cancelled)."""
    if args.cluster is None:
        yield args.backend, args.scheduler
        return
    if args.scheduler or args.backend not in (None, "dask"):
        raise ValueError(f"--cluster {args.cluster} starts its own Dask cluster; it cannot be "
                         f"combined with --scheduler {args.scheduler!r} or --backend "
                         f"{args.backend!r}")
    from tacebench.engine.cluster import load_cluster_config, open_cluster

    with open_cluster(load_cluster_config(args.cluster)) as address:
        yield "dask", address
