"""De-duplicate: one kept version per response_id, the latest landed file winning; losers recorded."""

from __future__ import annotations

import datetime as dt
import secrets

import duckdb

from nps_pipeline.storage import WarehouseLayout, atomic_write_bytes, replace_days, sql


def pseudonym_key(layout: WarehouseLayout, override: str | None = None) -> str:
    """The secret mixed into respondent keys: from configuration, else created once per warehouse."""
    if override:
        return override
    path = layout.internal / "pseudonym.key"
    if not path.exists():
        atomic_write_bytes(path, secrets.token_hex(32).encode("ascii"))
    return path.read_text(encoding="ascii").strip()


def materialise_responses(
    con: duckdb.DuckDBPyConnection, layout: WarehouseLayout, days: list[dt.date], key: str
) -> tuple[dict[dt.date, int], dict[dt.date, int]]:
    """Replace ``responses`` and ``duplicates`` for ``days``; returns rows written per day for each."""
    con.execute(sql("create_ranked_window_table"), {"files": layout.staged_files_for_days(days)})
    responses = con.sql(sql("select_responses"), params={"pseudonym_key": key})
    duplicates = con.sql(sql("select_duplicates"))
    return (
        replace_days(responses, layout, "responses", days),
        replace_days(duplicates, layout, "duplicates", days),
    )
