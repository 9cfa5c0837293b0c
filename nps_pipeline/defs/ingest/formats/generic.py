"""The project's canonical layout (source_format 'generic')."""

from __future__ import annotations



from nps_pipeline.defs.ingest.formats.common import (
    CANONICAL_COLUMNS,
    SourceSettings,
    Layout,
    normalise_column_name,
    make_layout,
)


def generic_layout(rows: list[list[str]], settings: SourceSettings) -> Layout:
    header = rows[0]
    names = [normalise_column_name(h) for h in header]
    columns = {c: names.index(c) for c in CANONICAL_COLUMNS if c in names}
    # Dotted dates are day-first wherever they are written; slashed ones are ambiguous and need date_format.
    dotted = ["%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y"]
    return make_layout("generic", 1, columns, header, settings, dotted, labels_in_score=False)
