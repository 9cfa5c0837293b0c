"""Aggregate: additive score counts, then daily NPS overall and by segment with adjusted-Wald 95 % bounds.

Every figure is computed from summed counts of each score, so any window is a sum of days.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import duckdb

from nps_pipeline.storage import WarehouseLayout, days_in, refresh_derived_days, replace_days, replace_days_in_chunks, sql
from nps_pipeline.defs.nps.weighting import Population, cell_weights


def materialise_nps_score_counts_daily(
    con: duckdb.DuckDBPyConnection, layout: WarehouseLayout, days: list[dt.date], attribute_names: list[str]
) -> dict[dt.date, int]:
    relation = con.sql(
        sql("select_nps_score_counts_daily"),
        params={"files": layout.table_files_for_days("responses", days), "attribute_names": attribute_names},
    )
    return replace_days(relation, layout, "nps_score_counts_daily", days)


def nps_daily_relation(con: duckdb.DuckDBPyConnection, layout: WarehouseLayout, days: list[dt.date], low_sample_threshold: int):
    return con.sql(
        sql("select_nps_daily"),
        params={
            "files": layout.table_files_for_days("nps_score_counts_daily", days),
            "start": days[0],
            "end": days[-1] + dt.timedelta(days=1),
            "low_sample_threshold": low_sample_threshold,
        },
    )


def materialise_nps_daily(con, layout: WarehouseLayout, days: list[dt.date], low_sample_threshold: int) -> dict[dt.date, int]:
    return replace_days(nps_daily_relation(con, layout, days, low_sample_threshold), layout, "nps_daily", days)


def materialise_nps_daily_segment(con, layout: WarehouseLayout, days: list[dt.date], low_sample_threshold: int) -> dict[dt.date, int]:
    relation = con.sql(
        sql("select_nps_daily_segment"),
        params={"files": layout.table_files_for_days("nps_score_counts_daily", days), "low_sample_threshold": low_sample_threshold},
    )
    return replace_days(relation, layout, "nps_daily_segment", days)


# Windows are filed under the day they end. Re-running days [s, e] changes every window holding one of
# them: trailing windows ending up to 89 days after e, and the calendar periods around [s, e] (a quarter
# ends at most 91 days after e). Their previous windows reach back up to 179 days (trailing 90) or
# 184 days (a quarter and the one before it) before s.
LONGEST_TRAILING = 90
LOOKBACK_DAYS = 190
SIGNIFICANCE_LEVEL = 0.05
# Each day's respondent cells for the weighting strata, one folder per list of strata (internal, never published).
WEIGHTING_CELLS = "_internal/weighting_cells"


def quarter_end(day: dt.date) -> dt.date:
    next_quarter_month = (day.month - 1) // 3 * 3 + 4
    first_of_next = dt.date(day.year + (next_quarter_month > 12), (next_quarter_month - 1) % 12 + 1, 1)
    return first_of_next - dt.timedelta(days=1)


def window_end_days(days: list[dt.date]) -> list[dt.date]:
    """The window ends whose windows hold a day of ``days``: the files a run over ``days`` replaces."""
    last = max(days[-1] + dt.timedelta(days=LONGEST_TRAILING - 1), quarter_end(days[-1]))
    return days_in(days[0], last + dt.timedelta(days=1))


def window_span(ends: list[dt.date], lookback_days: int) -> list[dt.date]:
    """The days the windows ending on ``ends`` and ``lookback_days`` before them cover."""
    return days_in(ends[0] - dt.timedelta(days=lookback_days), ends[-1] + dt.timedelta(days=1))


def window_params(layout: WarehouseLayout, days: list[dt.date], source_table: str, lookback_days: int = LOOKBACK_DAYS) -> tuple[dict, list[dt.date]]:
    """Bound parameters shared by the window queries, and the window ends a run over ``days`` replaces.

    ``files`` are the ``source_table`` files of the ends' range and ``lookback_days`` before it;
    ``spine`` the days of that span that are materialised (have an ``nps_daily`` file).
    """
    ends = window_end_days(days)
    around = window_span(ends, lookback_days)
    params = {
        "files": layout.table_files_for_days(source_table, around),
        "spine": layout.days_with_files("nps_daily", around),
        "range_start": ends[0],
        "range_end": ends[-1],
    }
    return params, ends


def materialise_nps_windows(con, layout: WarehouseLayout, days: list[dt.date], low_sample_threshold: int) -> dict[dt.date, int]:
    params, ends = window_params(layout, days, "nps_score_counts_daily")
    relation = con.sql(
        sql("select_nps_windows"),
        params={**params, "low_sample_threshold": low_sample_threshold, "significance_level": SIGNIFICANCE_LEVEL},
    )
    return replace_days(relation, layout, "nps_windows", ends)


def nps_windows_weighted_relation(
    con, params: dict, population: Population | None, low_sample_threshold: int
) -> duckdb.DuckDBPyRelation:
    """Overall NPS per window beside its weighted NPS; ``params`` are the window parameters over the daily cells files."""
    cells = con.sql(sql("select_weighting_cells"), params=params).pl()
    weights = cell_weights(cells, population)
    con.register("window_cells", cells.drop("cell_values").to_arrow())
    con.register("cell_weights", weights.to_arrow())
    return con.sql(
        sql("select_nps_windows_weighted"),
        params={
            "strata_label": ", ".join(population.strata) if population else None,
            "method": population.method if population else None,
            "population_cells": sum(1 for s in population.shares if s["share"] > 0) if population else 0,
            "population_version": population.version if population else None,
            "low_sample_threshold": low_sample_threshold,
        },
    )


def weighting_cells_table(strata: list[str]) -> str:
    """Where each day's respondent cells for ``strata`` are kept: one folder per list of strata, so a new population file starts afresh."""
    signature = hashlib.sha256(json.dumps(strata).encode("utf-8")).hexdigest()[:12]
    return f"{WEIGHTING_CELLS}/{signature}"


def materialise_nps_windows_weighted(
    con, layout: WarehouseLayout, days: list[dt.date], population: Population | None, low_sample_threshold: int
) -> dict[dt.date, int]:
    """Overall NPS per window beside its weighted NPS (NULL where no population file is set).

    Summed from each day's respondent cells (the strata are whatever the population file names),
    kept under ``_internal/weighting_cells`` and derived again only for days whose responses
    changed; without a change test, so only the longest window's days before the range are needed.
    """
    strata = population.strata if population else []
    cells = weighting_cells_table(strata)
    around = window_span(window_end_days(days), LONGEST_TRAILING + 1)
    refresh_derived_days(con, layout, "responses", cells, "select_weighting_cells_daily", around, {"strata": strata})
    params, ends = window_params(layout, days, cells, lookback_days=LONGEST_TRAILING + 1)
    relation = nps_windows_weighted_relation(con, params, population, low_sample_threshold)
    return replace_days(relation, layout, "nps_windows_weighted", ends)


def materialise_nps_themes_daily(
    con: duckdb.DuckDBPyConnection, layout: WarehouseLayout, days: list[dt.date], themes: list[str]
) -> dict[dt.date, int]:
    """Replace ``nps_themes_daily`` for ``days``: each theme's volume and the NPS with and without it."""
    return replace_days_in_chunks(
        con, layout, "nps_themes_daily", days, "select_nps_themes_daily",
        lambda chunk: {
            "files": layout.table_files_for_days("responses", chunk),
            "first_day": chunk[0],
            "last_day": chunk[-1],
            "lexicon_themes": themes,
        },
    )
