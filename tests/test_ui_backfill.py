"""A backfill launched the way the UI launches it (GraphQL, daemon of `dagster dev`) is one run."""

from nps_pipeline.assets import daily_assets
from tests.conftest import rows_csv
from tests.dagster_dev import dagster_dev, dagster_home


def test_backfill_launched_from_the_ui_runs_the_range_as_one_run(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "a.csv").write_text(
        rows_csv("u1,2024-03-01T10:00:00Z,10,,c1,,web,,,,,", "u2,2024-03-03T10:00:00Z,2,,c2,,web,,,,,"), encoding="utf-8"
    )
    warehouse = tmp_path / "warehouse"
    env = {"NPS_LANDING_DIR": str(landing), "NPS_WAREHOUSE_DIR": str(warehouse), "NPS_START_DATE": "2024-01-01"}
    with dagster_dev(dagster_home(tmp_path / "dagster_home"), env, tmp_path / "dagster_dev.log") as dev:
        backfill_id = dev.launch_backfill(
            [a.key.to_user_string() for a in daily_assets], ["2024-03-01", "2024-03-02", "2024-03-03"]
        )
        # Only the backfill's runs count: the landing-zone sensor may launch its own meanwhile.
        results = dev.wait(lambda runs: [r for r in runs if {"key": "dagster/backfill", "value": backfill_id} in r["tags"]])
    assert len(results) == 1
    tags = {t["key"]: t["value"] for t in results[0]["tags"]}
    assert results[0]["status"] == "SUCCESS"
    assert (tags["dagster/asset_partition_range_start"], tags["dagster/asset_partition_range_end"]) == ("2024-03-01", "2024-03-03")
    assert sorted(p.name for p in (warehouse / "nps_daily").glob("response_date=*")) == [
        "response_date=2024-03-01", "response_date=2024-03-02", "response_date=2024-03-03"
    ]
