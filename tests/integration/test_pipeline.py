"""The asset graph end to end with dg.materialize: one day, a range, idempotence, late files."""

import datetime as dt
import os
import time
from pathlib import Path

import polars as pl
import pytest

from nps_pipeline.sample_data import write_landing_zone
from tests.conftest import HEADER, Pipeline, rows_csv


def test_one_partition(pipeline):
    pipeline.land(
        "a.csv",
        rows_csv(
            "r1,2024-03-01T10:00:00Z,10,great,c1,one@example.com,email,EMEA,Pro,support,gold,en",
            "r2,2024-03-01T11:00:00Z,8,ok,c2,two@example.com,web,NA,Pro,support,free,es",
            "r3,2024-03-01T12:00:00Z,2,bad,c3,three@example.com,web,NA,Starter,purchase,enterprise,fr",
            "r4,2024-03-02T12:00:00Z,2,next day,c4,four@example.com,web,NA,Starter,purchase,free,fr",
        ),
    )
    result = pipeline.run("2024-03-01")
    assert result.success
    daily = pipeline.table("nps_daily")
    assert daily.select("response_date", "responses", "promoters", "passives", "detractors", "nps", "low_sample").rows() == [
        (dt.date(2024, 3, 1), 3, 1, 1, 1, 0.0, True)
    ]
    assert daily["nps_ci_low"][0] < 0 < daily["nps_ci_high"][0]
    responses = pipeline.table("responses", "response_id")
    assert responses["response_id"].to_list() == ["r1", "r2", "r3"]
    assert responses["category"].to_list() == ["promoter", "passive", "detractor"]
    # Personal data: no email in analytical tables, a stable pseudonymous key instead.
    assert "email" not in responses.columns
    assert responses["respondent_key"].null_count() == 0
    assert not any("example.com" in str(v) for v in responses.rows())
    followups = pipeline.table("detractor_followups")
    assert followups.select("response_id", "email", "priority", "status").rows() == [("r3", "three@example.com", "P1", "open")]
    assert followups["due_at"][0] - followups["submitted_at"][0] == dt.timedelta(hours=24)
    segment = pipeline.table("nps_daily_segment", "dimension, segment")
    channel = segment.filter(pl.col("dimension") == "channel")
    assert channel.select("segment", "responses", "nps").rows() == [("email", 1, 100.0), ("web", 2, -50.0)]
    assert set(segment["dimension"]) == {"channel", "region", "product", "touchpoint", "customer_tier", "language"}


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    pipeline = Pipeline(
        tmp_path_factory.mktemp("demo"),
        weighting_file=str(Path(__file__).resolve().parents[2] / "data" / "seeds" / "demo_population_shares.csv"),
        benchmark_industry="Software & SaaS",
    )
    write_landing_zone(pipeline.landing, responses=3000, days=30, end_date=dt.date(2024, 3, 30), seed=3)
    assert pipeline.run("2024-03-01", "2024-03-30").success
    return pipeline


TABLES = (
    "responses", "nps_score_counts_daily", "nps_daily", "nps_daily_segment", "detractor_followups", "quarantine",
    "ingest_files", "duplicates", "nps_windows", "nps_windows_weighted", "nps_benchmark_comparison",
)
ORDER = {
    "responses": "response_id",
    "nps_score_counts_daily": "response_date, dimension, segment, score",
    "nps_daily": "response_date",
    "nps_daily_segment": "response_date, dimension, segment",
    "detractor_followups": "response_id",
    "quarantine": "source_file, source_row",
    "ingest_files": "source_file",
    "duplicates": "source_file, source_row",
    "nps_windows": "window_end, window_type, dimension, segment",
    "nps_windows_weighted": "window_end, window_type",
    "nps_benchmark_comparison": "window_end, window_type, benchmark_publisher, benchmark_study",
}


def snapshot(pipeline):
    return {t: pipeline.table(t, ORDER[t]).drop("ingested_at", strict=False) for t in TABLES}


def test_a_range_is_one_run_and_covers_every_day(demo_run):
    daily = demo_run.table("nps_daily", "response_date")
    assert daily.height == 30
    assert daily["response_date"].to_list() == [dt.date(2024, 3, 1) + dt.timedelta(days=i) for i in range(30)]
    responses = demo_run.table("responses")
    assert responses["response_id"].is_unique().all()
    assert int(daily["responses"].sum()) == responses.height


