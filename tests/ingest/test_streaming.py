"""Staging streams a delimited export in batches: the same rows, counts and reasons as one read of the whole file."""

import datetime as dt
import json

import duckdb
import polars as pl
import pytest

from nps_pipeline.defs.ingest import staging
from nps_pipeline.defs.ingest.landing import LandedFile
from nps_pipeline.storage import WarehouseLayout
from tests.conftest import HEADER


def export_text(rows: int, broken_at: int | None = None) -> str:
    """An export over three months with every kind of row: bad scores, blank rows, a repeated header."""
    lines = [HEADER]
    for i in range(rows):
        month = 1 + i % 3
        score = "11" if i % 97 == 5 else str(i % 11)
        lines.append(f"r{i},2024-0{month}-{1 + i % 28:02d}T10:{i % 60:02d}:00Z,{score},\"said, {i}\",c{i % 50},c{i % 50}@example.com,email,EMEA,Pro,support,gold,en")
        if i % 150 == 7:
            lines.append(",,,,,,,,,,,")
        if i == rows // 2:
            lines.append(HEADER)
        if broken_at is not None and i == broken_at:
            lines.append('rX,2024-01-01T10:00:00Z,9,"never closed,c1,,,,,,,en')
    return "\n".join(lines) + "\n"


def stage(tmp_path, name: str, text: str, batch_rows: int | None, monkeypatch):
    monkeypatch.setattr(staging, "STAGING_BATCH_ROWS", batch_rows)
    root = tmp_path / name
    landing = root / "landing"
    landing.mkdir(parents=True)
    path = landing / "export.csv"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    stat = path.stat()
    layout = WarehouseLayout(root / "warehouse")
    layout.ensure()
    manifest = staging.stage_file(
        duckdb.connect(), layout, LandedFile(path, "export.csv", stat.st_size, stat.st_mtime_ns),
        timezone="UTC", start_date=dt.date(2024, 1, 1), previous=None,
    )
    # file_order is the file's modification time: each test file has its own.
    staged = pl.read_parquet(str(layout.staged / "month=*" / "*.parquet")).sort("source_row").drop("file_order")
    quarantined = pl.read_parquet(layout.staged_quarantine / f"{manifest.file_id}.parquet").drop("ingested_at")
    return manifest, staged, quarantined, layout


def test_batches_stage_exactly_what_a_whole_read_stages(tmp_path, monkeypatch):
    text = export_text(1_000)
    whole, whole_rows, whole_quarantine, _ = stage(tmp_path, "whole", text, None, monkeypatch)
    batched, batched_rows, batched_quarantine, layout = stage(tmp_path, "batched", text, 64, monkeypatch)
    assert (batched.rows_read, batched.rows_staged, batched.rows_quarantined, batched.excluded_reasons) == (
        whole.rows_read, whole.rows_staged, whole.rows_quarantined, whole.excluded_reasons
    )
    assert batched.rows_read == 1_000 and batched.rows_quarantined == 11
    assert batched.excluded_reasons == {"blank row (every field empty)": 7, "repeated header row (exports joined together)": 1}
    assert batched.days == whole.days and len(batched.days) == 84
    assert batched_rows.equals(whole_rows)
    assert batched_quarantine.equals(whole_quarantine)
    assert batched_quarantine["reasons"].unique().to_list() == ["score 11 is outside 0-10"]
    # One file per month, its rows in order of day within each batch; nothing left in tmp.
    assert sorted(p.parent.name for p in layout.staged.glob("month=*/*.parquet")) == ["month=2024-01", "month=2024-02", "month=2024-03"]
    assert not [p for p in layout.tmp.iterdir() if p.suffix == ".parquet"]


