"""Ingest: the landing zone, staging (read, validate, store by month), quarantine and file accounting."""

import json

import dagster as dg
import polars as pl

from nps_pipeline.defs.nps import dedupe
from nps_pipeline import progress
from nps_pipeline.defs.serve import publish as serve
from nps_pipeline.defs.ingest import staging
from nps_pipeline.defs.ingest.formats import load_source_settings, settings_for
from nps_pipeline.defs.ingest.landing import landing_entries, scan_landing_zone
from nps_pipeline.resources import NpsPipelineResource
from nps_pipeline.storage import atomic_write_bytes, sql
from nps_pipeline.defs.shared import CROSS_DAY, CATALOGUE, timed, markdown_preview


def _staged_in_run(nps: NpsPipelineResource, run_id: str):
    return nps.layout.internal / "runs" / f"{run_id}.json"


@dg.asset(group_name="ingest", kinds={"python", "files"}, **CROSS_DAY)
@timed
def landing_files(context: dg.AssetExecutionContext, nps: NpsPipelineResource) -> dg.MaterializeResult:
    """Landed exports: every file in the landing zone, and which are new or changed since staged."""
    layout = nps.layout
    layout.ensure()
    with layout.writer_lock():
        pulled = nps.pull_warehouse()
        synced = nps.sync_landing()
    if pulled is not None:
        context.log.info(f"warehouse working copy synced from {nps.warehouse_dir}: {pulled}")
    if synced is not None:
        context.log.info(f"landing zone synced from {nps.landing_dir}: {synced}")
    landed = scan_landing_zone(nps.landing_path)
    sources = load_source_settings(nps.landing_path)
    plan = staging.plan_staging(landed, staging.load_manifests(layout), nps.timezone, nps.start_date, sources)
    catalogue = [
        {"file": f.relative_path, "size": f.size, "mtime_ns": f.mtime_ns, "new_or_changed": f in plan.to_stage}
        for f in landed
    ]
    atomic_write_bytes(layout.internal / CATALOGUE, json.dumps(catalogue, indent=1).encode("utf-8"))
    context.log.info(
        f"{len(landed)} file(s) in {nps.landing_path}: {len(plan.to_stage)} new or changed, "
        f"{len(plan.unchanged)} unchanged"
    )
    return dg.MaterializeResult(
        metadata={
            "landing_dir": nps.landing_dir,
            "files_landed": len(landed),
            "files_new_or_changed": len(plan.to_stage),
            "files_unchanged": len(plan.unchanged),
            "new_or_changed": dg.MetadataValue.md(
                "\n".join(f"- `{f.relative_path}` ({f.size:,} bytes)" for f in plan.to_stage) or "_none_"
            ),
        }
    )


