"""Benchmark: the whole pipeline against a bare DuckDB script, on the same generated files.

    python benchmarks/run_benchmark.py --responses 1000000      # the default
    python benchmarks/run_benchmark.py --responses 10000000

Both run in fresh processes: the pipeline as `nps-pipeline backfill` over every day (one
single-run backfill, cold: empty warehouse), the bare script as one DuckDB query that reads the
CSVs and computes nps_daily. Peak memory is the peak resident set size of the process tree,
sampled every 50 ms. The pipeline's time is split into its assets' own compute (each logs
`compute_seconds=`) and the rest: process start-up and Dagster's bookkeeping, which writes
planned and materialization events for every asset x day of the range. Results are printed and appended to benchmarks/results/results.jsonl.
"""

from __future__ import annotations

import argparse
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


COMPUTE = re.compile(r" - ([a-z_]+) - \1: rows in .*?compute_seconds=([0-9.]+)")


def compute_by_asset(output: str) -> dict[str, float]:
    """Each asset's own compute seconds, from the log line it writes."""
    return {match.group(1): float(match.group(2)) for match in COMPUTE.finditer(output)}


def record(result: dict, file_name: str) -> None:
    """Append one result line to benchmarks/results/<file_name>."""
    (HERE / "results").mkdir(exist_ok=True)
    with open(HERE / "results" / file_name, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(result) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--files", type=int, default=0, help="export files (default: one per ~500k responses, at least 4)")
    parser.add_argument("--work-dir", default=str(HERE / "work"))
    args = parser.parse_args()

    sys.path.insert(0, str(HERE.parent))
    from nps_pipeline.sample_data import generate_responses

    work = Path(args.work_dir).resolve()
    shutil.rmtree(work, ignore_errors=True)
    landing, warehouse = work / "landing", work / "warehouse"
    landing.mkdir(parents=True)
    end = dt.date(2026, 10, 31)
    start = end - dt.timedelta(days=args.days - 1)
    files = args.files or max(4, args.responses // 500_000)

    t0 = time.monotonic()
    per_file = -(-args.responses // files)
    for index in range(files):
        count = min(per_file, args.responses - index * per_file)
        frame = generate_responses(count, start=start, days=args.days, seed=100 + index, bad_share=0.01)
        frame.drop("arrived_at").write_csv(landing / f"export_{index:03d}.csv")
    generate_seconds = time.monotonic() - t0
    size = sum(p.stat().st_size for p in landing.iterdir())
    print(f"generated {args.responses:,} responses in {files} files ({size / 1e6:,.0f} MB) in {generate_seconds:.1f}s")

    env = {**os.environ, "NPS_LANDING_DIR": str(landing), "NPS_WAREHOUSE_DIR": str(warehouse), "NPS_START_DATE": start.isoformat()}
    env.pop("DAGSTER_HOME", None)
    bin_dir = Path(sys.executable).parent
    pipeline = measure([str(bin_dir / "nps-pipeline"), "backfill", "--start", start.isoformat(), "--end", end.isoformat()], env)
    bare = measure([sys.executable, "-c", BARE_SCRIPT, str(landing / "*.csv")], env)
    if pipeline[2] != 0 or bare[2] != 0:
        print("pipeline output:\n" + pipeline[3][-5000:] + "\nbare output:\n" + bare[3][-3000:])
        return 1
    compute = compute_by_asset(pipeline[3])

    result = {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "responses": args.responses,
        "days": args.days,
        "files": files,
        "csv_mb": round(size / 1e6),
        "cores": os.cpu_count(),
        "pipeline_seconds": round(pipeline[0], 1),
        "pipeline_peak_rss_mib": round(pipeline[1] / 2**20),
        "bare_duckdb_seconds": round(bare[0], 1),
        "bare_duckdb_peak_rss_mib": round(bare[1] / 2**20),
        "ratio": round(pipeline[0] / bare[0], 2),
        "pipeline_compute_seconds": round(sum(compute.values()), 1),
        "pipeline_dagster_overhead_seconds": round(pipeline[0] - sum(compute.values()), 1),
        "compute_seconds_by_asset": compute,
    }
    print(json.dumps(result, indent=1))
    record(result, "results.jsonl")
    return 0


if __name__ == "__main__":
    sys.exit(main())
