"""Weighting: population shares from a user file, for post-stratified NPS with Kish's effective sample size.

The file is a CSV: one column per stratum (any response column such as ``region`` or ``customer_tier``,
or an extra attribute of the exports) and a ``population_share`` column (shares of the customer base,
any scale, normalised here) or a ``population`` column (customer counts). One row per stratum cell.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

SHARE_COLUMNS = ("population_share", "population")
CELL_SEPARATOR = "\x1f"


class WeightingFileError(ValueError):
    """The population file cannot be used; the message names the file, the row and the rule."""


@dataclass(frozen=True)
class Population:
    path: str
    strata: list[str]
    cells: list[dict] = field(default_factory=list)  # {"cell": key, "share": normalised share}
    version: str = ""

    @property
    def description(self) -> str:
        return f"{', '.join(self.strata)} ({len(self.cells)} cells, {Path(self.path).name} {self.version})"


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
    strata = [c for c in columns if c != share_column]
    if not strata:
        raise WeightingFileError(f"weighting file {path}: no stratum column beside {share_column}")
    if frame.is_empty():
        raise WeightingFileError(f"weighting file {path}: no rows")

    checked = frame.with_row_index("__row", offset=1).with_columns(
        pl.col(share_column).str.strip_chars().cast(pl.Float64, strict=False).alias("__share"),
        *(pl.col(c).str.strip_chars() for c in strata),
    )
    problems = []
    for column in strata:
        for row in checked.filter(pl.col(column).fill_null("") == "")["__row"].to_list():
            problems.append(f"row {row}: {column} is empty")
    for row, value in checked.filter(pl.col("__share").is_null()).select("__row", share_column).iter_rows():
        problems.append(f"row {row}: {share_column} {value!r} is not a number")
    for row, value in checked.filter(pl.col("__share") < 0).select("__row", "__share").iter_rows():
        problems.append(f"row {row}: {share_column} {value} is negative")
    # Cells are matched case-insensitively ('EMEA' in the file is 'emea' in an export).
    checked = checked.with_columns(
        pl.concat_str([pl.col(c).str.to_lowercase() for c in strata], separator=CELL_SEPARATOR).alias("__cell")
    )
    duplicated = (
        checked.filter(pl.col("__cell").is_duplicated())
        .group_by("__cell", maintain_order=True)
        .agg(pl.col("__row").sort(), *(pl.col(c).first() for c in strata))
    )
    for values in duplicated.iter_rows(named=True):
        cell = ", ".join(f"{c}={values[c]}" for c in strata)
        problems.append(f"rows {', '.join(map(str, values['__row']))}: the cell {cell} is given more than once")
    if problems:
        raise WeightingFileError(f"weighting file {path}: " + "; ".join(problems[:10]))
    total = checked["__share"].sum()
    if not total or total <= 0:
        raise WeightingFileError(f"weighting file {path}: the shares in {share_column} add up to {total}, not more than 0")

    cells = checked.select(pl.col("__cell").alias("cell"), (pl.col("__share") / total).alias("share")).to_dicts()
    return Population(str(path), strata, cells, hashlib.sha256(raw).hexdigest()[:12])
