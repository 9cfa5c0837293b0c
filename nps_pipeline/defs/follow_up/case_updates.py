"""Status updates: the CSVs the teams working the cases drop, read and applied in order, every row kept with whether it applied and why not."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import polars as pl

from nps_pipeline.storage import sql
from nps_pipeline.defs.follow_up.case_schema import (
    STATUSES,
    ACTIVE_STATUSES,
    UPDATE_COLUMNS,
    REQUIRED_UPDATE_COLUMNS,
    EVENTS_SCHEMA,
)


def read_update_files(updates_dir: Path | None) -> tuple[pl.DataFrame, list[str]]:
    """Every row of every ``*.csv`` under ``updates_dir`` (file name order), and the files that could not be read (none without a folder)."""
    frames, problems = [], []
    files = sorted(p for p in updates_dir.rglob("*.csv") if p.is_file()) if updates_dir is not None and updates_dir.exists() else []
    for path in files:
        name = str(path.relative_to(updates_dir))
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            problems.append(f"{name}: not UTF-8 (byte 0x{raw[error.start]:02x} at offset {error.start}); save it as UTF-8 CSV")
            continue
        try:
            frame = pl.read_csv(text.encode("utf-8"), infer_schema=False, truncate_ragged_lines=False)
        except pl.exceptions.PolarsError as error:
            problems.append(f"{name}: not a readable CSV: {str(error).splitlines()[0]}")
            continue
        frame = frame.rename({c: c.strip().lower().replace(" ", "_") for c in frame.columns})
        missing = [c for c in REQUIRED_UPDATE_COLUMNS if c not in frame.columns]
        if missing:
            problems.append(f"{name}: missing column(s) {', '.join(missing)}; expected {', '.join(UPDATE_COLUMNS)}")
            continue
        present = [c for c in UPDATE_COLUMNS if c in frame.columns]
        frame = frame.select(
            pl.lit(name).alias("update_file"),
            pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("update_row"),
            pl.concat_str([pl.col(c).fill_null("") for c in present], separator="|").alias("row_content"),
            *[
                (pl.col(c).str.strip_chars().replace("", None) if c in frame.columns else pl.lit(None, dtype=pl.String)).alias(
                    f"{c}_text" if c in ("contacted_at", "resolved_at") else c
                )
                for c in UPDATE_COLUMNS
            ],
        )
        frames.append(frame)
    schema = {
        "update_file": pl.String, "update_row": pl.Int64, "row_content": pl.String, "case_id": pl.String, "status": pl.String,
        "owner": pl.String, "contacted_at_text": pl.String, "resolved_at_text": pl.String, "root_cause": pl.String, "note": pl.String,
    }
    return (pl.concat(frames) if frames else pl.DataFrame(schema=schema)), problems


def apply_status_updates(
    con: duckdb.DuckDBPyConnection,
    rows: pl.DataFrame,
    events: pl.DataFrame,
    state: pl.DataFrame,
    timezone: str,
    read_at: dt.datetime,
) -> pl.DataFrame:
    """Judge the update rows not yet in the event log, in order; returns the new log entries."""
    pending = rows.join(events.select("update_file", "update_row", "row_content"), on=["update_file", "update_row", "row_content"], how="anti")
    if pending.is_empty():
        return pl.DataFrame(schema=EVENTS_SCHEMA)
    update_rows = pending.with_row_index("order_key")  # noqa: F841 - scanned by name in the SQL
    typed = con.sql(sql("type_case_updates"), params={"timezone": timezone}).pl()
    typed = typed.with_columns(
        pl.col("contacted_at", "resolved_at").dt.convert_time_zone("UTC"),
        status=pl.col("status").str.strip_chars().str.to_lowercase().str.replace_all(r"[\s-]+", "_"),
        case_id=pl.col("case_id").str.strip_chars().str.to_uppercase(),
    )
    open_by_customer = state.filter(pl.col("status").is_in(ACTIVE_STATUSES) & pl.col("respondent_key").is_not_null()).select(
        "respondent_key", pl.col("case_id").alias("other_open_case")
    )
    checked = (
        typed.join(state.select("case_id", "respondent_key", "status"), on="case_id", how="left", suffix="_now")
        .join(open_by_customer, on="respondent_key", how="left")
        .with_columns(other_open_case=pl.when(pl.col("other_open_case") != pl.col("case_id")).then(pl.col("other_open_case")))
        .unique("order_key", keep="first", maintain_order=True)
    )
    allowed = ", ".join(STATUSES)
    reason = (
        pl.when(pl.col("case_id").is_null())
        .then(pl.lit("case_id is empty"))
        .when(pl.col("status_now").is_null())
        .then(pl.format("case {} does not exist", "case_id"))
        .when(pl.col("status").is_null())
        .then(pl.lit("status is empty"))
        .when(~pl.col("status").is_in(STATUSES))
        .then(pl.format("status '{}' is not one of {}", "status", pl.lit(allowed)))
        .when(pl.col("contacted_at_text").is_not_null() & pl.col("contacted_at").is_null())
        .then(pl.format("contacted_at '{}' is not a date and time", "contacted_at_text"))
        .when(pl.col("resolved_at_text").is_not_null() & pl.col("resolved_at").is_null())
        .then(pl.format("resolved_at '{}' is not a date and time", "resolved_at_text"))
        .when((pl.col("status") == "open") & (pl.col("status_now") != "open") & pl.col("other_open_case").is_not_null())
        .then(pl.format("cannot reopen {}: the customer's case {} is open", "case_id", "other_open_case"))
    )
    checked = checked.with_columns(reason=reason)
    rejected_early = checked.filter(pl.col("reason").is_not_null()).with_columns(accepted=pl.lit(False), status_from=pl.col("status_now"))
    to_judge = checked.filter(pl.col("reason").is_null()).with_columns(
        seq=pl.col("order_key").rank("ordinal").over("case_id").cast(pl.Int64)
    )
    case_state_rows = state.filter(pl.col("case_id").is_in(to_judge["case_id"].implode()))  # noqa: F841 - SQL
    pending_updates = to_judge.select(  # noqa: F841 - SQL
        "order_key", "seq", "case_id", "status", "owner", "contacted_at", "resolved_at", "root_cause", "note"
    )
    con.register("case_state", case_state_rows)
    con.register("pending_updates", pending_updates)
    try:
        judged = con.sql(sql("select_case_update_outcomes")).pl()
    finally:
        con.unregister("case_state")
        con.unregister("pending_updates")
    judged = judged.join(to_judge.select("order_key", "update_file", "update_row", "row_content"), on="order_key")
    start = (events["event_seq"].max() or 0) + 1 if not events.is_empty() else 1
    entries = pl.concat(
        [
            frame.select([c for c in EVENTS_SCHEMA if c in frame.columns] + ["order_key"]).with_columns(
                [pl.lit(None).alias(c) for c in EVENTS_SCHEMA if c not in frame.columns]
            )
            for frame in (rejected_early, judged)
        ],
        how="diagonal_relaxed",
    )
    return (
        entries.sort("order_key")
        .with_columns(
            event_seq=pl.int_range(start, start + pl.len(), dtype=pl.Int64),
            read_at=pl.lit(read_at).cast(pl.Datetime("us", "UTC")),
        )
        .select(list(EVENTS_SCHEMA))
        .cast(EVENTS_SCHEMA)
    )


# ---------------------------------------------------------------- the cases table
