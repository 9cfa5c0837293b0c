"""The asset graph: landing zone -> staged rows -> per-day facts -> cross-day tables -> nps.duckdb.

Only the per-day facts are partitioned by day (``responses``, and ``nps_daily`` with the day's
aggregate tables), with a single-run backfill policy: a range of days is one run, and each handles
``context.partition_time_window`` as a whole. Everything that is per file (staging, accounting,
quarantine) or spans days (windows, weighting, benchmark, cases, follow-ups, hand-off, report,
publishing) is one unpartitioned asset, so a year's range costs it one Dagster event, not 365; it
learns its days from the run's partition tags and from the day ledger (``day_ledger``).
"""


import contextvars
import datetime as dt
import functools
import json
import time

import warnings

import dagster as dg
import polars as pl

from nps_pipeline import aggregate, benchmarks, cases, day_ledger, dedupe, followup, handoff, observe, progress, report, serve, staging, tables
from nps_pipeline.case_rules import CaseRules, CaseRulesError, load_case_rules
from nps_pipeline.themes import Lexicon, LexiconError, load_lexicon
from nps_pipeline.charts import markdown_image
from nps_pipeline.formats import load_source_settings, settings_for
from nps_pipeline.ingest import landing_entries, scan_landing_zone
from nps_pipeline.resources import NpsPipelineResource
from nps_pipeline.settings import Settings
from nps_pipeline.storage import DAILY_TABLES, SCHEMA_FILE, atomic_write_bytes, count_rows, days_in, sql
from nps_pipeline.weighting import WeightingFileError, load_population

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
                "days": _window_label(days) if days else "none",
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


def _window_label(days: list[dt.date]) -> str:
    return days[0].isoformat() if len(days) == 1 else f"{days[0].isoformat()}..{days[-1].isoformat()}"


def _latest_windows(con, nps: NpsPipelineResource, table: str, query: str, written: dict[dt.date, int], last_end: dt.date) -> pl.DataFrame:
    """Each kind of window at its last end on or before ``last_end``, from the files this run wrote."""
    ends = [day for day, rows in written.items() if rows]
    return con.sql(sql(query), params={"files": nps.layout.table_files_for_days(table, ends), "last_end": last_end}).pl()


def _markdown(frame: pl.DataFrame, limit: int = 20, total: int | None = None) -> str:
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


@dg.asset(group_name="ingest", kinds={"python", "files"}, **CROSS_DAY)
@timed
def landing_files(context: dg.AssetExecutionContext, nps: NpsPipelineResource) -> dg.MaterializeResult:
    """Landed exports: every file in the landing zone, and which are new or changed since staged."""
    layout = nps.layout
    layout.ensure()
    with layout.writer_lock():
        pulled = nps.pull_warehouse()
        synced = nps.sync_landing()
    if pulled is not None:
        context.log.info(f"warehouse working copy synced from {nps.warehouse_dir}: {pulled}")
    if synced is not None:
        context.log.info(f"landing zone synced from {nps.landing_dir}: {synced}")
    landed = scan_landing_zone(nps.landing_path)
    sources = load_source_settings(nps.landing_path)
    plan = staging.plan_staging(landed, staging.load_manifests(layout), nps.timezone, nps.start_date, sources)
    catalogue = [
        {"file": f.relative_path, "size": f.size, "mtime_ns": f.mtime_ns, "new_or_changed": f in plan.to_stage}
        for f in landed
    ]
    atomic_write_bytes(layout.internal / CATALOGUE, json.dumps(catalogue, indent=1).encode("utf-8"))
    context.log.info(
        f"{len(landed)} file(s) in {nps.landing_path}: {len(plan.to_stage)} new or changed, "
        f"{len(plan.unchanged)} unchanged"
    )
    return dg.MaterializeResult(
        metadata={
            "landing_dir": nps.landing_dir,
            "files_landed": len(landed),
            "files_new_or_changed": len(plan.to_stage),
            "files_unchanged": len(plan.unchanged),
            "new_or_changed": dg.MetadataValue.md(
                "\n".join(f"- `{f.relative_path}` ({f.size:,} bytes)" for f in plan.to_stage) or "_none_"
            ),
        }
    )


