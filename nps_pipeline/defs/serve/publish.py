"""Serve: the file-level tables (quarantine, ingest_files) and the published ``nps.duckdb``.

``nps.duckdb`` holds only views over a snapshot of the Parquet tables (hard links, frozen at the
end of a run) and is rebuilt under a temporary name and swapped in with ``os.replace``: a BI tool
holding the previous file keeps reading it and its snapshot, unblocked, the pipeline never opens the
file a reader holds, and a run that dies before its publish step changes nothing readers see.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from nps_pipeline.defs.ingest.landing import IgnoredEntry
from nps_pipeline.defs.ingest.staging import STAGED_QUARANTINE_SCHEMA, FileManifest
from nps_pipeline.storage import (
    SCHEMA_FILE, WarehouseLayout, atomic_write_bytes, count_rows, link_or_copy, replace_file, sql, write_relation_file,
)
from nps_pipeline.tables import DAILY_TABLES, PER_FILE_TABLES, SINGLE_FILE_TABLES, partition_column

QUARANTINE_SCHEMA = STAGED_QUARANTINE_SCHEMA
INGEST_FILES_SCHEMA = {
    "source_file": pl.String,
    "source_format": pl.String,
    "rows_read": pl.Int64,
    "rows_valid": pl.Int64,
    "rows_duplicate": pl.Int64,
    "rows_quarantined": pl.Int64,
    "ingested_at": pl.Datetime("us", "UTC"),
    "status": pl.String,
    "problem": pl.String,
    "rejected_share": pl.Float64,
    "rows_excluded": pl.Int64,
    "rows_in_file": pl.Int64,
    "excluded_reasons": pl.String,
    "first_response_date": pl.Date,
    "last_response_date": pl.Date,
    "rows_held_back": pl.Int64,
    "notes": pl.String,
}
# Snapshots kept for readers that still hold an older nps.duckdb: the newest few, and any younger than this.
SNAPSHOTS_KEPT = 3
READER_STORAGE_VERSION = "v1.0.0"
SNAPSHOT_RETENTION = dt.timedelta(hours=1)
PUBLISHING_MARK = ".publishing-"


def materialise_quarantine(layout: WarehouseLayout, manifests: dict[str, FileManifest]) -> int:
    """Publish every staged file's rejected rows as ``quarantine``, one file per landed file, and return the rows.

    Staging replaces a file's quarantine (a new inode), never edits it: the table holds a link to
    each, and a night links only the files staged since the last one.
    """
    table_dir = layout.table_dir("quarantine")
    table_dir.mkdir(parents=True, exist_ok=True)
    schema_file = table_dir / SCHEMA_FILE
    if not schema_file.exists() or list(pl.read_parquet_schema(schema_file)) != list(QUARANTINE_SCHEMA):
        replace_file(schema_file, pl.DataFrame(schema=QUARANTINE_SCHEMA).write_parquet)
    layout.table_file("quarantine").unlink(missing_ok=True)  # the whole table in one file, before it was kept by file
    wanted = {
        m.file_id: path
        for m in manifests.values()
        if m.status == "staged" and (path := layout.staged_quarantine / f"{m.file_id}.parquet").exists()
    }
    for file_id, source in wanted.items():
        target = layout.landed_file_part("quarantine", file_id)
        if not (target.exists() and os.path.samefile(target, source)):
            replace_file(target, lambda tmp: link_or_copy(source, tmp))
    for part in table_dir.glob("file_id=*"):
        if part.name.split("=", 1)[1] not in wanted:
            shutil.rmtree(part, ignore_errors=True)
    return count_rows(layout.per_file_table_files("quarantine"))


def ingest_files_frame(
    con: duckdb.DuckDBPyConnection, layout: WarehouseLayout, manifests: dict[str, FileManifest], ignored: Iterable[IgnoredEntry] = ()
) -> pl.DataFrame:
    """One accounting row per landed file: rows_read = rows_valid + rows_duplicate + rows_quarantined.

    A file held back keeps its valid rows counted in ``rows_valid`` and repeated in ``rows_held_back``:
    they are valid, and not published until the file is fixed or accepted. Entries of the landing
    zone that are not read (hidden and temporary files) have a row too, with status ``ignored``.
    """
    duplicates = con.sql(sql("select_file_version_counts"), params={"superseded": str(layout.superseded)}).pl()
    held = layout.held_back()
    rows = [
        {
            "source_file": m.source_file,
            "source_format": m.source_format,
            "rows_read": m.rows_read,
            "rows_staged": m.rows_staged,
            "rows_quarantined": m.rows_quarantined,
            "ingested_at": dt.datetime.fromisoformat(m.ingested_at),
            "status": "held_back" if m.file_id in held else m.status,
            "problem": held.get(m.file_id, m.problem),
            "rows_held_back": m.rows_staged if m.file_id in held else 0,
            "notes": "; ".join(m.notes) or None,
            "rejected_share": round(m.rejected_share, 6),
            "rows_excluded": m.rows_excluded,
            "rows_in_file": m.rows_read + m.rows_excluded,
            "excluded_reasons": "; ".join(f"{reason}: {n}" for reason, n in m.excluded_reasons.items()) or None,
            "first_response_date": dt.date.fromisoformat(min(m.days)) if m.days else None,
            "last_response_date": dt.date.fromisoformat(max(m.days)) if m.days else None,
        }
        for m in manifests.values()
    ] + [
        {"source_file": entry.relative_path, "rows_read": 0, "rows_staged": 0, "rows_quarantined": 0, "status": "ignored",
         "problem": entry.reason, "rows_held_back": 0, "rejected_share": 0.0, "rows_excluded": 0, "rows_in_file": 0}
        for entry in ignored
    ]
    from_manifests = {k: t for k, t in INGEST_FILES_SCHEMA.items() if k not in ("rows_valid", "rows_duplicate")}
    frame = (
        pl.DataFrame(rows, schema={**from_manifests, "rows_staged": pl.Int64})
        .join(duplicates, on="source_file", how="left")
        .with_columns(pl.col("rows_duplicate").fill_null(0))
        .with_columns((pl.col("rows_staged") - pl.col("rows_duplicate")).alias("rows_valid"))
        .select(list(INGEST_FILES_SCHEMA))
        .cast(INGEST_FILES_SCHEMA)
        .sort("source_file")
    )
    return frame


def materialise_ingest_files(
    con, layout: WarehouseLayout, manifests: dict[str, FileManifest], ignored: Iterable[IgnoredEntry] = ()
) -> pl.DataFrame:
    frame = ingest_files_frame(con, layout, manifests, ignored)
    write_relation_file(con.from_arrow(frame.to_arrow()), layout.table_file("ingest_files"), layout.tmp)
    return frame


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class TableFile:
    path: str
    name: str
    stat: os.stat_result


def _files_of(directory: Path) -> list[TableFile]:
    """The Parquet files in ``directory`` and its partition folders' ``data.parquet`` (``<column>=<value>/``).

    A partition folder holds its one ``data.parquet`` (and a writer's temporary file at times): a
    stat each, not a listing, as a warehouse has thousands of them.
    """
    found = []
    with os.scandir(directory) as entries:
        for entry in entries:
            if entry.is_dir():
                with contextlib.suppress(FileNotFoundError):
                    path = f"{entry.path}/data.parquet"
                    found.append(TableFile(path, "data.parquet", os.stat(path)))
            elif entry.name.endswith(".parquet") and entry.is_file():
                found.append(TableFile(entry.path, entry.name, entry.stat()))
    return sorted(found, key=lambda f: f.path)


def published_tables(layout: WarehouseLayout) -> dict[str, list[TableFile]]:
    """Each table to publish and the Parquet files it holds now."""
    tables: dict[str, list[TableFile]] = {}
    for table in DAILY_TABLES:
        table_dir = layout.table_dir(table)
        if (table_dir / SCHEMA_FILE).exists():
            tables[table] = _files_of(table_dir)
    for table in PER_FILE_TABLES:
        if (layout.table_dir(table) / SCHEMA_FILE).exists():
            tables[table] = _files_of(layout.table_dir(table))
    for table in SINGLE_FILE_TABLES:
        if layout.table_file(table).exists():
            tables[table] = [e for e in _files_of(layout.table_dir(table)) if e.name == layout.table_file(table).name]
    return tables


@dataclass
class Snapshot:
    """One published version: for each table, its files in the snapshot pool (paths relative to the warehouse)."""

    name: str
    tables: dict[str, list[str]]

    @classmethod
    def read(cls, path: Path) -> "Snapshot":
        return cls(path.stem, json.loads(path.read_text(encoding="utf-8"))["tables"])

    def files(self, layout: WarehouseLayout, table: str, days: Iterable[dt.date] | None = None) -> list[str]:
        """The table's files (absolute), a daily table's for ``days`` only (with its row-less schema file)."""
        relative = self.tables.get(table, [])
        if days is not None and table in DAILY_TABLES:
            wanted = {f"{partition_column(table)}={d.isoformat()}" for d in days}
            # snapshots/pool/<table>/<column>=<day>/<file>, or the table's own _schema file
            relative = [f for f in relative if f.rsplit("/", 2)[-2] in wanted or "/_schema." in f]
        root = str(layout.root)
        return [f"{root}/{f}" for f in relative]


def _pool_name(root: str, entry: TableFile) -> str:
    """Where a file's frozen copy lives: named by inode and modification time, so a rewritten file is a new name."""
    stat = entry.stat
    folder, name = os.path.split(entry.path[len(root) + 1 :])
    return f"snapshots/pool/{folder}/{name[: -len('.parquet')]}.{stat.st_ino}-{stat.st_mtime_ns}.parquet"


def _snapshot(layout: WarehouseLayout, tables: dict[str, list[TableFile]]) -> Snapshot:
    """Freeze the tables as they are now: each file hard-linked into ``snapshots/pool/`` (once), listed in a manifest.

    Writers replace files (``os.replace`` makes a new inode), never edit them, so a link keeps the
    exact bytes published: a run that dies half-way leaves what readers see untouched. A file
    unchanged since the last snapshot is in the pool already: a night links only what it rewrote.
    """
    version = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ") + "-" + uuid.uuid4().hex[:8]
    previous = current_snapshot(layout)
    pooled = {name for files in previous.tables.values() for name in files} if previous else set()
    root = str(layout.root)
    frozen: dict[str, list[str]] = {}
    for table, entries in tables.items():
        frozen[table] = []
        for entry in entries:
            name = _pool_name(root, entry)
            if name not in pooled:
                with contextlib.suppress(FileExistsError):  # pooled by an older snapshot: the same inode
                    link_or_copy(Path(entry.path), layout.root / name)
            frozen[table].append(name)
    atomic_write_bytes(layout.snapshots / f"{version}.json", json.dumps({"tables": frozen}).encode("utf-8"))
    return Snapshot(version, frozen)


def current_snapshot(layout: WarehouseLayout) -> Snapshot | None:
    """The newest published snapshot."""
    versions = sorted(layout.snapshots.glob("*.json")) if layout.snapshots.exists() else []
    return Snapshot.read(versions[-1]) if versions else None


def uniform_tables(layout: WarehouseLayout, snapshot: Snapshot) -> list[str]:
    """The tables whose files all have the same columns and types.

    A pool file never changes, so each one's columns are read from its footer once and kept in
    ``_internal/file_schemas.json``: each distinct column list once, and each pool file's index into them.
    """
    cache_path = layout.internal / "file_schemas.json"
    try:
        cached = json.loads(cache_path.read_text(encoding="utf-8"))
        known = {name: tuple(cached["schemas"][i]) for name, i in cached["files"].items()}
    except (FileNotFoundError, ValueError, KeyError, TypeError, IndexError):
        known = {}
    schemas: dict[tuple[str, ...], int] = {}
    files: dict[str, int] = {}
    uniform = []
    for table, names in snapshot.tables.items():
        seen = set()
        for name in names:
            columns = known.get(name)
            if columns is None:
                columns = tuple(sorted(f"{column}:{kind}" for column, kind in pl.read_parquet_schema(layout.root / name).items()))
            files[name] = schemas.setdefault(columns, len(schemas))
            seen.add(columns)
        if len(seen) == 1:
            uniform.append(table)
    atomic_write_bytes(cache_path, json.dumps({"schemas": [list(c) for c in schemas], "files": files}).encode("utf-8"))
    return uniform


def prune_snapshots(
    layout: WarehouseLayout, keep: int = SNAPSHOTS_KEPT, retention: dt.timedelta = SNAPSHOT_RETENTION, sweep: bool = False
) -> list[str]:
    """Remove snapshots older than ``retention`` beyond the newest ``keep`` (a reader may still hold one),
    then the pool files only they listed.

    A pool file is linked by the publish that lists it, so the removed snapshots' files are the only
    ones that can fall out of use; ``sweep`` also walks the whole pool for files no snapshot lists
    (left by a publish that died between linking and writing its manifest).
    """
    if not layout.snapshots.exists():
        return []
    cutoff = time.time() - retention.total_seconds()
    versions = sorted(layout.snapshots.glob("*.json"))
    removed, released = [], set()
    for path in versions[:-keep] if keep else versions:
        if path.stat().st_mtime < cutoff:
            released.update(name for files in Snapshot.read(path).tables.values() for name in files)
            path.unlink(missing_ok=True)
            removed.append(path.stem)
    # Snapshots of the layout before the pool: one folder of links each.
    for path in layout.snapshots.iterdir():
        if path.is_dir() and path.name != "pool" and path.stat().st_mtime < cutoff:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
    if not released and not sweep:
        return removed
    kept = {name for path in layout.snapshots.glob("*.json") for files in Snapshot.read(path).tables.values() for name in files}
    root = str(layout.root)
    if sweep:
        released = {
            f"{folder[len(root) + 1 :]}/{name}" for folder, _, names in os.walk(layout.snapshots / "pool") for name in names
        }
    for name in released - kept:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(root, name))
    return removed


