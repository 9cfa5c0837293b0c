"""Serve: the HTML report and the published nps.duckdb."""

import dagster as dg

from nps_pipeline import tables
from nps_pipeline.defs.serve import report, publish as serve
from nps_pipeline.defs.serve.charts import markdown_image
from nps_pipeline.resources import NpsPipelineResource
from nps_pipeline.defs.nps.weighting import WeightingFileError, load_population
from nps_pipeline.defs.shared import CROSS_DAY, timed
from nps_pipeline.defs.nps.assets import (
    nps_daily,
    nps_windows,
    nps_windows_weighted,
    nps_benchmark_comparison,
)


def _weighting_label(nps: NpsPipelineResource) -> str:
    if not nps.weighting_file:
        return "No population file is configured (NPS_WEIGHTING_FILE): weighted columns are empty."
    try:
        return f"Post-stratified by {load_population(nps.weighting_file).description}."
    except WeightingFileError as error:
        return f"Not weighted: {error}"


@dg.asset(
    group_name="serve",
    kinds={"html"},
    deps=[nps_daily, nps_windows, nps_windows_weighted, nps_benchmark_comparison],
    **CROSS_DAY,
)
@timed
def nps_report(context: dg.AssetExecutionContext, nps: NpsPipelineResource) -> dg.MaterializeResult:
    """NPS report: a static HTML page with the trend, segments, changes, weighting and benchmark, beside the warehouse."""
    layout = nps.layout
    as_of = layout.newest_day("nps_daily")
    if as_of is None:
        return dg.MaterializeResult(metadata={"path": "no day materialised yet"})
    with nps.writing() as con:
        with report.report_sources(con, layout, as_of) as sources:
            charts = report.charts_for(con, sources)
            path = report.write_report(con, layout, sources, nps.low_sample_threshold, _weighting_label(nps), charts)
    context.log.info(f"wrote {path} (as of {as_of})")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "as_of": as_of.isoformat(),
            "trend": dg.MetadataValue.md(markdown_image(charts.trend, "NPS trend")),
            "segments": dg.MetadataValue.md(markdown_image(charts.segments, "NPS by segment")),
        }
    )


@dg.asset(
    group_name="serve",
    kinds={"duckdb"},
    # Every asset that writes a published table (tables.TABLES).
    deps=[dg.AssetKey(owner) for owner in tables.OWNERS],
    **CROSS_DAY,
)
@timed
def published_warehouse(context: dg.AssetExecutionContext, nps: NpsPipelineResource) -> dg.MaterializeResult:
    """Published nps.duckdb: views over every table, swapped in atomically for BI tools to read."""
    layout = nps.layout
    with layout.writer_lock():
        tables, snapshot = serve.publish(layout)
        pushed = nps.push_warehouse(tables)
    context.log.info(f"published {layout.published_db}: views {', '.join(tables)} over snapshot {snapshot.name}")
    if pushed is not None:
        context.log.info(f"uploaded to {nps.warehouse_dir}: {pushed['uploaded']} changed file(s), {pushed['deleted']} deleted, and nps_views.sql")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(layout.published_db)),
            "snapshot": snapshot.name,
            **({"uploaded_files": pushed["uploaded"], "bucket": nps.warehouse_dir} if pushed is not None else {}),
            "tables": ", ".join(tables),
        }
    )
