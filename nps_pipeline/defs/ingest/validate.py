"""Validate: type each text row, check it with pandera, and split valid rows from quarantined ones.

Every failed rule of a row is reported, in words a person can act on, next to the row as it arrived.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from collections.abc import Callable

import duckdb
import pandera.polars as pa
import polars as pl
from pandera.config import ValidationDepth, config_context

from nps_pipeline.defs.nps.classify import category_of, with_category
from nps_pipeline.defs.ingest.formats import BLANK_CHARACTERS, CANONICAL_COLUMNS, REQUIRED_COLUMNS
from nps_pipeline.storage import sql

# response_id: the id the row gave (null when it gave none), so a later invalid version can be linked to the version kept.
QUARANTINE_SCHEMA = {"source_row": pl.Int64, "reasons": pl.String, "raw_record": pl.String, "response_id": pl.String}


# Time-zone abbreviations read as their UTC offset in minutes: only those that name one zone. CST
# (US or China), IST (India, Ireland, Israel), BST (Britain, Bangladesh), AST (Atlantic, Arabia) and the like are ambiguous
# and left unparsed, so the row is quarantined instead of placed in a guessed zone. Names that are
# also IANA zones (EST, MST, HST, CET, EET, WET, MET) are read as those zones.
ZONE_ABBREVIATIONS = {
    "UTC": 0, "GMT": 0, "UT": 0, "PST": -480, "PDT": -420, "MDT": -360, "EDT": -240, "AKST": -540, "AKDT": -480, "HDT": -540,
    "NST": -210, "NDT": -150, "ADT": -180, "BRT": -180, "ART": -180,
    "CEST": 120, "EEST": 180, "WEST": 60, "MSK": 180, "JST": 540, "KST": 540, "HKT": 480, "SGT": 480,
    "PHT": 480, "WIB": 420, "WITA": 480, "WIT": 540, "AEST": 600, "AEDT": 660, "ACST": 570, "ACDT": 630,
    "AWST": 480, "NZST": 720, "NZDT": 780, "SAST": 120, "WAT": 60, "CAT": 120, "EAT": 180,
}
# IANA zones written in capitals, read as those zones (CET, EET, WET and MET with their summer time).
ZONE_NAMES_IN_CAPITALS = ["EST", "MST", "HST", "CET", "EET", "WET", "MET"]
# A word after the time that reads as a zone: the rules name it when it is not one we can honour.
ZONE_WORD = r"[0-9](?:\s*[AaPp][Mm])?\s+([A-Za-z][A-Za-z_]*(?:[/+-][A-Za-z0-9_+-]+)*)$"


# Source formats that read a plain ISO 8601 text exactly as the ISO rules do: not tried on such text.
ISO_EQUIVALENT_FORMATS = {"%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"}


def type_rows(
    rows: pl.DataFrame,
    timezone: str,
    con: duckdb.DuckDBPyConnection | None = None,
    timestamp_formats: list[str] | None = None,
    source_timezone: str | None = None,
) -> pl.DataFrame:
    """Parse the score and the timestamp (sql/type_export_rows.sql) and derive the day in ``timezone``.

    ISO 8601 with an offset or Z is read as such, and so are Unix seconds; a source's own
    ``timestamp_formats`` and times without offset are read in ``source_timezone`` (default: the
    reporting ``timezone``); a bare date is midnight there. Unparseable values become null, for
    the rules to report.
    """
    con = con or duckdb.connect()
    # Only the typed columns travel to DuckDB and back; the rest stay in polars.
    typed_columns = ["response_id", "score", "submitted_at"]
    # Spreadsheets leave tabs, no-break and zero-width spaces, byte-order marks and NUL bytes around values.
    export_rows = rows.select("source_row", pl.col(typed_columns).str.strip_chars(BLANK_CHARACTERS))  # noqa: F841 - scanned by name in the SQL
    typed = con.sql(
        sql("type_export_rows"),
        params={
            "timezone": timezone,
            "source_timezone": source_timezone or timezone,
            # DuckDB refuses an empty format list; this one matches only the literal text '%no format%'.
            "formats": list(timestamp_formats or ["%%no format%%"]),
            "formats_read_iso": any(f.startswith("%Y-") and f not in ISO_EQUIVALENT_FORMATS for f in timestamp_formats or []),
            "zone_abbreviations": list(ZONE_ABBREVIATIONS),
            "zone_offset_minutes": list(ZONE_ABBREVIATIONS.values()),
            "zone_names_in_capitals": ZONE_NAMES_IN_CAPITALS,
        },
    ).pl()
    typed = (
        rows.drop(typed_columns)
        .join(typed, on="source_row", how="left", maintain_order="left")
        .with_columns(pl.col("submitted_at_value").dt.convert_time_zone("UTC"))
    )
    if "nps_group" in typed.columns:
        typed = typed.with_columns(
            nps_group_agrees=pl.when(pl.col("nps_group").is_null() | pl.col("score_value").is_null())
            .then(None)
            .otherwise(pl.col("nps_group") == category_of(pl.col("score_value")))
        )
    return typed


# A long numeric id that a spreadsheet rewrote in scientific notation (11400001234 -> 1.14E+10):
# several responses then share it, and all but one would be taken for duplicates.
SPREADSHEET_NUMBER = r"(?:^|:)[0-9](?:[.,][0-9]+)?[eE]\+[0-9]+$"


def latest_possible_day(timezone: str) -> dt.date:
    """The last day a response can be on: the day after today in ``timezone`` (clocks and zones differ by a day at most)."""
    return dt.datetime.now(ZoneInfo(timezone)).date() + dt.timedelta(days=1)


def response_schema(start_date: dt.date, latest_day: dt.date | None = None) -> pa.DataFrameSchema:
    """The rules a row must pass; ``_reason`` words each failure for the quarantine."""
    latest_day = latest_day or latest_possible_day("UTC")
    return pa.DataFrameSchema(
        {
            "response_id": pa.Column(
                pl.String,
                pa.Check(
                    lambda data: data.lazyframe.select(~pl.col(data.key).str.contains(SPREADSHEET_NUMBER).fill_null(False)),
                    name="not_spreadsheet_number",
                ),
                nullable=False,
            ),
            "score_value": pa.Column(
                pl.Int64, pa.Check.in_range(0, 10), nullable=False
            ),
            "submitted_at_value": pa.Column(pl.Datetime("us", "UTC"), nullable=False),
            "response_date": pa.Column(
                pl.Date, [pa.Check.ge(start_date), pa.Check.le(latest_day)], nullable=True
            ),
            "nps_group_agrees": pa.Column(
                pl.Boolean,
                pa.Check(lambda data: data.lazyframe.select(pl.col(data.key).fill_null(True)), name="nps_group_agrees"),
                nullable=True,
                required=False,
            ),
        },
        strict=False,
        coerce=False,
    )


def _reason(start_date: dt.date, latest_day: dt.date) -> pl.Expr:
    """A readable sentence for one failure case (columns: column, check, raw)."""
    column, check, raw = pl.col("column"), pl.col("check"), pl.col("raw")
    shown = pl.lit("'") + raw + pl.lit("'")
    return (
        pl.when((column == "response_id") & (check == "not_nullable"))
        .then(pl.lit("response_id is empty"))
        .when((column == "response_id") & (check == "not_spreadsheet_number"))
        .then(
            pl.lit("response_id ") + shown
            + pl.lit(" was rewritten by a spreadsheet in scientific notation (other responses may share it): export again without opening the file in a spreadsheet")
        )
        .when((column == "score_value") & (check == "not_nullable") & raw.is_null())
        .then(pl.lit("score is missing"))
        .when((column == "score_value") & (check == "not_nullable"))
        .then(pl.lit("score ") + shown + pl.lit(" is not a whole number from 0 to 10"))
        .when((column == "score_value") & check.str.starts_with("in_range"))
        .then(pl.lit("score ") + raw + pl.lit(" is outside 0-10"))
        .when((column == "submitted_at_value") & (check == "not_nullable") & raw.is_null())
        .then(pl.lit("submitted_at is missing"))
        .when(
            (column == "submitted_at_value") & (check == "not_nullable")
            & raw.str.contains(ZONE_WORD) & ~raw.str.extract(ZONE_WORD, 1).str.to_uppercase().is_in(["AM", "PM"])
        )
        .then(
            pl.lit("submitted_at ") + shown + pl.lit(" has a time zone '") + raw.str.extract(ZONE_WORD, 1)
            + pl.lit("' that is neither an IANA name (such as America/Los_Angeles) nor an unambiguous abbreviation (such as PST): write the offset, or set timezone in nps_sources.toml")
        )
        .when((column == "submitted_at_value") & (check == "not_nullable"))
        .then(pl.lit("submitted_at ") + shown + pl.lit(" is not an ISO 8601 timestamp nor in the source's date formats (set date_format in nps_sources.toml)"))
        .when(column == "nps_group_agrees")
        .then(pl.lit("Qualtrics NPS group ") + shown + pl.lit(" disagrees with the score"))
        .when((column == "response_date") & check.str.starts_with("greater_than_or_equal_to"))
        .then(
            pl.lit("submitted_at ")
            + shown
            + pl.lit(f" falls before NPS_START_DATE {start_date.isoformat()}")
        )
        .when((column == "response_date") & check.str.starts_with("less_than_or_equal_to"))
        .then(
            pl.lit("submitted_at ")
            + shown
            + pl.lit(f" is in the future (after {latest_day.isoformat()}, the day after the file was read)")
        )
        .otherwise(column + pl.lit(" failed rule ") + check + pl.lit(": ") + raw.fill_null("<empty>"))
    )


RAW_COLUMN_OF = {
    "nps_group_agrees": "nps_group_raw",
    "response_id": "response_id",
    "score_value": "score",
    "submitted_at_value": "submitted_at",
    "response_date": "submitted_at",
}


def validate_rows(
    rows: pl.DataFrame,
    timezone: str,
    start_date: dt.date,
    raw_record: Callable[[pl.DataFrame], pl.Series],
    con: duckdb.DuckDBPyConnection | None = None,
    timestamp_formats: list[str] | None = None,
    source_timezone: str | None = None,
    latest_day: dt.date | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split text rows into (valid typed rows, quarantined rows with every failed rule as reasons).

    ``raw_record`` rebuilds the rows as they arrived; it runs on quarantined rows only.
    """
    typed = type_rows(rows, timezone, con, timestamp_formats, source_timezone)
    latest_day = latest_day or latest_possible_day(timezone)
    schema = response_schema(start_date, latest_day)
    try:
        with config_context(validation_depth=ValidationDepth.SCHEMA_AND_DATA):
            schema.validate(typed, lazy=True)
        failures = pl.DataFrame(schema={"index": pl.Int64, "column": pl.String, "check": pl.String})
    except pa.errors.SchemaErrors as errors:
        failures = errors.failure_cases.select(
            pl.col("index").cast(pl.Int64), pl.col("column"), pl.col("check")
        )
        if failures["index"].null_count():
            raise RuntimeError(f"schema-level validation failure: {errors.failure_cases}") from None

    indexed = typed.with_row_index("index").with_columns(pl.col("index").cast(pl.Int64))
    raw_values = indexed.select(
        "index",
        *[
            (pl.col(raw) if raw in indexed.columns else pl.lit(None, dtype=pl.String)).alias(f"raw_{name}")
            for name, raw in RAW_COLUMN_OF.items()
        ],
    )
    reasons = (
        failures.join(raw_values, on="index", how="left")
        .with_columns(
            raw=pl.coalesce(
                *[
                    pl.when(pl.col("column") == name).then(pl.col(f"raw_{name}"))
                    for name in RAW_COLUMN_OF
                ]
            )
        )
        .with_columns(reason=_reason(start_date, latest_day))
        .group_by("index")
        .agg(pl.col("reason").unique(maintain_order=True).str.join("; ").alias("reasons"))
    )
    flagged = indexed.join(reasons, on="index", how="left")
    quarantined = flagged.filter(pl.col("reasons").is_not_null())
    quarantined = (
        quarantined.with_columns(raw_record=raw_record(quarantined))
        .select("source_row", "reasons", "raw_record", "response_id")
        .sort("source_row")
    )
    valid = flagged.filter(pl.col("reasons").is_null()).drop("index", "reasons")
    return valid, quarantined


def to_staged_rows(valid: pl.DataFrame, *, source_file: str, source_format: str, file_order: int) -> pl.DataFrame:
    """The staged shape of valid rows: typed canonical columns, category, lineage and version order."""
    text = [c for c in CANONICAL_COLUMNS if c not in REQUIRED_COLUMNS]
    valid = valid.with_columns([pl.col(c).str.strip_chars().replace("", None) for c in text])
    identity = pl.coalesce(pl.col("respondent_id"), pl.col("email").str.to_lowercase())
    valid = valid.with_columns(
        respondent_name=pl.coalesce(pl.col("respondent_name"), pl.concat_str("first_name", "last_name", separator=" ", ignore_nulls=True).replace("", None))
    )
    staged = valid.select(
        pl.col("response_id"),
        pl.lit(source_format).alias("source_format"),
        pl.lit(source_file).alias("source_file"),
        pl.col("source_row").cast(pl.Int64),
        pl.lit(file_order, dtype=pl.Int64).alias("file_order"),
        pl.col("submitted_at_value").alias("submitted_at"),
        pl.col("response_date"),
        pl.col("score_value").cast(pl.Int8).alias("score"),
        *text,
        identity.alias("respondent_identity"),
        "attributes",
    )
    return with_category(staged)
