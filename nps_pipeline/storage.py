"""Where everything lives on disk, DuckDB connections, atomic file replacement and the writer lock."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import duckdb
import polars as pl

from nps_pipeline.observe import stage
from nps_pipeline.tables import partition_column

PACKAGE_DIR = Path(__file__).resolve().parent
# Where the package ships its SQL and seeds in a wheel (nps_pipeline/sql, nps_pipeline/seeds), and
# where they live in a checkout (sql/, data/seeds/; see pyproject.toml's package-dir).
RESOURCES_IN_CHECKOUT = {"sql": PACKAGE_DIR.parent / "sql", "seeds": PACKAGE_DIR.parent / "data" / "seeds"}


def resource_dir(kind: str) -> Path:
    """The shipped ``sql`` statements or ``seeds``: inside the installed package, else in the checkout."""
    bundled = PACKAGE_DIR / kind
    return bundled if bundled.is_dir() else RESOURCES_IN_CHECKOUT[kind]


def seed_file(name: str) -> Path:
    """A shipped seed file (case rules, theme lexicon, benchmarks, the demo's population shares)."""
    return resource_dir("seeds") / name



SCHEMA_FILE = "_schema.parquet"


def sql(name: str) -> str:
    """The text of ``sql/<name>.sql``."""
    return (resource_dir("sql") / f"{name}.sql").read_text(encoding="utf-8")


class WarehouseLayout:
    """Paths under the warehouse directory. ``_internal`` is the pipeline's own, never published."""

    def __init__(self, warehouse_dir: Path | str):
        self.root = Path(warehouse_dir).resolve()
        self.internal = self.root / "_internal"
        self.staged = self.internal / "staged"
        self.staged_quarantine = self.internal / "quarantine"
        self.manifests = self.internal / "files"
        self.tmp = self.internal / "tmp"
        self.published_db = self.root / "nps.duckdb"
        self.snapshots = self.root / "snapshots"
        self.superseded = self.internal / "superseded_versions.parquet"

    def ensure(self) -> None:
        for path in (self.staged, self.staged_quarantine, self.manifests, self.tmp):
            path.mkdir(parents=True, exist_ok=True)

    def table_dir(self, table: str) -> Path:
        return self.root / table

    def day_file(self, table: str, day: dt.date) -> Path:
        return self.table_dir(table) / f"{partition_column(table)}={day.isoformat()}" / "data.parquet"

    def table_file(self, table: str) -> Path:
        return self.table_dir(table) / "data.parquet"

    def landed_file_part(self, table: str, file_id: str) -> Path:
        """A per-file table's file for one landed file."""
        return self.table_dir(table) / f"file_id={file_id}" / "data.parquet"

    def per_file_table_files(self, table: str) -> list[str]:
        """A per-file table's files, led by its row-less schema file."""
        table_dir = self.table_dir(table)
        files = [table_dir / SCHEMA_FILE] if (table_dir / SCHEMA_FILE).exists() else []
        return [str(p) for p in [*files, *sorted(table_dir.glob("file_id=*/data.parquet"))]]

    def staged_month_dir(self, month: str) -> Path:
        """Staged rows are stored by month (``YYYY-MM``), each file sorted by day: few files, cheap day reads."""
        return self.staged / f"month={month}"

    @property
    def staged_schema_file(self) -> Path:
        return self.staged / SCHEMA_FILE

    @property
    def staged_quarantine_schema_file(self) -> Path:
        return self.staged_quarantine / SCHEMA_FILE

    @property
    def held_back_file(self) -> Path:
        return self.internal / "held_back.json"

    def held_back(self) -> dict[str, str]:
        """The staged files held back (file id -> reason): their rows are not published."""
        try:
            return json.loads(self.held_back_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}

    def _published_staged(self, paths: Iterable[Path]) -> list[str]:
        held = self.held_back()
        return sorted(str(p) for p in paths if p.stem not in held)

    def staged_files_for_days(self, days: Iterable[dt.date]) -> list[str]:
        """The staged files of ``days`` (held-back files left out), led by the (row-less) schema file so a read never comes up empty."""
        files: list[str] = [str(self.staged_schema_file)]
        for month in sorted({d.strftime("%Y-%m") for d in days}):
            files.extend(self._published_staged(self.staged_month_dir(month).glob("*.parquet")))
        return files

    def table_files_for_days(self, table: str, days: Iterable[dt.date]) -> list[str]:
        """A daily table's files for ``days``, led by its row-less schema file so a read never comes up empty."""
        files = [self.table_dir(table) / SCHEMA_FILE, *(self.day_file(table, d) for d in days)]
        return [str(p) for p in files if p.exists()]

    def newest_day(self, table: str) -> dt.date | None:
        """The latest day a daily table holds a file for."""
        days = [p.parent.name.split("=", 1)[1] for p in self.table_dir(table).glob(f"{partition_column(table)}=*/data.parquet")]
        return dt.date.fromisoformat(max(days)) if days else None

    def days_with_files(self, table: str, days: Iterable[dt.date]) -> list[dt.date]:
        """The days among ``days`` that ``table`` holds a file for (for ``nps_daily``: the materialised days)."""
        return [d for d in days if self.day_file(table, d).exists()]

    def all_staged_files(self) -> list[str]:
        return [str(self.staged_schema_file), *self._published_staged(self.staged.glob("month=*/*.parquet"))]

    def new_tmp_dir(self) -> Path:
        path = self.tmp / uuid.uuid4().hex
        path.mkdir(parents=True)
        return path

    @contextlib.contextmanager
    def writer_lock(self) -> Iterator[None]:
        """Serialise the pipeline's writers across processes (staging, table replacement)."""
        self.internal.mkdir(parents=True, exist_ok=True)
        with open(self.internal / ".lock", "a+") as handle:
            with stage("waiting_for_lock"):
                fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def days_in(start: dt.date, end_exclusive: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end_exclusive - start).days)]