# A small file fails in DuckDB's first buffer (a DuckDB error); past it, the error comes through the
# Arrow stream (an OSError): both must fall back.
@pytest.mark.parametrize(
    "rows, broken_at", [(1_000, 3), (1_000, 900), (40_000, 39_990)], ids=["first-batch", "later-batch", "past-the-first-buffer"]
)
def test_a_broken_record_in_any_batch_falls_back_to_the_careful_whole_read(tmp_path, monkeypatch, rows, broken_at):
    manifest, staged, quarantined, layout = stage(tmp_path, "broken", export_text(rows, broken_at), 1_000, monkeypatch)
    assert manifest.status == "staged", manifest.problem
    assert any(n.startswith("strict read failed") for n in manifest.notes)
    assert manifest.rows_read == manifest.rows_staged + manifest.rows_quarantined == rows + 1
    assert quarantined.filter(pl.col("reasons").str.starts_with("unbalanced quote")).height == 1
    assert staged["response_id"].n_unique() == staged.height
    assert not [p for p in layout.tmp.iterdir() if p.suffix == ".parquet"]
    assert json.loads((layout.manifests / f"{manifest.file_id}.json").read_text())["rows_read"] == rows + 1


def test_a_byte_that_is_not_utf8_late_in_a_long_file_is_decoded_line_by_line(tmp_path, monkeypatch):
    # UTF-8 throughout (one answer beyond ASCII), but one pasted Windows-1252 answer in the last row.
    text = export_text(40_000).replace('"said, 6"', '"très bien"').encode("utf-8") + "r_last,2024-01-05T10:00:00Z,8,caf\xe9,c1,,web,NA,Pro,support,gold,fr\n".encode("latin-1")
    manifest, staged, _, _ = stage(tmp_path, "latin", text, 1_000, monkeypatch)
    assert manifest.status == "staged", manifest.problem
    assert any(n.startswith("mixed encodings: 1 line(s) not UTF-8") for n in manifest.notes)
    assert staged.filter(pl.col("response_id") == "r_last")["comment"].to_list() == ["café"]
    assert staged.filter(pl.col("response_id") == "r6")["comment"].to_list() == ["très bien"]
    assert manifest.rows_read == manifest.rows_staged + manifest.rows_quarantined == 40_001


def test_a_layout_with_header_rows_is_recognised_across_small_batches(tmp_path, monkeypatch):
    # Qualtrics puts three header rows above the data: a batch of two records must not hide them.
    header = "ResponseId,RecordedDate,Q1_NPS_GROUP,Q1,Status,Finished"
    lines = [header, "Response ID,Recorded Date,How likely - group,How likely are you to recommend us?,Response Type,Finished",
             '{"ImportId":"_recordId"},{"ImportId":"recordedDate"},{"ImportId":"QID1_NPS_GROUP"},{"ImportId":"QID1"},{"ImportId":"status"},{"ImportId":"finished"}']
    lines += [f"R_{i},2024-02-0{1 + i % 9} 10:00:00,{'Promoter' if i % 11 >= 9 else 'Passive' if i % 11 >= 7 else 'Detractor'},{i % 11},IP Address,1" for i in range(40)]
    text = "\n".join(lines) + "\n"
    whole, whole_rows, _, _ = stage(tmp_path, "whole", text, None, monkeypatch)
    batched, batched_rows, _, _ = stage(tmp_path, "batched", text, 2, monkeypatch)
    assert batched.source_format == whole.source_format == "qualtrics"
    assert batched.rows_staged == whole.rows_staged == 40
    assert batched_rows.equals(whole_rows)


def test_a_broken_record_and_a_byte_that_is_not_utf8_in_one_long_file_are_both_handled(tmp_path, monkeypatch):
    text = export_text(40_000, broken_at=39_990).encode("utf-8") + "r_last,2024-01-05T10:00:00Z,8,caf\xe9,c1,,web,NA,Pro,support,gold,fr\n".encode("latin-1")
    manifest, staged, quarantined, _ = stage(tmp_path, "both", text, 1_000, monkeypatch)
    assert manifest.status == "staged", manifest.problem
    assert "decoded from Windows-1252" in manifest.notes
    assert len(manifest.notes) == len(set(manifest.notes))  # the re-read after decoding repeats no note
    assert any(n.startswith("strict read failed") for n in manifest.notes)
    assert quarantined.filter(pl.col("reasons").str.starts_with("unbalanced quote")).height == 1
    assert staged.filter(pl.col("response_id") == "r_last")["comment"].to_list() == ["café"]
    assert manifest.rows_read == manifest.rows_staged + manifest.rows_quarantined == 40_002
