"""The run directory: a manifest, result chunks written atomically with checksums, their union.

Layout of ``OUT/``::

    manifest.json          study name, fingerprint, seed, format, versions
    study.json             the study as loaded (so ``summarize`` needs only OUT/)
    sessions.json          every session of the run: when, where, how, what it did
    truth.csv              true value of each (scenario, estimand)
    chunks/s0003_r0000100-0000150.1f0c6a2b9d4e7a35.parquet
                           replicates [100, 150) of scenario 3; the hex field is the first
                           16 hex digits of the file's SHA-256
    damaged/               chunks that failed their checksum, moved aside by ``--resume``
    .lock                  held by the run writing OUT (tacebench.engine.files.folder_lock)
    plans/                 compiled cohort plans the workers share (a PlanCache folder,
                           keyed by spec and simulate's code: a run's cache, safe to delete)
    results.parquet        all chunks, sorted (written by ``summarize``)

A chunk is written to a temporary name in ``chunks/``, flushed to disk, hashed and renamed
into place with ``os.replace`` (atomic on POSIX), so a run killed at any instant leaves only
whole chunks. Every read of a chunk checks its bytes against the checksum in its name, so a
file truncated or altered on disk is never read as data: :meth:`RunDirectory.read_results`
refuses it, naming the file, and ``--resume`` moves it to ``damaged/`` and computes its
replicates again. A write that fails (disk full) removes its temporary file and raises
:class:`WriteFailed`; the chunks already written stay valid. ``--resume`` reads the
replicate ranges from the chunk names, deletes stray temporaries and runs only what is
missing. No replicate can be written twice, because a range is scheduled only if none of
its replicates is on disk and one run at a time writes the directory
(``tacebench.engine.files.folder_lock``); every read refuses two chunks holding one
replicate.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from tacebench.engine.files import WriteFailed, atomic_write as _atomic_write

try:  # Parquet when pyarrow is present (the [parquet] extra), CSV otherwise
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq
except ImportError:  # pragma: no cover - exercised only without pyarrow
    pa = pc = pq = None

_CHUNK = re.compile(r"^s(\d{4,})_r(\d{7,})-(\d{7,})(?:\.([0-9a-f]{16}))?\.(parquet|csv)$")
#: hex digits of the SHA-256 kept in a chunk's name (64 bits: a random corruption matches
#: with probability 2**-64)
DIGEST_HEX = 16


class DamagedChunk(ValueError):
    """A chunk whose bytes do not match its checksum, or whose rows do not match its name."""


def digest(data: bytes) -> str:
    """The checksum kept in a chunk's name: SHA-256, first :data:`DIGEST_HEX` hex digits."""
    return hashlib.sha256(data).hexdigest()[:DIGEST_HEX]


def default_format() -> str:
    return "parquet" if pq is not None else "csv"


def _writer(frame_or_columns, fmt: str):
    def write(tmp: Path) -> None:
        if fmt == "parquet":
            table = (pa.Table.from_pandas(frame_or_columns, preserve_index=False)
                     if isinstance(frame_or_columns, pd.DataFrame) else pa.table(frame_or_columns))
            pq.write_table(table, tmp)
        else:
            pd.DataFrame(frame_or_columns).to_csv(tmp, index=False, float_format="%.17g")
    return write


def write_columns(columns: dict[str, np.ndarray], path: Path, fmt: str) -> Path:
    """Write a table given as columns, atomically (temporary file + rename)."""
    return _atomic_write(path, _writer(columns, fmt))


def write_frame(frame: pd.DataFrame, path: Path) -> Path:
    """Write a DataFrame atomically; the format follows the suffix (.parquet or .csv)."""
    path = Path(path)
    return _atomic_write(path, _writer(frame, "parquet" if path.suffix == ".parquet" else "csv"))


def read_table(path: Path | io.BytesIO, fmt: str | None = None,
               columns: list[str] | None = None) -> pd.DataFrame:
    """A table written by :func:`write_columns` or :func:`write_frame`; ``fmt`` is needed
    when ``path`` is a buffer."""
    fmt = fmt or ("parquet" if Path(path).suffix == ".parquet" else "csv")
    if fmt == "parquet":
        return pd.read_parquet(path, columns=columns)
    return pd.read_csv(path, usecols=columns, keep_default_na=False, na_values=[""], float_precision="round_trip",
                       dtype={"error": str, "warning": str, "scenario": str, "method": str,
                              "estimand": str})


