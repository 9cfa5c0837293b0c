"""Correctness of the analytics: hand-computed reference cases, property tests of windows built from summed
counts against direct computation on the responses, and a simulation of the interval's coverage."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nps_pipeline.storage import sql
from nps_pipeline.defs.nps import aggregate
from nps_pipeline.defs.nps.weighting import CELL_SEPARATOR, Population

Z = 1.959963984540054


@pytest.fixture(scope="module")
def con():
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(sql("create_nps_macros"))
    return con


def reference_bounds(promoters: float, detractors: float, n: float) -> tuple[float, float, float]:
    """reference/statistics.md, written out independently of the SQL: (low, high, margin) in points."""
    p, d, n_adj = (promoters + 0.75) / (n + 3), (detractors + 0.75) / (n + 3), n + 3
    centre = p - d
    margin = Z * math.sqrt((p + d - centre**2) / n_adj)
    return max(-100.0, 100 * (centre - margin)), min(100.0, 100 * (centre + margin)), 100 * margin


# (promoters, detractors, responses) -> (low, high): worked by hand from the formula in reference/statistics.md.
REFERENCE_INTERVALS = [
    ((50, 20, 100), (14.05, 44.20)),  # the reference's own check (Rocks 2016; MeasuringU)
    ((0, 3, 3), (-100.0, 6.58)),  # p' = 0.125, d' = 0.625, n' = 6: -50 -/+ 56.58, clipped below
    ((5, 0, 5), (17.49, 100.0)),  # p' = 0.71875, d' = 0.09375, n' = 8: Var' = 0.421875; 62.5 -/+ 45.01, clipped above
    ((10, 10, 40), (-21.13, 21.13)),  # p' = d' = 0.25, n' = 43: Var' = 0.5; 0 -/+ 1.96 sqrt(0.5 / 43)
    ((400, 100, 1000), (25.94, 33.88)),  # p' = 0.39955, d' = 0.10045, n' = 1003: Var' = 0.41054; 29.91 -/+ 3.97
]


@pytest.mark.parametrize(("counts", "expected"), REFERENCE_INTERVALS)
def test_reference_intervals(con, counts, expected):
    low, high = con.execute(
        "SELECT nps_adjusted_wald_bound($p, $d, $n, -1), nps_adjusted_wald_bound($p, $d, $n, 1)",
        {"p": counts[0], "d": counts[1], "n": counts[2]},
    ).fetchall()[0]
    assert low == pytest.approx(expected[0], abs=0.01)
    assert high == pytest.approx(expected[1], abs=0.01)
    assert (low, high) == pytest.approx(reference_bounds(*counts)[:2], abs=1e-9)


def test_margin_of_error_and_required_sample_size(con):
    # reference/statistics.md: at Var = 0.6 a margin of +-10 points needs about 228 responses, +-5 points about 919.
    assert con.sql("SELECT nps_required_sample_size(0.6, 10), nps_required_sample_size(0.6, 5)").fetchall() == [(228, 919)]
    # The margin is the interval's half-width before clipping: 15.08 points for P=50, D=20, n=100.
    margin = con.sql("SELECT nps_margin_of_error(50, 20, 100)").fetchall()[0][0]
    assert margin == pytest.approx(15.075, abs=0.001)
    assert margin == pytest.approx(reference_bounds(50, 20, 100)[2])


def test_change_test_worked_example(con):
    # Period 1: P=50, D=20, n=100; period 2: P=40, D=30, n=100 (by hand):
    # NPS'1 = (50.75 - 20.75) / 103 = 0.291262, Var'1/n'1 = (0.694175 - 0.084833) / 103 = 0.0059159
    # NPS'2 = (40.75 - 30.75) / 103 = 0.097087, Var'2/n'2 = (0.694175 - 0.009426) / 103 = 0.0066481
    # z = 0.194175 / sqrt(0.012564) = 1.7323, two-sided p = 0.0832: not significant at 0.05.
    z, p = con.sql(
        "SELECT nps_change_z(50, 20, 100, 40, 30, 100), normal_two_sided_p(nps_change_z(50, 20, 100, 40, 30, 100))"
    ).fetchall()[0]
    assert z == pytest.approx(1.7323, abs=1e-4)
    assert p == pytest.approx(0.0832, abs=1e-4)
    # The same move on ten times the sample is significant.
    z, p = con.sql("SELECT nps_change_z(500, 200, 1000, 400, 300, 1000), normal_two_sided_p(nps_change_z(500, 200, 1000, 400, 300, 1000))").fetchall()[0]
    assert z > 5 and p < 1e-6
    assert con.sql("SELECT nps_change_z(5, 2, 10, 0, 0, 0)").fetchall() == [(None,)]


@settings(max_examples=50)
@given(st.floats(min_value=-8, max_value=8, allow_nan=False))
def test_normal_p_value_matches_erfc(con, z):
    assert con.execute("SELECT normal_two_sided_p(?)", [z]).fetchall()[0][0] == pytest.approx(
        math.erfc(abs(z) / math.sqrt(2)), abs=2e-7
    )


# --- windows from summed counts equal direct computation on the responses -------------------------------

FIRST_DAY = dt.date(2026, 1, 1)
REGIONS = ["EMEA", "NA", "APAC"]

responses_strategy = st.lists(
    st.tuples(st.integers(0, 69), st.integers(0, 10), st.sampled_from(REGIONS), st.sampled_from(["gold", "free"])),
    min_size=1,
    max_size=300,
)


def _responses_frame(rows) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "response_date": [FIRST_DAY + dt.timedelta(days=offset) for offset, *_ in rows],
            "score": [score for _, score, *_ in rows],
            "region": [region for *_, region, _ in rows],
            "customer_tier": [tier for *_, tier in rows],
        },
        schema={"response_date": pl.Date, "score": pl.Int8, "region": pl.String, "customer_tier": pl.String},
    ).with_columns(
        pl.lit("email").alias("channel"),
        pl.lit(None, pl.String).alias("product"),
        pl.lit(None, pl.String).alias("touchpoint"),
        pl.lit("en").alias("language"),
        pl.lit("{}").alias("attributes"),
        pl.lit("generic").alias("source_format"),
    )


def _windows_from_counts(con, tmp: Path, responses: pl.DataFrame, threshold: int = 30) -> pl.DataFrame:
    responses_file, counts_file = tmp / "responses.parquet", tmp / "counts.parquet"
    responses.write_parquet(responses_file)
    con.sql(sql("select_nps_score_counts_daily"), params={"files": [str(responses_file)], "attribute_names": []}).to_parquet(str(counts_file))
    spine = [FIRST_DAY + dt.timedelta(days=i) for i in range(70)]
    return con.sql(
        sql("select_nps_windows"),
        params={
            "files": [str(counts_file)],
            "spine": spine,
            "range_start": spine[0],
            "range_end": spine[-1] + dt.timedelta(days=92),
            "low_sample_threshold": threshold,
            "significance_level": 0.05,
        },
    ).pl()


def _long(responses: pl.DataFrame) -> pl.DataFrame:
    """One row per response and dimension it counts in, 'overall' included; a missing value is '(not set)'."""
    dims = ["channel", "region", "product", "touchpoint", "customer_tier", "language"]
    by_dimension = responses.unpivot(index=["response_date", "score"], on=dims, variable_name="dimension", value_name="segment")
    overall = responses.select("response_date", "score", pl.lit("overall").alias("dimension"), pl.lit("all").alias("segment"))
    return pl.concat([overall, by_dimension.with_columns(pl.col("segment").fill_null("(not set)"))])


def _direct(windows: pl.DataFrame, responses: pl.DataFrame, start: str, end: str, prefix: str) -> pl.DataFrame:
    """Counts straight from the responses for each window's [start, end], with no score-count table in between."""
    keys = windows.select(
        "window_type", "window_start", "window_end", "dimension", "segment", pl.col(start).alias("_from"), pl.col(end).alias("_to")
    )
    joined = keys.join(_long(responses), on=["dimension", "segment"], how="left").filter(
        pl.col("response_date").is_between(pl.col("_from"), pl.col("_to"))
    )
    counted = joined.group_by("window_type", "window_start", "window_end", "dimension", "segment").agg(
        pl.len().cast(pl.Int64).alias(f"{prefix}n"),
        (pl.col("score") >= 9).sum().cast(pl.Int64).alias(f"{prefix}p"),
        (pl.col("score") <= 6).sum().cast(pl.Int64).alias(f"{prefix}d"),
    )
    return keys.drop("_from", "_to").join(
        counted, on=["window_type", "window_start", "window_end", "dimension", "segment"], how="left"
    ).fill_null(0)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=responses_strategy)
