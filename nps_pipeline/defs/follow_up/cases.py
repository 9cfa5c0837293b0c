"""Cases: one open case per customer for the detractors to call back, and the status round trip.

The pipeline keeps its case state under ``_internal/cases`` (``case_store.CaseStore``, never
published as such, never replaced by a re-run of a day):

- the case log, one file per day: every detractor response ever assigned, with its case and the
  customer's contact. A re-run of a day refreshes that day's rows (scores, flags) but never changes
  a response's case; a response that is no longer a detractor (an edit) stays, marked inactive.
- the status events: every status-update row ever read from the updates folder, with whether it
  was applied and why not. A person's status is never lost: the log is only appended to, and a
  case's status is the state its last applied update left.
- the cases table and each case's contact (email, name, latest comment) for the CRM hand-off.

Assignment of a new detractor response of a known customer: the customer's open case if there is
one (it joins, raising the case's priority, while the SLA clock stays with the opening); else the
latest closed case if the response was submitted before it closed (a late arrival); else a new
case. A response without a customer key is a case of its own.

A run rebuilds only the cases it touches: those with a response in its window, a status update
read in it, or a contact whose customer answered again in the window. Its cost follows the window,
not the history. The published tables (``detractor_cases``, ``detractor_case_responses`` by day,
``case_status_updates``) are written from the state after each commit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from nps_pipeline.defs.follow_up import lookback
from nps_pipeline import progress
from nps_pipeline.defs.follow_up.case_rules import CaseRules
from nps_pipeline.defs.follow_up.case_store import CaseStore
from nps_pipeline.storage import SCHEMA_FILE, WarehouseLayout, days_in, link_or_copy, replace_file, sql, write_relation_file
from nps_pipeline.defs.nps.themes import tag

STATUSES = ("open", "contacted", "in_progress", "resolved", "closed")
ACTIVE_STATUSES = ("open", "contacted", "in_progress")
UPDATE_COLUMNS = ("case_id", "status", "owner", "contacted_at", "resolved_at", "root_cause", "note")
REQUIRED_UPDATE_COLUMNS = ("case_id", "status")
LEVEL = {"P1": 1, "P2": 2, "P3": 3}

CASE_RESPONSES_SCHEMA = {
    "response_id": pl.String,
    "case_id": pl.String,
    "respondent_key": pl.String,
    "response_date": pl.Date,
    "submitted_at": pl.Datetime("us", "UTC"),
    "case_opened_at": pl.Datetime("us", "UTC"),
    "active": pl.Boolean,
    "score": pl.Int8,
    "previous_score": pl.Int8,
    "repeat_detractor": pl.Boolean,
    "worsening": pl.Boolean,
    "negative_keywords": pl.List(pl.String),
    "themes": pl.List(pl.String),
    "priority_points": pl.Int64,
    "response_priority": pl.String,
    "priority_reasons": pl.String,
    "owner_queue": pl.String,
    "language": pl.String,
    "channel": pl.String,
    "region": pl.String,
    "product": pl.String,
    "touchpoint": pl.String,
    "customer_tier": pl.String,
    "source_file": pl.String,
    "source_row": pl.Int64,
    "comment": pl.String,
    "email": pl.String,
    "respondent_name": pl.String,
}
# Kept in the internal log only: detractor_case_responses carries the pseudonymous key, not these.
PRIVATE_COLUMNS = ("source_file", "source_row", "comment", "email", "respondent_name")
CONTACTS_SCHEMA = {"case_id": pl.String, "email": pl.String, "name": pl.String, "latest_comment": pl.String}
# What the store keeps per case beside its contact, to merge later responses without reading its rows again.
INTERNAL_CASE_COLUMNS = ("best_level", "base_reasons")
# ``revision``: the store commit that last rebuilt the case (null: before revisions were kept).
CASE_PRIVATE_SCHEMA = {
    **CONTACTS_SCHEMA, "best_level": pl.Int64, "base_reasons": pl.String, "score_before_contact": pl.Int64, "revision": pl.Int64,
}
# Taken from a case's latest response.
LATEST_COLUMNS = ("customer_tier", "region", "product", "channel", "touchpoint", "language")
CASE_COLUMNS = (
    "case_id", "respondent_key", "opened_at", "opened_date", "responses", "first_response_id", "latest_response_id",
    "latest_submitted_at", "worst_score", "latest_score", "priority_points", "priority_reasons", "repeat_detractor",
    "worsening", "negative_keywords", "themes", "owner_queue", *LATEST_COLUMNS, "priority", "sla_hours", "due_at",
    "status", "owner", "contacted_at", "resolved_at", "root_cause", "note", "updates_applied", "next_response_id",
    "next_score", "next_submitted_at", "improved", "hours_to_first_contact", "contacted_within_sla",
)
NEXT_SCHEMA = {
    "case_id": pl.String, "next_response_id": pl.String, "next_score": pl.Int8,
    "next_submitted_at": pl.Datetime("us", "UTC"), "improved": pl.Boolean,
}
EVENTS_SCHEMA = {
    "event_seq": pl.Int64,
    "update_file": pl.String,
    "update_row": pl.Int64,
    "row_content": pl.String,
    "case_id": pl.String,
    "status": pl.String,
    "owner": pl.String,
    "contacted_at": pl.Datetime("us", "UTC"),
    "resolved_at": pl.Datetime("us", "UTC"),
    "root_cause": pl.String,
    "note": pl.String,
    "status_from": pl.String,
    "accepted": pl.Boolean,
    "reason": pl.String,
    "state_status": pl.String,
    "state_owner": pl.String,
    "state_contacted_at": pl.Datetime("us", "UTC"),
    "state_resolved_at": pl.Datetime("us", "UTC"),
    "state_root_cause": pl.String,
    "state_note": pl.String,
    "read_at": pl.Datetime("us", "UTC"),
}


def case_store(layout: WarehouseLayout) -> CaseStore:
    return CaseStore.load(layout.internal / "cases")


# ---------------------------------------------------------------- candidates and assignment


def case_candidates(
    con: duckdb.DuckDBPyConnection, layout: WarehouseLayout, days: list[dt.date], rules: CaseRules
) -> pl.DataFrame:
    """The window's detractor responses with history flags, keywords, priority and queue."""
    history = lookback.look_back(con, layout, days, rules.history_days)
    frame = con.sql(
        sql("select_case_candidates"),
        params={
            "window_files": layout.table_files_for_days("responses", days),
            "history_files": history.files,
            "horizon": history.horizon,
            "history_days": rules.history_days,
            "staged_files": layout.staged_files_for_days(days),
            "first_day": days[0],
            "last_day": days[-1],
        },
    ).pl()
    lookback.refresh_summary(con, layout, days, history)
    keywords = tag(
        frame.filter(pl.col("comment").is_not_null()).with_columns(
            theme_language=pl.coalesce("comment_language", "language")
        ),
        rules.keyword_lexicon,
    )
    # The keyword's own text, not the theme name: "cancel, refund".
    found = (
        keywords.select("response_id", "theme_terms")
        .with_columns(
            negative_keywords=pl.col("theme_terms").str.strip_prefix("negative_keyword: ").str.split(", ")
        )
        .drop("theme_terms")
    )
    frame = frame.join(found, on="response_id", how="left").with_columns(
        pl.col("negative_keywords").fill_null(pl.lit([], dtype=pl.List(pl.String)))
    )
    frame = frame.with_columns(priority_points=rules.points(), priority_reasons=rules.reasons())
    frame = frame.with_columns(response_priority=rules.priority(pl.col("priority_points")))
    return frame.with_columns(owner_queue=rules.queue())


