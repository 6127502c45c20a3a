"""Stays and matching: the DuckDB and Spark backends agree exactly with the brute-force
reference, and all follow the rules of engine.stays / engine.matching on the tricky edges.

Every comparing test runs once per backend (``test_x[duckdb]``, ``test_x[spark]``: the
``backend`` fixture of ``conftest``), so a failure names its backend and ``-k 'not spark'`` leaves Spark out on purpose, never silently. Spark runs
on the one ``local[2]`` session of ``conftest.SPARK``."""

from __future__ import annotations

import json
import math
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

from fangkong.engine import spark_job
from fangkong.engine.backends.duckdb import DuckDBBackend
from fangkong.engine.backends.spark import SparkBackend
from fangkong.engine.cells import CellGrid, cell_of, cell_xy
from fangkong.engine.matching import Backend, MatchResult
from fangkong.engine.reference import ReferenceBackend
from fangkong.engine.rules import ColocationParams
from fangkong.engine.schema import STAYS, SchemaError, parquet_files
from tests.engine.conftest import (
    GRID,
    PARAMS,
    SPARK,
    Checkin,
    Ping,
    at,
    minutes,
    ping,
    write_checkins,
    write_pings,
)

BACKENDS: dict[str, Backend] = {
    "reference": ReferenceBackend(),
    "duckdb": DuckDBBackend(threads=2),
    "spark": SPARK,
}
DAY_START, DAY_END = at(1, 0), at(4, 0)


def read_stays(out: Path) -> pa.Table:
    """A stays file, or a folder of part files in file-name order, with exactly ``STAYS``
    (DuckDB and Spark mark some columns NOT NULL; the values must agree)."""
    return pa.concat_tables([pq.read_table(f).cast(STAYS) for f in parquet_files(out)])


def run_both(
    root: Path,
    pings: Sequence[Ping],
    checkins: Sequence[Checkin] = (),
    *,
    backend: str,
    cases: Sequence[int] = (1,),
    start: datetime = DAY_START,
    end: datetime = DAY_END,
    params: ColocationParams = PARAMS,
) -> tuple[pa.Table, MatchResult]:
    """Run the reference and ``backend``; assert they agree exactly (stays, their counts,
    exposures, summary, cases without data); return the reference's stays and result."""
    pings_dir = write_pings(root, pings)
    checkins_dir = write_checkins(root, checkins)
    results: dict[str, tuple[pa.Table, tuple[int, ...], MatchResult]] = {}
    for name in ("reference", backend):
        out = root / f"stays-{name}.parquet"
        summary = BACKENDS[name].stays(pings=pings_dir, out=out, params=params)
        stays = read_stays(out)
        assert summary.stays == stays.num_rows and summary.path == out
        counts = (summary.pings, summary.dropped, summary.stays, summary.people)
        result = BACKENDS[name].match(
            stays=out, checkins=checkins_dir, cases=cases, start=start, end=end, params=params
        )
        results[name] = (stays, counts, result)
    (ref_stays, ref_counts, ref), (stays, counts, got) = results["reference"], results[backend]
    assert stays.equals(ref_stays), (stays.to_pylist(), ref_stays.to_pylist())
    assert counts == ref_counts, (counts, ref_counts)
    assert got.exposures.equals(ref.exposures), (got.exposures.to_pylist(), ref.exposures.to_pylist())
    assert got.summary.equals(ref.summary), (got.summary.to_pylist(), ref.summary.to_pylist())
    assert got.cases_without_data == ref.cases_without_data
    assert got.checkins_dropped == ref.checkins_dropped
    return ref_stays, ref


def exposures(result: MatchResult) -> list[tuple[int, int, str, float]]:
    return [
        (r["person_id"], r["case_id"], r["where_kind"], r["minutes"]) for r in result.exposures.to_pylist()
    ]


# --- stays -------------------------------------------------------------------------------


def test_gap_of_exactly_max_gap_merges_and_one_second_more_splits(tmp_path: Path, backend: str) -> None:
    t = at(1, 10)
    rows = [ping(1, t, 0), ping(1, t + minutes(30), 0)]  # exactly 30 min: one stay
    rows += [ping(2, t, 0), ping(2, t + minutes(30) + timedelta(seconds=1), 0)]  # just over: two
    stays, _ = run_both(tmp_path, rows, backend=backend)
    per_person = [r["person_id"] for r in stays.to_pylist()]
    assert per_person.count(1) == 1 and per_person.count(2) == 2