def view_statements(sources: dict[str, str | list[str]], uniform: Iterable[str] = ()) -> list[str]:
    """The NPS macros, then one ``CREATE OR REPLACE VIEW`` per table over its Parquet ``sources`` (a glob or a list).

    A table in ``uniform`` has the same columns in every file: its view binds on one file's
    footer instead of all of them (``union_by_name`` reads every footer, about 0.15 ms a file).
    """
    uniform = set(uniform)
    # The NPS macros travel with the views: a BI tool can bound or test its own sums the same way.
    statements = [sql("create_nps_macros").strip().rstrip(";") + ";"]
    for table, files in sources.items():
        # DuckDB cannot bind parameters inside a view definition: the warehouse's own paths are
        # written as escaped SQL string literals.
        view = sql("create_published_view").replace("{table}", '"' + table.replace('"', '""') + '"')
        view = view.replace("{union_by_name}", "false" if table in uniform else "true")
        listed = _literal(files) if isinstance(files, str) else "[" + ", ".join(_literal(f) for f in files) + "]"
        statements.append(view.replace("{files}", listed).strip().rstrip(";") + ";")
    return statements


def write_views_db(target: Path, sources: dict[str, str | list[str]], uniform: Iterable[str] = ()) -> None:
    """A DuckDB file at ``target`` with the NPS macros and one view per table over its Parquet ``sources``."""
    # Written in the v1.0 storage format: BI tools bundle older DuckDB releases (Evidence's 1.4/1.5
    # cannot open a file in DuckDB 2.0's own format).
    with duckdb.connect(str(target), config={"storage_compatibility_version": READER_STORAGE_VERSION}) as con:
        for statement in view_statements(sources, uniform):
            con.execute(statement)


