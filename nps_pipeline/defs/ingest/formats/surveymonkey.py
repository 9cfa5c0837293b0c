"""SurveyMonkey exports: two header rows (questions, then Response / Open-Ended Response)."""

from __future__ import annotations



from nps_pipeline.defs.ingest.formats.common import (
    SourceSettings,
    Layout,
    fold,
    nps_column,
    comment_column,
    find_column,
    make_layout,
)


def surveymonkey_layout(rows: list[list[str]], settings: SourceSettings) -> Layout:
    questions, answers = rows[0], rows[1]
    # A question title spans its answer columns: carry it right over the blank cells.
    titles, current = [], ""
    for question in questions:
        current = question or current
        titles.append(current)
    nps = nps_column(titles, settings, vendor="SurveyMonkey")
    comment = settings.comment_column and comment_column(titles, nps, settings, set())
    if comment is None:
        comment = next(
            (p for p in range(nps + 1, len(answers)) if fold(answers[p]).startswith("open-ended")), None
        )
    columns = {
        "response_id": find_column(questions, "respondent_id"),
        "submitted_at": find_column(questions, "end_date", "start_date"),
        "score": nps,
        "email": find_column(questions, "email_address", "email"),
        "comment": comment,
    }
    names = [t if not a or fold(a) in ("response", "open-ended response") else f"{t} {a}" for t, a in zip(titles, answers)]
    return make_layout(
        "surveymonkey", 2, columns, names, settings,
        # The last: what a spreadsheet writes back after opening the export (seconds and AM/PM gone).
        ["%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M"],
        id_prefix="surveymonkey:",
    )