def case_index(case_responses: pl.DataFrame) -> pl.DataFrame:
    """Each case's customer and opening, from its rows."""
    return case_responses.group_by("case_id").agg(
        pl.col("respondent_key").drop_nulls().first(),
        pl.col("case_opened_at").min().alias("opened_at"),
    )


def case_state(cases: pl.DataFrame, events: pl.DataFrame) -> pl.DataFrame:
    """Each case's current state: opening, customer (from ``cases``), and what its last applied update left."""
    cases = cases.select("case_id", "respondent_key", "opened_at")
    last = (
        events.filter(pl.col("accepted"))
        .sort("event_seq")
        .group_by("case_id")
        .agg(
            pl.col("state_status").last().alias("status"),
            pl.col("state_owner").last().alias("owner"),
            pl.col("state_contacted_at").last().alias("contacted_at"),
            pl.col("state_resolved_at").last().alias("resolved_at"),
            pl.col("state_root_cause").last().alias("root_cause"),
            pl.col("state_note").last().alias("note"),
        )
    )
    return cases.join(last, on="case_id", how="left").with_columns(pl.col("status").fill_null("open"))


def assign_cases(old: pl.DataFrame, candidates: pl.DataFrame, state: pl.DataFrame, days: list[dt.date]) -> pl.DataFrame:
    """The case log after this window: old rows kept, the window's rows refreshed, new responses assigned."""
    columns = list(CASE_RESPONSES_SCHEMA)
    current_ids = candidates["response_id"]
    known = old.select("response_id", "case_id", "case_opened_at")
    refreshed = candidates.join(known, on="response_id", how="inner").with_columns(active=pl.lit(True))
    untouched = old.filter(~pl.col("response_id").is_in(current_ids.implode()))
    # A response of the window that is no longer a kept detractor stays in its case, inactive.
    untouched = untouched.with_columns(
        active=pl.when(pl.col("response_date").is_in(days)).then(False).otherwise(pl.col("active"))
    )
    new = candidates.join(known, on="response_id", how="anti")

    open_cases = (
        state.filter(pl.col("status").is_in(ACTIVE_STATUSES) & pl.col("respondent_key").is_not_null())
        .sort("opened_at")
        .group_by("respondent_key")
        .agg(pl.col("case_id").last().alias("open_case_id"), pl.col("opened_at").last().alias("open_opened_at"))
    )
    closed_cases = (
        state.filter(~pl.col("status").is_in(ACTIVE_STATUSES) & pl.col("respondent_key").is_not_null())
        .sort("opened_at")
        .group_by("respondent_key")
        .agg(
            pl.col("case_id").last().alias("closed_case_id"),
            pl.col("opened_at").last().alias("closed_opened_at"),
            pl.col("resolved_at").last().alias("closed_at"),
        )
    )
    new = (
        new.join(open_cases, on="respondent_key", how="left")
        .join(closed_cases, on="respondent_key", how="left")
        .with_columns(
            late_for_closed=pl.col("closed_case_id").is_not_null()
            & (pl.col("submitted_at") <= pl.col("closed_at")).fill_null(False)
        )
    )
    # Responses that open a case: per customer, the earliest of those with no case to join.
    opening = new.filter(pl.col("open_case_id").is_null() & ~pl.col("late_for_closed"))
    group = pl.coalesce(pl.col("respondent_key"), pl.col("response_id"))
    opening = opening.with_columns(
        opened_case=pl.col("own_case_id").sort_by("submitted_at", "response_id").first().over(group),
        new_opened_at=pl.col("submitted_at").min().over(group),
    )
    assigned = new.join(opening.select("response_id", "opened_case", "new_opened_at"), on="response_id", how="left").with_columns(
        case_id=pl.coalesce(
            pl.col("open_case_id"),
            pl.when(pl.col("late_for_closed")).then(pl.col("closed_case_id")),
            pl.col("opened_case"),
        ),
        case_opened_at=pl.coalesce(
            pl.when(pl.col("open_case_id").is_not_null()).then(pl.col("open_opened_at")),
            pl.when(pl.col("late_for_closed")).then(pl.col("closed_opened_at")),
            pl.col("new_opened_at"),
        ),
        active=pl.lit(True),
    )
    return (
        pl.concat(
            [frame.select(columns).cast(CASE_RESPONSES_SCHEMA) for frame in (untouched, refreshed, assigned)]
        )
        .sort("submitted_at", "response_id")
    )