@dg.asset(
    group_name="ingest",
    kinds={"polars", "pandera", "parquet"},
    deps=[landing_files],
    check_specs=[
        dg.AssetCheckSpec(
            "every_file_readable",
            asset="validated_responses",
            description="Names each landed file that could not be read at all, and why.",
        ),
    ],
    **CROSS_DAY,
)
@timed
def validated_responses(context: dg.AssetExecutionContext, nps: NpsPipelineResource) -> dg.MaterializeResult:
    """Validated, staged responses: each new file version parsed, checked with pandera and stored by day."""
    layout = nps.layout
    staged_now: list[staging.FileManifest] = []
    with nps.writing() as con:
        staging.ensure_staged_schema(con, layout)
        manifests = staging.load_manifests(layout)
        # Planned again under the lock: the landing zone may have changed since landing_files ran.
        nps.sync_landing()
        sources = load_source_settings(nps.landing_path)
        plan = staging.plan_staging(scan_landing_zone(nps.landing_path), manifests, nps.timezone, nps.start_date, sources)
        with progress.bar("staging", sum(f.size for f in plan.to_stage), "B") as bar:
            for landed in plan.to_stage:
                manifest = staging.stage_file(
                    con, layout, landed, timezone=nps.timezone, start_date=nps.first_day,
                    previous=manifests.get(landed.file_id), settings=settings_for(landed.relative_path, sources),
                )
                staged_now.append(manifest)
                if manifest.status == "rejected":
                    context.log.error(f"{manifest.source_file}: not ingested: {manifest.problem}")
                else:
                    context.log.info(
                        f"{manifest.source_file}: {manifest.rows_read} rows read, {manifest.rows_staged} staged, "
                        f"{manifest.rows_quarantined} quarantined, days {min(manifest.days, default='-')}..{max(manifest.days, default='-')}"
                    )
                bar.update(landed.size, f"{len(staged_now)}/{len(plan.to_stage)} files, {sum(m.rows_read for m in staged_now):,} rows")
        manifests = staging.load_manifests(layout)
        previously_held = layout.held_back()
        held = staging.held_back_files(manifests, nps.max_rejected_share, nps.min_rows_for_rejected_share, sources)
        if held != previously_held:
            atomic_write_bytes(layout.held_back_file, json.dumps(held, indent=1).encode("utf-8"))
        for file_id in held.keys() - previously_held.keys():
            context.log.error(f"{manifests[file_id].source_file}: {held[file_id]}")
        if held.keys() != previously_held.keys() and layout.superseded.exists():
            # A file held back or released changes which versions of a response are published.
            superseded = dedupe.rebuild_superseded_index(con, layout)
            context.log.info(f"superseded-versions index rebuilt: {superseded:,} rows superseded by a later version")
        elif staged_now or not layout.superseded.exists():
            superseded = dedupe.update_superseded_index(con, layout, staged_now)
            context.log.info(f"superseded-versions index updated: {superseded:,} rows superseded by a later version")
    # The quarantine's threshold check, later in this run, tells the files held back now from those held before.
    newly_held = [f for f in held if f not in previously_held or f in {m.file_id for m in staged_now}]
    atomic_write_bytes(
        _staged_in_run(nps, context.run.run_id),
        json.dumps({"staged": [m.file_id for m in staged_now], "newly_held": newly_held}).encode("utf-8"),
    )

    unreadable = [m for m in manifests.values() if m.status == "rejected"]
    new_problems = [m for m in unreadable if m.file_id in {n.file_id for n in staged_now}]
    checks = [
        dg.AssetCheckResult(
            check_name="every_file_readable",
            passed=not unreadable,
            # A file is reported as an error once, when it lands (or changes); after that as a warning,
            # so one unusable file does not fail every later run.
            severity=dg.AssetCheckSeverity.ERROR if new_problems else dg.AssetCheckSeverity.WARN,
            description="; ".join(f"{m.source_file}: {m.problem}" for m in unreadable) or "every landed file was readable",
            metadata={
                "unreadable_files": [f"{m.source_file}: {m.problem}" for m in unreadable],
                "new_this_run": [m.source_file for m in new_problems],
            },
        ),
    ]
    rows_read = sum(m.rows_read for m in staged_now)
    return dg.MaterializeResult(
        metadata={
            "files_staged_this_run": len(staged_now),
            "rows_in": rows_read,
            "rows_out": sum(m.rows_staged for m in staged_now) + sum(m.rows_quarantined for m in staged_now),
            "rows_read": rows_read,
            "rows_staged": sum(m.rows_staged for m in staged_now),
            "rows_quarantined": sum(m.rows_quarantined for m in staged_now),
            "files_unreadable": len(unreadable),
            "files": dg.MetadataValue.md(
                _markdown(
                    pl.DataFrame(
                        [
                            {
                                "file": m.source_file,
                                "status": m.status,
                                "read": m.rows_read,
                                "staged": m.rows_staged,
                                "quarantined": m.rows_quarantined,
                                "problem": m.problem,
                            }
                            for m in staged_now
                        ]
                    )
                    if staged_now
                    else pl.DataFrame()
                )
            ),
        },
        check_results=checks,
    )


