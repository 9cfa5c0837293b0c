"""Map an export's text records to the canonical columns, with the rows its survey tool marks as not real excluded."""

from __future__ import annotations


import polars as pl

from nps_pipeline.defs.ingest.formats.common import (
    CANONICAL_COLUMNS,
    SCORE_LABEL,
    QUALTRICS_STATUS,
    GROUP_CATEGORY,
    SURVEY_TOOLS,
    NO_NPS_ANSWER,
    BLANK_CHARACTERS,
    Layout,
)


# Persian (extended Arabic-Indic) and Arabic-Indic digits, as Persian and Arabic surveys write scores.
EASTERN_DIGITS = [*"۰۱۲۳۴۵۶۷۸۹", *"٠١٢٣٤٥٦٧٨٩"]


WESTERN_DIGITS = [*"0123456789", *"0123456789"]


def western_digits(expr: pl.Expr) -> pl.Expr:
    return expr.str.replace_many(EASTERN_DIGITS, WESTERN_DIGITS)


def score_text(expr: pl.Expr) -> pl.Expr:
    """Scores written as labels, such as '10 - Extremely likely', read as their number."""
    return pl.when(expr.str.contains(SCORE_LABEL)).then(expr.str.extract(SCORE_LABEL, 1)).otherwise(expr)


def apply_layout(records: pl.DataFrame, layout: Layout, header: tuple | None = None) -> pl.DataFrame:
    """Canonical text columns, ``attributes`` (JSON), ``excluded`` (reason or null) and ``nps_group``.

    ``header`` is the file's first record (default: taken from ``records``, when they hold it).
    """
    data = records.filter(pl.col("record") > layout.header_rows).with_columns(
        (pl.col("record") - layout.header_rows).alias("source_row")
    )
    field = lambda position: pl.col(f"_f{position}")  # noqa: E731
    canonical = []
    for name in CANONICAL_COLUMNS:
        position = layout.columns.get(name)
        expr = field(position) if position is not None else pl.lit(None, dtype=pl.String)
        if name == "score":
            expr = western_digits(expr)
        if name == "score" and layout.labels_in_score:
            expr = score_text(expr)
        if name == "response_id" and position is not None and layout.id_prefix:
            expr = pl.when(expr.str.strip_chars() != "").then(pl.lit(layout.id_prefix) + expr.str.strip_chars())
        canonical.append(expr.alias(name))
    if layout.synthesise_id_from:
        # Hashed (md5, stable across versions) by the reader: the same answers at the same moment are one response.
        canonical.append(
            pl.concat_str([field(p).fill_null("") for p in layout.synthesise_id_from], separator="\x1f").alias("_identity")
        )
    attributes = (
        pl.struct([field(p).alias(n) for n, p in layout.attributes.items()]).struct.json_encode()
        if layout.attributes
        else pl.lit(None, dtype=pl.String)
    )
    excluded = pl.lit(None, dtype=pl.String)
    score_position = layout.columns.get("score")
    if layout.source_format in SURVEY_TOOLS and score_position is not None:
        # A survey tool leaves a skipped (optional) question blank: a non-response, not bad data.
        answer = field(score_position).str.strip_chars(BLANK_CHARACTERS)
        excluded = pl.when(answer.is_null() | (answer == "")).then(pl.lit(NO_NPS_ANSWER)).otherwise(excluded)
    if layout.finished_column is not None:
        finished = field(layout.finished_column).str.strip_chars().str.to_lowercase()
        excluded = pl.when(finished.is_in(["0", "false"])).then(pl.lit("unfinished response (Finished = 0)")).otherwise(excluded)
    if layout.partial_column is not None:
        response_type = field(layout.partial_column).str.strip_chars().str.to_lowercase()
        excluded = pl.when(response_type == "partial").then(pl.lit("partial response (Response Type = partial)")).otherwise(excluded)
    if layout.status_column is not None:
        status = field(layout.status_column).str.strip_chars().str.to_lowercase()
        label = status.replace_strict(QUALTRICS_STATUS, default="other", return_dtype=pl.String)
        excluded = (
            pl.when(status.is_not_null() & (status != "") & label.is_not_null())
            .then(pl.lit("Qualtrics Status ") + field(layout.status_column) + pl.lit(" (") + label + pl.lit("): not a real response"))
            .otherwise(excluded)
        )
    # Spreadsheets save rows of bare delimiters (",,,,") after the data: not a response, so not a rejected one either.
    fields = [c for c in data.columns if c.startswith("_f")]
    blank = pl.all_horizontal([pl.col(c).is_null() | (pl.col(c).str.strip_chars() == "") for c in fields]) if fields else pl.lit(False)
    excluded = pl.when(blank).then(pl.lit("blank row (every field empty)")).otherwise(excluded)
    # Exports joined end to end repeat the header: a row equal to the first header row is not a response.
    if header is None:
        first = records.filter(pl.col("record") == 1).select(fields)
        header = first.row(0) if first.height == 1 else None
    if fields and header is not None:
        values = header
        repeated = pl.all_horizontal([pl.col(c).fill_null("") == (v or "") for c, v in zip(fields, values)])
        excluded = pl.when(repeated).then(pl.lit("repeated header row (exports joined together)")).otherwise(excluded)
    group = (
        field(layout.nps_group_column).str.strip_chars().str.to_lowercase().replace_strict(GROUP_CATEGORY, default=None, return_dtype=pl.String)
        if layout.nps_group_column is not None
        else pl.lit(None, dtype=pl.String)
    )
    group_raw = field(layout.nps_group_column) if layout.nps_group_column is not None else pl.lit(None, dtype=pl.String)
    keep = [c for c in data.columns if c.startswith("_f") or c == "source_row"]
    return data.select(
        *keep, *canonical, attributes.alias("attributes"), excluded.alias("excluded"),
        group.alias("nps_group"), group_raw.alias("nps_group_raw"),
    )
