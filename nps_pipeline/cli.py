"""The `nps-pipeline` command line: demo, backfill, generate-sample and evaluate-themes."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
import warnings
from pathlib import Path


def _instance():
    import dagster as dg

    return dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()


def print_plan(start: dt.date, end: dt.date) -> None:
    """What a range run is going to do, before Dagster starts: its days and the files it stages."""
    from nps_pipeline import progress
    from nps_pipeline.defs.ingest import staging
    from nps_pipeline.defs.ingest.formats import load_source_settings
    from nps_pipeline.defs.ingest.landing import scan_landing_zone
    from nps_pipeline.settings import Settings
    from nps_pipeline.storage import WarehouseLayout

    settings = Settings.from_env()
    layout = WarehouseLayout(settings.warehouse_dir)
    days = (end - start).days + 1
    progress.say(f"plan: {start}..{end}, {days} day(s) in {settings.timezone}; warehouse {settings.warehouse_dir}")
    landing = Path(settings.landing_dir)
    if "://" not in settings.landing_dir and landing.exists():
        landed = scan_landing_zone(landing)
        plan = staging.plan_staging(
            landed, staging.load_manifests(layout), settings.timezone, settings.start_date, load_source_settings(landing)
        )
        size = sum(f.size for f in plan.to_stage)
        progress.say(
            f"plan: {len(landed)} file(s) in {settings.landing_dir}: {len(plan.to_stage)} to stage "
            f"({size / 1e6:,.1f} MB), {len(plan.unchanged)} already staged"
        )


def run_range(start: dt.date, end: dt.date) -> bool:
    """Materialise every asset of the ``daily_nps`` job for the inclusive range [start, end] as one Dagster run."""
    from nps_pipeline import progress

    progress.enable()
    print_plan(start, end)
    # One planned event per asset for the whole range instead of one per asset and day. Dagster's
    # documented trade-off: a partition of a run that fails is not marked failed in the UI.
    os.environ.setdefault("DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS", "1")
    import dagster as dg
    from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

    from nps_pipeline.definitions import defs
    from nps_pipeline.settings import Settings

    job = defs.resolve_job_def("daily_nps")
    graph = job.asset_layer.asset_graph
    steps = [k.to_user_string() for k in graph.toposorted_asset_keys]
    daily = [k.to_user_string() for k in graph.toposorted_asset_keys if graph.get(k).partitions_def is not None]
    progress.say(f"plan: {len(steps)} assets, per day: {', '.join(daily)}; then the checks on the published tables")
    progress.say(f"plan: {' -> '.join(steps)}")
    with _instance() as instance:
        result = job.execute_in_process(
            instance=instance,
            run_config={"loggers": {"console": {"config": {"log_level": Settings.from_env().log_level.upper()}}}},
            tags={
                ASSET_PARTITION_RANGE_START_TAG: start.isoformat(),
                ASSET_PARTITION_RANGE_END_TAG: end.isoformat(),
            },
            raise_on_error=False,
        )
        evaluations = [
            event.event_specific_data for event in result.all_events if event.event_type_value == "ASSET_CHECK_EVALUATION"
        ]
        # A failed WARN check (e.g. a rejected status update) is reported, but the run still succeeds.
        failed_checks = [e for e in evaluations if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR]
        for evaluation in (e for e in evaluations if not e.passed):
            label = "check failed" if evaluation in failed_checks else "check warning"
            print(
                f"{label}: {evaluation.asset_key.to_user_string()}.{evaluation.check_name}: "
                f"{evaluation.description or ''}",
                file=sys.stderr,
            )
        skipped = [
            event.step_key for event in result.all_events if event.event_type_value == "STEP_SKIPPED"
        ]
        if skipped:
            print(f"steps not run because a blocking check failed: {', '.join(skipped)}", file=sys.stderr)
        if not result.success:
            for event in result.all_events:
                if event.event_type_value == "STEP_FAILURE":
                    print(f"step failed: {event.step_key}: {event.message}", file=sys.stderr)
        ok = result.success and not failed_checks and not skipped
        progress.say(f"run {result.run_id}: {'succeeded' if ok else 'FAILED'}")
        return ok


def _summary(warehouse_dir: Path) -> str:
    import duckdb

    from nps_pipeline.storage import sql

    with duckdb.connect(str(warehouse_dir / "nps.duckdb"), read_only=True) as con:
        counts = {
            table: con.sql(sql("count_table_rows"), params={"table": table}).fetchall()[0][0]
            for (table,) in con.sql(sql("select_published_views")).fetchall()
        }
        recent = con.sql(sql("select_recent_nps_daily")).fetchall()
        windows = con.sql(sql("select_summary_windows")).fetchall()
        weighted = con.sql(sql("select_summary_weighted")).fetchall()
        benchmark = con.sql(sql("select_summary_benchmark")).fetchall()
        accounting = con.sql(sql("select_ingest_accounting")).fetchall()[0]
    lines = [f"published {warehouse_dir / 'nps.duckdb'}:"]
    lines += [f"  {table:<22} {rows:>8,} rows" for table, rows in counts.items()]
    lines.append(
        "  rows read {:,} = valid {:,} + duplicate {:,} + quarantined {:,}".format(*[int(v or 0) for v in accounting])
    )
    lines.append("  last days: " + "; ".join(f"{d} n={n} NPS {s} [{lo}, {hi}]" for d, n, s, lo, hi in recent))
    for kind, start, end, n, score, lo, hi, change, p_value, significant in windows:
        moved = f", change {change:+} (p={p_value}{', significant' if significant else ''})" if change is not None else ""
        lines.append(f"  {kind} {start}..{end}: n={n:,} NPS {score} [{lo}, {hi}]{moved}")
    for score, weighted_score, lo, hi, n_eff, strata in weighted:
        lines.append(f"  weighted by {strata} (28 days): NPS {weighted_score} [{lo}, {hi}], n_eff {n_eff:,.0f} (unweighted {score})")
    for statement, comparison in benchmark:
        lines.append(f"  benchmark (28 days): {statement}: {comparison}")
    return "\n".join(lines)


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def cmd_backfill(args: argparse.Namespace) -> int:
    start, end = args.start, args.end
    if end < start:
        print("--end must not be before --start", file=sys.stderr)
        return 2
    from nps_pipeline.settings import Settings

    settings = Settings.from_env()
    if start < dt.date.fromisoformat(settings.start_date):
        print(f"--start {start} is before NPS_START_DATE {settings.start_date}", file=sys.stderr)
        return 2
    ok = run_range(start, end)
    print(("succeeded" if ok else "FAILED") + f": daily assets for {start}..{end}")
    return 0 if ok else 1


def cmd_generate(args: argparse.Namespace) -> int:
    from nps_pipeline.sample_data import write_landing_zone

    files = write_landing_zone(
        Path(args.landing_dir), responses=args.responses, days=args.days,
        end_date=dt.date.fromisoformat(args.end_date), seed=args.seed,
    )
    print(f"wrote {len(files)} export files under {args.landing_dir}")
    return 0


def demo_settings() -> dict[str, str]:
    from nps_pipeline.storage import seed_file

    return {
        "NPS_WEIGHTING_FILE": str(seed_file("demo_population_shares.csv")),
        "NPS_BENCHMARK_INDUSTRY": "Software & SaaS",
    }


def cmd_demo(args: argparse.Namespace) -> int:
    from nps_pipeline.sample_data import write_landing_zone

    for name, value in demo_settings().items():
        os.environ.setdefault(name, value)
    from nps_pipeline.settings import Settings

    settings = Settings.from_env()
    end = dt.date.fromisoformat(args.end_date)
    start = end - dt.timedelta(days=args.days - 1)
    demo_dir = Path(settings.landing_dir) / "demo"
    shutil.rmtree(demo_dir, ignore_errors=True)
    files = write_landing_zone(
        demo_dir, responses=args.responses, days=args.days, end_date=end, seed=args.seed, vendor_exports=600
    )
    sources = Path(settings.landing_dir) / "nps_sources.toml"
    if not sources.exists():
        sources.write_text('[[source]]\npath = "demo/surveymonkey/*"\ntimezone = "America/New_York"\n', encoding="utf-8")
    print(f"wrote {len(files)} sample export files under {demo_dir}")
    ok = run_range(start, end)
    warehouse = Path(settings.warehouse_dir).resolve()
    if (warehouse / "nps.duckdb").exists():
        print(_summary(warehouse))
    report = warehouse / "report.html"
    if report.exists():
        print(f"report: {report}")
    print(("succeeded" if ok else "FAILED") + f": demo pipeline over {start}..{end}")
    return 0 if ok else 1


def cmd_evaluate_themes(args: argparse.Namespace) -> int:
    """Precision, recall and language detection of the theme tagger on a labelled set, per language."""
    import polars as pl

    from nps_pipeline.defs.nps import themes

    labelled = pl.read_csv(args.labelled, infer_schema=False)
    lexicon = themes.load_lexicon(args.lexicon or os.environ.get("NPS_THEME_LEXICON_FILE") or None)
    with pl.Config(tbl_rows=100, tbl_cols=20, tbl_hide_dataframe_shape=True):
        print(themes.evaluate(labelled, lexicon).select(
            "language", "split", "comments", "precision", "recall", "language_accuracy"
        ))
        if args.misses:
            print(themes.misses(labelled, lexicon))
    return 0


def main(argv: list[str] | None = None) -> int:
    warnings.filterwarnings("ignore", category=Warning, module="dagster")
    from nps_pipeline.settings import help_text as settings_help

    parser = argparse.ArgumentParser(
        prog="nps-pipeline",
        description="Turn survey exports in the landing zone into daily NPS tables, follow-up lists and a report.",
        epilog=settings_help() + "\n\nexamples:\n  nps-pipeline demo\n  nps-pipeline backfill --start 2026-08-01 --end 2026-08-31",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)

    backfill = commands.add_parser("backfill", help="materialise every daily asset for a date range, as one run")
    backfill.add_argument("--start", required=True, type=_day, help="first day, YYYY-MM-DD")
    backfill.add_argument("--end", required=True, type=_day, help="last day (inclusive), YYYY-MM-DD")
    backfill.set_defaults(func=cmd_backfill)

    evaluate = commands.add_parser("evaluate-themes", help="measure the theme tagger on a labelled set of comments")
    evaluate.add_argument("--labelled", default=str(Path(__file__).resolve().parent.parent / "data" / "eval" / "labelled_comments.csv"))
    evaluate.add_argument("--lexicon", default="", help="a lexicon file to add (default: NPS_THEME_LEXICON_FILE)")
    evaluate.add_argument("--misses", action="store_true", help="also list the comments tagged differently from their labels")
    evaluate.set_defaults(func=cmd_evaluate_themes)

    for name, func, help_text in (
        ("demo", cmd_demo, "write a sample landing zone and run the whole pipeline over it"),
        ("generate-sample", cmd_generate, "only write a sample landing zone"),
    ):
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("--responses", type=int, default=6000)
        sub.add_argument("--days", type=int, default=90)
        sub.add_argument("--end-date", default="2026-10-31")
        sub.add_argument("--seed", type=int, default=7)
        if name == "generate-sample":
            sub.add_argument("--landing-dir", default=os.environ.get("NPS_LANDING_DIR", "data/landing"))
        sub.set_defaults(func=func)

    args = parser.parse_args(argv)
    from nps_pipeline.settings import SettingsError

    try:
        return args.func(args)
    except SettingsError as error:
        print(f"nps-pipeline: setting not usable: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