def test_windows_from_summed_counts_equal_direct_computation(con, tmp_path, rows):
    responses = _responses_frame(rows)
    windows = _windows_from_counts(con, tmp_path, responses)
    keys = ["window_type", "window_start", "window_end", "dimension", "segment"]
    checked = windows.join(_direct(windows, responses, "window_start", "window_end", ""), on=keys).join(
        _direct(windows, responses, "previous_start", "previous_end", "prev_"), on=keys
    )
    assert checked.height == windows.height > 0
    assert checked["responses"].to_list() == checked["n"].to_list()
    assert checked["promoters"].to_list() == checked["p"].to_list()
    assert checked["detractors"].to_list() == checked["d"].to_list()
    assert checked["previous_responses"].to_list() == checked["prev_n"].to_list()
    # Every row has responses, but for 'overall' (kept even when empty, with a NULL NPS).
    assert checked.filter((pl.col("n") == 0) & ((pl.col("dimension") != "overall") | pl.col("nps").is_not_null())).is_empty()
    for w in checked.filter(pl.col("n") > 0).iter_rows(named=True):
        assert w["nps"] == pytest.approx(100 * (w["p"] - w["d"]) / w["n"], abs=1e-9)
        low, high, margin = reference_bounds(w["p"], w["d"], w["n"])
        assert (w["nps_ci_low"], w["nps_ci_high"], w["margin_of_error"]) == pytest.approx((low, high, margin), abs=1e-9)
        if w["prev_n"]:
            previous = 100 * (w["prev_p"] - w["prev_d"]) / w["prev_n"]
            assert w["nps_change"] == pytest.approx(w["nps"] - previous, abs=1e-9)
        else:
            assert w["change_p_value"] is None and w["significant_change"] is None
    assert checked["low_sample"].to_list() == [n < 30 for n in checked["n"]]
    assert checked["previous_low_sample"].to_list() == [n < 30 for n in checked["prev_n"]]
    # Coverage of the previous window: the spine's days in it (70 days from FIRST_DAY).
    spine = {FIRST_DAY + dt.timedelta(days=i) for i in range(70)}
    for w in checked.iter_rows(named=True):
        covered = sum(1 for i in range((w["previous_end"] - w["previous_start"]).days + 1) if w["previous_start"] + dt.timedelta(days=i) in spine)
        assert w["previous_days_covered"] == covered
        assert w["previous_complete"] == (covered == (w["previous_end"] - w["previous_start"]).days + 1)
    # A change is tested only when both windows are complete and neither is low-sample, and decided on
    # Benjamini-Hochberg q-values across the tests of one window type and end, computed here independently.
    eligible = lambda w: (  # noqa: E731
        w["prev_n"] > 0 and w["complete"] and w["previous_complete"] and w["n"] >= 30 and w["prev_n"] >= 30 and w["change_z"] is not None
    )
    families: dict[tuple, list[dict]] = {}
    for w in checked.iter_rows(named=True):
        if eligible(w):
            families.setdefault((w["window_type"], w["window_end"]), []).append(w)
        else:
            assert w["significant_change"] is None and w["change_q_value"] is None and w["change_not_tested"]
    for tests in families.values():
        ordered = sorted(tests, key=lambda w: w["change_p_value"])
        m, q_next = len(ordered), 1.0
        for rank in range(m, 0, -1):
            w = ordered[rank - 1]
            q_next = min(q_next, w["change_p_value"] * m / rank)
            assert w["change_q_value"] == pytest.approx(q_next, abs=1e-12)
            assert w["significant_change"] == (q_next < 0.05) and w["change_not_tested"] is None
    # The change is only ever tested against the window right before, sharing no day with it.
    assert (checked["previous_end"] + dt.timedelta(days=1) == checked["window_start"]).all()
    trailing = checked.filter(pl.col("window_type").str.starts_with("trailing"))
    assert (trailing["previous_end"] - trailing["previous_start"] == trailing["window_end"] - trailing["window_start"]).all()
    # Every kind of window is there, and trailing windows end on every day of the spine.
    kinds = windows.filter(pl.col("dimension") == "overall").group_by("window_type").len()
    assert dict(kinds.iter_rows()) == {
        "trailing_7d": 70, "trailing_28d": 70, "trailing_90d": 70, "week": 11, "month": 3, "quarter": 1,
    }


