"""Benchmark: the whole pipeline against a bare DuckDB script, on the same generated files.

    python benchmarks/run_benchmark.py --responses 1000000      # the default
    python benchmarks/run_benchmark.py --responses 10000000
    python benchmarks/run_benchmark.py --responses 10000000 --customers 250000 --score-mix detractor-heavy
    python benchmarks/run_benchmark.py --sizes 1000000,10000000 --responses-per-customer 40

Both run in fresh processes: the pipeline as `nps-pipeline backfill` over every day (one
single-run backfill, cold: empty warehouse, on a real SQLite Dagster instance with the project's
dagster.yaml, as a user's DAGSTER_HOME), the bare script as one DuckDB query that reads the CSVs
and computes nps_daily, and a bare parse (every field of every record into a DuckDB table) that is
staging's floor. The data's shape is an option: how many customers answer (or how many
answers each gives) and the score mix. The Dagster bookkeeping is reported as the rows the run
left in the instance's event log. Peak memory is the peak resident set size of the process tree,
sampled every 50 ms. The pipeline's time is split into its assets' own compute (each logs
`compute_seconds=`) and the rest: process start-up and Dagster's bookkeeping, which writes
planned and materialization events for every asset x day of the range. Results are printed and appended to benchmarks/results/results.jsonl.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
BARE_SCRIPT = textwrap.dedent(
    """
    import sys, duckdb
    con = duckdb.connect()
    rows = con.sql('''
        SELECT CAST(try_cast(submitted_at AS TIMESTAMPTZ) AS DATE) AS response_date,
               count(*) AS responses,
               count(*) FILTER (WHERE s >= 9) AS promoters,
               count(*) FILTER (WHERE s BETWEEN 7 AND 8) AS passives,
               count(*) FILTER (WHERE s <= 6) AS detractors,
               100.0 * (count(*) FILTER (WHERE s >= 9) - count(*) FILTER (WHERE s <= 6)) / count(*) AS nps
        FROM (SELECT DISTINCT ON (response_id) response_id, submitted_at, try_cast(score AS INTEGER) AS s
              FROM read_csv(?, all_varchar = true, union_by_name = true))
        WHERE s BETWEEN 0 AND 10
        GROUP BY ALL ORDER BY 1
    ''', params=[sys.argv[1]]).fetchall()
    print(len(rows), "days")
    """
)
# The floor for staging: DuckDB parsing every field of every record of the same files into a table.
BARE_PARSE_SCRIPT = textwrap.dedent(
    """
    import sys, duckdb
    con = duckdb.connect()
    con.sql("CREATE TABLE parsed AS SELECT * FROM read_csv(?, all_varchar = true, union_by_name = true)", params=[sys.argv[1]])
    print(con.sql("SELECT count(*) FROM parsed").fetchall()[0][0], "records")
    """
)


def measure(command: list[str], env: dict[str, str]) -> tuple[float, int, int, str]:
    """Wall seconds, peak RSS of the process tree (bytes), exit code and the output's tail."""
    started = time.monotonic()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    root = psutil.Process(process.pid)
    peak = 0
    output: list[str] = []
    import threading

    reader = threading.Thread(target=lambda: output.extend(process.stdout), daemon=True)
    reader.start()
    while process.poll() is None:
        try:
            rss = sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])
            peak = max(peak, rss)
        except psutil.Error:
            pass
        time.sleep(0.05)
    reader.join(timeout=5)
    return time.monotonic() - started, peak, process.returncode, "".join(output)


# The progress lines `nps-pipeline` prints: "[mm:ss.s] asset: done in S s, N rows out (stage S s; ...)".
DONE = re.compile(r"^\[(\d+):([\d.]+)\] ([a-z_]+): done in ([0-9.]+) s(?:, [0-9,]+ rows out)?(?: \((.*)\))?$", re.M)
STARTED = re.compile(r"^\[(\d+):([\d.]+)\] ([a-z_]+): started", re.M)
STAGE = re.compile(r"([a-z_]+) ([0-9.]+) s")


def compute_by_asset(output: str) -> dict[str, float]:
    """Each asset's own compute seconds, from its progress line."""
    return {match.group(3): float(match.group(4)) for match in DONE.finditer(output)}


def stage_seconds(output: str) -> dict[str, dict[str, float]]:
    """Each asset's stages (query_and_write, swap_in, waiting_for_lock, other), from its progress line."""
    return {match.group(3): {n: float(v) for n, v in STAGE.findall(match.group(5) or "")} for match in DONE.finditer(output)}


def startup_seconds(output: str) -> float | None:
    """Seconds from the command's start to its first step: imports, the plan, Dagster's run set-up."""
    first = STARTED.search(output)
    return round(int(first.group(1)) * 60 + float(first.group(2)), 2) if first else None


def record(result: dict, file_name: str) -> None:
    """Append one result line to benchmarks/results/<file_name>."""
    (HERE / "results").mkdir(exist_ok=True)
    with open(HERE / "results" / file_name, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(result) + "\n")


def event_log_rows(dagster_home: Path) -> dict[str, int]:
    """Rows in the SQLite instance's event logs: every run's own file and the index, by event type."""
    import sqlite3

    counts: dict[str, int] = {}
    runs = dagster_home / "history" / "runs"
    for path in sorted(runs.glob("*.db")):
        with contextlib.closing(sqlite3.connect(path)) as db:
            for kind, rows in db.execute("SELECT dagster_event_type, count(*) FROM event_logs GROUP BY 1"):
                label = ("index " if path.name == "index.db" else "run ") + (kind or "log message")
                counts[label] = counts.get(label, 0) + rows
    return counts