def test_every_row_is_accounted_for(demo_run):
    files = demo_run.table("ingest_files")
    assert (files["rows_read"] == files["rows_valid"] + files["rows_duplicate"] + files["rows_quarantined"]).all()
    assert int(files["rows_valid"].sum()) == demo_run.table("responses").height
    assert int(files["rows_duplicate"].sum()) == demo_run.table("duplicates").height > 0
    assert int(files["rows_quarantined"].sum()) == demo_run.table("quarantine").height > 0


def test_rerunning_the_range_gives_identical_tables(demo_run):
    before = snapshot(demo_run)
    assert demo_run.run("2024-03-01", "2024-03-30").success
    after = snapshot(demo_run)
    for table in TABLES:
        assert before[table].equals(after[table]), table


def test_late_file_updates_exactly_its_day(tmp_path):
    pipeline = Pipeline(tmp_path)
    pipeline.land(
        "week1.csv",
        rows_csv(
            "a1,2024-03-01T10:00:00Z,10,,c1,,web,,,,,",
            "a2,2024-03-02T10:00:00Z,9,,c2,,web,,,,,",
            "a3,2024-03-03T10:00:00Z,0,,c3,,web,,,,,",
        ),
        mtime=time.time() - 3600,
    )
    assert pipeline.run("2024-03-01", "2024-03-03").success
    before = pipeline.table("nps_daily", "response_date")
    day_files = {
        d: os.stat(pipeline.warehouse / "nps_daily" / f"response_date={d}" / "data.parquet").st_mtime_ns
        for d in ("2024-03-01", "2024-03-02", "2024-03-03")
    }
    # A later export repeats a2 and brings a late detractor for 2 March.
    pipeline.land("week2.csv", rows_csv("a2,2024-03-02T10:00:00Z,9,,c2,,web,,,,,", "a9,2024-03-02T22:00:00Z,1,,c9,,web,,,,,"))
    assert pipeline.run("2024-03-02").success
    after = pipeline.table("nps_daily", "response_date")
    assert after.filter(pl.col("response_date") != dt.date(2024, 3, 2)).equals(
        before.filter(pl.col("response_date") != dt.date(2024, 3, 2))
    )
    march2 = after.filter(pl.col("response_date") == dt.date(2024, 3, 2)).row(0, named=True)
    assert (march2["responses"], march2["promoters"], march2["detractors"], march2["nps"]) == (2, 1, 1, 0.0)
    for d in ("2024-03-01", "2024-03-03"):
        assert os.stat(pipeline.warehouse / "nps_daily" / f"response_date={d}" / "data.parquet").st_mtime_ns == day_files[d]
    files = {r["source_file"]: r for r in pipeline.table("ingest_files").iter_rows(named=True)}
    assert (files["week1.csv"]["rows_valid"], files["week1.csv"]["rows_duplicate"]) == (2, 1)
    assert (files["week2.csv"]["rows_valid"], files["week2.csv"]["rows_duplicate"]) == (2, 0)


def test_edited_response_in_a_later_file_replaces_the_earlier_version(tmp_path):
    pipeline = Pipeline(tmp_path)
    pipeline.land("first.csv", rows_csv("e1,2024-03-01T10:00:00Z,3,,c1,,web,,,,,"), mtime=time.time() - 3600)
    pipeline.land("second.csv", rows_csv("e1,2024-03-01T10:00:00Z,9,,c1,,web,,,,,"))
    assert pipeline.run("2024-03-01").success
    assert pipeline.table("responses").select("response_id", "score", "source_file").rows() == [("e1", 9, "second.csv")]
    duplicates = pipeline.table("duplicates")
    assert duplicates.select("source_file", "score", "kept_source_file", "kept_score", "score_changed").rows() == [
        ("first.csv", 3, "second.csv", 9, True)
    ]
    assert pipeline.table("detractor_followups").is_empty()


def test_days_are_cut_in_the_reporting_time_zone(tmp_path):
    pipeline = Pipeline(tmp_path, timezone="America/New_York")
    pipeline.land("tz.csv", rows_csv("t1,2024-03-02T03:00:00Z,10,,c1,,web,,,,,", "t2,2024-03-02T06:00:00Z,0,,c2,,web,,,,,"))
    assert pipeline.run("2024-03-01", "2024-03-02").success
    daily = pipeline.table("nps_daily", "response_date")
    assert daily.select("response_date", "responses", "nps").rows() == [
        (dt.date(2024, 3, 1), 1, 100.0),
        (dt.date(2024, 3, 2), 1, -100.0),
    ]


