"""A real Dagster instance for tests: `dagster dev` (webserver and daemon) in its own DAGSTER_HOME with the project's dagster.yaml."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]
FINISHED = ("SUCCESS", "FAILURE", "CANCELED")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dagster_home(path: Path, extra_yaml: str = "") -> Path:
    """A DAGSTER_HOME holding the project's dagster.yaml (plus ``extra_yaml``)."""
    path.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "deploy" / "dagster.yaml", path / "dagster.yaml")
    if extra_yaml:
        with open(path / "dagster.yaml", "a", encoding="utf-8") as handle:
            handle.write("\n" + extra_yaml)
    return path


@dataclass
class DagsterDev:
    port: int
    log: Path

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/graphql",
            data=json.dumps({"query": query, "variables": variables or {}}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)

    def runs(self) -> list[dict]:
        answer = self.graphql("{ runsOrError { ... on Runs { results { runId status jobName tags { key value } } } } }")
        return answer["data"]["runsOrError"]["results"]

    def launch_backfill(self, asset_keys: list[str], partitions: list[str]) -> str:
        selection = [{"path": [key]} for key in asset_keys]
        answer = self.graphql(
            "mutation($params: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $params) "
            "{ __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }",
            {"params": {"assetSelection": selection, "partitionNames": partitions}},
        )
        result = answer["data"]["launchPartitionBackfill"]
        assert result["__typename"] == "LaunchBackfillSuccess", answer
        return result["backfillId"]

    def launch_job_backfill(self, job: str, partitions: list[str]) -> str:
        """Backfill ``job`` over ``partitions``, as the UI's job page does (Jobs > job > Partitions > Launch backfill)."""
        location = self.graphql("{ repositoriesOrError { ... on RepositoryConnection { nodes { name location { name } } } } }")
        node = location["data"]["repositoriesOrError"]["nodes"][0]
        answer = self.graphql(
            "mutation($params: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $params) "
            "{ __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }",
            {
                "params": {
                    "selector": {
                        "partitionSetName": f"{job}_partition_set",
                        "repositorySelector": {"repositoryLocationName": node["location"]["name"], "repositoryName": node["name"]},
                    },
                    "partitionNames": partitions,
                }
            },
        )
        result = answer["data"]["launchPartitionBackfill"]
        assert result["__typename"] == "LaunchBackfillSuccess", answer
        return result["backfillId"]

    def launch_partition_run(self, job: str, partition: str, tags: dict[str, str] | None = None) -> str:
        """Queue a run of ``job`` for one partition, as the nightly schedule does."""
        location = self.graphql("{ repositoriesOrError { ... on RepositoryConnection { nodes { name location { name } } } } }")
        node = location["data"]["repositoriesOrError"]["nodes"][0]
        all_tags = {"dagster/partition": partition, **(tags or {})}
        answer = self.graphql(
            "mutation($params: ExecutionParams!) { launchRun(executionParams: $params) { __typename "
            "... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }",
            {
                "params": {
                    "selector": {"repositoryLocationName": node["location"]["name"], "repositoryName": node["name"], "jobName": job},
                    "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in all_tags.items()]},
                }
            },
        )
        result = answer["data"]["launchRun"]
        assert result["__typename"] == "LaunchRunSuccess", answer
        return result["run"]["runId"]

    def wait(self, wanted, timeout: float = 600) -> list[dict]:
        """Poll until the runs ``wanted(runs)`` picks out exist and have all finished; returns them."""
        deadline = time.monotonic() + timeout
        while True:
            chosen = wanted(self.runs())
            if chosen and all(r["status"] in FINISHED for r in chosen):
                return chosen
            assert time.monotonic() < deadline, f"runs did not finish: {chosen}"
            time.sleep(2)

    def error_messages(self, run_id: str) -> list[str]:
        answer = self.graphql(
            "query($id: ID!) { runOrError(runId: $id) { ... on Run { eventConnection(afterCursor: null) "
            "{ events { __typename ... on MessageEvent { level message } } } } } }",
            {"id": run_id},
        )
        events = answer["data"]["runOrError"]["eventConnection"]["events"]
        return [e["message"] for e in events if e.get("level") in ("ERROR", "CRITICAL")]


@contextlib.contextmanager
def dagster_dev(home: Path, env: dict[str, str], log: Path) -> Iterator[DagsterDev]:
    """Start `dagster dev` on a free port with ``home`` as DAGSTER_HOME; stop it (and its runs) afterwards."""
    port = free_port()
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(BIN / "dagster"), "dev", "-w", str(ROOT / "workspace.yaml"), "-h", "127.0.0.1", "-p", str(port)],
            cwd=ROOT, env={**os.environ, **env, "DAGSTER_HOME": str(home)}, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    dev = DagsterDev(port, log)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if dev.graphql("{ assetNodes { id } }")["data"]["assetNodes"]:
                    break
            except (OSError, KeyError, TypeError, ValueError):
                pass
            assert process.poll() is None, f"dagster dev exited: {log.read_text(errors='replace')[-3000:]}"
            assert time.monotonic() < deadline, "dagster dev did not come up"
            time.sleep(1)
        yield dev
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
