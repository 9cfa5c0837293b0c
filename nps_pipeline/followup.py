"""Follow-up: the detractors to call back, with a priority and an SLA due time."""

from __future__ import annotations

import datetime as dt

import duckdb

from nps_pipeline.dedupe import staged_relation
from nps_pipeline.storage import WarehouseLayout, replace_days


def materialise_detractor_followups(
    con: duckdb.DuckDBPyConnection,
    layout: WarehouseLayout,
    days: list[dt.date],
    *,
    key: str,
    high_value_tiers: tuple[str, ...],
    sla_hours: dict[str, int],
) -> dict[dt.date, int]:
    relation = staged_relation(
        con,
        layout,
        "select_detractor_followups",
        days,
        pseudonym_key=key,
        high_value_tiers=list(high_value_tiers),
        sla_hours_p1=sla_hours["P1"],
        sla_hours_p2=sla_hours["P2"],
        sla_hours_p3=sla_hours["P3"],
    )
    return replace_days(relation, layout, "detractor_followups", days)
