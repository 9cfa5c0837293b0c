"""Report: the pictures and figures behind the NPS, for the Dagster UI and a static HTML page beside the warehouse."""

from __future__ import annotations

import contextlib
import datetime as dt
import html
from collections.abc import Iterator
from dataclasses import dataclass

import duckdb
import polars as pl

from nps_pipeline.defs.serve.charts import SegmentBar, TrendPoint, segments_svg, trend_svg
from nps_pipeline.storage import WarehouseLayout, atomic_write_bytes, days_in, merged_day_files, sql

REPORT_FILE = "report.html"
TREND_DAYS = 180
SEGMENT_WINDOW = "trailing_28d"


def trend_points(frame: pl.DataFrame, day_column: str) -> list[TrendPoint]:
    return [
        TrendPoint(row[day_column], row["nps"], row["nps_ci_low"], row["nps_ci_high"], bool(row["low_sample"]))
        for row in frame.iter_rows(named=True)
    ]


@dataclass(frozen=True)
class ReportSources:
    """The files the report and its charts read, for the ``TREND_DAYS`` days to ``as_of``."""

    as_of: dt.date
    windows: list[str]
    daily: list[str]
    weighted: list[str]
    benchmark: list[str]


REPORT_TABLES = ("nps_windows", "nps_daily", "nps_windows_weighted", "nps_benchmark_comparison")


@contextlib.contextmanager
def report_sources(
    con: duckdb.DuckDBPyConnection, layout: WarehouseLayout, as_of: dt.date, tables: tuple[str, ...] = REPORT_TABLES
) -> Iterator[ReportSources]:
    """The report's sources: each of ``tables`` over its ``TREND_DAYS`` days copied into one temporary file.

    Several queries read each table: one footer each instead of one per day (180 files). A table
    not asked for, or not written yet, has no files.
    """
    days = days_in(as_of - dt.timedelta(days=TREND_DAYS - 1), as_of + dt.timedelta(days=1))
    with contextlib.ExitStack() as stack:
        merged = {table: stack.enter_context(merged_day_files(con, layout, table, days)) for table in tables}
        yield ReportSources(as_of, *(merged.get(table, []) for table in REPORT_TABLES))


def daily_trend(con: duckdb.DuckDBPyConnection, files: list[str]) -> list[TrendPoint]:
    frame = con.sql(sql("select_daily_series"), params={"files": files}).pl()
    return trend_points(frame, "response_date")


def window_trend(con, files: list[str], window_type: str, dimension: str = "overall", segment: str = "all") -> list[TrendPoint]:
    frame = con.sql(
        sql("select_window_series"),
        params={"files": files, "window_type": window_type, "dimension": dimension, "segment": segment},
    ).pl()
    return trend_points(frame, "window_end")


def segment_breakdown(con, files: list[str], window_end: dt.date, window_type: str = SEGMENT_WINDOW) -> pl.DataFrame:
    return con.sql(
        sql("select_window_segments"), params={"files": files, "window_type": window_type, "window_end": window_end}
    ).pl()


def segment_bars(frame: pl.DataFrame) -> list[SegmentBar]:
    return [
        SegmentBar(
            f"{row['dimension'].removeprefix('attribute:')}: {row['segment']}", row["nps"], row["nps_ci_low"], row["nps_ci_high"],
            int(row["responses"]), bool(row["low_sample"]),
        )
        for row in frame.iter_rows(named=True)
    ]


@dataclass
class ReportCharts:
    trend: str
    segments: str


def charts_for(con, sources: ReportSources) -> ReportCharts:
    """The two pictures every NPS asset shows: the trend with its band, and the latest segment breakdown."""
    as_of = sources.as_of
    trend = trend_svg(
        f"NPS, trailing 28 days and daily, to {as_of.isoformat()}",
        window_trend(con, sources.windows, "trailing_28d"),
        daily_trend(con, sources.daily),
        labels=("trailing 28 days", "daily (hollow: low sample)"),
    )
    segments = segments_svg(
        f"NPS by segment, 28 days to {as_of.isoformat()} (95 % intervals)",
        segment_bars(segment_breakdown(con, sources.windows, as_of)),
    )
    return ReportCharts(trend, segments)