def chunks(days: list[dt.date], size: int = 31) -> list[list[dt.date]]:
    """Consecutive runs of at most ``size`` days, to bound the memory of one query."""
    return [days[i : i + size] for i in range(0, len(days), size)]


def connect(layout: WarehouseLayout, memory_limit: str = "1GB") -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with the NPS macros, spilling to the warehouse's tmp dir."""
    layout.ensure()
    con = duckdb.connect(
        config={
            "memory_limit": memory_limit,
            "temp_directory": str(layout.tmp / "duckdb_spill"),
            "threads": max(1, os.cpu_count() or 1),
        }
    )
    con.execute("SET TimeZone = 'UTC'")
    con.execute(sql("create_nps_macros"))
    return con


def link_or_copy(source: Path, target: Path) -> None:
    """A hard link of ``source`` at ``target`` (no bytes copied); a copy where links cannot be made."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except FileExistsError:
        raise
    except OSError:  # a file system without hard links (or another device): a copy does the same job
        shutil.copy2(source, target)


def replace_file(path: Path, write) -> None:
    """Write a file beside ``path`` with ``write(tmp)`` and rename it into place: readers see old or new."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    replace_file(path, lambda tmp: tmp.write_bytes(data))


def merged_frame(con: duckdb.DuckDBPyConnection, files: list[str]) -> pl.DataFrame:
    """The rows of ``files`` in one frame, columns matched by name.

    polars reads the files in parallel, on the first file's columns (a table's row-less schema
    file leads its list); files with other columns or types are merged by DuckDB's ``union_by_name``.
    """
    try:
        return pl.scan_parquet(files, hive_partitioning=False, missing_columns="insert", extra_columns="raise").collect()
    except pl.exceptions.PolarsError:
        return con.sql(sql("select_parquet_files"), params={"files": files}).pl()


def merge_parquet_files(con: duckdb.DuckDBPyConnection, files: list[str], target: Path) -> None:
    """The rows of ``files`` in one Parquet file at ``target`` (``merged_frame``)."""
    merged_frame(con, files).write_parquet(target)


def _file_identity(path: str) -> str | None:
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return f"{stat.st_ino}-{stat.st_mtime_ns}-{stat.st_size}"