def test_versions_on_different_days_are_kept_once_whatever_the_range(tmp_path):
    pipeline = Pipeline(tmp_path)
    pipeline.land("first.csv", rows_csv("x1,2024-03-01T10:00:00Z,3,,c1,,web,,,,,"), mtime=time.time() - 3600)
    pipeline.land("second.csv", rows_csv("x1,2024-03-02T09:00:00Z,9,,c1,,web,,,,,"))
    assert pipeline.run("2024-03-01").success
    assert pipeline.run("2024-03-02").success
    one_by_one = snapshot_of(pipeline)
    assert pipeline.table("responses").select("response_id", "response_date", "score").rows() == [("x1", dt.date(2024, 3, 2), 9)]
    assert pipeline.table("duplicates").select("response_date", "kept_response_date").rows() == [
        (dt.date(2024, 3, 1), dt.date(2024, 3, 2))
    ]
    assert pipeline.run("2024-03-01", "2024-03-02").success
    assert snapshot_of(pipeline) == one_by_one


def snapshot_of(pipeline):
    return {t: pipeline.table(t, ORDER[t]).drop("ingested_at", strict=False).rows() for t in ("responses", "duplicates", "nps_daily")}


def test_the_sample_generator_is_seeded_and_its_vendor_exports_run(tmp_path):
    first = write_landing_zone(tmp_path / "a", responses=400, days=10, end_date=dt.date(2024, 3, 10), seed=5, vendor_exports=60)
    second = write_landing_zone(tmp_path / "b", responses=400, days=10, end_date=dt.date(2024, 3, 10), seed=5, vendor_exports=60)
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]

    pipeline = Pipeline(tmp_path / "run", max_rejected_share=0.2)
    write_landing_zone(pipeline.landing, responses=400, days=10, end_date=dt.date(2024, 3, 10), seed=5, vendor_exports=60)
    assert pipeline.run("2024-03-01", "2024-03-10").success
    files = pipeline.table("ingest_files")
    assert set(files["source_format"]) == {"generic", "qualtrics", "surveymonkey"}
    assert (files["rows_read"] == files["rows_valid"] + files["rows_duplicate"] + files["rows_quarantined"]).all()
    qualtrics = files.filter(pl.col("source_format") == "qualtrics").row(0, named=True)
    assert qualtrics["rows_excluded"] > 0 and qualtrics["rows_in_file"] == 30


def test_score_counts_are_additive_facts(demo_run):
    """A window's NPS from summed daily counts equals the NPS computed on its responses directly."""
    counts = demo_run.table("nps_score_counts_daily")
    responses = demo_run.table("responses")
    overall = counts.filter(pl.col("dimension") == "overall")
    assert int(overall["responses"].sum()) == responses.height
    by_score = dict(overall.group_by("score").agg(pl.col("responses").sum()).iter_rows())
    assert by_score == dict(responses.group_by("score").len().iter_rows())
    for dimension in ("channel", "region", "customer_tier"):
        window = counts.filter(pl.col("dimension") == dimension).group_by("segment").agg(
            ((pl.col("responses") * (pl.col("score") >= 9)).sum() - (pl.col("responses") * (pl.col("score") <= 6)).sum())
            .cast(pl.Float64).truediv(pl.col("responses").sum()).mul(100).alias("nps")
        )
        direct = responses.filter(pl.col(dimension).is_not_null()).group_by(pl.col(dimension).alias("segment")).agg(
            ((pl.col("score") >= 9).cast(pl.Int64).sum() - (pl.col("score") <= 6).cast(pl.Int64).sum())
            .cast(pl.Float64).truediv(pl.len()).mul(100).alias("nps")
        )
        assert window.sort("segment").equals(direct.sort("segment")), dimension


def test_attribute_dimensions_from_configuration(tmp_path):
    pipeline = Pipeline(tmp_path, segment_attributes="plan")
    pipeline.land(
        "a.csv",
        HEADER + ",plan\n"
        "p1,2024-03-01T10:00:00Z,10,,c1,,web,,,,,,pro\n"
        "p2,2024-03-01T11:00:00Z,0,,c2,,web,,,,,,pro\n"
        "p3,2024-03-01T12:00:00Z,9,,c3,,web,,,,,,basic\n",
    )
    assert pipeline.run("2024-03-01").success
    segment = pipeline.table("nps_daily_segment", "segment").filter(pl.col("dimension") == "attribute:plan")
    assert segment.select("segment", "responses", "nps").rows() == [("basic", 1, 100.0), ("pro", 2, 0.0)]
