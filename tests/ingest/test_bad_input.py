"""Bad input: each fault gets a clear reason naming file, row and rule, and nothing is lost."""

import codecs

import dagster as dg
import duckdb
import polars as pl
import pytest

from nps_pipeline.defs.ingest.landing import FileProblem, LandedFile
from nps_pipeline.defs.ingest.readers import read_export
from tests.conftest import HEADER, Pipeline, rows_csv

GOOD = "r1,2024-03-01T10:00:00Z,9,fine,c1,a@example.com,email,EMEA,Pro,support,gold,en"


def read(tmp_path, content: bytes | str):
    path = tmp_path / "export.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    stat = path.stat()
    return read_export(duckdb.connect(), LandedFile(path, "export.csv", stat.st_size, stat.st_mtime_ns))


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "file is empty (0 bytes)"),
        (b"\n\n", "file is empty (no header row)"),
        (b"response_id,submitted_at,comment\nr1,2024-03-01T10:00:00Z,hi\n", "missing required column(s) score (canonical columns found: response_id, submitted_at, comment; the header has 3 column(s))"),
        ((HEADER + "\nr1,2024-03-01T10:00:00Z,9,caf\x81\n").encode("latin-1"), "file is neither UTF-8 nor Windows-1252: byte 0x81 on line 2"),
        (b"a,b\n1,2\n", "layout not recognised"),
    ],
    ids=["empty", "blank", "missing-column", "undecodable", "unrecognised"],
)
def test_file_problems_name_the_cause(tmp_path, content, message):
    with pytest.raises(FileProblem, match=message.replace("(", r"\(").replace(")", r"\)")):
        read(tmp_path, content)


def test_not_utf8_past_the_first_block_is_caught_with_its_line(tmp_path):
    good_rows = "\n".join(GOOD.replace("r1", f"r{i}") for i in range(3000))
    content = (HEADER + "\n" + good_rows + "\nrX,2024-03-01T10:00:00Z,9,caf\x81\n").encode("latin-1")
    with pytest.raises(FileProblem, match="byte 0x81 on line 3002"):
        read(tmp_path, content)


@pytest.mark.parametrize(
    "encode",
    [
        lambda t: t.encode("utf-8"),
        lambda t: codecs.BOM_UTF8 + t.encode("utf-8"),
        lambda t: t.encode("utf-16"),
        lambda t: t.encode("utf-16-le"),
        lambda t: t.encode("cp1252"),
    ],
    ids=["utf8", "utf8-bom", "utf16-bom", "utf16le-no-bom", "windows-1252"],
)
def test_encodings_are_decoded(tmp_path, encode):
    export = read(tmp_path, encode(rows_csv('r1,2024-03-01T10:00:00Z,9,"Très bien, "" merci",c1,,,,,,,fr')))
    assert export.rows["comment"].to_list() == ['Très bien, " merci']
    assert export.rows["response_id"].to_list() == ["r1"]


def test_header_only_file_has_no_rows(tmp_path):
    export = read(tmp_path, HEADER + "\n")
    assert export.rows_read == 0


def test_utf8_bom_and_crlf_are_accepted(tmp_path):
    export = read(tmp_path, codecs.BOM_UTF8 + rows_csv(GOOD).replace("\n", "\r\n").encode("utf-8"))
    assert export.rows["response_id"].to_list() == ["r1"]
    assert export.rejected.is_empty()


def test_ragged_rows_are_rejected_and_the_rest_kept(tmp_path):
    content = rows_csv(GOOD, "r2,2024-03-01T10:00:00Z,9,too,many,fields,here,x,y,z,w,v,u", "r3,2024-03-01T10:00:00Z,8", GOOD.replace("r1", "r4"))
    export = read(tmp_path, content)
    assert export.rows["response_id"].to_list() == ["r1", "r4"]
    assert export.rows["source_row"].to_list() == [1, 4]
    assert dict(zip(export.rejected["source_row"], export.rejected["reasons"])) == {
        2: "row has 13 fields but the header has 12",
        3: "row has 3 fields but the header has 12",
    }
    assert export.rejected["raw_record"][1] == "r3,2024-03-01T10:00:00Z,8"
    assert export.rows_read == 4


def test_unbalanced_quote_rejects_one_row_and_keeps_the_rest(tmp_path):
    content = rows_csv(GOOD, 'r2,2024-03-01T10:00:00Z,9,"never closed,c,e,x,y,z,w,v,u', GOOD.replace("r1", "r3"))
    export = read(tmp_path, content)
    assert export.rows["response_id"].to_list() == ["r1", "r3"]
    assert export.rejected["source_row"].to_list() == [2]
    assert export.rejected["reasons"][0].startswith("unbalanced quote")
    assert export.rows_read == 3


def test_embedded_newlines_and_quotes_survive(tmp_path):
    content = rows_csv('r1,2024-03-01T10:00:00Z,3,"line one\nline ""two""",c1,,,,,,,', GOOD.replace("r1", "r2"))
    export = read(tmp_path, content)
    assert export.rows["comment"].to_list() == ['line one\nline "two"', "fine"]
    assert export.rows["source_row"].to_list() == [1, 2]