@dataclass(frozen=True)
class Chunk:
    """A chunk file: replicates ``[start, stop)`` of a scenario, and its checksum."""

    scenario_index: int
    start: int
    stop: int
    path: Path
    checksum: str | None

    def read(self, fmt: str, columns: list[str] | None = None) -> pd.DataFrame:
        """The chunk's rows, after checking its bytes and its replicate range.

        Raises
        ------
        DamagedChunk
            The file's checksum differs from its name's (truncated, altered), it has none,
            or it cannot be parsed, or its replicates are not ``[start, stop)``.
        """
        data = self._verified_bytes()
        try:
            frame = read_table(io.BytesIO(data), fmt)
        except Exception as exc:  # hash matched, so the writer itself was wrong
            raise DamagedChunk(f"{self._where} cannot be read: {type(exc).__name__}: {exc}") from exc
        self._check_rows(frame["rep"].to_numpy() if "rep" in frame else np.array([-1]),
                         frame["scenario_index"].to_numpy() if "scenario_index" in frame
                         else np.array([-1]))
        return frame if columns is None else frame[columns]

    def read_arrow(self) -> "pa.Table":
        """:meth:`read` of a Parquet chunk as an Arrow table (same checks, no pandas)."""
        data = self._verified_bytes()
        try:
            table = pq.read_table(pa.BufferReader(data))
        except Exception as exc:  # hash matched, so the writer itself was wrong
            raise DamagedChunk(f"{self._where} cannot be read: {type(exc).__name__}: {exc}") from exc
        names = table.column_names
        self._check_rows(table["rep"].to_numpy() if "rep" in names else np.array([-1]),
                         table["scenario_index"].to_numpy() if "scenario_index" in names
                         else np.array([-1]))
        return table

    @property
    def _where(self) -> str:
        return f"chunk {self.path.name} in {self.path.parent}"

    def _verified_bytes(self) -> bytes:
        if self.checksum is None:
            raise DamagedChunk(f"{self._where} has no checksum in its name, so it cannot be verified")
        data = self.path.read_bytes()
        if digest(data) != self.checksum:
            raise DamagedChunk(f"{self._where} is damaged: its SHA-256 starts {digest(data)}, its "
                               f"name says {self.checksum} ({len(data)} bytes on disk)")
        return data

    def _check_rows(self, reps: np.ndarray, scenarios: np.ndarray) -> None:
        if reps.size and (reps.min() < self.start or reps.max() >= self.stop):
            raise DamagedChunk(f"{self._where} holds replicates {reps.min()}..{reps.max()}, "
                               f"outside [{self.start}, {self.stop})")
        if set(scenarios.tolist()) - {self.scenario_index}:
            raise DamagedChunk(f"{self._where} holds rows of scenario index "
                               f"{sorted(set(scenarios.tolist()))}, not {self.scenario_index}")


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

    def write_json(self, name: str, obj) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        target = self.path / name
        text = json.dumps(obj, indent=2, default=str)  # key order = grid order
        _atomic_write(target, lambda tmp: tmp.write_text(text))

    def read_json(self, name: str):
        return json.loads((self.path / name).read_text())

    # -- chunks ---------------------------------------------------------------------------
    def chunk_path(self, scenario_index: int, start: int, stop: int,
                   checksum: str | None = None) -> Path:
        tag = f".{checksum}" if checksum else ""
        return self.chunks_dir / f"s{scenario_index:04d}_r{start:07d}-{stop:07d}{tag}.{self.fmt}"

    def chunks(self) -> list[Chunk]:
        if not self.chunks_dir.is_dir():
            return []
        out = []
        for p in self.chunks_dir.iterdir():
            m = _CHUNK.match(p.name)
            if m:
                out.append(Chunk(int(m[1]), int(m[2]), int(m[3]), p, m[4]))
        return sorted(out, key=lambda c: (c.scenario_index, c.start))

    def remove_temporaries(self) -> int:
        """Delete partial files a killed run left behind; returns how many."""
        n = 0
        if self.chunks_dir.is_dir():
            for p in self.chunks_dir.glob(".*.tmp*"):
                p.unlink()
                n += 1
        return n

    def set_aside_damaged(self) -> list[str]:
        """Move every chunk that fails :meth:`Chunk.read` to ``damaged/`` (kept for
        inspection, never read again); returns the reasons, one per chunk."""
        reasons = []
        for c in self.chunks():
            try:
                c.read(self.fmt, columns=["rep"])
            except DamagedChunk as exc:
                dest = self.path / "damaged"
                dest.mkdir(exist_ok=True)
                os.replace(c.path, dest / c.path.name)
                reasons.append(str(exc))
        return reasons

    def disjoint_chunks(self) -> list[Chunk]:
        """:meth:`chunks`, after checking that no two hold the same replicate of a scenario
        (each replicate would be counted once per copy).

        Raises
        ------
        ValueError
            Two chunks overlap: both are named.
        """
        chunks = self.chunks()
        far: Chunk | None = None  # of the chunks before in this scenario, the furthest reaching
        for c in chunks:  # sorted by scenario, then start
            if far is not None and far.scenario_index == c.scenario_index and c.start < far.stop:
                raise ValueError(
                    f"chunks {far.path.name} and {c.path.name} in {self.chunks_dir} both hold "
                    f"replicates [{c.start}, {min(far.stop, c.stop)}) of scenario index "
                    f"{c.scenario_index}: two runs wrote into this directory or it was edited "
                    "by hand; move one of them out")
            if far is None or far.scenario_index != c.scenario_index or c.stop > far.stop:
                far = c
        return chunks

    def done(self) -> dict[int, np.ndarray]:
        """Replicates on disk per scenario index, as a boolean mask grown as needed."""
        out: dict[int, np.ndarray] = {}
        for c in self.disjoint_chunks():
            mask = out.setdefault(c.scenario_index, np.zeros(0, dtype=bool))
            if mask.size < c.stop:
                mask = np.concatenate([mask, np.zeros(c.stop - mask.size, dtype=bool)])
            mask[c.start:c.stop] = True
            out[c.scenario_index] = mask
        return out

    def write_chunk(self, scenario_index: int, start: int, stop: int,
                    columns: dict[str, np.ndarray]) -> Path:
        self.chunks_dir.mkdir(parents=True, exist_ok=True)
        path = self.chunk_path(scenario_index, start, stop)
        return _atomic_write(path, _writer(columns, self.fmt),
                             lambda data: self.chunk_path(scenario_index, start, stop,
                                                          digest(data)).name)

    def iter_results(self, columns: list[str] | None = None, reps: int | None = None):
        """Each chunk's rows (only ``columns`` if given, replicates below ``reps``), one
        chunk at a time in scenario and replicate order, each verified; memory stays at one
        chunk whatever the run's size."""
        for c in self.disjoint_chunks():
            if reps is not None and c.start >= reps:
                continue
            frame = c.read(self.fmt)
            if reps is not None:
                frame = frame[frame["rep"] < reps]
            yield frame if columns is None else frame[columns]

    def read_results(self, reps: int | None = None) -> pd.DataFrame:
        """All chunks as one tidy table sorted by scenario, replicate and method order.
        Parquet chunks are joined as Arrow tables and become one DataFrame at the end (a
        chunk's own conversion and the concatenation of many small frames cost more than
        reading them); a column a chunk lacks (another scenario's extras) is missing
        there, as ``pandas.concat`` makes it."""
        if self.fmt == "parquet":
            tables = []
            for c in self.disjoint_chunks():
                if reps is not None and c.start >= reps:
                    continue
                table = c.read_arrow()
                if reps is not None:
                    table = table.filter(pc.less(table["rep"], reps))
                tables.append(table)
            frame = (pa.concat_tables(tables, promote_options="default").to_pandas()
                     if tables else None)
        else:
            frames = list(self.iter_results(reps=reps))
            frame = pd.concat(frames, ignore_index=True) if frames else None
        if frame is None:
            raise ValueError(f"no result chunks in {self.chunks_dir}")
        for col in ("error", "warning"):
            if col in frame:
                frame[col] = frame[col].fillna("").astype(str)
        return frame.sort_values(["scenario_index", "rep", "method_index"],
                                 kind="stable").reset_index(drop=True)
