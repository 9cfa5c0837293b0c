"""Checks on the published tables, as Dagster sees them in the UI.

Data checks (after each publish, on the snapshot readers now see, for the run's days): unique
keys, NPS within its bounds, the row accounting identity and the share of quarantined rows.
Freshness (on its own schedule): yesterday's partition is there by NPS_FRESHNESS_DEADLINE_HOUR.
"""


import datetime as dt
from collections.abc import Iterable, Iterator
from zoneinfo import ZoneInfo

import dagster as dg
import polars as pl
from nps_pipeline.defs.serve.assets import published_warehouse
from nps_pipeline.defs.shared import daily_upstream
from nps_pipeline.graph import nps_assets
from nps_pipeline.day_ledger import Ledger, run_days
from nps_pipeline.resources import NpsPipelineResource
from nps_pipeline.defs.serve.publish import Snapshot, current_snapshot
from nps_pipeline.storage import WarehouseLayout, connect, count_rows, sql
from nps_pipeline.tables import NPS_TABLES, SEGMENTED_TABLES
from nps_pipeline.tables import TABLES as REGISTRY

# Each published table: the asset that writes it and the columns that identify a row (from the registry).
TABLES: dict[str, tuple[str, tuple[str, ...]]] = {t.name: (t.owner, t.keys) for t in REGISTRY}
# NPS figures and their 95 % bounds, as (value, low, high) column names.
NPS_BOUNDS = (
    ("nps", "nps_ci_low", "nps_ci_high"),
    ("weighted_nps", "weighted_ci_low", "weighted_ci_high"),
    ("nps_mentioning", "nps_mentioning_ci_low", "nps_mentioning_ci_high"),
    ("nps_not_mentioning", "nps_not_mentioning_ci_low", "nps_not_mentioning_ci_high"),
)
CHECKED_COLUMNS = {c for bounds in NPS_BOUNDS for c in bounds} | {"responses", "promoters", "passives", "detractors"}
# Duplicated keys listed at most, per table.
DUPLICATES_SHOWN = 10_000
FRESHNESS_ASSETS = sorted({owner for owner, _ in TABLES.values()} | {"published_warehouse"})
# The assets partitioned by day; the others learn their days from the run and the day ledger.
DAILY_ASSETS = tuple(a.key.to_user_string() for a in nps_assets if a.partitions_def is not None)


def _check_name(table: str, check: str) -> str:
    owner = TABLES[table][0]
    return check if owner == table else f"{table}_{check}"


def table_frame(layout: WarehouseLayout, snapshot: Snapshot, table: str, days: list[dt.date] | None) -> pl.DataFrame | None:
    """A published table's rows (a daily table's for ``days`` only), or None when it is not published."""
    if table not in snapshot.tables:
        return None
    files = snapshot.files(layout, table, days)
    if not files:
        return None
    # Only what the checks look at: keys, NPS figures and counts (ingest_files whole).
    wanted = set(TABLES[table][1]) | CHECKED_COLUMNS
    columns = [c for c in pl.read_parquet_schema(files[-1]) if table == "ingest_files" or c in wanted]
    return pl.read_parquet(files, columns=columns, missing_columns="insert")


def out_of_bounds(frame: pl.DataFrame) -> list[str]:
    """Each rule an NPS table breaks, with how many rows break it."""
    problems = []
    for value, low, high in NPS_BOUNDS:
        if value not in frame.columns:
            continue
        # Adjusted-Wald bounds centre on the adjusted shares: with few responses the point estimate
        # can lie outside them (n=1 detractor: -100 in [-98.5, 48.5]), so the rule is low <= high.
        bad = frame.filter(
            ~pl.col(value).is_between(-100, 100)
            | ~pl.col(low).is_between(-100, 100)
            | ~pl.col(high).is_between(-100, 100)
            | (pl.col(low) > pl.col(high))
        ).height
        if bad:
            problems.append(f"{bad} row(s) with {value}, {low} or {high} outside [-100, 100], or {low} > {high}")
    if {"responses", "promoters", "passives", "detractors"} <= set(frame.columns):
        bad = frame.filter(
            pl.col("promoters").cast(pl.Int64) + pl.col("passives").cast(pl.Int64) + pl.col("detractors").cast(pl.Int64)
            != pl.col("responses").cast(pl.Int64)
        ).height
        if bad:
            problems.append(f"{bad} row(s) where promoters + passives + detractors != responses")
    return problems


