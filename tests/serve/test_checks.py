"""Checks on the published tables, freshness by a deadline hour, and alerts posted to a webhook."""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import dagster as dg
import polars as pl
import pytest
from dagster._core.events import DagsterEventType

from nps_pipeline.defs.automation.alerts import AlertWebhook, failed_checks_alert, run_failure_alert
from nps_pipeline.graph import nps_assets
from nps_pipeline.defs.serve.checks import (
    FRESHNESS_ASSETS,
    TABLES,
    accounting_problems,
    duplicate_keys_in_files,
    freshness_results,
    out_of_bounds,
)
from nps_pipeline.definitions import defs
from nps_pipeline.day_ledger import record_written
from nps_pipeline.storage import WarehouseLayout, connect, sql
from tests.conftest import Pipeline, rows_csv


def test_duplicate_keys_in_published_files_are_counted_by_duckdb(tmp_path):
    pl.DataFrame({"response_date": ["d1", "d1", "d2"], "segment": ["a", "a", "a"], "n": [1, 2, 3]}).write_parquet(tmp_path / "a.parquet")
    pl.DataFrame({"response_date": ["d2"], "segment": ["a"], "n": [4]}).write_parquet(tmp_path / "b.parquet")
    files = [str(tmp_path / "a.parquet"), str(tmp_path / "b.parquet")]
    with connect(WarehouseLayout(tmp_path / "warehouse")) as con:
        dupes = duplicate_keys_in_files(con, files, ["response_date", "segment"])
        assert dupes.rows() == [("d1", "a", 2), ("d2", "a", 2)]
        assert duplicate_keys_in_files(con, files, ["n"]).is_empty()
        assert duplicate_keys_in_files(con, [], ["n"]).is_empty()


def test_nps_bounds_name_the_rows():
    ok = pl.DataFrame({"responses": [10], "promoters": [5], "passives": [3], "detractors": [2], "nps": [30.0],
                       "nps_ci_low": [0.5], "nps_ci_high": [55.0]})
    assert out_of_bounds(ok) == []
    # One detractor: -100 lies below its adjusted-Wald bounds, and that is right.
    assert out_of_bounds(ok.with_columns(responses=1, promoters=0, passives=0, detractors=1, nps=-100.0,
                                         nps_ci_low=-98.5, nps_ci_high=48.5)) == []
    bad = ok.with_columns(nps=pl.lit(130.0), passives=pl.lit(4))
    assert out_of_bounds(bad) == [
        "1 row(s) with nps, nps_ci_low or nps_ci_high outside [-100, 100], or nps_ci_low > nps_ci_high",
        "1 row(s) where promoters + passives + detractors != responses",
    ]


def test_segments_that_do_not_add_up_are_named(tmp_path):
    daily = tmp_path / "daily.parquet"
    segment = tmp_path / "segment.parquet"
    pl.DataFrame({"response_date": [dt.date(2024, 3, 1)], "responses": [3], "promoters": [1], "detractors": [1]}).write_parquet(daily)
    pl.DataFrame({
        "response_date": [dt.date(2024, 3, 1)] * 3, "dimension": ["channel", "channel", "region"], "segment": ["web", "(not set)", "eu"],
        "responses": [2, 1, 2], "promoters": [1, 0, 1], "detractors": [0, 1, 0],
    }).write_parquet(segment)
    with connect(WarehouseLayout(tmp_path / "warehouse")) as con:
        found = con.sql(sql("select_daily_segment_mismatches"), params={"segment_files": [str(segment)], "overall_files": [str(daily)]}).pl()
    # channel sums to 3 with its '(not set)'; region lost a response.
    assert found.rows() == [("2024-03-01", "region", 2, 3)]


