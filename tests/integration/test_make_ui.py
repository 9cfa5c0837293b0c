"""`make ui PORT=...` serves the UI on that port, and its start-up log carries no warning."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_make_ui_serves_on_the_port_given_and_starts_without_warnings(tmp_path):
    port = free_port()
    env = {
        **os.environ, "DAGSTER_HOME": str(tmp_path / "home"), "NPS_LANDING_DIR": str(tmp_path / "landing"),
        "NPS_WAREHOUSE_DIR": str(tmp_path / "warehouse"), "NPS_CASE_UPDATES_DIR": str(tmp_path / "updates"),
    }
    log = tmp_path / "ui.log"
    with open(log, "w", encoding="utf-8") as out:
        # -o: the virtualenv is what this test runs in; make must not reinstall it meanwhile.
        ui = subprocess.Popen(["make", "-s", "-o", ".venv/.installed", "ui", f"PORT={port}"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                              start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        serving = f"Serving dagster-webserver on http://127.0.0.1:{port}"
        while serving not in log.read_text(encoding="utf-8") and time.monotonic() < deadline and ui.poll() is None:
            time.sleep(0.5)
        time.sleep(5)  # the code server and the daemon's first sensor ticks
        text = log.read_text(encoding="utf-8")
    finally:
        os.killpg(ui.pid, signal.SIGTERM)
        ui.wait(timeout=60)
    assert serving in text, text[-3000:]
    warnings = [line for line in text.splitlines() if "WARNING" in line or "Warning:" in line]
    assert warnings == [], warnings
