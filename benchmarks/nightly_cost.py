"""Benchmark: does the nightly one-day run cost the same with a year of history as with none?

    python benchmarks/nightly_cost.py --responses 10000000      # the history (default 1M)

Two warehouses receive the same nightly exports, one file a night for ``--nights`` nights, each
run as `nps-pipeline backfill` for that one day (what the nightly schedule asks for):

- "empty": nothing before the first night;
- "history": ``--responses`` responses over the 365 days before, backfilled first.

Each night's wall time and its assets' compute are printed, with the ratio history / empty of the
median night and of the mean (which counts the nights that also do weekly work). Results are appended to benchmarks/results/nightly.jsonl.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from run_benchmark import compute_by_asset, measure, record  # noqa: E402


def night(env: dict[str, str], day: dt.date) -> dict:
    command = [str(Path(sys.executable).parent / "nps-pipeline"), "backfill", "--start", day.isoformat(), "--end", day.isoformat()]
    seconds, peak, code, output = measure(command, env)
    if code != 0:
        raise SystemExit(f"nightly run for {day} failed:\n{output[-4000:]}")
    compute = compute_by_asset(output)
    return {"day": day.isoformat(), "seconds": round(seconds, 2), "peak_rss_mib": round(peak / 2**20), "compute": compute}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--responses", type=int, default=1_000_000, help="responses of history (365 days)")
    parser.add_argument("--per-night", type=int, default=0, help="responses per nightly file (default: responses / 365)")
    parser.add_argument("--nights", type=int, default=3)
    parser.add_argument("--work-dir", default=str(HERE / "work" / "nightly"))
    args = parser.parse_args()
    from nps_pipeline.sample_data import generate_responses

    work = Path(args.work_dir).resolve()
    shutil.rmtree(work, ignore_errors=True)
    first_night = dt.date(2026, 11, 1)
    history_start = first_night - dt.timedelta(days=365)
    per_night = args.per_night or max(1, args.responses // 365)

    def environment(name: str) -> dict[str, str]:
        landing, warehouse = work / name / "landing", work / name / "warehouse"
        landing.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "NPS_LANDING_DIR": str(landing), "NPS_WAREHOUSE_DIR": str(warehouse),
               "NPS_START_DATE": history_start.isoformat(), "NPS_CASE_UPDATES_DIR": str(work / name / "updates")}
        env.pop("DAGSTER_HOME", None)
        return env

    empty, history = environment("empty"), environment("history")
    t0 = time.monotonic()
    files = max(1, args.responses // 500_000)
    per_file = -(-args.responses // files)
    for index in range(files):
        count = min(per_file, args.responses - index * per_file)
        frame = generate_responses(count, start=history_start, days=365, seed=100 + index, bad_share=0.01)
        frame.drop("arrived_at").write_csv(Path(history["NPS_LANDING_DIR"]) / f"history_{index:03d}.csv")
    backfill = measure(
        [str(Path(sys.executable).parent / "nps-pipeline"), "backfill", "--start", history_start.isoformat(),
         "--end", (first_night - dt.timedelta(days=1)).isoformat()],
        history,
    )
    if backfill[2] != 0:
        raise SystemExit(backfill[3][-4000:])
    print(f"history: {args.responses:,} responses backfilled in {backfill[0]:.1f} s (set-up {time.monotonic() - t0:.0f} s)")

    runs: dict[str, list[dict]] = {"empty": [], "history": []}
    for offset in range(args.nights):
        day = first_night + dt.timedelta(days=offset)
        # Both warehouses get the same file: responses ids prefixed by the night, so nothing collides.
        frame = generate_responses(per_night, start=day, days=1, seed=10_000 + offset, bad_share=0.01)
        frame = frame.drop("arrived_at").with_columns(("n" + str(offset) + "-" + frame["response_id"]).alias("response_id"))
        for name, env in (("empty", empty), ("history", history)):
            frame.write_csv(Path(env["NPS_LANDING_DIR"]) / f"nightly_{day.isoformat()}.csv")
            runs[name].append(night(env, day))
            print(f"{name:>8} {day}: {runs[name][-1]['seconds']:.2f} s, compute {sum(runs[name][-1]['compute'].values()):.2f} s")

    median = {name: statistics.median(r["seconds"] for r in nights) for name, nights in runs.items()}
    # The mean counts the nights that also do periodic work (the hand-off's full list, the look-back summary).
    mean = {name: statistics.mean(r["seconds"] for r in nights) for name, nights in runs.items()}
    compute = {name: statistics.median(sum(r["compute"].values()) for r in nights) for name, nights in runs.items()}
    slowest = sorted(
        ((asset, runs["history"][-1]["compute"].get(asset, 0) - runs["empty"][-1]["compute"].get(asset, 0))
         for asset in runs["history"][-1]["compute"]), key=lambda item: -item[1]
    )[:5]
    result = {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "history_responses": args.responses,
        "responses_per_night": per_night,
        "nights": args.nights,
        "cores": os.cpu_count(),
        "median_night_seconds_empty": round(median["empty"], 2),
        "median_night_seconds_history": round(median["history"], 2),
        "ratio": round(median["history"] / median["empty"], 3),
        "mean_night_seconds_empty": round(mean["empty"], 2),
        "mean_night_seconds_history": round(mean["history"], 2),
        "ratio_of_means": round(mean["history"] / mean["empty"], 3),
        "median_compute_seconds_empty": round(compute["empty"], 2),
        "median_compute_seconds_history": round(compute["history"], 2),
        "history_extra_compute_by_asset_last_night": {a: round(s, 3) for a, s in slowest},
        "history_backfill_seconds": round(backfill[0], 1),
        "nights_detail": runs,
    }
    print(json.dumps({k: v for k, v in result.items() if k != "nights_detail"}, indent=1))
    record(result, "nightly.jsonl")
    return 0


if __name__ == "__main__":
    sys.exit(main())
