"""Case assignment: each detractor response to its customer's case, and the case rows rebuilt from their responses."""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from nps_pipeline.defs.follow_up import lookback
from nps_pipeline.defs.follow_up.case_rules import CaseRules
from nps_pipeline.storage import WarehouseLayout, sql
from nps_pipeline.defs.nps.themes import tag
from nps_pipeline.defs.follow_up.case_schema import (
    ACTIVE_STATUSES,
    LEVEL,
    CASE_RESPONSES_SCHEMA,
    CONTACTS_SCHEMA,
    INTERNAL_CASE_COLUMNS,
    CASE_PRIVATE_SCHEMA,
    LATEST_COLUMNS,
    CASE_COLUMNS,
)


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


def with_columns_of(frame: pl.DataFrame, schema: dict) -> pl.DataFrame:
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
        .pipe(with_columns_of, CASE_PRIVATE_SCHEMA)
    )


# ---------------------------------------------------------------- one run
