"""Read one landed export into text rows with lineage: recognise its layout from its content, unpack
zip and gzip, read CSV/TSV (delimited.py), XLSX or Delighted JSON, and map it to the canonical columns.

A file is read exactly once per version (size + modification time).
"""

from __future__ import annotations

import codecs
import gzip
import itertools
import shutil
import zipfile
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from nps_pipeline.defs.ingest.formats import LayoutProblem, SourceSettings, apply_layout, detect_layout
from nps_pipeline.storage import sql
from nps_pipeline.defs.ingest.delimited import HEAD_BYTES, NO_REJECTS, csv_quote, prepared_delimited, read_delimited, strict_batches
from nps_pipeline.defs.ingest.landing import FileProblem, LandedFile

UNSUPPORTED = {".xls", ".parquet", ".pdf", ".sav", ".numbers"}
READABLE = {".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".jsonl", ".ndjson", ".json"}


@dataclass
class RawExport:
    """An export's rows as text, mapped to canonical column names, with their lineage."""

    source_format: str
    rows: pl.DataFrame  # source_row, fields (_f0, _f1, ...), canonical text columns, attributes, nps_group
    rejected: pl.DataFrame  # source_row, reasons, raw_record, response_id (null): rows with a structural fault
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
                    else csv_quote(pl.col(c), self.delimiter)
                    for c in fields
                ],
                separator=self.delimiter,
            )
        ).to_series()

    @property
    def rows_read(self) -> int:
        """Rows read as responses: every data row but those the survey tool marks as not real."""
        return self.rows.height + self.rejected.height


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
    """Recognise a landed file's layout from its content and read it whole. Raises FileProblem."""
    (export,) = read_export_batches(con, landed, settings, tmp_dir)
    return export


def read_export_batches(
    con: duckdb.DuckDBPyConnection,
    landed: LandedFile,
    settings: SourceSettings = SourceSettings(),
    tmp_dir: Path | None = None,
    batch_rows: int | None = None,
) -> Iterator[RawExport]:
    """A landed export's rows in batches of about ``batch_rows`` records (None: all of them at once).

    Delimited files stream through DuckDB's strict reader, so memory holds one batch; a fault it
    finds part-way raises ``duckdb.Error`` (the caller then reads the whole file, which sets broken
    records aside). Workbooks, JSON and files read whole come as one batch. Raises FileProblem.
    """
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
        if batch_rows is not None and path.suffix.lower() not in WHOLE_FILE_SUFFIXES:
            with prepared_delimited(path, tmp_dir) as source:
                batches = strict_batches(con, source, batch_rows)
                # The layout is recognised from the first four records: the first batch holds them.
                first = next(batches, None)
                while first is not None and first.height < 4 and (more := next(batches, None)) is not None:
                    first = pl.concat([first, more])
                if first is None:
                    raise FileProblem("file is empty (no header row)")
                layout = _layout_of(first, settings)
                header = _header_of(first)
                for records in itertools.chain([first], batches):
                    yield _raw_export(con, records, pl.DataFrame(schema=NO_REJECTS), layout, header, source.delimiter, notes + source.notes)
        else:
            records, rejected, delimiter, read_notes = _read_records(con, path, tmp_dir)
            yield _raw_export(con, records, rejected, _layout_of(records, settings), _header_of(records), delimiter, notes + read_notes)
    finally:
        if path != landed.path:
            path.unlink(missing_ok=True)


WHOLE_FILE_SUFFIXES = {".xlsx", ".xlsm", ".jsonl", ".ndjson", ".json"}


def _layout_of(records: pl.DataFrame, settings: SourceSettings):
    head = [[cell or "" for cell in row] for row in records.head(4).drop("record").rows()]
    try:
        return detect_layout(head, settings)
    except LayoutProblem as problem:
        raise FileProblem(str(problem)) from None


def _header_of(records: pl.DataFrame) -> tuple | None:
    """The first record's fields: a data row equal to it is a header repeated by exports joined together."""
    header = records.filter(pl.col("record") == 1).drop("record")
    return header.row(0) if header.height == 1 else None


def _raw_export(con, records, rejected, layout, header, delimiter, notes) -> RawExport:
    rows = apply_layout(records, layout, header)
    if "_identity" in rows.columns:
        identity_rows = rows.select("source_row", "_identity")  # noqa: F841 - scanned by name
        hashed = con.sql(sql("select_synthesised_response_ids"), params={"prefix": layout.id_prefix}).pl()
        rows = rows.drop("response_id", "_identity").join(hashed, on="source_row", how="left", maintain_order="left")
    rejected = rejected.filter(pl.col("record") > layout.header_rows).select(
        (pl.col("record") - layout.header_rows).alias("source_row"), "reasons", "raw_record",
        pl.lit(None, dtype=pl.String).alias("response_id"),  # a broken record gives no id to trust
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