@dg.asset(
    group_name="ingest",
    kinds={"duckdb", "parquet"},
    deps=[validated_responses, dg.AssetKey("ingest_files")],
    check_specs=[
        dg.AssetCheckSpec(
            "rejected_share_within_threshold",
            asset="quarantine",
            description=(
                "Names each file held back because its share of rejected rows passes NPS_MAX_REJECTED_SHARE "
                "(with at least NPS_MIN_ROWS_FOR_REJECTED_SHARE rows): an error the run it is held back, a warning after."
            ),
        )
    ],
    **CROSS_DAY,
)
@timed
def quarantine(context: dg.AssetExecutionContext, nps: NpsPipelineResource) -> dg.MaterializeResult:
    """Quarantine: every input row that could not be accepted, with every failed rule and the raw row.

    A file with too many rejected rows is held back alone: its rows are not published, every other
    file's are, and its reasons are here for whoever fixes it.
    """
    layout = nps.layout
    manifests = staging.load_manifests(layout)
    run_record = _staged_in_run(nps, context.run.run_id)
    record = json.loads(run_record.read_text(encoding="utf-8")) if run_record.exists() else {}
    staged_now, newly_held = set(record.get("staged", [])), set(record.get("newly_held", []))
    with nps.writing() as con:
        rows = serve.materialise_quarantine(layout, manifests)
        # The rows this run quarantined (every file's when it staged none).
        this_run = [str(path) for file_id in staged_now if (path := layout.landed_file_part("quarantine", file_id)).exists()]
        shown = this_run or layout.per_file_table_files("quarantine")
        preview = con.sql(sql("select_quarantine_preview"), params={"files": shown}).pl()
    run_record.unlink(missing_ok=True)
    held = layout.held_back()
    check = dg.AssetCheckResult(
        check_name="rejected_share_within_threshold",
        passed=not held,
        severity=dg.AssetCheckSeverity.ERROR if newly_held else dg.AssetCheckSeverity.WARN,
        description=(
            "; ".join(f"{manifests[f].source_file}: {reason}" for f, reason in held.items() if f in manifests)
            or f"no file held back (every file at or under {nps.max_rejected_share:.1%} rejected rows, "
            f"or under {nps.min_rows_for_rejected_share} rows, or accepted)"
        ),
        metadata={
            "files_held_back": [manifests[f].source_file for f in held if f in manifests],
            "held_back_this_run": [manifests[f].source_file for f in newly_held if f in manifests],
            "threshold": nps.max_rejected_share,
            "min_rows": nps.min_rows_for_rejected_share,
        },
    )
    return dg.MaterializeResult(
        metadata={
            "rows_in": sum(m.rows_quarantined for m in manifests.values() if m.status == "staged"),
            "rows": rows,
            "files_held_back": len(held),
            "preview": dg.MetadataValue.md(_markdown(preview)),
        },
        check_results=[check],
    )


def _lexicon(nps: NpsPipelineResource) -> tuple[Lexicon, str | None]:
    """The configured theme lexicon, or the shipped one with the reason the configured one failed."""
    try:
        return nps.lexicon(), None
    except LexiconError as error:
        return load_lexicon(), f"NPS_THEME_LEXICON_FILE: {error}; the shipped lexicon is used instead"


def _case_rules(nps: NpsPipelineResource) -> tuple[CaseRules, str | None]:
    """The configured case rules, or the shipped ones with the reason the configured ones failed."""
    try:
        return nps.case_rules(), None
    except CaseRulesError as error:
        return load_case_rules(), f"{error}; the shipped case rules are used instead"


