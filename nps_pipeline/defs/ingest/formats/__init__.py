"""Survey-tool layouts: recognise an export from its content and map it to the canonical record.

Every export arrives here as text records (``_f0``, ``_f1``, ... with ``record``, the 1-based
record number in the file, header rows included). ``detect_layout`` looks at the first records;
the layout's adapter names the canonical columns, the rows to exclude (Qualtrics previews, tests,
spam, unfinished responses), the NPS group to cross-check, and how timestamps are written.
"""

from __future__ import annotations

from nps_pipeline.defs.ingest.formats.common import (
    CANONICAL_COLUMNS,
    NAME_COLUMNS,
    REQUIRED_COLUMNS,
    PERSONAL_COLUMN,
    RECOMMEND_QUESTION,
    FOLLOW_UP_QUESTION,
    SCORE_LABEL,
    QUALTRICS_STATUS,
    GROUP_CATEGORY,
    SURVEY_TOOLS,
    NO_NPS_ANSWER,
    BLANK_CHARACTERS,
    LayoutProblem,
    SourceSettings,
    load_source_settings,
    settings_for,
    Layout,
    fold,
    normalise_column_name,
)
from nps_pipeline.defs.ingest.formats.google_forms import (
    GOOGLE_TIMESTAMP,
)
from nps_pipeline.defs.ingest.formats.detect import (
    detect_layout,
)
from nps_pipeline.defs.ingest.formats.apply import (
    EASTERN_DIGITS,
    WESTERN_DIGITS,
    western_digits,
    score_text,
    apply_layout,
)

__all__ = [
    "CANONICAL_COLUMNS",
    "NAME_COLUMNS",
    "REQUIRED_COLUMNS",
    "PERSONAL_COLUMN",
    "RECOMMEND_QUESTION",
    "FOLLOW_UP_QUESTION",
    "SCORE_LABEL",
    "QUALTRICS_STATUS",
    "GROUP_CATEGORY",
    "SURVEY_TOOLS",
    "NO_NPS_ANSWER",
    "BLANK_CHARACTERS",
    "LayoutProblem",
    "SourceSettings",
    "load_source_settings",
    "settings_for",
    "Layout",
    "fold",
    "normalise_column_name",
    "GOOGLE_TIMESTAMP",
    "detect_layout",
    "EASTERN_DIGITS",
    "WESTERN_DIGITS",
    "western_digits",
    "score_text",
    "apply_layout",
]