def duplicate_keys_in_files(con, files: list[str], keys: Iterable[str]) -> pl.DataFrame:
    """The key values more than one row of the Parquet files holds (the first ``DUPLICATES_SHOWN``), counted by DuckDB."""
    if not files:
        return pl.DataFrame()
    return con.sql(sql("select_duplicate_keys"), params={"files": files, "keys": list(keys), "limit": DUPLICATES_SHOWN}).pl()


def segment_sum_mismatches(con, layout: WarehouseLayout, snapshot: Snapshot, table: str, days: list[dt.date] | None) -> pl.DataFrame:
    """The periods x dimensions of ``table`` whose segments do not add up to the overall counts (at most 20)."""
    if table == "nps_daily_segment":
        return con.sql(
            sql("select_daily_segment_mismatches"),
            params={"segment_files": snapshot.files(layout, table, days), "overall_files": snapshot.files(layout, "nps_daily", days)},
        ).pl()
    return con.sql(sql("select_window_segment_mismatches"), params={"files": snapshot.files(layout, table, days)}).pl()


def accounting_problems(ingest_files: pl.DataFrame, quarantine: pl.DataFrame | None) -> list[str]:
    off = ingest_files.filter(
        pl.col("rows_read") != pl.col("rows_valid") + pl.col("rows_duplicate") + pl.col("rows_quarantined")
    )
    problems = [
        f"{name}: rows_read {read} != valid {valid} + duplicate {dup} + quarantined {quar}"
        for name, read, valid, dup, quar in off.select(
            "source_file", "rows_read", "rows_valid", "rows_duplicate", "rows_quarantined"
        ).iter_rows()
    ]
    quarantined = int(ingest_files.filter(pl.col("status").is_in(["staged", "held_back"]))["rows_quarantined"].sum())
    in_table = quarantine.height if quarantine is not None else 0
    if quarantined != in_table:
        problems.append(f"ingest_files counts {quarantined} quarantined rows but the quarantine table holds {in_table}")
    return problems


def _specs() -> list[dg.AssetCheckSpec]:
    # Each runs after the publish step, on what readers see.
    after_publish = dict(additional_deps=[published_warehouse])
    specs = []
    for table, (owner, keys) in TABLES.items():
        specs.append(
            dg.AssetCheckSpec(
                _check_name(table, "unique_key"), asset=owner, **after_publish,
                description=f"{table}: one row per ({', '.join(keys)}) in the published snapshot (the run's days).",
            )
        )
    for table in NPS_TABLES:
        specs.append(
            dg.AssetCheckSpec(
                _check_name(table, "nps_within_bounds"), asset=TABLES[table][0], **after_publish,
                description=f"{table}: NPS and its 95 % bounds in [-100, 100], low <= high, and promoters + passives + detractors = responses.",
            )
        )
    for table in SEGMENTED_TABLES:
        specs.append(
            dg.AssetCheckSpec(
                _check_name(table, "segments_sum_to_overall"), asset=TABLES[table][0], **after_publish,
                description=f"{table}: in every dimension the segments (a missing value is '(not set)') sum to the overall responses, promoters and detractors.",
            )
        )
    specs.append(
        dg.AssetCheckSpec(
            "accounting_identity", asset="ingest_files", **after_publish,
            description="Every file: rows_read = valid + duplicate + quarantined, and the quarantine table holds every quarantined row.",
        )
    )
    specs.append(
        dg.AssetCheckSpec(
            "quarantine_share", asset="quarantine", **after_publish,
            description="Quarantined rows are at most NPS_MAX_REJECTED_SHARE of the rows read, over all files.",
        )
    )
    return specs