@dg.asset(
    group_name="nps",
    kinds={"duckdb", "polars", "parquet"},
    deps=[validated_responses, quarantine],
    check_specs=[
        dg.AssetCheckSpec(
            "theme_lexicon_valid",
            asset="responses",
            description="NPS_THEME_LEXICON_FILE, when set, can be read (else the shipped lexicon is used).",
        )
    ],
    **DAILY,
)
@timed
def responses(context: dg.AssetExecutionContext, nps: NpsPipelineResource) -> dg.MaterializeResult:
    """Responses: one row per distinct valid response, the latest version of each response_id, classified, with language and themes."""
    layout = nps.layout
    days = window_days(context)
    lexicon, problem = _lexicon(nps)
    if problem:
        context.log.error(problem)
    with nps.writing() as con:
        key = dedupe.pseudonym_key(layout, nps.pseudonym_key)
        kept, superseded = dedupe.materialise_responses(con, layout, days, key, lexicon)
    return dg.MaterializeResult(
        metadata={
            "window": _window_label(days),
            "rows_in": sum(kept.values()) + sum(superseded.values()),
            "rows": sum(kept.values()),
            "duplicates_superseded": sum(superseded.values()),
            "days_with_responses": sum(1 for n in kept.values() if n),
            "theme_lexicon": ", ".join(lexicon.sources),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name="theme_lexicon_valid",
                passed=problem is None,
                severity=dg.AssetCheckSeverity.ERROR,
                description=problem or f"{lexicon.terms.height} terms for {len(lexicon.themes)} themes from {', '.join(lexicon.sources)}",
            )
        ],
    )


def _nps_summary(frame: pl.DataFrame) -> dict:
    responses_total = int(frame["responses"].sum()) if not frame.is_empty() else 0
    promoters = int(frame["promoters"].sum()) if responses_total else 0
    detractors = int(frame["detractors"].sum()) if responses_total else 0
    return {
        "responses": responses_total,
        "nps": round(100.0 * (promoters - detractors) / responses_total, 2) if responses_total else None,
    }


@dg.asset(group_name="nps", kinds={"duckdb", "parquet"}, deps=[responses], **DAILY)
@timed
def nps_daily(context: dg.AssetExecutionContext, nps: NpsPipelineResource) -> dg.MaterializeResult:
    """Daily NPS: the day's score counts, NPS with adjusted-Wald 95 % bounds overall and by segment, and comment themes.

    Writes the per-day aggregate tables: ``nps_score_counts_daily`` (responses per day, segment and
    score 0-10, the additive facts every NPS figure sums), ``nps_daily``, ``nps_daily_segment`` and
    ``nps_themes_daily``. Its metadata repeats on every day of a range, so it is numbers only: the
    pictures are on ``nps_windows`` and ``nps_report``.
    """
    layout = nps.layout
    days = window_days(context)
    lexicon, _ = _lexicon(nps)
    with nps.writing() as con:
        counts = aggregate.materialise_nps_score_counts_daily(con, layout, days, nps.attribute_dimensions)
        aggregate.materialise_nps_daily(con, layout, days, nps.low_sample_threshold)
        segments = aggregate.materialise_nps_daily_segment(con, layout, days, nps.low_sample_threshold)
        themes = aggregate.materialise_nps_themes_daily(con, layout, days, lexicon.themes)
        frame = con.sql(sql("select_nps_daily_days"), params={"files": layout.table_files_for_days("nps_daily", days)}).pl()
    summary = _nps_summary(frame)
    return dg.MaterializeResult(
        metadata={
            "window": _window_label(days),
            "rows_out": frame.height,
            "score_count_rows": sum(counts.values()),
            "segment_rows": sum(segments.values()),
            "theme_rows": sum(themes.values()),
            "responses": summary["responses"],
            "nps_for_window": summary["nps"] if summary["nps"] is not None else dg.MetadataValue.null(),
            "attribute_dimensions": ", ".join(nps.attribute_dimensions) or "none (set NPS_SEGMENT_ATTRIBUTES)",
        }
    )


