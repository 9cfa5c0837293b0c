"""What every asset shares: the daily partitions, the asset settings, the `timed` wrapper (days, rows, stage times, the day ledger) and metadata helpers."""

import contextvars
import datetime as dt
import functools
import time
import warnings

import dagster as dg
import polars as pl

from nps_pipeline import day_ledger, observe, progress
from nps_pipeline.resources import NpsPipelineResource
from nps_pipeline.settings import Settings
from nps_pipeline.storage import SCHEMA_FILE, WarehouseLayout, count_rows, days_in, sql
from nps_pipeline.tables import DAILY_TABLES

SETTINGS = Settings.from_env()
daily_partitions = dg.DailyPartitionsDefinition(start_date=SETTINGS.start_date, timezone=SETTINGS.timezone)

OWNERS = ["team:data-platform"]
WAREHOUSE_POOL = "nps_warehouse"
# Single-run backfills need a backfill policy on every asset (see README: the graph); its "beta"
# warning would be printed at every start of the UI and the CLI, and tells nobody anything to do.
warnings.filterwarnings("ignore", message="Parameter `backfill_policy` of function `asset` is currently in beta")
# deploy/dagster.yaml limits this pool to one run at a time: writers take turns in the run queue. The
# single-run policy on the unpartitioned assets too lets `dagster asset materialize --partition-range`
# take them in the range's one run.
CROSS_DAY = dict(owners=OWNERS, pool=WAREHOUSE_POOL, backfill_policy=dg.BackfillPolicy.single_run())
DAILY = dict(partitions_def=daily_partitions, **CROSS_DAY)
CATALOGUE = "landing_catalogue.json"


# The upstream table each asset reads, for ``rows_in`` (its rows for the run's days) when the asset
# does not count its input itself.
INPUT_TABLES = {
    "nps_daily": "responses",
    "nps_windows": "nps_score_counts_daily",
    "nps_windows_weighted": "responses",
    "nps_benchmark_comparison": "nps_windows",
    "detractor_followups": "responses",
    "case_metrics": "detractor_cases",
    "crm_handoff": "detractor_cases",
    "nps_report": "nps_daily",
}
SLOW_LOCK_SECONDS = 5.0
# Cross-day assets that have nothing to do before the first day of responses is written.
NEEDS_DAYS = {"nps_windows", "nps_windows_weighted", "nps_benchmark_comparison", "detractor_cases", "detractor_followups", "crm_handoff"}
_days: contextvars.ContextVar[list[dt.date] | None] = contextvars.ContextVar("nps_asset_days", default=None)


def _rows_in(context: dg.AssetExecutionContext, nps: NpsPipelineResource) -> int | None:
    table = INPUT_TABLES.get(context.asset_key.to_user_string())
    if table is None:
        return None
    layout = nps.layout
    if table in DAILY_TABLES:
        files = [f for f in layout.table_files_for_days(table, window_days(context)) if not f.endswith(SCHEMA_FILE)]
    else:
        files = [str(layout.table_file(table))] if layout.table_file(table).exists() else []
    return count_rows(files)


@functools.cache
def daily_upstream(name: str) -> frozenset[str]:
    """The daily assets ``name`` depends on, directly or through other assets."""
    from nps_pipeline.graph import nps_assets

    by_key = {a.key.to_user_string(): a for a in nps_assets}
    found: set[str] = set()
    todo = [d.to_user_string() for d in by_key[name].asset_deps[by_key[name].key]]
    while todo:
        dep = todo.pop()
        if dep in found or dep not in by_key:
            continue
        found.add(dep)
        todo += [d.to_user_string() for d in by_key[dep].asset_deps[by_key[dep].key]]
    return frozenset(d for d in found if by_key[d].partitions_def is not None)


def _asset_days(context: dg.AssetExecutionContext, nps: NpsPipelineResource) -> tuple[list[dt.date], int | None]:
    """A daily asset's partition window; a cross-day asset's run days with the days pending for it (and the ledger's sequence).

    The per-file assets (staging, accounting, quarantine: no daily asset upstream) come before the
    days and keep no place in the ledger.
    """
    if context.assets_def.partitions_def is not None:
        window = context.partition_time_window
        return days_in(window.start.date(), window.end.date()), None
    name = context.asset_key.to_user_string()
    if not daily_upstream(name):
        return day_ledger.run_days(context.run.tags) or [], None
    days, seq = day_ledger.days_for(nps.layout, name, daily_upstream(name), context.run.tags)
    if not days:
        # Nothing new: the newest day again (idempotent), so the asset still refreshes (status updates, the report).
        newest = nps.layout.newest_day("responses")
        days = [newest] if newest else []
    return days, seq


