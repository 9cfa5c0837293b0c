"""The asset graph as one list, in the order a run takes the assets (jobs, checks, sensors and tests use it)."""

from nps_pipeline.defs.ingest.assets import landing_files, validated_responses, quarantine, ingest_files
from nps_pipeline.defs.nps.assets import responses, nps_daily, nps_windows, nps_windows_weighted, nps_benchmark_comparison
from nps_pipeline.defs.follow_up.assets import detractor_cases, case_metrics, crm_handoff, detractor_followups
from nps_pipeline.defs.serve.assets import nps_report, published_warehouse

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
