"""Production conditions: concurrent runs through a real instance, a killed run, a reader holding the file."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb

from tests.conftest import rows_csv
from tests.integration.dagster_dev import BIN, ROOT, dagster_dev, dagster_home

BI_READER = textwrap.dedent(
    """
    # A BI tool: keeps nps.duckdb open read-only and queries it until told to stop.
    import pathlib, sys, time, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    stop = pathlib.Path(sys.argv[2])
    queries, errors = 0, []
    print("open", flush=True)
    while not stop.exists():
        try:
            con.sql("SELECT count(*), sum(responses) FROM nps_daily").fetchall()
            con.sql("SELECT count(*) FROM responses").fetchall()
            queries += 1
        except Exception as error:
            errors.append(str(error))
        time.sleep(0.05)
    print(queries, len(errors), errors[:3], flush=True)
    """
)


def _day_rows(day: dt.date, n: int, prefix: str) -> list[str]:
    return [
        f"{prefix}{day:%m%d}-{i},{day.isoformat()}T{8 + i % 10:02d}:00:00Z,{i % 11},,c{i},,web,eu,app,,,en"
        for i in range(n)
    ]


def test_nightly_and_two_backfills_at_once_while_a_reader_holds_the_file(tmp_path):
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse"
    landing.mkdir()
    yesterday = dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=1)
    march = [dt.date(2024, 3, d) for d in range(1, 9)]
    for day in [*march, yesterday]:
        (landing / f"export-{day}.csv").write_text(rows_csv(*_day_rows(day, 40, "r")), encoding="utf-8")
    env = {"NPS_LANDING_DIR": str(landing), "NPS_WAREHOUSE_DIR": str(warehouse), "NPS_START_DATE": "2024-01-01"}
    home = dagster_home(tmp_path / "dagster_home")

    # A first run publishes nps.duckdb, which the BI tool then holds open through everything below.
    seed = subprocess.run(
        [str(BIN / "nps-pipeline"), "backfill", "--start", "2024-03-01", "--end", "2024-03-01"],
        cwd=ROOT, env={**os.environ, **env, "DAGSTER_HOME": str(home)}, capture_output=True, text=True,
    )
    assert seed.returncode == 0, seed.stderr[-3000:]
    stop = tmp_path / "stop-reader"
    reader = subprocess.Popen(
        [sys.executable, "-c", BI_READER, str(warehouse / "nps.duckdb"), str(stop)], stdout=subprocess.PIPE, text=True
    )
    assert reader.stdout.readline().strip() == "open"

    with dagster_dev(home, env, tmp_path / "dagster_dev.log") as dev:
        nightly = dev.launch_partition_run("daily_nps", yesterday.isoformat(), {"dagster/schedule_name": "nightly_nps"})
        first = dev.launch_job_backfill("daily_nps", [d.isoformat() for d in march[:4]])
        second = dev.launch_job_backfill("daily_nps", [d.isoformat() for d in march[4:]])

        def ours(runs):
            picked = [r for r in runs if r["runId"] == nightly]
            for backfill in (first, second):
                picked += [r for r in runs if {"key": "dagster/backfill", "value": backfill} in r["tags"]]
            return picked if len(picked) == 3 else []

        started = time.monotonic()
        finished = dev.wait(ours, timeout=900)
        elapsed = time.monotonic() - started
        errors = {r["runId"]: dev.error_messages(r["runId"]) for r in finished}
        all_runs = dev.runs()
    stop.touch()
    queries, reader_errors = reader.communicate(timeout=60)[0].split(" ", 1)
    log = (tmp_path / "dagster_dev.log").read_text(errors="replace")

    assert [r["status"] for r in finished] == ["SUCCESS"] * 3, (finished, errors)
    assert errors == {r["runId"]: [] for r in finished}
    assert not [r for r in all_runs if r["status"] == "FAILURE"], all_runs
    for marker in ("database is locked", "Could not set lock", "Conflicting lock", "IO Error"):
        assert marker not in log, marker
    # The reader was never blocked nor saw an error, all along the runs.
    assert int(queries) > 20 and reader_errors.strip().startswith("0 "), (queries, reader_errors)
    print(f"3 runs at once finished in {elapsed:.0f} s; the reader ran {queries} queries")

    with duckdb.connect(str(warehouse / "nps.duckdb"), read_only=True) as con:
        days = con.sql("SELECT response_date, responses FROM nps_daily ORDER BY 1").fetchall()
    assert days == [(d, 40) for d in [*march, yesterday]]


def _published(warehouse: Path) -> dict[str, list[tuple]]:
    """Every published table's rows, sorted, without the columns that record when a run happened."""
    tables = {}
    with duckdb.connect(str(warehouse / "nps.duckdb"), read_only=True) as con:
        for (table,) in con.sql("SELECT view_name FROM duckdb_views() WHERE NOT internal ORDER BY 1").fetchall():
            frame = con.sql(f'SELECT * FROM "{table}"').pl()
            frame = frame.drop([c for c in frame.columns if c in ("ingested_at", "as_of", "read_at")])
            tables[table] = sorted(frame.rows(), key=repr)
    return tables


