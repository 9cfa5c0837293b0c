"""Ingest: find the exports in the landing zone and read each one into text rows with lineage.

A file is read exactly once per version (size + modification time). The fast path is DuckDB's
strict CSV reader; only a file it rejects is read again by Python's csv module, which finds each
broken row so that the rest of the file still gets through.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import hashlib
import io
import gzip
import re
import shutil
import zipfile
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from nps_pipeline.defs.ingest.formats import (
    GOOGLE_TIMESTAMP,
    LayoutProblem,
    SourceSettings,
    apply_layout,
    detect_layout,
    fold,
)
from nps_pipeline.storage import sql

IGNORED_FILE = re.compile(r"(^[.~]|\.(tmp|part|crdownload|swp)$|^~\$|^nps_sources\.toml$)", re.IGNORECASE)
HEAD_BYTES = 1 << 16
UNSUPPORTED = {".xls", ".parquet", ".pdf", ".sav", ".numbers"}
READABLE = {".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".jsonl", ".ndjson", ".json"}


class FileProblem(Exception):
    """The whole file cannot be ingested; the message names the cause for a person to fix."""


@dataclass(frozen=True)
class LandedFile:
    path: Path
    relative_path: str
    size: int
    mtime_ns: int
    refusal: str | None = None  # why the entry is refused without being opened (a link out of the landing zone, ...)

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
    rows: pl.DataFrame  # source_row, fields (_f0, _f1, ...), canonical text columns, attributes, nps_group
    rejected: pl.DataFrame  # source_row, reasons, raw_record: rows with a structural fault
    excluded: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema={"source_row": pl.Int64, "excluded": pl.String}))
    delimiter: str = ","
    notes: list[str] = field(default_factory=list)
    timestamp_formats: list[str] = field(default_factory=list)
    timezone: str | None = None
    personal_fields: set[int] = field(default_factory=set)

    def raw_record(self, rows: pl.DataFrame) -> pl.Series:
        """The given rows as they arrived, rebuilt from their fields, personal data masked (rejected rows only)."""
        fields = sorted((c for c in rows.columns if c.startswith("_f")), key=lambda c: int(c[2:]))
        return rows.select(
            pl.concat_str(
                [
                    pl.when(pl.col(c).is_not_null()).then(pl.lit("<personal data removed>")).otherwise(pl.lit(""))
                    if int(c[2:]) in self.personal_fields
                    else _csv_quote(pl.col(c), self.delimiter)
                    for c in fields
                ],
                separator=self.delimiter,
            )
        ).to_series()

    @property
    def rows_read(self) -> int:
        """Rows read as responses: every data row but those the survey tool marks as not real."""
        return self.rows.height + self.rejected.height


@dataclass(frozen=True)
class IgnoredEntry:
    """A landing-zone entry that is not read, and why (it still gets its row in ``ingest_files``)."""

    relative_path: str
    reason: str


def _ignored_reason(name: str) -> str:
    if name.lower() == "nps_sources.toml":
        return "per-source settings file: read only at the top of the landing zone"
    if name.startswith("~$"):
        return "an office application's lock file (name starts with '~$'): not read"
    if name.startswith("."):
        return "hidden file (name starts with '.'): not read; rename it to ingest it"
    if name.startswith("~"):
        return "backup or temporary file (name starts with '~'): not read"
    return "file still being written or a temporary copy (.tmp, .part, .crdownload, .swp): not read"


def landing_entries(landing_dir: Path) -> tuple[list[LandedFile], list[IgnoredEntry]]:
    """Every entry under the landing directory: the files to stage (links refused included) and those ignored.

    A symbolic link is followed only to a file inside the landing zone; a link out of it, or to
    nothing, is refused without being opened. Hidden and temporary files are not read, and neither
    is anything inside a hidden folder.
    """
    landing_dir = Path(landing_dir).resolve()
    if not landing_dir.is_dir():
        return [], []
    files, ignored = [], []
    for path in sorted(landing_dir.rglob("*")):
        relative = path.relative_to(landing_dir)
        if any(IGNORED_FILE.search(part) for part in relative.parts[:-1]) or relative.as_posix().lower() == "nps_sources.toml":
            continue
        refusal = None
        if path.is_symlink():
            try:
                target = path.resolve(strict=True)
            except (OSError, RuntimeError):
                refusal = "broken symbolic link (its target does not exist): refused"
            else:
                if not target.is_relative_to(landing_dir):
                    refusal = "symbolic link to a file outside the landing zone: refused; land the file itself"
                elif target.is_dir():
                    continue  # a link to a folder inside the landing zone: its files are listed where they are
        elif path.is_dir():
            continue
        elif not path.is_file():
            refusal = "not a regular file (a pipe, socket or device): refused"
        if IGNORED_FILE.search(relative.name):
            ignored.append(IgnoredEntry(relative.as_posix(), _ignored_reason(relative.name)))
            continue
        stat = path.lstat() if refusal else path.stat()
        files.append(LandedFile(path, relative.as_posix(), stat.st_size, stat.st_mtime_ns, refusal))
    return files, ignored


def scan_landing_zone(landing_dir: Path) -> list[LandedFile]:
    """Every export file under the landing directory, in any sub-folder, skipping hidden and temp files."""
    return landing_entries(landing_dir)[0]


def _line_of_offset(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _transcode(path: Path, tmp_dir: Path, encoding: str) -> Path:
    data = path.read_bytes()
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        raise FileProblem(
            f"file is neither UTF-8 nor Windows-1252: byte 0x{data[error.start]:02x} on line "
            f"{_line_of_offset(data, error.start)} cannot be decoded; export it as UTF-8"
        ) from None
    target = tmp_dir / f"{uuid.uuid4().hex}.utf8"
    target.write_text(text.lstrip("\ufeff"), encoding="utf-8")
    return target


def _decode_by_line(path: Path, tmp_dir: Path) -> tuple[Path, str]:
    """A UTF-8 copy of a file that is not all UTF-8: each line read as UTF-8, else as Windows-1252.

    A UTF-8 export with a few Windows-1252 bytes (one pasted answer) keeps every other line as it
    is, instead of re-reading all of it as Windows-1252 (``cafÃ©``). Only files the UTF-8 reader
    refused come here, so a Python pass over their lines is acceptable.
    """
    data = path.read_bytes()
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    text, legacy, utf8_beyond_ascii = [], [], 0
    for number, line in enumerate(data.split(b"\n"), start=1):
        try:
            text.append(line.decode("utf-8"))
            utf8_beyond_ascii += not line.isascii()
        except UnicodeDecodeError:
            try:
                text.append(line.decode("cp1252"))
            except UnicodeDecodeError as error:
                raise FileProblem(
                    f"file is neither UTF-8 nor Windows-1252: byte 0x{line[error.start]:02x} on line {number} "
                    "cannot be decoded; export it as UTF-8"
                ) from None
            legacy.append(number)
    target = tmp_dir / f"{uuid.uuid4().hex}.utf8"
    target.write_text("\n".join(text), encoding="utf-8")
    if not utf8_beyond_ascii:
        return target, "decoded from Windows-1252"
    shown = ", ".join(map(str, legacy[:10])) + (", ..." if len(legacy) > 10 else "")
    return target, f"mixed encodings: {len(legacy)} line(s) not UTF-8 read as Windows-1252 (line {shown}), the others as UTF-8"


def _utf8_source(path: Path, tmp_dir: Path) -> tuple[Path, str | None]:
    """The file itself when it is UTF-8 (with or without a byte-order mark), else a UTF-8 copy."""
    with open(path, "rb") as handle:
        head = handle.read(HEAD_BYTES)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _transcode(path, tmp_dir, "utf-16"), "decoded from UTF-16"
    if len(head) >= 4 and head[1:4:2] == b"\x00\x00" and head[0:4:2] != b"\x00\x00":
        return _transcode(path, tmp_dir, "utf-16-le"), "decoded from UTF-16 (little-endian, no byte-order mark)"
    if len(head) >= 4 and head[0:4:2] == b"\x00\x00" and head[1:4:2] != b"\x00\x00":
        return _transcode(path, tmp_dir, "utf-16-be"), "decoded from UTF-16 (big-endian, no byte-order mark)"
    return path, None


SEPARATOR_HINT = re.compile(rb"^(?:\xef\xbb\xbf)?sep=([,;\t|])[ \t]*\n", re.IGNORECASE)


def _normalised(path: Path, tmp_dir: Path) -> tuple[Path, str | None, list[str]]:
    """A UTF-8 delimited file as the readers expect it, the delimiter its Excel ``sep=`` line names, and notes.

    Lines ending in a bare carriage return (Excel's "CSV (Macintosh)") get line feeds, and the
    ``sep=;`` line Excel may write above the header is dropped: in one copy, only when needed.
    """
    with open(path, "rb") as handle:
        head = handle.read(HEAD_BYTES)
    bare_returns = b"\r" in head and b"\n" not in head
    hint = SEPARATOR_HINT.match(head.replace(b"\r", b"\n") if bare_returns else head.replace(b"\r\n", b"\n"))
    if not bare_returns and not hint:
        return path, None, []
    data, notes = path.read_bytes(), []
    if bare_returns:
        data = data.replace(b"\r", b"\n")
        notes.append("line endings were bare carriage returns (classic Mac): read as line feeds")
    delimiter = None
    if hint:
        data = data[data.index(b"\n") + 1 :]
        delimiter = hint.group(1).decode("ascii")
        notes.append(f"Excel's separator line (sep={delimiter}) skipped")
    target = tmp_dir / f"{uuid.uuid4().hex}.csv"
    target.write_bytes(data)
    return target, delimiter, notes


def _first_records(path: Path, delimiter: str | None = None) -> tuple[list[list[str]], str]:
    """The first records of a UTF-8 delimited file and its delimiter."""
    with open(path, "rb") as handle:
        head = handle.read(HEAD_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        head = head[len(codecs.BOM_UTF8) :]
    if not head.strip():
        raise FileProblem("file is empty (no header row)")
    text = head.decode("utf-8", errors="replace")
    lines = text.splitlines()
    delimiter = delimiter or _sniff_delimiter(lines[0] if lines else "")
    records = []
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        for record in reader:
            if record:
                records.append(record)
            if len(records) == 4:
                break
    except csv.Error:
        pass
    if not records or not any(records[0]):
        raise FileProblem("file is empty (no header row)")
    return records, delimiter


def _sniff_delimiter(header_line: str) -> str:
    counts = {delimiter: header_line.count(delimiter) for delimiter in (",", "\t", ";")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _csv_quote(expr: pl.Expr, delimiter: str) -> pl.Expr:
    needs_quotes = expr.str.contains(f'["\\r\\n{re.escape(delimiter)}]')
    quoted = pl.lit('"') + expr.str.replace_all('"', '""', literal=True) + pl.lit('"')
    return pl.when(needs_quotes).then(quoted).otherwise(expr).fill_null("")


def _is_encoding_error(error: duckdb.Error) -> bool:
    message = str(error).lower()
    return "unicode" in message or "utf-8" in message or "encoding" in message


def _read_strict(con: duckdb.DuckDBPyConnection, path: Path, width: int, delimiter: str, quoted: bool = True) -> pl.DataFrame:
    columns = {f"_f{i}": "VARCHAR" for i in range(width)}
    quote = '"' if quoted else ""
    rows = con.sql(
        sql("read_csv_export"),
        params={"path": str(path), "columns": columns, "delimiter": delimiter, "quote": quote, "escape": quote},
    ).pl()
    # DuckDB preserves the file's record order (preserve_insertion_order): position is the record.
    return rows.with_row_index("record", offset=1).with_columns(pl.col("record").cast(pl.Int64))


def _read_tolerant(path: Path, width: int, delimiter: str, quoted: bool = True) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Read a file the strict reader refused, record by record, setting aside each broken one.

    Only files with a structural fault come here, so a Python pass over their rows is acceptable.
    """
    text = path.read_bytes().decode("utf-8").lstrip("\ufeff")
    lines = text.splitlines(keepends=True)
    good: list[list[str | None]] = []
    good_records: list[int] = []
    bad_records: list[int] = []
    bad_reasons: list[str] = []
    bad_raw: list[str] = []
    record_number = 0
    line_index = 0
    while line_index < len(lines):
        reader = csv.reader(lines[line_index:], delimiter=delimiter, strict=True, quoting=csv.QUOTE_MINIMAL if quoted else csv.QUOTE_NONE)
        record_start = 0
        try:
            for record in reader:
                record_end = reader.line_num
                raw = "".join(lines[line_index + record_start : line_index + record_end]).rstrip("\r\n")
                record_start = record_end
                if not record or (record == [""] and not raw.strip()):
                    continue
                record_number += 1
                if len(record) != width:
                    bad_records.append(record_number)
                    bad_reasons.append(f"row has {len(record)} fields but the header has {width}")
                    bad_raw.append(raw)
                    continue
                good.append([value if value != "" else None for value in record])
                good_records.append(record_number)
            line_index = len(lines)
        except csv.Error as error:
            record_number += 1
            broken_line = line_index + record_start
            bad_records.append(record_number)
            bad_reasons.append(f"unbalanced quote: a quoted field is never closed ({error})")
            bad_raw.append(lines[broken_line].rstrip("\r\n"))
            line_index = broken_line + 1
    schema = {f"_f{i}": pl.String for i in range(width)}
    rows = pl.DataFrame(good, schema=schema, orient="row").with_columns(record=pl.Series(good_records, dtype=pl.Int64))
    rejected = pl.DataFrame(
        {"record": bad_records, "reasons": bad_reasons, "raw_record": bad_raw},
        schema={"record": pl.Int64, "reasons": pl.String, "raw_record": pl.String},
    )
    return rows, rejected


NO_REJECTS = {"record": pl.Int64, "reasons": pl.String, "raw_record": pl.String}


def read_delimited(con: duckdb.DuckDBPyConnection, path: Path, tmp_dir: Path) -> tuple[pl.DataFrame, pl.DataFrame, str, list[str]]:
    """Every record of a CSV/TSV export as text fields, whatever its encoding; broken records set aside."""
    notes: list[str] = []
    copies: list[Path] = []

    def normalised(text_source: Path) -> tuple[Path, str | None]:
        prepared, hinted, how = _normalised(text_source, tmp_dir)
        if prepared != text_source:
            copies.append(prepared)
            notes.extend(n for n in how if n not in notes)  # a Windows-1252 re-read prepares the file again
        return prepared, hinted

    source, note = _utf8_source(path, tmp_dir)
    if source != path:
        copies.append(source)
    if note:
        notes.append(note)
    source, hinted = normalised(source)
    records, delimiter = _first_records(source, hinted)
    width = len(records[0])
    # Google Sheets writes tab-separated values without quoting: a '"' is part of the answer.
    quoted = not (delimiter == "\t" and fold(records[0][0].lstrip("\ufeff")) in GOOGLE_TIMESTAMP)
    if not quoted:
        notes.append("read without quote handling (Google Sheets writes tab-separated values unquoted)")

    def read(text_source: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
        try:
            return _read_strict(con, text_source, width, delimiter, quoted), pl.DataFrame(schema=NO_REJECTS)
        except duckdb.Error as error:
            if _is_encoding_error(error):
                raise
            if quoted and delimiter == "\t":
                with contextlib.suppress(duckdb.Error):
                    rows = _read_strict(con, text_source, width, delimiter, quoted=False)
                    notes.append("read without quote handling: its fields are not quoted (as Google Sheets writes tab-separated values)")
                    return rows, pl.DataFrame(schema=NO_REJECTS)
            notes.append(f"strict read failed ({str(error).strip().splitlines()[0]}); rows read one by one")
            return _read_tolerant(text_source, width, delimiter, quoted)

    try:
        try:
            rows, rejected = read(source)
        except duckdb.Error:
            decoded, how = _decode_by_line(path, tmp_dir)
            copies.append(decoded)
            notes.append(how)
            source, _ = normalised(copies[-1])
            rows, rejected = read(source)
    finally:
        for copy in copies:
            copy.unlink(missing_ok=True)
    return rows, rejected, delimiter, notes


def read_xlsx(path: Path) -> pl.DataFrame:
    """The first sheet of a workbook as text records."""
    try:
        frame = pl.read_excel(path, has_header=False, infer_schema_length=0)
    except Exception as error:  # noqa: BLE001 - a broken workbook is this file's problem, said plainly
        raise FileProblem(f"cannot read the workbook ({type(error).__name__}: {str(error).splitlines()[0]})") from None
    frame = frame.rename({c: f"_f{i}" for i, c in enumerate(frame.columns)}).cast(pl.String)
    return frame.with_row_index("record", offset=1).with_columns(pl.col("record").cast(pl.Int64))


def read_delighted_json(path: Path) -> pl.DataFrame:
    """Delighted API response records (JSON Lines, or a JSON array) as text records with a header row."""
    with open(path, "rb") as handle:
        is_array = handle.read(HEAD_BYTES).lstrip(codecs.BOM_UTF8).lstrip().startswith(b"[")
    try:
        frame = pl.read_json(path) if is_array else pl.read_ndjson(path, infer_schema_length=None)
    except Exception as error:  # noqa: BLE001 - a broken JSON file is this file's problem, said plainly
        raise FileProblem(f"not valid JSON ({type(error).__name__}: {str(error).splitlines()[0]})") from None
    if frame.is_empty() or not {"id", "score"} <= set(frame.columns):
        raise FileProblem("JSON records are not Delighted survey responses (each needs id and score)")
    person = frame.get_column("person") if "person" in frame.columns else None
    columns = {
        "response_id": pl.col("id").cast(pl.String),
        "created_at": pl.col("created_at").cast(pl.String) if "created_at" in frame.columns else pl.lit(None, dtype=pl.String),
        "score": pl.col("score").cast(pl.String),
        "comment": pl.col("comment").cast(pl.String) if "comment" in frame.columns else pl.lit(None, dtype=pl.String),
        "survey_type": pl.col("survey_type").cast(pl.String) if "survey_type" in frame.columns else pl.lit(None, dtype=pl.String),
    }
    if person is not None and person.dtype == pl.Struct:
        fields = [f.name for f in person.dtype.fields]
        columns["person_id"] = pl.col("person").struct.field("id").cast(pl.String) if "id" in fields else pl.lit(None, dtype=pl.String)
        columns["email"] = pl.col("person").struct.field("email").cast(pl.String) if "email" in fields else pl.lit(None, dtype=pl.String)
    elif person is not None:
        columns["person_id"] = pl.col("person").cast(pl.String)
    table = frame.select(**columns)
    if "person_properties" in frame.columns and frame.schema["person_properties"] == pl.Struct:
        table = table.hstack(frame.select(pl.col("person_properties")).unnest("person_properties").cast(pl.String))
    header = pl.DataFrame([table.columns], schema=table.columns, orient="row")
    records = pl.concat([header, table.cast(pl.String)])
    records = records.rename({c: f"_f{i}" for i, c in enumerate(records.columns)})
    return records.with_row_index("record", offset=1).with_columns(pl.col("record").cast(pl.Int64))


def _read_records(con: duckdb.DuckDBPyConnection, path: Path, tmp_dir: Path) -> tuple[pl.DataFrame, pl.DataFrame, str, list[str]]:
    """Every record of an export as text fields, its broken records, its delimiter and notes on how it was read."""
    suffix = path.suffix.lower()
    if suffix in {".xlsx", ".xlsm"}:
        return read_xlsx(path), pl.DataFrame(schema=NO_REJECTS), ",", []
    if suffix in {".jsonl", ".ndjson", ".json"}:
        return read_delighted_json(path), pl.DataFrame(schema=NO_REJECTS), ",", []
    return read_delimited(con, path, tmp_dir)


def _unpacked(path: Path, tmp_dir: Path) -> tuple[Path, list[str]]:
    """The export inside a ``.zip`` (as Qualtrics and SurveyMonkey download them) or a ``.gz``, as a temporary file; else ``path``."""
    suffix = path.suffix.lower()
    if suffix == ".gz":
        inner = Path(path.stem).suffix.lower() or ".csv"
        target = tmp_dir / f"{uuid.uuid4().hex}{inner}"
        try:
            with gzip.open(path, "rb") as packed, open(target, "wb") as unpacked:
                shutil.copyfileobj(packed, unpacked)
        except (OSError, EOFError) as error:
            target.unlink(missing_ok=True)
            raise FileProblem(f"cannot decompress the gzip file ({error})") from None
        return target, [f"decompressed from {path.name}"]
    if suffix != ".zip":
        return path, []
    try:
        with zipfile.ZipFile(path) as archive:
            members = [
                m for m in archive.infolist()
                if not m.is_dir() and not m.filename.startswith("__MACOSX/") and not Path(m.filename).name.startswith(".")
            ]
            exports = [m for m in members if Path(m.filename).suffix.lower() in READABLE]
            if len(exports) != 1:
                names = ", ".join(m.filename for m in members[:5]) or "nothing"
                raise FileProblem(
                    f"the zip archive holds {len(exports)} exports (it holds {names}): land one export per zip, or the files themselves"
                )
            target = tmp_dir / f"{uuid.uuid4().hex}{Path(exports[0].filename).suffix.lower()}"
            with archive.open(exports[0]) as packed, open(target, "wb") as unpacked:
                shutil.copyfileobj(packed, unpacked)
            return target, [f"read {exports[0].filename} from the zip archive"]
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise FileProblem(f"cannot open the zip archive ({error})") from None


def read_export(
    con: duckdb.DuckDBPyConnection,
    landed: LandedFile,
    settings: SourceSettings = SourceSettings(),
    tmp_dir: Path | None = None,
) -> RawExport:
    """Recognise a landed file's layout from its content and read it. Raises FileProblem."""
    if landed.refusal:
        raise FileProblem(landed.refusal)
    if landed.size == 0:
        raise FileProblem("file is empty (0 bytes)")
    suffix = landed.path.suffix.lower()
    if suffix in UNSUPPORTED:
        raise FileProblem(f"unsupported file type '{suffix}': land CSV, TSV, XLSX or Delighted JSON Lines (zipped or gzipped is fine)")
    tmp_dir = tmp_dir or Path(tempfile.gettempdir())
    tmp_dir.mkdir(parents=True, exist_ok=True)
    path, notes = _unpacked(landed.path, tmp_dir)
    try:
        records, rejected, delimiter, read_notes = _read_records(con, path, tmp_dir)
    finally:
        if path != landed.path:
            path.unlink(missing_ok=True)
    notes += read_notes
    head = [[cell or "" for cell in row] for row in records.head(4).drop("record").rows()]
    try:
        layout = detect_layout(head, settings)
    except LayoutProblem as problem:
        raise FileProblem(str(problem)) from None
    rows = apply_layout(records, layout)
    if "_identity" in rows.columns:
        identity_rows = rows.select("source_row", "_identity")  # noqa: F841 - scanned by name
        hashed = con.sql(sql("select_synthesised_response_ids"), params={"prefix": layout.id_prefix}).pl()
        rows = rows.drop("response_id", "_identity").join(hashed, on="source_row", how="left", maintain_order="left")
    rejected = rejected.filter(pl.col("record") > layout.header_rows).select(
        (pl.col("record") - layout.header_rows).alias("source_row"), "reasons", "raw_record"
    )
    excluded = rows.filter(pl.col("excluded").is_not_null()).select("source_row", "excluded")
    rows = rows.filter(pl.col("excluded").is_null()).drop("excluded")
    return RawExport(
        source_format=layout.source_format,
        rows=rows,
        rejected=rejected,
        excluded=excluded,
        delimiter=delimiter,
        notes=notes,
        timestamp_formats=layout.timestamp_formats,
        timezone=layout.timezone,
        personal_fields=layout.personal_fields,
    )
