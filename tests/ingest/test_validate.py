"""Pure transforms: typing, pandera rules and quarantine reasons, classification."""

import datetime as dt

import polars as pl

from nps_pipeline.defs.nps.classify import with_category
from nps_pipeline.defs.ingest.formats import CANONICAL_COLUMNS
from nps_pipeline.defs.ingest.validate import validate_rows


def raw(rows: list[dict]) -> pl.DataFrame:
    frame = pl.DataFrame(
        [{c: r.get(c) for c in CANONICAL_COLUMNS} for r in rows], schema={c: pl.String for c in CANONICAL_COLUMNS}
    )
    return frame.with_columns(
        source_row=pl.int_range(1, frame.height + 1, dtype=pl.Int64),
        attributes=pl.lit(None, dtype=pl.String),
    )


def as_arrived(rows: pl.DataFrame) -> pl.Series:
    return rows.select(pl.format("row {}", pl.col("source_row"))).to_series()


def reasons_for(rows, timezone="UTC", start=dt.date(2024, 1, 1)):
    valid, quarantined = validate_rows(raw(rows), timezone, start, as_arrived)
    assert quarantined["raw_record"].to_list() == [f"row {n}" for n in quarantined["source_row"]]
    return valid, dict(zip(quarantined["source_row"], quarantined["reasons"]))


def ok(**fields):
    return {"response_id": "r", "submitted_at": "2024-03-01T10:00:00Z", "score": "9", **fields}


def test_bad_scores_are_quarantined_with_their_value():
    valid, reasons = reasons_for([ok(score="11"), ok(score="-1"), ok(score="ten"), ok(score="7.5"), ok(score=None), ok(score="10")])
    assert reasons == {
        1: "score 11 is outside 0-10",
        2: "score -1 is outside 0-10",
        3: "score 'ten' is not a whole number from 0 to 10",
        4: "score '7.5' is not a whole number from 0 to 10",
        5: "score is missing",
    }
    assert valid["score_value"].to_list() == [10]


def test_timestamps_missing_or_unparseable_and_empty_ids():
    valid, reasons = reasons_for([ok(submitted_at=None), ok(submitted_at="next tuesday"), ok(response_id="  ")])
    assert reasons[1] == "submitted_at is missing"
    assert reasons[2] == "submitted_at 'next tuesday' is not an ISO 8601 timestamp nor in the source's date formats (set date_format in nps_sources.toml)"
    assert reasons[3] == "response_id is empty"
    assert valid.is_empty()


def test_every_failed_rule_of_a_row_is_listed():
    _, reasons = reasons_for([{"response_id": "", "submitted_at": "garbage", "score": "eleven"}])
    assert reasons[1].split("; ") == [
        "response_id is empty",
        "score 'eleven' is not a whole number from 0 to 10",
        "submitted_at 'garbage' is not an ISO 8601 timestamp nor in the source's date formats (set date_format in nps_sources.toml)",
    ]


def test_day_is_taken_in_the_reporting_time_zone():
    rows = [ok(submitted_at="2024-03-01T20:00:00Z"), ok(submitted_at="2024-03-01T20:00:00"), ok(submitted_at="2024-03-01")]
    valid, _ = reasons_for(rows, timezone="Asia/Jakarta")
    # 20:00 UTC is 03:00 the next day in Jakarta; naive times are read in the reporting zone.
    assert valid["response_date"].to_list() == [dt.date(2024, 3, 2), dt.date(2024, 3, 1), dt.date(2024, 3, 1)]
    assert valid["submitted_at_value"][1] == dt.datetime(2024, 3, 1, 13, 0, tzinfo=dt.timezone.utc)


def test_offsets_fractions_and_integral_decimals_are_accepted():
    valid, reasons = reasons_for(
        [ok(submitted_at="2024-03-01T10:00:00.250+05:30"), ok(submitted_at="2024-03-01 10:00:00-0300"), ok(score="10.0"), ok(score="7,0")]
    )
    assert reasons == {}
    assert valid["score_value"].to_list() == [9, 9, 10, 7]


def test_responses_before_the_start_date_are_quarantined():
    _, reasons = reasons_for([ok(submitted_at="2023-12-31T23:00:00Z")])
    assert reasons[1] == "submitted_at '2023-12-31T23:00:00Z' falls before NPS_START_DATE 2024-01-01"


def test_classification_boundaries():
    frame = with_category(pl.DataFrame({"score": list(range(11))}))
    assert frame["category"].to_list() == ["detractor"] * 7 + ["passive"] * 2 + ["promoter"] * 2


def test_a_bare_date_is_local_midnight_west_of_utc_too():
    # Read as UTC midnight, 2024-03-01 would be the evening of 29 February in New York.
    valid, reasons = reasons_for([ok(submitted_at="2024-03-01")], timezone="America/New_York")
    assert reasons == {}
    assert valid["response_date"].to_list() == [dt.date(2024, 3, 1)]
    assert valid["submitted_at_value"][0] == dt.datetime(2024, 3, 1, 5, 0, tzinfo=dt.timezone.utc)


