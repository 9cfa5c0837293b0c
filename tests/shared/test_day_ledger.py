"""The day ledger: cross-day assets run without partition tags still do the days written since they last ran."""

import datetime as dt

import dagster as dg

from nps_pipeline.graph import nps_assets
from nps_pipeline.day_ledger import Ledger, caught_up, days_for, record_written, run_days, span
from nps_pipeline.storage import WarehouseLayout
from tests.conftest import Pipeline, rows_csv

d = dt.date.fromisoformat
PER_DAY = {"responses", "nps_daily"}
STAGING = {"landing_files", "validated_responses", "ingest_files", "quarantine"}


def test_pending_days_follow_the_writers_upstream(tmp_path):
    layout = WarehouseLayout(tmp_path)
    assert days_for(layout, "nps_windows", {"nps_daily"}, {}) == ([], 0)
    record_written(layout, "responses", [d("2024-03-01"), d("2024-03-02")])
    record_written(layout, "nps_daily", [d("2024-03-05")])
    # Only what its upstream daily assets wrote, as one span.
    assert days_for(layout, "detractor_cases", {"responses"}, {})[0] == [d("2024-03-01"), d("2024-03-02")]
    days, seq = days_for(layout, "nps_windows", {"responses", "nps_daily"}, {})
    assert days == span([d("2024-03-01"), d("2024-03-05")]) and seq == 2
    caught_up(layout, "nps_windows", seq, days)
    assert days_for(layout, "nps_windows", {"responses", "nps_daily"}, {}) == ([], 2)
    # The run's own days come on top of whatever is pending.
    tags = {"dagster/asset_partition_range_start": "2024-04-01", "dagster/asset_partition_range_end": "2024-04-02"}
    assert days_for(layout, "nps_windows", {"nps_daily"}, tags)[0] == [d("2024-04-01"), d("2024-04-02")]
    assert days_for(layout, "detractor_cases", {"responses"}, tags)[0] == span([d("2024-03-01"), d("2024-04-02")])
    assert Ledger.load(layout).through("nps_windows") == d("2024-03-05")
    assert run_days({"dagster/partition": "2024-03-09"}) == [d("2024-03-09")] and run_days({}) is None


def test_cross_day_assets_materialised_alone_catch_up_on_the_days_written(tmp_path):
    pipeline = Pipeline(tmp_path)
    pipeline.land("a.csv", rows_csv("r1,2024-03-01T10:00:00Z,10,,c1,,web,,,,,", "r2,2024-03-02T10:00:00Z,2,,c2,,web,,,,,"))
    staging = [a for a in nps_assets if a.key.to_user_string() in STAGING]
    per_day = [a for a in nps_assets if a.key.to_user_string() in PER_DAY]
    cross_day = [a for a in nps_assets if a.key.to_user_string() not in PER_DAY | STAGING]
    resources = {"nps": pipeline.resource}
    # As an asset backfill from the UI runs them: staging, the days, then the rest with no partition tag.
    assert dg.materialize(staging, resources=resources).success
    assert dg.materialize(per_day, partition_key="2024-03-01", resources=resources, selection=per_day).success
    assert dg.materialize(per_day, partition_key="2024-03-02", resources=resources, selection=per_day).success
    result = dg.materialize(cross_day, resources=resources)
    assert result.success
    metadata = {
        e.event_specific_data.materialization.asset_key.to_user_string(): e.event_specific_data.materialization.metadata
        for e in result.get_asset_materialization_events()
    }
    assert metadata["nps_windows"]["days"].value == "2024-03-01..2024-03-02"
    windows = pipeline.table("nps_windows").filter(
        (pipeline.table("nps_windows")["window_type"] == "trailing_7d") & (pipeline.table("nps_windows")["dimension"] == "overall")
    )
    assert dict(zip(windows["window_end"].to_list(), windows["responses"].to_list())) == {d("2024-03-01"): 1, d("2024-03-02"): 2}
    assert pipeline.table("detractor_followups")["response_id"].to_list() == ["r2"]
    # Nothing new: the next run refreshes the newest day only.
    again = dg.materialize(cross_day, resources=resources)
    days = {
        e.event_specific_data.materialization.asset_key.to_user_string(): e.event_specific_data.materialization.metadata["days"].value
        for e in again.get_asset_materialization_events()
    }
    assert days["nps_windows"] == "2024-03-02" and days["detractor_cases"] == "2024-03-02"