# ---------------------------------------------------------------- status updates


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


def aggregate_case_rows(case_responses: pl.DataFrame) -> pl.DataFrame:
    """Per case, what its rows add up to (before priority, SLA and status are derived)."""
    rows = case_responses.with_columns(level=pl.col("response_priority").replace_strict(LEVEL, return_dtype=pl.Int64))
    counted = rows.filter(pl.col("active")).group_by("case_id").agg(pl.len().alias("responses"))
    # A case with no active response left keeps its history, and is measured on it.
    rows = rows.join(counted, on="case_id", how="left").with_columns(pl.col("responses").fill_null(0))
    rows = rows.filter(pl.col("active") | (pl.col("responses") == 0))
    return rows.sort("submitted_at", "response_id").group_by("case_id").agg(
        pl.col("respondent_key").drop_nulls().first(),
        pl.col("case_opened_at").min().alias("opened_at"),
        pl.col("response_date").first().alias("opened_date"),
        pl.col("responses").first(),
        pl.col("response_id").first().alias("first_response_id"),
        pl.col("response_id").last().alias("latest_response_id"),
        pl.col("submitted_at").last().alias("latest_submitted_at"),
        pl.col("score").min().alias("worst_score"),
        pl.col("score").last().alias("latest_score"),
        pl.col("level").min().alias("best_level"),
        pl.col("priority_points").max(),
        # The reasons of the highest-scoring response; among equals, the latest.
        pl.col("priority_reasons").sort_by("priority_points", "submitted_at", "response_id").last().alias("base_reasons"),
        pl.col("repeat_detractor").any(),
        pl.col("worsening").any(),
        pl.col("negative_keywords").explode().drop_nulls().unique().sort().alias("negative_keywords"),
        pl.col("themes").explode().drop_nulls().unique().sort().alias("themes"),
        pl.col("owner_queue").first(),
        *(pl.col(c).last() for c in LATEST_COLUMNS),
    )


