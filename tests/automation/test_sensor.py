"""The landing-zone sensor, evaluated with build_sensor_context."""

import datetime as dt
import time

import dagster as dg

from nps_pipeline.defs.ingest.assets import landing_files, validated_responses
from nps_pipeline.defs.automation.sensors import consecutive_ranges, landing_zone_sensor
from tests.conftest import Pipeline, rows_csv

RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


def evaluate(pipeline: Pipeline, instance, cursor=None):
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources={"nps": pipeline.resource})
    result = landing_zone_sensor(context)
    stage = [r for r in result.run_requests if r.job_name == "stage_landing_zone"]
    days = sorted((r.tags[RANGE_START], r.tags[RANGE_END]) for r in result.run_requests if r.job_name == "daily_nps")
    return stage, days, result.cursor


def stage(pipeline: Pipeline):
    assert dg.materialize([landing_files, validated_responses], resources={"nps": pipeline.resource}).success


def test_new_files_trigger_exactly_their_days_once(tmp_path):
    pipeline = Pipeline(tmp_path)
    instance = dg.DagsterInstance.ephemeral()
    pipeline.land(
        "week1.csv",
        rows_csv("a1,2024-03-01T10:00:00Z,10,,c1,,web,,,,,", "a2,2024-03-02T10:00:00Z,2,,c2,,web,,,,,",
                 "a3,2024-03-05T10:00:00Z,9,,c3,,web,,,,,"),
        mtime=time.time() - 3600,
    )
    requests, days, cursor = evaluate(pipeline, instance)
    assert len(requests) == 1 and days == []  # first: stage it; its days are not known yet
    stage(pipeline)
    requests, days, cursor = evaluate(pipeline, instance, cursor)
    assert requests == [] and days == [("2024-03-01", "2024-03-02"), ("2024-03-05", "2024-03-05")]
    # The same file never triggers twice.
    assert evaluate(pipeline, instance, cursor)[:2] == ([], [])

    # A later export brings a late response for 20 February and moves a2 from 2 to 4 March.
    pipeline.land("week2.csv", rows_csv("b1,2024-02-20T10:00:00Z,0,,c9,,web,,,,,", "a2,2024-03-04T10:00:00Z,2,,c2,,web,,,,,"))
    requests, days, cursor = evaluate(pipeline, instance, cursor)
    assert len(requests) == 1 and days == []
    stage(pipeline)
    requests, days, cursor = evaluate(pipeline, instance, cursor)
    assert days == [("2024-02-20", "2024-02-20"), ("2024-03-02", "2024-03-02"), ("2024-03-04", "2024-03-04")]
    assert evaluate(pipeline, instance, cursor)[:2] == ([], [])


def test_a_changed_file_also_re_runs_the_days_its_old_version_held(tmp_path):
    pipeline = Pipeline(tmp_path)
    instance = dg.DagsterInstance.ephemeral()
    path = pipeline.land("export.csv", rows_csv("x1,2024-03-01T10:00:00Z,10,,c1,,web,,,,,"), mtime=time.time() - 3600)
    _, _, cursor = evaluate(pipeline, instance)
    stage(pipeline)
    _, days, cursor = evaluate(pipeline, instance, cursor)
    assert days == [("2024-03-01", "2024-03-01")]
    path.write_text(rows_csv("x1,2024-03-03T10:00:00Z,10,,c1,,web,,,,,"), encoding="utf-8")
    _, _, cursor = evaluate(pipeline, instance, cursor)
    stage(pipeline)
    _, days, cursor = evaluate(pipeline, instance, cursor)
    assert days == [("2024-03-01", "2024-03-01"), ("2024-03-03", "2024-03-03")]


def test_files_a_cli_run_already_staged_and_materialised_do_not_trigger_again(tmp_path):
    """`make ui` right after `make demo`: the sensor starts with no cursor, and finds nothing to do."""
    pipeline = Pipeline(tmp_path)
    instance = dg.DagsterInstance.ephemeral()
    pipeline.land("a.csv", rows_csv("a1,2024-03-01T10:00:00Z,10,,c1,,web,,,,,", "a2,2024-03-03T10:00:00Z,2,,c2,,web,,,,,"))
    assert pipeline.run("2024-03-01", "2024-03-03").success
    stage_requests, days, cursor = evaluate(pipeline, instance)
    assert (stage_requests, days) == ([], [])
    # A file staged but whose days were not materialised since still triggers them.
    pipeline.land("b.csv", rows_csv("b1,2024-03-05T10:00:00Z,9,,c3,,web,,,,,"))
    stage(pipeline)
    _, days, cursor = evaluate(pipeline, instance, cursor)
    assert days == [("2024-03-05", "2024-03-05")]
    # Only part of a file's days materialised since: it triggers.
    pipeline.land("c.csv", rows_csv("c1,2024-03-06T10:00:00Z,9,,c4,,web,,,,,", "c2,2024-03-08T10:00:00Z,9,,c5,,web,,,,,"))
    assert pipeline.run("2024-03-06").success
    _, days, _ = evaluate(pipeline, instance, cursor)
    assert days == [("2024-03-06", "2024-03-06"), ("2024-03-08", "2024-03-08")]


def test_consecutive_ranges():
    d = dt.date.fromisoformat
    assert consecutive_ranges([d("2024-03-03"), d("2024-03-01"), d("2024-03-02"), d("2024-03-09")]) == [
        (d("2024-03-01"), d("2024-03-03")),
        (d("2024-03-09"), d("2024-03-09")),
    ]
