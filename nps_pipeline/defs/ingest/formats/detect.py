"""Recognise an export from its first records (never its name), and refuse a header that names a column twice."""

from __future__ import annotations

import re


from nps_pipeline.defs.ingest.formats.common import (
    CANONICAL_COLUMNS,
    REQUIRED_COLUMNS,
    PERSONAL_COLUMN,
    LayoutProblem,
    SourceSettings,
    Layout,
    fold,
    normalise_column_name,
    find_column,
)
from nps_pipeline.defs.ingest.formats.qualtrics import qualtrics_layout, qualtrics_legacy_layout
from nps_pipeline.defs.ingest.formats.surveymonkey import surveymonkey_layout
from nps_pipeline.defs.ingest.formats.typeform import typeform_layout
from nps_pipeline.defs.ingest.formats.google_forms import GOOGLE_TIMESTAMP, google_forms_layout
from nps_pipeline.defs.ingest.formats.delighted import delighted_layout
from nps_pipeline.defs.ingest.formats.generic import generic_layout


def detect_layout(rows: list[list[str]], settings: SourceSettings = SourceSettings()) -> Layout:
    """Recognise the export from its first records (not its name). Raises LayoutProblem."""
    layout = recognise_layout(rows, settings)
    refuse_duplicate_headers(rows[0], layout)
    names = [normalise_column_name(n) for row in rows[: min(2, layout.header_rows)] for n in row]
    width = len(rows[0])
    layout.personal_fields = {
        p for p in range(width) if any(PERSONAL_COLUMN.search(names[r * width + p] if r * width + p < len(names) else "") for r in range(min(2, layout.header_rows)))
    } | ({layout.columns["email"]} if "email" in layout.columns else set())
    return layout


def refuse_duplicate_headers(header: list[str], layout: Layout) -> None:
    """A header naming a column twice cannot say which one holds the data: every name in the canonical
    layout, and in a vendor's export every column it maps (a form may repeat other question titles)."""
    names = [normalise_column_name(n) for n in header]
    checked = range(len(names)) if layout.source_format == "generic" else sorted(set(layout.columns.values()))
    repeated: dict[str, list[int]] = {}
    for position in checked:
        name = names[position] if position < len(names) else ""
        if name and names.count(name) > 1:
            repeated[header[position].strip().lstrip("\ufeff")] = [p + 1 for p, n in enumerate(names) if n == name]
    if repeated:
        listed = "; ".join(f"'{name}' (columns {', '.join(map(str, positions))})" for name, positions in repeated.items())
        raise LayoutProblem(f"duplicate column name(s) in the header: {listed}; rename or remove all but one")


def recognise_layout(rows: list[list[str]], settings: SourceSettings) -> Layout:
    if not rows or not any(rows[0]):
        raise LayoutProblem("no header row")
    first = [cell.strip().lstrip("\ufeff") for cell in rows[0]]
    rows = [first, *rows[1:]]
    names = {normalise_column_name(c) for c in first}
    if len(rows) >= 3 and sum('"ImportId"' in (c or "") for c in rows[2]) >= max(1, len(rows[2]) // 2):
        return qualtrics_layout(rows, settings)
    if {"responseid", "status", "finished"} <= names and names & {"recordeddate", "enddate"} and len(rows) >= 2:
        # Qualtrics without the ImportId row: tags, then the question labels.
        return qualtrics_layout(rows, settings, header_rows=2)
    if first and re.fullmatch(r"V1", first[0]) and len(rows) >= 2 and find_column(rows[1], "responseid") is not None:
        return qualtrics_legacy_layout(rows, settings)
    if {"respondent_id", "collector_id"} <= names:
        return surveymonkey_layout(rows, settings)
    if "#" in first and ({"submit_date_utc", "start_date_utc", "network_id", "submitted_at"} & names):
        return typeform_layout(rows, settings)
    if fold(first[0]) in GOOGLE_TIMESTAMP:
        return google_forms_layout(rows, settings)
    if {"response_id", "submitted_at", "score"} <= names:
        return generic_layout(rows, settings)
    if "score" in names and names & {"created_at", "created", "response_timestamp"} and names & {"response_id", "id"}:
        return delighted_layout(rows, settings)
    # The file's own text is never quoted: a file refused for what it is may hold anything.
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    found = [c for c in CANONICAL_COLUMNS if c in names]
    if len(missing) < len(REQUIRED_COLUMNS):
        raise LayoutProblem(
            f"missing required column(s) {', '.join(missing)} (canonical columns found: {', '.join(found)}; "
            f"the header has {len(first)} column(s))"
        )
    raise LayoutProblem(
        "layout not recognised (not Qualtrics, SurveyMonkey, Typeform, Google Forms, Delighted, "
        f"nor the canonical layout: missing {', '.join(missing)}; the header has {len(first)} column(s))"
    )
