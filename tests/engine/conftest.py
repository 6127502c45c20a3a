"""Tiny Parquet datasets in the shared layout (pings/, checkins/ partitioned by local day)."""

from __future__ import annotations

import tempfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fangkong.engine.backends.spark import SparkBackend
from fangkong.engine.cells import CellGrid
from fangkong.engine.rules import ColocationParams
from fangkong.engine.schema import CHECKINS, PINGS

SHANGHAI = ZoneInfo("Asia/Shanghai")
PARAMS = ColocationParams()
GRID = CellGrid.from_params(PARAMS)

SPARK = SparkBackend(
    master="local[2]",
    shuffle_partitions=2,
    temp_directory=Path(tempfile.gettempdir()) / "fangkong-spark-tests",
    # Many tiny jobs: the JIT's first tier alone and the serial GC halve the suite's time.
    config={"spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"},
)
"""The one Spark backend of the test session: its local[2] session starts on first use (about
10 s) and is stopped when the test session ends (``_stop_spark``)."""

Ping = tuple[int, datetime, float, float]
Checkin = tuple[int, int, datetime, datetime | None]


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A local (Asia/Shanghai) time on 2024-03-<day>, aware."""
    return datetime(2024, 3, day, hour, minute, second, tzinfo=SHANGHAI)


def place(ix: int, iy: int = 0) -> tuple[float, float]:
    """(lon, lat) of the middle of grid cell (ix, iy) under the default params."""
    return GRID.lon0 + (ix + 0.5) / GRID.kx, GRID.lat0 + (iy + 0.5) / GRID.ky


def ping(person_id: int, moment: datetime, ix: int, iy: int = 0) -> Ping:
    lon, lat = place(ix, iy)
    return (person_id, moment, lon, lat)


def _by_day(rows: Iterable[tuple[datetime, dict[str, object]]]) -> dict[str, list[dict[str, object]]]:
    days: dict[str, list[dict[str, object]]] = defaultdict(list)
    for moment, row in rows:
        days[moment.astimezone(SHANGHAI).date().isoformat()].append(row)
    return days


def write_pings(root: Path, rows: Iterable[Ping]) -> Path:
    """Write pings as ``root/pings/day=.../part-0.parquet`` with the documented schema."""
    folder = root / "pings"
    folder.mkdir(parents=True, exist_ok=True)
    days = _by_day(
        (ts, {"person_id": p, "ts": ts.astimezone(UTC), "lon": lon, "lat": lat}) for p, ts, lon, lat in rows
    )
    for day, day_rows in days.items():
        (folder / f"day={day}").mkdir(exist_ok=True)
        pq.write_table(pa.Table.from_pylist(day_rows, schema=PINGS), folder / f"day={day}" / "part-0.parquet")
    return folder


def write_checkins(root: Path, rows: Iterable[Checkin]) -> Path:
    """Write check-ins as ``root/checkins/day=.../part-0.parquet`` (check_out may be None)."""
    folder = root / "checkins"
    folder.mkdir(parents=True, exist_ok=True)
    days = _by_day(
        (
            check_in,
            {
                "person_id": p,
                "venue_id": v,
                "check_in": check_in.astimezone(UTC),
                "check_out": None if check_out is None else check_out.astimezone(UTC),
            },
        )
        for p, v, check_in, check_out in rows
    )
    for day, day_rows in days.items():
        (folder / f"day={day}").mkdir(exist_ok=True)
        pq.write_table(
            pa.Table.from_pylist(day_rows, schema=CHECKINS), folder / f"day={day}" / "part-0.parquet"
        )
    return folder


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


@pytest.fixture(params=["duckdb", "spark"])
def backend(request: pytest.FixtureRequest) -> str:
    """Each comparing test runs once per real backend: ``test_x[duckdb]``, ``test_x[spark]``."""
    return str(request.param)


@pytest.fixture(scope="session", autouse=True)
def _stop_spark() -> Iterator[None]:
    """Stop the shared Spark session (if a test started it) when the test session ends."""
    yield
    SPARK.stop()
