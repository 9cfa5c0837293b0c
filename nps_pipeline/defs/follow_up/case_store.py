"""The case state under ``_internal/cases``: a log of case responses by day, the status events, the
cases table and each case's contact, committed together by swapping one manifest.

A nightly run rewrites the log's days of its window and the few files that are one row per case;
the other days' files are never read whole nor written again. Every file is written under a new
name and the manifest (``manifest.json``) names the current ones, so a run that dies before its
swap leaves the previous state whole, and one that dies after it leaves the new state whole.
Files no manifest names (a dead run's) are removed at the next commit.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

MANIFEST = "manifest.json"


@dataclass
class CaseStore:
    root: Path
    log_days: dict[dt.date, str] = field(default_factory=dict)
    events: str | None = None
    cases: str | None = None
    contacts: str | None = None
    # Counts the commits: each case's contact row records the one that last rebuilt it, so readers
    # (the CRM hand-off) can pick the cases changed since a revision they saw.
    revision: int = 0
    # Names this store: a store built afresh (deleted, migrated) counts its revisions from 0 again.
    store_id: str = ""

    @classmethod
    def load(cls, root: Path) -> "CaseStore":
        path = root / MANIFEST
        if not path.exists():
            return cls(root)
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            root,
            {dt.date.fromisoformat(day): name for day, name in data["log"].items()},
            data.get("events"),
            data.get("cases"),
            data.get("contacts"),
            int(data.get("revision", 0)),
            data.get("store_id", ""),
        )

    @property
    def exists(self) -> bool:
        return (self.root / MANIFEST).exists()

    @property
    def next_revision(self) -> int:
        """The revision the next commit makes."""
        return self.revision + 1

    def path(self, name: str) -> Path:
        return self.root / name

    def log_path(self, day: dt.date) -> Path | None:
        name = self.log_days.get(day)
        return self.path(name) if name else None

    def read(self, name: str | None, schema: dict) -> pl.DataFrame:
        return pl.read_parquet(self.path(name)).cast(schema) if name else pl.DataFrame(schema=schema)

    def read_log_days(self, days, schema: dict) -> pl.DataFrame:
        files = [str(self.path(self.log_days[d])) for d in days if d in self.log_days]
        return pl.read_parquet(files).cast(schema) if files else pl.DataFrame(schema=schema)

    def scan_log(self, schema: dict, skip_days=()) -> pl.LazyFrame:
        """Every log day except ``skip_days``, lazily: filters on it read only what they need."""
        skip = set(skip_days)
        files = [str(self.path(name)) for day, name in sorted(self.log_days.items()) if day not in skip]
        return pl.scan_parquet(files).cast(schema) if files else pl.LazyFrame(schema=schema)

    def commit(
        self,
        log_days: dict[dt.date, pl.DataFrame],
        events: pl.DataFrame | None,
        cases: pl.DataFrame,
        contacts: pl.DataFrame,
    ) -> "CaseStore":
        """Write the changed days (an empty frame removes its day) and the per-case files, then swap the manifest."""
        self.root.mkdir(parents=True, exist_ok=True)
        stamp = uuid.uuid4().hex[:12]

        def write(frame: pl.DataFrame, name: str) -> str:
            # No column statistics: a case file is read whole, and they cost a quarter of its write time.
            frame.write_parquet(self.path(name), compression="lz4", statistics=False)
            return name

        new_log = dict(self.log_days)
        for day, frame in log_days.items():
            if frame.is_empty():
                new_log.pop(day, None)
            else:
                (self.root / "log").mkdir(exist_ok=True)
                new_log[day] = write(frame, f"log/{day.isoformat()}-{stamp}.parquet")
        new = CaseStore(
            self.root,
            new_log,
            write(events, f"events-{stamp}.parquet") if events is not None else self.events,
            write(cases, f"cases-{stamp}.parquet"),
            write(contacts, f"contacts-{stamp}.parquet"),
            self.next_revision,
            self.store_id or uuid.uuid4().hex,
        )
        manifest = {
            "revision": new.revision,
            "store_id": new.store_id,
            "log": {day.isoformat(): name for day, name in sorted(new.log_days.items())},
            "events": new.events,
            "cases": new.cases,
            "contacts": new.contacts,
        }
        tmp = self.root / f".{MANIFEST}.{stamp}.tmp"
        tmp.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        os.replace(tmp, self.root / MANIFEST)
        new.remove_unreferenced()
        return new

    def referenced(self) -> set[Path]:
        names = [*self.log_days.values(), self.events, self.cases, self.contacts]
        return {self.path(n) for n in names if n}

    def remove_unreferenced(self) -> None:
        """Delete the files the manifest no longer names (replaced ones, or a dead run's)."""
        keep = self.referenced()
        for path in [*self.root.glob("*.parquet"), *self.root.glob("log/*.parquet"), *self.root.glob(f".{MANIFEST}.*.tmp")]:
            if path not in keep:
                path.unlink(missing_ok=True)