def view_sources(tables: Iterable[str], base: str, layout: WarehouseLayout) -> dict[str, str]:
    """Each table's Parquet glob under ``base`` (an s3:// prefix): the live layout."""
    base = base.rstrip("/")
    sources = {}
    for table in tables:
        if table in DAILY_TABLES or table in PER_FILE_TABLES:
            # '**' also matches the table's own folder, so the row-less schema file is always read.
            sources[table] = f"{base}/{table}/**/*.parquet"
        else:
            sources[table] = f"{base}/{layout.table_file(table).relative_to(layout.root).as_posix()}"
    return sources


def snapshot_sources(layout: WarehouseLayout, snapshot: Snapshot) -> dict[str, list[str]]:
    """Each table's files in ``snapshot``, listed one by one (a daily table's schema file first)."""
    return {table: snapshot.files(layout, table) for table in snapshot.tables}


def _build_and_swap(target: Path, sources: dict[str, str | list[str]], uniform: Iterable[str] = ()) -> None:
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        write_views_db(tmp, sources, uniform)
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        with contextlib.suppress(FileNotFoundError):
            tmp.with_name(tmp.name + ".wal").unlink()


def publish(layout: WarehouseLayout) -> tuple[list[str], Snapshot]:
    """Freeze the tables in a new snapshot, build ``nps.duckdb`` (views over it) beside the old one and swap it in.

    Until the swap, readers keep the previous snapshot whole; after it, the new one. Returns the
    published tables and the snapshot. Callers hold the warehouse's writer lock.
    """
    layout.snapshots.mkdir(parents=True, exist_ok=True)
    # A mark left by an earlier publish means it died half-way: its links may be in no snapshot.
    interrupted = sorted(layout.snapshots.glob(f"{PUBLISHING_MARK}*"))
    mark = layout.snapshots / f"{PUBLISHING_MARK}{uuid.uuid4().hex}"
    mark.touch()
    snapshot = _snapshot(layout, published_tables(layout))
    _build_and_swap(layout.published_db, snapshot_sources(layout, snapshot), uniform_tables(layout, snapshot))
    prune_snapshots(layout, sweep=bool(interrupted))
    for path in [*interrupted, mark]:
        path.unlink(missing_ok=True)
    return sorted(snapshot.tables), snapshot


def views_script(tables: Iterable[str], base_url: str, layout: WarehouseLayout) -> str:
    """The SQL that creates the NPS macros and a view per table over Parquet under ``base_url``.

    For a bucket: DuckDB binds a view when it is created, which needs its httpfs extension and the
    bucket's credentials, so the script is shipped for the reader to run (`.read nps_views.sql`).
    """
    return "\n\n".join(view_statements(view_sources(tables, base_url, layout))) + "\n"
