"""What a replicate worker imports before its first chunk.

A worker draws cohorts from compiled plans and runs the analyses: it does not calibrate,
audit or build frames. pandas (``to_frame`` and the frame paths), scipy.stats and
scipy.optimize (fits of the calibration, intervals of the audit) are imported by the
functions that use them, so the modules the command line starts workers with
(``WORKER_MODULES``, the warm-up function and its initializer) must not load them. Checked
in a fresh interpreter: this test process has imported everything already. The task a
worker is sent must not load them either when it is unpickled there: every class its plan
holds is defined in a module the worker imports anyway, or in a leaf module (a class of the
check's own modules made each worker import the audit and scipy.stats, about a second, before
its first chunk).
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from joblib.externals.loky.backend.reduction import dumps as loky_dumps

import tacebench
from tacebench.cli.early import WORKER_MODULES
from tacebench.replications.reproduce import _ReplicateTask, prepare_run

#: third-party modules a worker does not use on its path
NOT_IN_A_WORKER = ("pandas", "scipy.stats", "scipy.optimize")
#: what a started worker imports: the warm-up call and its initializer, then the modules
WARM_UP = ("tacebench.engine.warm", "tacebench.estimators.batch")


def loaded_after_import(modules: tuple[str, ...], watched: tuple[str, ...],
                        payload: bytes | None = None) -> list[str]:
    """The ``watched`` modules a fresh interpreter has loaded after importing ``modules``
    (and then unpickling ``payload``, read from its standard input, as a worker does)."""
    code = ("import importlib, json, pickle, sys\n"
            f"for name in {list(modules)!r}:\n"
            "    importlib.import_module(name)\n"
            + ("pickle.loads(sys.stdin.buffer.read())\n" if payload is not None else "")
            + f"print(json.dumps([m for m in {list(watched)!r} if m in sys.modules]))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         input=payload or b"", check=True)
    return json.loads(out.stdout.decode().strip().splitlines()[-1])


@pytest.mark.parametrize("module", [*WARM_UP, *WORKER_MODULES])
def test_a_worker_import_leaves_out_pandas_and_scipy_stats_optimize(module):
    assert loaded_after_import((module,), NOT_IN_A_WORKER) == []


def test_the_check_sees_a_loaded_module():
    """The check is able to fail: modules that are loaded are reported (scipy.stats loads
    scipy.optimize)."""
    assert loaded_after_import(("pandas", "scipy.stats"), NOT_IN_A_WORKER) == [
        "pandas", "scipy.stats", "scipy.optimize"]


def test_unpickling_a_replicate_task_leaves_out_pandas_and_scipy_stats_optimize():
    """The task as the engine sends it (pickled by loky's own pickler), with a shipped
    study's plan, which holds the classification of its reported numbers."""
    study = tacebench.load_study("tace_regorafenib")
    prepared = prepare_run(study)
    assert prepared.plan.reported            # the plan holds the classes in question
    task = loky_dumps(_ReplicateTask(prepared.plan, prepared.generate, prepared.seed))
    assert loaded_after_import((*WARM_UP, *WORKER_MODULES), NOT_IN_A_WORKER, task) == []
