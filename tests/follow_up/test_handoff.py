"""The CRM hand-off: a full list of open cases now and then, the changed cases every night in between."""

from __future__ import annotations

import json

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from nps_pipeline.defs.follow_up import handoff
from nps_pipeline.settings import Settings, SettingsError
from nps_pipeline.storage import WarehouseLayout
from tests.conftest import Pipeline
from tests.follow_up.test_cases import UPDATES, export
from tests.follow_up.test_incremental import CONTACT_C2, NIGHTS, _case_of


def _manifest(pipeline: Pipeline) -> dict:
    return json.loads((pipeline.warehouse / "handoff" / "manifest.json").read_text(encoding="utf-8"))


def _csv(path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema=False)


def _night(pipeline: Pipeline, day: str) -> None:
    pipeline.land(f"{day}.csv", export(*NIGHTS[day]))
    pipeline.run(day)
    if day == "2026-03-02":
        pipeline.update("u1.csv", CONTACT_C2.format(case=_case_of(pipeline, "r2")))


def test_a_night_writes_the_cases_it_changed_and_the_files_add_up_to_the_full_list(tmp_path):
    weekly, every_night = Pipeline(tmp_path / "weekly"), Pipeline(tmp_path / "every", handoff_full_every_days=1)
    layout = WarehouseLayout(weekly.warehouse)
    full_list, changes = handoff.full_list_path(layout), handoff.changes_path(layout)

    for pipeline in (weekly, every_night):
        _night(pipeline, "2026-03-02")
    assert _manifest(weekly)["full_day"] == "2026-03-02" and _manifest(weekly)["changed_rows"] == 0
    first_full = full_list.read_bytes()
    assert _csv(full_list).height == 3 and _csv(changes).height == 0  # C1, C2, the anonymous r4

    for day in ("2026-03-03", "2026-03-04"):
        for pipeline in (weekly, every_night):
            _night(pipeline, day)
        # The full list stays as it was; the changes hold every case changed since it, open or not.
        assert full_list.read_bytes() == first_full
        current = handoff.current_open_cases(layout).drop("revision")
        assert_frame_equal(current, _csv(handoff.full_list_path(WarehouseLayout(every_night.warehouse))).drop("revision"))
    changed = _csv(changes)
    # 03-03: r5 joins C1's case, r6 opens C3's, C2 was contacted; 03-04: r7 (C1), r8 (C2 answered again), r9 opens C5's.
    assert sorted(changed["email"].to_list()) == ["c1@example.com", "c2@example.com", "c3@example.com", "c5@example.com"]
    assert (changed["revision"].cast(pl.Int64) > _manifest(weekly)["full_revision"]).all()
    assert _manifest(weekly)["changed_rows"] == 4 and _manifest(weekly)["full_day"] == "2026-03-02"
    assert _csv(handoff.changes_path(WarehouseLayout(every_night.warehouse))).height == 0

    # A closed case is a change too: the CRM learns to close it, and it leaves the open cases.
    c2_case = _case_of(weekly, "r2")
    weekly.update("u2.csv", UPDATES + f"{c2_case},closed,maria,2026-03-03T12:00:00Z,2026-03-04T18:00:00Z,price,\n")
    weekly.run("2026-03-04")
    closed = _csv(changes).filter(pl.col("case_id") == c2_case)
    assert closed["status"].to_list() == ["closed"]
    assert c2_case not in handoff.current_open_cases(layout)["case_id"].to_list()
    assert c2_case in _csv(full_list)["case_id"].to_list()  # still in the older full list, at a lower revision
    assert full_list.read_bytes() == first_full


def test_the_full_list_is_written_again_when_it_is_due(tmp_path):
    pipeline = Pipeline(tmp_path, handoff_full_every_days=2)
    layout = WarehouseLayout(pipeline.warehouse)
    _night(pipeline, "2026-03-02")
    _night(pipeline, "2026-03-03")
    assert _manifest(pipeline)["full_day"] == "2026-03-02" and _manifest(pipeline)["changed_rows"] > 0
    _night(pipeline, "2026-03-04")  # two days after the full list
    manifest = _manifest(pipeline)
    assert manifest["full_day"] == "2026-03-04" and manifest["changed_rows"] == 0
    assert manifest["full_rows"] == _csv(handoff.full_list_path(layout)).height == 5  # C1, C2 (contacted, still open), C3, C5, the anonymous r4
    # A hand-off from another store (rebuilt, or written by an older version) is never extended: a full list is written.
    (pipeline.warehouse / "handoff" / "manifest.json").write_text(json.dumps({**manifest, "store_id": "another"}), encoding="utf-8")
    pipeline.run("2026-03-04")
    assert _manifest(pipeline)["store_id"] != "another" and _manifest(pipeline)["changed_rows"] == 0


def test_the_full_list_interval_is_a_checked_setting():
    assert Settings.from_env({}).handoff_full_every_days == 7
    assert Settings.from_env({"NPS_HANDOFF_FULL_EVERY_DAYS": "1"}).handoff_full_every_days == 1
    with pytest.raises(SettingsError, match="NPS_HANDOFF_FULL_EVERY_DAYS: 0 must be a whole number, 1 or more"):
        Settings.from_env({"NPS_HANDOFF_FULL_EVERY_DAYS": "0"})
    with pytest.raises(SettingsError, match="NPS_HANDOFF_FULL_EVERY_DAYS: 'weekly' is not a whole number"):
        Settings.from_env({"NPS_HANDOFF_FULL_EVERY_DAYS": "weekly"})


def test_cells_a_spreadsheet_would_run_as_formulas_are_escaped(tmp_path):
    """OWASP: a text cell starting with = + - @ (or a tab, a return, their full-width forms) gets a leading '."""
    pipeline = Pipeline(tmp_path)
    pipeline.land(
        "hostile.csv",
        export(
            'h1,2026-03-02T09:00:00Z,2,"=HYPERLINK(""http://evil.example"",""x"")",C1,@c1@example.com,email,EMEA,Pro,support,standard,en,+Ana,-Silva',
            "h2,2026-03-02T10:00:00Z,3,\t=cmd|' /C calc'!A0,C2,c2@example.com,web,NA,Pro,support,standard,en,Bo,Li",
            "h3,2026-03-02T11:00:00Z,1,-5 stars,C3,c3@example.com,web,NA,Pro,support,standard,en,＝Cy,Ng",
        ),
    )
    pipeline.run("2026-03-02")
    rows = _csv(handoff.full_list_path(WarehouseLayout(pipeline.warehouse))).sort("email")
    assert rows["latest_comment"].to_list() == ["'=HYPERLINK(\"http://evil.example\",\"x\")", "'=cmd|' /C calc'!A0", "'-5 stars"]  # staging trims the tab
    assert rows["email"].to_list() == ["'@c1@example.com", "c2@example.com", "c3@example.com"]
    assert rows["name"].to_list() == ["'+Ana -Silva", "Bo Li", "'＝Cy Ng"]
    assert rows["latest_score"].to_list() == ["2", "3", "1"]  # numbers stay numbers
