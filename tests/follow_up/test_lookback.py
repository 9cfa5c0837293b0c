"""The look-back summary: a window's repeat / previous-score flags are the same with it as from every index day."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from nps_pipeline.defs.follow_up import lookback
from nps_pipeline.defs.follow_up.case_rules import load_case_rules
from nps_pipeline.defs.follow_up.case_assignment import case_candidates
from nps_pipeline.storage import WarehouseLayout, connect, sql
from tests.conftest import Pipeline
from tests.follow_up.test_cases import export
from tests.follow_up.test_incremental import _run_nights

FLAGS = ["response_id", "respondent_key", "previous_score", "repeat_detractor", "worsening", "priority_points"]
DAY = dt.date(2026, 3, 1)


def _history() -> dict[str, list[str]]:
    """Ten days; C1 a detractor on day 0 only, C2 promoter then detractors, C3 answers twice at the same second."""
    days: dict[str, list[str]] = {}
    for offset in range(10):
        day = (DAY + dt.timedelta(days=offset)).isoformat()
        rows = [f"c2-{offset},{day}T10:00:00Z,{9 if offset < 5 else 8 - offset % 3},ok,C2,c2@example.com,web,NA,Pro,support,standard,en,Bo,Li"]
        if offset == 0:
            rows.append(f"c1-{offset},{day}T09:00:00Z,3,Bad,C1,c1@example.com,web,NA,Pro,support,standard,en,Ana,Silva")
        if offset in (2, 9):
            rows.append(f"c1-{offset},{day}T09:00:00Z,{8 if offset == 2 else 2},Meh,C1,c1@example.com,web,NA,Pro,support,standard,en,Ana,Silva")
        # Two answers in the same second: the response id orders them, in the summary as in the index.
        rows.append(f"c3-{offset}a,{day}T12:00:00Z,{offset % 7},x,C3,c3@example.com,sms,EMEA,Pro,support,standard,en,Cy,Ng")
        rows.append(f"c3-{offset}b,{day}T12:00:00Z,{(offset + 3) % 9},y,C3,c3@example.com,sms,EMEA,Pro,support,standard,en,Cy,Ng")
        days[day] = rows
    return days


def _candidates(pipeline: Pipeline, day: dt.date, history_days: int) -> pl.DataFrame:
    layout = WarehouseLayout(pipeline.warehouse)
    rules = dataclasses.replace(load_case_rules(), history_days=history_days)
    with connect(layout) as con:
        return case_candidates(con, layout, [day], rules).select(FLAGS).sort("response_id")


def _without_summary(pipeline: Pipeline, day: dt.date, history_days: int) -> pl.DataFrame:
    shutil.rmtree(pipeline.warehouse / lookback.SUMMARY_DIR, ignore_errors=True)
    layout = WarehouseLayout(pipeline.warehouse)
    with connect(layout) as con:
        used = lookback.look_back(con, layout, [day], history_days)
        assert used.summary is None
        # The candidates query alone, over every index day of the look-back: no summary is built.
        frame = con.sql(
            sql("select_case_candidates"),
            params={
                "window_files": layout.table_files_for_days("responses", [day]),
                "history_files": used.files,
                "horizon": used.horizon,
                "history_days": history_days,
                "staged_files": layout.staged_files_for_days([day]),
                "first_day": day,
                "last_day": day,
            },
        ).pl()
    return frame.select([c for c in FLAGS if c != "priority_points"]).sort("response_id")


@pytest.fixture
def ten_days(tmp_path) -> Pipeline:
    pipeline = Pipeline(tmp_path)
    for day, rows in _history().items():
        pipeline.land(f"{day}.csv", export(*rows))
    pipeline.run(DAY.isoformat(), (DAY + dt.timedelta(days=9)).isoformat())
    return pipeline


@pytest.mark.parametrize("history_days", [365, 4])
def test_the_summary_gives_the_flags_every_index_day_gives(ten_days, history_days):
    last = DAY + dt.timedelta(days=9)
    expected = _without_summary(ten_days, last, history_days)
    assert expected.filter(pl.col("repeat_detractor")).height > 0 and expected["previous_score"].null_count() < expected.height

    # The first window that reaches the newest indexed day builds the summary through the day before it ...
    built = _candidates(ten_days, last, history_days)
    summary = lookback.read_summary(WarehouseLayout(ten_days.warehouse))
    assert summary is not None and summary.through == last - dt.timedelta(days=1)
    # ... and the next read of the window uses it: one summary file and the window's own index day.
    layout = WarehouseLayout(ten_days.warehouse)
    with connect(layout) as con:
        used = lookback.look_back(con, layout, [last], history_days)
    assert used.summary == summary and used.files[0] == summary.file and len(used.files) == 3  # summary, _schema, the day
    with_summary = _candidates(ten_days, last, history_days)

    for frame in (built, with_summary):
        assert_frame_equal(frame.drop("priority_points"), expected)
    assert_frame_equal(built, with_summary)
    # C1 answered a detractor on day 0 and an 8 on day 2: a repeat detractor only while day 0 is in the look-back.
    c1 = with_summary.filter(pl.col("response_id") == "c1-9").row(0, named=True)
    assert c1["previous_score"] == (8 if history_days == 365 else None)
    assert c1["repeat_detractor"] is (history_days == 365)


def test_a_changed_older_day_sets_the_summary_aside_until_it_is_built_again(ten_days):
    last = DAY + dt.timedelta(days=9)
    _candidates(ten_days, last, 365)
    layout = WarehouseLayout(ten_days.warehouse)
    assert lookback.read_summary(layout) is not None

    # A later export corrects C1's day-2 answer from 8 to 1: day 2 is run again, its index rewritten.
    day2 = (DAY + dt.timedelta(days=2)).isoformat()
    ten_days.land("correction.csv", export(f"c1-2,{day2}T09:00:00Z,1,Worse,C1,c1@example.com,web,NA,Pro,support,standard,en,Ana,Silva"))
    ten_days.run(day2)
    with connect(layout) as con:
        assert lookback.look_back(con, layout, [last], 365).summary is None
    rebuilt = _candidates(ten_days, last, 365)  # full read, then the summary is built again
    expected = _without_summary(ten_days, last, 365)
    assert_frame_equal(rebuilt.drop("priority_points"), expected)
    assert rebuilt.filter(pl.col("response_id") == "c1-9")["previous_score"].item() == 1


def test_a_backfill_of_older_days_leaves_the_summary_alone(ten_days):
    last = DAY + dt.timedelta(days=9)
    _candidates(ten_days, last, 365)
    layout = WarehouseLayout(ten_days.warehouse)
    before = lookback.read_summary(layout)
    _candidates(ten_days, DAY + dt.timedelta(days=3), 365)  # not the newest day: no refresh
    assert lookback.read_summary(layout) == before


def test_nights_folding_every_day_into_the_summary_equal_one_run_over_the_range(tmp_path, monkeypatch):
    monkeypatch.setattr(lookback, "SUMMARY_LAG_DAYS", 1)
    nightly, ranged = Pipeline(tmp_path / "nightly"), Pipeline(tmp_path / "ranged")
    _run_nights(nightly, one_range=False)
    _run_nights(ranged, one_range=True)
    summary = lookback.read_summary(WarehouseLayout(nightly.warehouse))
    assert summary is not None and summary.through == dt.date(2026, 3, 3)
    assert pl.read_parquet(summary.file).height > 0
    for table, key in (("detractor_cases", "case_id"), ("detractor_case_responses", "response_id")):
        assert_frame_equal(nightly.table(table, key), ranged.table(table, key), check_dtypes=True)