def _weighted(con, tmp: Path, responses: pl.DataFrame, strata: list[str], shares: dict, method: str = "cells") -> pl.DataFrame:
    """Weighted windows through the pipeline's own code; ``shares`` by cell (joint values) or by (dimension, value)."""
    responses_file = tmp / "responses.parquet"
    responses.write_parquet(responses_file)
    spine = [FIRST_DAY + dt.timedelta(days=i) for i in range(70)]
    if method == "cells":
        entries = [{"cell": cell.lower(), "share": share} for cell, share in shares.items()]
    else:
        entries = [{"dimension": strata.index(d), "value": v.lower(), "share": share} for (d, v), share in shares.items()]
    # Each day's cells, as the pipeline keeps them under _internal/weighting_cells.
    cells_file = tmp / "cells.parquet"
    con.sql(sql("select_weighting_cells_daily"), params={"files": [str(responses_file)], "strata": strata}).to_parquet(str(cells_file))
    params = {"files": [str(cells_file)], "spine": spine, "range_start": spine[0], "range_end": spine[-1] + dt.timedelta(days=92)}
    population = Population("test.csv", strata, method, entries, "test")
    return aggregate.nps_windows_weighted_relation(con, params, population, 30).pl()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=responses_strategy)
def test_weighting_to_the_sample_own_shares_changes_nothing(con, tmp_path, rows):
    """Post-stratifying to the sample's own cell shares gives weight 1 to everyone: NPS and n unchanged."""
    responses = _responses_frame(rows)
    shares = dict(responses.group_by("region").len().iter_rows())
    windows = _weighted(con, tmp_path, responses, ["region"], shares).filter(pl.col("window_type") == "quarter")
    total = responses.height
    row = windows.row(0, named=True)
    assert row["responses"] == total
    assert row["weighted_nps"] == pytest.approx(row["nps"], abs=1e-9)
    assert row["effective_sample_size"] == pytest.approx(total)
    assert row["design_effect"] == pytest.approx(1.0)
    assert row["population_share_covered"] == pytest.approx(1.0)


