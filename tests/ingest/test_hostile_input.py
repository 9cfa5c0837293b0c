"""What users really drop in the landing zone: skipped questions, bad files, odd names, links, zones.

Every case is a file under tests/fixtures/hostile (or built here when it must be, such as a symlink),
and each test asserts the outcome and the exact message a person reads.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import polars as pl

from tests.conftest import Pipeline

HOSTILE = Path(__file__).parent.parent / "fixtures" / "hostile"


def land_fixture(pipeline: Pipeline, name: str, as_name: str | None = None) -> Path:
    target = pipeline.landing / (as_name or name)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(HOSTILE / name, target)
    return target


def test_a_skipped_nps_question_is_a_non_response_not_bad_data(tmp_path):
    pipeline = Pipeline(tmp_path)
    land_fixture(pipeline, "google_forms_optional_nps.csv")
    assert pipeline.run("2024-03-01", "2024-03-02").success
    files = pipeline.table("ingest_files").row(0, named=True)
    # 25 rows, 3 with the optional NPS question left blank (12 %): excluded and counted, none quarantined.
    assert (files["rows_in_file"], files["rows_read"], files["rows_excluded"], files["rows_quarantined"]) == (25, 22, 3, 0)
    assert files["excluded_reasons"] == "no NPS answer: 3"
    assert files["rejected_share"] == 0.0 and files["status"] == "staged"
    assert pipeline.table("quarantine").is_empty()
    assert pipeline.table("responses").height == 22
    assert pipeline.table("nps_daily").select(pl.col("responses").sum()).item() == 22


def test_vendor_exports_are_named_for_what_they_are(tmp_path):
    pipeline = Pipeline(tmp_path)
    for name in ("surveymonkey_no_nps.csv", "qualtrics_no_importid.csv", "typeform_persian.tsv"):
        land_fixture(pipeline, name)
    result = pipeline.run("2024-03-01", raise_on_error=False)
    assert result.success
    files = {r["source_file"]: r for r in pipeline.table("ingest_files").iter_rows(named=True)}
    # A SurveyMonkey export without an NPS question is told as such, and nothing of it is read.
    assert files["surveymonkey_no_nps.csv"]["status"] == "rejected"
    assert files["surveymonkey_no_nps.csv"]["problem"] == (
        "SurveyMonkey export, no 0-10 'recommend' question found; name one in nps_sources.toml"
    )
    # A Qualtrics export without the ImportId row (tags, labels, data): its preview excluded, its NPS group checked.
    assert (files["qualtrics_no_importid.csv"]["source_format"], files["qualtrics_no_importid.csv"]["rows_read"]) == ("qualtrics", 2)
    assert files["qualtrics_no_importid.csv"]["excluded_reasons"] == "Qualtrics Status 1 (survey preview): not a real response: 1"
    # A Persian Typeform export, its scores in Persian digits.
    responses = pipeline.table("responses", order_by="response_id")
    assert responses.select("response_id", "score").rows() == [
        ("qualtrics:R_old1", 10), ("qualtrics:R_old2", 3), ("typeform:fa1", 10), ("typeform:fa2", 3), ("typeform:fa3", 8),
    ]
    assert responses.filter(pl.col("response_id") == "typeform:fa2")["comment"].item() == "خیلی کند است"
    # Reported once as an error (the run it lands in), then as a warning: it fails no later run.
    check = next(e for e in result.get_asset_check_evaluations() if e.check_name == "every_file_readable")
    assert check.severity.value == "ERROR"
    later = pipeline.run("2024-03-01")
    check = next(e for e in later.get_asset_check_evaluations() if e.check_name == "every_file_readable")
    assert not check.passed and check.severity.value == "WARN"
    assert check.description == "surveymonkey_no_nps.csv: SurveyMonkey export, no 0-10 'recommend' question found; name one in nps_sources.toml"


def test_time_zone_names_are_honoured_or_quarantined_and_the_future_is_refused(tmp_path):
    pipeline = Pipeline(tmp_path, start_date="2025-01-01", max_rejected_share=0.9)
    land_fixture(pipeline, "time_zones.csv")
    assert pipeline.run("2025-11-10", "2025-11-11").success
    times = pipeline.table("responses", order_by="response_id").select(
        "response_id", pl.col("submitted_at").dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%d %H:%M"), "response_date"
    )
    assert times.rows() == [
        ("tz1", "2025-11-10 18:00", dt.date(2025, 11, 10)),  # PST is UTC-8
        ("tz2", "2025-11-10 09:00", dt.date(2025, 11, 10)),  # Paris in winter is UTC+1
        ("tz3", "2025-11-11 04:30", dt.date(2025, 11, 11)),  # New York in November is UTC-5: the next day in UTC
        ("tz7", "2025-11-10 10:00", dt.date(2025, 11, 10)),
    ]
    reasons = dict(pipeline.table("quarantine", order_by="source_row").select("source_row", "reasons").iter_rows())
    zone_rule = "that is neither an IANA name (such as America/Los_Angeles) nor an unambiguous abbreviation (such as PST): write the offset, or set timezone in nps_sources.toml"
    latest = dt.datetime.now(dt.timezone.utc).date() + dt.timedelta(days=1)
    assert reasons == {
        4: f"submitted_at '2025-11-10 10:00 CST' has a time zone 'CST' {zone_rule}",
        5: f"submitted_at '2025-11-10 10:00 Mars/Olympus' has a time zone 'Mars/Olympus' {zone_rule}",
        6: f"submitted_at '2099-01-01T00:00:00Z' is in the future (after {latest.isoformat()}, the day after the file was read)",
    }


def test_links_out_of_the_landing_zone_are_refused_unread_and_every_entry_has_a_row(tmp_path):
    pipeline = Pipeline(tmp_path)
    secret = tmp_path / "outside" / "passwd"
    secret.parent.mkdir()
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n", encoding="utf-8")
    land_fixture(pipeline, "time_zones.csv", "good.csv")
    (pipeline.landing / "linked_out.csv").symlink_to(secret)
    (pipeline.landing / "dangling.csv").symlink_to(tmp_path / "nowhere.csv")
    (pipeline.landing / "inside.csv").symlink_to(pipeline.landing / "good.csv")
    shutil.copyfile(HOSTILE / "time_zones.csv", pipeline.landing / "..csv")
    (pipeline.landing / "~$book.xlsx").write_bytes(b"lock")
    (pipeline.landing / "export.csv.part").write_text("response_id,submitted_at", encoding="utf-8")
    result = pipeline.run("2025-11-10", raise_on_error=False)
    assert result.success
    files = {r["source_file"]: (r["status"], r["problem"]) for r in pipeline.table("ingest_files").iter_rows(named=True)}
    assert files == {
        "..csv": ("ignored", "hidden file (name starts with '.'): not read; rename it to ingest it"),
        "dangling.csv": ("rejected", "broken symbolic link (its target does not exist): refused"),
        "export.csv.part": ("ignored", "file still being written or a temporary copy (.tmp, .part, .crdownload, .swp): not read"),
        "good.csv": ("staged", None),
        "inside.csv": ("staged", None),
        "linked_out.csv": ("rejected", "symbolic link to a file outside the landing zone: refused; land the file itself"),
        "~$book.xlsx": ("ignored", "an office application's lock file (name starts with '~$'): not read"),
    }
    # Nothing of the refused file's content reaches a message, a log line or a table.
    messages = " ".join(str(e.message) for e in result.all_events) + " ".join(
        str(e.description) for e in result.get_asset_check_evaluations()
    )
    assert "root:" not in messages
    for table in ("ingest_files", "quarantine", "responses"):
        assert "root:" not in str(pipeline.table(table).rows())


def test_mixed_encodings_are_decoded_line_by_line_and_duplicate_headers_refused(tmp_path):
    pipeline = Pipeline(tmp_path)
    land_fixture(pipeline, "mixed_encoding.csv")
    land_fixture(pipeline, "duplicate_score_header.csv")
    assert pipeline.run("2024-03-01").success
    comments = pipeline.table("responses", order_by="response_id")["comment"].to_list()
    assert comments == ["Café crème was great", "Naïve pricing (pasted from Word)", "✓ résumé upload works"]
    files = {r["source_file"]: r for r in pipeline.table("ingest_files").iter_rows(named=True)}
    assert files["mixed_encoding.csv"]["notes"] == (
        "mixed encodings: 1 line(s) not UTF-8 read as Windows-1252 (line 3), the others as UTF-8"
    )
    assert (files["duplicate_score_header.csv"]["status"], files["duplicate_score_header.csv"]["problem"]) == (
        "rejected", "duplicate column name(s) in the header: 'score' (columns 3, 5); rename or remove all but one"
    )


def test_google_sheets_tsv_is_read_without_quote_handling(tmp_path):
    pipeline = Pipeline(tmp_path)
    land_fixture(pipeline, "google_sheets.tsv")
    assert pipeline.run("2024-03-01").success
    comments = pipeline.table("responses").sort("submitted_at")["comment"].to_list()
    assert comments == ['"Best" tool we have used', 'it says "error 42', '"quoted, whole"']
    files = pipeline.table("ingest_files").row(0, named=True)
    assert (files["rows_read"], files["rows_quarantined"], files["excluded_reasons"]) == (3, 0, "no NPS answer: 1")
    assert files["notes"] == "read without quote handling (Google Sheets writes tab-separated values unquoted)"
