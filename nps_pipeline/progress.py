"""Progress a person can see while ``nps-pipeline`` runs: the plan, each step, bars for long steps.

The command line turns it on (``enable``); inside the Dagster UI nothing is printed here, and the
same counts are in the run log (each asset logs its rows and seconds). On a terminal a long step
(staging, cases) draws a tqdm bar; in a log file it writes a plain line now and then instead.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sys
import time
from collections.abc import Iterator

_started: float | None = None
# A plain line at most this often for a long step when the output is not a terminal.
PLAIN_EVERY_SECONDS = 10.0


def enable() -> None:
    global _started
    _started = time.monotonic()


def enabled() -> bool:
    return _started is not None


def say(text: str) -> None:
    """One line, prefixed with the time since the command started."""
    if _started is None:
        return
    elapsed = time.monotonic() - _started
    print(f"[{int(elapsed // 60):02d}:{elapsed % 60:04.1f}] {text}", flush=True)


def _label(days: list[dt.date]) -> str:
    if not days:
        return "no days"
    return days[0].isoformat() if len(days) == 1 else f"{days[0]}..{days[-1]} ({len(days)} days)"


def step_started(name: str, days: list[dt.date]) -> None:
    say(f"{name}: started, {_label(days)}")


def step_finished(name: str, seconds: float, rows_out, stages: dict[str, float]) -> None:
    rows = "" if rows_out is None else f", {rows_out:,} rows out"
    parts = "; ".join(f"{stage} {value:.2f} s" for stage, value in stages.items() if value >= 0.005)
    say(f"{name}: done in {seconds:.2f} s{rows}{' (' + parts + ')' if parts else ''}")


class Bar:
    """A step's progress: a tqdm bar on a terminal, a plain line every few seconds elsewhere."""

    def __init__(self, name: str, total: int, unit: str):
        self.name, self.total, self.unit = name, total, unit
        self.done = 0
        self._bar = None
        self._last_line = time.monotonic()
        if enabled() and sys.stdout.isatty():
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=name, unit=unit, unit_scale=True, leave=False, file=sys.stdout)

    def update(self, amount: int, note: str = "") -> None:
        self.done += amount
        if self._bar is not None:
            self._bar.update(amount)
            if note:
                self._bar.set_postfix_str(note, refresh=False)
        elif enabled() and time.monotonic() - self._last_line >= PLAIN_EVERY_SECONDS:
            self._last_line = time.monotonic()
            share = f" ({self.done / self.total:.0%})" if self.total else ""
            say(f"{self.name}: {self.done:,} of {self.total:,} {self.unit}{share}{', ' + note if note else ''}")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


@contextlib.contextmanager
def bar(name: str, total: int, unit: str) -> Iterator[Bar]:
    progress = Bar(name, total, unit)
    try:
        yield progress
    finally:
        progress.close()
