"""The analytics layer end to end: windows, change tests, weighting, benchmarks, pictures and the report."""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl
import pytest

from nps_pipeline.defs.nps.weighting import WeightingFileError, load_population
from tests.conftest import HEADER, Pipeline

ATTRIBUTE_HEADER = HEADER + ",plan"


def export(rows: list[tuple[str, str, int, str, str, str]]) -> str:
    """Canonical CSV rows: (response_id, day, score, channel, region, plan)."""
    lines = [ATTRIBUTE_HEADER]
    for response_id, day, score, channel, region, plan in rows:
        lines.append(f"{response_id},{day}T12:00:00Z,{score},,c-{response_id},,{channel},{region},Pro,support,gold,en,{plan}")
    return "\n".join(lines) + "\n"


def two_months() -> list[tuple]:
    """January 2024: 5 responses a day, NPS 0 (2 promoters, 1 passive, 2 detractors). February: 5 a day, NPS 40."""
    rows = []
    for offset in range(60):
        day = dt.date(2024, 1, 1) + dt.timedelta(days=offset)
        scores = [10, 9, 8, 3, 0] if day.month == 1 else [10, 10, 9, 8, 0]
        for i, score in enumerate(scores):
            rows.append((f"r{offset}-{i}", day.isoformat(), score, "web" if i % 2 else "email", "EMEA", "basic" if i < 3 else "plus"))
    return rows


@pytest.fixture(scope="module")
def windows_run(tmp_path_factory):
    pipeline = Pipeline(tmp_path_factory.mktemp("windows"), segment_attributes="plan", low_sample_threshold=50)
    pipeline.land("two_months.csv", export(two_months()))
    result = pipeline.run("2024-01-01", "2024-02-29")
    assert result.success
    return pipeline, result


def overall(frame: pl.DataFrame, window_type: str) -> pl.DataFrame:
    return frame.filter((pl.col("dimension") == "overall") & (pl.col("window_type") == window_type)).sort("window_end")


def test_calendar_months_sum_days_and_flag_a_significant_move(windows_run):
    pipeline, _ = windows_run
    months = overall(pipeline.table("nps_windows"), "month")
    assert months.select("window_start", "window_end", "responses", "promoters", "detractors", "nps").rows() == [
        (dt.date(2024, 1, 1), dt.date(2024, 1, 31), 155, 62, 62, 0.0),
        (dt.date(2024, 2, 1), dt.date(2024, 2, 29), 145, 87, 29, 40.0),
    ]
    february = months.row(1, named=True)
    assert february["previous_start"] == dt.date(2024, 1, 1) and february["previous_end"] == dt.date(2024, 1, 31)
    assert february["previous_nps"] == 0.0 and february["nps_change"] == 40.0
    assert february["significant_change"] and february["change_p_value"] < 0.001
    assert february["complete"] and february["days_covered"] == 29
    assert february["margin_of_error"] == pytest.approx((february["nps_ci_high"] - february["nps_ci_low"]) / 2, abs=1e-9)
    # January has nothing before it: no test, no flag.
    assert months.row(0, named=True)["change_p_value"] is None and not months.row(0, named=True)["significant_change"]


def test_trailing_windows_and_low_sample_flag(windows_run):
    pipeline, _ = windows_run
    windows = pipeline.table("nps_windows")
    seven = overall(windows, "trailing_7d").filter(pl.col("window_end") == dt.date(2024, 2, 3)).row(0, named=True)
    # 28 Jan..3 Feb: 4 January days (NPS 0) and 3 February days (NPS 60).
    assert (seven["window_start"], seven["responses"], seven["promoters"], seven["detractors"]) == (dt.date(2024, 1, 28), 35, 17, 11)
    assert seven["low_sample"]  # 35 < NPS_LOW_SAMPLE_THRESHOLD=50 here
    assert not overall(windows, "trailing_28d").filter(pl.col("window_end") == dt.date(2024, 2, 3))["low_sample"][0]
    # Overlapping trailing windows are never tested against each other: the previous 7 days end the day before.
    assert (seven["previous_start"], seven["previous_end"]) == (dt.date(2024, 1, 21), dt.date(2024, 1, 27))
    # Every day of the range ends one window of each trailing kind; weeks are ISO weeks, quarters calendar ones.
    assert overall(windows, "trailing_90d").height == 60
    weeks = overall(windows, "week")
    assert weeks["window_start"].dt.weekday().unique().to_list() == [1]
    quarter = overall(windows, "quarter").row(0, named=True)
    assert (quarter["window_end"], quarter["complete"], quarter["days_covered"]) == (dt.date(2024, 3, 31), False, 60)