@dg.asset(
    group_name="ingest",
    kinds={"polars", "pandera", "parquet"},
    deps=[landing_files],
    check_specs=[
        dg.AssetCheckSpec(
            "every_file_readable",
            asset="validated_responses",
            description="Names each landed file that could not be read at all, and why.",
        ),
    ],
    **CROSS_DAY,
)
@timed
def validated_responses(context: dg.AssetExecutionContext, nps: NpsPipelineResource) -> dg.MaterializeResult:
    """Validated, staged responses: each new file version parsed, checked with pandera and stored by day."""
    layout = nps.layout
    staged_now: list[staging.FileManifest] = []
    with nps.writing() as con:
        staging.ensure_staged_schema(con, layout)
        manifests = staging.load_manifests(layout)
        # Planned again under the lock: the landing zone may have changed since landing_files ran.
        nps.sync_landing()
        sources = load_source_settings(nps.landing_path)
        plan = staging.plan_staging(scan_landing_zone(nps.landing_path), manifests, nps.timezone, nps.start_date, sources)
        with progress.bar("staging", sum(f.size for f in plan.to_stage), "B") as bar:
            for landed in plan.to_stage:
                manifest = staging.stage_file(
                    con, layout, landed, timezone=nps.timezone, start_date=nps.first_day,
                    previous=manifests.get(landed.file_id), settings=settings_for(landed.relative_path, sources),
                    on_batch=lambda rows, name=landed.relative_path: bar.update(0, f"{name}: {rows:,} rows read"),
                )
                staged_now.append(manifest)
                if manifest.status == "rejected":
                    context.log.error(f"{manifest.source_file}: not ingested: {manifest.problem}")
                else:
                    context.log.info(
                        f"{manifest.source_file}: {manifest.rows_read} rows read, {manifest.rows_staged} staged, "
                        f"{manifest.rows_quarantined} quarantined, days {min(manifest.days, default='-')}..{max(manifest.days, default='-')}"
                    )
                bar.update(landed.size, f"{len(staged_now)}/{len(plan.to_stage)} files, {sum(m.rows_read for m in staged_now):,} rows")
        manifests = staging.load_manifests(layout)
        previously_held = layout.held_back()
        held = staging.held_back_files(manifests, nps.max_rejected_share, nps.min_rows_for_rejected_share, sources)
        if held != previously_held:
            atomic_write_bytes(layout.held_back_file, json.dumps(held, indent=1).encode("utf-8"))
        for file_id in held.keys() - previously_held.keys():
            context.log.error(f"{manifests[file_id].source_file}: {held[file_id]}")
        if held.keys() != previously_held.keys() and layout.superseded.exists():
            # A file held back or released changes which versions of a response are published.
            superseded = dedupe.rebuild_superseded_index(con, layout)
            context.log.info(f"superseded-versions index rebuilt: {superseded:,} rows superseded by a later version")
        elif staged_now or not layout.superseded.exists():
            superseded = dedupe.update_superseded_index(con, layout, staged_now)
            context.log.info(f"superseded-versions index updated: {superseded:,} rows superseded by a later version")
    # The quarantine's threshold check, later in this run, tells the files held back now from those held before.
    newly_held = [f for f in held if f not in previously_held or f in {m.file_id for m in staged_now}]
    atomic_write_bytes(
        _staged_in_run(nps, context.run.run_id),
        json.dumps({"staged": [m.file_id for m in staged_now], "newly_held": newly_held}).encode("utf-8"),
    )

    unreadable = [m for m in manifests.values() if m.status == "rejected"]
    new_problems = [m for m in unreadable if m.file_id in {n.file_id for n in staged_now}]
    checks = [
        dg.AssetCheckResult(
            check_name="every_file_readable",
            passed=not unreadable,
            # A file is reported as an error once, when it lands (or changes); after that as a warning,
            # so one unusable file does not fail every later run.
            severity=dg.AssetCheckSeverity.ERROR if new_problems else dg.AssetCheckSeverity.WARN,
            description="; ".join(f"{m.source_file}: {m.problem}" for m in unreadable) or "every landed file was readable",
            metadata={
                "unreadable_files": [f"{m.source_file}: {m.problem}" for m in unreadable],
                "new_this_run": [m.source_file for m in new_problems],
            },
        ),
    ]
    rows_read = sum(m.rows_read for m in staged_now)
    return dg.MaterializeResult(
        metadata={
            "files_staged_this_run": len(staged_now),
            "rows_in": rows_read,
            "rows_out": sum(m.rows_staged for m in staged_now) + sum(m.rows_quarantined for m in staged_now),
            "rows_read": rows_read,
            "rows_staged": sum(m.rows_staged for m in staged_now),
            "rows_quarantined": sum(m.rows_quarantined for m in staged_now),
            "files_unreadable": len(unreadable),
            "files": dg.MetadataValue.md(
                markdown_preview(
                    pl.DataFrame(
                        [
                            {
                                "file": m.source_file,
                                "status": m.status,
                                "read": m.rows_read,
                                "staged": m.rows_staged,
                                "quarantined": m.rows_quarantined,
                                "problem": m.problem,
                            }
                            for m in staged_now
                        ]
                    )
                    if staged_now
                    else pl.DataFrame()
                )
            ),
        },
        check_results=checks,
    )