@dg.asset(group_name="nps", kinds={"duckdb", "parquet"}, deps=[nps_daily], **CROSS_DAY)
@timed
def nps_windows(context: dg.AssetExecutionContext, nps: NpsPipelineResource) -> dg.MaterializeResult:
    """NPS windows: trailing 7/28/90 days and calendar weeks, months, quarters per segment, with bounds and change tests."""
    layout = nps.layout
    days = window_days(context)
    with nps.writing() as con:
        written = aggregate.materialise_nps_windows(con, layout, days, nps.low_sample_threshold)
        frame = _latest_windows(con, nps, "nps_windows", "select_window_overview", written, days[-1])
        with report.report_sources(con, layout, days[-1], ("nps_windows", "nps_daily")) as sources:
            charts = report.charts_for(con, sources)
    latest_28 = frame.filter(pl.col("window_type") == "trailing_28d")
    latest_nps = latest_28["nps"][0] if not latest_28.is_empty() else None
    return dg.MaterializeResult(
        metadata={
            "window": _window_label(days),
            "rows": sum(written.values()),
            # A number, so the UI's Plots tab draws it across materialisations.
            "nps_trailing_28d": float(latest_nps) if latest_nps is not None else dg.MetadataValue.null(),
            "window_ends_replaced": f"{min(written)}..{max(written)}",
            "low_sample_threshold": nps.low_sample_threshold,
            "latest_windows": dg.MetadataValue.md(_markdown(frame)),
            "trend": dg.MetadataValue.md(markdown_image(charts.trend, "NPS trend")),
            "segments": dg.MetadataValue.md(markdown_image(charts.segments, "NPS by segment")),
        }
    )


@dg.asset(
    group_name="nps",
    kinds={"duckdb", "parquet"},
    deps=[responses, nps_daily],
    check_specs=[
        dg.AssetCheckSpec(
            "weighting_file_valid",
            asset="nps_windows_weighted",
            description="The population file named by NPS_WEIGHTING_FILE can be read and used.",
        )
    ],
    **CROSS_DAY,
)
@timed
def nps_windows_weighted(context: dg.AssetExecutionContext, nps: NpsPipelineResource) -> dg.MaterializeResult:
    """Weighted NPS: each window's overall NPS post-stratified to population shares, beside the unweighted one."""
    layout = nps.layout
    days = window_days(context)
    population, problem = None, None
    if nps.weighting_file:
        try:
            population = load_population(nps.weighting_file)
        except WeightingFileError as error:
            problem = str(error)
            context.log.error(problem)
    with nps.writing() as con:
        written = aggregate.materialise_nps_windows_weighted(con, layout, days, population, nps.low_sample_threshold)
        frame = _latest_windows(con, nps, "nps_windows_weighted", "select_weighted_window_overview", written, days[-1])
    widest = frame.filter(pl.col("window_type") == "trailing_90d")
    if population and not widest.is_empty() and widest["responses"][0] and widest["outside_population"][0] == widest["responses"][0]:
        problem = (
            f"no response of the 90 days to {widest['window_end'][0]} falls in a cell of {nps.weighting_file} "
            f"(strata {', '.join(population.strata)}): check the column names and values"
        )
        context.log.error(problem)
    check = dg.AssetCheckResult(
        check_name="weighting_file_valid",
        passed=problem is None,
        severity=dg.AssetCheckSeverity.ERROR,
        description=problem
        or (f"weighted by {population.description}" if population else "no NPS_WEIGHTING_FILE set: unweighted only"),
    )
    return dg.MaterializeResult(
        metadata={
            "window": _window_label(days),
            "rows": sum(written.values()),
            "weighting": population.description if population else (problem or "not configured (NPS_WEIGHTING_FILE)"),
            "latest_windows": dg.MetadataValue.md(_markdown(frame)),
        },
        check_results=[check],
    )


