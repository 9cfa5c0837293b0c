"""Typeform exports: the response token '#', questions, hidden fields, Submit Date (UTC)."""

from __future__ import annotations



from nps_pipeline.defs.ingest.formats.common import (
    SourceSettings,
    Layout,
    nps_column,
    comment_column,
    find_column,
    make_layout,
)


def typeform_layout(rows: list[list[str]], settings: SourceSettings) -> Layout:
    header = rows[0]
    nps = nps_column(header, settings, vendor="Typeform")
    columns = {
        "response_id": header.index("#"),
        "submitted_at": find_column(header, "submit_date_utc", "submitted_at", "start_date_utc"),
        "score": nps,
        "email": find_column(header, "email", "email_address"),
        "comment": comment_column(header, nps, settings, set()),
        "language": find_column(header, "language", "lang", "locale"),
        "channel": find_column(header, "channel", "utm_source"),
    }
    partial = find_column(header, "response_type")
    return make_layout(
        "typeform", 1, columns, header, settings, ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"], {partial},
        id_prefix="typeform:", timezone=settings.timezone or "UTC",  # "Submit Date (UTC)"
        partial_column=partial,
    )