def merge_case_rows(previous: pl.DataFrame, later_rows: pl.DataFrame) -> pl.DataFrame:
    """``aggregate_case_rows`` of a case's rows from its previous aggregate and rows that came after them.

    Valid only when every row in ``later_rows`` is active, later than the case's latest response,
    and the case had an active response already (what ``materialise_cases`` checks).
    """
    later = aggregate_case_rows(later_rows).rename(lambda c: c if c == "case_id" else f"later_{c}")
    merged = previous.join(later, on="case_id", how="left")
    has_later = pl.col("later_responses").is_not_null()

    def pick(column: str, expression: pl.Expr) -> pl.Expr:
        return pl.when(has_later).then(expression).otherwise(pl.col(column)).alias(column)

    return merged.select(
        "case_id",
        pl.coalesce("respondent_key", "later_respondent_key").alias("respondent_key"),
        "opened_at",
        "opened_date",
        pick("responses", pl.col("responses") + pl.col("later_responses")),
        "first_response_id",
        *(pick(c, pl.col(f"later_{c}")) for c in ("latest_response_id", "latest_submitted_at", "latest_score", *LATEST_COLUMNS)),
        pick("worst_score", pl.min_horizontal("worst_score", "later_worst_score")),
        pick("best_level", pl.min_horizontal("best_level", "later_best_level")),
        pick("priority_points", pl.max_horizontal("priority_points", "later_priority_points")),
        pick("base_reasons", pl.when(pl.col("later_priority_points") >= pl.col("priority_points")).then("later_base_reasons").otherwise("base_reasons")),
        pick("repeat_detractor", pl.col("repeat_detractor") | pl.col("later_repeat_detractor")),
        pick("worsening", pl.col("worsening") | pl.col("later_worsening")),
        *(pick(c, pl.concat_list(c, f"later_{c}").list.unique().list.sort()) for c in ("negative_keywords", "themes")),
        "owner_queue",
    ).select(aggregate_case_rows(later_rows.head(0)).columns)


def finish_cases(
    aggregated: pl.DataFrame, state: pl.DataFrame, rules: CaseRules, next_responses: pl.DataFrame, events: pl.DataFrame
) -> pl.DataFrame:
    """One row per case from its aggregate: priority (raised by each response that joined), SLA, status, next response.

    Keeps ``best_level`` and ``base_reasons`` (the store's, not published) for a later merge.
    """
    level = pl.max_horizontal(pl.lit(1), pl.col("best_level") - (pl.col("responses") - 1).clip(0))
    priority = level.replace_strict({1: "P1", 2: "P2", 3: "P3"}, return_dtype=pl.String)
    updates = events.filter(pl.col("accepted")).group_by("case_id").agg(pl.len().alias("updates_applied"))
    return (
        aggregated.with_columns(priority=priority)
        .with_columns(
            sla_hours=pl.col("priority").replace_strict(rules.sla_hours, return_dtype=pl.Int64),
            priority_reasons=pl.when(pl.col("responses") > 1)
            .then(pl.format("{}; {} responses in this case (+{} level)", "base_reasons", "responses", pl.min_horizontal(pl.col("responses") - 1, pl.col("best_level") - 1)))
            .otherwise(pl.col("base_reasons")),
        )
        .with_columns(due_at=pl.col("opened_at") + pl.duration(hours=pl.col("sla_hours")))
        .join(state.select("case_id", "status", "owner", "contacted_at", "resolved_at", "root_cause", "note"), on="case_id", how="left")
        .join(updates, on="case_id", how="left")
        .join(next_responses, on="case_id", how="left")
        .with_columns(
            pl.col("status").fill_null("open"),
            pl.col("updates_applied").fill_null(0).cast(pl.Int64),
        )
        .with_columns(
            status=pl.when((pl.col("responses") == 0) & (pl.col("updates_applied") == 0)).then(pl.lit("withdrawn")).otherwise(pl.col("status")),
            owner=pl.coalesce("owner", "owner_queue"),
            hours_to_first_contact=((pl.col("contacted_at") - pl.col("opened_at")).dt.total_seconds() / 3600).round(2),
            contacted_within_sla=pl.when(pl.col("contacted_at").is_not_null()).then(pl.col("contacted_at") <= pl.col("due_at")),
        )
        .select(*CASE_COLUMNS, *INTERNAL_CASE_COLUMNS)
        .sort("opened_at", "case_id")
    )


