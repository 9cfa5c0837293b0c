"""The published tables, each declared once: the asset that writes it, its key, how it is stored.

Storage, publishing (which tables ``nps.duckdb`` holds, what ``published_warehouse`` waits for) and
the checks (unique keys, NPS bounds, segments that add up) are derived from ``TABLES``; a test
fails when the warehouse holds a table this list does not name, or the reverse.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Table:
    name: str
    owner: str  # the asset that writes it
    keys: tuple[str, ...]  # the columns that identify a row
    storage: str  # "daily": a Parquet file per day; "single": one file; "per_file": a file per landed file
    carries_nps: bool = False  # NPS with its bounds: checked within [-100, 100]
    segmented: bool = False  # segments per dimension that must sum to the overall counts
    partition_column: str = "response_date"  # the day a daily table is filed by


TABLES: tuple[Table, ...] = (
    Table("responses", "responses", ("response_id",), "daily"),
    Table("duplicates", "responses", ("source_file", "source_row"), "daily"),
    Table("nps_score_counts_daily", "nps_daily", ("response_date", "dimension", "segment", "score"), "daily"),
    Table("nps_daily", "nps_daily", ("response_date",), "daily", carries_nps=True),
    Table("nps_daily_segment", "nps_daily", ("response_date", "dimension", "segment"), "daily", carries_nps=True, segmented=True),
    Table("nps_themes_daily", "nps_daily", ("response_date", "language", "theme"), "daily", carries_nps=True),
    Table("nps_windows", "nps_windows", ("window_type", "window_end", "dimension", "segment"), "daily",
          carries_nps=True, segmented=True, partition_column="window_end"),
    Table("nps_windows_weighted", "nps_windows_weighted", ("window_type", "window_end"), "daily",
          carries_nps=True, partition_column="window_end"),
    Table("nps_benchmark_comparison", "nps_benchmark_comparison",
          ("window_type", "window_end", "benchmark_publisher", "benchmark_study", "benchmark_region", "benchmark_segment"), "daily",
          carries_nps=True, partition_column="window_end"),
    Table("industry_benchmarks", "nps_benchmark_comparison", ("publisher", "study", "industry", "region", "segment"), "single"),
    Table("detractor_followups", "detractor_followups", ("response_id",), "daily"),
    Table("detractor_cases", "detractor_cases", ("case_id",), "single"),
    Table("detractor_case_responses", "detractor_cases", ("response_id",), "daily"),
    Table("case_status_updates", "detractor_cases", ("event_seq",), "single"),
    Table("case_metrics", "case_metrics", ("period_type", "period_start", "owner"), "single"),
    Table("quarantine", "quarantine", ("source_file", "source_row"), "per_file"),
    Table("ingest_files", "ingest_files", ("source_file",), "single"),
)
BY_NAME = {table.name: table for table in TABLES}
DAILY_TABLES = tuple(t.name for t in TABLES if t.storage == "daily")
PER_FILE_TABLES = tuple(t.name for t in TABLES if t.storage == "per_file")
SINGLE_FILE_TABLES = tuple(t.name for t in TABLES if t.storage == "single")
NPS_TABLES = tuple(t.name for t in TABLES if t.carries_nps)
SEGMENTED_TABLES = tuple(t.name for t in TABLES if t.segmented)
# The assets whose tables are published: what the publishing step waits for.
OWNERS = tuple(dict.fromkeys(t.owner for t in TABLES))


def partition_column(table: str) -> str:
    return BY_NAME[table].partition_column if table in BY_NAME else "response_date"
