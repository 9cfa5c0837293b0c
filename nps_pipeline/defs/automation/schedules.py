"""The schedules: the nightly run of yesterday's partition, and the freshness deadline."""

from __future__ import annotations

import dagster as dg

from nps_pipeline.defs.automation.jobs import daily_nps_job, freshness_job
from nps_pipeline.defs.shared import SETTINGS

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