def build_cases(
    case_responses: pl.DataFrame, state: pl.DataFrame, rules: CaseRules, next_responses: pl.DataFrame, events: pl.DataFrame
) -> pl.DataFrame:
    """One row per case: its responses, priority (raised by each response that joined), SLA and status."""
    return finish_cases(aggregate_case_rows(case_responses), state, rules, next_responses, events).drop(INTERNAL_CASE_COLUMNS)


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


def case_contacts(rows: pl.DataFrame, cases: pl.DataFrame) -> pl.DataFrame:
    """Each case's email, name and comment from its latest response (what the CRM hand-off needs)."""
    return (
        cases.select("case_id", "latest_response_id")
        .join(
            rows.select(pl.col("response_id").alias("latest_response_id"), "case_id", "email",
                        pl.col("respondent_name").alias("name"), pl.col("comment").alias("latest_comment")),
            on=["case_id", "latest_response_id"],
            how="left",
        )
        .unique("case_id", keep="first")
        .select(list(CONTACTS_SCHEMA))
        .cast(CONTACTS_SCHEMA)
    )


def _with_columns_of(frame: pl.DataFrame, schema: dict) -> pl.DataFrame:
    """``frame`` with exactly ``schema``'s columns: missing ones (a store written before they existed) as nulls."""
    if not frame.columns:
        return pl.DataFrame(schema=schema)
    missing = [pl.lit(None, dtype=kind).alias(name) for name, kind in schema.items() if name not in frame.columns]
    return frame.with_columns(missing).select(list(schema)).cast(schema)


def mergeable_cases(
    touched_ids: pl.Series,
    cases_before: pl.DataFrame,
    private_before: pl.DataFrame,
    window_new: pl.DataFrame,
    window_before: pl.DataFrame,
    accepted: pl.DataFrame,
    state: pl.DataFrame,
) -> pl.Series:
    """The touched cases whose previous row can take this run's responses without reading their older rows.

    That is: the case had an active response and its merge state is kept; it had no row in the
    days this run rewrites and no status update now; every new row is active and later than its
    latest response, and than its contact (the score before contact stays as it was).
    """
    if cases_before.is_empty() or "latest_submitted_at" not in cases_before.columns:
        return pl.Series("case_id", [], dtype=pl.String)
    later = window_new.group_by("case_id").agg(
        pl.col("active").all().alias("all_active"), pl.col("submitted_at").min().alias("first_later")
    )
    blocked = pl.concat([window_before.select("case_id"), accepted.select("case_id")])["case_id"].implode()
    return (
        cases_before.select("case_id", "responses", "latest_submitted_at")
        .filter(pl.col("case_id").is_in(touched_ids.implode()) & ~pl.col("case_id").is_in(blocked))
        .join(private_before.filter(pl.col("best_level").is_not_null()).select("case_id"), on="case_id", how="semi")
        .join(later, on="case_id", how="left")
        .join(state.select("case_id", "contacted_at"), on="case_id", how="left")
        .filter(
            (pl.col("responses") > 0)
            & (pl.col("first_later").is_null() | (pl.col("all_active") & (pl.col("first_later") > pl.col("latest_submitted_at"))))
            & (pl.col("contacted_at").is_null() | pl.col("first_later").is_null() | (pl.col("contacted_at") < pl.col("first_later")))
        )["case_id"]
    )


def case_private(rows: pl.DataFrame, rebuilt: pl.DataFrame, before_contact: pl.DataFrame, private_before: pl.DataFrame) -> pl.DataFrame:
    """What the store keeps per rebuilt case: its contact (from its latest response), merge state and score before contact."""
    latest = rows.select("case_id", pl.col("response_id").alias("latest_response_id"))
    fresh = rebuilt.join(latest, on=["case_id", "latest_response_id"], how="semi")
    contacts = pl.concat([
        case_contacts(rows, fresh),
        # A case merged without a new response keeps the contact it had.
        private_before.select(list(CONTACTS_SCHEMA)).join(rebuilt.join(fresh, on="case_id", how="anti"), on="case_id", how="semi"),
    ])
    return (
        rebuilt.select("case_id", *INTERNAL_CASE_COLUMNS)
        .join(contacts, on="case_id", how="left")
        .join(before_contact.select("case_id", "score_before_contact"), on="case_id", how="left")
        .pipe(_with_columns_of, CASE_PRIVATE_SCHEMA)
    )


