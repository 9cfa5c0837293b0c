"""Settings: every environment variable declared once, with its type, default, rule and meaning.

``SETTINGS`` is the one declaration. ``Settings`` (read from the environment, each value checked by
its rule), the Dagster resource's fields (``resources.NpsPipelineResource``), ``nps-pipeline --help``
and the settings table in docs/operations.md are all derived from it; a test holds the table to it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
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


# Rules: a value passes when the rule returns None, else the rule says what the value must be.
def _time_zone(value: str) -> str | None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return "is not an IANA time zone name (such as UTC or Europe/Berlin)"
    return None


def _iso_date(value: str) -> str | None:
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return "is not a date (YYYY-MM-DD)"
    return None


def _between(low: float, high: float, words: str) -> Callable[[Any], str | None]:
    return lambda value: None if low <= value <= high else words


def _at_least(low: int, words: str) -> Callable[[Any], str | None]:
    return lambda value: None if value >= low else words


def _sla_hours(value: str) -> str | None:
    parse_sla_hours(value)  # raises SettingsError with its own words
    return None


@dataclass(frozen=True)
class Setting:
    """One setting: where it is read from, its type and default, the rule it must pass, what it means."""

    env: str
    field: str | None  # the attribute of Settings and of the resource; None: read by Dagster itself
    kind: type  # str, int or float
    default: Any
    meaning: str
    shown_default: str = ""  # the table's default column, when the default alone does not say it
    rule: Callable[[Any], str | None] | None = None
    expected: str = ""  # what a value that does not parse must be
    resource: bool = True  # also a field of the pipeline's Dagster resource
    in_help: bool = False  # listed by `nps-pipeline --help`

    @property
    def default_text(self) -> str:
        if self.shown_default:
            return self.shown_default
        return f"`{self.default}`" if self.default not in ("", None) else "none"


SETTINGS: tuple[Setting, ...] = (
    Setting("NPS_LANDING_DIR", "landing_dir", str, "data/landing",
            "landing zone (files in any sub-folder; hidden and temp files listed, not read), or `s3://bucket/prefix`", in_help=True),
    Setting("NPS_WAREHOUSE_DIR", "warehouse_dir", str, "data/warehouse", "every output, or `s3://bucket/prefix`", in_help=True),
    Setting("NPS_TIMEZONE", "timezone", str, "UTC", "reporting time zone; decides a response's day and the partitions",
            rule=_time_zone, in_help=True),
    Setting("NPS_START_DATE", "start_date", str, "2024-01-01", "first daily partition; earlier responses are quarantined",
            rule=_iso_date, in_help=True),
    Setting("NPS_MAX_REJECTED_SHARE", "max_rejected_share", float, 0.10,
            "a file's rejected share above which the file is held back (its rows not published; the other files are)",
            shown_default="`0.10`", rule=_between(0.0, 1.0, "must be between 0 and 1"),
            expected="a number between 0 and 1 (such as 0.1)", in_help=True),
    Setting("NPS_MIN_ROWS_FOR_REJECTED_SHARE", "min_rows_for_rejected_share", int, 20,
            "rows a file must have before its rejected share can hold it back",
            rule=_at_least(1, "must be a whole number, 1 or more"), in_help=True),
    Setting("NPS_CASE_RULES_FILE", "case_rules_file", str, "",
            "case priority points, SLA hours, negative keywords and routing (TOML)", shown_default="`data/seeds/case_rules.toml`"),
    Setting("NPS_CASE_UPDATES_DIR", "case_updates_dir", str, "data/case_updates",
            "folder of status-update CSVs from the teams working the cases"),
    Setting("NPS_THEME_LEXICON_FILE", "theme_lexicon_file", str, "",
            "your theme terms (`theme,language,term`), added to the shipped lexicon"),
    Setting("NPS_FOLLOWUP_SLA_HOURS", "followup_sla_hours", str, "",
            "overrides the rules file's SLA hours (`P1:24,P2:48,P3:120`, or one number for all)",
            shown_default="from the rules file (24/48/120)", rule=_sla_hours),
    Setting("NPS_HIGH_VALUE_TIERS", "high_value_tiers", str, "",
            "overrides the rules file's tier points: these tiers get +2", shown_default="from the rules file"),
    Setting("NPS_DUCKDB_MEMORY_LIMIT", "duckdb_memory_limit", str, "1GB", "DuckDB memory limit per step (it spills beyond)"),
    Setting("NPS_SEGMENT_ATTRIBUTES", "segment_attributes", str, "",
            "extra attributes (columns beyond the canonical ones) to segment by, e.g. `plan,seats`"),
    Setting("NPS_LOW_SAMPLE_THRESHOLD", "low_sample_threshold", int, 30,
            "windows and days with fewer responses are flagged `low_sample`",
            rule=_at_least(0, "must be a whole number, 0 or more")),
    Setting("NPS_WEIGHTING_FILE", "weighting_file", str, "",
            "population shares per stratum cell, for `nps_windows_weighted`",
            shown_default="none (`make demo`/`make ui`: `data/seeds/demo_population_shares.csv`)"),
    Setting("NPS_BENCHMARK_INDUSTRY", "benchmark_industry", str, "",
            "the `industry` of `industry_benchmarks` to compare with", shown_default="none (`make demo`/`make ui`: `Software & SaaS`)"),
    Setting("NPS_BENCHMARKS_FILE", "benchmarks_file", str, "", "your own benchmark file, same columns as the seed",
            shown_default="`data/seeds/industry_nps_benchmarks.csv`"),
    Setting("NPS_FRESHNESS_DEADLINE_HOUR", "freshness_deadline_hour", int, 6,
            "hour (0-23, `NPS_TIMEZONE`) by which yesterday's partition must be there",
            rule=_between(0, 23, "must be an hour of the day, 0-23")),
    Setting("NPS_HANDOFF_FULL_EVERY_DAYS", "handoff_full_every_days", int, 7,
            "days of data between full lists of open cases in the CRM hand-off (`1`: every run); the runs between write the changed cases",
            rule=_at_least(1, "must be a whole number, 1 or more")),
    Setting("NPS_ALERT_WEBHOOK_URL", "alert_webhook_url", str, "", "where failed runs and failed checks are posted (JSON)",
            shown_default="none: alerts are skipped", resource=False),
    Setting("NPS_S3_ENDPOINT_URL", "s3_endpoint_url", str, "", "an S3-compatible endpoint (MinIO, Ceph, moto); AWS when empty"),
    Setting("NPS_LOCAL_CACHE_DIR", "local_cache_dir", str, "data/cache", "local working copies of an `s3://` landing zone and warehouse"),
    Setting("NPS_LOG_LEVEL", "log_level", str, "WARNING",
            "level of Dagster's own console log under `nps-pipeline` (the progress lines are always printed)",
            rule=lambda v: None if v.upper() in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL") else "is not a log level (DEBUG, INFO, WARNING, ERROR)",
            resource=False),
    Setting("DAGSTER_POSTGRES_URL", None, str, "", "with `deploy/dagster-postgres.yaml`: the instance's PostgreSQL",
            shown_default="none (SQLite in `$DAGSTER_HOME`)"),
    Setting("DAGSTER_EVENT_BATCH_SIZE", None, str, "", "Dagster's: with dagster-postgres, write events in batches of this many",
            shown_default="none (`0`: one by one)"),
    Setting("DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS", None, str, "",
            "Dagster's: one planned event per asset for a range run instead of one per asset and day. Trade-off (Dagster's "
            "documented one): a partition of a run that fails is not marked failed in the UI, only not materialised",
            shown_default="`1` for `nps-pipeline` and `make ui` (set it to `0` to turn it off)"),
    Setting("DAGSTER_HOME", None, str, "", "the Dagster instance: run history, schedules, sensors (`make` copies `deploy/dagster.yaml` into it)",
            shown_default="`data/dagster_home` under `make`; an in-memory instance for `nps-pipeline` without it", in_help=True),
)
READ_BY_US = tuple(s for s in SETTINGS if s.field is not None)


def _parse(setting: Setting, text: str) -> Any:
    if setting.kind is str:
        return text
    return _number(text, setting.env, setting.kind, setting.expected or "a whole number")


def check(setting: Setting, value: Any) -> None:
    """Raise SettingsError when ``value`` breaks the setting's rule."""
    problem = setting.rule(value) if setting.rule else None
    if problem:
        raise SettingsError(f"{setting.env}: {value!r} {problem}")


