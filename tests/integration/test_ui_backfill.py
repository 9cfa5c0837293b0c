"""Backfills launched the way the UI launches them (GraphQL, daemon of `dagster dev`).

A backfill of the ``daily_nps`` job is one run for the whole range. A backfill of assets picked in
the asset graph is split by Dagster into runs by partitioning (staging, the per-day facts for the
range, the cross-day assets); the cross-day run has no partition tags and takes its days from the
day ledger, so the outcome is the same.
"""

import duckdb

from nps_pipeline.graph import nps_assets
from tests.conftest import rows_csv
from tests.integration.dagster_dev import dagster_dev, dagster_home


def _of_backfill(backfill_id):
    return lambda runs: [r for r in runs if {"key": "dagster/backfill", "value": backfill_id} in r["tags"]]


def test_backfills_launched_from_the_ui(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "a.csv").write_text(
        rows_csv("u1,2024-03-01T10:00:00Z,10,,c1,,web,,,,,", "u2,2024-03-03T10:00:00Z,2,,c2,,web,,,,,"), encoding="utf-8"
    )
    warehouse = tmp_path / "warehouse"
    env = {"NPS_LANDING_DIR": str(landing), "NPS_WAREHOUSE_DIR": str(warehouse), "NPS_START_DATE": "2024-01-01"}
    with dagster_dev(dagster_home(tmp_path / "dagster_home"), env, tmp_path / "dagster_dev.log") as dev:
        backfill_id = dev.launch_job_backfill("daily_nps", ["2024-03-01", "2024-03-02", "2024-03-03"])
        # Only the backfill's runs count: the landing-zone sensor may launch its own meanwhile.
        results = dev.wait(_of_backfill(backfill_id))
        assert len(results) == 1
        tags = {t["key"]: t["value"] for t in results[0]["tags"]}
        assert results[0]["status"] == "SUCCESS"
        assert (tags["dagster/asset_partition_range_start"], tags["dagster/asset_partition_range_end"]) == ("2024-03-01", "2024-03-03")
        assert sorted(p.name for p in (warehouse / "nps_daily").glob("response_date=*")) == [
            "response_date=2024-03-01", "response_date=2024-03-02", "response_date=2024-03-03"
        ]

        # Every asset picked in the graph for 5 March: Dagster runs them as three runs.
        (landing / "b.csv").write_text(rows_csv("u3,2024-03-05T10:00:00Z,0,,c3,,web,,,,,"), encoding="utf-8")
        backfill_id = dev.launch_backfill([a.key.to_user_string() for a in nps_assets], ["2024-03-05"])
        # The runs are created one after the other: wait until the one that publishes has finished.
        results = dev.wait(lambda runs: (chosen := _of_backfill(backfill_id)(runs)) and len(chosen) == 3 and chosen, timeout=600)
        assert {r["status"] for r in results} == {"SUCCESS"}
    with duckdb.connect(str(warehouse / "nps.duckdb"), read_only=True) as con:
        # The cross-day run had no partition tag: the day ledger gave it 5 March.
        assert con.sql(
            "SELECT responses FROM nps_windows WHERE window_type = 'trailing_7d' AND window_end = DATE '2024-03-05' "
            "AND dimension = 'overall'"
        ).fetchall() == [(3,)]
        assert con.sql("SELECT count(*) FROM detractor_followups").fetchall() == [(2,)]