def test_duplicate_and_unsorted_pings_give_the_same_stays(tmp_path: Path, backend: str) -> None:
    t = at(1, 10)
    ordered = [ping(1, t + minutes(m), 0) for m in (0, 10, 20)] + [ping(1, t + minutes(30), 1)]
    messy = [ordered[3], ordered[1], ordered[0], ordered[1], ordered[2], ordered[0]]
    clean, _ = run_both(tmp_path / "a", ordered, backend=backend)
    shuffled, _ = run_both(tmp_path / "b", messy, backend=backend)
    assert shuffled.equals(clean)
    assert [r["pings"] for r in clean.to_pylist()] == [3, 1]


def test_stay_crosses_midnight_and_day_partitions(tmp_path: Path, backend: str) -> None:
    rows = [ping(1, at(1, 23, 50) + minutes(m), 0) for m in (0, 10, 20)]  # 23:50, 00:00, 00:10
    rows += [ping(2, at(1, 23, 55), 0), ping(2, at(2, 0, 15), 0)]
    stays, result = run_both(tmp_path, rows, backend=backend)
    assert len(list((tmp_path / "pings").iterdir())) == 2
    assert [(r["person_id"], r["start"], r["end"]) for r in stays.to_pylist()] == [
        (1, at(1, 23, 50), at(2, 0, 10)),
        (2, at(1, 23, 55), at(2, 0, 15)),
    ]
    assert exposures(result) == [(2, 1, "cell", 15.0)]


def test_pings_off_the_earth_are_dropped(tmp_path: Path, backend: str) -> None:
    t = at(1, 10)
    rows = [ping(1, t, 0), (1, t + minutes(5), float("nan"), 22.5), (1, t + minutes(9), 114.0, 95.0)]
    stays, _ = run_both(tmp_path, rows, backend=backend)  # the backend's counts equal the reference's
    assert stays.num_rows == 1
    summary = ReferenceBackend().stays(pings=tmp_path / "pings", out=tmp_path / "s.parquet", params=PARAMS)
    assert (summary.pings, summary.dropped, summary.people) == (1, 2, 1)


def test_cells_on_and_next_to_grid_lines_are_bit_identical(tmp_path: Path, backend: str) -> None:
    """Points on a grid line and one float step either side land in the same cell everywhere."""
    t = at(1, 10)
    rows: list[Ping] = []
    for k in range(-3, 4):
        lon, lat = GRID.lon0 + k / GRID.kx, GRID.lat0 + k / GRID.ky
        for n, (x, y) in enumerate(
            [(lon, lat), (math.nextafter(lon, -999), math.nextafter(lat, 999)), (lon + 1e-12, lat - 1e-12)]
        ):
            rows.append((100 + 10 * (k + 3) + n, t, x, y))
    stays, _ = run_both(tmp_path, rows, backend=backend)
    by_person = {r["person_id"]: r["cell"] for r in stays.to_pylist()}
    assert by_person == {p: cell_of(lon=x, lat=y, grid=GRID) for p, _, x, y in rows}
    assert len(set(by_person.values())) > 7


# --- cell matching -----------------------------------------------------------------------


def test_overlap_of_exactly_the_threshold_counts_and_one_second_less_does_not(
    tmp_path: Path, backend: str
) -> None:
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
    _, result = run_both(tmp_path, rows, backend=backend)
    assert exposures(result) == [(2, 1, "cell", 10.0)]
    row = result.exposures.to_pylist()[0]
    assert (row["overlap_start"], row["overlap_end"], row["where_kind"]) == (
        t + minutes(10),
        t + minutes(20),
        "cell",
    )


def test_touching_intervals_do_not_match_even_with_zero_threshold(tmp_path: Path, backend: str) -> None:
    t = at(1, 10)
    rows = [
        ping(1, t, 0),
        ping(1, t + minutes(20), 0),
        ping(2, t + minutes(20), 0),
        ping(2, t + minutes(40), 0),
    ]
    _, result = run_both(tmp_path, rows, params=replace(PARAMS, min_costay_minutes=0), backend=backend)
    assert result.exposures.num_rows == 0 and result.cases_without_data == ()


def test_a_case_never_matches_itself_but_matches_another_case(tmp_path: Path, backend: str) -> None:
    t = at(1, 10)
    rows = [ping(1, t + minutes(m), 0) for m in (0, 10, 20)] + [
        ping(1, t + minutes(m), 0) for m in (0, 10, 20)
    ]
    rows += [ping(2, t, 0), ping(2, t + minutes(20), 0)]
    _, result = run_both(tmp_path, rows, cases=[1, 2], backend=backend)
    assert exposures(result) == [(2, 1, "cell", 20.0), (1, 2, "cell", 20.0)]
    assert result.summary.column("exposures").to_pylist() == [1, 1]


