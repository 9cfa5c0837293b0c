"""The pipeline's one resource: where files live and the settings every stage reads."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pydantic

from nps_pipeline.object_store import Mirror, ObjectStore, is_remote
from nps_pipeline.defs.follow_up.case_rules import CaseRules, load_case_rules
from nps_pipeline.settings import READ_BY_US, Settings, check
from nps_pipeline.defs.nps.themes import Lexicon, load_lexicon
from nps_pipeline.storage import WarehouseLayout, connect


# The resource's settings fields, derived from the one declaration (settings.SETTINGS).
_SettingsFields = type(
    "_SettingsFields",
    (dg.ConfigurableResource,),
    {
        "__annotations__": {s.field: s.kind for s in READ_BY_US if s.resource},
        **{s.field: s.default for s in READ_BY_US if s.resource},
        "__module__": __name__,
    },
)


class NpsPipelineResource(_SettingsFields):
    """Landing zone, warehouse and rules: every field of ``settings.SETTINGS``, checked by its rule."""

    pseudonym_key: str | None = None

    @pydantic.model_validator(mode="after")
    def _settings_pass_their_rules(self) -> "NpsPipelineResource":
        for setting in READ_BY_US:
            if setting.resource:
                check(setting, getattr(self, setting.field))
        return self

    @classmethod
    def from_settings(cls, settings: Settings, **overrides) -> "NpsPipelineResource":
        values = {s.field: getattr(settings, s.field) for s in READ_BY_US if s.resource}
        return cls(**{**values, **overrides})

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
        from nps_pipeline.defs.serve.publish import views_script

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
