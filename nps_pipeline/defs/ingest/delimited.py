"""Delimited exports (CSV, TSV): every record as text fields, whatever the encoding, delimiter or line endings; broken records set aside.

The fast path is DuckDB's strict CSV reader; only a file it rejects is read again by Python's csv
module, which finds each broken row so that the rest of the file still gets through.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from nps_pipeline.defs.ingest.formats import GOOGLE_TIMESTAMP, fold
from nps_pipeline.storage import sql
from nps_pipeline.defs.ingest.landing import FileProblem


HEAD_BYTES = 1 << 16


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


def csv_quote(expr: pl.Expr, delimiter: str) -> pl.Expr:
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


@dataclass
class DelimitedSource:
    """A delimited export ready for the strict reader: UTF-8, line feeds, no separator line."""

    path: Path
    delimiter: str
    width: int
    quoted: bool
    notes: list[str]


@contextlib.contextmanager
def prepared_delimited(path: Path, tmp_dir: Path) -> Iterator[DelimitedSource]:
    """The export as the strict reader takes it (a UTF-8 copy only when needed, removed afterwards)."""
    notes: list[str] = []
    copies: list[Path] = []
    try:
        source, note = _utf8_source(path, tmp_dir)
        if source != path:
            copies.append(source)
        if note:
            notes.append(note)
        prepared, hinted, how = _normalised(source, tmp_dir)
        if prepared != source:
            copies.append(prepared)
        notes.extend(how)
        records, delimiter = _first_records(prepared, hinted)
        # Google Sheets writes tab-separated values without quoting: a '"' is part of the answer.
        quoted = not (delimiter == "\t" and fold(records[0][0].lstrip("\ufeff")) in GOOGLE_TIMESTAMP)
        if not quoted:
            notes.append("read without quote handling (Google Sheets writes tab-separated values unquoted)")
        yield DelimitedSource(prepared, delimiter, len(records[0]), quoted, notes)
    finally:
        for copy in copies:
            copy.unlink(missing_ok=True)


def strict_batches(con: duckdb.DuckDBPyConnection, source: DelimitedSource, batch_rows: int) -> Iterator[pl.DataFrame]:
    """The records of a delimited export in batches of ``batch_rows``, numbered from 1 in file order.

    One streaming pass of DuckDB's strict reader: memory holds a batch, not the file. A structural
    fault or a byte that is not UTF-8 raises ``duckdb.Error`` at the batch that holds it, wherever it is.
    """
    quote = '"' if source.quoted else ""
    # A cursor of its own: a query on ``con`` while the batches are read (typing them) would end this one's result.
    relation = con.cursor().sql(
        sql("read_csv_export"),
        params={
            "path": str(source.path), "columns": {f"_f{i}": "VARCHAR" for i in range(source.width)},
            "delimiter": source.delimiter, "quote": quote, "escape": quote,
        },
    )
    first_record = 1

    def numbered(chunks: list[pl.DataFrame]) -> pl.DataFrame:
        nonlocal first_record
        frame = pl.concat(chunks).with_row_index("record", offset=first_record).with_columns(pl.col("record").cast(pl.Int64))
        first_record += frame.height
        return frame

    # DuckDB hands over about 50,000 records at a time: gathered up to ``batch_rows``, so each batch's fixed costs are paid rarely.
    pending: list[pl.DataFrame] = []
    pending_rows = 0
    reader = iter(relation.to_arrow_reader(batch_rows))
    while True:
        try:
            chunk = next(reader, None)
        except OSError as error:
            # Past DuckDB's first buffer, its CSV error reaches us through the Arrow stream as an OSError.
            raise duckdb.InvalidInputException(str(error)) from error
        if chunk is None:
            break
        pending.append(pl.from_arrow(chunk))
        pending_rows += chunk.num_rows
        if pending_rows >= batch_rows:
            yield numbered(pending)
            pending, pending_rows = [], 0
    if pending_rows:
        yield numbered(pending)


def read_delimited(con: duckdb.DuckDBPyConnection, path: Path, tmp_dir: Path) -> tuple[pl.DataFrame, pl.DataFrame, str, list[str]]:
    """Every record of a CSV/TSV export as text fields, whatever its encoding; broken records set aside."""
    notes: list[str] = []

    def add(note: str) -> None:
        if note not in notes:  # a Windows-1252 re-read prepares and reads the file again
            notes.append(note)

    def read(source: DelimitedSource) -> tuple[pl.DataFrame, pl.DataFrame, str, list[str]]:
        for note in source.notes:
            add(note)
        width, delimiter, quoted = source.width, source.delimiter, source.quoted
        try:
            return _read_strict(con, source.path, width, delimiter, quoted), pl.DataFrame(schema=NO_REJECTS), delimiter, notes
        except duckdb.Error as error:
            if _is_encoding_error(error):
                raise
            if quoted and delimiter == "\t":
                with contextlib.suppress(duckdb.Error):
                    rows = _read_strict(con, source.path, width, delimiter, quoted=False)
                    add("read without quote handling: its fields are not quoted (as Google Sheets writes tab-separated values)")
                    return rows, pl.DataFrame(schema=NO_REJECTS), delimiter, notes
            add(f"strict read failed ({str(error).strip().splitlines()[0]}); rows read one by one")
            return (*_read_tolerant(source.path, width, delimiter, quoted), delimiter, notes)

    try:
        with prepared_delimited(path, tmp_dir) as source:
            return read(source)
    except (duckdb.Error, UnicodeDecodeError):
        # Not all UTF-8: the strict reader said so, or the row-by-row reader of a file with a broken record did.
        decoded, how = _decode_by_line(path, tmp_dir)
        try:
            add(how)
            with prepared_delimited(decoded, tmp_dir) as source:
                return read(source)
        finally:
            decoded.unlink(missing_ok=True)
