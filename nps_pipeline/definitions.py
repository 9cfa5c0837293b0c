"""The code location: the daily assets and their checks, the nightly and freshness schedules, the sensors and resources."""

from __future__ import annotations

import dagster as dg

from nps_pipeline.alerts import AlertWebhook, failed_checks_alert, run_failure_alert
from nps_pipeline.assets import SETTINGS, nps_assets
from nps_pipeline.checks import freshness_checks, published_table_checks
from nps_pipeline.jobs import daily_nps_job, freshness_job, stage_landing_zone_job
from nps_pipeline.resources import NpsPipelineResource
from nps_pipeline.sensors import landing_zone_sensor

nightly_schedule = dg.build_schedule_from_partitioned_job(
    daily_nps_job,
    name="nightly_nps",
    hour_of_day=2,
    description="At 02:00 in NPS_TIMEZONE, materialise yesterday's partition.",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)

freshness_schedule = dg.ScheduleDefinition(
    name="freshness_deadline",
    job=freshness_job,
    cron_schedule=f"0 {SETTINGS.freshness_deadline_hour} * * *",
    execution_timezone=SETTINGS.timezone,
    description="At NPS_FRESHNESS_DEADLINE_HOUR in NPS_TIMEZONE, check that yesterday's partitions are there.",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)

defs = dg.Definitions(
    assets=nps_assets,
    asset_checks=[published_table_checks, freshness_checks],
    jobs=[daily_nps_job, stage_landing_zone_job, freshness_job],
    schedules=[nightly_schedule, freshness_schedule],
    sensors=[landing_zone_sensor, failed_checks_alert, run_failure_alert],
    resources={"nps": NpsPipelineResource.from_settings(SETTINGS), "alerts": AlertWebhook(url=SETTINGS.alert_webhook_url)},
    # Steps take turns on the warehouse anyway (pool and lock): one process per run saves a
    # Python start-up per step, which is most of a nightly run's cost.
    executor=dg.in_process_executor,
)
