"""Alerts: a failed run, or a failed check in any run, is posted as JSON to NPS_ALERT_WEBHOOK_URL.

The body carries a Slack-style ``text`` line a person can act on, and the details for a machine:
job, run id, status, partition range and each failed check with its description.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import dagster as dg
from dagster._core.events import DagsterEventType
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG, PARTITION_NAME_TAG


class AlertWebhook(dg.ConfigurableResource):
    """Where alerts go: an HTTP(S) endpoint that accepts a JSON POST (Slack, Teams, PagerDuty bridges, your own)."""

    url: str = ""
    timeout_seconds: float = 10.0

    def post(self, payload: dict) -> int:
        request = urllib.request.Request(
            self.url, data=json.dumps(payload, default=str).encode("utf-8"), headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:
            return response.status


def failed_checks(instance: dg.DagsterInstance, run_id: str) -> list[dict]:
    """Every check evaluation of the run that did not pass."""
    failures = []
    for record in instance.all_logs(run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION):
        evaluation = record.dagster_event.event_specific_data
        if not evaluation.passed:
            failures.append(
                {
                    "asset": evaluation.asset_key.to_user_string(),
                    "check": evaluation.check_name,
                    "severity": evaluation.severity.value,
                    "description": evaluation.description or "",
                }
            )
    return failures


def _root_message(error) -> str:
    """The innermost cause's message: what went wrong, not Dagster's wrapper around it."""
    while error.cause is not None:
        error = error.cause
    return error.message.strip()


def _partitions(tags: dict[str, str]) -> str:
    if PARTITION_NAME_TAG in tags:
        return tags[PARTITION_NAME_TAG]
    if ASSET_PARTITION_RANGE_START_TAG in tags:
        return f"{tags[ASSET_PARTITION_RANGE_START_TAG]}..{tags[ASSET_PARTITION_RANGE_END_TAG]}"
    return ""


def alert_payload(run: dg.DagsterRun, status: str, failures: list[dict], error: str | None = None) -> dict:
    partitions = _partitions(dict(run.tags))
    where = f"{run.job_name}" + (f" [{partitions}]" if partitions else "")
    lines = [f"NPS pipeline: run {run.run_id[:8]} of {where} {status.lower()}"]
    if error:
        lines.append(f"error: {error}")
    lines += [f"{f['severity']} check {f['asset']}.{f['check']} failed: {f['description']}" for f in failures]
    return {
        "text": "\n".join(lines),
        "job": run.job_name,
        "run_id": run.run_id,
        "status": status,
        "partitions": partitions,
        "error": error,
        "failed_checks": failures,
    }


def _send(context, alerts: AlertWebhook, payload: dict):
    if not alerts.url:
        return dg.SkipReason(f"NPS_ALERT_WEBHOOK_URL is not set; not sent: {payload['text']}")
    try:
        alerts.post(payload)
    except (urllib.error.URLError, OSError) as error:
        # Raised, so the sensor tick shows as failed in the UI and the daemon tries the next tick.
        raise RuntimeError(f"could not post the alert to {alerts.url}: {error}") from error
    context.log.info(f"alert posted to {alerts.url}: {payload['text'].splitlines()[0]}")
    return None


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    name="failed_checks_alert",
    description="A finished run with a failed asset check: post the checks to NPS_ALERT_WEBHOOK_URL.",
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def failed_checks_alert(context: dg.RunStatusSensorContext, alerts: AlertWebhook):
    failures = failed_checks(context.instance, context.dagster_run.run_id)
    if not failures:
        return dg.SkipReason("no failed check")
    return _send(context, alerts, alert_payload(context.dagster_run, "SUCCESS", failures))


@dg.run_failure_sensor(
    name="run_failure_alert",
    description="A failed run: post the error and any failed check to NPS_ALERT_WEBHOOK_URL.",
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def run_failure_alert(context: dg.RunFailureSensorContext, alerts: AlertWebhook):
    failures = failed_checks(context.instance, context.dagster_run.run_id)
    error = context.failure_event.message if context.failure_event else None
    step_errors = [
        f"{event.step_key}: {_root_message(event.event_specific_data.error)}"
        for event in context.get_step_failure_events()
        if event.event_specific_data and event.event_specific_data.error
    ]
    return _send(context, alerts, alert_payload(context.dagster_run, "FAILURE", failures, "; ".join(step_errors) or error))
