"""The code location: the daily assets, the nightly schedule and the resource built from NPS_* settings."""

from __future__ import annotations

import dagster as dg

from nps_pipeline.assets import SETTINGS, daily_assets
from nps_pipeline.jobs import daily_nps_job, stage_landing_zone_job
from nps_pipeline.resources import NpsPipelineResource
from nps_pipeline.sensors import landing_zone_sensor

nightly_schedule = dg.build_schedule_from_partitioned_job(
    daily_nps_job,
    name="nightly_nps",
    hour_of_day=2,
    description="At 02:00 in NPS_TIMEZONE, materialise yesterday's partition.",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)

defs = dg.Definitions(
    assets=daily_assets,
    jobs=[daily_nps_job, stage_landing_zone_job],
    schedules=[nightly_schedule],
    sensors=[landing_zone_sensor],
    resources={"nps": NpsPipelineResource.from_settings(SETTINGS)},
)
