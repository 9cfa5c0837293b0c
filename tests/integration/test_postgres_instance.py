"""The Dagster instance on PostgreSQL (dagster-postgres), against a real local server started here."""

from __future__ import annotations

import os
import subprocess

import dagster as dg
import psycopg2
import pytest

from tests.conftest import rows_csv
from tests.integration.dagster_dev import BIN, ROOT, dagster_home


@pytest.fixture
def postgres(tmp_path_factory):
    pgserver = pytest.importorskip("pgserver")
    server = pgserver.get_server(tmp_path_factory.mktemp("pg"), cleanup_mode="stop")
    yield server.get_uri()
    server.cleanup()


def test_a_backfill_is_recorded_in_postgres(tmp_path, postgres):
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "a.csv").write_text(
        rows_csv("r1,2024-03-01T10:00:00Z,10,,c1,,web,,,,,", "r2,2024-03-02T10:00:00Z,3,,c2,,web,,,,,"), encoding="utf-8"
    )
    url = postgres.replace("postgresql://", "postgresql+psycopg2://", 1)
    home = dagster_home(tmp_path / "dagster_home", (ROOT / "deploy" / "dagster-postgres.yaml").read_text())
    env = {
        **os.environ, "DAGSTER_HOME": str(home), "DAGSTER_POSTGRES_URL": url, "NPS_LANDING_DIR": str(landing),
        "NPS_WAREHOUSE_DIR": str(tmp_path / "warehouse"), "NPS_START_DATE": "2024-01-01",
        # On PostgreSQL Dagster writes a range's materialisation events in batches (deploy/README).
        "DAGSTER_EVENT_BATCH_SIZE": "100",
    }
    run = subprocess.run(
        [str(BIN / "nps-pipeline"), "backfill", "--start", "2024-03-01", "--end", "2024-03-02"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]

    # No SQLite file under DAGSTER_HOME: runs, events and pool settings are all in PostgreSQL.
    assert not list(home.rglob("*.db"))
    with psycopg2.connect(postgres) as con, con.cursor() as cursor:
        cursor.execute("SELECT pipeline_name, status FROM runs")
        assert cursor.fetchall() == [("daily_nps", "SUCCESS")]
        cursor.execute("SELECT count(*) FROM event_logs WHERE dagster_event_type = 'ASSET_MATERIALIZATION'")
        # The 2 daily assets x 2 days, and each of the 13 cross-day and per-file assets once.
        assert cursor.fetchall()[0][0] == 2 * 2 + 13
    os.environ["DAGSTER_POSTGRES_URL"] = url
    try:
        with dg.DagsterInstance.from_config(str(home)) as instance:
            assert instance.get_materialized_partitions(dg.AssetKey("nps_daily")) == {"2024-03-01", "2024-03-02"}
            assert instance.get_concurrency_config().pool_config.default_pool_limit == 1
    finally:
        del os.environ["DAGSTER_POSTGRES_URL"]
