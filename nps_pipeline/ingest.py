"""Ingest: find the exports in the landing zone and read each one into text rows with lineage.

A file is read exactly once per version (size + modification time). The fast path is DuckDB's
strict CSV reader; only a file it rejects is read again by Python's csv module, which finds each
broken row so that the rest of the file still gets through.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from nps_pipeline.storage import sql

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
)
REQUIRED_COLUMNS = ("response_id", "submitted_at", "score")

# Extra columns with these names carry personal data and never become attributes.
PERSONAL_COLUMN = re.compile(
    r"(^|_)(ip|ip_?address|ipaddress|latitude|longitude|lat|lon|lng|location_?latitude|"
    r"location_?longitude|name|first_?name|last_?name|full_?name|phone|phone_?number|mobile|"
    r"e_?mail|email_?address|address|street|postcode|zip|zip_?code)$"
)
IGNORED_FILE = re.compile(r"(^[.~]|\.(tmp|part|crdownload|swp)$|^~\$)", re.IGNORECASE)
HEAD_BYTES = 1 << 16


class FileProblem(Exception):
    """The whole file cannot be ingested; the message names the cause for a person to fix."""


@dataclass(frozen=True)
class LandedFile:
    path: Path
    relative_path: str
    size: int
    mtime_ns: int

    @property
    def file_id(self) -> str:
        return hashlib.sha256(self.relative_path.encode("utf-8")).hexdigest()[:16]

    @property
    def fingerprint(self) -> str:
        return f"{self.size}:{self.mtime_ns}"


@dataclass
class RawExport:
    """An export's rows as text, mapped to canonical column names, with their lineage."""

    source_format: str
    header: list[str]
    rows: pl.DataFrame  # source_row, the fields as read (_f0, _f1, ...), canonical text columns, attributes (JSON)
    rejected: pl.DataFrame  # source_row, reasons, raw_record: rows with a structural fault
    delimiter: str = ","
    notes: list[str] = field(default_factory=list)

    def raw_record(self, rows: pl.DataFrame) -> pl.Series:
        """The given rows as they arrived, rebuilt from their fields (done for rejected rows only)."""
        fields = sorted((c for c in rows.columns if c.startswith("_f")), key=lambda c: int(c[2:]))
        return rows.select(
            pl.concat_str([_csv_quote(pl.col(c), self.delimiter) for c in fields], separator=self.delimiter)
        ).to_series()

    @property
    def rows_read(self) -> int:
        return self.rows.height + self.rejected.height


def scan_landing_zone(landing_dir: Path) -> list[LandedFile]:
    """Every export file under the landing directory, in any sub-folder, skipping temp files."""
    landing_dir = Path(landing_dir).resolve()
    if not landing_dir.is_dir():
        return []
    files = []
    for path in sorted(landing_dir.rglob("*")):
        if not path.is_file() or any(IGNORED_FILE.search(part) for part in path.relative_to(landing_dir).parts):
            continue
        stat = path.stat()
        files.append(LandedFile(path, path.relative_to(landing_dir).as_posix(), stat.st_size, stat.st_mtime_ns))
    return files


def normalise_column_name(name: str) -> str:
    name = name.strip().strip("\ufeff").strip().lower()
    return re.sub(r"[^0-9a-z]+", "_", name).strip("_")


