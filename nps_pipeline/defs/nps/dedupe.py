"""De-duplicate: one kept version per response_id, the latest landed file winning; losers recorded."""

from __future__ import annotations

import datetime as dt
import secrets

import duckdb
import polars as pl

from nps_pipeline.defs.ingest.staging import FileManifest, load_manifests
from nps_pipeline.defs.nps.themes import Lexicon, with_language_and_themes
from nps_pipeline.storage import WarehouseLayout, atomic_write_bytes, chunks, replace_days, sql, write_relation_file


def pseudonym_key(layout: WarehouseLayout, override: str | None = None) -> str:
    """The secret mixed into respondent keys: from configuration, else created once per warehouse."""
    if override:
        return override
    path = layout.internal / "pseudonym.key"
    if not path.exists():
        atomic_write_bytes(path, secrets.token_hex(32).encode("ascii"))
    return path.read_text(encoding="ascii").strip()


def superseded_versions(versions: pl.DataFrame) -> pl.DataFrame:
    """Every version but the kept one of each response id, with the kept version's file, row, score and day.

    The kept version is the one from the latest landed file (modification time, then path), and
    within a file the last row.
    """
    kept = ["source_file", "source_row", "score", "response_date"]
    return (
        versions.sort(["response_id", "file_order", "source_file", "source_row"], descending=[False, True, True, True])
        .with_columns(pl.col(kept).first().over("response_id").name.prefix("kept_"))
        .filter(pl.int_range(pl.len()).over("response_id") > 0)
        .select("response_id", *kept, *(f"kept_{c}" for c in kept))
    )


def rebuild_superseded_index(con: duckdb.DuckDBPyConnection, layout: WarehouseLayout) -> int:
    """List every staged row superseded by another version of its response_id, across all files and days.

    Every day reads the index, so a day's result never depends on the range it was run in.
    Returns the number of superseded rows.
    """
    versions = con.sql(sql("select_repeated_versions"), params={"files": layout.all_staged_files()}).pl()
    return write_relation_file(con.from_arrow(superseded_versions(versions).to_arrow()), layout.superseded, layout.tmp)


def update_superseded_index(con: duckdb.DuckDBPyConnection, layout: WarehouseLayout, staged_now: list[FileManifest]) -> int:
    """Bring the index up to date after ``staged_now`` were (re)staged, looking only at their response ids.

    The ids concerned are those in the files staged now and those whose versions involved the
    files' previous contents (a re-staged file's rows may be gone). Returns the superseded rows.
    """
    if not layout.superseded.exists():
        return rebuild_superseded_index(con, layout)
    files = [
        str(path)
        for m in staged_now
        for month in sorted({d[:7] for d in m.days})
        if (path := layout.staged_month_dir(month) / f"{m.file_id}.parquet").exists()
    ]
    names = [m.source_file for m in staged_now]
    index = pl.read_parquet(layout.superseded)
    from_files = pl.read_parquet(files, columns=["response_id"]) if files else pl.DataFrame(schema={"response_id": pl.String})
    from_index = index.filter(pl.col("source_file").is_in(names) | pl.col("kept_source_file").is_in(names)).select("response_id")
    affected_ids = pl.concat([from_files, from_index]).unique()  # noqa: F841 - scanned by name in the SQL
    found = superseded_versions(con.sql(sql("select_repeated_versions_of_ids"), params={"files": layout.all_staged_files()}).pl())
    updated = pl.concat([index.filter(~pl.col("response_id").is_in(affected_ids["response_id"].implode())), found.cast(index.schema)])
    return write_relation_file(con.from_arrow(updated.to_arrow()), layout.superseded, layout.tmp)


def superseded_in(con: duckdb.DuckDBPyConnection, layout: WarehouseLayout, days: list[dt.date]) -> int:
    """The staged rows of ``days`` superseded by another version (the duplicates counted in ``ingest_files``)."""
    return con.sql(
        sql("count_superseded_in_days"), params={"superseded": str(layout.superseded), "first_day": days[0], "last_day": days[-1]}
    ).fetchall()[0][0]


def materialise_responses(
    con: duckdb.DuckDBPyConnection, layout: WarehouseLayout, days: list[dt.date], key: str, lexicon: Lexicon
) -> tuple[dict[dt.date, int], dict[dt.date, int]]:
    """Replace ``responses`` and ``duplicates`` for ``days``; returns rows written per day for each.

    ``duplicates`` holds the versions superseded by the one kept and, on the kept version's day, the
    later versions that were quarantined (``version_quarantined``), each with ``why``.

    Each response gets its language (the export's, normalised, else detected) and comment themes.
    """
    if not layout.superseded.exists():
        rebuild_superseded_index(con, layout)
    kept: dict[dt.date, int] = {}
    duplicates: dict[dt.date, int] = {}
    # Quarantined rows are linked to the version kept when they are a later version of it.
    staged = [m for m in load_manifests(layout).values() if m.status == "staged"]
    quarantine = {
        "quarantine_files": [str(layout.staged_quarantine_schema_file), *(str(p) for m in staged if (p := layout.staged_quarantine / f"{m.file_id}.parquet").exists())],
        "quarantine_sources": [m.source_file for m in staged] or [""],
        "quarantine_orders": [m.file_order for m in staged] or [0],
    }
    # Half a month at a time: language detection and themes hold a chunk's rows in polars.
    for chunk in chunks(days, 15):
        window = {"superseded": str(layout.superseded), "first_day": chunk[0], "last_day": chunk[-1]}
        window_files = layout.staged_files_for_days(chunk)
        selected = con.sql(
            sql("select_responses"),
            params={"pseudonym_key": key, "window_files": window_files, **window},
        ).pl()
        responses = con.from_arrow(with_language_and_themes(selected, lexicon).to_arrow())
        linked = con.sql(sql("select_duplicates"), params={**window, "window_files": window_files, **quarantine})
        kept.update(replace_days(responses, layout, "responses", chunk))
        duplicates.update(replace_days(linked, layout, "duplicates", chunk))
    return kept, duplicates
