"""Follow-up: the detractors to call back, with a priority and an SLA due time."""

from __future__ import annotations

import datetime as dt

import duckdb

from nps_pipeline.storage import WarehouseLayout, replace_days, sql


def materialise_detractor_followups(
    con: duckdb.DuckDBPyConnection,
    layout: WarehouseLayout,
    days: list[dt.date],
    *,
    high_value_tiers: tuple[str, ...],
    sla_hours: dict[str, int],
) -> dict[dt.date, int]:
    """Replace ``detractor_followups`` for ``days`` from that window's responses and staged contacts."""
    relation = con.sql(
        sql("select_detractor_followups"),
        params={
            "responses_files": layout.table_files_for_days("responses", days),
            "staged_files": layout.staged_files_for_days(days),
            "first_day": days[0],
            "last_day": days[-1],
            "high_value_tiers": list(high_value_tiers),
            "sla_hours_p1": sla_hours["P1"],
            "sla_hours_p2": sla_hours["P2"],
            "sla_hours_p3": sla_hours["P3"],
        },
    )
    return replace_days(relation, layout, "detractor_followups", days)
