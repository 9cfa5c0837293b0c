"""BI readers: a separate process holding nps.duckdb open never blocks a run, nor sees half a day."""

import json
import subprocess
import sys
import textwrap
import time

import duckdb
import polars as pl

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


def test_a_view_binds_on_one_footer_only_when_every_file_has_the_same_columns(tmp_path):
    import datetime as dt

    from nps_pipeline.defs.serve import publish as serve
    from nps_pipeline.storage import SCHEMA_FILE, WarehouseLayout

    layout = WarehouseLayout(tmp_path / "warehouse")
    layout.ensure()
    for table, old_day_columns in (("nps_daily", ["response_date", "responses"]), ("responses", ["response_date", "responses", "nps"])):
        current = pl.DataFrame({"response_date": [dt.date(2026, 3, 2)], "responses": [5], "nps": [10.0]})
        layout.table_dir(table).mkdir(parents=True)
        current.head(0).write_parquet(layout.table_dir(table) / SCHEMA_FILE)
        layout.day_file(table, dt.date(2026, 3, 2)).parent.mkdir(parents=True)
        current.write_parquet(layout.day_file(table, dt.date(2026, 3, 2)))
        # A day written before the table had its `nps` column (nps_daily), or with every column (responses).
        old = pl.DataFrame({"response_date": [dt.date(2026, 3, 1)], "responses": [3], "nps": [20.0]}).select(old_day_columns)
        layout.day_file(table, dt.date(2026, 3, 1)).parent.mkdir(parents=True)
        old.write_parquet(layout.day_file(table, dt.date(2026, 3, 1)))

    serve.publish(layout)
    with duckdb.connect(str(layout.published_db), read_only=True) as con:
        views = dict(con.sql("SELECT view_name, sql FROM duckdb_views() WHERE NOT internal").fetchall())
        assert "union_by_name = true" in views["nps_daily"] and "union_by_name = false" in views["responses"]
        assert con.sql("SELECT response_date::VARCHAR, nps FROM nps_daily ORDER BY 1").fetchall() == [("2026-03-01", None), ("2026-03-02", 10.0)]
        assert con.sql("SELECT sum(responses) FROM responses").fetchall() == [(8,)]
    # Each file's columns are kept, so the next publish reads only the footers of files that changed.
    cache = json.loads((layout.internal / "file_schemas.json").read_text())
    assert len(cache["files"]) == 6 and len(cache["schemas"]) == 2


def test_a_snapshot_links_only_the_files_rewritten_since_the_last_and_pruning_frees_the_rest(tmp_path):
    import datetime as dt
    import os

    from nps_pipeline.defs.serve import publish as serve
    from nps_pipeline.storage import SCHEMA_FILE, WarehouseLayout

    layout = WarehouseLayout(tmp_path / "warehouse")
    layout.ensure()
    days = [dt.date(2026, 3, d) for d in (1, 2, 3)]
    layout.table_dir("nps_daily").mkdir(parents=True)
    pl.DataFrame(schema={"response_date": pl.Date, "responses": pl.Int64}).write_parquet(layout.table_dir("nps_daily") / SCHEMA_FILE)

    def write(day, responses):
        path = layout.day_file("nps_daily", day)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name("tmp.parquet")
        pl.DataFrame({"response_date": [day], "responses": [responses]}).write_parquet(tmp)
        os.replace(tmp, path)  # as every writer does: a new inode

    for day in days:
        write(day, 1)
    pool = layout.snapshots / "pool"
    _, first = serve.publish(layout)
    linked = sorted(p for p in pool.rglob("*.parquet"))
    assert len(linked) == 4
    _, second = serve.publish(layout)
    assert sorted(pool.rglob("*.parquet")) == linked and second.tables == first.tables

    write(days[1], 7)
    _, third = serve.publish(layout)
    changed = set(third.tables["nps_daily"]) - set(first.tables["nps_daily"])
    assert len(changed) == 1 and "response_date=2026-03-02" in next(iter(changed))
    # Readers of the first snapshot still see day 2 as it was; the new nps.duckdb sees the new day.
    assert pl.read_parquet(first.files(layout, "nps_daily", [days[1]]))["responses"].to_list() == [1]
    with duckdb.connect(str(layout.published_db), read_only=True) as con:
        assert con.sql("SELECT sum(responses) FROM nps_daily").fetchall() == [(9,)]

    removed = serve.prune_snapshots(layout, keep=1, retention=dt.timedelta(0))
    assert sorted(removed) == sorted([first.name, second.name])
    assert len(list(pool.rglob("*.parquet"))) == 4  # the old day-2 file went with the snapshots that listed it
    assert serve.current_snapshot(layout).name == third.name


def test_a_publish_after_one_that_died_half_way_removes_the_pool_files_no_snapshot_lists(tmp_path):
    import datetime as dt

    from nps_pipeline.defs.serve import publish as serve
    from nps_pipeline.storage import SCHEMA_FILE, WarehouseLayout

    layout = WarehouseLayout(tmp_path / "warehouse")
    layout.ensure()
    layout.table_dir("nps_daily").mkdir(parents=True)
    pl.DataFrame(schema={"response_date": pl.Date, "responses": pl.Int64}).write_parquet(layout.table_dir("nps_daily") / SCHEMA_FILE)
    layout.day_file("nps_daily", dt.date(2026, 3, 1)).parent.mkdir(parents=True)
    pl.DataFrame({"response_date": [dt.date(2026, 3, 1)], "responses": [3]}).write_parquet(layout.day_file("nps_daily", dt.date(2026, 3, 1)))
    serve.publish(layout)
    pool = layout.snapshots / "pool"
    listed = sorted(pool.rglob("*.parquet"))
    assert not list(layout.snapshots.glob(".publishing-*"))  # a publish that finishes leaves no mark

    # What a publish killed after linking and before its manifest leaves: its mark and a link no snapshot lists.
    orphan = pool / "nps_daily" / "response_date=2026-03-02" / "data.1-1.parquet"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"half")
    (layout.snapshots / ".publishing-dead").touch()
    serve.publish(layout)
    assert sorted(pool.rglob("*.parquet")) == listed
    assert not list(layout.snapshots.glob(".publishing-*"))
    with duckdb.connect(str(layout.published_db), read_only=True) as con:
        assert con.sql("SELECT sum(responses) FROM nps_daily").fetchall() == [(3,)]


def test_the_warehouse_holds_exactly_the_registered_tables(tmp_path):
    """tables.TABLES names every table written and published, and nothing else is."""
    from nps_pipeline.tables import TABLES

    pipeline = Pipeline(tmp_path)
    pipeline.land("a.csv", rows_csv("r1,2024-03-01T10:00:00Z,3,slow,c1,a@example.com,web,EMEA,,,,en",
                                    "r2,2024-03-01T11:00:00Z,x,,c2,,web,EMEA,,,,en"))
    assert pipeline.run("2024-03-01").success
    registered = {t.name for t in TABLES}
    not_tables = {"_internal", "snapshots", "handoff"}
    written = {p.name for p in pipeline.warehouse.iterdir() if p.is_dir()} - not_tables
    assert written == registered
    with duckdb.connect(str(pipeline.warehouse / "nps.duckdb"), read_only=True) as con:
        published = {name for (name,) in con.sql("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
    assert published == registered
