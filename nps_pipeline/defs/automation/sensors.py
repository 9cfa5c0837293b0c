"""The landing-zone sensor: new or changed exports trigger runs for exactly the days they hold.

Two steps, so that no file is parsed inside the sensor: a new or changed file first requests a
staging run (`stage_landing_zone`); once staged, its manifest says which days it holds, and the
sensor requests one `daily_nps` run per run of consecutive days: the file's days, the days its
previous version held, and the old day of any response it moved to another day. The cursor
remembers every staged file version already handled, so the same file never triggers twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import dagster as dg
import polars as pl
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from nps_pipeline.defs.ingest import staging
from nps_pipeline.defs.shared import daily_partitions
from nps_pipeline.graph import nps_assets
from nps_pipeline.day_ledger import Ledger
from nps_pipeline.defs.ingest.formats import load_source_settings
from nps_pipeline.defs.ingest.landing import scan_landing_zone
from nps_pipeline.defs.automation.jobs import daily_nps_job, stage_landing_zone_job
from nps_pipeline.resources import NpsPipelineResource

DAILY_WRITERS = [a.key.to_user_string() for a in nps_assets if a.partitions_def is not None]


def consecutive_ranges(days: list[dt.date]) -> list[tuple[dt.date, dt.date]]:
    ranges: list[tuple[dt.date, dt.date]] = []
    for day in sorted(set(days)):
        if ranges and day == ranges[-1][1] + dt.timedelta(days=1):
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return ranges


def _digest(parts: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(parts)).encode("utf-8")).hexdigest()[:16]


def _moved_days(nps: NpsPipelineResource, sources: set[str]) -> dict[str, set[str]]:
    """Per file: days of older versions, in other files, of responses the file now keeps on another day (one scan)."""
    index = nps.layout.superseded
    if not sources or not index.exists():
        return {}
    moved = (
        pl.scan_parquet(index)
        .filter(pl.col("kept_source_file").is_in(list(sources)) & (pl.col("response_date") != pl.col("kept_response_date")))
        .group_by("kept_source_file")
        .agg(pl.col("response_date").cast(pl.String).unique())
        .collect()
    )
    return {file: set(days) for file, days in moved.iter_rows()}


def _materialised_since_staged(
    ledger: Ledger, manifest: staging.FileManifest, moved: set[str], first: dt.date, last: dt.date
) -> bool:
    """Whether every day this file version touches was written by each daily asset after it was staged."""
    needed = {*manifest.days, *manifest.replaced_days, *moved}
    needed_days = {day for d in needed if first <= (day := dt.date.fromisoformat(d)) <= last}
    staged_at = dt.datetime.fromisoformat(manifest.ingested_at)
    return all(needed_days <= ledger.written_since(writer, staged_at) for writer in DAILY_WRITERS)


def evaluate_landing_zone(context: dg.SensorEvaluationContext, nps: NpsPipelineResource) -> dg.SensorResult:
    cursor = json.loads(context.cursor) if context.cursor else {}
    handled: dict[str, str] = cursor.get("handled", {})
    manifests = staging.load_manifests(nps.layout)
    last_key = daily_partitions.get_last_partition_key()
    if last_key is None:
        return dg.SkipReason(f"no daily partition yet (NPS_START_DATE {nps.start_date} is in the future)")
    requests: list[dg.RunRequest] = []
    nps.sync_landing()

    plan = staging.plan_staging(
        scan_landing_zone(nps.landing_path), manifests, nps.timezone, nps.start_date, load_source_settings(nps.landing_path)
    )
    if plan.to_stage:
        key = _digest([f"{f.relative_path}:{f.fingerprint}" for f in plan.to_stage])
        requests.append(
            dg.RunRequest(run_key=f"stage-{key}", job_name=stage_landing_zone_job.name,
                          tags={"nps/files": ", ".join(f.relative_path for f in plan.to_stage)[:1000]})
        )

    first, last = dt.date.fromisoformat(nps.start_date), dt.date.fromisoformat(last_key)
    fresh = [m for m in manifests.values() if handled.get(m.file_id) != f"{m.fingerprint}@{m.ingested_at}"]
    # A file version whose days were all materialised since it was staged (by a CLI run, a backfill
    # from the UI, `make demo`) is done: it is remembered, and triggers nothing.
    ledger = Ledger.load(nps.layout)
    moved = _moved_days(nps, {m.source_file for m in fresh if m.status == "staged"})
    done = [m for m in fresh if _materialised_since_staged(ledger, m, moved.get(m.source_file, set()), first, last)]
    handled.update({m.file_id: f"{m.fingerprint}@{m.ingested_at}" for m in done})
    fresh = [m for m in fresh if m not in done]
    days = {d for m in fresh for d in (*m.days, *m.replaced_days, *moved.get(m.source_file, set()))}
    in_range = [d for d in (dt.date.fromisoformat(x) for x in days) if first <= d <= last]
    fresh_key = _digest([f"{m.file_id}:{m.fingerprint}@{m.ingested_at}" for m in fresh])
    for start, end in consecutive_ranges(in_range):
        requests.append(
            dg.RunRequest(
                run_key=f"days-{fresh_key}-{start}-{end}",
                job_name=daily_nps_job.name,
                tags={ASSET_PARTITION_RANGE_START_TAG: start.isoformat(), ASSET_PARTITION_RANGE_END_TAG: end.isoformat()},
            )
        )
    if fresh:
        context.log.info(
            f"{len(fresh)} newly staged file version(s) hold {len(in_range)} day(s) in the partitions: "
            + ", ".join(f"{s}..{e}" for s, e in consecutive_ranges(in_range))
        )
    handled.update({m.file_id: f"{m.fingerprint}@{m.ingested_at}" for m in fresh})
    return dg.SensorResult(run_requests=requests, cursor=json.dumps({"handled": handled}))


@dg.sensor(
    name="landing_zone_sensor",
    jobs=[stage_landing_zone_job, daily_nps_job],
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="New or changed exports: stage them, then re-materialise exactly the days they hold.",
)
def landing_zone_sensor(context: dg.SensorEvaluationContext, nps: NpsPipelineResource):
    return evaluate_landing_zone(context, nps)
