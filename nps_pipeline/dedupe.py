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


def staged_relation(
    con: duckdb.DuckDBPyConnection, layout: WarehouseLayout, statement: str, days: list[dt.date], **params
) -> duckdb.DuckDBPyRelation:
    """Run a statement over the staged rows of ``days``."""
    return con.sql(sql(statement), params={"files": layout.staged_files_for_days(days), **params})


def materialise_responses(
    con: duckdb.DuckDBPyConnection, layout: WarehouseLayout, days: list[dt.date], key: str
) -> tuple[dict[dt.date, int], dict[dt.date, int]]:
    """Replace ``responses`` and ``duplicates`` for ``days``; returns rows written per day for each."""
    responses = staged_relation(con, layout, "select_responses", days, pseudonym_key=key)
    duplicates = staged_relation(con, layout, "select_duplicates", days)
    return (
        replace_days(responses, layout, "responses", days),
        replace_days(duplicates, layout, "duplicates", days),
    )
