"""Survey-tool layouts: recognise an export from its content and map it to the canonical record.

Every export arrives here as text records (``_f0``, ``_f1``, ... with ``record``, the 1-based
record number in the file, header rows included). ``detect_layout`` looks at the first records;
the layout's adapter names the canonical columns, the rows to exclude (Qualtrics previews, tests,
spam, unfinished responses), the NPS group to cross-check, and how timestamps are written.
"""

from __future__ import annotations

import fnmatch
import json
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

CANONICAL_COLUMNS = (
    "response_id",
    "submitted_at",
    "score",
    "comment",
    "respondent_id",
    "email",
    "channel",
    "region",
    "product",
    "touchpoint",
    "customer_tier",
    "language",
    # Personal: kept in the pipeline's own staging for the CRM hand-off, never in an analytical table.
    "respondent_name",
    "first_name",
    "last_name",
)
NAME_COLUMNS = {
    "respondent_name": ("respondent_name", "full_name", "name", "customer_name", "person_name", "recipient_name", "contact_name"),
    "first_name": ("first_name", "firstname", "recipientfirstname", "recipient_first_name", "given_name"),
    "last_name": ("last_name", "lastname", "recipientlastname", "recipient_last_name", "surname", "family_name"),
}
REQUIRED_COLUMNS = ("response_id", "submitted_at", "score")

# Extra columns with these names carry personal data and never become attributes.
PERSONAL_COLUMN = re.compile(
    r"(^|_)(ip|ip_?address|ipaddress|network_?id|latitude|longitude|lat|lon|lng|location_?latitude|"
    r"location_?longitude|location_?accuracy|name|first_?name|last_?name|full_?name|recipient_?(first|last)_?name|"
    r"phone|phone_?number|mobile|e_?mail|email_?address|recipient_?email|address|street|postcode|zip|zip_?code)$"
)

# "How likely are you to recommend ...", by meaning, in the languages our users survey in.
RECOMMEND_QUESTION = re.compile(
    r"(likely.*recommend|recommend.*likely"  # en
    r"|probab.*recom\w*nd|recom\w*nd.*probab"  # es, pt: recomendar, recomiende, recomendaria
    r"|probab.*recommand|recommand.*probab"  # fr
    r"|wahrscheinlich.*empfehl|empfehl.*wahrscheinlich"  # de
    r"|kemungkinan.*(rekomendasi|merekomendasikan)|(rekomendasi|merekomendasikan).*kemungkinan"  # id
    r"|推荐.*可能|可能.*推荐|推薦.*可能|可能.*推薦"  # zh
    r"|احتمال.*(توص[یي]ه|معرف[یي]|پ[یي]شنهاد)|(توص[یي]ه|معرف[یي]|پ[یي]شنهاد).*احتمال)"  # fa (Persian and Arabic forms of ی)
)
FOLLOW_UP_QUESTION = re.compile(
    r"(why|reason|comment|tell us|feedback|better|improve|por que|porque|razon|comentario|mejor|pourquoi|raison"
    r"|commentaire|ameliorer|warum|grund|kommentar|verbessern|mengapa|alasan|komentar|为什么|原因|意见|评论|改进|چرا|دل[یي]ل|نظر|توض[یي]ح)"
)
SCORE_LABEL = r"^\s*(\d{1,2})\s*([-–—:=.]\s*\D.*)?$"

QUALTRICS_STATUS = {
    "0": None, "ip address": None,
    "1": "survey preview", "survey preview": "survey preview",
    "2": "survey test", "survey test": "survey test",
    "4": "imported", "imported": "imported",
    "8": "spam", "spam": "spam",
    "9": "preview spam", "preview spam": "preview spam",
    "12": "imported spam", "imported spam": "imported spam",
    # Collected with the Qualtrics Offline Surveys app: real responses, kept.
    "16": None, "offline": None,
    "17": "offline preview", "offline preview": "offline preview",
}
GROUP_CATEGORY = {
    "1": "detractor", "detractor": "detractor", "detractors": "detractor",
    "2": "passive", "passive": "passive", "passives": "passive",
    "3": "promoter", "promoter": "promoter", "promoters": "promoter",
}


# Exports of a survey tool, where a blank NPS answer is a skipped question; the canonical layout requires a score.
SURVEY_TOOLS = {"qualtrics", "qualtrics_legacy", "surveymonkey", "typeform", "google_forms", "delighted"}
NO_NPS_ANSWER = "no NPS answer"
# Spreadsheets leave tabs, no-break and zero-width spaces, byte-order marks and NUL bytes around values.
BLANK_CHARACTERS = " \t\r\n\v\f\u00a0\u2007\u202f\u200b\ufeff\x00"


