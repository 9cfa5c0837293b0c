"""The case model: statuses, the columns of cases, case responses, contacts and status events."""

from __future__ import annotations

import polars as pl

STATUSES = ("open", "contacted", "in_progress", "resolved", "closed")
ACTIVE_STATUSES = ("open", "contacted", "in_progress")
UPDATE_COLUMNS = ("case_id", "status", "owner", "contacted_at", "resolved_at", "root_cause", "note")
REQUIRED_UPDATE_COLUMNS = ("case_id", "status")
LEVEL = {"P1": 1, "P2": 2, "P3": 3}

CASE_RESPONSES_SCHEMA = {
    "response_id": pl.String,
    "case_id": pl.String,
    "respondent_key": pl.String,
    "response_date": pl.Date,
    "submitted_at": pl.Datetime("us", "UTC"),
    "case_opened_at": pl.Datetime("us", "UTC"),
    "active": pl.Boolean,
    "score": pl.Int8,
    "previous_score": pl.Int8,
    "repeat_detractor": pl.Boolean,
    "worsening": pl.Boolean,
    "negative_keywords": pl.List(pl.String),
    "themes": pl.List(pl.String),
    "priority_points": pl.Int64,
    "response_priority": pl.String,
    "priority_reasons": pl.String,
    "owner_queue": pl.String,
    "language": pl.String,
    "channel": pl.String,
    "region": pl.String,
    "product": pl.String,
    "touchpoint": pl.String,
    "customer_tier": pl.String,
    "source_file": pl.String,
    "source_row": pl.Int64,
    "comment": pl.String,
    "email": pl.String,
    "respondent_name": pl.String,
}
# Kept in the internal log only: detractor_case_responses carries the pseudonymous key, not these.
PRIVATE_COLUMNS = ("source_file", "source_row", "comment", "email", "respondent_name")
CONTACTS_SCHEMA = {"case_id": pl.String, "email": pl.String, "name": pl.String, "latest_comment": pl.String}
# What the store keeps per case beside its contact, to merge later responses without reading its rows again.
INTERNAL_CASE_COLUMNS = ("best_level", "base_reasons")
# ``revision``: the store commit that last rebuilt the case (null: before revisions were kept).
CASE_PRIVATE_SCHEMA = {
    **CONTACTS_SCHEMA, "best_level": pl.Int64, "base_reasons": pl.String, "score_before_contact": pl.Int64, "revision": pl.Int64,
}
# Taken from a case's latest response.
LATEST_COLUMNS = ("customer_tier", "region", "product", "channel", "touchpoint", "language")
CASE_COLUMNS = (
    "case_id", "respondent_key", "opened_at", "opened_date", "responses", "first_response_id", "latest_response_id",
    "latest_submitted_at", "worst_score", "latest_score", "priority_points", "priority_reasons", "repeat_detractor",
    "worsening", "negative_keywords", "themes", "owner_queue", *LATEST_COLUMNS, "priority", "sla_hours", "due_at",
    "status", "owner", "contacted_at", "resolved_at", "root_cause", "note", "updates_applied", "next_response_id",
    "next_score", "next_submitted_at", "improved", "hours_to_first_contact", "contacted_within_sla",
)
NEXT_SCHEMA = {
    "case_id": pl.String, "next_response_id": pl.String, "next_score": pl.Int8,
    "next_submitted_at": pl.Datetime("us", "UTC"), "improved": pl.Boolean,
}
EVENTS_SCHEMA = {
    "event_seq": pl.Int64,
    "update_file": pl.String,
    "update_row": pl.Int64,
    "row_content": pl.String,
    "case_id": pl.String,
    "status": pl.String,
    "owner": pl.String,
    "contacted_at": pl.Datetime("us", "UTC"),
    "resolved_at": pl.Datetime("us", "UTC"),
    "root_cause": pl.String,
    "note": pl.String,
    "status_from": pl.String,
    "accepted": pl.Boolean,
    "reason": pl.String,
    "state_status": pl.String,
    "state_owner": pl.String,
    "state_contacted_at": pl.Datetime("us", "UTC"),
    "state_resolved_at": pl.Datetime("us", "UTC"),
    "state_root_cause": pl.String,
    "state_note": pl.String,
    "read_at": pl.Datetime("us", "UTC"),
}
