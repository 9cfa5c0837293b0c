"""The CRM hand-off: the cases as CSV files a CRM imports, with the customer's email and name.

Under ``$NPS_WAREHOUSE_DIR/handoff/`` (UTF-8, header row, ISO 8601 times in UTC, worst first):

- ``open_cases.csv``: the full list, every case open when it was written;
- ``changed_cases.csv``: every case changed since the full list was written, open or not (a closed
  case is how the CRM learns to close it), as it is now;
- ``manifest.json``: the day and store revision the full list is of, and the row counts.

Every row carries ``revision``, the case store commit that last changed the case. The open cases
now are, per case, its row with the highest revision in the two files, if that row's status is
open (``current_open_cases``); a CRM upserts ``changed_cases.csv`` after each run, by ``case_id``.
The full list is written again once ``full_every_days`` days of data have passed since the last one,
or when the changes pass half its size: a night writes the cases it changed, not every open case.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from nps_pipeline.defs.follow_up.case_store import CaseStore
from nps_pipeline.defs.follow_up.case_schema import ACTIVE_STATUSES, CONTACTS_SCHEMA
from nps_pipeline.defs.follow_up.cases import case_store
from nps_pipeline.storage import WarehouseLayout, atomic_write_bytes, replace_file

HANDOFF_COLUMNS = (
    "case_id", "priority", "due_at", "status", "owner", "owner_queue", "email", "name", "respondent_key", "customer_tier",
    "region", "product", "channel", "language", "responses", "latest_score", "worst_score", "latest_comment", "themes",
    "negative_keywords", "repeat_detractor", "worsening", "priority_reasons", "opened_at", "contacted_at", "revision",
)
# OWASP's CSV injection guidance: a cell starting with one of these is read as a formula by
# spreadsheets and CRMs, so it gets a leading apostrophe. Full-width forms and leading spaces too:
# some spreadsheets fold or trim them before deciding.
FORMULA_LEADING = r"^[\s]*[=+\-@\t\r\n＝＋－＠]"
# Up to this many changed cases, the changes file stays small whatever the size of the full list.
MIN_CHANGES_FOR_FULL = 10_000


def handoff_dir(layout: WarehouseLayout) -> Path:
    return layout.root / "handoff"


def full_list_path(layout: WarehouseLayout) -> Path:
    return handoff_dir(layout) / "open_cases.csv"


def changes_path(layout: WarehouseLayout) -> Path:
    return handoff_dir(layout) / "changed_cases.csv"


def manifest_path(layout: WarehouseLayout) -> Path:
    return handoff_dir(layout) / "manifest.json"


@dataclass(frozen=True)
class HandoffRun:
    full: bool  # whether the full list was written (else the changes since it)
    open_cases: int
    rows: pl.DataFrame  # what was written: the full list, or the changed cases
    path: Path


def _contacts(store: CaseStore) -> pl.LazyFrame:
    """Each case's contact and revision (null for a case last changed before revisions were kept)."""
    schema = {**CONTACTS_SCHEMA, "revision": pl.Int64}
    if not store.contacts:
        return pl.LazyFrame(schema=schema)
    contacts = pl.scan_parquet(store.path(store.contacts))
    if "revision" not in contacts.collect_schema().names():
        contacts = contacts.with_columns(revision=pl.lit(None, dtype=pl.Int64))
    return contacts.select(list(schema)).cast(schema)


def formula_safe(frame: pl.DataFrame) -> pl.DataFrame:
    """Every text cell that a spreadsheet would run as a formula, prefixed with ``'`` (OWASP)."""
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(FORMULA_LEADING)).then(pl.lit("'") + pl.col(c)).otherwise(pl.col(c)).alias(c)
        for c in text
    )