def test_bad_rows_reach_quarantine_and_bad_files_do_not_stop_others(tmp_path):
    pipeline = Pipeline(tmp_path, max_rejected_share=0.5)
    pipeline.land(
        "good.csv",
        rows_csv(
            GOOD,
            GOOD.replace("r1", "r2").replace(",9,", ",11,"),
            GOOD.replace("r1", "r3").replace(",9,", ",-1,"),
            GOOD.replace("r1", "r4").replace(",9,", ",ten,"),
            GOOD.replace("r1", "r5").replace(",9,", ",7.5,"),
            GOOD.replace("r1", "r6").replace("2024-03-01T10:00:00Z", ""),
            GOOD.replace("r1", "r7").replace("2024-03-01T10:00:00Z", "01/03/2024 at noon"),
            GOOD.replace("r1,", ","),
            *[GOOD.replace("r1", f"ok{i}") for i in range(40)],
        ),
    )
    pipeline.land("broken.csv", (HEADER + "\nr9,2024-03-01T10:00:00Z,9,caf\x81\n").encode("latin-1"))
    pipeline.land("empty.csv", b"")
    pipeline.land("nocol.csv", "response_id,score\nx,9\n")
    result = pipeline.run("2024-03-01", raise_on_error=False)

    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    unreadable = checks["every_file_readable"]
    assert not unreadable.passed
    assert "broken.csv: file is neither UTF-8 nor Windows-1252" in unreadable.description
    assert "empty.csv: file is empty" in unreadable.description
    assert "nocol.csv: missing required column(s) submitted_at" in unreadable.description
    assert checks["rejected_share_within_threshold"].passed  # 7 of 48 rows is under the 50 % set here

    quarantine = pipeline.table("quarantine", "source_row")
    assert quarantine.filter(quarantine["source_file"] == "good.csv")["reasons"].to_list() == [
        "score 11 is outside 0-10",
        "score -1 is outside 0-10",
        "score 'ten' is not a whole number from 0 to 10",
        "score '7.5' is not a whole number from 0 to 10",
        "submitted_at is missing",
        "submitted_at '01/03/2024 at noon' is not an ISO 8601 timestamp nor in the source's date formats (set date_format in nps_sources.toml)",
        "response_id is empty",
    ]
    assert pipeline.table("responses").height == 41
    files = {r["source_file"]: r for r in pipeline.table("ingest_files").iter_rows(named=True)}
    assert files["good.csv"]["rows_read"] == 48 and files["good.csv"]["rows_quarantined"] == 7
    assert files["broken.csv"]["status"] == "rejected" and "neither UTF-8" in files["broken.csv"]["problem"]
    for row in files.values():
        assert row["rows_read"] == row["rows_valid"] + row["rows_duplicate"] + row["rows_quarantined"]


def test_a_corrected_file_replaces_its_quarantined_rows_and_the_others_are_not_written_again(tmp_path):
    pipeline = Pipeline(tmp_path, max_rejected_share=0.9)
    eleven = GOOD.replace("r1", "a2").replace(",9,", ",11,")
    pipeline.land("a.csv", rows_csv(GOOD, eleven, GOOD.replace("r1", "a3").replace(",9,", ",-1,")))
    pipeline.land("b.csv", rows_csv(GOOD.replace("r1", "b1"), GOOD.replace("r1", "b2").replace(",9,", ",12,")))
    pipeline.run("2024-03-01")

    def quarantined():
        return pipeline.table("quarantine", "source_file, source_row").select("source_file", "reasons").rows()

    assert quarantined() == [
        ("a.csv", "score 11 is outside 0-10"), ("a.csv", "score -1 is outside 0-10"), ("b.csv", "score 12 is outside 0-10"),
    ]
    parts = {p.parent.name: p.stat().st_ino for p in (pipeline.warehouse / "quarantine").glob("file_id=*/data.parquet")}
    assert len(parts) == 2

    pipeline.land("a.csv", rows_csv(GOOD, eleven.replace(",11,", ",9,"), GOOD.replace("r1", "a3").replace(",9,", ",-1,")), mtime=2_000_000_000)
    pipeline.run("2024-03-01")
    assert quarantined() == [("a.csv", "score -1 is outside 0-10"), ("b.csv", "score 12 is outside 0-10")]
    after = {p.parent.name: p.stat().st_ino for p in (pipeline.warehouse / "quarantine").glob("file_id=*/data.parquet")}
    changed = {name for name in after if after[name] != parts.get(name)}
    assert len(changed) == 1 and set(after) == set(parts)  # only a.csv's part was linked again
    for row in pipeline.table("ingest_files").iter_rows(named=True):
        assert row["rows_read"] == row["rows_valid"] + row["rows_duplicate"] + row["rows_quarantined"]


