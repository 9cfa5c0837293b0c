"""Classify: promoters score 9-10, passives 7-8, detractors 0-6."""

from __future__ import annotations

import polars as pl

CATEGORIES = ("promoter", "passive", "detractor")


def category_of(score: pl.Expr) -> pl.Expr:
    return (
        pl.when(score >= 9)
        .then(pl.lit("promoter"))
        .when(score >= 7)
        .then(pl.lit("passive"))
        .when(score >= 0)
        .then(pl.lit("detractor"))
        .otherwise(None)
    )


def with_category(frame: pl.DataFrame, score_column: str = "score") -> pl.DataFrame:
    """Add the ``category`` column next to the score."""
    return frame.with_columns(category=category_of(pl.col(score_column)))
