"""Qualtrics exports: the current CSV (tags, labels, ImportIds), the same without its ImportId row, and the legacy V1..Vn layout."""

from __future__ import annotations

import json
import re


from nps_pipeline.defs.ingest.formats.common import (
    RECOMMEND_QUESTION,
    LayoutProblem,
    SourceSettings,
    Layout,
    fold,
    nps_column,
    comment_column,
    find_column,
    make_layout,
)


def qualtrics_import_ids(row: list[str]) -> list[dict]:
    parsed = []
    for cell in row:
        try:
            value = json.loads(cell) if cell and cell.startswith("{") else {}
        except json.JSONDecodeError:
            value = {}
        parsed.append(value if isinstance(value, dict) else {})
    return parsed


def qualtrics_question_by_wording(labels: list[str], settings: SourceSettings, tags: list[str]) -> int:
    """A 0-10 question not typed as NPS in Qualtrics (no _NPS_GROUP companion), found by its wording."""
    if not any(RECOMMEND_QUESTION.search(fold(label)) for label in labels):
        raise LayoutProblem(
            "Qualtrics export, no 0-10 'recommend' question found (no NPS question with an _NPS_GROUP "
            "companion, nor a 'how likely ... recommend' label); name one in nps_sources.toml"
        )
    return nps_column(labels, settings, tags)


def qualtrics_layout(rows: list[list[str]], settings: SourceSettings, header_rows: int = 3) -> Layout:
    """Qualtrics' CSV: tags, question labels and (since 2018) a row of ImportIds, then the data."""
    tags, labels = rows[0], rows[1]
    import_rows = qualtrics_import_ids(rows[2]) if header_rows == 3 else [{} for _ in tags]
    import_ids = [str(i.get("ImportId", "")) for i in import_rows]
    groups = [p for p, (t, i) in enumerate(zip(tags, import_ids)) if t.endswith("_NPS_GROUP") or i.endswith("_NPS_GROUP")]
    if settings.nps_column:
        nps = nps_column(labels, settings, tags)
        group = next((g for g in groups if tags[g] == f"{tags[nps]}_NPS_GROUP" or import_ids[g] == f"{import_ids[nps]}_NPS_GROUP"), None)
    elif len(groups) > 1:
        raise LayoutProblem(
            f"cannot decide the NPS column ({len(groups)} NPS questions: "
            f"{', '.join(tags[g][: -len('_NPS_GROUP')] for g in groups)}); name it as nps_column in nps_sources.toml"
        )
    elif groups:
        group = groups[0]
        stem_tag, stem_id = tags[group][: -len("_NPS_GROUP")], import_ids[group][: -len("_NPS_GROUP")]
        nps = next((p for p, (t, i) in enumerate(zip(tags, import_ids)) if p != group and (t == stem_tag or (stem_id and i == stem_id))), None)
        if nps is None:
            raise LayoutProblem(f"Qualtrics NPS group column '{tags[group]}' has no score column beside it")
    else:
        group = None
        nps = qualtrics_question_by_wording(labels, settings, tags)
    by_id = {i: p for p, i in enumerate(import_ids) if i}
    columns = {
        "response_id": by_id.get("_recordId", find_column(tags, "responseid", "response_id")),
        "submitted_at": by_id.get("recordedDate", find_column(tags, "recordeddate", "enddate")),
        "score": nps,
        "email": by_id.get("recipientEmail", find_column(tags, "recipientemail")),
        "respondent_id": by_id.get("externalDataReference", find_column(tags, "externalreference")),
        "channel": by_id.get("distributionChannel", find_column(tags, "distributionchannel")),
        "language": by_id.get("userLanguage", find_column(tags, "userlanguage")),
    }
    comment = comment_column(labels, nps, settings, {group} if group is not None else set())
    if comment is None:
        comment = next(
            (p for p, i in enumerate(import_ids) if re.fullmatch(r"QID\d+_TEXT", i) and p > nps), None
        )
    columns["comment"] = comment
    date_column = columns.get("submitted_at")
    timezone = settings.timezone or (import_rows[date_column].get("timeZone") if date_column is not None else None)
    status, finished = by_id.get("status", find_column(tags, "status")), by_id.get("finished", find_column(tags, "finished"))
    analytics = {p for p, i in enumerate(import_ids) if re.search(r"(Topics|Sentiment\w*|ParentTopics)$", i)}
    return make_layout(
        "qualtrics", header_rows, columns, tags, settings, ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"],
        {group, status, finished} | analytics,
        id_prefix="qualtrics:", timezone=timezone, status_column=status, finished_column=finished, nps_group_column=group,
    )


def qualtrics_legacy_layout(rows: list[list[str]], settings: SourceSettings) -> Layout:
    tags, labels = rows[0], rows[1]
    group = next((p for p, t in enumerate(tags) if t.endswith("_NPS_GROUP")), None)
    if settings.nps_column:
        nps = nps_column(labels, settings, tags)
    elif group is not None:
        nps = next((p for p, t in enumerate(tags) if t == tags[group][: -len("_NPS_GROUP")]), None)
        if nps is None:
            raise LayoutProblem(f"Qualtrics NPS group column '{tags[group]}' has no score column beside it")
    else:
        nps = qualtrics_question_by_wording(labels, settings, tags)
    columns = {
        "response_id": find_column(labels, "responseid"),
        "submitted_at": find_column(labels, "enddate"),
        "score": nps,
        "email": find_column(labels, "emailaddress", "recipientemail"),
        "respondent_id": find_column(labels, "externaldatareference"),
        "comment": comment_column(labels, nps, settings, {group} if group is not None else set()),
    }
    status, finished = find_column(labels, "status"), find_column(labels, "finished")
    return make_layout(
        "qualtrics_legacy", 2, columns, labels, settings, ["%Y-%m-%d %H:%M:%S"],
        {group, status, finished, find_column(labels, "responseset")},
        id_prefix="qualtrics:", status_column=status, finished_column=finished, nps_group_column=group,
    )