# ---------------------------------------------------------------- one run


@dataclass
class CaseRun:
    cases: pl.DataFrame
    new_events: pl.DataFrame
    file_problems: list[str]
    responses_assigned: int
    responses_in_window: int
    cases_rebuilt: int
    # Of those, the cases whose previous row took the new responses without their older rows being read.
    cases_merged: int = 0


def _other_version_days(layout: WarehouseLayout, candidates: pl.DataFrame, days: list[dt.date]) -> list[dt.date]:
    """The days other than ``days`` that another version of a candidate response was filed under."""
    if not layout.superseded.exists() or candidates.is_empty():
        return []
    versions = pl.scan_parquet(layout.superseded).filter(pl.col("response_id").is_in(candidates["response_id"].implode()))
    dates = versions.select(pl.concat_list("response_date", "kept_response_date").explode().unique()).collect().to_series()
    return sorted(set(dates.drop_nulls().to_list()) - set(days))


def _respondents_in(con: duckdb.DuckDBPyConnection, layout: WarehouseLayout, days: list[dt.date]) -> list[str]:
    files = layout.table_files_for_days("responses", days)
    return [k for (k,) in con.sql(sql("select_window_respondents"), params={"files": files}).fetchall()]


def materialise_cases(
    con: duckdb.DuckDBPyConnection,
    layout: WarehouseLayout,
    days: list[dt.date],
    rules: CaseRules,
    updates_dir: Path,
    timezone: str,
) -> CaseRun:
    """Assign the window's detractors to cases, merge the status updates, rebuild the touched cases and publish.

    A long window goes in spans of consecutive days of at most ``CASE_SPAN_RESPONSES`` detractor
    responses, in time order, each set-based and committed before the next, so memory follows the
    span and not the range (a cold year at 10M responses of which most are detractors is 7M rows).
    The status updates are applied with the last span, so every case they name exists, and the
    published tables are written once, at the end.
    """
    spans = case_spans(con, layout, days)
    total = int(sum(n for _, n in spans))
    # Only the counts of the spans before the last are kept: each span's frames go before the next.
    counts = [0, 0, 0, 0]
    with progress.bar("detractor_cases", total, "responses") as bar:
        for index, (span, responses) in enumerate(spans):
            last = index == len(spans) - 1
            run = _materialise_cases(con, layout, span, rules, updates_dir if last else None, timezone)
            counts = [a + b for a, b in zip(counts, (run.responses_assigned, run.responses_in_window, run.cases_rebuilt, run.cases_merged))]
            if not last:
                del run
            bar.update(responses, f"span {index + 1}/{len(spans)}, {span[-1]}")
    publish_case_tables(con, layout, case_store(layout))
    return CaseRun(run.cases, run.new_events, run.file_problems, *counts)


# Detractor responses per span of a long window: about 1 GB of working memory at most.
CASE_SPAN_RESPONSES = 200_000


def case_spans(con: duckdb.DuckDBPyConnection, layout: WarehouseLayout, days: list[dt.date]) -> list[tuple[list[dt.date], int]]:
    """``days`` cut into runs of consecutive days of at most ``CASE_SPAN_RESPONSES`` detractor responses (at least a day each)."""
    files = layout.table_files_for_days("responses", days)
    counts = dict(con.sql(sql("count_detractors_by_day"), params={"files": files}).fetchall()) if files else {}
    spans: list[tuple[list[dt.date], int]] = []
    current: list[dt.date] = []
    rows = 0
    for day in days:
        n = counts.get(day, 0)
        if current and rows + n > CASE_SPAN_RESPONSES:
            spans.append((current, rows))
            current, rows = [], 0
        current.append(day)
        rows += n
    spans.append((current, rows))
    return spans