def test_windows_cover_every_dimension_including_configured_attributes(windows_run):
    pipeline, _ = windows_run
    months = pipeline.table("nps_windows").filter((pl.col("window_type") == "month") & (pl.col("window_end") == dt.date(2024, 2, 29)))
    assert set(months["dimension"]) == {"overall", "channel", "region", "product", "touchpoint", "customer_tier", "language", "attribute:plan"}
    plan = months.filter(pl.col("dimension") == "attribute:plan").sort("segment")
    # February: basic = scores 10, 10, 9 each day; plus = 8, 0.
    assert plan.select("segment", "responses", "nps").rows() == [("basic", 87, 100.0), ("plus", 58, -50.0)]


def test_published_views_and_macros_for_bi(windows_run):
    pipeline, _ = windows_run
    with duckdb.connect(str(pipeline.warehouse / "nps.duckdb"), read_only=True) as con:
        assert con.sql("SELECT count(*) FROM nps_windows WHERE window_type = 'month' AND dimension = 'overall'").fetchall() == [(2,)]
        low, high = con.sql("SELECT nps_adjusted_wald_bound(50, 20, 100, -1), nps_adjusted_wald_bound(50, 20, 100, 1)").fetchall()[0]
        assert (round(low, 2), round(high, 2)) == (14.05, 44.2)
        assert con.sql("SELECT count(*) FROM industry_benchmarks").fetchall() == [(25,)]
    daily = pipeline.table("nps_daily")
    assert {"margin_of_error", "low_sample"} <= set(daily.columns)


def test_pictures_in_the_ui_and_the_static_report(windows_run):
    pipeline, result = windows_run
    metadata = {}
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        metadata[materialization.asset_key.to_user_string()] = materialization.metadata
    # The pictures are on the cross-day assets: a daily asset's metadata repeats on every day of a range.
    shown = {
        "nps_windows": ("trend", "segments"),
        "nps_report": ("trend", "segments"),
    }
    for asset, keys in shown.items():
        for key in keys:
            assert "data:image/svg+xml;base64," in metadata[asset][key].value
    # February 2 to 29 (28 days): 3 promoters and 1 detractor a day, NPS 40.
    assert metadata["nps_windows"]["nps_trailing_28d"].value == pytest.approx(40.0)
    report = (pipeline.warehouse / "report.html").read_text(encoding="utf-8")
    assert report.count("<svg") == 2
    assert "Net Promoter Score to 2024-02-29" in report and "attribute:plan" in report


def test_a_late_file_updates_every_window_it_falls_in(tmp_path):
    rows = two_months()
    late = [(f"late{i}", "2024-01-25", 0, "web", "NA", "basic") for i in range(20)]
    # Weighted by region: the re-run day's respondent cells are derived again, the others' kept.
    population = tmp_path / "population.csv"
    population.write_text("region,population_share\nEMEA,60\nNA,40\n", encoding="utf-8")
    incremental = Pipeline(tmp_path / "incremental", weighting_file=str(population))
    incremental.land("two_months.csv", export(rows))
    assert incremental.run("2024-01-01", "2024-02-29").success
    incremental.land("late.csv", export(late))
    assert incremental.run("2024-01-25").success

    full = Pipeline(tmp_path / "full", weighting_file=str(population))
    full.land("two_months.csv", export(rows))
    full.land("late.csv", export(late))
    assert full.run("2024-01-01", "2024-02-29").success

    order = "window_end, window_type, dimension, segment"
    assert incremental.table("nps_windows", order).equals(full.table("nps_windows", order))
    weighted = incremental.table("nps_windows_weighted", "window_end, window_type")
    assert weighted.equals(full.table("nps_windows_weighted", "window_end, window_type"))
    late_week = weighted.filter((pl.col("window_type") == "trailing_7d") & (pl.col("window_end") == dt.date(2024, 1, 25))).row(0, named=True)
    # 35 EMEA responses at NPS 0 and 20 NA detractors, weighted 60/40: 0.6 * 0 + 0.4 * -100.
    assert late_week["responses"] == 55 and late_week["weighted_nps"] == pytest.approx(-40.0)
    # The late detractors moved the trailing 28 days ending 20 February, a day the re-run did not name.
    moved = overall(incremental.table("nps_windows"), "trailing_28d").filter(pl.col("window_end") == dt.date(2024, 2, 20))
    assert moved["responses"][0] == 28 * 5 + 20


