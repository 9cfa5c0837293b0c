"""Cases: one per customer, priority and routing from rules, the status round trip, metrics and the CRM hand-off."""

from __future__ import annotations

import csv
import io

import polars as pl
import pytest

from nps_pipeline.defs.follow_up.case_rules import CaseRulesError, load_case_rules

HEADER = "response_id,submitted_at,score,comment,respondent_id,email,channel,region,product,touchpoint,customer_tier,language,first_name,last_name"
DAY_1 = [
    "r1,2026-03-02T09:00:00Z,5,Delivery was late again,C1,c1@example.com,email,EMEA,Pro,support,standard,en,Ana,Silva",
    "r2,2026-03-02T10:00:00Z,0,\"I will cancel, refund me now\",C2,c2@example.com,web,NA,Pro,support,enterprise,en,Bo,Li",
    "r3,2026-03-02T11:00:00Z,9,Great,C3,c3@example.com,web,NA,Pro,support,standard,en,Cy,Ng",
    "r4,2026-03-02T12:00:00Z,5,Bad,,,web,LATAM,Pro,support,free,en,,",
    "r5,2026-03-02T13:00:00Z,4,Quiero cancelar la suscripción,C4,c4@example.com,sms,APAC,Starter,renewal,standard,,Dee,Ruiz",
]
DAY_2 = ["r6,2026-03-03T08:00:00Z,4,Still waiting for the parcel,C1,c1@example.com,email,EMEA,Pro,support,standard,en,Ana,Silva"]
DAY_3 = [
    "r7,2026-03-04T15:00:00Z,2,Broken again,C1,c1@example.com,email,EMEA,Pro,support,standard,en,Ana,Silva",
    "r8,2026-03-04T16:00:00Z,9,Much better now,C4,c4@example.com,sms,APAC,Starter,renewal,standard,es,Dee,Ruiz",
]
UPDATES = "case_id,status,owner,contacted_at,resolved_at,root_cause,note\n"


def export(*rows: str) -> str:
    return HEADER + "\n" + "\n".join(rows) + "\n"


def case_of(frame: pl.DataFrame, response_id: str) -> dict:
    return frame.filter(pl.col("first_response_id") == response_id).row(0, named=True)


@pytest.fixture
def cases_pipeline(pipeline):
    pipeline.land("day1.csv", export(*DAY_1))
    pipeline.land("day2.csv", export(*DAY_2))
    pipeline.run("2026-03-02", "2026-03-03")
    return pipeline


def test_one_open_case_per_customer_and_a_joining_response_raises_priority_but_keeps_the_clock(cases_pipeline):
    cases = cases_pipeline.table("detractor_cases")
    assert cases.height == 4  # C1 (r1+r6), C2, the anonymous r4, C4
    c1 = case_of(cases, "r1")
    assert c1["responses"] == 2 and c1["latest_response_id"] == "r6"
    # r6 alone is P2 (score 4 +1, repeat +1, worsening 5->4 +1 = 3 points); joining raises the case one level.
    assert c1["priority"] == "P1" and "2 responses in this case (+1 level)" in c1["priority_reasons"]
    assert c1["repeat_detractor"] and c1["worsening"]
    assert str(c1["opened_at"]) == "2026-03-02 09:00:00+00:00"
    assert str(c1["due_at"]) == "2026-03-03 09:00:00+00:00"  # P1: 24 hours from the opening, not from r6
    responses = cases_pipeline.table("detractor_case_responses")
    flags = {r["response_id"]: (r["repeat_detractor"], r["worsening"], r["previous_score"]) for r in responses.iter_rows(named=True)}
    assert flags["r1"] == (False, False, None) and flags["r6"] == (True, True, 5)


def test_priority_and_routing_come_from_the_rules(cases_pipeline):
    cases = cases_pipeline.table("detractor_cases")
    c2, anonymous, c4 = case_of(cases, "r2"), case_of(cases, "r4"), case_of(cases, "r5")
    # Score 0 (+4), enterprise (+2), English keyword (+2).
    assert c2["priority"] == "P1" and c2["negative_keywords"] == ["cancel", "refund"]
    assert c2["owner_queue"] == "cx-escalations"
    # A Spanish keyword (language detected: the export left it blank) lifts score 4 (+1) to P2 (2 points).
    assert c4["priority"] == "P2" and c4["negative_keywords"] == ["cancelar"] and c4["language"] == "es"
    assert c4["owner_queue"] == "cx-apac" and c4["sla_hours"] == 48
    assert anonymous["respondent_key"] is None and anonymous["priority"] == "P3" and anonymous["owner_queue"] == "cx-americas"
    assert case_of(cases, "r1")["owner_queue"] == "cx-emea"


