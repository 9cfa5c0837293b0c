"""The BI starter: the Superset dashboard built from the README's command, read in headless Chromium."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import time
import urllib.request
from pathlib import Path

import duckdb
import pytest

from tests.follow_up.test_cases import DAY_1, DAY_2, DAY_3, export

ROOT = Path(__file__).resolve().parents[2]
BI_PYTHON = ROOT / ".venv-bi" / "bin" / "python"
SUPERSET_DIR = ROOT / "bi" / "superset"

pytestmark = pytest.mark.skipif(
    not BI_PYTHON.exists() or not shutil.which("chromedriver"),
    reason="the BI starter needs `make bi-setup` (Superset in .venv-bi, Chromium and chromedriver)",
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def _superset_server(env: dict[str, str], log: Path):
    port = _free_port()
    with open(log, "w") as out:
        server = subprocess.Popen(
            [str(BI_PYTHON.parent / "superset"), "run", "-h", "127.0.0.1", "-p", str(port), "--with-threads"],
            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"Superset did not start:\n{log.read_text()[-3000:]}")
            time.sleep(1)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)


def test_the_superset_dashboard_shows_the_warehouse_figures(pipeline, tmp_path):
    pipeline.land("day1.csv", export(*DAY_1))
    pipeline.land("day2.csv", export(*DAY_2))
    pipeline.land("day3.csv", export(*DAY_3))
    pipeline.run("2026-03-02", "2026-03-04")
    published = pipeline.warehouse / "nps.duckdb"
    with duckdb.connect(str(published), read_only=True) as con:
        nps, responses = con.sql(
            "SELECT 100.0 * (sum(promoters) - sum(detractors)) / sum(responses), sum(responses) FROM nps_daily"
        ).fetchall()[0]
        open_case = con.sql("SELECT case_id FROM detractor_cases WHERE status = 'open' ORDER BY case_id LIMIT 1").fetchall()[0][0]

    env = {**os.environ, "NPS_BI_HOME": str(tmp_path / "bi"), "SUPERSET_CONFIG_PATH": str(SUPERSET_DIR / "superset_config.py"),
           "FLASK_APP": "superset"}
    built = subprocess.run(
        [str(BI_PYTHON), str(SUPERSET_DIR / "build_dashboard.py"), "--duckdb", str(published)],
        env=env, capture_output=True, text=True, timeout=600,
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    # Built twice: the same dashboard is updated, not duplicated.
    again = subprocess.run(
        [str(BI_PYTHON), str(SUPERSET_DIR / "build_dashboard.py"), "--duckdb", str(published)],
        env=env, capture_output=True, text=True, timeout=600,
    )
    assert again.returncode == 0, again.stderr[-3000:]

    screenshot = tmp_path / "dashboard.png"
    expected = [f"{nps:,.1f}", f"{responses:,}", open_case, "day1.csv", "Daily NPS with its 95% interval", "NPS by region", "EMEA"]
    with _superset_server(env, tmp_path / "superset.log") as url:
        checked = subprocess.run(
            [str(BI_PYTHON), str(SUPERSET_DIR / "check_dashboard.py"), "--url", url, "--screenshot", str(screenshot),
             *[f"--expect={e}" for e in expected]],
            env=env, capture_output=True, text=True, timeout=300,
        )
    assert checked.stdout, checked.stderr[-3000:]
    report = json.loads(checked.stdout)
    assert report["missing"] == [] and report["chart_errors"] == [], {k: report[k] for k in ("missing", "chart_errors", "text")}
    assert checked.returncode == 0
    assert screenshot.stat().st_size > 50_000  # a drawn page, not a blank one
    with contextlib.closing(sqlite3.connect(tmp_path / "bi" / "superset.db")) as metadata:
        assert metadata.execute("SELECT count(*) FROM dashboards WHERE slug = 'nps'").fetchone() == (1,)
        assert metadata.execute("SELECT count(*) FROM slices").fetchone() == (7,)
