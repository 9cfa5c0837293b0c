"""Google Forms exports (and Google Sheets downloads of them): Timestamp first, no response id."""

from __future__ import annotations



from nps_pipeline.defs.ingest.formats.common import (
    SourceSettings,
    Layout,
    nps_column,
    comment_column,
    find_column,
    make_layout,
)


GOOGLE_TIMESTAMP = {"timestamp", "marca temporal", "horodateur", "zeitstempel", "carimbo de data/hora", "时间戳记", "時間戳記", "stempel waktu"}


def google_forms_layout(rows: list[list[str]], settings: SourceSettings) -> Layout:
    header = rows[0]
    nps = nps_column(header, settings, vendor="Google Forms")
    email = find_column(header, "email_address", "email", "direccion_de_correo_electronico", "adresse_e_mail", "e_mail_adresse")
    columns = {
        "submitted_at": 0,
        "score": nps,
        "email": email,
        "comment": comment_column(header, nps, settings, set()),
    }
    return make_layout(
        "google_forms", 1, columns, header, settings,
        ["%m/%d/%Y %H:%M:%S", "%Y/%m/%d %I:%M:%S %p", "%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M:%S", "%m/%d/%Y %H:%M"],
        id_prefix="google_forms:",
        # Google Forms exports carry no response id: the same answers at the same moment are one response.
        synthesise_id_from=list(range(len(header))),
    )
