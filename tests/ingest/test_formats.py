"""Vendor exports: recognised from content, mapped, excluded where the tool says so, NPS by hand."""

import datetime as dt
import shutil
import time
from pathlib import Path

import duckdb
import openpyxl
import polars as pl
import pytest

from nps_pipeline.defs.ingest.formats import RECOMMEND_QUESTION, fold
from nps_pipeline.defs.ingest.landing import FileProblem, LandedFile
from nps_pipeline.defs.ingest.readers import read_export
from tests.conftest import Pipeline

FIXTURES = Path(__file__).parent.parent / "fixtures" / "exports"
MARCH_1, MARCH_2 = dt.date(2024, 3, 1), dt.date(2024, 3, 2)


def landed(path: Path, root: Path) -> LandedFile:
    stat = path.stat()
    return LandedFile(path, path.relative_to(root).as_posix(), stat.st_size, stat.st_mtime_ns)


@pytest.mark.parametrize(
    "name, source_format",
    [
        ("qualtrics/nps_current.csv", "qualtrics"),
        ("qualtrics/nps_legacy.csv", "qualtrics_legacy"),
        ("surveymonkey/answer_text.csv", "surveymonkey"),
        ("typeform.tsv", "typeform"),
        ("google_forms.csv", "google_forms"),
        ("delighted.csv", "delighted"),
        ("delighted.jsonl", "delighted"),
    ],
)
def test_layout_is_recognised_from_content_not_name(tmp_path, name, source_format):
    renamed = tmp_path / "export_without_a_telling_name.dat"
    shutil.copy(FIXTURES / name, renamed)
    if name.endswith(".jsonl"):
        renamed = renamed.rename(renamed.with_suffix(".jsonl"))
    assert read_export(duckdb.connect(), landed(renamed, tmp_path)).source_format == source_format


@pytest.mark.parametrize("name", ["qualtrics/sample_current_no_nps.csv", "qualtrics/sample_legacy_no_nps.csv"])
def test_real_qualtrics_samples_without_an_nps_question_are_reported(name):
    with pytest.raises(FileProblem, match="^Qualtrics export, no 0-10 'recommend' question found .*; name one in nps_sources.toml$"):
        read_export(duckdb.connect(), landed(FIXTURES / name, FIXTURES))


@pytest.mark.parametrize(
    "question",
    [
        "How likely is it that you would recommend Acme to a friend or colleague?",
        "¿Qué tan probable es que recomiende nuestro producto a un amigo?",
        "Quelle est la probabilité que vous recommandiez notre service à un proche ?",
        "Wie wahrscheinlich ist es, dass Sie uns einem Freund weiterempfehlen?",
        "Qual a probabilidade de você recomendar nossa empresa a um amigo?",
        "Seberapa besar kemungkinan Anda merekomendasikan kami kepada teman?",
        "您向朋友或同事推荐我们的可能性有多大？",
        "چقدر احتمال دارد که ما را به یک دوست توصیه کنید؟",
        "چه قدر احتمال دارد ما را به دوستانتان پيشنهاد کنيد؟",
    ],
    ids=["en", "es", "fr", "de", "pt", "id", "zh", "fa", "fa-arabic-ye"],
)
def test_the_recommend_question_is_found_in_every_supported_language(question):
    assert RECOMMEND_QUESTION.search(fold(question))
    assert not RECOMMEND_QUESTION.search(fold("How satisfied are you with delivery?"))


def run_fixture(tmp_path, *names: str) -> Pipeline:
    # Fixtures are a handful of rows each: one deliberate bad row passes the default 10 % threshold.
    pipeline = Pipeline(tmp_path, max_rejected_share=0.5)
    for name in names:
        target = pipeline.landing / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(FIXTURES / name, target)
    shutil.copy(FIXTURES / "nps_sources.toml", pipeline.landing / "nps_sources.toml")
    assert pipeline.run("2024-03-01", "2024-03-02").success
    return pipeline


def daily(pipeline):
    return pipeline.table("nps_daily", "response_date").select("response_date", "responses", "promoters", "detractors", "nps").rows()