@dg.asset(
    group_name="nps",
    kinds={"duckdb", "parquet"},
    deps=[nps_windows],
    check_specs=[
        dg.AssetCheckSpec(
            "benchmark_industry_known",
            asset="nps_benchmark_comparison",
            description="NPS_BENCHMARK_INDUSTRY names an industry of the benchmarks table.",
        ),
        dg.AssetCheckSpec(
            "benchmarks_file_readable",
            asset="nps_benchmark_comparison",
            description="NPS_BENCHMARKS_FILE, when set, can be read (else the shipped seed is used).",
        ),
    ],
    **CROSS_DAY,
)
@timed
def nps_benchmark_comparison(context: dg.AssetExecutionContext, nps: NpsPipelineResource) -> dg.MaterializeResult:
    """Benchmark comparison: overall NPS per window beside published figures for the configured industry."""
    layout = nps.layout
    days = window_days(context)
    with nps.writing() as con:
        industries, file_problem = benchmarks.materialise_industry_benchmarks(con, layout, nps.benchmarks_file)
        written = benchmarks.materialise_nps_benchmark_comparison(con, layout, days, nps.benchmark_industry)
        latest = _latest_windows(con, nps, "nps_benchmark_comparison", "select_benchmark_overview", written, days[-1])
    known = nps.benchmark_industry.strip().lower() in {i.lower() for i in industries}
    if file_problem:
        context.log.error(file_problem)
    if not nps.benchmark_industry:
        description = "no NPS_BENCHMARK_INDUSTRY set: nothing compared"
    elif known:
        description = f"compared with {nps.benchmark_industry}"
    else:
        description = f"NPS_BENCHMARK_INDUSTRY {nps.benchmark_industry!r} is not in the benchmarks; known: {'; '.join(industries)}"
    return dg.MaterializeResult(
        metadata={
            "window": _window_label(days),
            "industry": nps.benchmark_industry or "not configured (NPS_BENCHMARK_INDUSTRY)",
            "rows": sum(written.values()),
            "latest": dg.MetadataValue.md(_markdown(latest)),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name="benchmark_industry_known",
                passed=not nps.benchmark_industry or known,
                severity=dg.AssetCheckSeverity.ERROR,
                description=description,
                metadata={"industries": industries},
            ),
            dg.AssetCheckResult(
                check_name="benchmarks_file_readable",
                passed=file_problem is None,
                severity=dg.AssetCheckSeverity.ERROR,
                description=file_problem or f"benchmarks from {nps.benchmarks_file or 'the shipped seed'}",
            ),
        ],
    )


@dg.asset(
    group_name="follow_up",
    kinds={"duckdb", "polars", "parquet"},
    deps=[responses],
    check_specs=[
        dg.AssetCheckSpec(
            "case_rules_valid",
            asset="detractor_cases",
            description="NPS_CASE_RULES_FILE (priority, SLA, keywords, routing) can be read (else the shipped rules are used).",
        ),
        dg.AssetCheckSpec(
            "case_updates_valid",
            asset="detractor_cases",
            description="Every status update read in this run was applied; names the file, row and rule of each one rejected.",
        ),
    ],
    **CROSS_DAY,
)
@timed
def detractor_cases(context: dg.AssetExecutionContext, nps: NpsPipelineResource) -> dg.MaterializeResult:
    """Detractor cases: one open case per customer, priority and owner queue from the rules, statuses merged from the updates folder."""
    layout = nps.layout
    days = window_days(context)
    rules, problem = _case_rules(nps)
    if problem:
        context.log.error(problem)
    with nps.writing() as con:
        run = cases.materialise_cases(con, layout, days, rules, nps.updates_path, nps.timezone)
    rejected = run.new_events.filter(~pl.col("accepted"))
    rejections = [
        f"{file}: row {row}: case {case or '-'}: {why}"
        for file, row, case, why in rejected.select("update_file", "update_row", "case_id", "reason").iter_rows()
    ]
    for line in rejections + run.file_problems:
        context.log.warning(f"status update rejected: {line}")
    applied = run.new_events.height - rejected.height
    context.log.info(
        f"{run.responses_in_window} detractor responses in the window; {applied} status update(s) applied, {len(rejections)} rejected"
    )
    open_cases = run.cases.filter(pl.col("status").is_in(cases.ACTIVE_STATUSES))
    by_priority = open_cases.group_by("priority").agg(pl.len().alias("open_cases")).sort("priority")
    return dg.MaterializeResult(
        metadata={
            "window": _window_label(days),
            "detractor_responses_in_window": run.responses_in_window,
            "rows_in": run.responses_in_window,
            "rows_out": run.cases.height,
            "cases": run.cases.height,
            "cases_rebuilt": run.cases_rebuilt,
            "cases_merged": run.cases_merged,
            "open_cases": open_cases.height,
            "updates_applied": applied,
            "updates_rejected": len(rejections),
            "rules": rules.path,
            "open_by_priority": dg.MetadataValue.md(_markdown(by_priority)),
            "preview": dg.MetadataValue.md(
                _markdown(
                    open_cases.select(
                        "case_id", "priority", "due_at", "status", "owner", "responses", "latest_score", "priority_reasons"
                    )
                    .bottom_k(20, by=["priority", "due_at", "case_id"])
                    .sort("priority", "due_at", "case_id"),
                    total=open_cases.height,
                )
            ),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name="case_rules_valid",
                passed=problem is None,
                severity=dg.AssetCheckSeverity.ERROR,
                description=problem or f"rules from {rules.path}",
            ),
            dg.AssetCheckResult(
                check_name="case_updates_valid",
                passed=not rejections and not run.file_problems,
                severity=dg.AssetCheckSeverity.WARN,
                description="; ".join(rejections + run.file_problems)[:2000] or "every status update read was applied",
                metadata={"rejected": rejections + run.file_problems},
            ),
        ],
    )


