"""The command lines: `nps-pipeline backfill` and Dagster's own `asset materialize --partition-range`."""

import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb

from tests.conftest import rows_csv

BIN = Path(sys.executable).parent


def env_for(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "a.csv").write_text(
        rows_csv("c1,2024-03-01T10:00:00Z,10,,x1,,web,,,,,", "c2,2024-03-03T10:00:00Z,0,,x2,,web,,,,,"), encoding="utf-8"
    )
    env = {
        **os.environ,
        "NPS_LANDING_DIR": str(landing),
        "NPS_WAREHOUSE_DIR": str(tmp_path / "warehouse"),
        "NPS_START_DATE": "2024-01-01",
        "NPS_CASE_UPDATES_DIR": str(tmp_path / "case_updates"),
    }
    env.pop("DAGSTER_HOME", None)
    return env


def daily_rows(tmp_path):
    with duckdb.connect(str(tmp_path / "warehouse" / "nps.duckdb"), read_only=True) as con:
        return con.sql("SELECT response_date::VARCHAR, responses FROM nps_daily ORDER BY 1").fetchall()


def test_nps_pipeline_backfill_runs_the_range_as_one_run(tmp_path):
    done = subprocess.run(
        [str(BIN / "nps-pipeline"), "backfill", "--start", "2024-03-01", "--end", "2024-03-03"],
        env=env_for(tmp_path), capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "succeeded: daily assets for 2024-03-01..2024-03-03" in done.stdout
    run_ids = set(re.findall(r"run ([0-9a-f-]{36}): succeeded", done.stdout))
    assert len(run_ids) == 1, run_ids
    # The plan first (days, files, assets), then a line per step with its rows and seconds.
    lines = done.stdout.splitlines()
    assert lines[0].startswith("[00:0") and "plan: 2024-03-01..2024-03-03, 3 day(s) in UTC" in lines[0]
    assert "plan: 1 file(s) in " in lines[1] and "1 to stage" in lines[1]
    assert "per day: responses, nps_daily" in lines[2]
    assert re.search(r"^\[\d\d:[\d.]+\] responses: done in [\d.]+ s, 2 rows out", done.stdout, re.M)
    assert daily_rows(tmp_path) == [("2024-03-01", 1), ("2024-03-02", 0), ("2024-03-03", 1)]


def test_backfill_exits_non_zero_on_a_new_problem_and_warns_after(tmp_path):
    env = {**env_for(tmp_path), "NPS_MIN_ROWS_FOR_REJECTED_SHARE": "1"}
    (Path(env["NPS_LANDING_DIR"]) / "bad.csv").write_text(rows_csv("z1,2024-03-01T10:00:00Z,12,,,,,,,,,"), encoding="utf-8")
    (Path(env["NPS_LANDING_DIR"]) / "notes.txt").write_text("not an export\n", encoding="utf-8")
    command = [str(BIN / "nps-pipeline"), "backfill", "--start", "2024-03-01", "--end", "2024-03-01"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    # The new problems fail the run, with their messages and no Dagster stack trace; a.csv is published.
    assert done.returncode == 1
    assert "check failed: quarantine.rejected_share_within_threshold: bad.csv: held back: 1 of 1 rows rejected (100.0% > 10.0%)" in done.stderr
    assert "check failed: validated_responses.every_file_readable: notes.txt: " in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert daily_rows(tmp_path) == [("2024-03-01", 1)]
    # The next run sees nothing new: the same files are warnings, and it succeeds.
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "check warning: quarantine.rejected_share_within_threshold: bad.csv: held back" in again.stderr
    assert "check warning: validated_responses.every_file_readable: notes.txt: " in again.stderr


def test_a_rejected_status_update_is_a_warning_not_a_failed_backfill(tmp_path):
    env = env_for(tmp_path)
    updates = Path(env["NPS_CASE_UPDATES_DIR"])
    updates.mkdir()
    (updates / "u.csv").write_text("case_id,status\nCASE-NOPE,contacted\n", encoding="utf-8")
    done = subprocess.run(
        [str(BIN / "nps-pipeline"), "backfill", "--start", "2024-03-01", "--end", "2024-03-03"],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "check warning: detractor_cases.case_updates_valid: u.csv: row 1: case CASE-NOPE: case CASE-NOPE does not exist" in done.stderr


def test_dagster_cli_partition_range(tmp_path):
    done = subprocess.run(
        [str(BIN / "dagster"), "asset", "materialize", "-m", "nps_pipeline.definitions", "--select", "*",
         "--partition-range", "2024-03-01...2024-03-03"],
        env=env_for(tmp_path), capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert daily_rows(tmp_path) == [("2024-03-01", 1), ("2024-03-02", 0), ("2024-03-03", 1)]


def test_unusable_settings_and_dates_are_named_without_a_traceback(tmp_path):
    env = env_for(tmp_path)
    cases = [
        ({"NPS_TIMEZONE": "Mars/Base"}, "NPS_TIMEZONE: 'Mars/Base' is not an IANA time zone name"),
        ({"NPS_START_DATE": "2024-13-01"}, "NPS_START_DATE: '2024-13-01' is not a date (YYYY-MM-DD)"),
        ({"NPS_MAX_REJECTED_SHARE": "ten percent"}, "NPS_MAX_REJECTED_SHARE: 'ten percent' is not a number between 0 and 1"),
        ({"NPS_FOLLOWUP_SLA_HOURS": "P1:x"}, "NPS_FOLLOWUP_SLA_HOURS P1: 'x' is not a whole number"),
    ]
    for extra, message in cases:
        done = subprocess.run(
            [str(BIN / "nps-pipeline"), "backfill", "--start", "2024-03-01", "--end", "2024-03-01"],
            env={**env, **extra}, capture_output=True, text=True,
        )
        assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr, done.stderr
    done = subprocess.run(
        [str(BIN / "nps-pipeline"), "backfill", "--start", "2024-3-1", "--end", "2024-03-01"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 2 and "'2024-3-1' is not a date (YYYY-MM-DD)" in done.stderr
    assert not (tmp_path / "warehouse" / "nps.duckdb").exists()