def _materialise_cases(
    con: duckdb.DuckDBPyConnection,
    layout: WarehouseLayout,
    days: list[dt.date],
    rules: CaseRules,
    updates_dir: Path | None,
    timezone: str,
) -> CaseRun:
    store = case_store(layout)
    if not store.exists:
        store = migrate_legacy_log(con, layout, store, rules)
    events = store.read(store.events, EVENTS_SCHEMA)
    cases_before = store.read(store.cases, {})
    if cases_before.is_empty():
        cases_before = pl.DataFrame(schema={"case_id": pl.String, "respondent_key": pl.String, "opened_at": pl.Datetime("us", "UTC")})
    schema = CASE_RESPONSES_SCHEMA

    candidates = case_candidates(con, layout, days, rules)
    window_rows = store.read_log_days(days, schema)
    # A response whose date moved (a later export corrected it) leaves its old day's file: the days
    # its other versions carry are in the superseded-versions index.
    moved = store.read_log_days(_other_version_days(layout, candidates, days), schema).filter(
        pl.col("response_id").is_in(candidates["response_id"].implode())
    )
    state = case_state(cases_before, events)
    assigned = assign_cases(pl.concat([window_rows, moved]), candidates, state, days)
    # The assignment holds every row of the window's days; a moved response's old day loses it.
    new_days = {day: assigned.filter(pl.col("response_date") == day) for day in days}
    for day in sorted(set(moved["response_date"].to_list()) - set(days)):
        new_days[day] = store.read_log_days([day], schema).filter(~pl.col("response_id").is_in(moved["response_id"].implode()))
    changed_days = sorted(new_days)

    opened_now = case_index(assigned).join(cases_before.select("case_id"), on="case_id", how="anti")
    index = pl.concat([cases_before.select(opened_now.columns), opened_now])
    state = case_state(index, events)
    rows, file_problems = read_update_files(updates_dir)
    new_events = apply_status_updates(con, rows, events, state, timezone, dt.datetime.now(dt.timezone.utc))
    if not new_events.is_empty():
        events = pl.concat([events, new_events])
        state = case_state(index, events)

    accepted = new_events.filter(pl.col("accepted")).select("case_id")
    renewed = set(accepted["case_id"].to_list())
    answered_again = state.filter(
        pl.col("contacted_at").is_not_null() & pl.col("respondent_key").is_in(_respondents_in(con, layout, days))
    )
    # A case kept before the merge state existed has none: it is rebuilt from its rows the next
    # time it is touched, which records it.
    private_before = _with_columns_of(store.read(store.contacts, {}), CASE_PRIVATE_SCHEMA)
    touched_ids = pl.concat(
        [frame.select("case_id") for frame in (assigned, window_rows, moved, accepted, answered_again)]
    )["case_id"].unique()
    window_new = pl.concat(list(new_days.values())).filter(pl.col("case_id").is_in(touched_ids.implode()))

    # A touched case whose only change is later responses is merged into its previous row; the
    # others are rebuilt from all their rows, read from the log.
    mergeable = mergeable_cases(touched_ids, cases_before, private_before, window_new, pl.concat([window_rows, moved]), accepted, state)
    full_ids = touched_ids.filter(~touched_ids.is_in(mergeable.implode())).implode()
    # Cases opened in this run have rows in the window only.
    scanned_ids = cases_before["case_id"].filter(cases_before["case_id"].is_in(full_ids))
    full_rows = pl.concat([
        store.scan_log(schema, skip_days=changed_days).filter(pl.col("case_id").is_in(scanned_ids.implode())).collect()
        if not scanned_ids.is_empty() else pl.DataFrame(schema=schema),
        window_new.filter(pl.col("case_id").is_in(full_ids)),
    ])
    full_state = state.filter(pl.col("case_id").is_in(full_ids))
    merged_rows = window_new.filter(pl.col("case_id").is_in(mergeable.implode()))
    merged_private = private_before.filter(pl.col("case_id").is_in(mergeable.implode()))
    before_contact = pl.concat([
        score_before_contact(full_rows, full_state),
        state.join(merged_private.select("case_id", "score_before_contact"), on="case_id")
        .filter(pl.col("contacted_at").is_not_null() & pl.col("respondent_key").is_not_null())
        .select("case_id", "respondent_key", "contacted_at", pl.col("score_before_contact").cast(pl.Int64)),
    ])
    following = next_responses(con, layout, before_contact, days, rules.history_days, cases_before, renewed)
    template = aggregate_case_rows(window_new.head(0))
    previous = template if mergeable.is_empty() else (
        cases_before.filter(pl.col("case_id").is_in(mergeable.implode()))
        .join(merged_private.select("case_id", *INTERNAL_CASE_COLUMNS), on="case_id")
        .select(template.columns)
        .cast(template.schema)
    )
    aggregated = pl.concat([
        aggregate_case_rows(full_rows),
        merge_case_rows(previous, merged_rows),
    ])
    touched_state = state.filter(pl.col("case_id").is_in(touched_ids.implode()))
    rebuilt_all = finish_cases(aggregated, touched_state, rules, following, events)
    rebuilt = rebuilt_all.drop(INTERNAL_CASE_COLUMNS)
    keep = cases_before.filter(~pl.col("case_id").is_in(rebuilt["case_id"].implode()))
    # The kept cases stay in their order (by opening); the rebuilt ones follow, by opening too.
    if keep.is_empty() or rebuilt.is_empty():
        cases = rebuilt if keep.is_empty() else keep
    else:
        cases = pl.concat([keep, rebuilt], how="diagonal_relaxed").select(rebuilt.columns)
    private = case_private(
        pl.concat([full_rows, merged_rows]),
        rebuilt_all,
        before_contact,
        private_before,
    )
    private = private.with_columns(revision=pl.lit(store.next_revision, dtype=pl.Int64))
    contacts = pl.concat([private_before.filter(~pl.col("case_id").is_in(rebuilt["case_id"].implode())), private])
    store = store.commit(new_days, events if not new_events.is_empty() else None, cases, contacts)
    return CaseRun(
        cases, new_events, file_problems, assigned.filter(pl.col("response_date").is_in(days)).height, candidates.height, rebuilt.height, mergeable.len()
    )


