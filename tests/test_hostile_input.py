"""What users really drop in the landing zone: skipped questions, bad files, odd names, links, zones.

Every case is a file under tests/fixtures/hostile (or built here when it must be, such as a symlink),
and each test asserts the outcome and the exact message a person reads.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl

from tests.conftest import Pipeline

HOSTILE = Path(__file__).parent / "fixtures" / "hostile"


def land_fixture(pipeline: Pipeline, name: str, as_name: str | None = None) -> Path:
    target = pipeline.landing / (as_name or name)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(HOSTILE / name, target)
    return target


def test_a_skipped_nps_question_is_a_non_response_not_bad_data(tmp_path):
    pipeline = Pipeline(tmp_path)
    land_fixture(pipeline, "google_forms_optional_nps.csv")
    assert pipeline.run("2024-03-01", "2024-03-02").success
    files = pipeline.table("ingest_files").row(0, named=True)
    # 25 rows, 3 with the optional NPS question left blank (12 %): excluded and counted, none quarantined.
    assert (files["rows_in_file"], files["rows_read"], files["rows_excluded"], files["rows_quarantined"]) == (25, 22, 3, 0)
    assert files["excluded_reasons"] == "no NPS answer: 3"
    assert files["rejected_share"] == 0.0 and files["status"] == "staged"
    assert pipeline.table("quarantine").is_empty()
    assert pipeline.table("responses").height == 22
    assert pipeline.table("nps_daily").select(pl.col("responses").sum()).item() == 22