def _backfill(env: dict[str, str], start: str, end: str, log: Path) -> subprocess.Popen:
    """`nps-pipeline backfill` in its own process group, its output in ``log``."""
    with open(log, "ab") as out:
        return subprocess.Popen(
            [str(BIN / "nps-pipeline"), "backfill", "--start", start, "--end", end],
            cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )


def test_a_run_killed_mid_write_leaves_every_published_day_as_it_was(tmp_path):
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse"
    landing.mkdir()
    days = [dt.date(2024, 3, 1) + dt.timedelta(days=i) for i in range(30)]
    (landing / "march.csv").write_text(rows_csv(*[r for d in days for r in _day_rows(d, 120, "m")]), encoding="utf-8")
    env = {"NPS_LANDING_DIR": str(landing), "NPS_WAREHOUSE_DIR": str(warehouse), "NPS_START_DATE": "2024-01-01",
           "DAGSTER_HOME": str(dagster_home(tmp_path / "dagster_home"))}
    log = tmp_path / "runs.log"
    first = _backfill(env, "2024-03-01", "2024-03-30", log)
    assert first.wait(timeout=600) == 0, log.read_text()[-3000:]
    before = _published(warehouse)

    # The same history, not to be killed: what the interrupted warehouse must end up as.
    shutil.copytree(warehouse, tmp_path / "reference", symlinks=True)

    # A late export changes every day; the run that takes it in is killed while it writes.
    (landing / "late.csv").write_text(rows_csv(*[r for d in days for r in _day_rows(d, 30, "late")]), encoding="utf-8")
    tmp = warehouse / "_internal" / "tmp"
    run = _backfill(env, "2024-03-01", "2024-03-30", log)
    seen: set[str] = set()
    deadline = time.monotonic() + 300
    # Killed inside the third table write of the run: responses and more are already replaced in the working tables.
    while len(seen) < 3:
        assert run.poll() is None, "the run finished before it could be killed"
        assert time.monotonic() < deadline
        seen |= {p.name for p in tmp.iterdir() if p.is_dir() and p.name != "duckdb_spill"} if tmp.exists() else set()
        time.sleep(0.002)
    os.killpg(run.pid, 9)
    run.wait(timeout=30)
    assert run.returncode == -9

    assert _published(warehouse) == before, "a killed run changed what readers see"

    rerun = _backfill(env, "2024-03-01", "2024-03-30", log)
    assert rerun.wait(timeout=600) == 0, log.read_text()[-3000:]
    after = _published(warehouse)
    # The next run completes normally and gives what the same runs give without the kill.
    reference_env = {**env, "NPS_WAREHOUSE_DIR": str(tmp_path / "reference"),
                     "DAGSTER_HOME": str(dagster_home(tmp_path / "reference_home"))}
    reference = _backfill(reference_env, "2024-03-01", "2024-03-30", log)
    assert reference.wait(timeout=600) == 0, log.read_text()[-3000:]
    assert after == _published(tmp_path / "reference")
    with duckdb.connect(str(warehouse / "nps.duckdb"), read_only=True) as con:
        assert con.sql("SELECT sum(responses) FROM nps_daily").fetchall() == [(30 * 150,)]
