"""Dirty input, on every backend alike: folder names are never data, and rows with a NULL id,
venue, time or coordinate are dropped and counted, not crashed on nor half-used.

Each test runs once per real backend (the ``backend`` fixture) through ``run_both``, which also
asserts that the backend agrees exactly with the reference, counts included."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from fangkong.engine.cells import cell_of
from fangkong.engine.reference import ReferenceBackend
from fangkong.engine.schema import CHECKINS, PINGS
from tests.engine.conftest import GRID, PARAMS, at, minutes, ping, place
from tests.engine.test_stays_matching import exposures, run_both


def test_key_value_folders_in_the_paths_are_not_read_as_columns(tmp_path: Path, backend: str) -> None:
    """A folder ``lat=0`` above the pings once put every ping on the equator (DuckDB), and
    ``venue_id=3`` above the check-ins would move every visit to venue 3."""
    root = tmp_path / "lat=0" / "lon=0" / "person_id=9" / "venue_id=3" / "cell=0"
    t = at(1, 10)
    rows = [
        ping(1, t, 2, 1),
        ping(1, t + minutes(30), 2, 1),
        ping(2, t, 2, 1),
        ping(2, t + minutes(30), 2, 1),
    ]
    visits = [(1, 7, at(1, 12), at(1, 13)), (2, 7, at(1, 12, 30), at(1, 14))]
    stays, result = run_both(root, rows, visits, backend=backend)
    lon, lat = place(2, 1)
    assert {(r["person_id"], r["cell"]) for r in stays.to_pylist()} == {
        (1, cell_of(lon=lon, lat=lat, grid=GRID)),
        (2, cell_of(lon=lon, lat=lat, grid=GRID)),
    }
    assert exposures(result) == [(2, 1, "cell", 30.0), (2, 1, "venue", 30.0)]
    assert [r["where_id"] for r in result.exposures.to_pylist()][1] == 7


def test_checkins_with_a_null_person_venue_or_time_are_dropped_and_counted(
    tmp_path: Path, backend: str
) -> None:
    """A case's check-in with a NULL venue once crashed the DuckDB match while Spark answered."""
    visits = [
        (1, 7, at(1, 12), at(1, 13)),
        (2, 7, at(1, 12, 30), at(1, 14)),
        (1, None, at(1, 12), at(1, 13)),  # the case, nowhere
        (5, None, at(1, 12), None),  # case 5's only check-in: no data, not a crash
        (None, 7, at(1, 12), at(1, 13)),  # nobody at the case's venue
    ]
    folder = tmp_path / "checkins" / "day=2024-03-01"
    folder.mkdir(parents=True)
    no_time = {"person_id": 3, "venue_id": 7, "check_in": None, "check_out": at(1, 13)}
    pq.write_table(pa.Table.from_pylist([no_time], schema=CHECKINS), folder / "part-1.parquet")
    _, result = run_both(tmp_path, [], visits, cases=[1, 5], backend=backend)
    assert exposures(result) == [(2, 1, "venue", 30.0)]
    assert result.cases_without_data == (5,)
    assert result.checkins_dropped == 4


def test_pings_with_a_null_person_time_or_coordinate_are_dropped_and_counted(
    tmp_path: Path, backend: str
) -> None:
    t = at(1, 10)
    lon, lat = place(0)
    nulls = [
        {"person_id": None, "ts": t + minutes(5), "lon": lon, "lat": lat},
        {"person_id": 2, "ts": None, "lon": lon, "lat": lat},
        {"person_id": 2, "ts": t + minutes(10), "lon": None, "lat": lat},
        {"person_id": 2, "ts": t + minutes(15), "lon": lon, "lat": None},
    ]
    folder = tmp_path / "pings" / "day=2024-03-01"
    folder.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(nulls, schema=PINGS), folder / "part-1.parquet")
    rows = [ping(1, t, 0), ping(1, t + minutes(30), 0), ping(2, t, 0), ping(2, t + minutes(30), 0)]
    stays, result = run_both(tmp_path, rows, backend=backend)  # the counts agree with the reference
    assert [(r["person_id"], r["pings"]) for r in stays.to_pylist()] == [(1, 2), (2, 2)]
    counted = ReferenceBackend().stays(pings=tmp_path / "pings", out=tmp_path / "s.parquet", params=PARAMS)
    assert (counted.pings, counted.dropped, counted.people) == (4, 4, 2)
    assert exposures(result) == [(2, 1, "cell", 30.0)]