def test_weighted_nps_and_kish_effective_sample_size_by_hand(con, tmp_path):
    # 80 responses in EMEA (40 promoters, 10 detractors), 20 in NA (2 promoters, 10 detractors); the population
    # is half and half. Weights: EMEA 0.5 / 0.8 = 0.625, NA 0.5 / 0.2 = 2.5.
    # Weighted p = 0.5 * 40/80 + 0.5 * 2/20 = 0.30; d = 0.5 * 10/80 + 0.5 * 10/20 = 0.3125: NPS -1.25.
    # n_eff = (80 * 0.625 + 20 * 2.5)^2 / (80 * 0.625^2 + 20 * 2.5^2) = 10000 / 156.25 = 64.
    rows = [(0, 10, "EMEA", "gold")] * 40 + [(0, 8, "EMEA", "gold")] * 30 + [(0, 3, "EMEA", "gold")] * 10
    rows += [(0, 9, "NA", "gold")] * 2 + [(0, 7, "NA", "gold")] * 8 + [(0, 0, "NA", "gold")] * 10
    row = _weighted(con, tmp_path, _responses_frame(rows), ["region"], {"EMEA": 0.5, "NA": 0.5}).filter(
        pl.col("window_type") == "trailing_7d"
    ).row(0, named=True)
    assert row["nps"] == pytest.approx(100 * (42 - 20) / 100)
    assert row["weighted_nps"] == pytest.approx(-1.25)
    assert row["effective_sample_size"] == pytest.approx(64.0)
    assert row["design_effect"] == pytest.approx(100 / 64)
    low, high, margin = reference_bounds(0.30 * 64, 0.3125 * 64, 64)
    assert (row["weighted_ci_low"], row["weighted_ci_high"]) == pytest.approx((low, high))
    # The weighted interval is wider than an unweighted one on 100 responses with the same shares.
    assert margin > reference_bounds(30, 31.25, 100)[2]


def test_cells_outside_the_population_are_counted_not_weighted(con, tmp_path):
    rows = [(0, 10, "EMEA", "gold")] * 10 + [(0, 0, "APAC", "gold")] * 5
    key = CELL_SEPARATOR.join
    row = _weighted(con, tmp_path, _responses_frame(rows), ["region", "customer_tier"], {key(["EMEA", "gold"]): 0.7, key(["NA", "gold"]): 0.3}).filter(
        pl.col("window_type") == "trailing_7d"
    ).row(0, named=True)
    assert row["responses"] == 15 and row["responses_weighted"] == 10 and row["responses_outside_population"] == 5
    assert row["population_share_covered"] == pytest.approx(0.7)
    assert row["strata_cells_without_responses"] == 1
    assert row["weighted_nps"] == pytest.approx(100.0)


