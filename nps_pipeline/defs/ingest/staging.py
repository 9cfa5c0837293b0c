"""Staging: each landed file version is read and validated once, its rows stored by day.

Per file (id = hash of its path in the landing zone) the staging store holds:
- ``_internal/staged/month=YYYY-MM/<file_id>.parquet``: its valid rows of that month, by day;
- ``_internal/quarantine/<file_id>.parquet``: its rejected rows with reasons;
- ``_internal/files/<file_id>.json``: its manifest (fingerprint, counts, days, problem), written
  last, so a file whose manifest matches its fingerprint is completely staged.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import polars as pl
import pyarrow.parquet as pq

from nps_pipeline.defs.ingest.formats import CANONICAL_COLUMNS, SourceSettings, settings_for
from nps_pipeline.defs.ingest.landing import FileProblem, LandedFile
from nps_pipeline.defs.ingest.readers import read_export_batches
from nps_pipeline.storage import WarehouseLayout, atomic_write_bytes
from nps_pipeline.defs.ingest.validate import QUARANTINE_SCHEMA, to_staged_rows, validate_rows

# Bump when parsing or validation rules change, so every file is staged again.
STAGING_VERSION = 6

# A file's rejected rows as staged, and as published in ``quarantine`` (its files are linked, not copied).
STAGED_QUARANTINE_SCHEMA = {
    "source_file": pl.String,
    "source_row": pl.Int64,
    "reasons": pl.String,
    "raw_record": pl.String,
    "source_format": pl.String,
    "ingested_at": pl.Datetime("us", "UTC"),
    "response_id": pl.String,
}


@dataclass
class FileManifest:
    file_id: str
    source_file: str
    fingerprint: str
    staging_version: int
    timezone: str
    start_date: str
    source_format: str | None
    status: str  # 'staged' or 'rejected'
    problem: str | None
    rows_read: int
    rows_staged: int
    rows_quarantined: int
    days: list[str]
    ingested_at: str
    notes: list[str] = field(default_factory=list)
    rows_excluded: int = 0
    excluded_reasons: dict[str, int] = field(default_factory=dict)
    settings_key: str = ""
    replaced_days: list[str] = field(default_factory=list)  # days the file's previous version covered
    file_order: int = 0  # the landed file's modification time (ns): a later file's version of a response wins

    @property
    def rejected_share(self) -> float:
        return self.rows_quarantined / self.rows_read if self.rows_read else 0.0

    def is_current(self, landed: LandedFile, timezone: str, start_date: str, settings_key: str = "") -> bool:
        return (
            self.fingerprint == landed.fingerprint
            and self.staging_version == STAGING_VERSION
            and self.timezone == timezone
            and self.start_date == start_date
            and self.settings_key == settings_key
        )


def load_manifests(layout: WarehouseLayout) -> dict[str, FileManifest]:
    manifests = {}
    for path in sorted(layout.manifests.glob("*.json")):
        manifest = FileManifest(**json.loads(path.read_text(encoding="utf-8")))
        manifests[manifest.file_id] = manifest
    return manifests


def _write_manifest(layout: WarehouseLayout, manifest: FileManifest) -> None:
    atomic_write_bytes(
        layout.manifests / f"{manifest.file_id}.json",
        json.dumps(asdict(manifest), ensure_ascii=False, indent=1).encode("utf-8"),
    )


def _remove_staged(layout: WarehouseLayout, file_id: str, previous: FileManifest | None) -> None:
    month_dirs = (
        [layout.staged_month_dir(m) for m in sorted({d[:7] for d in previous.days})]
        if previous is not None
        else list(layout.staged.glob("month=*"))
    )
    for month_dir in month_dirs:
        with contextlib.suppress(FileNotFoundError):
            (month_dir / f"{file_id}.parquet").unlink()


class _StagedWriter:
    """A file's valid rows into one Parquet file per month, each batch's rows sorted by day.

    A file of one batch (most exports) is written by polars, sorted by day as a whole; a longer one
    streams through a Parquet writer per month, a batch at a time. Written under ``tmp`` and moved
    into place by ``publish``: a file's staged rows change whole.
    """

    # Dictionary-encoded (few distinct values) and with statistics (read by day) in the streamed files.
    DICTIONARY_COLUMNS = ["source_format", "source_file", "channel", "region", "product", "touchpoint", "customer_tier", "language", "category"]
    STATISTICS_COLUMNS = ["response_date", "submitted_at", "source_row"]

    def __init__(self, layout: WarehouseLayout, file_id: str):
        self.layout, self.file_id = layout, file_id
        self.first: pl.DataFrame | None = None
        self.writers: dict[str, pq.ParquetWriter] = {}
        self.days: set[dt.date] = set()
        self.rows = 0

    def _tmp(self, month: str) -> Path:
        return self.layout.tmp / f"{self.file_id}-{month}.parquet"

    @staticmethod
    def _by_month(staged: pl.DataFrame) -> dict[str, pl.DataFrame]:
        by_month = (
            staged.sort("response_date", "source_row")
            .with_columns(_month=pl.col("response_date").dt.strftime("%Y-%m"))
            .partition_by("_month", as_dict=True, include_key=False, maintain_order=True)
        )
        return {month: rows for (month,), rows in by_month.items()}

    def _stream(self, staged: pl.DataFrame) -> None:
        for month, rows in self._by_month(staged).items():
            table = rows.to_arrow()
            if month not in self.writers:
                self.writers[month] = pq.ParquetWriter(
                    self._tmp(month), table.schema, compression="lz4", use_dictionary=self.DICTIONARY_COLUMNS,
                    write_statistics=self.STATISTICS_COLUMNS,
                )
            self.writers[month].write_table(table, row_group_size=50_000)

    def write(self, staged: pl.DataFrame) -> None:
        if staged.is_empty():
            return
        self.rows += staged.height
        self.days.update(staged["response_date"].unique().to_list())
        if self.first is None and not self.writers:
            self.first = staged
            return
        if self.first is not None:
            self._stream(self.first)
            self.first = None
        self._stream(staged)

    def close(self) -> None:
        for writer in self.writers.values():
            writer.close()

    def discard(self) -> None:
        self.close()
        for month in self.writers:
            self._tmp(month).unlink(missing_ok=True)

    def publish(self) -> list[str]:
        """Move the month files into place; returns the days staged."""
        self.close()
        months = sorted(self.writers)
        if self.first is not None:
            for month, rows in self._by_month(self.first).items():
                rows.write_parquet(self._tmp(month), compression="lz4", row_group_size=50_000)
                months.append(month)
        for month in months:
            target_dir = self.layout.staged_month_dir(month)
            target_dir.mkdir(parents=True, exist_ok=True)
            os.replace(self._tmp(month), target_dir / f"{self.file_id}.parquet")
        return [d.isoformat() for d in sorted(self.days)]


# Records per batch of a delimited export: staging holds one batch (about 0.5 GiB at most), not the file.
STAGING_BATCH_ROWS = 250_000


@dataclass
class _Staged:
    """What the batches of one file added up to."""

    valid: _StagedWriter
    quarantine: pq.ParquetWriter | None = None
    rows_read: int = 0
    rows_quarantined: int = 0
    excluded: dict[str, int] = field(default_factory=dict)
    source_format: str = ""
    notes: list[str] = field(default_factory=list)


def _stage_batches(
    con: duckdb.DuckDBPyConnection,
    layout: WarehouseLayout,
    landed: LandedFile,
    settings: SourceSettings,
    timezone: str,
    start_date: dt.date,
    ingested_at: str,
    batch_rows: int | None,
    on_batch: Callable[[int], None] | None = None,
) -> _Staged:
    """Read, validate and write a file's rows batch by batch (under tmp: nothing is in place until published)."""
    staged = _Staged(_StagedWriter(layout, landed.file_id))
    quarantine_tmp = layout.tmp / f"{landed.file_id}-quarantine.parquet"
    try:
        with contextlib.closing(read_export_batches(con, landed, settings, layout.tmp, batch_rows)) as batches:
            for raw in batches:
                valid, quarantined = validate_rows(
                    raw.rows, timezone, start_date, raw.raw_record, con, raw.timestamp_formats, raw.timezone
                )
                quarantined = (
                    pl.concat([raw.rejected.cast(QUARANTINE_SCHEMA), quarantined.cast(QUARANTINE_SCHEMA)])
                    .sort("source_row")
                    .with_columns(
                        source_file=pl.lit(landed.relative_path),
                        source_format=pl.lit(raw.source_format),
                        ingested_at=pl.lit(ingested_at).str.to_datetime(time_zone="UTC"),
                    )
                    .select(list(STAGED_QUARANTINE_SCHEMA))
                )
                staged.valid.write(
                    to_staged_rows(valid, source_file=landed.relative_path, source_format=raw.source_format, file_order=landed.mtime_ns)
                )
                table = quarantined.to_arrow()
                if staged.quarantine is None:
                    staged.quarantine = pq.ParquetWriter(quarantine_tmp, table.schema)
                staged.quarantine.write_table(table)
                staged.rows_read += raw.rows_read
                staged.rows_quarantined += quarantined.height
                for reason, count in raw.excluded.group_by("excluded").len().iter_rows():
                    staged.excluded[reason] = staged.excluded.get(reason, 0) + count
                staged.source_format, staged.notes = raw.source_format, raw.notes
                if on_batch is not None:
                    on_batch(staged.rows_read)
    except BaseException:
        staged.valid.discard()
        if staged.quarantine is not None:
            staged.quarantine.close()
        quarantine_tmp.unlink(missing_ok=True)
        raise
    if staged.quarantine is not None:
        staged.quarantine.close()
    return staged


