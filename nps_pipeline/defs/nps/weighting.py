"""Weighting: population shares from a user file, for weighted NPS with Kish's effective sample size.

The file is a CSV in one of two layouts:

- **joint cells** (post-stratification): one column per stratum (any response column such as
  ``region`` or ``customer_tier``, or an extra attribute of the exports) and a ``population_share``
  column (shares of the customer base, any scale, normalised here) or a ``population`` column
  (customer counts); one row per cell. Weight of cell h: w_h = (N_h / N) / (n_h / n).
- **margins** (raking): columns ``dimension``, ``segment`` and ``population_share`` or
  ``population``; one row per value of each dimension, the shares of each dimension on their own
  (e.g. regions, and separately tiers). Weights come from raking (iterative proportional fitting)
  of the respondents' cells to every margin.

Cell values are matched trimmed and case-insensitively.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

SHARE_COLUMNS = ("population_share", "population")
MARGIN_COLUMNS = ("dimension", "segment")
CELL_SEPARATOR = "\x1f"
WINDOW_KEYS = ["window_type", "window_start", "window_end"]
WEIGHTS_SCHEMA = {
    "window_type": pl.String,
    "window_start": pl.Date,
    "window_end": pl.Date,
    "cell": pl.String,
    "weight": pl.Float64,
    "share_covered": pl.Float64,
}
RAKING_MAX_ITERATIONS = 200
RAKING_TOLERANCE = 1e-10


class WeightingFileError(ValueError):
    """The population file cannot be used; the message names the file, the row and the rule."""


@dataclass(frozen=True)
class Population:
    path: str
    strata: list[str]
    method: str = "cells"  # "cells" (post-stratification) or "margins" (raking)
    # cells: {"cell": key of the lower-cased values joined by CELL_SEPARATOR, "share"};
    # margins: {"dimension": position in strata, "value": lower-cased value, "share"} (shares sum to 1 per dimension)
    shares: list[dict] = field(default_factory=list)
    version: str = ""

    @property
    def description(self) -> str:
        how = "post-stratified to" if self.method == "cells" else "raked to the margins of"
        return f"{how} {', '.join(self.strata)} ({len(self.shares)} {self.method}, {Path(self.path).name} {self.version})"


def _problems(checked: pl.DataFrame, keys: list[str], share_column: str, describe) -> list[str]:
    problems = []
    for column in keys:
        for row in checked.filter(pl.col(column).fill_null("") == "")["__row"].to_list():
            problems.append(f"row {row}: {column} is empty")
    for row, value in checked.filter(pl.col("__share").is_null()).select("__row", share_column).iter_rows():
        problems.append(f"row {row}: {share_column} {value!r} is not a number")
    for row, value in checked.filter(pl.col("__share") < 0).select("__row", "__share").iter_rows():
        problems.append(f"row {row}: {share_column} {value} is negative")
    duplicated = (
        checked.filter(pl.col("__key").is_duplicated())
        .group_by("__key", maintain_order=True)
        .agg(pl.col("__row").sort(), *(pl.col(c).first() for c in keys))
    )
    for values in duplicated.iter_rows(named=True):
        problems.append(f"rows {', '.join(map(str, values['__row']))}: {describe(values)} is given more than once")
    return problems


def load_population(path: str | Path) -> Population:
    path = Path(path)
    if not path.is_file():
        raise WeightingFileError(f"weighting file {path}: no such file")
    raw = path.read_bytes()
    try:
        frame = pl.read_csv(raw, infer_schema=False)
    except Exception as error:  # polars names the parse problem
        raise WeightingFileError(f"weighting file {path}: not a readable CSV: {error}") from error
    columns = [c.strip() for c in frame.columns]
    frame.columns = columns
    share_columns = [c for c in columns if c.lower() in SHARE_COLUMNS]
    if len(share_columns) != 1:
        raise WeightingFileError(
            f"weighting file {path}: needs exactly one of the columns {', '.join(SHARE_COLUMNS)}; header is {', '.join(columns)}"
        )
    share_column = share_columns[0]
    keys = [c for c in columns if c != share_column]
    if not keys:
        raise WeightingFileError(f"weighting file {path}: no stratum column beside {share_column}")
    if frame.is_empty():
        raise WeightingFileError(f"weighting file {path}: no rows")
    margins = sorted(c.lower() for c in keys) == sorted(MARGIN_COLUMNS)
    if margins:
        dimension_column, segment_column = (next(c for c in keys if c.lower() == name) for name in MARGIN_COLUMNS)
        keys = [dimension_column, segment_column]

    checked = frame.with_row_index("__row", offset=1).with_columns(
        pl.col(share_column).str.strip_chars().cast(pl.Float64, strict=False).alias("__share"),
        *(pl.col(c).str.strip_chars() for c in keys),
    )
    # Cells are matched case-insensitively ('EMEA' in the file is 'emea' in an export).
    checked = checked.with_columns(
        pl.concat_str([pl.col(c).str.to_lowercase() for c in keys], separator=CELL_SEPARATOR).alias("__key")
    )
    if margins:
        describe = lambda v: f"the value {v[segment_column]} of {v[dimension_column]}"  # noqa: E731
    else:
        describe = lambda v: "the cell " + ", ".join(f"{c}={v[c]}" for c in keys)  # noqa: E731
    problems = _problems(checked, keys, share_column, describe)
    if problems:
        raise WeightingFileError(f"weighting file {path}: " + "; ".join(problems[:10]))
    version = hashlib.sha256(raw).hexdigest()[:12]

    if not margins:
        total = checked["__share"].sum()
        if not total or total <= 0:
            raise WeightingFileError(f"weighting file {path}: the shares in {share_column} add up to {total}, not more than 0")
        shares = checked.select(pl.col("__key").alias("cell"), (pl.col("__share") / total).alias("share")).to_dicts()
        return Population(str(path), keys, "cells", shares, version)

    strata = checked[dimension_column].unique(maintain_order=True).to_list()
    totals = checked.group_by(dimension_column, maintain_order=True).agg(pl.col("__share").sum().alias("total"))
    for dimension, total in totals.iter_rows():
        if not total or total <= 0:
            raise WeightingFileError(f"weighting file {path}: the shares of {dimension} add up to {total}, not more than 0")
    shares = (
        checked.join(totals, on=dimension_column)
        .select(
            pl.col(dimension_column).replace_strict(strata, list(range(len(strata)))).alias("dimension"),
            pl.col(segment_column).str.to_lowercase().alias("value"),
            (pl.col("__share") / pl.col("total")).alias("share"),
        )
        .to_dicts()
    )
    return Population(str(path), strata, "margins", shares, version)


def cell_weights(cells: pl.DataFrame, population: Population | None) -> pl.DataFrame:
    """Per-response weight of each window's respondent cell; NULL for a cell outside the population.

    ``cells`` has the window keys, ``cell``, ``cell_values`` (lower-cased values in strata order)
    and ``responses``. Returns the window keys, ``cell``, ``weight`` and ``share_covered``: the
    population share of the cells (or, for margins, the smallest share over the dimensions of the
    values) that had respondents, over which the shares are renormalised.
    """
    if population is None:
        return pl.DataFrame(schema=WEIGHTS_SCHEMA)
    present = cells.filter(pl.col("cell").is_not_null() & (pl.col("responses") > 0))
    if population.method == "cells":
        shares = pl.DataFrame(population.shares, schema={"cell": pl.String, "share": pl.Float64}).with_columns(
            pl.col("share") / pl.col("share").sum()
        )
        weighted = (
            present.join(shares.filter(pl.col("share") > 0), on="cell", how="inner")
            .with_columns(
                pl.col("share").sum().over(WINDOW_KEYS).alias("share_covered"),
                pl.col("responses").sum().over(WINDOW_KEYS).alias("covered_responses"),
            )
            .with_columns(
                ((pl.col("share") / pl.col("share_covered")) / (pl.col("responses") / pl.col("covered_responses"))).alias("weight")
            )
        )
        return weighted.select(*WINDOW_KEYS, "cell", "weight", "share_covered").cast(WEIGHTS_SCHEMA)
    return _raking_weights(present, population).cast(WEIGHTS_SCHEMA)


def _raking_weights(present: pl.DataFrame, population: Population) -> pl.DataFrame:
    margins = pl.DataFrame(population.shares, schema={"dimension": pl.Int64, "value": pl.String, "share": pl.Float64}).with_columns(
        pl.col("share") / pl.col("share").sum().over("dimension")
    )
    frame = present.select(*WINDOW_KEYS, "cell", "cell_values", pl.col("responses").cast(pl.Float64))
    for position in range(len(population.strata)):
        margin = margins.filter((pl.col("dimension") == position) & (pl.col("share") > 0)).select(
            pl.col("value").alias(f"v{position}"), pl.col("share").alias(f"s{position}")
        )
        frame = frame.with_columns(pl.col("cell_values").list.get(position, null_on_oob=True).alias(f"v{position}")).join(
            margin, on=f"v{position}", how="inner"
        )
    covered = []
    for position in range(len(population.strata)):
        # Renormalise each margin over the values that have respondents in the window.
        values = frame.unique([*WINDOW_KEYS, f"v{position}"]).group_by(WINDOW_KEYS).agg(pl.col(f"s{position}").sum().alias(f"c{position}"))
        frame = frame.join(values, on=WINDOW_KEYS).with_columns((pl.col(f"s{position}") / pl.col(f"c{position}")).alias(f"s{position}"))
        covered.append(f"c{position}")
    frame = frame.with_columns(
        pl.lit(1.0).alias("weight"),
        pl.col("responses").sum().over(WINDOW_KEYS).alias("covered_responses"),
        pl.min_horizontal(covered).alias("share_covered") if covered else pl.lit(1.0).alias("share_covered"),
    )
    for _ in range(RAKING_MAX_ITERATIONS):
        largest_step = 0.0
        for position in range(len(population.strata)):
            group = [*WINDOW_KEYS, f"v{position}"]
            frame = frame.with_columns(
                (pl.col(f"s{position}") * pl.col("covered_responses") / (pl.col("weight") * pl.col("responses")).sum().over(group)).alias("factor")
            ).with_columns(pl.col("weight") * pl.col("factor"))
            largest_step = max(largest_step, float((frame["factor"] - 1).abs().max() or 0.0))
        if largest_step < RAKING_TOLERANCE:
            break
    return frame.select(*WINDOW_KEYS, "cell", "weight", "share_covered")
