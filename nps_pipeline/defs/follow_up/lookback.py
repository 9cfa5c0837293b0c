"""Look-back: what a customer's earlier responses say (repeat detractor, previous score), at a cost that follows the window.

Two internal stores under ``_internal/``, never published:

- ``respondent_index/response_date=D``: one compact row per response of ``responses`` (a 64-bit
  prefix of the respondent key, time, response id, score, detractor flag), one file per day;
- ``respondent_summary``: each customer's latest response and latest detractor response up to a
  day ``through``, with the modification time of every index file it was built from.

A window's look-back reads the summary plus the index days after ``through``, instead of every
index day of the look-back: the latest earlier response and whether any earlier response within
the look-back was a detractor are the same either way. The summary is used only when the window
starts after ``through`` and no index day it covers has changed since (a re-run or backfill of an
older day, a late export); otherwise every day is read, as without it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import uuid
from dataclasses import dataclass

import duckdb

from nps_pipeline.storage import WarehouseLayout, atomic_write_bytes, days_in, refresh_derived_days, sql, write_relation_file

RESPONDENT_INDEX = "_internal/respondent_index"
SUMMARY_DIR = "_internal/respondent_summary"
# Index days a summary lets pile up before it folds them in: a night reads at most this many days of
# index rows beside it, and the summary (one or two rows per customer) is rewritten once a week.
SUMMARY_LAG_DAYS = 7


def update_respondent_index(con: duckdb.DuckDBPyConnection, layout: WarehouseLayout, days: list[dt.date]) -> list[dt.date]:
    """Bring the look-back index up to date for ``days`` (a day is indexed again when its responses file is newer)."""
    return refresh_derived_days(con, layout, "responses", RESPONDENT_INDEX, "select_respondent_index", days)


@dataclass(frozen=True)
class Summary:
    file: str
    first_day: dt.date
    through: dt.date
    index_files: dict[str, int]  # index day (ISO) -> modification time (ns) of its file when folded in


def _index_fingerprint(layout: WarehouseLayout, first: dt.date, through: dt.date) -> dict[str, int]:
    found = {}
    for day in days_in(first, through + dt.timedelta(days=1)):
        with contextlib.suppress(FileNotFoundError):
            found[day.isoformat()] = layout.day_file(RESPONDENT_INDEX, day).stat().st_mtime_ns
    return found


def read_summary(layout: WarehouseLayout) -> Summary | None:
    path = layout.root / SUMMARY_DIR / "summary.json"
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
        summary = Summary(
            str(layout.root / SUMMARY_DIR / meta["file"]),
            dt.date.fromisoformat(meta["first_day"]),
            dt.date.fromisoformat(meta["through"]),
            {day: int(mtime) for day, mtime in meta["index_files"].items()},
        )
    except (FileNotFoundError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return summary if (layout.root / SUMMARY_DIR / meta["file"]).exists() else None


def usable_summary(layout: WarehouseLayout, horizon: dt.date, first_day: dt.date) -> Summary | None:
    """The summary, if it covers the look-back from ``horizon`` up to some day before ``first_day`` as the index is now."""
    summary = read_summary(layout)
    if summary is None or summary.through >= first_day or summary.first_day > horizon:
        return None
    recorded = {day: mtime for day, mtime in summary.index_files.items() if day >= horizon.isoformat()}
    return summary if _index_fingerprint(layout, horizon, summary.through) == recorded else None


@dataclass(frozen=True)
class LookBack:
    """What a window's look-back reads: the summary (if usable) and the index files after it, from ``horizon``."""

    files: list[str]
    horizon: dt.date
    summary: Summary | None


def look_back(con: duckdb.DuckDBPyConnection, layout: WarehouseLayout, days: list[dt.date], history_days: int) -> LookBack:
    horizon = days[0] - dt.timedelta(days=history_days)
    update_respondent_index(con, layout, days_in(horizon, days[-1] + dt.timedelta(days=1)))
    summary = usable_summary(layout, horizon, days[0])
    first_index_day = summary.through + dt.timedelta(days=1) if summary else horizon
    index_files = layout.table_files_for_days(RESPONDENT_INDEX, days_in(first_index_day, days[-1] + dt.timedelta(days=1)))
    return LookBack(([summary.file] if summary else []) + index_files, horizon, summary)


def refresh_summary(con: duckdb.DuckDBPyConnection, layout: WarehouseLayout, days: list[dt.date], used: LookBack) -> bool:
    """After a window that reaches the newest indexed day: fold the index days before its last day into the summary.

    With a usable summary, only once ``SUMMARY_LAG_DAYS`` days wait; without one, it is built from
    every index day of the look-back (after a backfill, a changed older day, or an upgrade: a few
    seconds at 10M responses). A backfill of older days leaves it alone. Returns whether it was written.
    """
    # The window's last day stays out: a re-run of the latest night keeps the summary usable.
    through = days[-1] - dt.timedelta(days=1)
    newest = layout.newest_day(RESPONDENT_INDEX)
    if newest is None or days[-1] < newest or through < used.horizon:
        return False
    previous = used.summary
    if previous is not None and (through - previous.through).days < SUMMARY_LAG_DAYS:
        return False
    first_new = previous.through + dt.timedelta(days=1) if previous else used.horizon
    files = ([previous.file] if previous else []) + layout.table_files_for_days(
        RESPONDENT_INDEX, days_in(first_new, through + dt.timedelta(days=1))
    )
    folder = layout.root / SUMMARY_DIR
    name = f"summary-{uuid.uuid4().hex}.parquet"
    write_relation_file(
        con.sql(sql("select_respondent_summary"), params={"files": files, "horizon": used.horizon}), folder / name, layout.tmp
    )
    fingerprint = _index_fingerprint(layout, used.horizon, through)
    meta = {"file": name, "first_day": used.horizon.isoformat(), "through": through.isoformat(), "index_files": fingerprint}
    atomic_write_bytes(folder / "summary.json", json.dumps(meta).encode("utf-8"))
    for stale in folder.glob("summary-*.parquet"):
        if stale.name != name:
            stale.unlink(missing_ok=True)
    return True