def test_different_cells_do_not_match_and_range_clips_overlap(tmp_path: Path, backend: str) -> None:
    t = at(1, 10)
    rows = [ping(p, t + minutes(m), 1 if p == 3 else 0) for p in (1, 2, 3) for m in (0, 20, 40, 60)]
    _, result = run_both(tmp_path, rows, start=t + minutes(45), end=at(2, 0), backend=backend)
    assert exposures(result) == [(2, 1, "cell", 15.0)]


def test_case_without_data_in_range_is_reported_not_silent(tmp_path: Path, backend: str) -> None:
    t = at(1, 10)
    rows = [ping(1, t, 0), ping(1, t + minutes(30), 0), ping(2, t, 0), ping(2, t + minutes(30), 0)]
    rows += [ping(5, at(3, 10), 0)]  # case 5 has data, but after the range
    _, result = run_both(tmp_path, rows, cases=[1, 5, 9], end=at(2, 0), backend=backend)
    assert result.cases_without_data == (5, 9)
    assert exposures(result) == [(2, 1, "cell", 30.0)]


# --- venues ------------------------------------------------------------------------------


def test_open_checkout_closes_at_default_dwell(tmp_path: Path, backend: str) -> None:
    checkins = [(1, 7, at(1, 12), None), (2, 7, at(1, 12, 30), at(1, 14)), (3, 7, at(1, 13), at(1, 13, 30))]
    _, result = run_both(tmp_path, [], checkins, backend=backend)
    assert exposures(result) == [(2, 1, "venue", 30.0)]  # person 3 arrives as the case leaves


def test_open_checkout_never_closes_past_local_midnight(tmp_path: Path, backend: str) -> None:
    checkins = [(1, 7, at(1, 23, 30), None), (2, 7, at(1, 23, 50), None), (3, 7, at(2, 0, 0), None)]
    checkins += [(4, 8, at(1, 12), at(1, 12, 5)), (1, 8, at(1, 12, 4), at(1, 12, 10))]  # venue: no minimum
    _, result = run_both(tmp_path, [], checkins, backend=backend)
    assert exposures(result) == [(2, 1, "venue", 10.0), (4, 1, "venue", 1.0)]


def test_summary_groups_cell_and_venue_exposures(tmp_path: Path, backend: str) -> None:
    t = at(1, 10)
    rows = [ping(1, t, 0), ping(1, t + minutes(30), 0), ping(2, t, 0), ping(2, t + minutes(30), 0)]
    _, result = run_both(
        tmp_path, rows, [(1, 7, at(1, 18), at(1, 19)), (2, 7, at(1, 18, 30), at(1, 20))], backend=backend
    )
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


@pytest.mark.parametrize("name", list(BACKENDS))
def test_naive_range_is_refused(tmp_path: Path, name: str) -> None:
    write_pings(tmp_path, [ping(1, at(1, 10), 0)])
    backend = BACKENDS[name]
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

SPARK_EXAMPLES = 20
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


GENERATED = {
    "pings": PINGS_ST,
    "checkins": CHECKINS_ST,
    "cases": st.lists(st.integers(1, 6), min_size=1, max_size=3),
    "window": st.tuples(st.integers(-30, 120), st.integers(0, 300)),
    "costay": st.sampled_from([0, 5, 10]),
    "gap": st.sampled_from([5, 30]),
}


def run_generated(
    *,
    backend: str,
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
            backend=backend,
        )


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(**GENERATED)
def test_duckdb_agrees_with_reference_on_generated_data(
    pings: list[tuple[int, datetime, int]],
    checkins: list[tuple[int, int, datetime, timedelta | None]],
    cases: list[int],
    window: tuple[int, int],
    costay: int,
    gap: int,
) -> None:
    run_generated(
        backend="duckdb",
        pings=pings,
        checkins=checkins,
        cases=cases,
        window=window,
        costay=costay,
        gap=gap,
    )


