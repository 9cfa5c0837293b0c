"""Case rules: priority points, SLA hours, negative keywords and routing, from a TOML file."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from nps_pipeline.settings import DEFAULT_SLA_HOURS, parse_sla_hours
from nps_pipeline.storage import seed_file
from nps_pipeline.defs.nps.themes import Lexicon, fold_text

SEED_RULES = seed_file("case_rules.toml")
PRIORITIES = ("P1", "P2", "P3")
ROUTING_FIELDS = ("region", "product", "channel", "customer_tier", "touchpoint", "language", "priority")


class CaseRulesError(ValueError):
    """A rules file that cannot be used; the message names the file, the setting and the rule."""


@dataclass(frozen=True)
class CaseRules:
    path: str
    sla_hours: dict[str, int]
    p1_at: int
    p2_at: int
    score_points: dict[int, int]
    tier_points: dict[str, int]
    repeat_points: int
    worsening_points: int
    keyword_points: int
    history_days: int
    keywords: dict[str, list[str]]
    default_queue: str
    routing: list[dict] = field(default_factory=list)

    @property
    def keyword_lexicon(self) -> Lexicon:
        terms = pl.DataFrame(
            [(language, term) for language, words in self.keywords.items() for term in words],
            schema={"language": pl.String, "term": pl.String},
            orient="row",
        ).with_columns(
            theme=pl.lit("negative_keyword"),
            prefix=pl.col("term").str.ends_with("*"),
            key=fold_text(pl.col("term").str.strip_suffix("*")),
        )
        return Lexicon(terms=terms.select("theme", "language", "term", "prefix", "key"), sources=(self.path,))

    def _score_points(self) -> pl.Expr:
        return pl.col("score").cast(pl.Int64).replace_strict(self.score_points, default=0, return_dtype=pl.Int64)

    def _tier_points(self) -> pl.Expr:
        return (
            pl.col("customer_tier").str.strip_chars().str.to_lowercase()
            .replace_strict(self.tier_points, default=0, return_dtype=pl.Int64).fill_null(0)
        )

    def points(self) -> pl.Expr:
        """A response's priority points (columns score, customer_tier, repeat_detractor, worsening, negative_keywords)."""
        return (
            self._score_points()
            + self._tier_points()
            + pl.col("repeat_detractor").cast(pl.Int64) * self.repeat_points
            + pl.col("worsening").cast(pl.Int64) * self.worsening_points
            + (pl.col("negative_keywords").list.len() > 0).cast(pl.Int64) * self.keyword_points
        )

    def reasons(self) -> pl.Expr:
        """The points in words, so a priority can be explained."""
        score, tier = self._score_points(), self._tier_points()
        parts = [
            pl.format("score {} (+{})", "score", score),
            pl.when(tier > 0).then(pl.format("tier {} (+{})", "customer_tier", tier)),
            pl.when(pl.col("repeat_detractor")).then(pl.lit(f"repeat detractor (+{self.repeat_points})")),
            pl.when(pl.col("worsening")).then(pl.lit(f"worsening (+{self.worsening_points})")),
            pl.when(pl.col("negative_keywords").list.len() > 0).then(
                pl.format("keyword {} (+{})", pl.col("negative_keywords").list.join(", "), pl.lit(self.keyword_points))
            ),
        ]
        return pl.concat_str(parts, separator="; ", ignore_nulls=True)

    def priority(self, points: pl.Expr) -> pl.Expr:
        return pl.when(points >= self.p1_at).then(pl.lit("P1")).when(points >= self.p2_at).then(pl.lit("P2")).otherwise(pl.lit("P3"))

    def queue(self) -> pl.Expr:
        """The owner queue of the first matching routing rule (columns of ROUTING_FIELDS; priority is the response's)."""
        expr = pl.lit(self.default_queue)
        for rule in reversed(self.routing):
            condition = pl.lit(True)
            for name in ROUTING_FIELDS:
                if name in rule:
                    wanted = [str(v).strip().lower() for v in rule[name]]
                    column = "response_priority" if name == "priority" else name
                    condition = condition & pl.col(column).str.strip_chars().str.to_lowercase().is_in(wanted).fill_null(False)
            expr = pl.when(condition).then(pl.lit(rule["queue"])).otherwise(expr)
        return expr