@dg.asset(group_name="follow_up", kinds={"duckdb", "parquet"}, deps=[detractor_cases], **CROSS_DAY)
@timed
def case_metrics(context: dg.AssetExecutionContext, nps: NpsPipelineResource) -> dg.MaterializeResult:
    """Close-the-loop metrics per day, week and owner: contacted within SLA, time to first contact, overdue cases, improved next scores."""
    with nps.writing() as con:
        frame = cases.materialise_case_metrics(con, nps.layout, nps.timezone)
    weeks = frame.filter((pl.col("period_type") == "week") & (pl.col("owner") == "all")).tail(8)
    return dg.MaterializeResult(
        metadata={
            "rows": frame.height,
            "as_of": str(frame["as_of"][0]) if frame.height else "no cases",
            "recent_weeks": dg.MetadataValue.md(
                _markdown(
                    weeks.select(
                        "period_start", "cases_opened", "pct_contacted_within_sla", "median_hours_to_first_contact",
                        "overdue_open_cases", "pct_improved",
                    )
                )
            ),
        }
    )


@dg.asset(group_name="follow_up", kinds={"csv"}, deps=[detractor_cases], **CROSS_DAY)
@timed
def crm_handoff(context: dg.AssetExecutionContext, nps: NpsPipelineResource) -> dg.MaterializeResult:
    """CRM hand-off: the cases changed since the last full list of open cases (and that list when due), with email and name."""
    with nps.writing():
        run = handoff.write_crm_handoff(nps.layout, window_days(context)[-1], nps.handoff_full_every_days)
    what = "the full list of open cases" if run.full else "the cases changed since the full list"
    context.log.info(f"wrote {run.rows.height} row(s), {what}, to {run.path}; {run.open_cases} case(s) open")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(run.path)),
            "rows_out": run.rows.height,
            "full_list_written": run.full,
            "open_cases": run.open_cases,
            "written_without_email": run.rows.filter(pl.col("email").is_null()).height,
        }
    )


@dg.asset(group_name="follow_up", kinds={"duckdb", "parquet"}, deps=[responses, detractor_cases], **CROSS_DAY)
@timed
def detractor_followups(context: dg.AssetExecutionContext, nps: NpsPipelineResource) -> dg.MaterializeResult:
    """Detractor follow-ups: every detractor response with its case, the case's priority, SLA due time and status."""
    layout = nps.layout
    days = window_days(context)
    with nps.writing() as con:
        written = followup.materialise_detractor_followups(con, layout, days)
        by_priority = con.sql(
            sql("select_followups_by_priority"), params={"files": layout.table_files_for_days("detractor_followups", days)}
        ).pl()
    return dg.MaterializeResult(
        metadata={
            "window": _window_label(days),
            "rows": sum(written.values()),
            "by_priority": dg.MetadataValue.md(_markdown(by_priority)),
        }
    )


