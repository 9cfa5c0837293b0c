"""De-duplicate: one kept version per response_id, the latest landed file winning; losers recorded."""

from __future__ import annotations

import datetime as dt
import secrets

import duckdb

from nps_pipeline.storage import WarehouseLayout, atomic_write_bytes, chunks, replace_days, sql, write_relation_file


def pseudonym_key(layout: WarehouseLayout, override: str | None = None) -> str:
    """The secret mixed into respondent keys: from configuration, else created once per warehouse."""
    if override:
        return override
    path = layout.internal / "pseudonym.key"
    if not path.exists():
        atomic_write_bytes(path, secrets.token_hex(32).encode("ascii"))
    return path.read_text(encoding="ascii").strip()


def rebuild_kept_versions(con: duckdb.DuckDBPyConnection, layout: WarehouseLayout) -> int:
    """Choose the kept version of every staged response_id, across all files and days.

    Rebuilt whenever staging changed; every day reads its kept versions from it, so a day's result
    never depends on the range it was run in. Returns the number of distinct response_ids.
    """
    relation = con.sql(sql("select_kept_versions"), params={"files": layout.all_staged_files()})
    return write_relation_file(relation, layout.kept_versions, layout.tmp)


def materialise_responses(
    con: duckdb.DuckDBPyConnection, layout: WarehouseLayout, days: list[dt.date], key: str
) -> tuple[dict[dt.date, int], dict[dt.date, int]]:
    """Replace ``responses`` and ``duplicates`` for ``days``; returns rows written per day for each."""
    if not layout.kept_versions.exists():
        rebuild_kept_versions(con, layout)
    con.execute(
        sql("create_kept_window_table"),
        {
            "kept_versions": str(layout.kept_versions),
            "window_files": layout.staged_files_for_days(days),
            "first_day": days[0],
            "last_day": days[-1],
        },
    )
    kept: dict[dt.date, int] = {}
    superseded: dict[dt.date, int] = {}
    for chunk in chunks(days):
        window = {"window_files": layout.staged_files_for_days(chunk), "first_day": chunk[0], "last_day": chunk[-1]}
        responses = con.sql(sql("select_responses"), params={"pseudonym_key": key, **window})
        duplicates = con.sql(sql("select_duplicates"), params=window)
        kept.update(replace_days(responses, layout, "responses", chunk))
        superseded.update(replace_days(duplicates, layout, "duplicates", chunk))
    return kept, superseded