def _selected(context: dg.AssetCheckExecutionContext, results: Iterable[dg.AssetCheckResult]) -> Iterator[dg.AssetCheckResult]:
    """The results of the checks this run selected (an asset backfill runs the checks of each run's assets only)."""
    wanted = context.selected_asset_check_keys
    for result in results:
        if dg.AssetCheckKey(dg.AssetKey.from_coercible(result.asset_key), result.check_name) in wanted:
            yield result


@dg.multi_asset_check(
    specs=_specs(),
    pool="nps_warehouse",
    can_subset=True,
)
def published_table_checks(context: dg.AssetCheckExecutionContext, nps: NpsPipelineResource) -> Iterator[dg.AssetCheckResult]:
    """Unique keys, NPS bounds, row accounting and quarantine share on the tables readers see now."""
    yield from _selected(context, _published_table_results(context, nps))


def _published_table_results(context: dg.AssetCheckExecutionContext, nps: NpsPipelineResource) -> Iterator[dg.AssetCheckResult]:
    snapshot = current_snapshot(nps.layout)
    days = run_days(dict(context.run.tags))
    scope = "all days" if days is None else (days[0].isoformat() if len(days) == 1 else f"{days[0]}..{days[-1]}")
    # Keys are counted by DuckDB within its memory limit (a year of responses is 10M keys); only the
    # NPS tables (aggregates) and the file accounting are read into polars.
    frames: dict[str, pl.DataFrame | None] = {}
    with connect(nps.layout, nps.duckdb_memory_limit) as con:
        for table, (owner, keys) in TABLES.items():
            files = snapshot.files(nps.layout, table, days) if snapshot and table in snapshot.tables else []
            rows = count_rows(files)
            dupes = duplicate_keys_in_files(con, files, keys)
            if not dupes.is_empty():
                context.log.error(f"{table}: {dupes.height} key(s) with more than one row, e.g. {dupes.head(3).rows()}")
            yield dg.AssetCheckResult(
                asset_key=owner, check_name=_check_name(table, "unique_key"), passed=dupes.is_empty(),
                description=(f"{dupes.height}{'+' if dupes.height == DUPLICATES_SHOWN else ''} duplicated key(s) of "
                             f"({', '.join(keys)}), e.g. {dupes.head(3).rows()}"
                             if not dupes.is_empty() else f"{rows} rows checked ({scope})"),
                metadata={"rows_checked": rows, "duplicated_keys": dupes.height},
            )
            if table in ("ingest_files", "quarantine"):
                frames[table] = table_frame(nps.layout, snapshot, table, days) if snapshot else None
            if table in NPS_TABLES:
                frame = table_frame(nps.layout, snapshot, table, days) if snapshot else None
                problems = out_of_bounds(frame) if frame is not None else []
                for problem in problems:
                    context.log.error(f"{table}: {problem}")
                yield dg.AssetCheckResult(
                    asset_key=owner, check_name=_check_name(table, "nps_within_bounds"), passed=not problems,
                    description="; ".join(problems) or f"{0 if frame is None else frame.height} rows within bounds ({scope})",
                )
            if table in SEGMENTED_TABLES:
                published = snapshot is not None and table in snapshot.tables and files
                mismatches = segment_sum_mismatches(con, nps.layout, snapshot, table, days) if published else pl.DataFrame()
                shown = [f"{r['period']} {r['dimension']}: segments {r['segment_responses']} vs overall {r['overall_responses']}" for r in mismatches.iter_rows(named=True)]
                yield dg.AssetCheckResult(
                    asset_key=owner, check_name=_check_name(table, "segments_sum_to_overall"), passed=not shown,
                    description="; ".join(shown) or f"every dimension's segments sum to the overall counts ({scope})",
                    metadata={"mismatches_shown": len(shown)},
                )
    files = frames["ingest_files"]
    problems = accounting_problems(files, frames["quarantine"]) if files is not None else []
    yield dg.AssetCheckResult(
        asset_key="ingest_files", check_name="accounting_identity", passed=not problems,
        description="; ".join(problems)[:2000] or f"{0 if files is None else files.height} files add up",
        metadata={"files_not_adding_up": problems},
    )
    read = int(files["rows_read"].sum()) if files is not None and files.height else 0
    quarantined = int(files["rows_quarantined"].sum()) if files is not None and files.height else 0
    share = quarantined / read if read else 0.0
    yield dg.AssetCheckResult(
        asset_key="quarantine", check_name="quarantine_share", passed=share <= nps.max_rejected_share,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"{quarantined:,} of {read:,} rows quarantined ({share:.2%}; limit {nps.max_rejected_share:.1%})",
        metadata={"quarantine_share": round(share, 6), "limit": nps.max_rejected_share},
    )