class LayoutProblem(Exception):
    """The file's layout cannot be recognised or its NPS column cannot be decided."""


@dataclass(frozen=True)
class SourceSettings:
    """Per-source settings from ``nps_sources.toml`` in the landing zone (every key optional)."""

    timezone: str | None = None
    nps_column: str | None = None
    comment_column: str | None = None
    date_format: str | None = None
    # Publish this file's valid rows even when its rejected share would hold it back.
    accept_rejected: bool = False


def load_source_settings(landing_dir: Path) -> list[tuple[str, SourceSettings]]:
    """``[[source]]`` tables of ``nps_sources.toml``: ``path`` (a glob in the landing zone) and settings."""
    path = Path(landing_dir) / "nps_sources.toml"
    if not path.exists():
        return []
    sources = tomllib.loads(path.read_text(encoding="utf-8")).get("source", [])
    return [
        (entry["path"], SourceSettings(**{k: v for k, v in entry.items() if k != "path"}))
        for entry in sources
    ]


def settings_for(relative_path: str, sources: list[tuple[str, SourceSettings]]) -> SourceSettings:
    for pattern, settings in sources:
        if fnmatch.fnmatch(relative_path, pattern):
            return settings
    return SourceSettings()


@dataclass
class Layout:
    """How to read one export's records as canonical responses."""

    source_format: str
    header_rows: int
    columns: dict[str, int]  # canonical name -> field position
    attributes: dict[str, int] = field(default_factory=dict)  # attribute name -> field position
    id_prefix: str = ""
    timestamp_formats: list[str] = field(default_factory=list)  # empty: ISO 8601
    timezone: str | None = None  # for timestamps without offset; None: the reporting time zone
    status_column: int | None = None
    finished_column: int | None = None
    partial_column: int | None = None  # Typeform "Response Type": partial responses are not counted
    nps_group_column: int | None = None
    synthesise_id_from: list[int] = field(default_factory=list)  # no id in the export: hash of these
    labels_in_score: bool = True
    personal_fields: set[int] = field(default_factory=set)  # masked in the quarantine's raw record


def fold(text: str) -> str:
    """Lower-case, accents removed: the form headers are matched in."""
    text = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in text if not unicodedata.combining(c)).strip().lower()


