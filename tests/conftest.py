"""Shared fixtures: temporary landing zone and warehouse, and a helper that runs a day range."""

from __future__ import annotations

import datetime as dt
import os
import warnings
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)

from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG  # noqa: E402

from nps_pipeline.graph import nps_assets  # noqa: E402
from nps_pipeline.resources import NpsPipelineResource  # noqa: E402

HEADER = "response_id,submitted_at,score,comment,respondent_id,email,channel,region,product,touchpoint,customer_tier,language"


class Pipeline:
    def __init__(self, root: Path, **overrides):
        self.landing = root / "landing"
        self.warehouse = root / "warehouse"
        self.updates = root / "case_updates"
        self.landing.mkdir(parents=True, exist_ok=True)
        self.resource = NpsPipelineResource(
            landing_dir=str(self.landing),
            warehouse_dir=str(self.warehouse),
            pseudonym_key="test-key",
            **{"case_updates_dir": str(self.updates), **overrides},
        )

    def land(self, name: str, text: str | bytes, mtime: float | None = None) -> Path:
        path = self.landing / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        if mtime is not None:
            os.utime(path, (mtime, mtime))
        return path

    def update(self, name: str, text: str) -> Path:
        """Drop a status-update CSV into the case updates folder, as a CX team does."""
        path = self.updates / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def run(self, start: str, end: str | None = None, raise_on_error: bool = True):
        tags = (
            {ASSET_PARTITION_RANGE_START_TAG: start, ASSET_PARTITION_RANGE_END_TAG: end}
            if end is not None
            else None
        )
        return dg.materialize(
            nps_assets,
            partition_key=start if end is None else None,
            tags=tags,
            resources={"nps": self.resource},
            raise_on_error=raise_on_error,
        )

    def table(self, name: str, order_by: str | None = None) -> pl.DataFrame:
        with duckdb.connect(str(self.warehouse / "nps.duckdb"), read_only=True) as con:
            query = f'SELECT * FROM "{name}"' + (f" ORDER BY {order_by}" if order_by else "")
            return con.sql(query).pl()


@pytest.fixture
def pipeline(tmp_path: Path) -> Pipeline:
    return Pipeline(tmp_path)


def rows_csv(*rows: str) -> str:
    return HEADER + "\n" + "\n".join(rows) + "\n"


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)
