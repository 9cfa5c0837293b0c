"""Which days a cross-day asset must refresh: the run's days, and any day written since it last ran.

Only the per-day facts (``responses``, ``nps_daily``) are partitioned by day. The cross-day assets
(windows, cases, follow-ups, hand-off, report, publishing, file accounting) are not, so a year's
range costs one Dagster event each instead of 365. They still work on days:

- in a run of the ``daily_nps`` job (nightly schedule, sensor, CLI, a job backfill from the UI) the
  run's partition tags say which days;
- the daily assets record every span of days they write here, with a sequence number and their
  name, and each cross-day asset records the sequence it has caught up to: its pending days are
  those the daily assets upstream of it wrote since. A run without partition tags (an
  asset backfill from the UI runs the cross-day assets in a run of their own, or a person
  materialises one asset) takes the days written since, and a tagged run takes them too, so days a
  failed or partial run left behind are caught up by the next one.

The days an asset is given are one span, first to last: the materialising functions replace whole
spans of days, and doing a day in between again is idempotent.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass

from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG, PARTITION_NAME_TAG

from nps_pipeline.storage import WarehouseLayout, atomic_write_bytes, days_in

LEDGER = "day_ledger.json"
# Spans kept once every asset that ever caught up has passed them (a year of nightly runs is 365).
KEEP_SPANS = 5000


def run_days(tags: Mapping[str, str]) -> list[dt.date] | None:
    """The days a run covers, from its partition tags; None when it has none."""
    if PARTITION_NAME_TAG in tags:
        return [dt.date.fromisoformat(tags[PARTITION_NAME_TAG])]
    if ASSET_PARTITION_RANGE_START_TAG in tags:
        start = dt.date.fromisoformat(tags[ASSET_PARTITION_RANGE_START_TAG])
        end = dt.date.fromisoformat(tags[ASSET_PARTITION_RANGE_END_TAG])
        return days_in(start, end + dt.timedelta(days=1))
    return None


def span(days) -> list[dt.date]:
    """Every day from the first to the last of ``days``."""
    days = sorted(set(days))
    return days_in(days[0], days[-1] + dt.timedelta(days=1)) if days else []


@dataclass(frozen=True)
class Ledger:
    seq: int
    spans: list[tuple]  # (seq, writer, first day, last day, written at: ISO time in UTC)
    caught_up: dict[str, dict]

    @classmethod
    def load(cls, layout: WarehouseLayout) -> Ledger:
        path = layout.internal / LEDGER
        if not path.exists():
            return cls(0, [], {})
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(data["seq"], [tuple(s) for s in data["spans"]], data["caught_up"])

    def save(self, layout: WarehouseLayout) -> None:
        data = {"seq": self.seq, "spans": [list(s) for s in self.spans[-KEEP_SPANS:]], "caught_up": self.caught_up}
        atomic_write_bytes(layout.internal / LEDGER, json.dumps(data, indent=1).encode("utf-8"))

    def pending(self, asset: str, upstream: frozenset[str] | set[str]) -> list[dt.date]:
        """The days the daily assets ``upstream`` of ``asset`` wrote since it last caught up."""
        since = self.caught_up.get(asset, {}).get("seq", 0)
        days: set[dt.date] = set()
        for seq, writer, first, last, *_ in self.spans:
            if seq > since and writer in upstream:
                days.update((dt.date.fromisoformat(first), dt.date.fromisoformat(last)))
        return span(days)

    def written_since(self, writer: str, since: dt.datetime) -> set[dt.date]:
        """The days the daily asset ``writer`` wrote at or after ``since``."""
        days: set[dt.date] = set()
        for _, name, first, last, *written in self.spans:
            if name == writer and written and dt.datetime.fromisoformat(written[0]) >= since:
                days.update(days_in(dt.date.fromisoformat(first), dt.date.fromisoformat(last) + dt.timedelta(days=1)))
        return days

    def through(self, asset: str) -> dt.date | None:
        """The latest day ``asset`` has processed."""
        day = self.caught_up.get(asset, {}).get("through")
        return dt.date.fromisoformat(day) if day else None


def record_written(layout: WarehouseLayout, writer: str, days: list[dt.date]) -> None:
    """The daily asset ``writer`` wrote ``days``: every cross-day asset downstream has them to do."""
    if not days:
        return
    ledger = Ledger.load(layout)
    seq = ledger.seq + 1
    written_at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    span_written = (seq, writer, min(days).isoformat(), max(days).isoformat(), written_at)
    Ledger(seq, [*ledger.spans, span_written], ledger.caught_up).save(layout)


def days_for(
    layout: WarehouseLayout, asset: str, upstream: frozenset[str] | set[str], tags: Mapping[str, str]
) -> tuple[list[dt.date], int]:
    """The days ``asset`` refreshes in this run (the run's, with any pending), and the sequence it then catches up to."""
    ledger = Ledger.load(layout)
    return span([*(run_days(tags) or []), *ledger.pending(asset, upstream)]), ledger.seq


def caught_up(layout: WarehouseLayout, asset: str, seq: int, days: list[dt.date]) -> None:
    """``asset`` has done every day written up to ``seq``, and ``days``."""
    ledger = Ledger.load(layout)
    before = ledger.caught_up.get(asset, {})
    through = max([d for d in (ledger.through(asset), *days) if d is not None], default=None)
    entry = {"seq": max(seq, before.get("seq", 0)), "through": through.isoformat() if through else None}
    Ledger(ledger.seq, ledger.spans, {**ledger.caught_up, asset: entry}).save(layout)