def _line_of_offset(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _decode_head(path: Path) -> str:
    """The first bytes of the file as text, or a FileProblem naming an encoding or emptiness fault."""
    with open(path, "rb") as handle:
        head = handle.read(HEAD_BYTES)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileProblem("file is UTF-16 encoded; export it as UTF-8 (CSV UTF-8)")
    if head.startswith(codecs.BOM_UTF8):
        head = head[len(codecs.BOM_UTF8) :]
    if not head.strip():
        raise FileProblem("file is empty (no header row)")
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 4:  # not merely a character cut at the end of the sample
            raise FileProblem(
                f"file is not UTF-8: byte 0x{head[error.start]:02x} on line "
                f"{_line_of_offset(head, error.start)} is not valid UTF-8; export it as UTF-8"
            ) from None
        return head[: error.start].decode("utf-8")


def _sniff_delimiter(header_line: str) -> str:
    counts = {delimiter: header_line.count(delimiter) for delimiter in (",", "\t", ";")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def read_header(path: Path) -> tuple[list[str], str]:
    """The header fields and the delimiter of a delimited export."""
    head = _decode_head(path)
    first_line = head.splitlines()[0] if head.splitlines() else ""
    delimiter = _sniff_delimiter(first_line)
    header = next(csv.reader(io.StringIO(head), delimiter=delimiter), [])
    header = [h.strip().lstrip("\ufeff") for h in header]
    if not any(header):
        raise FileProblem("file has no header row")
    return header, delimiter


def map_canonical_header(header: list[str]) -> dict[int, str]:
    """Map header positions to canonical names; other columns keep their normalised names."""
    mapping: dict[int, str] = {}
    used: set[str] = set()
    for position, name in enumerate(header):
        key = normalise_column_name(name) or f"column_{position + 1}"
        while key in used:
            key = f"{key}_{position + 1}"
        used.add(key)
        mapping[position] = key
    missing = [column for column in REQUIRED_COLUMNS if column not in used]
    if missing:
        raise FileProblem(
            f"missing required column(s) {', '.join(missing)}; header seen: {', '.join(header)}"
        )
    return mapping


def _csv_quote(expr: pl.Expr, delimiter: str) -> pl.Expr:
    needs_quotes = expr.str.contains(f'["\\r\\n{re.escape(delimiter)}]')
    quoted = pl.lit('"') + expr.str.replace_all('"', '""', literal=True) + pl.lit('"')
    return pl.when(needs_quotes).then(quoted).otherwise(expr).fill_null("")


def _read_strict(con: duckdb.DuckDBPyConnection, path: Path, width: int, delimiter: str) -> pl.DataFrame:
    columns = {f"_f{i}": "VARCHAR" for i in range(width)}
    rows = con.sql(
        sql("read_csv_export"),
        params={"path": str(path), "columns": columns, "delimiter": delimiter},
    ).pl()
    # DuckDB preserves the file's row order (preserve_insertion_order), so position is the data row.
    return rows.with_row_index("source_row", offset=1).with_columns(pl.col("source_row").cast(pl.Int64))


def _read_tolerant(path: Path, width: int, delimiter: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Read a file the strict reader refused, row by row, setting aside each broken row.

    Only files with a structural fault come here, so a Python pass over their rows is acceptable.
    """
    data = path.read_bytes()
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise FileProblem(
            f"file is not UTF-8: byte 0x{data[error.start]:02x} on line "
            f"{_line_of_offset(data, error.start)} is not valid UTF-8; export it as UTF-8"
        ) from None
    lines = text.splitlines(keepends=True)
    good: list[list[str | None]] = []
    good_rows: list[int] = []
    good_raw: list[str] = []
    bad_rows: list[int] = []
    bad_reasons: list[str] = []
    bad_raw: list[str] = []
    row_number = 0
    line_index = 1  # skip the header line (header fields never span lines in practice)
    while line_index < len(lines):
        reader = csv.reader(lines[line_index:], delimiter=delimiter, strict=True)
        record_start = 0
        try:
            for record in reader:
                record_end = reader.line_num
                raw = "".join(lines[line_index + record_start : line_index + record_end]).rstrip("\r\n")
                record_start = record_end
                if not record or record == [""] and not raw.strip():
                    continue
                row_number += 1
                if len(record) != width:
                    bad_rows.append(row_number)
                    bad_reasons.append(f"row has {len(record)} fields but the header has {width}")
                    bad_raw.append(raw)
                    continue
                good.append([value if value != "" else None for value in record])
                good_rows.append(row_number)
                good_raw.append(raw)
            line_index = len(lines)
        except csv.Error as error:
            row_number += 1
            broken_line = line_index + record_start
            bad_rows.append(row_number)
            bad_reasons.append(f"unbalanced quote: a quoted field is never closed ({error})")
            bad_raw.append(lines[broken_line].rstrip("\r\n"))
            line_index = broken_line + 1
    schema = {f"_f{i}": pl.String for i in range(width)}
    rows = pl.DataFrame(good, schema=schema, orient="row").with_columns(
        source_row=pl.Series(good_rows, dtype=pl.Int64), raw_record=pl.Series(good_raw, dtype=pl.String)
    )
    rejected = pl.DataFrame(
        {"source_row": bad_rows, "reasons": bad_reasons, "raw_record": bad_raw},
        schema={"source_row": pl.Int64, "reasons": pl.String, "raw_record": pl.String},
    )
    return rows, rejected


def read_canonical_csv(con: duckdb.DuckDBPyConnection, path: Path) -> RawExport:
    """Read an export in the project's canonical layout (CSV, or TSV/semicolon with the same header)."""
    header, delimiter = read_header(path)
    mapping = map_canonical_header(header)
    width = len(header)
    notes: list[str] = []
    try:
        rows = _read_strict(con, path, width, delimiter)
        rejected = pl.DataFrame(
            schema={"source_row": pl.Int64, "reasons": pl.String, "raw_record": pl.String}
        )
    except duckdb.Error as error:
        first_line = str(error).strip().splitlines()[0]
        notes.append(f"strict read failed ({first_line}); rows read one by one")
        rows, rejected = _read_tolerant(path, width, delimiter)
    return RawExport("generic", header, _canonical(rows, mapping), rejected, delimiter, notes)


def _canonical(rows: pl.DataFrame, mapping: dict[int, str]) -> pl.DataFrame:
    """Name the fields canonically; fold other non-personal columns into a JSON ``attributes`` column."""
    named = {name: f"_f{position}" for position, name in mapping.items()}
    extras = [n for n in named if n not in CANONICAL_COLUMNS and not PERSONAL_COLUMN.search(n)]
    attributes = (
        pl.struct([pl.col(named[n]).alias(n) for n in extras]).struct.json_encode()
        if extras
        else pl.lit(None, dtype=pl.String)
    )
    canonical = [
        pl.col(named[c]).alias(c) if c in named else pl.lit(None, dtype=pl.String).alias(c) for c in CANONICAL_COLUMNS
    ]
    keep = [c for c in rows.columns if c.startswith("_f") or c in ("source_row", "raw_record")]
    return rows.select(*keep, *canonical, attributes.alias("attributes"))


def read_export(con: duckdb.DuckDBPyConnection, landed: LandedFile) -> RawExport:
    """Detect the layout of a landed file and read it. Raises FileProblem for an unusable file."""
    if landed.size == 0:
        raise FileProblem("file is empty (0 bytes)")
    suffix = landed.path.suffix.lower()
    if suffix in {".xlsx", ".xls", ".json", ".jsonl", ".parquet", ".zip", ".gz"}:
        raise FileProblem(f"unsupported file type '{suffix}': land exports as CSV in the canonical layout")
    return read_canonical_csv(con, landed.path)