def write_landing_zone(landing: Path, args: argparse.Namespace, responses: int, start: dt.date) -> int:
    """The benchmark's exports: ``files`` CSVs of the chosen shape; returns their size in bytes."""
    from nps_pipeline.sample_data import generate_responses

    files = args.files or max(4, responses // 500_000)
    customers = args.customers or (responses // args.responses_per_customer if args.responses_per_customer else None)
    per_file = -(-responses // files)
    for index in range(files):
        count = min(per_file, responses - index * per_file)
        frame = generate_responses(
            count, start=start, days=args.days, seed=100 + index, bad_share=0.01, customers=customers, score_mix=args.score_mix
        )
        frame.drop("arrived_at").write_csv(landing / f"export_{index:03d}.csv")
    return sum(p.stat().st_size for p in landing.iterdir())


def run_one(args: argparse.Namespace, responses: int) -> dict:
    work = Path(args.work_dir).resolve()
    shutil.rmtree(work, ignore_errors=True)
    landing, warehouse, home = work / "landing", work / "warehouse", work / "dagster_home"
    landing.mkdir(parents=True)
    home.mkdir(parents=True)
    shutil.copy(HERE.parent / "deploy" / "dagster.yaml", home / "dagster.yaml")
    end = dt.date(2026, 10, 31)
    start = end - dt.timedelta(days=args.days - 1)

    t0 = time.monotonic()
    size = write_landing_zone(landing, args, responses, start)
    files = len(list(landing.iterdir()))
    print(f"generated {responses:,} responses in {files} files ({size / 1e6:,.0f} MB) in {time.monotonic() - t0:.1f}s", flush=True)

    env = {
        **os.environ, "NPS_LANDING_DIR": str(landing), "NPS_WAREHOUSE_DIR": str(warehouse),
        "NPS_START_DATE": start.isoformat(), "DAGSTER_HOME": str(home),
    }
    bin_dir = Path(sys.executable).parent
    pipeline = measure([str(bin_dir / "nps-pipeline"), "backfill", "--start", start.isoformat(), "--end", end.isoformat()], env)
    bare = measure([sys.executable, "-c", BARE_SCRIPT, str(landing / "*.csv")], env)
    bare_parse = measure([sys.executable, "-c", BARE_PARSE_SCRIPT, str(landing / "*.csv")], env)
    if pipeline[2] != 0 or bare[2] != 0 or bare_parse[2] != 0:
        print("pipeline output:\n" + pipeline[3][-5000:] + "\nbare output:\n" + bare[3][-3000:])
        raise SystemExit(1)
    compute = compute_by_asset(pipeline[3])
    startup = startup_seconds(pipeline[3]) or 0.0
    events = event_log_rows(home)
    # Dagster's own share: the wall time that is neither an asset's compute nor the start-up before the first step.
    dagster_seconds = max(0.0, pipeline[0] - sum(compute.values()) - startup)
    run_rows = sum(n for k, n in events.items() if k.startswith("run "))
    return {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "responses": responses,
        "customers": args.customers or (responses // args.responses_per_customer if args.responses_per_customer else responses // 3),
        "score_mix": args.score_mix,
        "days": args.days,
        "files": files,
        "csv_mb": round(size / 1e6),
        "cores": os.cpu_count(),
        "load_average_before": round(os.getloadavg()[0], 2),
        "pipeline_seconds": round(pipeline[0], 1),
        "pipeline_peak_rss_mib": round(pipeline[1] / 2**20),
        "bare_duckdb_seconds": round(bare[0], 1),
        "bare_duckdb_peak_rss_mib": round(bare[1] / 2**20),
        "ratio": round(pipeline[0] / bare[0], 2),
        "bare_parse_seconds": round(bare_parse[0], 1),
        "staging_seconds": compute.get("validated_responses"),
        "staging_vs_parse": round(compute.get("validated_responses", 0.0) / bare_parse[0], 2),
        "pipeline_compute_seconds": round(sum(compute.values()), 1),
        "pipeline_startup_seconds": startup,
        "pipeline_dagster_seconds": round(dagster_seconds, 1),
        "dagster_share_of_wall": round(dagster_seconds / pipeline[0], 3),
        "event_log_rows_run": run_rows,
        "event_log_rows_index": sum(n for k, n in events.items() if k.startswith("index ")),
        "event_log_rows_by_type": events,
        "compute_seconds_by_asset": compute,
        "stage_seconds": stage_seconds(pipeline[3]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--sizes", default="", help="comma-separated response counts run one after the other (e.g. 1000000,10000000)")
    parser.add_argument("--customers", type=int, default=0, help="distinct respondents (default: responses / 3)")
    parser.add_argument("--responses-per-customer", type=float, default=0, help="instead of --customers: answers per respondent")
    parser.add_argument("--score-mix", default="typical", help="typical, detractor-heavy or promoter-heavy")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--files", type=int, default=0, help="export files (default: one per ~500k responses, at least 4)")
    parser.add_argument("--work-dir", default=str(HERE / "work"))
    args = parser.parse_args()
    sys.path.insert(0, str(HERE.parent))
    from nps_pipeline.sample_data import SCORE_MIXES

    if args.score_mix not in SCORE_MIXES:
        parser.error(f"--score-mix must be one of {', '.join(SCORE_MIXES)}")
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()] or [args.responses]
    for responses in sizes:
        result = run_one(args, responses)
        print(json.dumps(result, indent=1), flush=True)
        record(result, "results.jsonl")
    return 0


if __name__ == "__main__":
    sys.exit(main())
