"""Aggregate: daily NPS overall and by segment, with adjusted-Wald 95 % bounds."""

from __future__ import annotations

import datetime as dt

import duckdb

from nps_pipeline.storage import SCHEMA_FILE, WarehouseLayout, replace_days, sql


def _responses_files(layout: WarehouseLayout, days: list[dt.date]) -> list[str]:
    # The schema file (no rows) keeps the read valid for a window without any response.
    return [str(layout.table_dir("responses") / SCHEMA_FILE), *layout.table_files_for_days("responses", days)]


def nps_daily_relation(con: duckdb.DuckDBPyConnection, layout: WarehouseLayout, days: list[dt.date]):
    return con.sql(
        sql("select_nps_daily"),
        params={"files": _responses_files(layout, days), "start": days[0], "end": days[-1] + dt.timedelta(days=1)},
    )


def materialise_nps_daily(con, layout: WarehouseLayout, days: list[dt.date]) -> dict[dt.date, int]:
    return replace_days(nps_daily_relation(con, layout, days), layout, "nps_daily", days)


def materialise_nps_daily_segment(con, layout: WarehouseLayout, days: list[dt.date]) -> dict[dt.date, int]:
    relation = con.sql(sql("select_nps_daily_segment"), params={"files": _responses_files(layout, days)})
    return replace_days(relation, layout, "nps_daily_segment", days)