def test_zones_written_after_the_time_are_honoured():
    # Google Forms' download ("... AM GMT+1"), Rails-style offsets after a space (Delighted), a bare UTC.
    rows = [
        ok(submitted_at="2024/03/01 10:15:33 AM GMT+1"),
        ok(submitted_at="2024/03/01 11:15:33 PM GMT-5"),
        ok(submitted_at="2024/03/01 10:00:00 AM GMT+5:30"),
        ok(submitted_at="2024/03/01 10:00:00 AM GMT"),
        ok(submitted_at="2024-03-01 10:00:00 -0800"),
        ok(submitted_at="2024-03-01 10:00:00 -08:00"),
        ok(submitted_at="03/01/2024 10:00:00 UTC"),
    ]
    valid, reasons = validate_rows(
        raw(rows), "UTC", dt.date(2024, 1, 1), as_arrived,
        timestamp_formats=["%m/%d/%Y %H:%M:%S", "%Y/%m/%d %I:%M:%S %p"], source_timezone="Asia/Tokyo",
    )
    assert reasons.is_empty()
    utc = dt.timezone.utc
    assert valid["submitted_at_value"].to_list() == [
        dt.datetime(2024, 3, 1, 9, 15, 33, tzinfo=utc),
        dt.datetime(2024, 3, 2, 4, 15, 33, tzinfo=utc),
        dt.datetime(2024, 3, 1, 4, 30, tzinfo=utc),
        dt.datetime(2024, 3, 1, 10, 0, tzinfo=utc),
        dt.datetime(2024, 3, 1, 18, 0, tzinfo=utc),
        dt.datetime(2024, 3, 1, 18, 0, tzinfo=utc),
        dt.datetime(2024, 3, 1, 10, 0, tzinfo=utc),
    ]


def test_ids_a_spreadsheet_rewrote_in_scientific_notation_are_quarantined():
    # Excel shows SurveyMonkey's 11-digit Respondent IDs as 1.14E+10 and saves them so: they would collide.
    valid, reasons = reasons_for([ok(response_id="1.14E+10"), ok(response_id="surveymonkey:1,14E+10"), ok(response_id="11400001234"), ok(response_id="E+10")])
    assert reasons[1].startswith("response_id '1.14E+10' was rewritten by a spreadsheet in scientific notation")
    assert 2 in reasons and 3 not in reasons and 4 not in reasons
    assert valid["response_id"].to_list() == ["11400001234", "E+10"]


def test_tabs_no_break_spaces_byte_order_marks_and_nul_bytes_around_values_are_blank():
    valid, reasons = reasons_for([
        ok(score="9\t"), ok(score="\u00a010"), ok(score="\ufeff7"), ok(score="8 \x00", response_id="\tr\u00a0"),
        ok(score="\t"), ok(submitted_at="2024-03-01T10:00:00Z\x00"),
    ])
    assert reasons == {5: "score is missing"}
    assert valid["score_value"].to_list() == [9, 10, 7, 8, 9]
    assert valid["response_id"].to_list()[3] == "r"


def test_plain_iso_text_skips_the_zone_parsing_but_not_a_format_that_reads_it_otherwise():
    # Plain ISO 8601 takes a fast path; a source whose date_format reads the same text another way
    # (year, day, month) still has its format applied, and an ISO-equivalent format changes nothing.
    rows = [ok(submitted_at="2024-03-04 10:00:00"), ok(submitted_at="2024-03-04T10:00:00+02:00"), ok(submitted_at="2024-03-04")]
    utc = dt.timezone.utc
    year_day_month, reasons = validate_rows(
        raw(rows), "UTC", dt.date(2024, 1, 1), as_arrived, timestamp_formats=["%Y-%d-%m %H:%M:%S"], source_timezone="Asia/Tokyo"
    )
    assert reasons.is_empty()
    assert year_day_month["submitted_at_value"].to_list() == [
        dt.datetime(2024, 4, 3, 1, 0, tzinfo=utc),
        dt.datetime(2024, 3, 4, 8, 0, tzinfo=utc),
        dt.datetime(2024, 3, 3, 15, 0, tzinfo=utc),
    ]
    for formats in ([], ["%Y-%m-%d %H:%M:%S", "%d.%m.%Y"]):
        valid, reasons = validate_rows(
            raw(rows), "UTC", dt.date(2024, 1, 1), as_arrived, timestamp_formats=formats, source_timezone="Asia/Tokyo"
        )
        assert reasons.is_empty()
        assert valid["submitted_at_value"].to_list() == [
            dt.datetime(2024, 3, 4, 1, 0, tzinfo=utc),
            dt.datetime(2024, 3, 4, 8, 0, tzinfo=utc),
            dt.datetime(2024, 3, 3, 15, 0, tzinfo=utc),
        ]
