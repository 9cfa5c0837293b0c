"""The pipeline's one resource: where files live and the settings every stage reads."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb

from nps_pipeline.settings import Settings, parse_sla_hours
from nps_pipeline.storage import WarehouseLayout, connect


class NpsPipelineResource(dg.ConfigurableResource):
    """Landing zone, warehouse and rules; defaults come from the NPS_* environment variables."""

    landing_dir: str
    warehouse_dir: str
    timezone: str = "UTC"
    start_date: str = "2024-01-01"
    max_rejected_share: float = 0.10
    followup_sla_hours: str = "P1:24,P2:48,P3:120"
    high_value_tiers: str = "enterprise,platinum,gold,premium,vip"
    duckdb_memory_limit: str = "1GB"
    segment_attributes: str = ""
    low_sample_threshold: int = 30
    weighting_file: str = ""
    benchmark_industry: str = ""
    benchmarks_file: str = ""
    pseudonym_key: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings, **overrides) -> "NpsPipelineResource":
        values = dict(
            landing_dir=str(settings.landing_dir),
            warehouse_dir=str(settings.warehouse_dir),
            timezone=settings.timezone,
            start_date=settings.start_date,
            max_rejected_share=settings.max_rejected_share,
            followup_sla_hours=",".join(f"{p}:{h}" for p, h in settings.sla_hours.items()),
            high_value_tiers=",".join(settings.high_value_tiers),
            duckdb_memory_limit=settings.duckdb_memory_limit,
            segment_attributes=",".join(settings.segment_attributes),
            low_sample_threshold=settings.low_sample_threshold,
            weighting_file=settings.weighting_file,
            benchmark_industry=settings.benchmark_industry,
            benchmarks_file=settings.benchmarks_file,
        )
        values.update(overrides)
        return cls(**values)

    @property
    def layout(self) -> WarehouseLayout:
        return WarehouseLayout(self.warehouse_dir)

    @contextlib.contextmanager
    def writing(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A DuckDB connection held under the warehouse's writer lock."""
        layout = self.layout
        with layout.writer_lock(), connect(layout, self.duckdb_memory_limit) as con:
            yield con

    @property
    def landing_path(self) -> Path:
        return Path(self.landing_dir).resolve()

    @property
    def first_day(self) -> dt.date:
        return dt.date.fromisoformat(self.start_date)

    @property
    def sla_hours(self) -> dict[str, int]:
        return parse_sla_hours(self.followup_sla_hours)

    @property
    def attribute_dimensions(self) -> list[str]:
        return [a.strip() for a in self.segment_attributes.split(",") if a.strip()]

    @property
    def tiers(self) -> tuple[str, ...]:
        return tuple(t.strip().lower() for t in self.high_value_tiers.split(",") if t.strip())