def test_weighted_nps_and_benchmark_comparison(tmp_path):
    population = tmp_path / "population.csv"
    population.write_text("region,population_share\nEMEA,50\nNA,50\nAPAC,0\n", encoding="utf-8")
    pipeline = Pipeline(tmp_path, weighting_file=str(population), benchmark_industry="software & saas")
    # The hand-worked example of tests/test_statistics_reference.py: weighted NPS -1.25 on n_eff = 64.
    scores = [("EMEA", s) for s in [10] * 40 + [8] * 30 + [3] * 10] + [("NA", s) for s in [9] * 2 + [7] * 8 + [0] * 10]
    pipeline.land("w.csv", export([(f"w{i}", "2024-05-02", score, "web", region, "basic") for i, (region, score) in enumerate(scores)]))
    result = pipeline.run("2024-05-02")
    assert result.success
    weighted = pipeline.table("nps_windows_weighted").filter(pl.col("window_type") == "trailing_7d").row(0, named=True)
    assert weighted["nps"] == pytest.approx(22.0) and weighted["weighted_nps"] == pytest.approx(-1.25)
    assert weighted["effective_sample_size"] == pytest.approx(64.0) and weighted["strata"] == "region"
    assert weighted["population_share_covered"] == pytest.approx(1.0)
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert checks["weighting_file_valid"].passed and checks["benchmark_industry_known"].passed

    comparison = pipeline.table("nps_benchmark_comparison").filter(pl.col("window_type") == "month").row(0, named=True)
    assert (comparison["industry"], comparison["benchmark_nps"], comparison["benchmark_publisher"]) == ("Software & SaaS", 40.0, "Retently")
    assert comparison["benchmark_year"] == "2022" and comparison["benchmark_method"] == "platform customers' own surveys"
    assert comparison["benchmark_provenance"] == "secondary" and comparison["latest_benchmark"]
    # NPS 22 [6.9, 36.1] on 100 responses: the benchmark of 40 lies above the interval.
    assert comparison["comparison"] == "below benchmark" and comparison["difference"] == pytest.approx(-18.0)
    assert "Retently" in comparison["statement"] and "2022" in comparison["statement"]


def test_a_broken_weighting_file_and_an_unknown_industry_are_named(tmp_path):
    population = tmp_path / "population.csv"
    population.write_text("region,population_share\nEMEA,abc\nNA,0.5\nNA,0.2\n", encoding="utf-8")
    pipeline = Pipeline(tmp_path, weighting_file=str(population), benchmark_industry="Spaceflight")
    pipeline.land("a.csv", export([("a1", "2024-05-02", 10, "web", "EMEA", "basic")]))
    result = pipeline.run("2024-05-02")
    assert result.success  # the other tables are still published
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    weighting = checks["weighting_file_valid"]
    assert not weighting.passed
    assert "row 1: population_share 'abc' is not a number" in weighting.description
    assert "rows 2, 3: the cell region=NA is given more than once" in weighting.description
    industry = checks["benchmark_industry_known"]
    assert not industry.passed and "'Spaceflight' is not in the benchmarks" in industry.description
    assert "Software & SaaS" in industry.description
    assert pipeline.table("nps_windows_weighted")["weighted_nps"].is_null().all()
    assert pipeline.table("nps_benchmark_comparison").is_empty()


def test_a_population_file_that_matches_no_response_is_named(tmp_path):
    population = tmp_path / "population.csv"
    population.write_text("regoin,population_share\nEMEA,1\n", encoding="utf-8")
    pipeline = Pipeline(tmp_path, weighting_file=str(population))
    pipeline.land("a.csv", export([("a1", "2024-05-02", 10, "web", "emea ", "basic"), ("a2", "2024-05-02", 0, "web", "EMEA", "basic")]))
    result = pipeline.run("2024-05-02")
    check = {e.check_name: e for e in result.get_asset_check_evaluations()}["weighting_file_valid"]
    assert not check.passed and "no response of the 90 days to 2024-05-02 falls in a cell" in check.description
    assert "strata regoin" in check.description


def test_population_cells_match_case_and_spaces_insensitively(tmp_path):
    population = tmp_path / "population.csv"
    population.write_text("region,population_share\nEMEA,1\n", encoding="utf-8")
    pipeline = Pipeline(tmp_path, weighting_file=str(population))
    pipeline.land("a.csv", export([("a1", "2024-05-02", 10, "web", "emea ", "basic"), ("a2", "2024-05-02", 0, "web", "EMEA", "basic")]))
    assert pipeline.run("2024-05-02").success
    row = pipeline.table("nps_windows_weighted").filter(pl.col("window_type") == "trailing_7d").row(0, named=True)
    assert row["responses_weighted"] == 2 and row["responses_outside_population"] == 0