# --- coverage of the 95 % interval ---------------------------------------------------------------------

@pytest.mark.parametrize("n", [30, 100, 400])
@pytest.mark.parametrize("shares", [(0.5, 0.2), (0.3, 0.3), (0.7, 0.05)])
def test_interval_covers_true_nps_about_95_percent(con, n, shares):
    samples = 20_000
    rng = np.random.default_rng(20261122 + n)
    counts = rng.multinomial(n, [shares[0], 1 - sum(shares), shares[1]], size=samples)
    frame = pl.DataFrame({"promoters": counts[:, 0], "detractors": counts[:, 2], "responses": np.full(samples, n)})
    true_nps = 100 * (shares[0] - shares[1])
    coverage = con.sql(
        "SELECT avg(CAST(nps_adjusted_wald_bound(promoters, detractors, responses, -1) <= $true "
        "AND $true <= nps_adjusted_wald_bound(promoters, detractors, responses, 1) AS INTEGER)) FROM frame",
        params={"true": true_nps},
    ).fetchall()[0][0]
    assert 0.93 <= coverage <= 0.97, f"coverage {coverage:.4f} at n={n}, shares={shares}"


# --- raking to margins ---------------------------------------------------------------------------------

def test_raking_an_independent_sample_equals_post_stratification_to_the_product(con, tmp_path):
    # Sample: region x tier counts in product form (EMEA 60 %, NA 40 %; gold and free half each), so
    # raking to margins (region 0.6 / 0.4 in the population is replaced by 0.3 / 0.7, tier by 0.8 / 0.2)
    # must land on the joint cells 0.24, 0.06, 0.56, 0.14: the same weights as post-stratification.
    rows = []
    for region, tier, count in [("EMEA", "gold", 30), ("EMEA", "free", 30), ("NA", "gold", 20), ("NA", "free", 20)]:
        scores = {("EMEA", "gold"): 10, ("EMEA", "free"): 8, ("NA", "gold"): 9, ("NA", "free"): 2}[(region, tier)]
        rows += [(0, scores if i % 3 else 5, region, tier) for i in range(count)]
    responses = _responses_frame(rows)
    margins = {("region", "EMEA"): 0.3, ("region", "NA"): 0.7, ("customer_tier", "gold"): 0.8, ("customer_tier", "free"): 0.2}
    raked = _weighted(con, tmp_path, responses, ["region", "customer_tier"], margins, method="margins")
    key = CELL_SEPARATOR.join
    cells = {key(["EMEA", "gold"]): 0.24, key(["EMEA", "free"]): 0.06, key(["NA", "gold"]): 0.56, key(["NA", "free"]): 0.14}
    post = _weighted(con, tmp_path, responses, ["region", "customer_tier"], cells)
    a = raked.filter(pl.col("window_type") == "trailing_7d").row(0, named=True)
    b = post.filter(pl.col("window_type") == "trailing_7d").row(0, named=True)
    assert a["weighting_method"] == "margins" and b["weighting_method"] == "cells"
    for column in ("weighted_nps", "weighted_ci_low", "weighted_ci_high", "effective_sample_size"):
        assert a[column] == pytest.approx(b[column], abs=1e-6), column
    assert a["weighted_nps"] != pytest.approx(a["nps"], abs=1.0)


cell_counts = st.lists(st.integers(1, 40), min_size=6, max_size=6)
margin_shares = st.lists(st.floats(0.05, 1.0), min_size=5, max_size=5)