@settings(max_examples=SPARK_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(**GENERATED)
def test_spark_agrees_with_reference_on_generated_data(
    pings: list[tuple[int, datetime, int]],
    checkins: list[tuple[int, int, datetime, timedelta | None]],
    cases: list[int],
    window: tuple[int, int],
    costay: int,
    gap: int,
) -> None:
    """Fewer examples than DuckDB: each costs Spark a few jobs (about 1 s on two cores)."""
    run_generated(
        backend="spark",
        pings=pings,
        checkins=checkins,
        cases=cases,
        window=window,
        costay=costay,
        gap=gap,
    )


# --- Spark: stays as a folder, the spark-submit job ----------------------------------------


def crowd() -> tuple[list[Ping], list[Checkin]]:
    """Forty people over eight cells and two venues for an afternoon, case 1 among them."""
    t = at(1, 14)
    rows = [
        ping(p, t + minutes(7 * k + p % 5), (p + k // 3) % 8, p % 2) for p in range(1, 41) for k in range(9)
    ]
    visits = [
        (p, 1 + p % 2, t + minutes(10 * (p % 7)), None if p % 3 else t + minutes(70)) for p in range(1, 41)
    ]
    return rows, visits


def test_spark_stays_as_a_folder_of_part_files_sorted_across_files(tmp_path: Path) -> None:
    rows, visits = crowd()
    tmp_path = tmp_path / "a [glob] {name}"  # Spark globs what it reads: escaped
    pings, checkins = write_pings(tmp_path, rows), write_checkins(tmp_path, visits)
    reference = ReferenceBackend()
    reference.stays(pings=pings, out=tmp_path / "ref.parquet", params=PARAMS)
    spark = SPARK.session
    folder = SparkBackend(session=spark, single_file=False)
    saved = {k: spark.conf.get(k) for k in ("spark.sql.shuffle.partitions", "spark.sql.adaptive.enabled")}
    spark.conf.set("spark.sql.shuffle.partitions", "4")  # several ranges, not coalesced into one
    spark.conf.set("spark.sql.adaptive.enabled", "false")
    try:
        summary = folder.stays(pings=pings, out=tmp_path / "stays", params=PARAMS)
    finally:
        for key, value in saved.items():
            spark.conf.set(key, str(value))
    assert summary.path == tmp_path / "stays" and (tmp_path / "stays").is_dir()
    assert len(parquet_files(tmp_path / "stays")) > 1
    assert read_stays(tmp_path / "stays").equals(read_stays(tmp_path / "ref.parquet"))
    query = {
        "checkins": checkins,
        "cases": [1, 2],
        "start": at(1, 14, 20),
        "end": at(1, 16),
        "params": PARAMS,
    }
    expected = reference.match(stays=tmp_path / "ref.parquet", **query)
    assert expected.exposures.num_rows > 20
    for engine, stays in ((folder, "stays"), (reference, "stays"), (SPARK, "ref.parquet")):
        got = engine.match(stays=tmp_path / stays, **query)
        assert got.exposures.equals(expected.exposures) and got.summary.equals(expected.summary)


def test_spark_job_runs_stays_and_match_and_prints_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows, visits = crowd()
    pings, checkins = write_pings(tmp_path, rows), write_checkins(tmp_path, visits)
    window = ["--start", at(1, 14, 20).isoformat(), "--end", at(1, 16).isoformat()]
    args = ["both", "--pings", str(pings), "--stays", str(tmp_path / "stays.parquet")]
    args += ["--checkins", str(checkins), "--cases", "1,2", "--cases-file", str(tmp_path / "ids")]
    (tmp_path / "ids").write_text("3\n77\n")
    assert spark_job.main([*args, *window, "--out", str(tmp_path / "run")], session=SPARK.session) == 0
    report = json.loads(capsys.readouterr().out)
    reference = ReferenceBackend()
    reference.stays(pings=pings, out=tmp_path / "ref.parquet", params=PARAMS)
    expected = reference.match(
        stays=tmp_path / "ref.parquet",
        checkins=checkins,
        cases=[1, 2, 3, 77],
        start=at(1, 14, 20),
        end=at(1, 16),
        params=PARAMS,
    )
    assert report["stays"]["stays"] == pq.read_metadata(tmp_path / "ref.parquet").num_rows
    assert report["match"]["cases_without_data"] == [77] == list(expected.cases_without_data)
    assert pq.read_table(tmp_path / "run" / "exposures.parquet").equals(expected.exposures)
    assert pq.read_table(tmp_path / "run" / "summary.parquet").equals(expected.summary)
    assert (
        json.loads((tmp_path / "run" / "result.json").read_text())["exposures"] == expected.exposures.num_rows
    )
    refused = spark_job.main(
        ["match", "--stays", str(pings), *args[5:7], *window, "--out", str(tmp_path / "x")],
        session=SPARK.session,
    )
    printed = capsys.readouterr()
    assert refused == 2 and "'cell' is missing" in printed.err and printed.out == ""