def _table(frame: pl.DataFrame) -> str:
    if frame.is_empty():
        return "<p><em>no rows</em></p>"

    def cell(value) -> str:
        if value is None:
            return ""
        if isinstance(value, float):
            return f"{value:.3f}" if abs(value) < 1 and value != 0 else f"{value:.1f}"
        if isinstance(value, bool):
            return "yes" if value else ""
        return html.escape(str(value))

    head = "".join(f"<th>{html.escape(c)}</th>" for c in frame.columns)
    rows = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>" for row in frame.iter_rows())
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>NPS report to {as_of}</title>
<style>
body {{ font-family: sans-serif; color: #333; max-width: 1000px; margin: 2em auto; padding: 0 1em; }}
table {{ border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 13px; }}
th, td {{ border-bottom: 1px solid #ddd; padding: 3px 8px; text-align: right; }}
th:first-child, td:first-child {{ text-align: left; }}
.note {{ color: #666; font-size: 13px; }}
</style></head><body>
<h1>Net Promoter Score to {as_of}</h1>
<p class="note">Generated {generated} from {warehouse}. Every figure is computed from summed counts of each score;
bounds are 95 % adjusted-Wald intervals (Rocks 2016; Lewis and Sauro); a change is tested only against the
window right before it, which shares no day with it (z on adjusted-Wald variances), only when both windows are complete and
neither is low sample; it is significant when its Benjamini-Hochberg q-value across the segments of that window is under 0.05.
Windows with fewer than {threshold} responses are flagged low sample.</p>
<h2>Latest windows</h2>
{latest}
<h2>Trend</h2>
{trend}
<h2>Segments</h2>
{segments}
{segment_table}
<h2>Weeks, months and quarters, with change from the period before</h2>
{periods}
<h2>Weighted NPS</h2>
<p class="note">{weighting}</p>
{weighted}
<h2>Industry benchmark</h2>
<p class="note">Published industry figures are mostly competitive consumer studies (a sample of the public rating many
companies), not a company's own transactional NPS: compare like with like. Year, method and provenance are given for each.</p>
{benchmark}
</body></html>
"""


def render_report(
    con: duckdb.DuckDBPyConnection,
    layout: WarehouseLayout,
    sources: ReportSources,
    low_sample_threshold: int,
    weighting: str,
    charts: ReportCharts,
) -> str:
    as_of = sources.as_of
    latest = con.sql(sql("select_window_overview"), params={"files": sources.windows, "last_end": as_of}).pl()
    periods = con.sql(sql("select_period_changes"), params={"files": sources.windows}).pl()
    weighted = con.sql(sql("select_weighted_window_overview"), params={"files": sources.weighted, "last_end": as_of}).pl()
    benchmark = con.sql(sql("select_benchmark_overview"), params={"files": sources.benchmark, "last_end": as_of}).pl()
    segments = segment_breakdown(con, sources.windows, as_of).select(
        "dimension", "segment", "responses", "nps", "nps_ci_low", "nps_ci_high", "low_sample", "nps_change", "change_p_value",
        "significant_change",
    )
    return PAGE.format(
        as_of=as_of.isoformat(),
        generated=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        warehouse=html.escape(str(layout.root)),
        threshold=low_sample_threshold,
        latest=_table(latest),
        trend=charts.trend,
        segments=charts.segments,
        segment_table=_table(segments),
        periods=_table(periods),
        weighting=html.escape(weighting),
        weighted=_table(weighted),
        benchmark=_table(benchmark),
    )


def write_report(con, layout: WarehouseLayout, sources: ReportSources, low_sample_threshold: int, weighting: str, charts: ReportCharts):
    path = layout.root / REPORT_FILE
    atomic_write_bytes(path, render_report(con, layout, sources, low_sample_threshold, weighting, charts).encode("utf-8"))
    return path
