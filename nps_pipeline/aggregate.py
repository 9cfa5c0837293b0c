"""Aggregate: additive score counts, then daily NPS overall and by segment with adjusted-Wald 95 % bounds.

Every figure is computed from summed counts of each score, so any window is a sum of days.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from nps_pipeline.storage import WarehouseLayout, replace_days, sql


def materialise_nps_score_counts_daily(
    con: duckdb.DuckDBPyConnection, layout: WarehouseLayout, days: list[dt.date], attribute_names: list[str]
) -> dict[dt.date, int]:
    relation = con.sql(
        sql("select_nps_score_counts_daily"),
        params={"files": layout.table_files_for_days("responses", days), "attribute_names": attribute_names},
    )
    return replace_days(relation, layout, "nps_score_counts_daily", days)


def nps_daily_relation(con: duckdb.DuckDBPyConnection, layout: WarehouseLayout, days: list[dt.date]):
    return con.sql(
        sql("select_nps_daily"),
        params={
            "files": layout.table_files_for_days("nps_score_counts_daily", days),
            "start": days[0],
            "end": days[-1] + dt.timedelta(days=1),
        },
    )


def materialise_nps_daily(con, layout: WarehouseLayout, days: list[dt.date]) -> dict[dt.date, int]:
    return replace_days(nps_daily_relation(con, layout, days), layout, "nps_daily", days)


def materialise_nps_daily_segment(con, layout: WarehouseLayout, days: list[dt.date]) -> dict[dt.date, int]:
    relation = con.sql(
        sql("select_nps_daily_segment"), params={"files": layout.table_files_for_days("nps_score_counts_daily", days)}
    )
    return replace_days(relation, layout, "nps_daily_segment", days)
