"""Configuration from environment variables (see the README's settings table)."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_SLA_HOURS = {"P1": 24, "P2": 48, "P3": 120}


class SettingsError(ValueError):
    """A setting that cannot be used: the message names the variable, its value and what it must be."""


def _number(text: str, what: str, kind: type = int, expected: str = "a whole number"):
    try:
        return kind(text.strip())
    except ValueError:
        raise SettingsError(f"{what}: {text!r} is not {expected}") from None


def parse_sla_hours(text: str) -> dict[str, int]:
    """Parse ``P1:24,P2:48,P3:120`` into a mapping; a bare number applies to every priority."""
    text = text.strip()
    if not text:
        return dict(DEFAULT_SLA_HOURS)
    if ":" not in text:
        hours = _number(text, "NPS_FOLLOWUP_SLA_HOURS")
        return {priority: hours for priority in DEFAULT_SLA_HOURS}
    hours_by_priority = dict(DEFAULT_SLA_HOURS)
    for part in text.split(","):
        priority, _, hours = part.partition(":")
        priority = priority.strip().upper()
        if priority not in DEFAULT_SLA_HOURS:
            raise SettingsError(f"NPS_FOLLOWUP_SLA_HOURS: unknown priority {priority!r} (use P1, P2, P3)")
        hours_by_priority[priority] = _number(hours, f"NPS_FOLLOWUP_SLA_HOURS {priority}")
    return hours_by_priority


@dataclass(frozen=True)
class Settings:
    landing_dir: Path = Path("data/landing")
    warehouse_dir: Path = Path("data/warehouse")
    timezone: str = "UTC"
    start_date: str = "2024-01-01"
    max_rejected_share: float = 0.10
    min_rows_for_rejected_share: int = 20
    followup_sla_hours: str = ""  # overrides the case rules file's [sla_hours] when set
    high_value_tiers: str = ""  # overrides the case rules file's [priority.tier_points] when set
    duckdb_memory_limit: str = "1GB"
    segment_attributes: tuple[str, ...] = ()
    low_sample_threshold: int = 30
    weighting_file: str = ""
    benchmark_industry: str = ""
    benchmarks_file: str = ""
    case_rules_file: str = ""
    case_updates_dir: Path = Path("data/case_updates")
    theme_lexicon_file: str = ""
    freshness_deadline_hour: int = 6
    handoff_full_every_days: int = 7
    alert_webhook_url: str = ""
    # As given: a folder, or s3://bucket/prefix (a Path would fold the '//').
    landing_location: str = "data/landing"
    warehouse_location: str = "data/warehouse"
    local_cache_dir: Path = Path("data/cache")
    s3_endpoint_url: str = ""

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise SettingsError(f"NPS_TIMEZONE: {self.timezone!r} is not an IANA time zone name (such as UTC or Europe/Berlin)") from None
        try:
            dt.date.fromisoformat(self.start_date)
        except ValueError:
            raise SettingsError(f"NPS_START_DATE: {self.start_date!r} is not a date (YYYY-MM-DD)") from None
        if not 0.0 <= self.max_rejected_share <= 1.0:
            raise SettingsError(f"NPS_MAX_REJECTED_SHARE: {self.max_rejected_share} must be between 0 and 1")
        if self.min_rows_for_rejected_share < 1:
            raise SettingsError(f"NPS_MIN_ROWS_FOR_REJECTED_SHARE: {self.min_rows_for_rejected_share} must be a whole number, 1 or more")
        parse_sla_hours(self.followup_sla_hours)
        if not 0 <= self.freshness_deadline_hour <= 23:
            raise SettingsError(f"NPS_FRESHNESS_DEADLINE_HOUR: {self.freshness_deadline_hour} must be an hour of the day, 0-23")
        if self.handoff_full_every_days < 1:
            raise SettingsError(f"NPS_HANDOFF_FULL_EVERY_DAYS: {self.handoff_full_every_days} must be a whole number, 1 or more")
        if self.low_sample_threshold < 0:
            raise SettingsError(f"NPS_LOW_SAMPLE_THRESHOLD: {self.low_sample_threshold} must be a whole number, 0 or more")

    @classmethod
    def from_env(cls, environ: os._Environ | dict | None = None) -> "Settings":
        env = os.environ if environ is None else environ
        return cls(
            landing_dir=Path(env.get("NPS_LANDING_DIR", "data/landing")),
            warehouse_dir=Path(env.get("NPS_WAREHOUSE_DIR", "data/warehouse")),
            timezone=env.get("NPS_TIMEZONE", "UTC"),
            start_date=env.get("NPS_START_DATE", "2024-01-01"),
            max_rejected_share=_number(
                env.get("NPS_MAX_REJECTED_SHARE", "0.10"), "NPS_MAX_REJECTED_SHARE", float, "a number between 0 and 1 (such as 0.1)"
            ),
            min_rows_for_rejected_share=_number(
                env.get("NPS_MIN_ROWS_FOR_REJECTED_SHARE", "20"), "NPS_MIN_ROWS_FOR_REJECTED_SHARE"
            ),
            followup_sla_hours=env.get("NPS_FOLLOWUP_SLA_HOURS", ""),
            high_value_tiers=env.get("NPS_HIGH_VALUE_TIERS", ""),
            duckdb_memory_limit=env.get("NPS_DUCKDB_MEMORY_LIMIT", "1GB"),
            segment_attributes=tuple(
                a.strip() for a in env.get("NPS_SEGMENT_ATTRIBUTES", "").split(",") if a.strip()
            ),
            low_sample_threshold=_number(env.get("NPS_LOW_SAMPLE_THRESHOLD", "30"), "NPS_LOW_SAMPLE_THRESHOLD"),
            weighting_file=env.get("NPS_WEIGHTING_FILE", ""),
            benchmark_industry=env.get("NPS_BENCHMARK_INDUSTRY", ""),
            benchmarks_file=env.get("NPS_BENCHMARKS_FILE", ""),
            case_rules_file=env.get("NPS_CASE_RULES_FILE", ""),
            case_updates_dir=Path(env.get("NPS_CASE_UPDATES_DIR", "data/case_updates")),
            theme_lexicon_file=env.get("NPS_THEME_LEXICON_FILE", ""),
            freshness_deadline_hour=_number(env.get("NPS_FRESHNESS_DEADLINE_HOUR", "6"), "NPS_FRESHNESS_DEADLINE_HOUR"),
            handoff_full_every_days=_number(env.get("NPS_HANDOFF_FULL_EVERY_DAYS", "7"), "NPS_HANDOFF_FULL_EVERY_DAYS"),
            alert_webhook_url=env.get("NPS_ALERT_WEBHOOK_URL", ""),
            landing_location=env.get("NPS_LANDING_DIR", "data/landing"),
            warehouse_location=env.get("NPS_WAREHOUSE_DIR", "data/warehouse"),
            local_cache_dir=Path(env.get("NPS_LOCAL_CACHE_DIR", "data/cache")),
            s3_endpoint_url=env.get("NPS_S3_ENDPOINT_URL", ""),
        )