# Each expectation is worked out by hand from the fixture file, in UTC days.
HAND_COMPUTED = {
    # R_1 10 at 08:00 Denver = 15:00 UTC 1 Mar; R_7 8 at 09:00 Denver = 16:00 UTC; R_2 3 at 20:00 Denver =
    # 03:00 UTC 2 Mar. R_3 preview, R_4 spam, R_5 unfinished are excluded; R_6 (9 but group Detractor) quarantined.
    "qualtrics/nps_current.csv": [(MARCH_1, 2, 1, 0, 50.0), (MARCH_2, 1, 0, 1, -100.0)],
    # R_L1 9 and R_L2 6 on 1 Mar (no time zone given: the reporting zone); R_L3 is a preview.
    "qualtrics/nps_legacy.csv": [(MARCH_1, 2, 1, 1, 0.0), (MARCH_2, 0, 0, 0, None)],
    # New York time (nps_sources.toml): '10 - Extremely likely' 14:15 UTC, 8 at 18:05 UTC on 1 Mar; '0 - Not at all
    # likely' at 10:15 PM = 03:15 UTC 2 Mar; 'Extremely likely' has no number and is quarantined.
    "surveymonkey/answer_text.csv": [(MARCH_1, 2, 1, 0, 50.0), (MARCH_2, 1, 0, 1, -100.0)],
    # Submit Date (UTC): 9 and 7 on 1 Mar, 4 at 00:01 on 2 Mar.
    "typeform.tsv": [(MARCH_1, 2, 1, 0, 50.0), (MARCH_2, 1, 0, 1, -100.0)],
    # 10, 2, 2 (the same answers at the same moment: one response), 9.
    "google_forms.csv": [(MARCH_1, 3, 2, 1, pytest.approx(100 / 3)), (MARCH_2, 0, 0, 0, None)],
    # 10 at 10:00 -08:00 = 18:00 UTC 1 Mar; 6 at 18:00 -08:00 = 02:00 UTC 2 Mar.
    "delighted.csv": [(MARCH_1, 1, 1, 0, 100.0), (MARCH_2, 1, 0, 1, -100.0)],
    # Unix seconds 1709287200.. = 10:00, 11:00, 12:00 UTC 1 Mar: 9, 3, 8.
    "delighted.jsonl": [(MARCH_1, 3, 1, 1, 0.0), (MARCH_2, 0, 0, 0, None)],
}


@pytest.mark.parametrize("name", list(HAND_COMPUTED))
def test_daily_nps_of_each_format_equals_the_hand_computed_value(tmp_path, name):
    pipeline = run_fixture(tmp_path, name)
    assert daily(pipeline) == HAND_COMPUTED[name]


def test_qualtrics_exclusions_group_check_and_personal_data(tmp_path):
    pipeline = run_fixture(tmp_path, "qualtrics/nps_current.csv", "surveymonkey/answer_text.csv")
    files = {r["source_file"]: r for r in pipeline.table("ingest_files").iter_rows(named=True)}
    qualtrics = files["qualtrics/nps_current.csv"]
    assert (qualtrics["rows_in_file"], qualtrics["rows_excluded"], qualtrics["rows_read"]) == (7, 3, 4)
    assert (qualtrics["rows_valid"], qualtrics["rows_quarantined"]) == (3, 1)
    assert "Qualtrics Status 1 (survey preview): not a real response: 1" in qualtrics["excluded_reasons"]
    assert "unfinished response (Finished = 0): 1" in qualtrics["excluded_reasons"]
    quarantine = pipeline.table("quarantine")
    assert "Qualtrics NPS group '1' disagrees with the score" in quarantine["reasons"].to_list()
    responses = pipeline.table("responses", "response_id")
    first = responses.row(0, named=True)
    assert (first["response_id"], first["channel"], first["language"], first["comment"]) == (
        "qualtrics:R_1aaa", "email", "de", 'Sehr gut, "wirklich"'
    )
    assert '"plan":"pro"' in first["attributes"]
    followups = pipeline.table("detractor_followups", "response_id")
    assert followups.select("response_id", "email").rows()[0] == ("qualtrics:R_2bbb", "bob@example.com")
    # IP addresses, locations and names never reach a published table (quarantine keeps raw rows).
    for table in ("responses", "nps_daily_segment", "detractor_followups", "ingest_files", "duplicates"):
        text = str(pipeline.table(table).rows())
        for secret in ("130.92.34.66", "10.0.0.1", "47.1", "Muster", "Anna", "Ann'", "Lee"):
            assert secret not in text, (table, secret)