@settings(max_examples=40, deadline=None)
@given(counts=cell_counts, shares=margin_shares)
def test_raking_matches_every_margin(counts, shares):
    from nps_pipeline.defs.nps.weighting import cell_weights

    regions, tiers = ["emea", "na"], ["gold", "silver", "free"]
    values = [[r, t] for r in regions for t in tiers]
    cells = pl.DataFrame(
        {
            "window_type": ["trailing_7d"] * 6,
            "window_start": [FIRST_DAY] * 6,
            "window_end": [FIRST_DAY] * 6,
            "cell": [CELL_SEPARATOR.join(v) for v in values],
            "cell_values": values,
            "responses": counts,
        }
    )
    margins = [{"dimension": 0, "value": r, "share": s} for r, s in zip(regions, shares[:2])]
    margins += [{"dimension": 1, "value": t, "share": s} for t, s in zip(tiers, shares[2:])]
    weights = cell_weights(cells, Population("m.csv", ["region", "customer_tier"], "margins", margins)).join(cells, on="cell")
    weighted = weights.with_columns((pl.col("weight") * pl.col("responses")).alias("wn"))
    total = weighted["wn"].sum()
    assert total == pytest.approx(sum(counts))
    for position, names, targets in ((0, regions, shares[:2]), (1, tiers, shares[2:])):
        for name, target in zip(names, targets):
            got = weighted.filter(pl.col("cell_values").list.get(position) == name)["wn"].sum() / total
            assert got == pytest.approx(target / sum(targets), abs=1e-7)


def _stationary_counts(rng: np.random.Generator, days: int, per_day: float) -> pl.DataFrame:
    """Daily score counts of a history where nothing changes: every response a promoter, passive or
    detractor with the same chances, in one of three regions and two tiers, overall and per segment."""
    regions, tiers = ["EMEA", "NA", "APAC"], ["gold", "free"]
    rows = []
    for day in range(days):
        date = FIRST_DAY + dt.timedelta(days=day)
        cells = rng.multinomial(rng.poisson(per_day), [1 / 6] * 6).reshape(3, 2)
        by_cell = {(r, t): rng.multinomial(cells[i, j], [0.45, 0.3, 0.25]) for i, r in enumerate(regions) for j, t in enumerate(tiers)}
        def add(dimension, segment, counts):
            for score, n in zip((10, 8, 3), counts):
                if n:
                    rows.append((date, dimension, segment, score, int(n)))
        add("overall", "all", sum(by_cell.values()))
        for r in regions:
            add("region", r, sum(c for (rr, _), c in by_cell.items() if rr == r))
        for t in tiers:
            add("customer_tier", t, sum(c for (_, tt), c in by_cell.items() if tt == t))
    return pl.DataFrame(rows, schema={"response_date": pl.Date, "dimension": pl.String, "segment": pl.String, "score": pl.Int8, "responses": pl.Int64}, orient="row")


def test_on_a_stationary_history_at_most_five_percent_of_days_carry_a_false_flag(con, tmp_path):
    """Nothing changes, so every flag is false: per window type, the share of (window, end day) with any flag is at most 5 %.

    Without the q-values (one test per segment at p < 0.05) it is about 1 - 0.95^6, a quarter of the days.
    """
    rng = np.random.default_rng(20261206)
    days, flagged, families, raw = 730, {}, {}, {}
    for replication in range(12):
        counts_file = tmp_path / f"counts_{replication}.parquet"
        _stationary_counts(rng, days, 45.0).write_parquet(counts_file)
        spine = [FIRST_DAY + dt.timedelta(days=i) for i in range(days)]
        windows = con.sql(
            sql("select_nps_windows"),
            params={"files": [str(counts_file)], "spine": spine, "range_start": spine[0], "range_end": spine[-1],
                    "low_sample_threshold": 30, "significance_level": 0.05},
        ).pl()
        per_family = (
            windows.filter(pl.col("change_not_tested").is_null())
            .group_by("window_type", "window_end")
            .agg(pl.col("significant_change").any().alias("any_flag"), (pl.col("change_p_value") < 0.05).any().alias("any_raw"))
        )
        totals = per_family.group_by("window_type").agg(pl.len(), pl.col("any_flag").sum(), pl.col("any_raw").sum())
        for kind, n, any_flag, any_raw in totals.iter_rows():
            families[kind] = families.get(kind, 0) + n
            flagged[kind] = flagged.get(kind, 0) + any_flag
            raw[kind] = raw.get(kind, 0) + any_raw
    shares = {kind: flagged[kind] / families[kind] for kind in families}
    assert set(shares) == {"trailing_7d", "trailing_28d", "trailing_90d", "week", "month", "quarter"}
    assert all(share <= 0.05 for share in shares.values()), (shares, families)
    # The same tests decided on raw p-values flag far more days: the simulation can tell the two apart.
    assert all(raw[kind] / families[kind] > 0.1 for kind in families if kind.startswith("trailing")), raw
