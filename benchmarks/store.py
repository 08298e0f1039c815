"""The run directory: a manifest, result chunks written atomically, and their union.

Layout of ``OUT/``::

    manifest.json          study name, fingerprint, seed, format, versions
    study.json             the study as loaded (so ``summarize`` needs only OUT/)
    truth.csv              true value of each (scenario, estimand)
    chunks/s0003_r0000100-0000150.parquet   replicates [100, 150) of scenario 3
    plans/                 compiled cohort plans the workers share (a PlanCache folder,
                           keyed by spec and simulate's code: a run's cache, safe to delete)
    results.parquet        all chunks, sorted (written at the end of a run)

A chunk is written to a temporary name in ``chunks/`` and renamed into place with
``os.replace`` (atomic on POSIX), so a run killed at any instant leaves only whole chunks;
``--resume`` reads the replicate ranges from the chunk names, deletes stray temporaries and
runs only what is missing. No replicate can be written twice, because a range is scheduled
only if none of its replicates is on disk.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

try:  # Parquet when pyarrow is present (the [parquet] extra), CSV otherwise
    import pyarrow as pa
    import pyarrow.parquet as pq
except ImportError:  # pragma: no cover - exercised only without pyarrow
    pa = pq = None

_CHUNK = re.compile(r"^s(\d{4,})_r(\d{7,})-(\d{7,})\.(parquet|csv)$")


def default_format() -> str:
    return "parquet" if pq is not None else "csv"


def _fsync_replace(tmp: Path, final: Path) -> None:
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, final)


def write_columns(columns: dict[str, np.ndarray], path: Path, fmt: str) -> None:
    """Write a table given as columns, atomically (temporary file + rename)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    if fmt == "parquet":
        pq.write_table(pa.table(columns), tmp)
    else:
        pd.DataFrame(columns).to_csv(tmp, index=False, float_format="%.17g")
    _fsync_replace(tmp, path)


def write_frame(frame: pd.DataFrame, path: Path) -> None:
    """Write a DataFrame atomically; the format follows the suffix (.parquet or .csv)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    if path.suffix == ".parquet":
        frame.to_parquet(tmp, index=False)
    else:
        frame.to_csv(tmp, index=False, float_format="%.17g")
    _fsync_replace(tmp, path)


def read_table(path: Path) -> pd.DataFrame:
    path = Path(path)
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path, keep_default_na=False, na_values=[""], float_precision="round_trip",
                       dtype={"error": str, "warning": str, "scenario": str, "method": str,
                              "estimand": str})


@dataclass(frozen=True)
class Chunk:
    scenario_index: int
    start: int
    stop: int
    path: Path


class RunDirectory:
    """Files of one study run (see the module docstring)."""

    def __init__(self, path: str | Path, fmt: str | None = None):
        self.path = Path(path)
        self.chunks_dir = self.path / "chunks"
        self.fmt = fmt or default_format()
        if self.fmt not in ("parquet", "csv"):
            raise ValueError(f"fmt must be 'parquet' or 'csv'; got {self.fmt!r}")
        if self.fmt == "parquet" and pq is None:
            raise ValueError("fmt='parquet' needs pyarrow; install tacebench[parquet] or use csv")

    # -- manifest -------------------------------------------------------------------------
    @property
    def manifest_path(self) -> Path:
        return self.path / "manifest.json"

    def read_manifest(self) -> dict | None:
        if not self.manifest_path.exists():
            return None
        return json.loads(self.manifest_path.read_text())

    def write_json(self, name: str, obj) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        target = self.path / name
        tmp = target.with_name(f".{name}.tmp{os.getpid()}")
        tmp.write_text(json.dumps(obj, indent=2, default=str))  # key order = grid order
        _fsync_replace(tmp, target)

    def read_json(self, name: str):
        return json.loads((self.path / name).read_text())

    # -- chunks ---------------------------------------------------------------------------
    def chunk_path(self, scenario_index: int, start: int, stop: int) -> Path:
        return self.chunks_dir / f"s{scenario_index:04d}_r{start:07d}-{stop:07d}.{self.fmt}"

    def chunks(self) -> list[Chunk]:
        if not self.chunks_dir.is_dir():
            return []
        out = []
        for p in self.chunks_dir.iterdir():
            m = _CHUNK.match(p.name)
            if m:
                out.append(Chunk(int(m[1]), int(m[2]), int(m[3]), p))
        return sorted(out, key=lambda c: (c.scenario_index, c.start))

    def remove_temporaries(self) -> int:
        """Delete partial files a killed run left behind; returns how many."""
        n = 0
        if self.chunks_dir.is_dir():
            for p in self.chunks_dir.glob(".*.tmp*"):
                p.unlink()
                n += 1
        return n

    def done(self) -> dict[int, np.ndarray]:
        """Replicates on disk per scenario index, as a boolean mask grown as needed."""
        out: dict[int, np.ndarray] = {}
        for c in self.chunks():
            mask = out.setdefault(c.scenario_index, np.zeros(0, dtype=bool))
            if mask.size < c.stop:
                mask = np.concatenate([mask, np.zeros(c.stop - mask.size, dtype=bool)])
            if mask[c.start:c.stop].any():
                raise ValueError(f"chunk {c.path.name} overlaps replicates already on disk; "
                                 "the run directory was edited by hand")
            mask[c.start:c.stop] = True
            out[c.scenario_index] = mask
        return out

    def write_chunk(self, scenario_index: int, start: int, stop: int,
                    columns: dict[str, np.ndarray]) -> Path:
        self.chunks_dir.mkdir(parents=True, exist_ok=True)
        path = self.chunk_path(scenario_index, start, stop)
        write_columns(columns, path, self.fmt)
        return path

    def read_results(self, reps: int | None = None) -> pd.DataFrame:
        """All chunks as one tidy table sorted by scenario, replicate and method order."""
        frames = [read_table(c.path) for c in self.chunks()]
        if not frames:
            raise ValueError(f"no result chunks in {self.chunks_dir}")
        frame = pd.concat(frames, ignore_index=True)
        if reps is not None:
            frame = frame[frame["rep"] < reps]
        for col in ("error", "warning"):
            if col in frame:
                frame[col] = frame[col].fillna("").astype(str)
        return frame.sort_values(["scenario_index", "rep", "method_index"],
                                 kind="stable").reset_index(drop=True)