def _check_all(self) -> None:
    for setting in READ_BY_US:
        check(setting, getattr(self, setting.field))


def _from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
    env = os.environ if environ is None else environ
    return cls(**{s.field: _parse(s, env[s.env]) if s.env in env else s.default for s in READ_BY_US})


Settings = dataclasses.make_dataclass(
    "Settings",
    [(s.field, s.kind, dataclasses.field(default=s.default)) for s in READ_BY_US],
    frozen=True,
    namespace={
        "__doc__": "The settings, read from the environment (``Settings.from_env()``); each checked by its rule.",
        "__post_init__": _check_all,
        "from_env": classmethod(_from_env),
        "__module__": __name__,
    },
)


def markdown_table() -> str:
    """The settings table of docs/operations.md."""
    lines = ["| variable | meaning | default |", "| --- | --- | --- |"]
    lines += [f"| `{s.env}` | {s.meaning} | {s.default_text} |" for s in SETTINGS]
    return "\n".join(lines)


def help_text(width: int = 79) -> str:
    """The settings that matter most, for ``nps-pipeline --help``."""
    plain = lambda text: text.replace("`", "")  # noqa: E731
    lines = ["settings (environment variables; every one in docs/operations.md):"]
    for setting in (s for s in SETTINGS if s.in_help):
        lines.append(f"  {setting.env}")
        text = f"{plain(setting.meaning)}; default: {plain(setting.default_text)}"
        lines.append(textwrap.fill(text, width, initial_indent="      ", subsequent_indent="      "))
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_table())
