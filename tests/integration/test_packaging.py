"""The package installs from its wheel and runs outside the checkout: SQL and seeds ship inside it."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import duckdb

from tests.conftest import rows_csv

ROOT = Path(__file__).resolve().parents[2]


def test_the_wheel_carries_sql_and_seeds_and_runs_a_day_outside_the_checkout(tmp_path):
    wheels = tmp_path / "wheels"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(wheels), str(ROOT)],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    wheel = next(wheels.glob("nps_pipeline-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"nps_pipeline/sql/{p.name}" for p in (ROOT / "sql").glob("*.sql")} <= names
    assert {f"nps_pipeline/seeds/{p.name}" for p in (ROOT / "data" / "seeds").iterdir()} <= names

    # A fresh virtualenv outside the checkout: the wheel, and the test environment's dependencies
    # (a path in a .pth file; the checkout's editable install is not on it).
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], capture_output=True, text=True, check=True
    ).stdout.strip()
    Path(site, "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "--quiet", str(wheel)], capture_output=True, text=True, timeout=600
    )
    assert installed.returncode == 0, installed.stderr[-3000:]

    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "landing").mkdir(parents=True)
    (elsewhere / "landing" / "a.csv").write_text(rows_csv("w1,2024-03-01T10:00:00Z,3,slow,c1,,web,,,,,"), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DAGSTER_HOME", "VIRTUAL_ENV")}
    env.update(NPS_LANDING_DIR="landing", NPS_WAREHOUSE_DIR="warehouse", NPS_START_DATE="2024-01-01",
               NPS_CASE_UPDATES_DIR="case_updates")
    where = subprocess.run(
        [str(python), "-c", "import nps_pipeline, nps_pipeline.storage as s; print(nps_pipeline.__file__); print(s.resource_dir('sql'))"],
        capture_output=True, text=True, cwd=elsewhere, env=env, check=True,
    ).stdout.split()
    assert all(path.startswith(str(venv)) for path in where), where
    done = subprocess.run(
        [str(venv / "bin" / "nps-pipeline"), "backfill", "--start", "2024-03-01", "--end", "2024-03-01"],
        capture_output=True, text=True, timeout=600, cwd=elsewhere, env=env,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    with duckdb.connect(str(elsewhere / "warehouse" / "nps.duckdb"), read_only=True) as con:
        assert con.sql("SELECT responses, detractors FROM nps_daily").fetchall() == [(1, 1)]