def test_an_unrecognised_file_is_reported_and_never_half_ingested(tmp_path):
    pipeline = Pipeline(tmp_path)
    shutil.copy(FIXTURES / "typeform.tsv", pipeline.landing / "typeform.tsv")
    pipeline.land("mystery.csv", "order_id,amount,currency\n1,10.00,EUR\n")
    result = pipeline.run("2024-03-01", raise_on_error=False)
    check = next(e for e in result.get_asset_check_evaluations() if e.check_name == "every_file_readable")
    assert "mystery.csv: layout not recognised" in check.description
    assert check.description.endswith("missing response_id, submitted_at, score; the header has 3 column(s))")
    assert "order_id" not in check.description  # the file's own text is never quoted
    assert (pipeline.landing / "mystery.csv").exists()
    responses = pipeline.table("responses")
    assert set(responses["source_file"]) == {"typeform.tsv"}


def test_an_undecidable_nps_column_is_reported_and_a_mapping_file_decides_it(tmp_path):
    pipeline = Pipeline(tmp_path)
    pipeline.land("tf/survey.csv", "#,Rate us from 0 to 10,Submit Date (UTC),Network ID\nt1,9,2024-03-01 10:00:00,n1\n")
    result = pipeline.run("2024-03-01", raise_on_error=False)
    check = next(e for e in result.get_asset_check_evaluations() if e.check_name == "every_file_readable")
    assert check.description == "tf/survey.csv: Typeform export, no 0-10 'recommend' question found; name one in nps_sources.toml"
    pipeline.land("nps_sources.toml", '[[source]]\npath = "tf/*"\nnps_column = "Rate us from 0 to 10"\n')
    assert pipeline.run("2024-03-01").success
    assert pipeline.table("responses").select("response_id", "score").rows() == [("typeform:t1", 9)]


def test_xlsx_exports_are_read(tmp_path):
    pipeline = Pipeline(tmp_path)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Timestamp", "Email Address", "How likely are you to recommend us to a friend?", "Why?"])
    sheet.append([dt.datetime(2024, 3, 1, 10, 0, 5), "x1@example.com", 10, "Great"])
    sheet.append([dt.datetime(2024, 3, 1, 11, 0, 0), "x2@example.com", "3", "Slow"])
    workbook.save(pipeline.landing / "form.xlsx")
    assert pipeline.run("2024-03-01").success
    assert daily(pipeline) == [(MARCH_1, 2, 1, 1, 0.0)]
    assert pipeline.table("detractor_followups")["email"].to_list() == ["x2@example.com"]


def test_a_re_export_with_an_edited_score_replaces_the_response_and_is_recorded(tmp_path):
    pipeline = Pipeline(tmp_path, max_rejected_share=0.5)
    original = (FIXTURES / "qualtrics/nps_current.csv").read_text(encoding="utf-8")
    pipeline.land("q/first_export.csv", original, mtime=time.time() - 3600)
    pipeline.land("q/second_export.csv", original.replace(",R_7ggg,", ",R_7ggg,").replace(",8,2,ok,", ",10,3,ok,"))
    assert pipeline.run("2024-03-01", "2024-03-02").success
    responses = pipeline.table("responses", "response_id")
    assert responses["response_id"].is_unique().all()
    r7 = responses.filter(pl.col("response_id") == "qualtrics:R_7ggg").row(0, named=True)
    assert (r7["score"], r7["source_file"]) == (10, "q/second_export.csv")
    changed = pipeline.table("duplicates").filter(pl.col("score_changed"))
    assert changed.select("response_id", "score", "kept_score").rows() == [("qualtrics:R_7ggg", 8, 10)]


def _records(name: str) -> list[list[str]]:
    import csv

    text = (FIXTURES / name).read_text(encoding="utf-8-sig")
    delimiter = "\t" if name.endswith(".tsv") else ","
    return [row for row in csv.reader(text.splitlines(keepends=True), delimiter=delimiter) if row]


def _as_tsv(name: str, target: Path) -> Path:
    import csv

    path = target.with_suffix(".tsv")
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter="\t", lineterminator="\r\n").writerows(_records(name))
    return path