def stage_file(
    con: duckdb.DuckDBPyConnection,
    layout: WarehouseLayout,
    landed: LandedFile,
    *,
    timezone: str,
    start_date: dt.date,
    previous: FileManifest | None,
    settings: SourceSettings = SourceSettings(),
    on_batch: Callable[[int], None] | None = None,
) -> FileManifest:
    """Read, validate and stage one landed file version, replacing what an earlier version staged.

    ``on_batch`` is told the rows read so far after each batch (a long file shows progress).
    """
    ingested_at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    base = dict(
        file_id=landed.file_id,
        source_file=landed.relative_path,
        fingerprint=landed.fingerprint,
        staging_version=STAGING_VERSION,
        timezone=timezone,
        start_date=start_date.isoformat(),
        ingested_at=ingested_at,
        settings_key=settings_key(settings),
        replaced_days=previous.days if previous is not None else [],
        file_order=landed.mtime_ns,
    )
    quarantine_path = layout.staged_quarantine / f"{landed.file_id}.parquet"
    try:
        try:
            staged = _stage_batches(con, layout, landed, settings, timezone, start_date, ingested_at, STAGING_BATCH_ROWS, on_batch)
        except duckdb.Error:
            # The strict reader met a broken record or a byte that is not UTF-8: read the whole file the
            # careful way, which sets broken records aside and decodes line by line.
            staged = _stage_batches(con, layout, landed, settings, timezone, start_date, ingested_at, None, on_batch)
    except (FileProblem, OSError, duckdb.Error, pl.exceptions.PolarsError) as problem:
        if not isinstance(problem, FileProblem):
            # An unforeseen fault in one file must not stop the others: report it as that file's problem.
            first_line = (str(problem).strip().splitlines() or [""])[0]
            problem = FileProblem(f"could not be read ({type(problem).__name__}: {first_line})")
        _remove_staged(layout, landed.file_id, previous)
        with contextlib.suppress(FileNotFoundError):
            quarantine_path.unlink()
        manifest = FileManifest(
            **base, source_format=None, status="rejected", problem=str(problem),
            rows_read=0, rows_staged=0, rows_quarantined=0, days=[],
        )
        _write_manifest(layout, manifest)
        return manifest

    _remove_staged(layout, landed.file_id, previous)
    days = staged.valid.publish()
    os.replace(layout.tmp / f"{landed.file_id}-quarantine.parquet", quarantine_path)
    manifest = FileManifest(
        **base,
        source_format=staged.source_format,
        status="staged",
        problem=None,
        rows_read=staged.rows_read,
        rows_staged=staged.valid.rows,
        rows_quarantined=staged.rows_quarantined,
        days=days,
        notes=staged.notes,
        rows_excluded=sum(staged.excluded.values()),
        excluded_reasons=dict(sorted(staged.excluded.items())),
    )
    if manifest.rows_read != manifest.rows_staged + manifest.rows_quarantined:
        raise RuntimeError(f"{landed.relative_path}: row accounting broken in staging: {manifest}")
    _write_manifest(layout, manifest)
    return manifest