def test_accounting_names_the_file_that_does_not_add_up():
    files = pl.DataFrame({"source_file": ["a.csv", "b.csv"], "status": ["staged", "staged"], "rows_read": [10, 5],
                          "rows_valid": [8, 5], "rows_duplicate": [1, 0], "rows_quarantined": [1, 1]})
    assert accounting_problems(files, pl.DataFrame({"x": [1, 2]})) == [
        "b.csv: rows_read 5 != valid 5 + duplicate 0 + quarantined 1"
    ]
    assert accounting_problems(files.head(1), pl.DataFrame({"x": []})) == [
        "ingest_files counts 1 quarantined rows but the quarantine table holds 0"
    ]


def _run_job(pipeline: Pipeline, start: str, end: str, instance: dg.DagsterInstance, **resources):
    job = defs.resolve_job_def("daily_nps")
    return job.execute_in_process(
        instance=instance,
        resources={"nps": pipeline.resource, "alerts": AlertWebhook(), **resources},
        tags={"dagster/asset_partition_range_start": start, "dagster/asset_partition_range_end": end},
        raise_on_error=False,
    )


def test_every_published_table_is_checked_after_the_nightly_job(tmp_path):
    pipeline = Pipeline(tmp_path, max_rejected_share=0.5)
    pipeline.land("a.csv", rows_csv(
        "r1,2024-03-01T10:00:00Z,10,great,c1,,web,eu,app,,,en", "r2,2024-03-01T11:00:00Z,3,slow delivery,c2,,web,eu,app,,,en",
        "r3,2024-03-02T10:00:00Z,8,,c3,,email,us,app,,,en", "r4,2024-03-02T10:00:00Z,x,,c4,,email,us,app,,,en",
    ))
    with dg.instance_for_test() as instance:
        result = _run_job(pipeline, "2024-03-01", "2024-03-02", instance)
        assert result.success
        evaluations = [e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    by_name = {(e.asset_key.to_user_string(), e.check_name): e for e in evaluations}
    for table, (owner, _) in TABLES.items():
        name = "unique_key" if owner == table else f"{table}_unique_key"
        assert by_name[(owner, name)].passed, (table, by_name[(owner, name)].description)
    assert by_name[("nps_daily", "nps_within_bounds")].passed
    assert by_name[("nps_daily", "nps_themes_daily_nps_within_bounds")].passed
    assert by_name[("ingest_files", "accounting_identity")].passed
    assert by_name[("nps_daily", "nps_daily_segment_segments_sum_to_overall")].passed
    assert by_name[("nps_windows", "segments_sum_to_overall")].passed
    # Responses without a touchpoint are the segment '(not set)', so every dimension sums to the day.
    segments = pipeline.table("nps_daily_segment").filter(pl.col("response_date") == dt.date(2024, 3, 1))
    touchpoint = segments.filter(pl.col("dimension") == "touchpoint")
    assert touchpoint.select("segment", "responses").rows() == [("(not set)", 2)]
    assert segments.group_by("dimension").agg(pl.col("responses").sum())["responses"].to_list() == [2] * 6
    windows = pipeline.table("nps_windows").filter((pl.col("window_type") == "trailing_7d") & (pl.col("window_end") == dt.date(2024, 3, 2)))
    overall = windows.filter(pl.col("dimension") == "overall")["responses"].item()
    assert overall == 3
    assert set(windows.filter(pl.col("dimension") != "overall").group_by("dimension").agg(pl.col("responses").sum())["responses"]) == {3}
    share = by_name[("quarantine", "quarantine_share")]
    assert share.passed and share.description == "1 of 4 rows quarantined (25.00%; limit 50.0%)"
    assert not any(("yesterday_present_by_deadline" == e.check_name) for e in evaluations)


def test_freshness_fails_only_once_the_deadline_hour_has_passed(tmp_path):
    pipeline = Pipeline(tmp_path)
    pipeline.land("a.csv", rows_csv("r1,2024-03-01T10:00:00Z,10,,c1,,web,,,,,"))
    with dg.instance_for_test() as instance:
        assert dg.materialize(nps_assets, partition_key="2024-03-01", resources={"nps": pipeline.resource},
                              instance=instance).success
        morning = dt.datetime(2024, 3, 2, 5, 59, tzinfo=dt.timezone.utc)
        after = dt.datetime(2024, 3, 2, 6, 0, tzinfo=dt.timezone.utc)
        present = freshness_results(instance, after, 6, "UTC", FRESHNESS_ASSETS, pipeline.resource.layout)
        assert all(r.passed for r in present) and present[0].description == "2024-03-01 is materialised"
        # A day later nothing new was materialised: fine before 06:00, a failure from 06:00.
        early = freshness_results(instance, morning + dt.timedelta(days=1), 6, "UTC", ["nps_daily"])
        late = freshness_results(instance, after + dt.timedelta(days=1), 6, "UTC", ["nps_daily"])
        # In Los Angeles it is still the evening of the 2nd: yesterday there is 2024-03-01, present.
        elsewhere = freshness_results(instance, after + dt.timedelta(days=1), 6, "America/Los_Angeles", ["nps_daily"])
    assert early[0].passed and "not materialised yet; due by 06:00 UTC" in early[0].description
    assert not late[0].passed
    assert late[0].description.startswith("2024-03-02 is not materialised and was due by 06:00 UTC")
    assert "nps-pipeline backfill --start 2024-03-02 --end 2024-03-02" in late[0].description
    assert elsewhere[0].passed
    # A cross-day asset: yesterday done by the day ledger; a day written since and not yet done is not fresh.
    with dg.instance_for_test() as instance:
        cross = freshness_results(instance, after, 6, "UTC", ["nps_windows"], pipeline.resource.layout)
        assert cross[0].passed
        record_written(pipeline.resource.layout, "nps_daily", [dt.date(2024, 2, 20)])
        stale = freshness_results(instance, after, 6, "UTC", ["nps_windows"], pipeline.resource.layout)
        assert not stale[0].passed


class _Hook(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self):
        self.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook():
    _Hook.received = []
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/alerts", _Hook.received
    server.shutdown()


def _sensor_context(instance, result, event_type, alerts):
    run = instance.get_run_by_id(result.run_id)
    event = instance.all_logs(result.run_id, of_type=event_type)[0].dagster_event
    return dg.build_run_status_sensor_context(
        sensor_name="alert", dagster_event=event, dagster_instance=instance, dagster_run=run, resources={"alerts": alerts}
    )


def test_a_file_held_back_is_posted_to_the_webhook(tmp_path, webhook):
    url, received = webhook
    pipeline = Pipeline(tmp_path, min_rows_for_rejected_share=1)
    pipeline.land("bad.csv", rows_csv("r1,2024-03-01T10:00:00Z,10,,c1,,web,,,,,", "r2,2024-03-01T10:00:00Z,11,,c2,,web,,,,,"))
    pipeline.land("good.csv", rows_csv("r3,2024-03-01T10:00:00Z,10,,c3,,web,,,,,"))
    with dg.instance_for_test() as instance:
        # The file is held back alone: the run succeeds (the others are published) and the alert names the file.
        result = _run_job(pipeline, "2024-03-01", "2024-03-01", instance)
        assert result.success
        context = _sensor_context(instance, result, DagsterEventType.RUN_SUCCESS, AlertWebhook(url=url))
        failed_checks_alert(context)
    assert len(received) == 1
    checks = {(f["asset"], f["check"], f["severity"]) for f in received[0]["failed_checks"]}
    assert ("quarantine", "rejected_share_within_threshold", "ERROR") in checks
    assert "bad.csv: held back: 1 of 2 rows rejected (50.0% > 10.0%)" in received[0]["text"]
    assert pipeline.table("responses")["response_id"].to_list() == ["r3"]


def test_a_failed_warning_check_in_a_successful_run_is_posted(tmp_path, webhook):
    url, received = webhook
    pipeline = Pipeline(tmp_path)
    pipeline.land("a.csv", rows_csv("r1,2024-03-01T10:00:00Z,2,,c1,,web,,,,,"))
    pipeline.update("u.csv", "case_id,status\nCASE-NOPE,contacted\n")
    with dg.instance_for_test() as instance:
        result = _run_job(pipeline, "2024-03-01", "2024-03-01", instance)
        assert result.success
        context = _sensor_context(instance, result, DagsterEventType.RUN_SUCCESS, AlertWebhook(url=url))
        failed_checks_alert(context)
    assert [(f["check"], f["severity"]) for f in received[0]["failed_checks"]] == [("case_updates_valid", "WARN")]
    assert "u.csv: row 1: case CASE-NOPE" in received[0]["text"]


def test_a_failed_run_is_posted_with_the_failing_step(tmp_path, webhook):
    url, received = webhook
    pipeline = Pipeline(tmp_path, duckdb_memory_limit="lots")
    pipeline.land("a.csv", rows_csv("r1,2024-03-01T10:00:00Z,10,,c1,,web,,,,,"))
    with dg.instance_for_test() as instance:
        result = _run_job(pipeline, "2024-03-01", "2024-03-01", instance)
        assert not result.success
        context = _sensor_context(instance, result, DagsterEventType.RUN_FAILURE, AlertWebhook(url=url))
        run_failure_alert(context.for_run_failure())
        # With no webhook configured the sensor says so and posts nothing.
        unset = _sensor_context(instance, result, DagsterEventType.RUN_FAILURE, AlertWebhook())
        skipped = run_failure_alert(unset.for_run_failure())
    assert len(received) == 1
    assert received[0]["status"] == "FAILURE"
    assert received[0]["error"].startswith("validated_responses: ") and "Memory must have a number" in received[0]["error"]
    assert isinstance(skipped, dg.SkipReason) and "NPS_ALERT_WEBHOOK_URL is not set" in skipped.skip_message


def test_every_asset_reports_rows_in_rows_out_and_time_per_stage(tmp_path):
    pipeline = Pipeline(tmp_path)
    pipeline.land("a.csv", rows_csv(
        "r1,2024-03-01T10:00:00Z,10,,c1,,web,eu,app,,,en", "r2,2024-03-01T11:00:00Z,3,slow,c2,,web,eu,app,,,en",
        "r2,2024-03-01T11:00:00Z,3,slow,c2,,web,eu,app,,,en",
    ))
    result = pipeline.run("2024-03-01")
    assert result.success
    materializations = [e.event_specific_data.materialization for e in result.get_asset_materialization_events()]
    metadata = {m.asset_key.to_user_string(): m.metadata for m in materializations}
    assert set(metadata) == {a.key.to_user_string() for a in nps_assets}
    for name, values in metadata.items():
        assert {"rows_in", "rows_out", "compute_seconds", "seconds_other"} <= set(values), name
    assert metadata["validated_responses"]["rows_in"].value == 3
    # Three staged rows in, the exact repeat superseded: two out.
    assert metadata["responses"]["rows_in"].value == 3 and metadata["responses"]["rows_out"].value == 2
    assert metadata["nps_daily"]["rows_in"].value == 2
    assert metadata["detractor_cases"]["rows_in"].value == 1 and metadata["detractor_cases"]["rows_out"].value == 1
    written = metadata["nps_daily"]
    assert written["seconds_query_and_write"].value > 0 and "seconds_waiting_for_lock" in written


def test_freshness_covers_an_asset_for_every_published_table():
    from nps_pipeline.defs.serve.checks import TABLES

    assert {owner for owner, _ in TABLES.values()} <= set(FRESHNESS_ASSETS)
    assert set(FRESHNESS_ASSETS) <= {a.key.to_user_string() for a in nps_assets}