def test_the_status_round_trip_rejects_invalid_updates_and_never_loses_a_status(cases_pipeline):
    cases = cases_pipeline.table("detractor_cases")
    c1, c2, c4 = (case_of(cases, r)["case_id"] for r in ("r1", "r2", "r5"))
    cases_pipeline.update(
        "2026-03-03-0900-emea.csv",
        UPDATES
        + f"{c1},contacted,maria,2026-03-02T11:00:00Z,,,called back\n"
        + f"{c2},resolved,,,2026-03-03T08:00:00Z,price,\n"
        + "CASE-NOPE,contacted,x,2026-03-02T11:00:00Z,,,\n"
        + f"{c4},done,,,,,\n"
        + f"{c4},Contacted,li,2026-03-02 14:00,,,\n",
    )
    result = cases_pipeline.run("2026-03-03")
    check = next(c for c in result.get_asset_check_evaluations() if c.check_name == "case_updates_valid")
    assert not check.passed
    assert "2026-03-03-0900-emea.csv: row 2: case " + c2 + ": status resolved needs contacted_at" in check.description
    assert "row 3: case CASE-NOPE: case CASE-NOPE does not exist" in check.description
    assert "row 4: case " + c4 + ": status 'done' is not one of open, contacted, in_progress, resolved, closed" in check.description
    updates = cases_pipeline.table("case_status_updates", "event_seq")
    assert updates["accepted"].to_list() == [True, False, False, False, True]

    cases_pipeline.update(
        "2026-03-04-0900-emea.csv",
        UPDATES
        + f"{c1},resolved,,,2026-03-03T12:00:00Z,carrier delay,refund sent\n"
        + f"{c1},in progress,,,,,\n",
    )
    cases_pipeline.run("2026-03-03")
    updates = cases_pipeline.table("case_status_updates", "event_seq")
    assert updates.filter(pl.col("update_file") == "2026-03-04-0900-emea.csv")["reason"].to_list() == [
        None,
        "cannot go from resolved to in_progress",
    ]
    # Re-materialising the whole range, twice, keeps every status a person set and reads no update twice.
    before = cases_pipeline.table("detractor_cases", "case_id")
    cases_pipeline.run("2026-03-02", "2026-03-03")
    cases_pipeline.run("2026-03-02")
    after = cases_pipeline.table("detractor_cases", "case_id")
    assert after.equals(before)
    assert cases_pipeline.table("case_status_updates").height == 7
    c1_row = case_of(after, "r1")
    assert (c1_row["status"], c1_row["owner"], c1_row["root_cause"], c1_row["note"]) == ("resolved", "maria", "carrier delay", "refund sent")
    assert c1_row["contacted_within_sla"] and c1_row["hours_to_first_contact"] == 2.0
    # C4: the time without offset is read in the reporting time zone (UTC here).
    assert str(case_of(after, "r5")["contacted_at"]) == "2026-03-02 14:00:00+00:00"

    # A new detractor response after C1's case was resolved opens a new case; C4's next score improved.
    cases_pipeline.land("day3.csv", export(*DAY_3))
    cases_pipeline.run("2026-03-04")
    cases = cases_pipeline.table("detractor_cases")
    assert cases.filter(pl.col("respondent_key") == c1_row["respondent_key"]).height == 2
    assert case_of(cases, "r7")["status"] == "open" and case_of(cases, "r1")["status"] == "resolved"
    c4_row = case_of(cases, "r5")
    assert (c4_row["next_response_id"], c4_row["next_score"], c4_row["improved"]) == ("r8", 9, True)


