"""Incremental nightly work: what a night updates in place equals what a rebuild from scratch gives."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
from polars.testing import assert_frame_equal

from nps_pipeline.defs.follow_up import cases, handoff
from nps_pipeline.defs.nps import dedupe
from nps_pipeline.defs.follow_up.case_store import CaseStore
from nps_pipeline.storage import WarehouseLayout, connect
from tests.conftest import Pipeline
from tests.follow_up.test_cases import UPDATES, export

NIGHTS = {
    "2026-03-02": [
        "r1,2026-03-02T09:00:00Z,5,Delivery was late again,C1,c1@example.com,email,EMEA,Pro,support,standard,en,Ana,Silva",
        "r2,2026-03-02T10:00:00Z,0,\"I will cancel, refund me now\",C2,c2@example.com,web,NA,Pro,support,enterprise,en,Bo,Li",
        "r3,2026-03-02T11:00:00Z,9,Great,C3,c3@example.com,web,NA,Pro,support,standard,en,Cy,Ng",
        "r4,2026-03-02T12:00:00Z,5,Bad,,,web,LATAM,Pro,support,free,en,,",
    ],
    "2026-03-03": [
        "r5,2026-03-03T08:00:00Z,4,Still waiting for the parcel,C1,c1@example.com,email,EMEA,Pro,support,standard,en,Ana,Silva",
        "r6,2026-03-03T09:00:00Z,3,Slow support,C3,c3@example.com,web,NA,Pro,support,standard,en,Cy,Ng",
    ],
    "2026-03-04": [
        "r7,2026-03-04T15:00:00Z,2,Broken again,C1,c1@example.com,email,EMEA,Pro,support,standard,en,Ana Maria,Silva",
        "r8,2026-03-04T16:00:00Z,10,Much better now,C2,c2@example.com,web,NA,Pro,support,enterprise,en,Bo,Li",
        "r9,2026-03-04T17:00:00Z,6,Meh,C5,c5@example.com,sms,APAC,Starter,renewal,standard,en,Eve,Wu",
    ],
}
# Contacted, not closed: the cases stay open, so assignment does not depend on when updates are read.
CONTACT_C2 = UPDATES + "{case},contacted,maria,2026-03-03T12:00:00Z,,,called back\n"


def _case_of(pipeline: Pipeline, response_id: str) -> str:
    frame = pipeline.table("detractor_case_responses")
    return frame.filter(pl.col("response_id") == response_id)["case_id"].item()


def _run_nights(pipeline: Pipeline, one_range: bool) -> None:
    if one_range:
        for day, rows in NIGHTS.items():
            pipeline.land(f"{day}.csv", export(*rows))
        pipeline.run("2026-03-02")
        pipeline.update("u1.csv", CONTACT_C2.format(case=_case_of(pipeline, "r2")))
        pipeline.run("2026-03-02", "2026-03-04")
        return
    for day, rows in NIGHTS.items():
        pipeline.land(f"{day}.csv", export(*rows))
        pipeline.run(day)
        if day == "2026-03-02":
            pipeline.update("u1.csv", CONTACT_C2.format(case=_case_of(pipeline, "r2")))


def test_night_by_night_cases_equal_one_run_over_the_whole_range(tmp_path):
    nightly, ranged = Pipeline(tmp_path / "nightly"), Pipeline(tmp_path / "ranged")
    _run_nights(nightly, one_range=False)
    _run_nights(ranged, one_range=True)

    for table, key in (("detractor_cases", "case_id"), ("detractor_case_responses", "response_id")):
        assert_frame_equal(nightly.table(table, key), ranged.table(table, key), check_dtypes=True)
    cases = nightly.table("detractor_cases", "case_id")
    c1 = cases.filter(pl.col("first_response_id") == "r1").row(0, named=True)
    assert (c1["responses"], c1["latest_response_id"]) == (3, "r7")
    # The contact on C2 and the customer's next answer (a 10 on 03-04, after the contact): found the night it arrived.
    c2 = cases.filter(pl.col("first_response_id") == "r2").row(0, named=True)
    assert (c2["status"], c2["next_response_id"], c2["improved"]) == ("contacted", "r8", True)
    assert cases.height == 5  # C1, C2, anonymous r4, C3 (r6), C5 (r9)

    # The open cases as a CRM holds them after importing the hand-off files (revisions differ by run).
    current = {
        name: handoff.current_open_cases(WarehouseLayout(p.warehouse)).drop("revision").to_dicts()
        for name, p in (("nightly", nightly), ("ranged", ranged))
    }
    assert current["nightly"] == current["ranged"]
    c1_row = next(r for r in current["nightly"] if r["email"] == "c1@example.com")
    assert (c1_row["name"], c1_row["latest_comment"]) == ("Ana Maria Silva", "Broken again")


def test_a_long_range_done_in_spans_equals_one_span(tmp_path, monkeypatch):
    whole = Pipeline(tmp_path / "whole")
    _run_nights(whole, one_range=True)
    # One detractor response per span at most: every day of the range is a span of its own.
    monkeypatch.setattr(cases, "CASE_SPAN_RESPONSES", 1)
    spans = Pipeline(tmp_path / "spans")
    _run_nights(spans, one_range=True)
    with connect(WarehouseLayout(spans.warehouse)) as con:
        days = [dt.date(2026, 3, 2), dt.date(2026, 3, 3), dt.date(2026, 3, 4)]
        assert [len(span) for span, _ in cases.case_spans(con, WarehouseLayout(spans.warehouse), days)] == [1, 1, 1]
    for table, key in (("detractor_cases", "case_id"), ("detractor_case_responses", "response_id"), ("detractor_followups", "response_id")):
        assert_frame_equal(whole.table(table, key), spans.table(table, key), check_dtypes=True)


def test_a_night_rewrites_only_its_own_days_of_the_case_log(tmp_path):
    pipeline = Pipeline(tmp_path)
    _run_nights(pipeline, one_range=False)
    store = CaseStore.load(WarehouseLayout(pipeline.warehouse).internal / "cases")
    before = {day: (store.path(name).stat().st_ino, store.path(name).stat().st_mtime_ns) for day, name in store.log_days.items()}
    published = WarehouseLayout(pipeline.warehouse).day_file("detractor_case_responses", min(before))
    published_before = published.stat().st_mtime_ns

    pipeline.land("2026-03-05.csv", export("r10,2026-03-05T09:00:00Z,1,Awful,C1,c1@example.com,email,EMEA,Pro,support,standard,en,Ana,Silva"))
    result = pipeline.run("2026-03-05")
    store = CaseStore.load(store.root)
    assert {day: (store.path(name).stat().st_ino, store.path(name).stat().st_mtime_ns) for day, name in store.log_days.items() if day in before} == before
    assert published.stat().st_mtime_ns == published_before
    # Only C1's case was rebuilt (the response joined it); the other four were kept as they were.
    materialisation = next(
        e for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() == "detractor_cases"
    )
    assert materialisation.materialization.metadata["cases_rebuilt"].value == 1
    assert len({p.name for p in store.root.glob("log/*.parquet")}) == len(store.log_days)  # replaced files are gone
    # r10 is later than the case's responses: its previous row took it, no older log day was read,
    # and the result is what a rebuild of the whole range from the log gives.
    assert materialisation.materialization.metadata["cases_merged"].value == 1
    ranged = Pipeline(tmp_path / "ranged")
    _run_nights(ranged, one_range=True)
    ranged.land("2026-03-05.csv", export("r10,2026-03-05T09:00:00Z,1,Awful,C1,c1@example.com,email,EMEA,Pro,support,standard,en,Ana,Silva"))
    ranged.run("2026-03-02", "2026-03-05")
    assert_frame_equal(pipeline.table("detractor_cases", "case_id"), ranged.table("detractor_cases", "case_id"))
    c1 = pipeline.table("detractor_cases", "case_id").filter(pl.col("first_response_id") == "r1").row(0, named=True)
    assert (c1["responses"], c1["latest_response_id"], c1["worst_score"], c1["priority"]) == (4, "r10", 1, "P1")


def test_a_response_whose_date_was_corrected_leaves_its_old_day(tmp_path):
    pipeline = Pipeline(tmp_path)
    pipeline.land("a.csv", export("r1,2026-03-02T09:00:00Z,5,Late,C1,c1@example.com,email,EMEA,Pro,support,standard,en,Ana,Silva"), mtime=1_000)
    pipeline.run("2026-03-02")
    case = _case_of(pipeline, "r1")
    # A later export corrects the submission date: the response now belongs to 03-03.
    pipeline.land("b.csv", export("r1,2026-03-03T09:00:00Z,4,Late,C1,c1@example.com,email,EMEA,Pro,support,standard,en,Ana,Silva"), mtime=2_000)
    pipeline.run("2026-03-03")
    rows = pipeline.table("detractor_case_responses")
    assert rows.select("response_id", "response_date", "case_id").rows() == [("r1", dt.date(2026, 3, 3), case)]
    assert pipeline.table("detractor_cases")["worst_score"].to_list() == [4]


def test_the_superseded_index_updated_in_place_equals_a_rebuild(tmp_path):
    pipeline = Pipeline(tmp_path)
    rows = ["r1,2026-03-02T09:00:00Z,5,a,C1,,web,NA,Pro,support,standard,en,,", "r2,2026-03-02T10:00:00Z,9,b,C2,,web,NA,Pro,support,standard,en,,"]
    pipeline.land("a.csv", export(*rows), mtime=1_000)
    pipeline.run("2026-03-02")
    pipeline.land("b.csv", export(rows[0].replace(",5,", ",6,"), "r3,2026-03-02T11:00:00Z,7,c,C3,,web,NA,Pro,support,standard,en,,"), mtime=2_000)
    pipeline.run("2026-03-02")
    # a.csv changes: r1 is gone from it, r3 appears in it too (newer than b.csv).
    pipeline.land("a.csv", export(rows[1], "r3,2026-03-02T11:00:00Z,8,c,C3,,web,NA,Pro,support,standard,en,,"), mtime=3_000)
    pipeline.run("2026-03-02")

    layout = WarehouseLayout(pipeline.warehouse)
    updated = pl.read_parquet(layout.superseded).sort("response_id", "source_file", "source_row")
    with connect(layout) as con:
        dedupe.rebuild_superseded_index(con, layout)
    rebuilt = pl.read_parquet(layout.superseded).sort("response_id", "source_file", "source_row")
    assert_frame_equal(updated, rebuilt)
    assert updated.select("response_id", "source_file", "kept_source_file").rows() == [("r3", "b.csv", "a.csv")]
    scores = dict(pipeline.table("responses").select("response_id", "score").rows())
    assert scores == {"r1": 6, "r2": 9, "r3": 8}


def test_the_case_responses_table_is_published_by_day(tmp_path):
    table = "detractor_case_responses"
    pipeline = Pipeline(tmp_path)
    _run_nights(pipeline, one_range=False)
    layout = WarehouseLayout(pipeline.warehouse)
    assert not layout.table_file(table).exists()
    days = sorted(p.name for p in layout.table_dir(table).glob("response_date=*"))
    assert days == ["response_date=2026-03-02", "response_date=2026-03-03", "response_date=2026-03-04"]


def test_a_night_without_detractors_or_updates_keeps_every_case(tmp_path):
    pipeline = Pipeline(tmp_path)
    _run_nights(pipeline, one_range=False)
    before = pipeline.table("detractor_cases", "case_id")
    pipeline.land("2026-03-05.csv", export("r10,2026-03-05T09:00:00Z,10,Great,C9,c9@example.com,web,NA,Pro,support,standard,en,Zed,Oh"))
    result = pipeline.run("2026-03-05")
    materialisation = next(
        e for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() == "detractor_cases"
    )
    assert materialisation.materialization.metadata["cases_rebuilt"].value == 0
    assert_frame_equal(pipeline.table("detractor_cases", "case_id"), before)


def test_a_warehouse_kept_before_the_case_store_is_moved_into_it_once(tmp_path):
    """The layout before: one case log file and one events file, detractor_case_responses in one file."""
    pipeline = Pipeline(tmp_path)
    _run_nights(pipeline, one_range=False)
    layout = WarehouseLayout(pipeline.warehouse)
    cases_before = pipeline.table("detractor_cases", "case_id")
    handoff_before = handoff.current_open_cases(layout).drop("revision")
    store = CaseStore.load(layout.internal / "cases")
    log = store.scan_log({}).collect().drop("comment", "email", "respondent_name")
    events = pl.read_parquet(store.path(store.events))
    for path in store.referenced() | {store.root / "manifest.json"}:
        path.unlink()
    log.write_parquet(store.root / "case_responses.parquet")
    events.write_parquet(store.root / "status_events.parquet")
    published = layout.table_dir("detractor_case_responses")
    for day_file in published.glob("response_date=*/data.parquet"):
        day_file.unlink()
    log.drop("source_file", "source_row").write_parquet(layout.table_file("detractor_case_responses"))

    pipeline.run("2026-03-04")

    store = CaseStore.load(layout.internal / "cases")
    assert store.exists and not (store.root / "case_responses.parquet").exists()
    assert not layout.table_file("detractor_case_responses").exists()
    assert_frame_equal(pipeline.table("detractor_cases", "case_id"), cases_before)
    assert pipeline.table("detractor_case_responses").height == log.height
    # The contacts came back from the staged rows. The store is new, so the full list is written again.
    assert json.loads((pipeline.warehouse / "handoff" / "manifest.json").read_text(encoding="utf-8"))["changed_rows"] == 0
    assert_frame_equal(handoff.current_open_cases(layout).drop("revision"), handoff_before)


def test_a_case_without_merge_state_is_rebuilt_from_its_rows_then_merged_the_next_night(tmp_path):
    pipeline = Pipeline(tmp_path / "nightly")
    _run_nights(pipeline, one_range=False)
    # As a store written before the merge state existed: contacts only.
    store = CaseStore.load(WarehouseLayout(pipeline.warehouse).internal / "cases")
    contacts = store.path(store.contacts)
    pl.read_parquet(contacts).select("case_id", "email", "name", "latest_comment").write_parquet(contacts)

    nights = {
        "2026-03-05": "r10,2026-03-05T09:00:00Z,1,Awful,C1,c1@example.com,email,EMEA,Pro,support,standard,en,Ana,Silva",
        "2026-03-06": "r11,2026-03-06T09:00:00Z,4,Still bad,C1,c1@example.com,email,EMEA,Pro,support,standard,en,Ana,Silva",
    }
    merged = []
    for day, row in nights.items():
        pipeline.land(f"{day}.csv", export(row))
        result = pipeline.run(day)
        event = next(e for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() == "detractor_cases")
        merged.append(event.materialization.metadata["cases_merged"].value)
    assert merged == [0, 1]

    ranged = Pipeline(tmp_path / "ranged")
    _run_nights(ranged, one_range=True)
    for day, row in nights.items():
        ranged.land(f"{day}.csv", export(row))
    ranged.run("2026-03-02", "2026-03-06")
    assert_frame_equal(pipeline.table("detractor_cases", "case_id"), ranged.table("detractor_cases", "case_id"))


def test_merging_day_files_into_one_equals_duckdb_union_by_name(tmp_path):
    from nps_pipeline.storage import merge_parquet_files, sql

    layout = WarehouseLayout(tmp_path / "warehouse")
    schema = {"window_end": pl.Date, "nps": pl.Float64, "segment": pl.String}
    same = [tmp_path / "schema.parquet", tmp_path / "a.parquet", tmp_path / "b.parquet"]
    pl.DataFrame(schema=schema).write_parquet(same[0])
    pl.DataFrame({"window_end": [dt.date(2026, 3, 1)], "nps": [10.0], "segment": ["all"]}).write_parquet(same[1])
    pl.DataFrame({"window_end": [dt.date(2026, 3, 2)], "nps": [None], "segment": ["EMEA"]}, schema=schema).write_parquet(same[2])
    # A day written before a column existed, and one whose column has another type.
    older = tmp_path / "older.parquet"
    pl.DataFrame({"window_end": [dt.date(2026, 2, 28)], "nps": [-5.0]}).write_parquet(older)
    retyped = tmp_path / "retyped.parquet"
    pl.DataFrame({"window_end": [dt.date(2026, 3, 3)], "nps": [7], "segment": ["NA"], "extra": [1]}).write_parquet(retyped)

    with connect(layout) as con:
        for files in (same, [*same, older], [*same, retyped]):
            target = tmp_path / "merged.parquet"
            merge_parquet_files(con, [str(f) for f in files], target)
            expected = con.sql(sql("select_parquet_files"), params={"files": [str(f) for f in files]}).pl()
            merged = pl.read_parquet(target)
            assert set(merged.columns) == set(expected.columns)
            assert_frame_equal(merged.select(expected.columns).sort("window_end"), expected.sort("window_end"), check_dtypes=False)


def test_a_merge_reusing_the_last_one_equals_merging_every_day_file(tmp_path, monkeypatch):
    from nps_pipeline import storage
    from nps_pipeline.storage import SCHEMA_FILE, merge_days_reusing, merged_frame, replace_file

    full_merges = []
    monkeypatch.setattr(storage, "merged_frame", lambda con, files: (full_merges.append(len(files)), merged_frame(con, files))[1])

    layout = WarehouseLayout(tmp_path / "warehouse")
    table, schema = "nps_windows", {"window_end": pl.Date, "nps": pl.Float64, "segment": pl.String}
    layout.table_dir(table).mkdir(parents=True)
    pl.DataFrame(schema=schema).write_parquet(layout.table_dir(table) / SCHEMA_FILE)
    days = [dt.date(2026, 3, 1) + dt.timedelta(days=i) for i in range(6)]

    def write_day(day: dt.date, nps: float, extra: dict | None = None) -> None:
        frame = pl.DataFrame({"window_end": [day, day], "nps": [nps, -nps], "segment": ["all", "EMEA"], **(extra or {})})
        replace_file(layout.day_file(table, day), frame.write_parquet)

    for i, day in enumerate(days[:4]):
        write_day(day, float(i))
    calls = 0

    def same_as_full_merge(window: list[dt.date]) -> None:
        nonlocal calls
        calls += 1
        expected, merged = tmp_path / f"expected{calls}.parquet", tmp_path / f"merged{calls}.parquet"
        with connect(layout) as con:
            merged_frame(con, layout.table_files_for_days(table, window)).write_parquet(expected)  # the unpatched full merge
            merge_days_reusing(con, layout, table, window, merged)
        assert_frame_equal(pl.read_parquet(merged), pl.read_parquet(expected))

    same_as_full_merge(days[:4])  # nothing kept yet
    same_as_full_merge(days[:4])  # the kept merge is this one
    write_day(days[4], 4.0)  # a new night
    same_as_full_merge(days[1:5])
    write_day(days[2], 20.0)  # a backfilled day in the middle: a new file
    same_as_full_merge(days[1:5])
    (layout.day_file(table, days[3])).unlink()  # a day gone
    same_as_full_merge(days[:6])
    write_day(days[5], 5.0, {"extra": [1, 2]})  # a day with a column the others lack
    pl.DataFrame(schema={**schema, "extra": pl.Int64}).write_parquet(layout.table_dir(table) / SCHEMA_FILE)
    same_as_full_merge(days[:6])
    assert pl.read_parquet(tmp_path / f"merged{calls}.parquet")["nps"].to_list() == [0.0, -0.0, 1.0, -1.0, 20.0, -20.0, 4.0, -4.0, 5.0, -5.0]
    # Every file read only for the first merge and after the columns changed; the others reused the kept one.
    assert full_merges == [5, 6]