def ensure_staged_schema(con: duckdb.DuckDBPyConnection, layout: WarehouseLayout) -> None:
    """Write the row-less files that give every read of the staging store and its quarantine their columns."""
    layout.ensure()
    tmp = layout.tmp / f"quarantine-schema-{os.getpid()}.parquet"
    pl.DataFrame(schema=STAGED_QUARANTINE_SCHEMA).write_parquet(tmp)
    os.replace(tmp, layout.staged_quarantine_schema_file)
    empty = pl.DataFrame(
        schema={"source_row": pl.Int64, **{c: pl.String for c in CANONICAL_COLUMNS}, "attributes": pl.String}
    )
    valid, _ = validate_rows(empty, "UTC", dt.date(1970, 1, 1), lambda rows: rows["source_row"].cast(pl.String), con)
    staged = to_staged_rows(valid, source_file="", source_format="", file_order=0)
    tmp = layout.tmp / f"staged-schema-{os.getpid()}.parquet"
    staged.write_parquet(tmp)
    os.replace(tmp, layout.staged_schema_file)


@dataclass
class LandingPlan:
    """What the landing zone holds compared with what is staged."""

    to_stage: list[LandedFile]
    unchanged: list[LandedFile]
    manifests: dict[str, FileManifest]


def settings_key(settings: SourceSettings) -> str:
    """The settings that change how a file is read (accepting its rejected share does not)."""
    reading = {k: v for k, v in asdict(settings).items() if k != "accept_rejected"}
    return json.dumps(reading, sort_keys=True) if any(v is not None for v in reading.values()) else ""


