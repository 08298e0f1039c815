"""Whole-run accounting: every session of a run (first call and each ``--resume``) on record.

``OUT/sessions.json`` lists the sessions in order. A session is written when it starts
(``status = "running"``) and again when it ends (``"completed"``, or ``"stopped"`` with the
reason when it raised - if the file can still be written: a disk too full even for it
leaves the session as a killed one); a session killed outright keeps ``"running"`` until the next
session marks it ``"interrupted"`` and estimates what it did from the chunks written
between its start and the next session's (their modification times). Each session records
its provenance - code version, seed, backend, workers, scheduler, chunk size, machine - so
timings and counts cover the whole run, across resumes and machines.
"""
from __future__ import annotations

import os
import platform
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from .store import RunDirectory

NAME = "sessions.json"


def machine() -> dict:
    """Where a session ran: host name, operating system, Python, cores."""
    return {"host": platform.node(), "platform": platform.platform(),
            "python": sys.version.split()[0], "cpus": os.cpu_count()}


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="seconds")


def read_sessions(run: RunDirectory) -> list[dict]:
    """The sessions on record (an empty list for a run without any).

    Raises
    ------
    ValueError
        The file cannot be parsed or is not a list of sessions (each with its status and
        start time); the file and the problem are named.
    """
    path = run.path / NAME
    if not path.exists():
        return []
    try:
        sessions = run.read_json(NAME)
    except (OSError, UnicodeDecodeError, ValueError) as exc:  # (JSONDecodeError)
        raise ValueError(f"{path} is damaged: {exc}") from None
    if not isinstance(sessions, list):
        raise ValueError(f"{path} is damaged: it holds a {type(sessions).__name__}, not a "
                         "list of sessions")
    for k, s in enumerate(sessions):
        if not (isinstance(s, dict) and isinstance(s.get("status"), str)
                and isinstance(s.get("started_unix"), (int, float))):
            raise ValueError(f"{path} is damaged: its entry {k + 1} is not a session with a "
                             "status and a start time")
    return sessions


def _estimate(run: RunDirectory, sessions: list[dict], i: int, now: float) -> dict:
    """What session ``i``, still marked "running", did: the replicates of the chunk files
    written between its start and the next session's (or ``now``), and the time to the
    last of them."""
    s = sessions[i]
    end = sessions[i + 1]["started_unix"] if i + 1 < len(sessions) else now
    mine = [c for c in run.chunks() if s["started_unix"] <= c.path.stat().st_mtime < end]
    last = max((c.path.stat().st_mtime for c in mine), default=s["started_unix"])
    return dict(replicates_run=sum(c.stop - c.start for c in mine),
                elapsed=round(last - s["started_unix"], 3), estimated=True)


def _close_interrupted(run: RunDirectory, sessions: list[dict], now: float) -> None:
    """Mark sessions still "running" as interrupted; their replicates and time come from
    the chunk files written before the next session began."""
    for i, s in enumerate(sessions):
        if s["status"] == "running":
            s.update(status="interrupted", **_estimate(run, sessions, i, now))


def start_session(run: RunDirectory, **provenance) -> list[dict]:
    """Record a new session (``provenance``: code version, seed, backend, ...) and close
    any session a kill left open; returns all sessions, the new one last."""
    now = time.time()
    sessions = read_sessions(run)
    _close_interrupted(run, sessions, now)
    sessions.append({"session": len(sessions) + 1, "status": "running", "started": _iso(now),
                     "started_unix": now, "pid": os.getpid(), **machine(), **provenance})
    run.write_json(NAME, sessions)
    return sessions


def finish_session(run: RunDirectory, sessions: list[dict], *, replicates_run: int,
                   elapsed: float, error: str = "") -> None:
    """Record how the last session ended."""
    sessions[-1].update(status="stopped" if error else "completed", finished=_iso(time.time()),
                        replicates_run=int(replicates_run), elapsed=round(elapsed, 3),
                        **({"error": error[:500]} if error else {}))
    run.write_json(NAME, sessions)


@dataclass(frozen=True)
class RunTotals:
    """A run's sessions added up."""

    sessions: int
    interrupted: int
    replicates_run: int
    elapsed: float
    backends: tuple[str, ...]
    hosts: tuple[str, ...]
    code_versions: tuple[str, ...]


def totals(sessions: list[dict]) -> RunTotals:
    """Sessions, replicates computed and seconds spent over the whole run."""
    def distinct(key):
        return tuple(dict.fromkeys(str(s.get(key)) for s in sessions))
    return RunTotals(
        sessions=len(sessions),
        interrupted=sum(s["status"] == "interrupted" for s in sessions),
        replicates_run=sum(int(s.get("replicates_run", 0)) for s in sessions),
        elapsed=float(sum(s.get("elapsed", 0.0) for s in sessions)),
        backends=distinct("backend"), hosts=distinct("host"),
        code_versions=distinct("code_version"))


def run_line(run: RunDirectory, in_table: int | None = None) -> str:
    """One sentence on how the run was computed, for the summary ("" without sessions).

    A session still marked "running" (running now, or killed and not yet resumed) is
    counted with the replicates its chunks show, as the next session will record it;
    ``in_table``, the replicates the summary's table holds, is named when the sessions
    computed more (replicates computed again after damage or a kill, or beyond ``reps``).
    """
    try:
        sessions = read_sessions(run)
    except ValueError as exc:
        return f"The run's accounting cannot be read: {exc}."
    if not sessions:
        return ""
    now = time.time()
    view = [dict(s, **_estimate(run, sessions, i, now)) if s["status"] == "running" else s
            for i, s in enumerate(sessions)]
    t = totals(view)
    open_ = sum(s["status"] == "running" for s in sessions)
    unfinished = (f", {open_} unfinished: running now or killed, its replicates estimated "
                  "from its chunks" if open_ else "")
    more = (f" ({t.replicates_run - in_table} more than the {in_table} of this table: "
            "computed again after damage or a kill, or beyond the replicates summarized)"
            if in_table is not None and t.replicates_run > in_table else "")
    return (f"Computed by tacebench {', '.join(t.code_versions)} in {t.sessions} session(s) "
            f"({t.interrupted} interrupted{unfinished}) on {', '.join(t.hosts)} with "
            f"{', '.join(t.backends)}: {t.replicates_run} replicates in {t.elapsed:.0f} s"
            f"{more} (sessions.json).")


def planned_reps(run: RunDirectory) -> int | None:
    """The replicates per scenario the run's last session was asked for (None: no session
    on record says), which ``summarize`` uses by default, as the run's own summary did."""
    try:
        sessions = read_sessions(run)
    except ValueError:
        return None
    reps = sessions[-1].get("reps") if sessions else None
    return reps if isinstance(reps, int) and not isinstance(reps, bool) and reps >= 2 else None
