"""A seeded generator of realistic landing zones in the canonical export layout.

Weekly exports by arrival date (so late responses land in a later week's file), monthly re-exports
that repeat responses already exported (a few edited since), multilingual comments with quotes and
line breaks, an extra attribute column, a personal-data column that must never be published, and
a few percent of bad rows. Everything is vectorised, so millions of rows are quick to make.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import polars as pl

COMMENTS = {
    "en": {
        "promoter": ["Great service, thank you!", "Fast delivery and friendly support.", 'Love the new app, "five stars"'],
        "passive": ["It was fine.", "Good, but the price is a bit high.", "Delivery took a while\nbut it arrived."],
        "detractor": ["Terrible support, I want a refund.", "The product broke after a week.", "Billing charged me twice, cancel my account."],
    },
    "es": {
        "promoter": ["¡Excelente servicio!", "Entrega rápida, muy contentos."],
        "passive": ["Estuvo bien.", "Buen producto, pero caro."],
        "detractor": ["Pésima atención, quiero un reembolso.", "El pedido llegó roto."],
    },
    "fr": {
        "promoter": ["Service impeccable, merci !", "Livraison rapide et « parfaite »."],
        "passive": ["Correct, sans plus.", "Bien, mais un peu cher."],
        "detractor": ["Service client déplorable, je veux être remboursé.", "Produit défectueux."],
    },
    "id": {
        "promoter": ["Pelayanan sangat bagus!", "Pengiriman cepat, terima kasih."],
        "passive": ["Lumayan.", "Bagus tapi agak mahal."],
        "detractor": ["Pelayanan buruk, saya minta pengembalian dana.", "Barang rusak saat tiba."],
    },
    "fa": {
        "promoter": ["خدمات عالی بود، ممنون!", "ارسال سریع و پشتیبانی خوب."],
        "passive": ["بد نبود.", "خوب بود ولی گران است."],
        "detractor": ["پشتیبانی افتضاح بود، پولم را پس می‌خواهم.", "محصول خراب رسید."],
    },
    "zh": {
        "promoter": ["服务很好，谢谢！", "发货很快，客服很热情。"],
        "passive": ["还可以。", "东西不错，就是有点贵。"],
        "detractor": ["客服太差了，我要退款。", "产品一周就坏了。"],
    },
}
LANGUAGES = list(COMMENTS)
LANGUAGE_WEIGHTS = [0.45, 0.15, 0.12, 0.12, 0.08, 0.08]
CHANNELS = (["email", "web", "in_app", "sms"], [0.4, 0.3, 0.2, 0.1])
REGIONS = (["EMEA", "NA", "APAC", "LATAM"], [0.35, 0.3, 0.25, 0.1])
PRODUCTS = (["Starter", "Pro", "Enterprise Suite"], [0.5, 0.35, 0.15])
TOUCHPOINTS = (["onboarding", "support", "purchase", "renewal"], [0.2, 0.35, 0.3, 0.15])
TIERS = (["free", "standard", "premium", "enterprise"], [0.3, 0.4, 0.2, 0.1])
SCORE_WEIGHTS = np.array([2, 1, 1.5, 2, 2.5, 4, 6, 11, 17, 22, 31], dtype=float)
OFFSETS = ["Z", "+00:00", "+01:00", "+07:00", "-05:00", "+03:30", "+08:00"]
BAD_VALUES = {
    "score": ["11", "-1", "ten", "7.5", ""],
    "submitted_at": ["", "yesterday", "2026-13-45T10:00:00Z"],
    "response_id": [""],
}


def _choice(rng: np.random.Generator, options: tuple[list[str], list[float]], n: int) -> np.ndarray:
    values, weights = options
    return np.asarray(values, dtype=object)[rng.choice(len(values), size=n, p=np.asarray(weights) / sum(weights))]


SCORE_MIXES = {
    # Weights of the scores 0..10.
    "typical": SCORE_WEIGHTS,
    "detractor-heavy": np.array([9, 6, 7, 8, 9, 10, 11, 6, 5, 4, 3], dtype=float),
    "promoter-heavy": np.array([1, 0.5, 0.5, 1, 1, 2, 3, 8, 15, 28, 40], dtype=float),
}


def generate_responses(
    n: int,
    *,
    start: dt.date,
    days: int,
    seed: int = 7,
    bad_share: float = 0.03,
    customers: int | None = None,
    score_mix: str = "typical",
) -> pl.DataFrame:
    """``n`` responses over ``days`` days from ``start``: canonical columns plus an arrival time.

    ``customers`` is how many distinct respondents answer (default about n / 3, so most answer
    once or twice); ``score_mix`` names one of ``SCORE_MIXES``.
    """
    rng = np.random.default_rng(seed)
    weights = SCORE_MIXES[score_mix]
    day_offset = rng.integers(0, days, size=n)
    seconds = rng.integers(0, 86_400, size=n)
    language = _choice(rng, (LANGUAGES, LANGUAGE_WEIGHTS), n)
    tier = _choice(rng, TIERS, n)
    score = rng.choice(11, size=n, p=weights / weights.sum())
    # Enterprise customers are a little happier; a slow drift makes the trend visible.
    score = np.clip(score + (tier == "enterprise") * rng.integers(0, 2, size=n), 0, 10)
    score = np.clip(score - (day_offset < days // 3) * rng.integers(0, 2, size=n), 0, 10)
    category = np.where(score >= 9, "promoter", np.where(score >= 7, "passive", "detractor"))
    customer = rng.integers(1, max(2, customers + 1 if customers else n // 3), size=n)
    late_days = np.where(rng.random(n) < 0.08, rng.integers(1, 12, size=n), 0)
    comment_pick = rng.integers(0, 3, size=n)
    has_comment = rng.random(n) < 0.6
    offset = rng.choice(len(OFFSETS), size=n)

    frame = pl.DataFrame(
        {
            "i": np.arange(n),
            "submitted_utc": (np.datetime64(start.isoformat(), "s") + day_offset.astype("timedelta64[D]") + seconds.astype("timedelta64[s]")).astype("datetime64[us]"),
            "late_days": late_days,
            "score_value": score,
            "category": category,
            "language": language,
            "customer": customer,
            "comment_pick": comment_pick,
            "has_comment": has_comment,
            "offset": np.asarray(OFFSETS, dtype=object)[offset],
            "channel": _choice(rng, CHANNELS, n),
            "region": _choice(rng, REGIONS, n),
            "product": _choice(rng, PRODUCTS, n),
            "touchpoint": _choice(rng, TOUCHPOINTS, n),
            "customer_tier": tier,
        },
        strict=False,
    )
    comment_table = pl.DataFrame(
        [
            {"language": lang, "category": cat, "comment_pick": pick, "comment": texts[pick % len(texts)]}
            for lang, by_cat in COMMENTS.items()
            for cat, texts in by_cat.items()
            for pick in range(3)
        ]
    )
    offset_hours = {"Z": 0, "+00:00": 0, "+01:00": 60, "+07:00": 420, "-05:00": -300, "+03:30": 210, "+08:00": 480}
    frame = (
        frame.join(comment_table, on=["language", "category", "comment_pick"], how="left")
        .with_columns(
            response_id=pl.format("R_{}{}", pl.lit(f"{seed:02d}"), pl.col("i").cast(pl.String).str.zfill(9)),
            submitted_utc=pl.col("submitted_utc").cast(pl.Datetime("us")),
            offset_minutes=pl.col("offset").replace_strict(offset_hours, return_dtype=pl.Int64),
        )
        .with_columns(
            submitted_at=(
                (pl.col("submitted_utc") + pl.duration(minutes=pl.col("offset_minutes"))).dt.strftime("%Y-%m-%dT%H:%M:%S")
                + pl.col("offset")
            ),
            arrived_at=pl.col("submitted_utc") + pl.duration(days=pl.col("late_days")),
            score=pl.col("score_value").cast(pl.String),
            comment=pl.when(pl.col("has_comment")).then(pl.col("comment")).otherwise(None),
            respondent_id=pl.format("C{}", pl.col("customer").cast(pl.String).str.zfill(7)),
            email=pl.format("customer{}@example.com", pl.col("customer")),
            language=pl.when(pl.col("i") % 17 == 0).then(None).otherwise(pl.col("language")),
            seats=(pl.col("customer") % 250 + 1).cast(pl.String),
            ip_address=pl.format("10.{}.{}.{}", pl.col("customer") % 256, pl.col("i") % 256, pl.col("i") % 199),
        )
    )
    if bad_share > 0:
        bad = rng.random(n) < bad_share
        which = rng.integers(0, 3, size=n)
        frame = frame.with_columns(bad=pl.Series(bad), which=pl.Series(which))
        for position, (column, values) in enumerate(BAD_VALUES.items()):
            pick = pl.Series(np.asarray(values, dtype=object)[rng.integers(0, len(values), size=n)], dtype=pl.String)
            frame = frame.with_columns(
                pl.when(pl.col("bad") & (pl.col("which") == position)).then(pick).otherwise(pl.col(column)).alias(column)
            )
        frame = frame.drop("bad", "which")
    return frame.select(
        "response_id", "submitted_at", "score", "comment", "respondent_id", "email", "channel", "region",
        "product", "touchpoint", "customer_tier", "language", "seats", "ip_address", "arrived_at",
    )


def write_landing_zone(
    landing_dir: Path,
    *,
    responses: int = 6000,
    days: int = 90,
    end_date: dt.date = dt.date(2026, 10, 31),
    seed: int = 7,
    bad_share: float = 0.03,
    reexports: bool = True,
    vendor_exports: int = 0,
) -> list[Path]:
    """Write weekly exports (by arrival) and monthly re-exports under ``landing_dir``; returns the files."""
    start = end_date - dt.timedelta(days=days - 1)
    frame = generate_responses(responses, start=start, days=days, seed=seed, bad_share=bad_share)
    frame = frame.with_columns(week=pl.col("arrived_at").dt.truncate("1w").dt.date())
    landing_dir = Path(landing_dir)
    written = []
    for (week,), part in frame.sort("arrived_at").partition_by("week", as_dict=True, maintain_order=True).items():
        path = landing_dir / "weekly" / f"nps_export_week_{week.isoformat()}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        part.drop("arrived_at", "week").write_csv(path)
        written.append(path)
    if reexports:
        rng = np.random.default_rng(seed + 1)
        months = frame.with_columns(month=pl.col("arrived_at").dt.truncate("1mo").dt.date())
        for (month,), part in months.partition_by("month", as_dict=True, maintain_order=True).items():
            # A monthly re-export repeats about a third of that month's responses; a few were edited.
            subset = part.filter(pl.Series(rng.random(part.height) < 0.33))
            edited = pl.Series(rng.random(subset.height) < 0.02)
            subset = subset.with_columns(
                score=pl.when(edited & pl.col("score").str.contains(r"^\d+$"))
                .then(((pl.col("score").cast(pl.Int64, strict=False) + 3) % 11).cast(pl.String))
                .otherwise(pl.col("score"))
            )
            path = landing_dir / "monthly" / f"nps_reexport_{month.strftime('%Y-%m')}.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            subset.drop("arrived_at", "week", "month").write_csv(path)
            written.append(path)
    if vendor_exports:
        written += write_vendor_exports(landing_dir, responses=vendor_exports, start=start, days=days, seed=seed + 50)
    return written


QUALTRICS_TAGS = [
    "StartDate", "EndDate", "Status", "IPAddress", "Progress", "Duration (in seconds)", "Finished", "RecordedDate",
    "ResponseId", "RecipientEmail", "ExternalReference", "LocationLatitude", "LocationLongitude",
    "DistributionChannel", "UserLanguage", "Q_Recommend", "Q_Recommend_NPS_GROUP", "Q_Why", "tier",
]
QUALTRICS_IMPORT_IDS = [
    "startDate", "endDate", "status", "ipAddress", "progress", "duration", "finished", "recordedDate", "_recordId",
    "recipientEmail", "externalDataReference", "locationLatitude", "locationLongitude", "distributionChannel",
    "userLanguage", "QID7", "QID7_NPS_GROUP", "QID8_TEXT", "tier",
]


def _positional(frame: pl.DataFrame, *columns) -> pl.DataFrame:
    """Select columns by position (an export may repeat a source column)."""
    return frame.select([(pl.col(c) if isinstance(c, str) else c).alias(f"c{i}") for i, c in enumerate(columns)])


def _csv_line(cells: list[str]) -> str:
    return ",".join('"' + c.replace('"', '""') + '"' if any(x in c for x in ',"\n') else c for c in cells)


def write_vendor_exports(landing_dir: Path, *, responses: int, start: dt.date, days: int, seed: int) -> list[Path]:
    """A Qualtrics export (Denver time, previews and spam among it) and a SurveyMonkey one (New York time)."""
    landing_dir = Path(landing_dir)
    base = generate_responses(responses, start=start, days=days, seed=seed, bad_share=0.0).with_columns(
        local=pl.col("submitted_at").str.slice(0, 19).str.to_datetime("%Y-%m-%dT%H:%M:%S")
    )
    half = responses // 2
    qualtrics = base.head(half).with_columns(
        status=pl.when(pl.int_range(pl.len()) % 40 == 0).then(pl.lit("1")).when(pl.int_range(pl.len()) % 55 == 0)
        .then(pl.lit("8")).otherwise(pl.lit("0")),
        finished=pl.when(pl.int_range(pl.len()) % 33 == 0).then(pl.lit("0")).otherwise(pl.lit("1")),
        group=pl.when(pl.col("score").cast(pl.Int64) >= 9).then(pl.lit("3")).when(pl.col("score").cast(pl.Int64) >= 7)
        .then(pl.lit("2")).otherwise(pl.lit("1")),
        when=pl.col("local").dt.strftime("%Y-%m-%d %H:%M:%S"),
    )
    body = _positional(
        qualtrics,
        "when", "when", "status", "ip_address", pl.lit("100"), pl.lit("42"), "finished", "when",
        pl.col("response_id").str.replace("R_", "R_q"), "email", "respondent_id", pl.lit("47.1"), pl.lit("7.2"),
        "channel", "language", "score", "group", "comment", "customer_tier",
    )
    labels = [t if not t.startswith("Q_") else "" for t in QUALTRICS_TAGS]
    labels[15:18] = ["How likely are you to recommend us to a friend or colleague?", "Q_Recommend - Group", "Why?"]
    import_row = [
        json.dumps({"ImportId": i, **({"timeZone": "America/Denver"} if i in ("startDate", "endDate", "recordedDate") else {})})
        for i in QUALTRICS_IMPORT_IDS
    ]
    q_path = landing_dir / "qualtrics" / "nps_survey_export.csv"
    q_path.parent.mkdir(parents=True, exist_ok=True)
    header = "\n".join(_csv_line(row) for row in (QUALTRICS_TAGS, labels, import_row)) + "\n"
    q_path.write_text(header + body.write_csv(include_header=False), encoding="utf-8")

    monkey = base.tail(responses - half).with_columns(
        score_label=pl.when(pl.col("score") == "10").then(pl.lit("10 - Extremely likely"))
        .when(pl.col("score") == "0").then(pl.lit("0 - Not at all likely")).otherwise(pl.col("score")),
        when=pl.col("local").dt.strftime("%m/%d/%Y %I:%M:%S %p"),
    )
    sm_header = [
        ["Respondent ID", "Collector ID", "Start Date", "End Date", "IP Address", "Email Address", "First Name",
         "Last Name", "Custom Data 1", "How likely is it that you would recommend Acme to a friend or colleague?",
         "What is the main reason for your score?", "Which region are you in?"],
        ["", "", "", "", "", "", "", "", "", "Response", "Open-Ended Response", "Response"],
    ]
    sm_body = _positional(
        monkey,
        pl.col("response_id").str.replace("R_", "9"), pl.lit("4001"), "when", "when", "ip_address", "email",
        pl.lit("Sam"), pl.lit("Doe"), "customer_tier", "score_label", "comment", "region",
    )
    sm_path = landing_dir / "surveymonkey" / "nps_collector_4001.csv"
    sm_path.parent.mkdir(parents=True, exist_ok=True)
    sm_path.write_text("\n".join(_csv_line(r) for r in sm_header) + "\n" + sm_body.write_csv(include_header=False), encoding="utf-8")
    return [q_path, sm_path]
