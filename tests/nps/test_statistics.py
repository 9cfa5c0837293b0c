"""The NPS formulas in sql/create_nps_macros.sql against reference/statistics.md."""

import duckdb
import pytest

from nps_pipeline.storage import sql


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute(sql("create_nps_macros"))
    return con


def bounds(con, promoters, detractors, responses):
    return con.execute(
        "SELECT nps_score($p, $d, $n), nps_adjusted_wald_bound($p, $d, $n, -1), nps_adjusted_wald_bound($p, $d, $n, 1)",
        {"p": promoters, "d": detractors, "n": responses},
    ).fetchall()[0]


def test_published_worked_example(con):
    nps, low, high = bounds(con, 50, 20, 100)
    assert nps == pytest.approx(30.0)
    assert low == pytest.approx(14.05, abs=0.01)
    assert high == pytest.approx(44.20, abs=0.01)


def test_no_responses_gives_null(con):
    assert bounds(con, 0, 0, 0) == (None, None, None)


def test_bounds_are_clipped_and_ordered(con):
    nps, low, high = bounds(con, 5, 0, 5)
    assert nps == 100.0 and -100 <= low < high <= 100
    nps, low, high = bounds(con, 0, 3, 3)
    # p' = 0.125, d' = 0.625, n' = 6: -50 -/+ 56.6 points, the low end clipped at -100.
    assert nps == -100.0 and low == -100.0 and high == pytest.approx(6.58, abs=0.01)


def test_nps_is_negative_when_detractors_dominate(con):
    nps, low, high = bounds(con, 1, 9, 10)
    assert nps == pytest.approx(-80.0)
    assert low < -80 < high
