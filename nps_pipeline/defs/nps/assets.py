"""NPS: responses (deduplicated, themes), the daily facts, windows, weighting and benchmarks."""

import dagster as dg
import polars as pl

from nps_pipeline.defs.nps import aggregate, benchmarks, dedupe
from nps_pipeline.defs.serve import report
from nps_pipeline.defs.nps.themes import Lexicon, LexiconError, load_lexicon
from nps_pipeline.defs.serve.charts import markdown_image
from nps_pipeline.resources import NpsPipelineResource
from nps_pipeline.storage import sql
from nps_pipeline.defs.nps.weighting import WeightingFileError, load_population
from nps_pipeline.defs.shared import (
    scope,
    CROSS_DAY,
    DAILY,
    timed,
    latest_windows,
    markdown_preview,
    window_label,
    configured_or_shipped,
    setting_check,
)
from nps_pipeline.defs.ingest.assets import validated_responses, quarantine


def _lexicon(nps: NpsPipelineResource) -> tuple[Lexicon, str | None]:
    """The configured theme lexicon, or the shipped one with the reason the configured one failed."""
    return configured_or_shipped(
        nps.lexicon, load_lexicon, (LexiconError,), "NPS_THEME_LEXICON_FILE: {error}; the shipped lexicon is used instead"
    )


def _nps_summary(frame: pl.DataFrame) -> dict:
    responses_total = int(frame["responses"].sum()) if not frame.is_empty() else 0
    promoters = int(frame["promoters"].sum()) if responses_total else 0
    detractors = int(frame["detractors"].sum()) if responses_total else 0
    return {
        "responses": responses_total,
        "nps": round(100.0 * (promoters - detractors) / responses_total, 2) if responses_total else None,
    }


@dg.asset(
    group_name="nps",
    kinds={"duckdb", "polars", "parquet"},
    deps=[validated_responses, quarantine],
    check_specs=[
        dg.AssetCheckSpec(
            "theme_lexicon_valid",
            asset="responses",
            description="NPS_THEME_LEXICON_FILE, when set, can be read (else the shipped lexicon is used).",
        )
    ],
    **DAILY,
)
@timed
def responses(context: dg.AssetExecutionContext, nps: NpsPipelineResource) -> dg.MaterializeResult:
    """Responses: one row per distinct valid response, the latest version of each response_id, classified, with language and themes."""
    layout, days = scope(context, nps)
    lexicon, problem = _lexicon(nps)
    if problem:
        context.log.error(problem)
    with nps.writing() as con:
        key = dedupe.pseudonym_key(layout, nps.pseudonym_key)
        kept, duplicates = dedupe.materialise_responses(con, layout, days, key, lexicon)
        superseded = dedupe.superseded_in(con, layout, days)
    return dg.MaterializeResult(
        metadata={
            "window": window_label(days),
            "rows_in": sum(kept.values()) + superseded,
            "rows": sum(kept.values()),
            "duplicates_superseded": superseded,
            "duplicates_quarantined_later_versions": sum(duplicates.values()) - superseded,
            "days_with_responses": sum(1 for n in kept.values() if n),
            "theme_lexicon": ", ".join(lexicon.sources),
        },
        check_results=[
            setting_check(
                "theme_lexicon_valid", problem,
                f"{lexicon.terms.height} terms for {len(lexicon.themes)} themes from {', '.join(lexicon.sources)}",
            )
        ],
    )


@dg.asset(group_name="nps", kinds={"duckdb", "parquet"}, deps=[responses], **DAILY)
@timed
def nps_daily(context: dg.AssetExecutionContext, nps: NpsPipelineResource) -> dg.MaterializeResult:
    """Daily NPS: the day's score counts, NPS with adjusted-Wald 95 % bounds overall and by segment, and comment themes.

    Writes the per-day aggregate tables: ``nps_score_counts_daily`` (responses per day, segment and
    score 0-10, the additive facts every NPS figure sums), ``nps_daily``, ``nps_daily_segment`` and
    ``nps_themes_daily``. Its metadata repeats on every day of a range, so it is numbers only: the
    pictures are on ``nps_windows`` and ``nps_report``.
    """
    layout, days = scope(context, nps)
    lexicon, _ = _lexicon(nps)
    with nps.writing() as con:
        counts = aggregate.materialise_nps_score_counts_daily(con, layout, days, nps.attribute_dimensions)
        aggregate.materialise_nps_daily(con, layout, days, nps.low_sample_threshold)
        segments = aggregate.materialise_nps_daily_segment(con, layout, days, nps.low_sample_threshold)
        themes = aggregate.materialise_nps_themes_daily(con, layout, days, lexicon.themes)
        frame = con.sql(sql("select_nps_daily_days"), params={"files": layout.table_files_for_days("nps_daily", days)}).pl()
    summary = _nps_summary(frame)
    return dg.MaterializeResult(
        metadata={
            "window": window_label(days),
            "rows_out": frame.height,
            "score_count_rows": sum(counts.values()),
            "segment_rows": sum(segments.values()),
            "theme_rows": sum(themes.values()),
            "responses": summary["responses"],
            "nps_for_window": summary["nps"] if summary["nps"] is not None else dg.MetadataValue.null(),
            "attribute_dimensions": ", ".join(nps.attribute_dimensions) or "none (set NPS_SEGMENT_ATTRIBUTES)",
        }
    )


