"""The jobs: every daily asset (and the checks on what it publishes) for a day or range, staging alone, and freshness."""

import dagster as dg

from nps_pipeline.defs.ingest.assets import landing_files, validated_responses
from nps_pipeline.defs.shared import daily_partitions
from nps_pipeline.graph import nps_assets
from nps_pipeline.defs.serve.checks import freshness_checks, published_table_checks

daily_nps_job = dg.define_asset_job(
    "daily_nps",
    selection=dg.AssetSelection.assets(*nps_assets).without_checks()
    | dg.AssetSelection.checks_for_assets(*nps_assets) - dg.AssetSelection.checks(freshness_checks),
    partitions_def=daily_partitions,
    description=(
        "Every NPS asset for a day or a range of days, as one run: staging, the per-day facts for the days, the "
        "cross-day tables for them, publishing, then the checks on the published tables."
    ),
)

stage_landing_zone_job = dg.define_asset_job(
    "stage_landing_zone",
    selection=dg.AssetSelection.assets(landing_files, validated_responses),
    description="Stage new or changed exports (the days they hold are known afterwards).",
)

freshness_job = dg.define_asset_job(
    "freshness",
    selection=dg.AssetSelection.checks(freshness_checks),
    description="Is yesterday's partition of every published table there by NPS_FRESHNESS_DEADLINE_HOUR?",
)

__all__ = ["daily_nps_job", "stage_landing_zone_job", "freshness_job", "published_table_checks"]
