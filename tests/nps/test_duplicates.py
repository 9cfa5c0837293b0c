"""De-duplication says what it did: every version that is not kept is linked to the one kept, with why."""

import polars as pl

from tests.conftest import rows_csv


def row(rid: str, score: str, when: str = "2024-03-01T10:00:00Z") -> str:
    return f"{rid},{when},{score},,c-{rid},,email,EMEA,Pro,support,gold,en"


def test_a_later_invalid_version_is_linked_to_the_version_kept_and_says_why(pipeline):
    pipeline.land("a_first.csv", rows_csv(row("r1", "9"), row("r2", "3"), row("r3", "8")), mtime=1_700_000_000)
    # The later export: r1 now has an impossible score, r2 an unreadable time, r3 a new valid score.
    pipeline.land(
        "b_later.csv",
        rows_csv(row("r1", "11"), row("r2", "5", when="yesterday"), row("r3", "10"), row("r4", "12")),
        mtime=1_700_000_100,
    )
    pipeline.run("2024-03-01")

    responses = pipeline.table("responses", order_by="response_id")
    assert responses.select("response_id", "score", "source_file").rows() == [
        ("r1", 9, "a_first.csv"), ("r2", 3, "a_first.csv"), ("r3", 10, "b_later.csv"),
    ]
    duplicates = pipeline.table("duplicates", order_by="source_file, source_row")
    assert duplicates.select(
        "source_file", "source_row", "response_id", "score", "kept_source_file", "kept_source_row", "kept_score", "version_quarantined", "why"
    ).rows() == [
        ("a_first.csv", 3, "r3", 8, "b_later.csv", 3, 10, False,
         "superseded: a later file has this response_id, and its version is kept"),
        ("b_later.csv", 1, "r1", None, "a_first.csv", 1, 9, True,
         "a later version of this response was quarantined (score 11 is outside 0-10), so the earlier valid version is kept"),
        ("b_later.csv", 2, "r2", None, "a_first.csv", 2, 3, True,
         "a later version of this response was quarantined (submitted_at 'yesterday' is not an ISO 8601 timestamp nor in "
         "the source's date formats (set date_format in nps_sources.toml)), so the earlier valid version is kept"),
    ]
    # The quarantined versions stay counted once, as quarantined: the accounting is unchanged.
    files = {r["source_file"]: r for r in pipeline.table("ingest_files").iter_rows(named=True)}
    assert (files["b_later.csv"]["rows_valid"], files["b_later.csv"]["rows_duplicate"], files["b_later.csv"]["rows_quarantined"]) == (1, 0, 3)
    assert (files["a_first.csv"]["rows_valid"], files["a_first.csv"]["rows_duplicate"]) == (2, 1)
    quarantine = pipeline.table("quarantine", order_by="source_file, source_row")
    assert quarantine["response_id"].to_list() == ["r1", "r2", "r4"]


def test_an_earlier_invalid_version_is_not_a_duplicate(pipeline):
    pipeline.land("a_first.csv", rows_csv(row("r1", "11")), mtime=1_700_000_000)
    pipeline.land("b_later.csv", rows_csv(row("r1", "9")), mtime=1_700_000_100)
    pipeline.run("2024-03-01")
    assert pipeline.table("duplicates").is_empty()
    assert pipeline.table("responses").select("response_id", "score").rows() == [("r1", 9)]
    assert pipeline.table("quarantine").filter(pl.col("source_file") == "a_first.csv").height == 1


def test_a_landing_zone_with_no_readable_file_still_publishes_empty_tables(pipeline):
    # No staged file, so no quarantine file: the duplicates query still has its columns.
    pipeline.land("broken.csv", b"\xff\xfe\x00garbage")
    result = pipeline.run("2024-03-01", raise_on_error=False)
    assert result.success
    assert pipeline.table("duplicates").is_empty() and pipeline.table("responses").is_empty()
    assert pipeline.table("ingest_files").select("source_file", "status").rows() == [("broken.csv", "rejected")]