def _rows(cases: pl.LazyFrame, contacts: pl.LazyFrame) -> pl.DataFrame:
    return formula_safe(
        cases.select(c for c in HANDOFF_COLUMNS if c == "case_id" or c not in (*CONTACTS_SCHEMA, "revision"))
        .join(contacts, on="case_id", how="left")
        .with_columns(pl.col("revision").fill_null(0))
        .sort("priority", "due_at", "case_id")
        .with_columns(
            pl.col("themes", "negative_keywords").list.join("; "),
            pl.col("due_at", "opened_at", "contacted_at").dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        .select(HANDOFF_COLUMNS)
        .collect()
    )


def _read_manifest(layout: WarehouseLayout) -> dict | None:
    """The last run's manifest, or None when it is missing or not one this version wrote."""
    try:
        manifest = json.loads(manifest_path(layout).read_text(encoding="utf-8"))
        dt.date.fromisoformat(manifest["full_day"])
        if not all(isinstance(manifest[key], int) for key in ("full_revision", "full_rows")):
            return None
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return None
    return manifest


def _full_list_due(layout: WarehouseLayout, store: CaseStore, previous: dict | None, day: dt.date, full_every_days: int) -> bool:
    """Whether the changes cannot stand on the last full list: none, another store or layout, or too old."""
    return (
        previous is None
        or full_every_days <= 1
        or not (full_list_path(layout).exists() and changes_path(layout).exists())
        or previous.get("store_id") != store.store_id
        or previous["full_revision"] > store.revision
        or previous.get("columns") != list(HANDOFF_COLUMNS)
        or (day - dt.date.fromisoformat(previous["full_day"])).days >= full_every_days
    )


def write_crm_handoff(layout: WarehouseLayout, day: dt.date, full_every_days: int) -> HandoffRun:
    """Write the changes since the last full list, or a new full list when one is due (``day``: the run's last day).

    Each file is replaced atomically, the manifest last; whichever of them a reader sees, the rows
    with the highest revision per case are the current ones.
    """
    store = case_store(layout)
    cases = pl.scan_parquet(layout.table_file("detractor_cases"))
    contacts = _contacts(store)
    open_cases = cases.select(pl.col("status").is_in(ACTIVE_STATUSES).cast(pl.Int64).sum()).collect().item()
    previous = _read_manifest(layout)
    full = _full_list_due(layout, store, previous, day, full_every_days)
    if not full:
        changed = contacts.filter(pl.col("revision") > previous["full_revision"]).select("case_id").collect()
        full = changed.height > max(MIN_CHANGES_FOR_FULL, previous["full_rows"] // 2)
    if full:
        rows = _rows(cases.filter(pl.col("status").is_in(ACTIVE_STATUSES)), contacts)
        replace_file(full_list_path(layout), rows.write_csv)
        replace_file(changes_path(layout), rows.head(0).write_csv)
        manifest = {"full_day": day.isoformat(), "full_revision": store.revision, "full_rows": rows.height, "changed_rows": 0}
    else:
        rows = _rows(cases.join(changed.lazy(), on="case_id", how="semi"), contacts)
        replace_file(changes_path(layout), rows.write_csv)
        manifest = {**previous, "changed_rows": rows.height}
    manifest.update(store_id=store.store_id, store_revision=store.revision, columns=list(HANDOFF_COLUMNS))
    atomic_write_bytes(manifest_path(layout), json.dumps(manifest, indent=1).encode("utf-8"))
    return HandoffRun(full, open_cases, rows, full_list_path(layout) if full else changes_path(layout))


def current_open_cases(layout: WarehouseLayout) -> pl.DataFrame:
    """The open cases now, from the two files as a CRM applies them: per case the highest revision, if open."""
    files = [str(p) for p in (full_list_path(layout), changes_path(layout)) if p.exists()]
    if not files:
        return pl.DataFrame(schema={c: pl.String for c in HANDOFF_COLUMNS})
    rows = pl.concat([pl.read_csv(f, infer_schema=False) for f in files])
    return (
        rows.sort(pl.col("revision").cast(pl.Int64), descending=True, nulls_last=True, maintain_order=True)
        .unique("case_id", keep="first", maintain_order=True)
        .filter(pl.col("status").is_in(ACTIVE_STATUSES))
        .sort("priority", "due_at", "case_id")
    )
