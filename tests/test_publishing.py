"""BI readers: a separate process holding nps.duckdb open never blocks a run, nor sees half a day."""

import subprocess
import sys
import textwrap
import time

from tests.conftest import Pipeline, rows_csv

READER = textwrap.dedent(
    """
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    seen = set()
    deadline = time.time() + float(sys.argv[2])
    print("open", flush=True)
    while time.time() < deadline:
        rows = con.sql("SELECT responses, round(nps, 2) FROM nps_daily WHERE response_date = DATE '2024-03-01'").fetchall()
        seen.add(tuple(rows[0]) if rows else None)
        time.sleep(0.005)
    print(sorted(seen, key=str), flush=True)
    """
)


def test_reader_holding_the_file_does_not_block_and_sees_whole_days(tmp_path):
    pipeline = Pipeline(tmp_path)
    pipeline.land("a.csv", rows_csv("p1,2024-03-01T10:00:00Z,10,,c1,,web,,,,,"))
    assert pipeline.run("2024-03-01").success

    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(pipeline.warehouse / "nps.duckdb"), "20"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert reader.stdout.readline().strip() == "open"
    # A new file adds two detractors to the same day while the reader keeps its connection open.
    pipeline.land("b.csv", rows_csv("p2,2024-03-01T11:00:00Z,0,,c2,,web,,,,,", "p3,2024-03-01T12:00:00Z,0,,c3,,web,,,,,"))
    started = time.monotonic()
    assert pipeline.run("2024-03-01").success
    assert time.monotonic() - started < 20
    seen = reader.communicate(timeout=60)[0].strip()
    assert reader.returncode == 0
    # The open connection keeps the snapshot it opened, whole, and was never blocked.
    assert seen == "[(1, 100.0)]", seen
    # A new connection sees the new day whole.
    assert pipeline.table("nps_daily").select("responses", "detractors").rows() == [(3, 2)]


def test_nps_duckdb_is_in_a_storage_format_duckdb_1_readers_open(tmp_path):
    pipeline = Pipeline(tmp_path)
    pipeline.land("a.csv", rows_csv("p1,2024-03-01T10:00:00Z,10,,c1,,web,,,,,"))
    assert pipeline.run("2024-03-01").success
    header = (pipeline.warehouse / "nps.duckdb").read_bytes()[:20]
    assert header[8:12] == b"DUCK"
    # DuckDB 1.x reads storage versions 64-67; DuckDB 2.0's own format is refused by them.
    assert 64 <= int.from_bytes(header[12:20], "little") <= 67
