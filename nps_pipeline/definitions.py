"""The code location: the daily assets, the nightly schedule and the resource built from NPS_* settings."""

from __future__ import annotations

import dagster as dg

from nps_pipeline.assets import SETTINGS, daily_assets, daily_partitions
from nps_pipeline.resources import NpsPipelineResource

daily_nps_job = dg.define_asset_job(
    "daily_nps",
    selection=dg.AssetSelection.assets(*daily_assets),
    partitions_def=daily_partitions,
    description="Every daily NPS asset for a day or a range of days, as one run.",
)

nightly_schedule = dg.build_schedule_from_partitioned_job(
    daily_nps_job,
    name="nightly_nps",
    hour_of_day=2,
    description="At 02:00 in NPS_TIMEZONE, materialise yesterday's partition.",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)

defs = dg.Definitions(
    assets=daily_assets,
    jobs=[daily_nps_job],
    schedules=[nightly_schedule],
    resources={"nps": NpsPipelineResource.from_settings(SETTINGS)},
)
