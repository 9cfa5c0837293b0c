"""A backfill launched the way the UI launches it (GraphQL, daemon of `dagster dev`) is one run."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from nps_pipeline.assets import daily_assets
from tests.conftest import rows_csv

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


@pytest.fixture
def dagster_dev(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "a.csv").write_text(
        rows_csv("u1,2024-03-01T10:00:00Z,10,,c1,,web,,,,,", "u2,2024-03-03T10:00:00Z,2,,c2,,web,,,,,"), encoding="utf-8"
    )
    home = tmp_path / "dagster_home"
    home.mkdir()
    port = free_port()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "NPS_LANDING_DIR": str(landing),
        "NPS_WAREHOUSE_DIR": str(tmp_path / "warehouse"),
        "NPS_START_DATE": "2024-01-01",
    }
    process = subprocess.Popen(
        [str(BIN / "dagster"), "dev", "-w", str(ROOT / "workspace.yaml"), "-h", "127.0.0.1", "-p", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if graphql(port, "{ assetNodes { id } }")["data"]["assetNodes"]:
                    break
            except (OSError, KeyError, TypeError):
                pass
            assert time.monotonic() < deadline, "dagster dev did not come up"
            time.sleep(1)
        yield port, tmp_path / "warehouse"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def test_backfill_launched_from_the_ui_runs_the_range_as_one_run(dagster_dev):
    port, warehouse = dagster_dev
    selection = ", ".join('{path: ["%s"]}' % a.key.to_user_string() for a in daily_assets)
    launched = graphql(
        port,
        "mutation { launchPartitionBackfill(backfillParams: { assetSelection: [%s], "
        'partitionNames: ["2024-03-01", "2024-03-02", "2024-03-03"] }) '
        "{ __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }" % selection,
    )
    assert launched["data"]["launchPartitionBackfill"]["__typename"] == "LaunchBackfillSuccess", launched
    backfill_id = launched["data"]["launchPartitionBackfill"]["backfillId"]

    # Only the backfill's runs count: the landing-zone sensor may launch its own meanwhile.
    deadline = time.monotonic() + 240
    while True:
        runs = graphql(port, "{ runsOrError { ... on Runs { results { status tags { key value } } } } }")
        results = [
            r for r in runs["data"]["runsOrError"]["results"]
            if {"key": "dagster/backfill", "value": backfill_id} in r["tags"]
        ]
        if results and all(r["status"] in ("SUCCESS", "FAILURE", "CANCELED") for r in results):
            break
        assert time.monotonic() < deadline, f"backfill did not finish: {results}"
        time.sleep(2)
    assert len(results) == 1
    tags = {t["key"]: t["value"] for t in results[0]["tags"]}
    assert results[0]["status"] == "SUCCESS"
    assert (tags["dagster/asset_partition_range_start"], tags["dagster/asset_partition_range_end"]) == ("2024-03-01", "2024-03-03")
    assert sorted(p.name for p in (warehouse / "nps_daily").glob("response_date=*")) == [
        "response_date=2024-03-01", "response_date=2024-03-02", "response_date=2024-03-03"
    ]