def publish_case_tables(con: duckdb.DuckDBPyConnection, layout: WarehouseLayout, store: CaseStore) -> None:
    """Write the published case tables from the committed state; ``detractor_case_responses`` only for days whose log changed.

    A day is (re)written when its published file is missing or older than its log file, so a run
    that died between its commit and here is caught up by the next one.
    """
    # The store's file is never written again: the published table is a link to it.
    replace_file(layout.table_file("detractor_cases"), lambda tmp: link_or_copy(store.path(store.cases), tmp))
    events = store.read(store.events, EVENTS_SCHEMA).drop("row_content")
    write_relation_file(con.from_arrow(events.to_arrow()), layout.table_file("case_status_updates"), layout.tmp)

    table = "detractor_case_responses"
    legacy = layout.table_file(table)  # one file for the whole table before it was kept by day
    legacy.unlink(missing_ok=True)
    schema_file = layout.table_dir(table) / SCHEMA_FILE
    if not schema_file.exists():
        replace_file(schema_file, pl.DataFrame(schema=CASE_RESPONSES_SCHEMA).drop(PRIVATE_COLUMNS).write_parquet)
    for day, name in store.log_days.items():
        target, source = layout.day_file(table, day), store.path(name)
        if not target.exists() or target.stat().st_mtime_ns < source.stat().st_mtime_ns:
            frame = pl.read_parquet(source).drop(PRIVATE_COLUMNS)
            replace_file(target, frame.write_parquet)
    if layout.table_dir(table).exists():
        for part in layout.table_dir(table).glob("response_date=*"):
            day = dt.date.fromisoformat(part.name.split("=", 1)[1])
            if day not in store.log_days:
                (part / "data.parquet").unlink(missing_ok=True)


def migrate_legacy_log(con: duckdb.DuckDBPyConnection, layout: WarehouseLayout, store: CaseStore, rules: CaseRules) -> CaseStore:
    """Move a warehouse kept before the case store (one log file, one events file) into it, once."""
    legacy_log, legacy_events = layout.internal / "cases" / "case_responses.parquet", layout.internal / "cases" / "status_events.parquet"
    if not legacy_log.exists():
        return store
    log = pl.read_parquet(legacy_log)
    events = pl.read_parquet(legacy_events).cast(EVENTS_SCHEMA) if legacy_events.exists() else pl.DataFrame(schema=EVENTS_SCHEMA)
    log_rows = log.select("source_file", "source_row")  # noqa: F841 - scanned by name in the SQL
    private = con.sql(sql("select_case_contacts_from_staged"), params={"staged_files": layout.all_staged_files()}).pl()
    log = log.join(private, on=["source_file", "source_row"], how="left")
    log = _with_columns_of(log, CASE_RESPONSES_SCHEMA)
    state = case_state(case_index(log), events)
    previous_path = layout.table_file("detractor_cases")
    previous = pl.read_parquet(previous_path) if previous_path.exists() else pl.DataFrame()
    following = known_next_responses(previous, score_before_contact(log, state))
    cases = build_cases(log, state, rules, following, events)
    by_day = {day: frame for (day,), frame in log.partition_by("response_date", as_dict=True).items()}
    contacts = case_contacts(log, cases).with_columns(revision=pl.lit(store.next_revision, dtype=pl.Int64))
    store = store.commit(by_day, events, cases, contacts)
    legacy_log.unlink(missing_ok=True)  # the commit removed it already: the store names only its own files
    legacy_events.unlink(missing_ok=True)
    return store


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
