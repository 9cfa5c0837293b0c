"""Follow-up: detractor cases, their metrics, the CRM hand-off and the follow-up list."""

import dagster as dg
import polars as pl

from nps_pipeline.defs.follow_up import cases, followup, handoff
from nps_pipeline.defs.follow_up.case_metrics import materialise_case_metrics
from nps_pipeline.defs.follow_up.case_schema import ACTIVE_STATUSES
from nps_pipeline.defs.follow_up.case_rules import CaseRules, CaseRulesError, load_case_rules
from nps_pipeline.resources import NpsPipelineResource
from nps_pipeline.storage import sql
from nps_pipeline.defs.shared import (
    scope,
    CROSS_DAY,
    configured_or_shipped,
    markdown_preview,
    setting_check,
    timed,
    window_days,
    window_label,
)
from nps_pipeline.defs.nps.assets import responses


def _case_rules(nps: NpsPipelineResource) -> tuple[CaseRules, str | None]:
    """The configured case rules, or the shipped ones with the reason the configured ones failed."""
    return configured_or_shipped(nps.case_rules, load_case_rules, (CaseRulesError,), "{error}; the shipped case rules are used instead")


@dg.asset(
    group_name="follow_up",
    kinds={"duckdb", "polars", "parquet"},
    deps=[responses],
    check_specs=[
        dg.AssetCheckSpec(
            "case_rules_valid",
            asset="detractor_cases",
            description="NPS_CASE_RULES_FILE (priority, SLA, keywords, routing) can be read (else the shipped rules are used).",
        ),
        dg.AssetCheckSpec(
            "case_updates_valid",
            asset="detractor_cases",
            description="Every status update read in this run was applied; names the file, row and rule of each one rejected.",
        ),
    ],
    **CROSS_DAY,
)
@timed
def detractor_cases(context: dg.AssetExecutionContext, nps: NpsPipelineResource) -> dg.MaterializeResult:
    """Detractor cases: one open case per customer, priority and owner queue from the rules, statuses merged from the updates folder."""
    layout, days = scope(context, nps)
    rules, problem = _case_rules(nps)
    if problem:
        context.log.error(problem)
    with nps.writing() as con:
        run = cases.materialise_cases(con, layout, days, rules, nps.updates_path, nps.timezone)
    rejected = run.new_events.filter(~pl.col("accepted"))
    rejections = [
        f"{file}: row {row}: case {case or '-'}: {why}"
        for file, row, case, why in rejected.select("update_file", "update_row", "case_id", "reason").iter_rows()
    ]
    for line in rejections + run.file_problems:
        context.log.warning(f"status update rejected: {line}")
    applied = run.new_events.height - rejected.height
    context.log.info(
        f"{run.responses_in_window} detractor responses in the window; {applied} status update(s) applied, {len(rejections)} rejected"
    )
    open_cases = run.cases.filter(pl.col("status").is_in(ACTIVE_STATUSES))
    by_priority = open_cases.group_by("priority").agg(pl.len().alias("open_cases")).sort("priority")
    return dg.MaterializeResult(
        metadata={
            "window": window_label(days),
            "detractor_responses_in_window": run.responses_in_window,
            "rows_in": run.responses_in_window,
            "rows_out": run.cases.height,
            "cases": run.cases.height,
            "cases_rebuilt": run.cases_rebuilt,
            "cases_merged": run.cases_merged,
            "open_cases": open_cases.height,
            "updates_applied": applied,
            "updates_rejected": len(rejections),
            "rules": rules.path,
            "open_by_priority": dg.MetadataValue.md(markdown_preview(by_priority)),
            "preview": dg.MetadataValue.md(
                markdown_preview(
                    open_cases.select(
                        "case_id", "priority", "due_at", "status", "owner", "responses", "latest_score", "priority_reasons"
                    )
                    .bottom_k(20, by=["priority", "due_at", "case_id"])
                    .sort("priority", "due_at", "case_id"),
                    total=open_cases.height,
                )
            ),
        },
        check_results=[
            setting_check("case_rules_valid", problem, f"rules from {rules.path}"),
            dg.AssetCheckResult(
                check_name="case_updates_valid",
                passed=not rejections and not run.file_problems,
                severity=dg.AssetCheckSeverity.WARN,
                description="; ".join(rejections + run.file_problems)[:2000] or "every status update read was applied",
                metadata={"rejected": rejections + run.file_problems},
            ),
        ],
    )


@dg.asset(group_name="follow_up", kinds={"duckdb", "parquet"}, deps=[detractor_cases], **CROSS_DAY)
@timed
def case_metrics(context: dg.AssetExecutionContext, nps: NpsPipelineResource) -> dg.MaterializeResult:
    """Close-the-loop metrics per day, week and owner: contacted within SLA, time to first contact, overdue cases, improved next scores."""
    with nps.writing() as con:
        frame = materialise_case_metrics(con, nps.layout, nps.timezone)
    weeks = frame.filter((pl.col("period_type") == "week") & (pl.col("owner") == "all")).tail(8)
    return dg.MaterializeResult(
        metadata={
            "rows": frame.height,
            "as_of": str(frame["as_of"][0]) if frame.height else "no cases",
            "recent_weeks": dg.MetadataValue.md(
                markdown_preview(
                    weeks.select(
                        "period_start", "cases_opened", "pct_contacted_within_sla", "median_hours_to_first_contact",
                        "overdue_open_cases", "pct_improved",
                    )
                )
            ),
        }
    )


@dg.asset(group_name="follow_up", kinds={"csv"}, deps=[detractor_cases], **CROSS_DAY)
@timed
def crm_handoff(context: dg.AssetExecutionContext, nps: NpsPipelineResource) -> dg.MaterializeResult:
    """CRM hand-off: the cases changed since the last full list of open cases (and that list when due), with email and name."""
    with nps.writing():
        run = handoff.write_crm_handoff(nps.layout, window_days(context)[-1], nps.handoff_full_every_days)
    what = "the full list of open cases" if run.full else "the cases changed since the full list"
    context.log.info(f"wrote {run.rows.height} row(s), {what}, to {run.path}; {run.open_cases} case(s) open")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(run.path)),
            "rows_out": run.rows.height,
            "full_list_written": run.full,
            "open_cases": run.open_cases,
            "written_without_email": run.rows.filter(pl.col("email").is_null()).height,
        }
    )


@dg.asset(group_name="follow_up", kinds={"duckdb", "parquet"}, deps=[responses, detractor_cases], **CROSS_DAY)
@timed
def detractor_followups(context: dg.AssetExecutionContext, nps: NpsPipelineResource) -> dg.MaterializeResult:
    """Detractor follow-ups: every detractor response with its case, the case's priority, SLA due time and status."""
    layout, days = scope(context, nps)
    with nps.writing() as con:
        written = followup.materialise_detractor_followups(con, layout, days)
        by_priority = con.sql(
            sql("select_followups_by_priority"), params={"files": layout.table_files_for_days("detractor_followups", days)}
        ).pl()
    return dg.MaterializeResult(
        metadata={
            "window": window_label(days),
            "rows": sum(written.values()),
            "by_priority": dg.MetadataValue.md(markdown_preview(by_priority)),
        }
    )
