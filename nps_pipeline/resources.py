"""The pipeline's one resource: where files live and the settings every stage reads."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb

from nps_pipeline.object_store import Mirror, ObjectStore, is_remote
from nps_pipeline.case_rules import CaseRules, load_case_rules
from nps_pipeline.settings import Settings
from nps_pipeline.themes import Lexicon, load_lexicon
from nps_pipeline.storage import WarehouseLayout, connect


class NpsPipelineResource(dg.ConfigurableResource):
    """Landing zone, warehouse and rules; defaults come from the NPS_* environment variables."""

    landing_dir: str
    warehouse_dir: str
    timezone: str = "UTC"
    start_date: str = "2024-01-01"
    max_rejected_share: float = 0.10
    min_rows_for_rejected_share: int = 20
    followup_sla_hours: str = ""
    high_value_tiers: str = ""
    duckdb_memory_limit: str = "1GB"
    segment_attributes: str = ""
    low_sample_threshold: int = 30
    weighting_file: str = ""
    benchmark_industry: str = ""
    benchmarks_file: str = ""
    case_rules_file: str = ""
    case_updates_dir: str = "data/case_updates"
    theme_lexicon_file: str = ""
    freshness_deadline_hour: int = 6
    handoff_full_every_days: int = 7
    local_cache_dir: str = "data/cache"
    s3_endpoint_url: str = ""
    pseudonym_key: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings, **overrides) -> "NpsPipelineResource":
        values = dict(
            landing_dir=settings.landing_location,
            warehouse_dir=settings.warehouse_location,
            local_cache_dir=str(settings.local_cache_dir),
            s3_endpoint_url=settings.s3_endpoint_url,
            timezone=settings.timezone,
            start_date=settings.start_date,
            max_rejected_share=settings.max_rejected_share,
            min_rows_for_rejected_share=settings.min_rows_for_rejected_share,
            followup_sla_hours=settings.followup_sla_hours,
            high_value_tiers=settings.high_value_tiers,
            duckdb_memory_limit=settings.duckdb_memory_limit,
            segment_attributes=",".join(settings.segment_attributes),
            low_sample_threshold=settings.low_sample_threshold,
            weighting_file=settings.weighting_file,
            benchmark_industry=settings.benchmark_industry,
            benchmarks_file=settings.benchmarks_file,
            case_rules_file=settings.case_rules_file,
            case_updates_dir=str(settings.case_updates_dir),
            theme_lexicon_file=settings.theme_lexicon_file,
            freshness_deadline_hour=settings.freshness_deadline_hour,
            handoff_full_every_days=settings.handoff_full_every_days,
        )
        values.update(overrides)
        return cls(**values)

    @property
    def layout(self) -> WarehouseLayout:
        if is_remote(self.warehouse_dir):
            return WarehouseLayout(Path(self.local_cache_dir) / "warehouse")
        return WarehouseLayout(self.warehouse_dir)

    def _store(self, location: str) -> ObjectStore:
        return ObjectStore(location, self.s3_endpoint_url or None)

    def sync_landing(self) -> dict[str, int] | None:
        """With an s3:// landing zone, bring the local copy up to date (only new or changed objects move)."""
        if not is_remote(self.landing_dir):
            return None
        cache = Path(self.local_cache_dir)
        return Mirror(self._store(self.landing_dir), cache / "landing", cache / "landing_index.json", False).pull()

    def _warehouse_mirror(self) -> Mirror:
        layout = self.layout
        return Mirror(self._store(self.warehouse_dir), layout.root, layout.internal / "object_index.json", True)

    def pull_warehouse(self) -> dict[str, int] | None:
        """With an s3:// warehouse, make the working copy equal to the bucket (call under the writer lock)."""
        return self._warehouse_mirror().pull() if is_remote(self.warehouse_dir) else None

    def push_warehouse(self, tables: list[str]) -> dict[str, int] | None:
        """With an s3:// warehouse, upload what changed and ``nps_views.sql`` for readers of the bucket (under the lock)."""
        if not is_remote(self.warehouse_dir):
            return None
        from nps_pipeline.serve import views_script

        mirror = self._warehouse_mirror()
        counts = mirror.push()
        mirror.store.put_bytes(views_script(tables, mirror.store.url, self.layout).encode("utf-8"), "nps_views.sql")
        return counts

    @contextlib.contextmanager
    def writing(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A DuckDB connection held under the warehouse's writer lock."""
        layout = self.layout
        with layout.writer_lock(), connect(layout, self.duckdb_memory_limit) as con:
            yield con

    @property
    def landing_path(self) -> Path:
        if is_remote(self.landing_dir):
            return (Path(self.local_cache_dir) / "landing").resolve()
        return Path(self.landing_dir).resolve()

    @property
    def first_day(self) -> dt.date:
        return dt.date.fromisoformat(self.start_date)

    def case_rules(self) -> CaseRules:
        """The case rules file with the environment's SLA and tier overrides (raises CaseRulesError)."""
        return load_case_rules(self.case_rules_file or None, sla_override=self.followup_sla_hours, high_value_tiers=self.high_value_tiers)

    def lexicon(self) -> Lexicon:
        """The shipped theme lexicon extended by NPS_THEME_LEXICON_FILE (raises LexiconError)."""
        return load_lexicon(self.theme_lexicon_file or None)

    @property
    def updates_path(self) -> Path:
        return Path(self.case_updates_dir).resolve()

    @property
    def attribute_dimensions(self) -> list[str]:
        return [a.strip() for a in self.segment_attributes.split(",") if a.strip()]