def merge_days_reusing(con: duckdb.DuckDBPyConnection, layout: "WarehouseLayout", table: str, days: list[dt.date], target: Path) -> None:
    """``table``'s rows for ``days`` in one file at ``target``, as ``merge_parquet_files`` would write them.

    The last merge is kept in ``_internal/merged/`` with each day file's identity (inode, mtime,
    size): a day whose file is unchanged since is taken from it, so a night reads its new days'
    files and one merged file instead of every day's. A file replaced in between (a backfilled
    day) has a new identity and is read again; a change of columns merges every file afresh.
    """
    column = partition_column(table)
    folder = str(layout.table_dir(table))  # strings, not Paths: a night stats every day of the window
    identities = {day: identity for day in days if (identity := _file_identity(f"{folder}/{column}={day.isoformat()}/data.parquet"))}
    days_now = {day.isoformat(): identity for day, identity in identities.items()}
    schema_file = layout.table_dir(table) / SCHEMA_FILE
    cache = layout.internal / "merged" / f"{table.replace('/', '__')}.parquet"
    # Read the kept merge through a link of its own: a concurrent run may replace it meanwhile.
    kept = target.with_name(f".kept-{target.name}")
    known: dict[str, str] = {}
    with contextlib.suppress(OSError, ValueError, pl.exceptions.PolarsError):
        link_or_copy(cache, kept)
        if pl.read_parquet_schema(kept) == pl.read_parquet_schema(schema_file):
            known = json.loads(pl.read_parquet_metadata(kept).get("days", "{}"))
    try:
        if known and known == days_now:  # an earlier step of this run made this very merge
            os.replace(kept, target)
            return
        reused = [day for day, identity in identities.items() if known.get(day.isoformat()) == identity]
        fresh = [str(layout.day_file(table, day)) for day in identities if day not in reused]
        leading = [str(schema_file)] if schema_file.exists() else []
        frame = None
        if reused:
            with contextlib.suppress(pl.exceptions.PolarsError):
                parts = [pl.scan_parquet(kept).filter(pl.col(column).is_in(reused))]
                if fresh:
                    parts.append(pl.scan_parquet([*leading, *fresh], hive_partitioning=False, missing_columns="insert", extra_columns="raise"))
                frame = pl.concat(parts).sort(column, maintain_order=True).collect()
        if frame is None:
            frame = merged_frame(con, [*leading, *(str(layout.day_file(table, day)) for day in identities)])
        replace_file(cache, lambda tmp: frame.write_parquet(tmp, metadata={"days": json.dumps(days_now)}))
        link_or_copy(cache, target)
    finally:
        kept.unlink(missing_ok=True)


@contextlib.contextmanager
def merged_day_files(con: duckdb.DuckDBPyConnection, layout: "WarehouseLayout", table: str, days: list[dt.date]) -> Iterator[list[str]]:
    """``table``'s files for ``days`` as one temporary merged file (``merge_days_reusing``); none if it has no files.

    Queries that read a table over many days read one footer instead of one per day.
    """
    if not layout.table_files_for_days(table, days):
        yield []
        return
    layout.tmp.mkdir(parents=True, exist_ok=True)
    target = layout.tmp / f"merged-{table.replace('/', '__')}-{uuid.uuid4().hex}.parquet"
    try:
        merge_days_reusing(con, layout, table, days, target)
        yield [str(target)]
    finally:
        target.unlink(missing_ok=True)