@dg.asset(
    group_name="ingest",
    kinds={"duckdb", "parquet"},
    deps=[validated_responses],
    check_specs=[
        dg.AssetCheckSpec(
            "row_accounting_identity",
            asset="ingest_files",
            description="For every file: rows_read = rows_valid + rows_duplicate + rows_quarantined.",
        )
    ],
    **CROSS_DAY,
)
@timed
def ingest_files(context: dg.AssetExecutionContext, nps: NpsPipelineResource) -> dg.MaterializeResult:
    """Ingested files: one accounting row per landed file, every row valid, duplicate or quarantined."""
    layout = nps.layout
    with nps.writing() as con:
        ignored = landing_entries(nps.landing_path)[1]
        frame = serve.materialise_ingest_files(con, layout, staging.load_manifests(layout), ignored)
    unbalanced = frame.filter(
        pl.col("rows_read") != pl.col("rows_valid") + pl.col("rows_duplicate") + pl.col("rows_quarantined")
    )
    return dg.MaterializeResult(
        metadata={
            "files": frame.height,
            "rows_in": frame.height,
            "rows_out": frame.height,
            "rows_read": int(frame["rows_read"].sum()),
            "rows_valid": int(frame["rows_valid"].sum()),
            "rows_duplicate": int(frame["rows_duplicate"].sum()),
            "rows_quarantined": int(frame["rows_quarantined"].sum()),
            "preview": dg.MetadataValue.md(
                _markdown(frame.select("source_file", "status", "rows_read", "rows_valid", "rows_duplicate", "rows_quarantined"))
            ),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name="row_accounting_identity",
                passed=unbalanced.is_empty(),
                metadata={"files_not_adding_up": unbalanced["source_file"].to_list()},
            )
        ],
    )


def _weighting_label(nps: NpsPipelineResource) -> str:
    if not nps.weighting_file:
        return "No population file is configured (NPS_WEIGHTING_FILE): weighted columns are empty."
    try:
        return f"Post-stratified by {load_population(nps.weighting_file).description}."
    except WeightingFileError as error:
        return f"Not weighted: {error}"


@dg.asset(
    group_name="serve",
    kinds={"html"},
    deps=[nps_daily, nps_windows, nps_windows_weighted, nps_benchmark_comparison],
    **CROSS_DAY,
)
@timed
def nps_report(context: dg.AssetExecutionContext, nps: NpsPipelineResource) -> dg.MaterializeResult:
    """NPS report: a static HTML page with the trend, segments, changes, weighting and benchmark, beside the warehouse."""
    layout = nps.layout
    as_of = layout.newest_day("nps_daily")
    if as_of is None:
        return dg.MaterializeResult(metadata={"path": "no day materialised yet"})
    with nps.writing() as con:
        with report.report_sources(con, layout, as_of) as sources:
            charts = report.charts_for(con, sources)
            path = report.write_report(con, layout, sources, nps.low_sample_threshold, _weighting_label(nps), charts)
    context.log.info(f"wrote {path} (as of {as_of})")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "as_of": as_of.isoformat(),
            "trend": dg.MetadataValue.md(markdown_image(charts.trend, "NPS trend")),
            "segments": dg.MetadataValue.md(markdown_image(charts.segments, "NPS by segment")),
        }
    )


@dg.asset(
    group_name="serve",
    kinds={"duckdb"},
    # Every asset that writes a published table (tables.TABLES).
    deps=[dg.AssetKey(owner) for owner in tables.OWNERS],
    **CROSS_DAY,
)
@timed
def published_warehouse(context: dg.AssetExecutionContext, nps: NpsPipelineResource) -> dg.MaterializeResult:
    """Published nps.duckdb: views over every table, swapped in atomically for BI tools to read."""
    layout = nps.layout
    with layout.writer_lock():
        tables, snapshot = serve.publish(layout)
        pushed = nps.push_warehouse(tables)
    context.log.info(f"published {layout.published_db}: views {', '.join(tables)} over snapshot {snapshot.name}")
    if pushed is not None:
        context.log.info(f"uploaded to {nps.warehouse_dir}: {pushed['uploaded']} changed file(s), {pushed['deleted']} deleted, and nps_views.sql")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(layout.published_db)),
            "snapshot": snapshot.name,
            **({"uploaded_files": pushed["uploaded"], "bucket": nps.warehouse_dir} if pushed is not None else {}),
            "tables": ", ".join(tables),
        }
    )


# Every asset, in the order a run takes them.
nps_assets = [
    landing_files,
    validated_responses,
    responses,
    nps_daily,
    nps_windows,
    nps_windows_weighted,
    nps_benchmark_comparison,
    detractor_cases,
    case_metrics,
    crm_handoff,
    detractor_followups,
    quarantine,
    ingest_files,
    nps_report,
    published_warehouse,
]