def held_back_files(
    manifests: dict[str, FileManifest],
    max_rejected_share: float,
    min_rows: int,
    sources: list[tuple[str, SourceSettings]],
) -> dict[str, str]:
    """Staged files whose rows are not published, by file id, with the reason a person reads.

    A file is held back when more than ``max_rejected_share`` of its rows were rejected, once it has
    at least ``min_rows`` rows read (a 4-row file with one bad row is not judged by its share), unless
    its ``nps_sources.toml`` entry says ``accept_rejected = true``.
    """
    held = {}
    for m in manifests.values():
        if m.status != "staged" or m.rows_read < min_rows or m.rejected_share <= max_rejected_share:
            continue
        if settings_for(m.source_file, sources).accept_rejected:
            continue
        held[m.file_id] = (
            f"held back: {m.rows_quarantined} of {m.rows_read} rows rejected ({m.rejected_share:.1%} > "
            f"{max_rejected_share:.1%}); its rows are not published until the file is fixed, or accepted with "
            f"accept_rejected = true for it in nps_sources.toml (reasons in quarantine)"
        )
    return held


def plan_staging(
    landed: list[LandedFile],
    manifests: dict[str, FileManifest],
    timezone: str,
    start_date: str,
    sources: list[tuple[str, SourceSettings]] | None = None,
) -> LandingPlan:
    to_stage, unchanged = [], []
    for file in landed:
        previous = manifests.get(file.file_id)
        key = settings_key(settings_for(file.relative_path, sources or []))
        (unchanged if previous and previous.is_current(file, timezone, start_date, key) else to_stage).append(file)
    return LandingPlan(to_stage, unchanged, manifests)

