"""Progress lines: a bar on a terminal, plain lines with counts in a log."""

import io
import sys

from nps_pipeline import progress


def test_a_long_step_writes_plain_lines_when_not_on_a_terminal(monkeypatch):
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(progress, "PLAIN_EVERY_SECONDS", 0.0)
    monkeypatch.setattr(progress, "_started", None)
    with progress.bar("staging", 300, "B") as bar:
        bar.update(100, "1/3 files")
    assert out.getvalue() == ""  # not enabled: nothing printed (a run inside the Dagster UI)
    progress.enable()
    with progress.bar("staging", 300, "B") as bar:
        bar.update(100, "1/3 files")
        bar.update(200, "3/3 files")
    lines = out.getvalue().splitlines()
    assert lines[0].endswith("staging: 100 of 300 B (33%), 1/3 files") and lines[0].startswith("[00:0")
    assert lines[1].endswith("staging: 300 of 300 B (100%), 3/3 files")
    progress.step_finished("responses", 1.234, 1500, {"query_and_write": 1.0, "swap_in": 0.001})
    assert out.getvalue().splitlines()[-1].endswith("responses: done in 1.23 s, 1,500 rows out (query_and_write 1.00 s)")
    monkeypatch.setattr(progress, "_started", None)