@dg.asset(group_name="nps", kinds={"duckdb", "parquet"}, deps=[nps_daily], **CROSS_DAY)
@timed
def nps_windows(context: dg.AssetExecutionContext, nps: NpsPipelineResource) -> dg.MaterializeResult:
    """NPS windows: trailing 7/28/90 days and calendar weeks, months, quarters per segment, with bounds and change tests."""
    layout, days = scope(context, nps)
    with nps.writing() as con:
        written = aggregate.materialise_nps_windows(con, layout, days, nps.low_sample_threshold)
        frame = latest_windows(con, nps, "nps_windows", "select_window_overview", written, days[-1])
        with report.report_sources(con, layout, days[-1], ("nps_windows", "nps_daily")) as sources:
            charts = report.charts_for(con, sources)
    latest_28 = frame.filter(pl.col("window_type") == "trailing_28d")
    latest_nps = latest_28["nps"][0] if not latest_28.is_empty() else None
    return dg.MaterializeResult(
        metadata={
            "window": window_label(days),
            "rows": sum(written.values()),
            # A number, so the UI's Plots tab draws it across materialisations.
            "nps_trailing_28d": float(latest_nps) if latest_nps is not None else dg.MetadataValue.null(),
            "window_ends_replaced": f"{min(written)}..{max(written)}",
            "low_sample_threshold": nps.low_sample_threshold,
            "latest_windows": dg.MetadataValue.md(markdown_preview(frame)),
            "trend": dg.MetadataValue.md(markdown_image(charts.trend, "NPS trend")),
            "segments": dg.MetadataValue.md(markdown_image(charts.segments, "NPS by segment")),
        }
    )


@dg.asset(
    group_name="nps",
    kinds={"duckdb", "parquet"},
    deps=[responses, nps_daily],
    check_specs=[
        dg.AssetCheckSpec(
            "weighting_file_valid",
            asset="nps_windows_weighted",
            description="The population file named by NPS_WEIGHTING_FILE can be read and used.",
        )
    ],
    **CROSS_DAY,
)
@timed
def nps_windows_weighted(context: dg.AssetExecutionContext, nps: NpsPipelineResource) -> dg.MaterializeResult:
    """Weighted NPS: each window's overall NPS post-stratified to population shares, beside the unweighted one."""
    layout, days = scope(context, nps)
    population, problem = None, None
    if nps.weighting_file:
        try:
            population = load_population(nps.weighting_file)
        except WeightingFileError as error:
            problem = str(error)
            context.log.error(problem)
    with nps.writing() as con:
        written = aggregate.materialise_nps_windows_weighted(con, layout, days, population, nps.low_sample_threshold)
        frame = latest_windows(con, nps, "nps_windows_weighted", "select_weighted_window_overview", written, days[-1])
    widest = frame.filter(pl.col("window_type") == "trailing_90d")
    if population and not widest.is_empty() and widest["responses"][0] and widest["outside_population"][0] == widest["responses"][0]:
        problem = (
            f"no response of the 90 days to {widest['window_end'][0]} falls in a cell of {nps.weighting_file} "
            f"(strata {', '.join(population.strata)}): check the column names and values"
        )
        context.log.error(problem)
    check = setting_check(
        "weighting_file_valid", problem,
        f"weighted by {population.description}" if population else "no NPS_WEIGHTING_FILE set: unweighted only",
    )
    return dg.MaterializeResult(
        metadata={
            "window": window_label(days),
            "rows": sum(written.values()),
            "weighting": population.description if population else (problem or "not configured (NPS_WEIGHTING_FILE)"),
            "latest_windows": dg.MetadataValue.md(markdown_preview(frame)),
        },
        check_results=[check],
    )


@dg.asset(
    group_name="nps",
    kinds={"duckdb", "parquet"},
    deps=[nps_windows],
    check_specs=[
        dg.AssetCheckSpec(
            "benchmark_industry_known",
            asset="nps_benchmark_comparison",
            description="NPS_BENCHMARK_INDUSTRY names an industry of the benchmarks table.",
        ),
        dg.AssetCheckSpec(
            "benchmarks_file_readable",
            asset="nps_benchmark_comparison",
            description="NPS_BENCHMARKS_FILE, when set, can be read (else the shipped seed is used).",
        ),
    ],
    **CROSS_DAY,
)
@timed
def nps_benchmark_comparison(context: dg.AssetExecutionContext, nps: NpsPipelineResource) -> dg.MaterializeResult:
    """Benchmark comparison: overall NPS per window beside published figures for the configured industry."""
    layout, days = scope(context, nps)
    with nps.writing() as con:
        industries, file_problem = benchmarks.materialise_industry_benchmarks(con, layout, nps.benchmarks_file)
        written = benchmarks.materialise_nps_benchmark_comparison(con, layout, days, nps.benchmark_industry)
        latest = latest_windows(con, nps, "nps_benchmark_comparison", "select_benchmark_overview", written, days[-1])
    known = nps.benchmark_industry.strip().lower() in {i.lower() for i in industries}
    if file_problem:
        context.log.error(file_problem)
    unknown = (
        f"NPS_BENCHMARK_INDUSTRY {nps.benchmark_industry!r} is not in the benchmarks; known: {'; '.join(industries)}"
        if nps.benchmark_industry and not known
        else None
    )
    in_use = f"compared with {nps.benchmark_industry}" if nps.benchmark_industry else "no NPS_BENCHMARK_INDUSTRY set: nothing compared"
    return dg.MaterializeResult(
        metadata={
            "window": window_label(days),
            "industry": nps.benchmark_industry or "not configured (NPS_BENCHMARK_INDUSTRY)",
            "rows": sum(written.values()),
            "latest": dg.MetadataValue.md(markdown_preview(latest)),
        },
        check_results=[
            setting_check("benchmark_industry_known", unknown, in_use, industries=industries),
            setting_check("benchmarks_file_readable", file_problem, f"benchmarks from {nps.benchmarks_file or 'the shipped seed'}"),
        ],
    )