def test_a_file_over_the_rejected_share_is_held_back_alone(pipeline):
    bad_score = lambda i: GOOD.replace("r1", f"b{i}").replace(",9,", ",99,")  # noqa: E731
    good_row = lambda prefix, i: GOOD.replace("r1", f"{prefix}{i}")  # noqa: E731
    pipeline.land("mostly_bad.csv", rows_csv(*[good_row("m", i) for i in range(5)], *[bad_score(i) for i in range(20)]))
    pipeline.land("good.csv", rows_csv(*[good_row("g", i) for i in range(3)]))
    # Too few rows for its share to count (NPS_MIN_ROWS_FOR_REJECTED_SHARE, 20): its one bad row is quarantined, the rest published.
    pipeline.land("tiny.csv", rows_csv(good_row("t", 0), good_row("t", 1), good_row("t", 2), bad_score(99)))
    result = pipeline.run("2024-03-01", raise_on_error=False)
    assert result.success
    check = next(e for e in result.get_asset_check_evaluations() if e.check_name == "rejected_share_within_threshold")
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    reason = (
        "held back: 20 of 25 rows rejected (80.0% > 10.0%); its rows are not published until the file is fixed, "
        "or accepted with accept_rejected = true for it in nps_sources.toml (reasons in quarantine)"
    )
    assert check.description == f"mostly_bad.csv: {reason}"
    # Every other file publishes; the held-back file's rows do not, and its reasons are there.
    assert sorted(pipeline.table("responses")["response_id"]) == ["g0", "g1", "g2", "t0", "t1", "t2"]
    files = {r["source_file"]: r for r in pipeline.table("ingest_files").iter_rows(named=True)}
    held = files["mostly_bad.csv"]
    assert (held["status"], held["problem"], held["rows_held_back"]) == ("held_back", reason, 5)
    assert held["rows_read"] == held["rows_valid"] + held["rows_duplicate"] + held["rows_quarantined"] == 25
    assert (files["tiny.csv"]["status"], files["tiny.csv"]["rows_quarantined"], files["tiny.csv"]["rows_held_back"]) == ("staged", 1, 0)
    quarantine = pipeline.table("quarantine")
    assert quarantine.group_by("source_file").len().sort("source_file").rows() == [("mostly_bad.csv", 20), ("tiny.csv", 1)]
    assert pipeline.table("nps_daily")["responses"].to_list() == [6]

    # Run again: nothing new, so the check is a warning and the run has nothing to fail on.
    again = pipeline.run("2024-03-01")
    check = next(e for e in again.get_asset_check_evaluations() if e.check_name == "rejected_share_within_threshold")
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN

    # Accepted by setting: its valid rows are published, and the check passes.
    pipeline.land("nps_sources.toml", '[[source]]\npath = "mostly_bad.csv"\naccept_rejected = true\n')
    accepted = pipeline.run("2024-03-01")
    check = next(e for e in accepted.get_asset_check_evaluations() if e.check_name == "rejected_share_within_threshold")
    assert check.passed
    assert pipeline.table("nps_daily")["responses"].to_list() == [11]
    files = {r["source_file"]: r for r in pipeline.table("ingest_files").iter_rows(named=True)}
    assert (files["mostly_bad.csv"]["status"], files["mostly_bad.csv"]["rows_held_back"]) == ("staged", 0)


def test_an_unforeseen_read_error_is_reported_for_that_file_only(pipeline, monkeypatch):
    import nps_pipeline.defs.ingest.staging as staging

    real_read = staging.read_export_batches

    def flaky(con, landed, *args):
        if landed.relative_path == "odd.csv":
            raise duckdb.IOException("IO Error: something unexpected\nstack trace")
        yield from real_read(con, landed, *args)

    monkeypatch.setattr(staging, "read_export_batches", flaky)
    pipeline.land("odd.csv", rows_csv(GOOD))
    pipeline.land("fine.csv", rows_csv(GOOD.replace("r1", "r2")))
    result = pipeline.run("2024-03-01", raise_on_error=False)
    assert result.success
    files = {r["source_file"]: r for r in pipeline.table("ingest_files").iter_rows(named=True)}
    assert files["odd.csv"]["problem"] == "could not be read (IOException: IO Error: something unexpected)"
    assert pipeline.table("responses")["response_id"].to_list() == ["r2"]


def test_row_numbers_follow_the_file_on_a_file_read_in_parallel(tmp_path):
    import polars as pl

    n = 300_000
    frame = pl.DataFrame({"response_id": [f"id{i + 1}" for i in range(n)]}).with_columns(
        submitted_at=pl.lit("2024-03-01T10:00:00Z"), score=pl.lit("9"), comment=pl.lit('a "quoted"\ncomment')
    )
    path = tmp_path / "big.csv"
    frame.write_csv(path)
    export = read(tmp_path, path.read_bytes())
    rows = export.rows.select("source_row", "response_id")
    assert rows.height == n
    assert rows.select((pl.col("response_id") == pl.format("id{}", pl.col("source_row"))).all()).item()
