"""Delighted exports: the CSV download and the API's response records."""

from __future__ import annotations

import re


from nps_pipeline.defs.ingest.formats.common import SourceSettings, Layout, find_column, make_layout


def delighted_layout(rows: list[list[str]], settings: SourceSettings) -> Layout:
    header = [re.sub(r"^(properties|property|person_properties)\W+", "", h, flags=re.IGNORECASE) for h in rows[0]]
    columns = {
        "response_id": find_column(header, "response_id", "id"),
        "submitted_at": find_column(header, "created_at", "created", "response_timestamp", "date"),
        "score": find_column(header, "score"),
        "comment": find_column(header, "comment"),
        "email": find_column(header, "email", "person_email"),
        "respondent_id": find_column(header, "person_id", "person"),
        "channel": find_column(header, "channel", "delighted_source", "survey_type"),
        "language": find_column(header, "locale", "language"),
    }
    return make_layout("delighted", 1, columns, header, settings, [], id_prefix="delighted:")