def write_relation_file(relation: duckdb.DuckDBPyRelation, target: Path, tmp_root: Path) -> int:
    """Write a relation to one Parquet file, replacing ``target`` atomically. Returns the row count."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_root / f"{uuid.uuid4().hex}.parquet"
    with stage("query_and_write"):
        relation.to_parquet(str(tmp))
    rows = count_rows([str(tmp)])
    with stage("swap_in"):
        os.replace(tmp, target)
    return rows


def count_rows(files: list[str]) -> int:
    """Rows in Parquet files, from their footers (no data read)."""
    if not files:
        return 0
    return duckdb.sql(sql("count_parquet_rows"), params={"files": files}).fetchall()[0][0]


def refresh_derived_days(
    con: duckdb.DuckDBPyConnection,
    layout: WarehouseLayout,
    source: str,
    target: str,
    query: str,
    days: list[dt.date],
    params: dict | None = None,
) -> list[dt.date]:
    """Bring ``target``, one file per day derived from the daily table ``source`` by ``query`` (over ``$files``), up to date for ``days``.

    A day is derived again when its source file is newer than its own, so a re-run day, a warehouse
    from before ``target`` existed, or a run that died half-way is caught up; a day without a source
    file loses its own. Returns the days derived now.
    """
    params = params or {}
    schema_file = layout.table_dir(target) / SCHEMA_FILE
    if not schema_file.exists():  # every read starts with it, so none comes up empty
        source_schema = str(layout.table_dir(source) / SCHEMA_FILE)
        write_relation_file(con.sql(sql(query), params={**params, "files": [source_schema]}), schema_file, layout.tmp)
    stale = []
    for day in days:
        origin, derived = layout.day_file(source, day), layout.day_file(target, day)
        if not origin.exists():
            derived.unlink(missing_ok=True)
        elif not derived.exists() or derived.stat().st_mtime_ns < origin.stat().st_mtime_ns:
            stale.append(day)
    for chunk in chunks(stale):
        files = [str(layout.day_file(source, day)) for day in chunk]
        replace_days(con.sql(sql(query), params={**params, "files": files}), layout, target, chunk)
        # A day that derives no row still gets its (empty) file: it is up to date, not stale.
        for day in chunk:
            if not layout.day_file(target, day).exists():
                atomic_write_bytes(layout.day_file(target, day), schema_file.read_bytes())
    return stale


def replace_days_in_chunks(
    con: duckdb.DuckDBPyConnection,
    layout: WarehouseLayout,
    table: str,
    days: list[dt.date],
    statement: str,
    params: Callable[[list[dt.date]], dict],
) -> dict[dt.date, int]:
    """``replace_days`` a month at a time, each month's rows from ``statement`` with ``params(chunk)``: memory follows the month."""
    written: dict[dt.date, int] = {}
    for chunk in chunks(days):
        written.update(replace_days(con.sql(sql(statement), params=params(chunk)), layout, table, chunk))
    return written


def replace_days(
    relation: duckdb.DuckDBPyRelation,
    layout: WarehouseLayout,
    table: str,
    days: list[dt.date],
) -> dict[dt.date, int]:
    """Replace each day of ``table`` by the relation's rows for that day (``response_date``, or the table's partition column).

    Each day file is swapped in with one ``os.replace``: a reader sees the old day or the new one.
    A day without rows loses its file. Returns the row count written per day.
    """
    table_dir = layout.table_dir(table)
    table_dir.mkdir(parents=True, exist_ok=True)
    write_relation_file(relation.limit(0), table_dir / SCHEMA_FILE, layout.tmp)

    tmp_dir = layout.new_tmp_dir()
    try:
        column = partition_column(table)
        with stage("query_and_write"):
            relation.to_parquet(str(tmp_dir), partition_by=[column], write_partition_columns=True)
        new_files: dict[dt.date, Path] = {}
        for part_dir in tmp_dir.glob(f"{column}=*"):
            day = dt.date.fromisoformat(part_dir.name.split("=", 1)[1])
            parts = sorted(part_dir.glob("*.parquet"))
            if len(parts) != 1:
                merged = tmp_dir / f"merged-{day.isoformat()}.parquet"
                duckdb.sql(sql("select_parquet_files"), params={"files": [str(p) for p in parts]}).to_parquet(str(merged))
                parts = [merged]
            new_files[day] = parts[0]
        unexpected = sorted(set(new_files) - set(days))
        if unexpected:
            raise RuntimeError(f"{table}: rows for days outside the run's window, e.g. {unexpected[:3]}")
        written = {day: 0 for day in days}
        if new_files:
            counts = duckdb.sql(
                sql("select_parquet_file_row_counts"), params={"files": [str(p) for p in new_files.values()]}
            ).fetchall()
            rows_by_file = {Path(name): rows for name, rows in counts}
            for day, path in new_files.items():
                written[day] = rows_by_file[path]
        with stage("swap_in"):
            for day in days:
                target = layout.day_file(table, day)
                if day in new_files:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(new_files[day], target)
                else:
                    with contextlib.suppress(FileNotFoundError):
                        target.unlink()
        return written
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
