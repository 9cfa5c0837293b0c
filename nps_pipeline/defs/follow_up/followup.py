"""Follow-up: every detractor response to call back, with its case's priority, SLA due time and status."""

from __future__ import annotations

import datetime as dt

import duckdb

from nps_pipeline.storage import WarehouseLayout, replace_days_in_chunks


def materialise_detractor_followups(
    con: duckdb.DuckDBPyConnection, layout: WarehouseLayout, days: list[dt.date]
) -> dict[dt.date, int]:
    """Replace ``detractor_followups`` for ``days`` from that window's responses, staged contacts and cases, a month at a time."""
    return replace_days_in_chunks(
        con, layout, "detractor_followups", days, "select_detractor_followups",
        lambda chunk: {
            "responses_files": layout.table_files_for_days("responses", chunk),
            "staged_files": layout.staged_files_for_days(chunk),
            "first_day": chunk[0],
            "last_day": chunk[-1],
            "case_responses_files": layout.table_files_for_days("detractor_case_responses", chunk),
            "cases_file": str(layout.table_file("detractor_cases")),
        },
    )
