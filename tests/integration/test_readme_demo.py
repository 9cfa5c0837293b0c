"""The demo summary in the README is what `nps-pipeline demo` prints (the figures and table sizes)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def readme_demo_block() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("ends with a summary:\n\n```\n", 1)[1].split("```", 1)[0]
    return block.splitlines()


def summary(lines: list[str]) -> list[str]:
    """The lines that do not depend on the machine: table sizes, accounting and figures."""
    start = next(i for i, line in enumerate(lines) if line.startswith("published "))
    end = next(i for i, line in enumerate(lines) if line.startswith("report: "))
    return lines[start + 1 : end]


def test_the_readme_demo_summary_is_what_make_demo_prints(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NPS_", "DAGSTER_HOME"))}
    done = subprocess.run([str(BIN / "nps-pipeline"), "demo"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    printed, documented = summary(done.stdout.splitlines()), summary(readme_demo_block())
    assert len(printed) == len(documented)
    for line, doc in zip(printed, documented):
        if doc.endswith("; ..."):  # the README shortens the list of last days
            assert line.startswith(doc[: -len("; ...")]), (line, doc)
        else:
            assert line == doc
    # The plan lines are there too, in the same words (times and the run id aside).
    plan = [re.sub(r"^\[[\d:.]+\] ", "", line) for line in readme_demo_block() if "plan: " in line]
    assert all(any(line.endswith(p) for line in done.stdout.splitlines()) for p in plan), plan