def timed(compute):
    """Give the asset its days; add rows in, rows out and the time of each stage to its metadata and log; keep the day ledger."""

    @functools.wraps(compute)
    def wrapper(context: dg.AssetExecutionContext, nps: NpsPipelineResource):
        started = time.monotonic()
        name = context.asset_key.to_user_string()
        days, seq = _asset_days(context, nps)
        progress.step_started(name, days)
        token = _days.set(days)
        try:
            with observe.recording() as stages:
                if days or name not in NEEDS_DAYS:
                    result = compute(context, nps)
                else:
                    result = dg.MaterializeResult(metadata={"rows_in": 0, "rows_out": 0, "note": "no day to refresh: the warehouse holds no responses yet"})
            # Under the warehouse lock: a run outside the queue (the CLI) may update the ledger too.
            with nps.layout.writer_lock():
                if context.assets_def.partitions_def is not None:
                    day_ledger.record_written(nps.layout, name, days)
                elif seq is not None:
                    day_ledger.caught_up(nps.layout, name, seq, days)
            metadata = dict(result.metadata or {})
            rows_in = metadata.pop("rows_in", None)
            rows_in = rows_in if rows_in is not None else _rows_in(context, nps)
        finally:
            _days.reset(token)
        seconds = round(time.monotonic() - started, 3)
        rows_out = metadata.pop("rows_out", metadata.get("rows"))
        stage_seconds = {stage: round(value, 3) for stage, value in stages.items()}
        stage_seconds["other"] = round(max(0.0, seconds - sum(stages.values())), 3)
        context.log.info(
            f"{name}: rows in {'-' if rows_in is None else f'{rows_in:,}'}, rows out "
            f"{'-' if rows_out is None else f'{rows_out:,}'}; compute_seconds={seconds} "
            + ", ".join(f"{k} {v:.2f} s" for k, v in stage_seconds.items())
        )
        progress.step_finished(name, seconds, rows_out, stage_seconds)
        if stage_seconds.get("waiting_for_lock", 0.0) > SLOW_LOCK_SECONDS:
            context.log.warning(
                f"{name} waited {stage_seconds['waiting_for_lock']:.0f} s for the warehouse lock: another process "
                f"was writing {nps.layout.root} (runs outside the Dagster run queue, e.g. the CLI, are not queued)"
            )
        return dg.MaterializeResult(
            metadata={
                **metadata,
                "days": window_label(days) if days else "none",
                "rows_in": rows_in if rows_in is not None else dg.MetadataValue.null(),
                "rows_out": rows_out if rows_out is not None else dg.MetadataValue.null(),
                "compute_seconds": seconds,
                **{f"seconds_{k}": v for k, v in stage_seconds.items()},
            },
            check_results=result.check_results,
        )

    return wrapper


def _staged_in_run(nps: NpsPipelineResource, run_id: str):
    return nps.layout.internal / "runs" / f"{run_id}.json"


def window_days(context: dg.AssetExecutionContext) -> list[dt.date]:
    """The days this asset works on in this run (see ``timed``)."""
    days = _days.get()
    if days is None:
        raise RuntimeError(f"{context.asset_key.to_user_string()}: window_days outside a timed asset")
    return days


def scope(context: dg.AssetExecutionContext, nps: NpsPipelineResource) -> tuple[WarehouseLayout, list[dt.date]]:
    """What an asset works on in this run: the warehouse and its days (the prologue every asset shares)."""
    return nps.layout, window_days(context)


def window_label(days: list[dt.date]) -> str:
    return days[0].isoformat() if len(days) == 1 else f"{days[0].isoformat()}..{days[-1].isoformat()}"


def latest_windows(con, nps: NpsPipelineResource, table: str, query: str, written: dict[dt.date, int], last_end: dt.date) -> pl.DataFrame:
    """Each kind of window at its last end on or before ``last_end``, from the files this run wrote."""
    ends = [day for day, rows in written.items() if rows]
    return con.sql(sql(query), params={"files": nps.layout.table_files_for_days(table, ends), "last_end": last_end}).pl()


def markdown_preview(frame: pl.DataFrame, limit: int = 20, total: int | None = None) -> str:
    """The first ``limit`` rows as a markdown table; ``total`` is the row count when ``frame`` holds only the shown rows."""
    total = frame.height if total is None else total
    if frame.is_empty():
        return "_no rows_"
    shown = frame.head(limit)
    lines = ["| " + " | ".join(shown.columns) + " |", "|" + "---|" * len(shown.columns)]
    for row in shown.iter_rows():
        lines.append("| " + " | ".join("" if v is None else (f"{v:.1f}" if isinstance(v, float) else str(v)) for v in row) + " |")
    if total > limit:
        lines.append(f"\n… {total - limit} more rows")
    return "\n".join(lines)


def configured_or_shipped(load_configured, load_shipped, errors: tuple[type[Exception], ...], reason: str):
    """A configured file, or the shipped one with the reason (``reason`` formatted with the error) the configured one failed."""
    try:
        return load_configured(), None
    except errors as error:
        return load_shipped(), reason.format(error=error)


def setting_check(check_name: str, problem: str | None, in_use: str, **metadata) -> dg.AssetCheckResult:
    """The check on a configured file or setting: an error that names the problem, else what is in use."""
    return dg.AssetCheckResult(
        check_name=check_name,
        passed=problem is None,
        severity=dg.AssetCheckSeverity.ERROR,
        description=problem or in_use,
        metadata=metadata or None,
    )