def _as_xlsx(name: str, target: Path) -> Path:
    workbook = openpyxl.Workbook()
    for row in _records(name):
        workbook.active.append([cell if cell != "" else None for cell in row])
    path = target.with_suffix(".xlsx")
    workbook.save(path)
    return path


def _as_encoding(encoding: str):
    def convert(name: str, target: Path) -> Path:
        path = target.with_suffix(".csv")
        path.write_bytes((FIXTURES / name).read_text(encoding="utf-8-sig").encode(encoding))
        return path

    return convert


CSV_FIXTURES = [n for n in HAND_COMPUTED if n.endswith(".csv")]


@pytest.mark.parametrize("name", CSV_FIXTURES)
@pytest.mark.parametrize(
    "convert", [_as_tsv, _as_xlsx, _as_encoding("utf-16"), _as_encoding("cp1252")], ids=["tsv", "xlsx", "utf16", "cp1252"]
)
def test_every_layout_reads_the_same_from_tsv_xlsx_utf16_and_windows_1252(tmp_path, name, convert):
    pipeline = Pipeline(tmp_path, max_rejected_share=0.5)
    target = pipeline.landing / Path(name).parent / "converted"
    target.parent.mkdir(parents=True, exist_ok=True)
    convert(name, target)
    shutil.copy(FIXTURES / "nps_sources.toml", pipeline.landing / "nps_sources.toml")
    assert pipeline.run("2024-03-01", "2024-03-02").success
    assert daily(pipeline) == HAND_COMPUTED[name]


def test_quarantined_vendor_rows_carry_no_personal_data(tmp_path):
    pipeline = run_fixture(tmp_path, "qualtrics/nps_current.csv")
    raw = pipeline.table("quarantine")["raw_record"].to_list()
    assert len(raw) == 1 and "1.2.3.6" not in raw[0] and "<personal data removed>" in raw[0]
    assert "R_6fff" in raw[0]


def test_typeform_partial_responses_are_excluded_and_counted(tmp_path):
    pipeline = Pipeline(tmp_path)
    pipeline.land(
        "tf.csv",
        "#,How likely are you to recommend us?,Response Type,Submit Date (UTC),Network ID\n"
        "p1,10,completed,2024-03-01 10:00:00,n1\np2,0,partial,2024-03-01 11:00:00,n2\n",
    )
    assert pipeline.run("2024-03-01").success
    assert pipeline.table("responses")["response_id"].to_list() == ["typeform:p1"]
    files = pipeline.table("ingest_files").row(0, named=True)
    assert (files["rows_in_file"], files["rows_excluded"], files["excluded_reasons"]) == (
        2, 1, "partial response (Response Type = partial): 1"
    )


