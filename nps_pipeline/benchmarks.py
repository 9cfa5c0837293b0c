"""Benchmarks: the shipped seed of published industry NPS figures, and the user's NPS compared with its industry."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from nps_pipeline import aggregate
from nps_pipeline.storage import WarehouseLayout, replace_days, sql, write_relation_file

SEED_FILE = Path(__file__).resolve().parent.parent / "data" / "seeds" / "industry_nps_benchmarks.csv"


def materialise_industry_benchmarks(con: duckdb.DuckDBPyConnection, layout: WarehouseLayout, path: str | Path | None) -> list[str]:
    """Publish the benchmark seed (or the user's own file of the same layout); returns its industries."""
    source = Path(path) if path else SEED_FILE
    if not source.is_file():
        raise FileNotFoundError(f"benchmarks file {source}: no such file")
    write_relation_file(con.sql(sql("select_industry_benchmarks"), params={"path": str(source)}), layout.table_file("industry_benchmarks"), layout.tmp)
    return [
        industry
        for (industry,) in con.sql(
            "SELECT DISTINCT industry FROM read_parquet(?) ORDER BY industry", params=[str(layout.table_file("industry_benchmarks"))]
        ).fetchall()
    ]


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