def test_a_users_benchmark_file_is_used_and_a_broken_one_falls_back_to_the_seed(tmp_path):
    own = tmp_path / "own.csv"
    # Columns in another order than the seed's: matched by name.
    own.write_text(
        "industry,nps,publisher,study,published,fieldwork,region,segment,method,n_respondents,n_companies,provenance\n"
        "Spaceflight,55,Example Research,Orbit Study,2025-01,2024,global,B2B,client survey,1200,,primary\n",
        encoding="utf-8",
    )
    pipeline = Pipeline(tmp_path / "own", benchmarks_file=str(own), benchmark_industry="Spaceflight")
    pipeline.land("a.csv", export([("a1", "2024-05-02", 10, "web", "EMEA", "basic")]))
    result = pipeline.run("2024-05-02")
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert checks["benchmarks_file_readable"].passed and checks["benchmark_industry_known"].passed
    row = pipeline.table("nps_benchmark_comparison").filter(pl.col("window_type") == "month").row(0, named=True)
    assert (row["benchmark_nps"], row["benchmark_publisher"], row["benchmark_respondents"]) == (55.0, "Example Research", 1200)

    broken = tmp_path / "broken.csv"
    broken.write_text("industry,score\nSpaceflight,55\n", encoding="utf-8")
    pipeline = Pipeline(tmp_path / "broken", benchmarks_file=str(broken), benchmark_industry="Software & SaaS")
    pipeline.land("a.csv", export([("a1", "2024-05-02", 10, "web", "EMEA", "basic")]))
    result = pipeline.run("2024-05-02")
    assert result.success
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert not checks["benchmarks_file_readable"].passed
    assert str(broken) in checks["benchmarks_file_readable"].description
    assert "the shipped seed is used instead" in checks["benchmarks_file_readable"].description
    assert checks["benchmark_industry_known"].passed
    assert pipeline.table("industry_benchmarks").height == 25


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("region,share\nEMEA,1\n", "needs exactly one of the columns population_share, population"),
        ("population\n10\n", "no stratum column"),
        ("region,population\n", "no rows"),
        ("region,population\nEMEA,-1\n", "row 1: population -1.0 is negative"),
        ("region,tier,population\nEMEA,,3\n", "row 1: tier is empty"),
        ("region,population\nEMEA,0\n", "add up to 0.0"),
        ("region,population\nEMEA,1\nemea,2\n", "rows 1, 2: the cell region=EMEA is given more than once"),
        ("dimension,segment,population\nregion,EMEA,1\nregion,emea,2\n", "rows 1, 2: the value EMEA of region is given more than once"),
        ("dimension,segment,population\nregion,EMEA,0\ntier,gold,1\n", "the shares of region add up to 0.0"),
    ],
)
def test_population_file_rules(tmp_path, text, message):
    path = tmp_path / "population.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(WeightingFileError, match=str(path)) as raised:
        load_population(path)
    assert message in str(raised.value)


def test_raking_to_margins_in_the_pipeline(tmp_path):
    population = tmp_path / "margins.csv"
    population.write_text(
        "dimension,segment,population_share\nregion,EMEA,50\nregion,NA,50\nplan,basic,0.5\nplan,plus,0.5\n", encoding="utf-8"
    )
    loaded = load_population(population)
    assert (loaded.method, loaded.strata) == ("margins", ["region", "plan"])
    assert "raked to the margins of region, plan" in loaded.description
    pipeline = Pipeline(tmp_path, weighting_file=str(population))
    rows = [(f"m{i}", "2024-05-02", 10 if i < 30 else 0, "web", "EMEA" if i < 60 else "NA", "basic" if i % 2 else "plus") for i in range(80)]
    pipeline.land("m.csv", export(rows))
    result = pipeline.run("2024-05-02")
    assert result.success
    assert {e.check_name: e for e in result.get_asset_check_evaluations()}["weighting_file_valid"].passed
    row = pipeline.table("nps_windows_weighted").filter(pl.col("window_type") == "trailing_7d").row(0, named=True)
    # EMEA (60 responses, NPS 0) and NA (20, NPS -100) weighted half and half: -50; plan is balanced already.
    assert row["nps"] == pytest.approx(-25.0) and row["weighted_nps"] == pytest.approx(-50.0)
    assert row["weighting_method"] == "margins" and row["strata"] == "region, plan"


def test_population_file_is_normalised_and_missing_file_named(tmp_path):
    path = tmp_path / "population.csv"
    path.write_text("region,customer_tier,population\nEMEA,gold,30\nNA,free,10\n", encoding="utf-8")
    population = load_population(path)
    assert population.strata == ["region", "customer_tier"]
    assert [c["share"] for c in population.shares] == [0.75, 0.25]
    with pytest.raises(WeightingFileError, match="no such file"):
        load_population(tmp_path / "missing.csv")