def test_two_qualtrics_nps_questions_are_reported_unless_one_is_named(tmp_path):
    original = (FIXTURES / "qualtrics/nps_current.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    # A second NPS question (tag Support, QID9) beside the first: add its two columns to every record.
    header = original[0].rstrip("\n") + ",Support,Support_NPS_GROUP\n"
    labels_end = next(i for i, line in enumerate(original) if line.startswith('"{'))
    rows = [header, *original[1:labels_end]]
    rows[-1] = rows[-1].rstrip("\n") + ",Support?,Support - Gruppe\n"
    rows.append(original[labels_end].rstrip("\n") + ',"{""ImportId"":""QID9""}","{""ImportId"":""QID9_NPS_GROUP""}"\n')
    rows += [line.rstrip("\n") + ",5,1\n" for line in original[labels_end + 1 :]]
    path = tmp_path / "two.csv"
    path.write_text("".join(rows), encoding="utf-8")
    with pytest.raises(FileProblem, match="cannot decide the NPS column \\(2 NPS questions: Recommend, Support\\)"):
        read_export(duckdb.connect(), landed(path, tmp_path))
    from nps_pipeline.defs.ingest.formats import SourceSettings

    export = read_export(duckdb.connect(), landed(path, tmp_path), SourceSettings(nps_column="Support"))
    assert set(export.rows["score"].to_list()) == {"5"}


@pytest.mark.parametrize(
    "content, message",
    [('{"id": "1", "score": 9\n', "not valid JSON"), ('{"order": 1, "total": 9}\n', "not Delighted survey responses")],
    ids=["broken", "not-delighted"],
)
def test_json_that_is_not_delighted_responses_is_reported(tmp_path, content, message):
    path = tmp_path / "export.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(FileProblem, match=message):
        read_export(duckdb.connect(), landed(path, tmp_path))


def test_spreadsheet_quirks_google_zones_delighted_offsets_dotted_dates_and_blank_rows(tmp_path):
    pipeline = Pipeline(tmp_path)
    pipeline.land(
        "forms.csv",
        "Timestamp,Email Address,How likely are you to recommend us to a friend or colleague?,Why?\n"
        "2024/03/01 10:15:33 AM GMT+1,g1@example.com,10,Nice\n"
        "2024/03/01 11:15:33 PM GMT-5,g2@example.com,5,Slow\n",
    )
    pipeline.land(
        "delighted_web.csv",
        "Response ID,Created At,Updated At,Survey Type,Score,Comment,Person ID,Name,Email\n"
        "1001,2024-03-01 10:00:00 -0800,2024-03-01 10:00:00 -0800,nps,8,Good,p1,Ann Lee,ann@example.com\n",
    )
    # Saved from a German spreadsheet: day-first dotted dates, and rows of bare delimiters at the end.
    pipeline.land(
        "de.csv",
        "response_id;submitted_at;score;comment\r\ns1;01.03.2024 10:00;8;Ça va\r\n;;;\r\n;;;\r\n",
    )
    assert pipeline.run("2024-03-01", "2024-03-02").success
    responses = pipeline.table("responses").sort("submitted_at")
    assert responses.select("source_file", "submitted_at").rows() == [
        ("forms.csv", dt.datetime(2024, 3, 1, 9, 15, 33, tzinfo=dt.timezone.utc)),
        ("de.csv", dt.datetime(2024, 3, 1, 10, 0, tzinfo=dt.timezone.utc)),
        ("delighted_web.csv", dt.datetime(2024, 3, 1, 18, 0, tzinfo=dt.timezone.utc)),
        ("forms.csv", dt.datetime(2024, 3, 2, 4, 15, 33, tzinfo=dt.timezone.utc)),
    ]
    files = {row["source_file"]: row for row in pipeline.table("ingest_files").iter_rows(named=True)}
    assert (files["de.csv"]["rows_read"], files["de.csv"]["rows_valid"], files["de.csv"]["rows_excluded"]) == (1, 1, 2)
    assert files["de.csv"]["excluded_reasons"] == "blank row (every field empty): 2"
    assert pipeline.table("quarantine").is_empty()


def test_excel_separator_line_and_exports_joined_end_to_end(tmp_path):
    pipeline = Pipeline(tmp_path)
    # Excel writes "sep=;" above the header when asked to keep its list separator; here in Windows-1252.
    pipeline.land("hint.csv", "sep=;\r\nresponse_id;submitted_at;score;comment\r\nh1;2024-03-01T10:00:00Z;7;Très bien\r\n".encode("cp1252"))
    pipeline.land(
        "joined.csv",
        "response_id,submitted_at,score\nj1,2024-03-01T10:00:00Z,9\nresponse_id,submitted_at,score\nj2,2024-03-01T11:00:00Z,6\n",
    )
    # Excel for Mac's "CSV (Macintosh)": lines end in a bare carriage return.
    pipeline.land("mac.csv", 'response_id,submitted_at,score,comment\rm1,2024-03-01T10:00:00Z,8,"two\rlines"\r')
    assert pipeline.run("2024-03-01").success
    responses = pipeline.table("responses", "response_id")
    assert responses.select("response_id", "score", "comment").rows() == [
        ("h1", 7, "Très bien"), ("j1", 9, None), ("j2", 6, None), ("m1", 8, "two\nlines"),
    ]
    files = {row["source_file"]: row for row in pipeline.table("ingest_files").iter_rows(named=True)}
    assert (files["hint.csv"]["rows_in_file"], files["hint.csv"]["rows_valid"]) == (1, 1)
    assert (files["joined.csv"]["rows_read"], files["joined.csv"]["rows_excluded"]) == (2, 1)
    assert files["joined.csv"]["excluded_reasons"] == "repeated header row (exports joined together): 1"
    assert pipeline.table("quarantine").is_empty()


def test_qualtrics_offline_app_responses_are_real_responses(tmp_path):
    text = (FIXTURES / "qualtrics" / "nps_current.csv").read_text(encoding="utf-8")
    assert ",8,1.2.3.4," in text
    pipeline = Pipeline(tmp_path, max_rejected_share=0.5)  # the fixture's one deliberate bad row
    pipeline.land("offline.csv", text.replace(",8,1.2.3.4,", ",16,1.2.3.4,"))
    assert pipeline.run("2024-03-01").success
    assert "qualtrics:R_4ddd" in pipeline.table("responses")["response_id"].to_list()
    files = pipeline.table("ingest_files").row(0, named=True)
    assert "spam" not in files["excluded_reasons"] and "Status 1 (survey preview)" in files["excluded_reasons"]


def test_a_surveymonkey_export_saved_back_by_a_spreadsheet(tmp_path):
    pipeline = Pipeline(tmp_path, max_rejected_share=0.5)
    pipeline.land(
        "sm_resaved.csv",
        "Respondent ID,Collector ID,Start Date,End Date,IP Address,Email Address,First Name,Last Name,Custom Data 1,"
        "How likely is it that you would recommend Acme to a friend or colleague?\n"
        ",,,,,,,,,Response\n"
        "11400001,4001,03/01/2024 09:10,03/01/2024 09:15,10.0.0.1,ann@example.com,Ann,Lee,,10\n"
        "11400002,4001,03/01/2024 13:10,03/01/2024 13:15,10.0.0.2,bob@example.com,Bob,Ray,,3\n"
        "1.14E+10,4001,03/01/2024 14:10,03/01/2024 14:15,10.0.0.3,cy@example.com,Cy,Lu,,9\n",
    )
    assert pipeline.run("2024-03-01").success
    responses = pipeline.table("responses", "response_id")
    assert responses.select("response_id", "score").rows() == [("surveymonkey:11400001", 10), ("surveymonkey:11400002", 3)]
    assert responses["submitted_at"].dt.hour().to_list() == [9, 13]
    reasons = pipeline.table("quarantine")["reasons"].to_list()
    assert len(reasons) == 1 and "scientific notation" in reasons[0]


def test_zipped_and_gzipped_exports_are_read_and_a_zip_of_several_is_reported(tmp_path):
    import gzip
    import io
    import zipfile

    def zipped(members: dict[str, str]) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, text in members.items():
                archive.writestr(name, text)
        return buffer.getvalue()

    pipeline = Pipeline(tmp_path, max_rejected_share=0.5)  # the Qualtrics fixture's one deliberate bad row
    # Qualtrics downloads its CSV inside a zip named after the survey.
    pipeline.land("qualtrics_download.zip", zipped({
        "Survey Q4.csv": (FIXTURES / "qualtrics" / "nps_current.csv").read_text(encoding="utf-8"),
        "__MACOSX/._Survey Q4.csv": "resource fork",
    }))
    pipeline.land("nightly.csv.gz", gzip.compress(b"response_id,submitted_at,score\ng1,2024-03-01T10:00:00Z,10\n"))
    pipeline.land("two.zip", zipped({"a.csv": "response_id,submitted_at,score\n", "b.csv": "response_id,submitted_at,score\n"}))
    pipeline.land("broken.zip", b"PK\x03\x04 not really a zip")
    result = pipeline.run("2024-03-01", raise_on_error=False)
    files = {row["source_file"]: row for row in pipeline.table("ingest_files").iter_rows(named=True)}
    assert files["qualtrics_download.zip"]["status"] == "staged" and files["qualtrics_download.zip"]["source_format"] == "qualtrics"
    assert (files["nightly.csv.gz"]["status"], files["nightly.csv.gz"]["rows_valid"]) == ("staged", 1)
    assert files["two.zip"]["status"] == "rejected"
    assert files["two.zip"]["problem"].startswith("the zip archive holds 2 exports (it holds a.csv, b.csv)")
    assert files["broken.zip"]["problem"].startswith("cannot open the zip archive")
    readable = next(e for e in result.get_asset_check_evaluations() if e.check_name == "every_file_readable")
    assert not readable.passed and "two.zip" in readable.description and "broken.zip" in readable.description
