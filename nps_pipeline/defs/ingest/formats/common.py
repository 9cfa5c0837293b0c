"""What every survey tool's layout shares: the canonical columns, per-source settings, the Layout, and finding columns by name or meaning."""

from __future__ import annotations

import fnmatch
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path



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


def attribute_columns(names: list[str], used: set[int]) -> dict[str, int]:
    attributes: dict[str, int] = {}
    for position, name in enumerate(names):
        key = normalise_column_name(name)
        if not key or position in used or PERSONAL_COLUMN.search(key):
            continue
        while key in attributes:
            key = f"{key}_{position + 1}"
        attributes[key] = position
    return attributes


def nps_column(labels: list[str], settings: SourceSettings, header: list[str] | None = None, vendor: str | None = None) -> int:
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


def comment_column(labels: list[str], after: int, settings: SourceSettings, exclude: set[int]) -> int | None:
    if settings.comment_column:
        return labels.index(settings.comment_column) if settings.comment_column in labels else None
    for position in range(after + 1, len(labels)):
        if position not in exclude and FOLLOW_UP_QUESTION.search(fold(labels[position])):
            return position
    return None


def find_column(names: list[str], *wanted: str) -> int | None:
    folded = [normalise_column_name(n) for n in names]
    for name in wanted:
        if name in folded:
            return folded.index(name)
    return None


def make_layout(
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
        position = find_column(names, *candidates)
        if canonical not in found and position is not None and position not in found.values():
            found[canonical] = position
    used = set(found.values()) | {p for p in not_attributes if p is not None}
    return Layout(
        source_format=source_format,
        header_rows=header_rows,
        columns=found,
        attributes=attribute_columns(names, used),
        timestamp_formats=[settings.date_format] if settings.date_format else default_formats,
        **{"timezone": settings.timezone, **details},
    )