@dg.asset(
    group_name="ingest",
    kinds={"duckdb", "parquet"},
    deps=[validated_responses, dg.AssetKey("ingest_files")],
    check_specs=[
        dg.AssetCheckSpec(
            "rejected_share_within_threshold",
            asset="quarantine",
            description=(
                "Names each file held back because its share of rejected rows passes NPS_MAX_REJECTED_SHARE "
                "(with at least NPS_MIN_ROWS_FOR_REJECTED_SHARE rows): an error the run it is held back, a warning after."
            ),
        )
    ],
    **CROSS_DAY,
)
@timed
def quarantine(context: dg.AssetExecutionContext, nps: NpsPipelineResource) -> dg.MaterializeResult:
    """Quarantine: every input row that could not be accepted, with every failed rule and the raw row.

    A file with too many rejected rows is held back alone: its rows are not published, every other
    file's are, and its reasons are here for whoever fixes it.
    """
    layout = nps.layout
    manifests = staging.load_manifests(layout)
    run_record = _staged_in_run(nps, context.run.run_id)
    record = json.loads(run_record.read_text(encoding="utf-8")) if run_record.exists() else {}
    staged_now, newly_held = set(record.get("staged", [])), set(record.get("newly_held", []))
    with nps.writing() as con:
        rows = serve.materialise_quarantine(layout, manifests)
        # The rows this run quarantined (every file's when it staged none).
        this_run = [str(path) for file_id in staged_now if (path := layout.landed_file_part("quarantine", file_id)).exists()]
        shown = this_run or layout.per_file_table_files("quarantine")
        preview = con.sql(sql("select_quarantine_preview"), params={"files": shown}).pl()
    run_record.unlink(missing_ok=True)
    held = layout.held_back()
    check = dg.AssetCheckResult(
        check_name="rejected_share_within_threshold",
        passed=not held,
        severity=dg.AssetCheckSeverity.ERROR if newly_held else dg.AssetCheckSeverity.WARN,
        description=(
            "; ".join(f"{manifests[f].source_file}: {reason}" for f, reason in held.items() if f in manifests)
            or f"no file held back (every file at or under {nps.max_rejected_share:.1%} rejected rows, "
            f"or under {nps.min_rows_for_rejected_share} rows, or accepted)"
        ),
        metadata={
            "files_held_back": [manifests[f].source_file for f in held if f in manifests],
            "held_back_this_run": [manifests[f].source_file for f in newly_held if f in manifests],
            "threshold": nps.max_rejected_share,
            "min_rows": nps.min_rows_for_rejected_share,
        },
    )
    return dg.MaterializeResult(
        metadata={
            "rows_in": sum(m.rows_quarantined for m in manifests.values() if m.status == "staged"),
            "rows": rows,
            "files_held_back": len(held),
            "preview": dg.MetadataValue.md(markdown_preview(preview)),
        },
        check_results=[check],
    )


@dg.asset(
    group_name="ingest",
    kinds={"duckdb", "parquet"},
    deps=[validated_responses],
    check_specs=[
        dg.AssetCheckSpec(
            "row_accounting_identity",
            asset="ingest_files",
            description="For every file: rows_read = rows_valid + rows_duplicate + rows_quarantined.",
        )
    ],
    **CROSS_DAY,
)
@timed
def ingest_files(context: dg.AssetExecutionContext, nps: NpsPipelineResource) -> dg.MaterializeResult:
    """Ingested files: one accounting row per landed file, every row valid, duplicate or quarantined."""
    layout = nps.layout
    with nps.writing() as con:
        ignored = landing_entries(nps.landing_path)[1]
        frame = serve.materialise_ingest_files(con, layout, staging.load_manifests(layout), ignored)
    unbalanced = frame.filter(
        pl.col("rows_read") != pl.col("rows_valid") + pl.col("rows_duplicate") + pl.col("rows_quarantined")
    )
    return dg.MaterializeResult(
        metadata={
            "files": frame.height,
            "rows_in": frame.height,
            "rows_out": frame.height,
            "rows_read": int(frame["rows_read"].sum()),
            "rows_valid": int(frame["rows_valid"].sum()),
            "rows_duplicate": int(frame["rows_duplicate"].sum()),
            "rows_quarantined": int(frame["rows_quarantined"].sum()),
            "preview": dg.MetadataValue.md(
                markdown_preview(frame.select("source_file", "status", "rows_read", "rows_valid", "rows_duplicate", "rows_quarantined"))
            ),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name="row_accounting_identity",
                passed=unbalanced.is_empty(),
                metadata={"files_not_adding_up": unbalanced["source_file"].to_list()},
            )
        ],
    )
