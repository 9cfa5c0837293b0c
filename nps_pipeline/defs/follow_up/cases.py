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

from nps_pipeline import progress
from nps_pipeline.defs.follow_up.case_rules import CaseRules
from nps_pipeline.defs.follow_up.case_store import CaseStore
from nps_pipeline.storage import (
    SCHEMA_FILE,
    WarehouseLayout,
    link_or_copy,
    replace_file,
    sql,
    write_relation_file,
)
from nps_pipeline.defs.follow_up.case_schema import (
    CASE_RESPONSES_SCHEMA,
    PRIVATE_COLUMNS,
    INTERNAL_CASE_COLUMNS,
    CASE_PRIVATE_SCHEMA,
    EVENTS_SCHEMA,
)
from nps_pipeline.defs.follow_up.case_assignment import (
    case_candidates,
    case_index,
    case_state,
    assign_cases,
    aggregate_case_rows,
    merge_case_rows,
    finish_cases,
    build_cases,
    case_contacts,
    mergeable_cases,
    case_private,
    with_columns_of,
)
from nps_pipeline.defs.follow_up.case_updates import (
    read_update_files,
    apply_status_updates,
)
from nps_pipeline.defs.follow_up.case_metrics import (
    score_before_contact,
    known_next_responses,
    next_responses,
)


def case_store(layout: WarehouseLayout) -> CaseStore:
    return CaseStore.load(layout.internal / "cases")


# ---------------------------------------------------------------- candidates and assignment


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
    private_before = with_columns_of(store.read(store.contacts, {}), CASE_PRIVATE_SCHEMA)
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
    log = with_columns_of(log, CASE_RESPONSES_SCHEMA)
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