def freshness_results(
    instance: dg.DagsterInstance,
    now: dt.datetime,
    deadline_hour: int,
    timezone: str,
    asset_keys: Iterable[str],
    layout: WarehouseLayout | None = None,
    daily_keys: Iterable[str] = DAILY_ASSETS,
) -> list[dg.AssetCheckResult]:
    """For each asset: has it done yesterday (in ``timezone``), once the deadline hour has passed?

    A daily asset has done it when yesterday's partition is materialised; a per-file asset (staging,
    accounting) when it has run since yesterday ended; a cross-day asset when the day ledger says it
    has processed yesterday and no day it has still to do is left.
    """
    local_now = now.astimezone(ZoneInfo(timezone))
    yesterday_day = local_now.date() - dt.timedelta(days=1)
    yesterday = yesterday_day.isoformat()
    due = local_now.hour >= deadline_hour
    ledger = Ledger.load(layout) if layout is not None else None
    daily_keys = set(daily_keys)
    results = []
    for key in asset_keys:
        if key in daily_keys:
            present = yesterday in instance.get_materialized_partitions(dg.AssetKey(key))
        elif not daily_upstream(key):
            latest = instance.get_latest_materialization_event(dg.AssetKey(key))
            midnight = dt.datetime.combine(local_now.date(), dt.time(), ZoneInfo(timezone))
            present = latest is not None and latest.timestamp >= midnight.timestamp()
        else:
            through = ledger.through(key) if ledger is not None else None
            present = through is not None and through >= yesterday_day and not ledger.pending(key, daily_upstream(key))
        if present:
            description = f"{yesterday} is materialised"
        elif due:
            description = (
                f"{yesterday} is not materialised and was due by {deadline_hour:02d}:00 {timezone}: check the nightly run "
                f"(schedule nightly_nps) or run `nps-pipeline backfill --start {yesterday} --end {yesterday}`"
            )
        else:
            description = f"{yesterday} is not materialised yet; due by {deadline_hour:02d}:00 {timezone}"
        results.append(
            dg.AssetCheckResult(
                asset_key=key, check_name="yesterday_present_by_deadline", passed=present or not due,
                description=description, metadata={"partition": yesterday, "deadline_hour": deadline_hour},
            )
        )
    return results


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(
            "yesterday_present_by_deadline", asset=key,
            description="Yesterday's partition (NPS_TIMEZONE) is materialised by NPS_FRESHNESS_DEADLINE_HOUR.",
        )
        for key in FRESHNESS_ASSETS
    ],
    can_subset=True,
)
def freshness_checks(context: dg.AssetCheckExecutionContext, nps: NpsPipelineResource) -> Iterator[dg.AssetCheckResult]:
    """Freshness: yesterday's partition of every published table is there by the deadline hour."""
    results = freshness_results(
        context.instance, dt.datetime.now(dt.timezone.utc), nps.freshness_deadline_hour, nps.timezone, FRESHNESS_ASSETS,
        nps.layout,
    )
    for result in _selected(context, results):
        if not result.passed:
            context.log.error(f"{result.asset_key.to_user_string()}: {result.description}")
        yield result
