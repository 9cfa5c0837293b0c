"""Close-the-loop metrics: the score before contact, the next response after it, and the metrics per day, week and owner."""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from nps_pipeline.storage import WarehouseLayout, days_in, sql, write_relation_file
from nps_pipeline.defs.follow_up.case_schema import NEXT_SCHEMA


def score_before_contact(case_responses: pl.DataFrame, state: pl.DataFrame) -> pl.DataFrame:
    """Contacted cases with the customer's last case score before the first contact."""
    contacted = state.filter(pl.col("contacted_at").is_not_null() & pl.col("respondent_key").is_not_null())
    scores = (
        case_responses.filter(pl.col("active"))
        .join(contacted.select("case_id", "contacted_at"), on="case_id")
        .sort("submitted_at")
        .group_by("case_id")
        .agg(
            pl.col("score").filter(pl.col("submitted_at") <= pl.col("contacted_at")).last().alias("before"),
            pl.col("score").first().alias("first"),
        )
        .select("case_id", pl.coalesce("before", "first").cast(pl.Int64).alias("score_before_contact"))
    )
    return contacted.select("case_id", "respondent_key", "contacted_at").join(scores, on="case_id")


def _lookup_next(con: duckdb.DuckDBPyConnection, layout: WarehouseLayout, contacted: pl.DataFrame, days: list[dt.date]) -> pl.DataFrame:
    """Each contacted case's first response from the customer after the contact, among ``days``."""
    if contacted.is_empty() or not days:
        return pl.DataFrame(schema=NEXT_SCHEMA)
    contacted_cases = contacted  # noqa: F841 - scanned by name in the SQL
    files = layout.table_files_for_days("responses", days)
    return con.sql(sql("select_next_responses"), params={"history_files": files}).pl().cast(NEXT_SCHEMA)


def _earliest_next(frames: list[pl.DataFrame]) -> pl.DataFrame:
    return (
        pl.concat([f.select(list(NEXT_SCHEMA)).cast(NEXT_SCHEMA) for f in frames])
        .sort("next_submitted_at", "next_response_id")
        .unique("case_id", keep="first", maintain_order=True)
    )


def known_next_responses(previous: pl.DataFrame, contacted: pl.DataFrame) -> pl.DataFrame:
    """The next responses ``previous`` (a cases table) already found for the ``contacted`` cases."""
    if "next_response_id" not in previous.columns:
        return pl.DataFrame(schema=NEXT_SCHEMA)
    known = previous.select(list(NEXT_SCHEMA)).cast(NEXT_SCHEMA).filter(pl.col("next_response_id").is_not_null())
    return known.join(contacted.select("case_id"), on="case_id", how="semi")


def next_responses(
    con: duckdb.DuckDBPyConnection,
    layout: WarehouseLayout,
    contacted: pl.DataFrame,
    window: list[dt.date],
    history_days: int,
    previous: pl.DataFrame,
    renewed: set[str],
) -> pl.DataFrame:
    """Each contacted case's next response from the customer, and whether it improved on the score before contact.

    A case whose contact changed in this run (``renewed``), or whose known next response lies in
    the window, is looked up over the days since its contact (at most ``history_days`` before the
    window's end); any other keeps its known next response unless the window brings an earlier one.
    """
    if contacted.is_empty():
        return pl.DataFrame(schema=NEXT_SCHEMA)
    known = known_next_responses(previous, contacted)
    stale = known.filter(pl.col("next_submitted_at").dt.date().is_in(window))["case_id"].to_list()
    full_ids = renewed | set(stale)
    full = contacted.filter(pl.col("case_id").is_in(list(full_ids)))
    found = [known.filter(~pl.col("case_id").is_in(list(full_ids))), _lookup_next(con, layout, contacted.filter(~pl.col("case_id").is_in(list(full_ids))), window)]
    if not full.is_empty():
        last_day = window[-1]
        first = max(full["contacted_at"].min().date(), last_day - dt.timedelta(days=history_days))
        found.append(_lookup_next(con, layout, full, days_in(first, last_day + dt.timedelta(days=1))))
    return (
        _earliest_next(found)
        .drop("improved")
        .join(contacted.select("case_id", "score_before_contact"), on="case_id")
        .with_columns(improved=pl.col("next_score") > pl.col("score_before_contact"))
        .select(list(NEXT_SCHEMA))
    )


def metrics_as_of(cases: pl.DataFrame) -> dt.datetime:
    """The moment the metrics describe: the latest response or update the cases know of."""
    moments = [cases[c].max() for c in ("latest_submitted_at", "contacted_at", "resolved_at") if not cases.is_empty()]
    moments = [m for m in moments if m is not None]
    return max(moments) if moments else dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


# What select_case_metrics and metrics_as_of read of the cases.
METRICS_COLUMNS = (
    "opened_date", "due_at", "status", "owner", "contacted_at", "resolved_at", "next_response_id", "improved",
    "hours_to_first_contact", "contacted_within_sla", "latest_submitted_at",
)


def materialise_case_metrics(con: duckdb.DuckDBPyConnection, layout: WarehouseLayout, timezone: str) -> pl.DataFrame:
    """Close-the-loop metrics per day and week of opening, per owner, from the published cases."""
    cases = pl.read_parquet(layout.table_file("detractor_cases"), columns=list(METRICS_COLUMNS))
    con.register("cases", cases)
    try:
        relation = con.sql(sql("select_case_metrics"), params={"as_of": metrics_as_of(cases), "timezone": timezone})
        write_relation_file(relation, layout.table_file("case_metrics"), layout.tmp)
    finally:
        con.unregister("cases")
    return pl.read_parquet(layout.table_file("case_metrics"))
