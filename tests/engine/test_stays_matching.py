"""Stays and matching: the DuckDB backend agrees exactly with the brute-force reference, and
both follow the rules of engine.stays / engine.matching on the tricky edges."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fangkong.engine.backends.duckdb import DuckDBBackend
from fangkong.engine.cells import CellGrid, cell_of, cell_xy
from fangkong.engine.matching import Backend, MatchResult
from fangkong.engine.reference import ReferenceBackend
from fangkong.engine.rules import ColocationParams
from fangkong.engine.schema import STAYS, SchemaError
from tests.engine.conftest import (
    GRID,
    PARAMS,
    Checkin,
    Ping,
    at,
    minutes,
    ping,
    write_checkins,
    write_pings,
)

BACKENDS: dict[str, Backend] = {"reference": ReferenceBackend(), "duckdb": DuckDBBackend(threads=2)}
DAY_START, DAY_END = at(1, 0), at(4, 0)


def run_both(
    root: Path,
    pings: Sequence[Ping],
    checkins: Sequence[Checkin] = (),
    *,
    cases: Sequence[int] = (1,),
    start: datetime = DAY_START,
    end: datetime = DAY_END,
    params: ColocationParams = PARAMS,
) -> tuple[pa.Table, MatchResult]:
    """Run every backend; assert they agree exactly; return the stays and the match result."""
    pings_dir = write_pings(root, pings)
    checkins_dir = write_checkins(root, checkins)
    results: dict[str, tuple[pa.Table, MatchResult]] = {}
    for name, backend in BACKENDS.items():
        out = root / f"stays-{name}.parquet"
        summary = backend.stays(pings=pings_dir, out=out, params=params)
        stays = pq.read_table(out).cast(STAYS)  # DuckDB marks ids NOT NULL; values must agree
        assert summary.stays == stays.num_rows
        result = backend.match(
            stays=out, checkins=checkins_dir, cases=cases, start=start, end=end, params=params
        )
        results[name] = (stays, result)
    (ref_stays, ref), (db_stays, db) = results["reference"], results["duckdb"]
    assert db_stays.equals(ref_stays), (db_stays.to_pylist(), ref_stays.to_pylist())
    assert db.exposures.equals(ref.exposures), (db.exposures.to_pylist(), ref.exposures.to_pylist())
    assert db.summary.equals(ref.summary), (db.summary.to_pylist(), ref.summary.to_pylist())
    assert db.cases_without_data == ref.cases_without_data
    return ref_stays, ref


def exposures(result: MatchResult) -> list[tuple[int, int, str, float]]:
    return [
        (r["person_id"], r["case_id"], r["where_kind"], r["minutes"]) for r in result.exposures.to_pylist()
    ]


# --- stays -------------------------------------------------------------------------------


def test_gap_of_exactly_max_gap_merges_and_one_second_more_splits(tmp_path: Path) -> None:
    t = at(1, 10)
    rows = [ping(1, t, 0), ping(1, t + minutes(30), 0)]  # exactly 30 min: one stay
    rows += [ping(2, t, 0), ping(2, t + minutes(30) + timedelta(seconds=1), 0)]  # just over: two
    stays, _ = run_both(tmp_path, rows)
    per_person = [r["person_id"] for r in stays.to_pylist()]
    assert per_person.count(1) == 1 and per_person.count(2) == 2


def test_duplicate_and_unsorted_pings_give_the_same_stays(tmp_path: Path) -> None:
    t = at(1, 10)
    ordered = [ping(1, t + minutes(m), 0) for m in (0, 10, 20)] + [ping(1, t + minutes(30), 1)]
    messy = [ordered[3], ordered[1], ordered[0], ordered[1], ordered[2], ordered[0]]
    clean, _ = run_both(tmp_path / "a", ordered)
    shuffled, _ = run_both(tmp_path / "b", messy)
    assert shuffled.equals(clean)
    assert [r["pings"] for r in clean.to_pylist()] == [3, 1]


def test_stay_crosses_midnight_and_day_partitions(tmp_path: Path) -> None:
    rows = [ping(1, at(1, 23, 50) + minutes(m), 0) for m in (0, 10, 20)]  # 23:50, 00:00, 00:10
    rows += [ping(2, at(1, 23, 55), 0), ping(2, at(2, 0, 15), 0)]
    stays, result = run_both(tmp_path, rows)
    assert len(list((tmp_path / "pings").iterdir())) == 2
    assert [(r["person_id"], r["start"], r["end"]) for r in stays.to_pylist()] == [
        (1, at(1, 23, 50), at(2, 0, 10)),
        (2, at(1, 23, 55), at(2, 0, 15)),
    ]
    assert exposures(result) == [(2, 1, "cell", 15.0)]


def test_pings_off_the_earth_are_dropped(tmp_path: Path) -> None:
    t = at(1, 10)
    rows = [ping(1, t, 0), (1, t + minutes(5), float("nan"), 22.5), (1, t + minutes(9), 114.0, 95.0)]
    stays, _ = run_both(tmp_path, rows)
    assert stays.num_rows == 1
    summary = DuckDBBackend().stays(pings=tmp_path / "pings", out=tmp_path / "s.parquet", params=PARAMS)
    assert (summary.pings, summary.dropped, summary.people) == (1, 2, 1)


# --- cell matching -----------------------------------------------------------------------


def test_overlap_of_exactly_the_threshold_counts_and_one_second_less_does_not(tmp_path: Path) -> None:
    t = at(1, 10)
    rows = [ping(1, t, 0), ping(1, t + minutes(20), 0)]
    rows += [ping(2, t + minutes(10), 0), ping(2, t + minutes(30), 0)]  # overlap 10:10-10:20
    rows += [
        ping(
            3,
            t
            + minutes(
                10,
            )
            + timedelta(seconds=1),
            0,
        ),
        ping(3, t + minutes(25), 0),
    ]
    _, result = run_both(tmp_path, rows)
    assert exposures(result) == [(2, 1, "cell", 10.0)]
    row = result.exposures.to_pylist()[0]
    assert (row["overlap_start"], row["overlap_end"], row["where_kind"]) == (
        t + minutes(10),
        t + minutes(20),
        "cell",
    )


def test_touching_intervals_do_not_match_even_with_zero_threshold(tmp_path: Path) -> None:
    t = at(1, 10)
    rows = [
        ping(1, t, 0),
        ping(1, t + minutes(20), 0),
        ping(2, t + minutes(20), 0),
        ping(2, t + minutes(40), 0),
    ]
    _, result = run_both(tmp_path, rows, params=replace(PARAMS, min_costay_minutes=0))
    assert result.exposures.num_rows == 0 and result.cases_without_data == ()


def test_a_case_never_matches_itself_but_matches_another_case(tmp_path: Path) -> None:
    t = at(1, 10)
    rows = [ping(1, t + minutes(m), 0) for m in (0, 10, 20)] + [
        ping(1, t + minutes(m), 0) for m in (0, 10, 20)
    ]
    rows += [ping(2, t, 0), ping(2, t + minutes(20), 0)]
    _, result = run_both(tmp_path, rows, cases=[1, 2])
    assert exposures(result) == [(2, 1, "cell", 20.0), (1, 2, "cell", 20.0)]
    assert result.summary.column("exposures").to_pylist() == [1, 1]


def test_different_cells_do_not_match_and_range_clips_overlap(tmp_path: Path) -> None:
    t = at(1, 10)
    rows = [ping(p, t + minutes(m), 1 if p == 3 else 0) for p in (1, 2, 3) for m in (0, 20, 40, 60)]
    _, result = run_both(tmp_path, rows, start=t + minutes(45), end=at(2, 0))
    assert exposures(result) == [(2, 1, "cell", 15.0)]


def test_case_without_data_in_range_is_reported_not_silent(tmp_path: Path) -> None:
    t = at(1, 10)
    rows = [ping(1, t, 0), ping(1, t + minutes(30), 0), ping(2, t, 0), ping(2, t + minutes(30), 0)]
    rows += [ping(5, at(3, 10), 0)]  # case 5 has data, but after the range
    _, result = run_both(tmp_path, rows, cases=[1, 5, 9], end=at(2, 0))
    assert result.cases_without_data == (5, 9)
    assert exposures(result) == [(2, 1, "cell", 30.0)]


# --- venues ------------------------------------------------------------------------------


def test_open_checkout_closes_at_default_dwell(tmp_path: Path) -> None:
    checkins = [(1, 7, at(1, 12), None), (2, 7, at(1, 12, 30), at(1, 14)), (3, 7, at(1, 13), at(1, 13, 30))]
    _, result = run_both(tmp_path, [], checkins)
    assert exposures(result) == [(2, 1, "venue", 30.0)]  # person 3 arrives as the case leaves


def test_open_checkout_never_closes_past_local_midnight(tmp_path: Path) -> None:
    checkins = [(1, 7, at(1, 23, 30), None), (2, 7, at(1, 23, 50), None), (3, 7, at(2, 0, 0), None)]
    checkins += [(4, 8, at(1, 12), at(1, 12, 5)), (1, 8, at(1, 12, 4), at(1, 12, 10))]  # venue: no minimum
    _, result = run_both(tmp_path, [], checkins)
    assert exposures(result) == [(2, 1, "venue", 10.0), (4, 1, "venue", 1.0)]


def test_summary_groups_cell_and_venue_exposures(tmp_path: Path) -> None:
    t = at(1, 10)
    rows = [ping(1, t, 0), ping(1, t + minutes(30), 0), ping(2, t, 0), ping(2, t + minutes(30), 0)]
    _, result = run_both(tmp_path, rows, [(1, 7, at(1, 18), at(1, 19)), (2, 7, at(1, 18, 30), at(1, 20))])
    (summary,) = result.summary.to_pylist()
    assert (summary["exposures"], summary["cell_exposures"], summary["venue_exposures"]) == (2, 1, 1)
    assert (summary["total_minutes"], summary["longest_minutes"]) == (60.0, 30.0)
    assert (summary["first_exposure"], summary["last_exposure"]) == (t, at(1, 19))


# --- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(BACKENDS))
def test_missing_column_is_refused_by_name(tmp_path: Path, name: str) -> None:
    pq.write_table(
        pa.table({"person_id": pa.array([1], pa.int64()), "lon": [1.0], "lat": [2.0]}), tmp_path / "p.parquet"
    )
    with pytest.raises(SchemaError, match=r"'ts' is missing \(expected timestamp\[us, tz=UTC\]\)"):
        BACKENDS[name].stays(pings=tmp_path / "p.parquet", out=tmp_path / "s.parquet", params=PARAMS)


@pytest.mark.parametrize("name", list(BACKENDS))
def test_mistyped_column_is_refused_with_expected_type(tmp_path: Path, name: str) -> None:
    rows = [ping(1, at(1, 10), 0)]
    write_pings(tmp_path, rows)
    bad = pa.table(
        {
            "person_id": pa.array([1], pa.int64()),
            "venue_id": pa.array(["x"]),
            "check_in": pa.array([at(1, 10)], pa.timestamp("us", tz="UTC")),
            "check_out": pa.array([None], pa.timestamp("us", tz="UTC")),
        }
    )
    pq.write_table(bad, tmp_path / "c.parquet")
    backend = BACKENDS[name]
    backend.stays(pings=tmp_path / "pings", out=tmp_path / "s.parquet", params=PARAMS)
    with pytest.raises(SchemaError, match=r"'venue_id' has type string, expected int64"):
        backend.match(
            stays=tmp_path / "s.parquet",
            checkins=tmp_path / "c.parquet",
            cases=[1],
            start=DAY_START,
            end=DAY_END,
            params=PARAMS,
        )


def test_naive_range_is_refused(tmp_path: Path) -> None:
    write_pings(tmp_path, [ping(1, at(1, 10), 0)])
    backend = DuckDBBackend()
    backend.stays(pings=tmp_path / "pings", out=tmp_path / "s.parquet", params=PARAMS)
    with pytest.raises(ValueError, match="timezone-aware"):
        backend.match(
            stays=tmp_path / "s.parquet",
            checkins=tmp_path / "none",
            cases=[1],
            start=datetime(2024, 3, 1),
            end=datetime(2024, 3, 2),
            params=PARAMS,
        )


# --- cells -------------------------------------------------------------------------------


def test_cells_are_800_m_squares_around_the_reference() -> None:
    base = cell_of(lon=GRID.lon0, lat=GRID.lat0, grid=GRID)
    assert base is not None and cell_xy(cell=base) == (0, 0)
    metres_per_degree_lat = 6_371_008.8 * 3.141592653589793 / 180
    north = cell_of(lon=GRID.lon0, lat=GRID.lat0 + 801 / metres_per_degree_lat, grid=GRID)
    assert north is not None and cell_xy(cell=north) == (0, 1)
    assert cell_xy(cell=cell_of(lon=GRID.lon0 - 1e-9, lat=GRID.lat0 - 1e-9, grid=GRID) or 0) == (-1, -1)
    grid_400 = CellGrid.from_params(replace(PARAMS, cell_size_m=400))
    assert grid_400.kx == pytest.approx(2 * GRID.kx)


# --- generated data ----------------------------------------------------------------------

T0 = at(1, 22)  # near midnight, so generated stays often cross it

PINGS_ST = st.lists(
    st.tuples(
        st.integers(1, 5),  # person
        st.integers(0, 240).map(lambda m: T0 + minutes(m)),  # on a minute grid: ties and exact edges
        st.integers(0, 2),  # cell column
    ),
    max_size=60,
)
CHECKINS_ST = st.lists(
    st.tuples(
        st.integers(1, 5),
        st.integers(1, 2),
        st.integers(0, 240).map(lambda m: T0 + minutes(5 * (m // 5))),
        st.one_of(st.none(), st.integers(-10, 120).map(lambda m: minutes(m))),
    ),
    max_size=12,
)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pings=PINGS_ST,
    checkins=CHECKINS_ST,
    cases=st.lists(st.integers(1, 6), min_size=1, max_size=3),
    window=st.tuples(st.integers(-30, 120), st.integers(0, 300)),
    costay=st.sampled_from([0, 5, 10]),
    gap=st.sampled_from([5, 30]),
)
def test_duckdb_agrees_with_reference_on_generated_data(
    pings: list[tuple[int, datetime, int]],
    checkins: list[tuple[int, int, datetime, timedelta | None]],
    cases: list[int],
    window: tuple[int, int],
    costay: int,
    gap: int,
) -> None:
    params = replace(PARAMS, min_costay_minutes=costay, max_gap_minutes=gap)
    start = T0 + minutes(window[0])
    with tempfile.TemporaryDirectory() as folder:
        run_both(
            Path(folder),
            [ping(p, t, ix) for p, t, ix in pings],
            [(p, v, t, None if d is None else t + d) for p, v, t, d in checkins],
            cases=cases,
            start=start,
            end=start + minutes(window[1]),
            params=params,
        )
