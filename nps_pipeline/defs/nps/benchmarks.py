"""Benchmarks: the shipped seed of published industry NPS figures, and the user's NPS compared with its industry."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from nps_pipeline.defs.nps import aggregate
from nps_pipeline.storage import WarehouseLayout, replace_days, seed_file, sql, write_relation_file

SEED_FILE = seed_file("industry_nps_benchmarks.csv")


def materialise_industry_benchmarks(
    con: duckdb.DuckDBPyConnection, layout: WarehouseLayout, path: str | Path | None
) -> tuple[list[str], str | None]:
    """Publish the user's benchmark file, or the shipped seed; returns its industries and any problem.

    A user file that cannot be read is reported and the seed is published in its place, so a bad
    optional setting never stops the comparison or anything after it.
    """
    problem = None
    if path:
        try:
            _write_benchmarks(con, layout, Path(path))
        except (duckdb.Error, OSError) as error:
            problem = f"NPS_BENCHMARKS_FILE {path}: {str(error).splitlines()[0]}; the shipped seed is used instead"
    if not path or problem:
        _write_benchmarks(con, layout, SEED_FILE)
    published = con.sql(sql("select_benchmark_industries"), params={"file": str(layout.table_file("industry_benchmarks"))})
    industries = [industry for (industry,) in published.fetchall()]
    return industries, problem


def _write_benchmarks(con, layout: WarehouseLayout, source: Path) -> None:
    if not source.is_file():
        raise FileNotFoundError(f"no such file {source}")
    relation = con.sql(sql("select_industry_benchmarks"), params={"path": str(source)})
    write_relation_file(relation, layout.table_file("industry_benchmarks"), layout.tmp)


def materialise_nps_benchmark_comparison(con, layout: WarehouseLayout, days: list[dt.date], industry: str) -> dict[dt.date, int]:
    """Every overall window ending where this run's windows end, beside the configured industry's benchmarks."""
    ends = aggregate.window_end_days(days)
    relation = con.sql(
        sql("select_nps_benchmark_comparison"),
        params={
            "windows": layout.table_files_for_days("nps_windows", ends),
            "benchmarks": str(layout.table_file("industry_benchmarks")),
            "industry": industry,
        },
    )
    return replace_days(relation, layout, "nps_benchmark_comparison", ends)
