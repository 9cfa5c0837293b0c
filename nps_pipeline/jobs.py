"""The jobs: every daily asset for a day or range, and staging alone (for the landing-zone sensor)."""

import dagster as dg

from nps_pipeline.assets import daily_assets, daily_partitions, landing_files, validated_responses

daily_nps_job = dg.define_asset_job(
    "daily_nps",
    selection=dg.AssetSelection.assets(*daily_assets),
    partitions_def=daily_partitions,
    description="Every daily NPS asset for a day or a range of days, as one run.",
)

stage_landing_zone_job = dg.define_asset_job(
    "stage_landing_zone",
    selection=dg.AssetSelection.assets(landing_files, validated_responses),
    partitions_def=daily_partitions,
    description="Stage new or changed exports (the days they hold are known afterwards).",
)