def test_close_the_loop_metrics_per_day_week_and_owner(cases_pipeline):
    cases = cases_pipeline.table("detractor_cases")
    c1, c4 = case_of(cases, "r1")["case_id"], case_of(cases, "r5")["case_id"]
    cases_pipeline.update(
        "u.csv",
        UPDATES + f"{c1},contacted,maria,2026-03-02T11:00:00Z,,,\n" + f"{c4},contacted,li,2026-03-05T14:00:00Z,,,\n",
    )
    cases_pipeline.land("day3.csv", export(*DAY_3))
    cases_pipeline.run("2026-03-02", "2026-03-04")
    metrics = cases_pipeline.table("case_metrics")
    day1 = metrics.filter((pl.col("period_type") == "day") & (pl.col("period_start").cast(pl.String) == "2026-03-02") & (pl.col("owner") == "all")).row(0, named=True)
    # Opened on day 1: C1, C2, anonymous, C4. Contacted: C1 after 2 h (P1, within), C4 after 73 h (P2: 48 h, late).
    assert (day1["cases_opened"], day1["cases_contacted"], day1["contacted_within_sla"]) == (4, 2, 1)
    # SLA decided: the two contacted, plus C2 (due 03-03 10:00, before as-of 03-05 14:00); the anonymous P3 is not yet due.
    assert day1["sla_decided"] == 3 and day1["pct_contacted_within_sla"] == pytest.approx(33.33)
    assert day1["median_hours_to_first_contact"] == pytest.approx(37.5)
    # Overdue at the end of 03-04: C2 (due 03-03 10:00, never contacted) and C4 (due 03-04 13:00, contacted 03-05).
    day3 = metrics.filter((pl.col("period_type") == "day") & (pl.col("period_start").cast(pl.String) == "2026-03-04") & (pl.col("owner") == "all")).row(0, named=True)
    assert day3["overdue_open_cases"] == 2
    assert metrics.filter((pl.col("period_type") == "day") & (pl.col("period_start").cast(pl.String) == "2026-03-02") & (pl.col("owner") == "all"))["overdue_open_cases"].item() == 0
    week = metrics.filter((pl.col("period_type") == "week") & (pl.col("owner") == "all")).row(0, named=True)
    # r7 (03-04) joins C1's case: contacted, not closed, it is still open.
    assert str(week["period_start"]) == "2026-03-02" and week["cases_opened"] == 4
    assert case_of(cases_pipeline.table("detractor_cases"), "r1")["latest_response_id"] == "r7"
    maria = metrics.filter((pl.col("period_type") == "week") & (pl.col("owner") == "maria")).row(0, named=True)
    assert (maria["cases_opened"], maria["contacted_within_sla"], maria["followed_up_with_next_response"]) == (1, 1, 1)
    li = metrics.filter((pl.col("period_type") == "week") & (pl.col("owner") == "li")).row(0, named=True)
    assert li["cases_contacted"] == 1 and li["contacted_within_sla"] == 0


def test_the_crm_hand_off_is_the_only_list_with_emails_and_names(cases_pipeline):
    path = cases_pipeline.warehouse / "handoff" / "open_cases.csv"
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert [r["priority"] for r in rows] == sorted(r["priority"] for r in rows)
    by_email = {r["email"]: r for r in rows}
    assert by_email["c1@example.com"]["name"] == "Ana Silva"
    assert by_email["c2@example.com"]["latest_comment"] == "I will cancel, refund me now"
    assert by_email[""]["name"] == ""  # the anonymous case: no contact to hand over
    assert len(rows) == 4 and len({r["case_id"] for r in rows}) == 4
    for table in ("responses", "detractor_cases", "detractor_case_responses", "case_status_updates", "case_metrics", "nps_themes_daily"):
        frame = cases_pipeline.table(table)
        assert not {"email", "name", "respondent_name", "first_name", "last_name"} & set(frame.columns), table
        text = str(frame.to_dicts())
        assert "example.com" not in text and "Silva" not in text, table


def test_themes_daily_compares_mentioning_with_not_mentioning(cases_pipeline):
    themes = cases_pipeline.table("nps_themes_daily")
    delivery = themes.filter((pl.col("response_date").cast(pl.String) == "2026-03-02") & (pl.col("language") == "all") & (pl.col("theme") == "delivery")).row(0, named=True)
    # r1 mentions delivery (detractor); the other four responses of the day: 1 promoter, 3 detractors.
    assert (delivery["mentions"], delivery["nps_mentioning"], delivery["nps_not_mentioning"]) == (1, -100.0, -50.0)
    assert delivery["nps_gap"] == -50.0
    responses = cases_pipeline.table("responses").sort("response_id")
    assert responses.filter(pl.col("response_id") == "r1")["themes"].to_list() == [["delivery"]]


def test_rules_are_checked_setting_by_setting(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text("[sla_hours]\nP1 = 48\nP2 = 24\n", encoding="utf-8")
    with pytest.raises(CaseRulesError, match="must not shrink from P1 to P3"):
        load_case_rules(path)
    path.write_text('[[routing.rules]]\nqueue = "x"\ncountry = ["FR"]\n', encoding="utf-8")
    with pytest.raises(CaseRulesError, match="routing rule 1: unknown field"):
        load_case_rules(path)
    assert load_case_rules(sla_override="P1:4").sla_hours == {"P1": 4, "P2": 48, "P3": 120}


def test_a_broken_rules_file_fails_its_check_and_the_shipped_rules_are_used(tmp_path):
    from tests.conftest import Pipeline

    bad = tmp_path / "rules.toml"
    bad.write_text("[priority\n", encoding="utf-8")
    pipeline = Pipeline(tmp_path / "p", case_rules_file=str(bad))
    pipeline.land("day1.csv", export(*DAY_1))
    result = pipeline.run("2026-03-02", raise_on_error=False)
    check = next(c for c in result.get_asset_check_evaluations() if c.check_name == "case_rules_valid")
    assert not check.passed and "rules.toml: cannot be read as TOML" in check.description
    assert pipeline.table("detractor_cases").height == 4