def _int(value, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise CaseRulesError(f"{where}: {value!r} is not a whole number, 0 or more")
    return value


def load_case_rules(path: str | Path | None = None, *, sla_override: str = "", high_value_tiers: str = "") -> CaseRules:
    """Rules from ``path`` (default: the shipped ``data/seeds/case_rules.toml``), checked setting by setting.

    ``sla_override`` (NPS_FOLLOWUP_SLA_HOURS) and ``high_value_tiers`` (NPS_HIGH_VALUE_TIERS, two
    points each) replace the file's values when set.
    """
    path = Path(path) if path else SEED_RULES
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise CaseRulesError(f"{path}: cannot be read as TOML: {error}") from None
    where = str(path)
    sla = {**DEFAULT_SLA_HOURS, **{str(k).upper(): v for k, v in data.get("sla_hours", {}).items()}}
    unknown = sorted(set(sla) - set(PRIORITIES))
    if unknown:
        raise CaseRulesError(f"{where}: [sla_hours] {', '.join(unknown)}: priorities are P1, P2, P3")
    sla = {p: _int(h, f"{where}: [sla_hours] {p}") for p, h in sla.items()}
    if sla_override.strip():
        try:
            sla = parse_sla_hours(sla_override)
        except ValueError as error:
            raise CaseRulesError(f"NPS_FOLLOWUP_SLA_HOURS {sla_override!r}: {error}") from None
    if not sla["P1"] <= sla["P2"] <= sla["P3"]:
        raise CaseRulesError(f"{where}: SLA hours must not shrink from P1 to P3 (got {sla})")
    priority = data.get("priority", {})
    score_points = {}
    for score, points in priority.get("score_points", {}).items():
        if not str(score).isdigit() or not 0 <= int(score) <= 6:
            raise CaseRulesError(f"{where}: [priority.score_points] {score!r}: detractor scores are 0 to 6")
        score_points[int(score)] = _int(points, f"{where}: [priority.score_points] {score}")
    tier_points = {str(t).strip().lower(): _int(p, f"{where}: [priority.tier_points] {t}") for t, p in priority.get("tier_points", {}).items()}
    if high_value_tiers.strip():
        tier_points = {t.strip().lower(): 2 for t in high_value_tiers.split(",") if t.strip()}
    p1_at, p2_at = _int(priority.get("p1_at", 4), f"{where}: p1_at"), _int(priority.get("p2_at", 2), f"{where}: p2_at")
    if p2_at > p1_at:
        raise CaseRulesError(f"{where}: p2_at ({p2_at}) is above p1_at ({p1_at})")
    keywords = data.get("keywords", {})
    for language, words in keywords.items():
        if not isinstance(words, list) or not all(isinstance(w, str) and w.strip() for w in words):
            raise CaseRulesError(f"{where}: [keywords] {language}: must be a list of words")
    routing = data.get("routing", {})
    rules = routing.get("rules", [])
    for position, rule in enumerate(rules, start=1):
        if not isinstance(rule.get("queue"), str) or not rule["queue"].strip():
            raise CaseRulesError(f"{where}: routing rule {position}: queue is missing")
        unknown = sorted(set(rule) - set(ROUTING_FIELDS) - {"queue"})
        if unknown:
            raise CaseRulesError(f"{where}: routing rule {position}: unknown field(s) {', '.join(unknown)}; use {', '.join(ROUTING_FIELDS)}")
        for name in set(rule) - {"queue"}:
            if isinstance(rule[name], str):
                rule[name] = [rule[name]]
    return CaseRules(
        path=where,
        sla_hours=sla,
        p1_at=p1_at,
        p2_at=p2_at,
        score_points=score_points,
        tier_points=tier_points,
        repeat_points=_int(priority.get("repeat_points", 1), f"{where}: repeat_points"),
        worsening_points=_int(priority.get("worsening_points", 1), f"{where}: worsening_points"),
        keyword_points=_int(priority.get("keyword_points", 2), f"{where}: keyword_points"),
        history_days=_int(priority.get("history_days", 365), f"{where}: history_days"),
        keywords={str(k).lower(): [w.strip() for w in v] for k, v in keywords.items()},
        default_queue=str(routing.get("default_queue", "cx-general")),
        routing=rules,
    )