def normalise_column_name(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", fold(name).strip("\ufeff")).strip("_")


def _attribute_columns(names: list[str], used: set[int]) -> dict[str, int]:
    attributes: dict[str, int] = {}
    for position, name in enumerate(names):
        key = normalise_column_name(name)
        if not key or position in used or PERSONAL_COLUMN.search(key):
            continue
        while key in attributes:
            key = f"{key}_{position + 1}"
        attributes[key] = position
    return attributes


def _nps_column(labels: list[str], settings: SourceSettings, header: list[str] | None = None, vendor: str | None = None) -> int:
    """The NPS question: named in the source settings, else the one 'how likely ... recommend' column."""
    names = header or labels
    if settings.nps_column:
        for candidates in (names, labels):
            if settings.nps_column in candidates:
                return candidates.index(settings.nps_column)
        raise LayoutProblem(f"nps_column '{settings.nps_column}' from nps_sources.toml is not in the header")
    found = [i for i, label in enumerate(labels) if RECOMMEND_QUESTION.search(fold(label))]
    if not found and vendor:
        raise LayoutProblem(f"{vendor} export, no 0-10 'recommend' question found; name one in nps_sources.toml")
    if len(found) != 1:
        seen = "; ".join(labels[i] for i in found) if found else "none"
        raise LayoutProblem(
            f"cannot decide the NPS column ({len(found)} 'how likely ... recommend' questions: {seen}); "
            "name it as nps_column in nps_sources.toml"
        )
    return found[0]


def _comment_column(labels: list[str], after: int, settings: SourceSettings, exclude: set[int]) -> int | None:
    if settings.comment_column:
        return labels.index(settings.comment_column) if settings.comment_column in labels else None
    for position in range(after + 1, len(labels)):
        if position not in exclude and FOLLOW_UP_QUESTION.search(fold(labels[position])):
            return position
    return None


def _find(names: list[str], *wanted: str) -> int | None:
    folded = [normalise_column_name(n) for n in names]
    for name in wanted:
        if name in folded:
            return folded.index(name)
    return None


def _qualtrics_import_ids(row: list[str]) -> list[dict]:
    parsed = []
    for cell in row:
        try:
            value = json.loads(cell) if cell and cell.startswith("{") else {}
        except json.JSONDecodeError:
            value = {}
        parsed.append(value if isinstance(value, dict) else {})
    return parsed


def _layout(
    source_format: str,
    header_rows: int,
    columns: dict[str, int | None],
    names: list[str],
    settings: SourceSettings,
    default_formats: list[str],
    not_attributes: set[int | None] = frozenset(),
    **details,
) -> Layout:
    """A layout from the columns found (None: not in this export); every other column is an attribute."""
    found = {k: v for k, v in columns.items() if v is not None}
    for canonical, candidates in NAME_COLUMNS.items():
        position = _find(names, *candidates)
        if canonical not in found and position is not None and position not in found.values():
            found[canonical] = position
    used = set(found.values()) | {p for p in not_attributes if p is not None}
    return Layout(
        source_format=source_format,
        header_rows=header_rows,
        columns=found,
        attributes=_attribute_columns(names, used),
        timestamp_formats=[settings.date_format] if settings.date_format else default_formats,
        **{"timezone": settings.timezone, **details},
    )


def _qualtrics_question_by_wording(labels: list[str], settings: SourceSettings, tags: list[str]) -> int:
    """A 0-10 question not typed as NPS in Qualtrics (no _NPS_GROUP companion), found by its wording."""
    if not any(RECOMMEND_QUESTION.search(fold(label)) for label in labels):
        raise LayoutProblem(
            "Qualtrics export, no 0-10 'recommend' question found (no NPS question with an _NPS_GROUP "
            "companion, nor a 'how likely ... recommend' label); name one in nps_sources.toml"
        )
    return _nps_column(labels, settings, tags)


def _qualtrics(rows: list[list[str]], settings: SourceSettings, header_rows: int = 3) -> Layout:
    """Qualtrics' CSV: tags, question labels and (since 2018) a row of ImportIds, then the data."""
    tags, labels = rows[0], rows[1]
    import_rows = _qualtrics_import_ids(rows[2]) if header_rows == 3 else [{} for _ in tags]
    import_ids = [str(i.get("ImportId", "")) for i in import_rows]
    groups = [p for p, (t, i) in enumerate(zip(tags, import_ids)) if t.endswith("_NPS_GROUP") or i.endswith("_NPS_GROUP")]
    if settings.nps_column:
        nps = _nps_column(labels, settings, tags)
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
        nps = _qualtrics_question_by_wording(labels, settings, tags)
    by_id = {i: p for p, i in enumerate(import_ids) if i}
    columns = {
        "response_id": by_id.get("_recordId", _find(tags, "responseid", "response_id")),
        "submitted_at": by_id.get("recordedDate", _find(tags, "recordeddate", "enddate")),
        "score": nps,
        "email": by_id.get("recipientEmail", _find(tags, "recipientemail")),
        "respondent_id": by_id.get("externalDataReference", _find(tags, "externalreference")),
        "channel": by_id.get("distributionChannel", _find(tags, "distributionchannel")),
        "language": by_id.get("userLanguage", _find(tags, "userlanguage")),
    }
    comment = _comment_column(labels, nps, settings, {group} if group is not None else set())
    if comment is None:
        comment = next(
            (p for p, i in enumerate(import_ids) if re.fullmatch(r"QID\d+_TEXT", i) and p > nps), None
        )
    columns["comment"] = comment
    date_column = columns.get("submitted_at")
    timezone = settings.timezone or (import_rows[date_column].get("timeZone") if date_column is not None else None)
    status, finished = by_id.get("status", _find(tags, "status")), by_id.get("finished", _find(tags, "finished"))
    analytics = {p for p, i in enumerate(import_ids) if re.search(r"(Topics|Sentiment\w*|ParentTopics)$", i)}
    return _layout(
        "qualtrics", header_rows, columns, tags, settings, ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"],
        {group, status, finished} | analytics,
        id_prefix="qualtrics:", timezone=timezone, status_column=status, finished_column=finished, nps_group_column=group,
    )


def _qualtrics_legacy(rows: list[list[str]], settings: SourceSettings) -> Layout:
    tags, labels = rows[0], rows[1]
    group = next((p for p, t in enumerate(tags) if t.endswith("_NPS_GROUP")), None)
    if settings.nps_column:
        nps = _nps_column(labels, settings, tags)
    elif group is not None:
        nps = next((p for p, t in enumerate(tags) if t == tags[group][: -len("_NPS_GROUP")]), None)
        if nps is None:
            raise LayoutProblem(f"Qualtrics NPS group column '{tags[group]}' has no score column beside it")
    else:
        nps = _qualtrics_question_by_wording(labels, settings, tags)
    columns = {
        "response_id": _find(labels, "responseid"),
        "submitted_at": _find(labels, "enddate"),
        "score": nps,
        "email": _find(labels, "emailaddress", "recipientemail"),
        "respondent_id": _find(labels, "externaldatareference"),
        "comment": _comment_column(labels, nps, settings, {group} if group is not None else set()),
    }
    status, finished = _find(labels, "status"), _find(labels, "finished")
    return _layout(
        "qualtrics_legacy", 2, columns, labels, settings, ["%Y-%m-%d %H:%M:%S"],
        {group, status, finished, _find(labels, "responseset")},
        id_prefix="qualtrics:", status_column=status, finished_column=finished, nps_group_column=group,
    )


def _surveymonkey(rows: list[list[str]], settings: SourceSettings) -> Layout:
    questions, answers = rows[0], rows[1]
    # A question title spans its answer columns: carry it right over the blank cells.
    titles, current = [], ""
    for question in questions:
        current = question or current
        titles.append(current)
    nps = _nps_column(titles, settings, vendor="SurveyMonkey")
    comment = settings.comment_column and _comment_column(titles, nps, settings, set())
    if comment is None:
        comment = next(
            (p for p in range(nps + 1, len(answers)) if fold(answers[p]).startswith("open-ended")), None
        )
    columns = {
        "response_id": _find(questions, "respondent_id"),
        "submitted_at": _find(questions, "end_date", "start_date"),
        "score": nps,
        "email": _find(questions, "email_address", "email"),
        "comment": comment,
    }
    names = [t if not a or fold(a) in ("response", "open-ended response") else f"{t} {a}" for t, a in zip(titles, answers)]
    return _layout(
        "surveymonkey", 2, columns, names, settings,
        # The last: what a spreadsheet writes back after opening the export (seconds and AM/PM gone).
        ["%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M"],
        id_prefix="surveymonkey:",
    )


def _typeform(rows: list[list[str]], settings: SourceSettings) -> Layout:
    header = rows[0]
    nps = _nps_column(header, settings, vendor="Typeform")
    columns = {
        "response_id": header.index("#"),
        "submitted_at": _find(header, "submit_date_utc", "submitted_at", "start_date_utc"),
        "score": nps,
        "email": _find(header, "email", "email_address"),
        "comment": _comment_column(header, nps, settings, set()),
        "language": _find(header, "language", "lang", "locale"),
        "channel": _find(header, "channel", "utm_source"),
    }
    partial = _find(header, "response_type")
    return _layout(
        "typeform", 1, columns, header, settings, ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"], {partial},
        id_prefix="typeform:", timezone=settings.timezone or "UTC",  # "Submit Date (UTC)"
        partial_column=partial,
    )


GOOGLE_TIMESTAMP = {"timestamp", "marca temporal", "horodateur", "zeitstempel", "carimbo de data/hora", "时间戳记", "時間戳記", "stempel waktu"}


def _google_forms(rows: list[list[str]], settings: SourceSettings) -> Layout:
    header = rows[0]
    nps = _nps_column(header, settings, vendor="Google Forms")
    email = _find(header, "email_address", "email", "direccion_de_correo_electronico", "adresse_e_mail", "e_mail_adresse")
    columns = {
        "submitted_at": 0,
        "score": nps,
        "email": email,
        "comment": _comment_column(header, nps, settings, set()),
    }
    return _layout(
        "google_forms", 1, columns, header, settings,
        ["%m/%d/%Y %H:%M:%S", "%Y/%m/%d %I:%M:%S %p", "%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M:%S", "%m/%d/%Y %H:%M"],
        id_prefix="google_forms:",
        # Google Forms exports carry no response id: the same answers at the same moment are one response.
        synthesise_id_from=list(range(len(header))),
    )


def _delighted(rows: list[list[str]], settings: SourceSettings) -> Layout:
    header = [re.sub(r"^(properties|property|person_properties)\W+", "", h, flags=re.IGNORECASE) for h in rows[0]]
    columns = {
        "response_id": _find(header, "response_id", "id"),
        "submitted_at": _find(header, "created_at", "created", "response_timestamp", "date"),
        "score": _find(header, "score"),
        "comment": _find(header, "comment"),
        "email": _find(header, "email", "person_email"),
        "respondent_id": _find(header, "person_id", "person"),
        "channel": _find(header, "channel", "delighted_source", "survey_type"),
        "language": _find(header, "locale", "language"),
    }
    return _layout("delighted", 1, columns, header, settings, [], id_prefix="delighted:")


def _generic(rows: list[list[str]], settings: SourceSettings) -> Layout:
    header = rows[0]
    names = [normalise_column_name(h) for h in header]
    columns = {c: names.index(c) for c in CANONICAL_COLUMNS if c in names}
    # Dotted dates are day-first wherever they are written; slashed ones are ambiguous and need date_format.
    dotted = ["%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y"]
    return _layout("generic", 1, columns, header, settings, dotted, labels_in_score=False)


def detect_layout(rows: list[list[str]], settings: SourceSettings = SourceSettings()) -> Layout:
    """Recognise the export from its first records (not its name). Raises LayoutProblem."""
    layout = _detect_layout(rows, settings)
    _refuse_duplicate_headers(rows[0], layout)
    names = [normalise_column_name(n) for row in rows[: min(2, layout.header_rows)] for n in row]
    width = len(rows[0])
    layout.personal_fields = {
        p for p in range(width) if any(PERSONAL_COLUMN.search(names[r * width + p] if r * width + p < len(names) else "") for r in range(min(2, layout.header_rows)))
    } | ({layout.columns["email"]} if "email" in layout.columns else set())
    return layout


def _refuse_duplicate_headers(header: list[str], layout: Layout) -> None:
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


def _detect_layout(rows: list[list[str]], settings: SourceSettings) -> Layout:
    if not rows or not any(rows[0]):
        raise LayoutProblem("no header row")
    first = [cell.strip().lstrip("\ufeff") for cell in rows[0]]
    rows = [first, *rows[1:]]
    names = {normalise_column_name(c) for c in first}
    if len(rows) >= 3 and sum('"ImportId"' in (c or "") for c in rows[2]) >= max(1, len(rows[2]) // 2):
        return _qualtrics(rows, settings)
    if {"responseid", "status", "finished"} <= names and names & {"recordeddate", "enddate"} and len(rows) >= 2:
        # Qualtrics without the ImportId row: tags, then the question labels.
        return _qualtrics(rows, settings, header_rows=2)
    if first and re.fullmatch(r"V1", first[0]) and len(rows) >= 2 and _find(rows[1], "responseid") is not None:
        return _qualtrics_legacy(rows, settings)
    if {"respondent_id", "collector_id"} <= names:
        return _surveymonkey(rows, settings)
    if "#" in first and ({"submit_date_utc", "start_date_utc", "network_id", "submitted_at"} & names):
        return _typeform(rows, settings)
    if fold(first[0]) in GOOGLE_TIMESTAMP:
        return _google_forms(rows, settings)
    if {"response_id", "submitted_at", "score"} <= names:
        return _generic(rows, settings)
    if "score" in names and names & {"created_at", "created", "response_timestamp"} and names & {"response_id", "id"}:
        return _delighted(rows, settings)
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


# Persian (extended Arabic-Indic) and Arabic-Indic digits, as Persian and Arabic surveys write scores.
EASTERN_DIGITS = [*"۰۱۲۳۴۵۶۷۸۹", *"٠١٢٣٤٥٦٧٨٩"]
WESTERN_DIGITS = [*"0123456789", *"0123456789"]


def western_digits(expr: pl.Expr) -> pl.Expr:
    return expr.str.replace_many(EASTERN_DIGITS, WESTERN_DIGITS)


def score_text(expr: pl.Expr) -> pl.Expr:
    """Scores written as labels, such as '10 - Extremely likely', read as their number."""
    return pl.when(expr.str.contains(SCORE_LABEL)).then(expr.str.extract(SCORE_LABEL, 1)).otherwise(expr)


def apply_layout(records: pl.DataFrame, layout: Layout) -> pl.DataFrame:
    """Canonical text columns, ``attributes`` (JSON), ``excluded`` (reason or null) and ``nps_group``."""
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
    header = records.filter(pl.col("record") == 1).select(fields)
    if fields and header.height == 1:
        values = header.row(0)
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
