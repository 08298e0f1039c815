"""Worker processes of a local Dask cluster that leave Ctrl-C to the command.

Ctrl-C at a terminal reaches the whole foreground process group: every worker process of
the command's own ``LocalCluster`` printed its ``KeyboardInterrupt`` traceback (about 70
lines for two workers) before the command's one-line message. Loky's workers are quiet; a
local Dask cluster's are made so by :class:`IgnoreInterrupt`, a worker plugin that sets
SIGINT to be ignored in each worker process, those the nanny restarts included. The
command ends them itself when it stops (it closes its cluster), and a worker never
outlives it (:mod:`tacebench.engine.lifetime`). The worker's logs of that ending - its
tasks cancelled, the scheduler gone before its last heartbeat (a 40-line traceback) - are
dropped (:class:`TeardownLog`). Imported only with ``distributed``.
"""
from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading

from distributed.comm import CommClosedError
from distributed.diagnostics.plugin import WorkerPlugin


class IgnoreInterrupt(WorkerPlugin):
    """Ignore SIGINT in a worker process other than ``caller`` (the command's own process,
    whose Ctrl-C must still stop it)."""

    name = "tacebench-ignore-sigint"

    def __init__(self, caller: int):
        self.caller = caller

    def setup(self, worker) -> None:
        if os.getpid() == self.caller:  # (an in-process worker: the command's own process)
            return
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        for handler in logging.getLogger("distributed").handlers:
            handler.addFilter(TeardownLog())


class TeardownLog(logging.Filter):
    """Drops a worker's records of the cluster closing under it: a connection closed, a
    task cancelled."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, (CommClosedError, asyncio.CancelledError)):
            return False
        return "ended with CancelledError" not in record.getMessage()
