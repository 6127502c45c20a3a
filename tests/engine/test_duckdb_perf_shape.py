"""The shape of the fast matching path (no timing here: bench/colocation.py times it).

- ``matching.finish_sorted`` (pairs already in ``EXPOSURE_ORDER``, as DuckDB returns them) gives
  exactly what ``matching.finish`` gives on the same pairs in any order;
- the summary, computed in one pass over the sorted rows, agrees with a plain hash group-by (the
  earlier implementation, kept here as the oracle);
- a few cases' cells make DuckDB skip the other row groups of the stays file (statistics);
- the (cell, time bucket) join key finds exactly the pairs of the reference, for stays shorter
  and longer than a bucket and case stays over many buckets (buckets made small here).
"""

from __future__ import annotations

import random
import re
from datetime import timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from fangkong.engine.backends import duckdb as duckdb_backend
from fangkong.engine.backends.duckdb import DuckDBBackend
from fangkong.engine.matching import EXPOSURE_ORDER, RawPairs, check_range, finish, finish_sorted
from fangkong.engine.reference import ReferenceBackend
from fangkong.engine.schema import SUMMARY
from tests.engine.conftest import PARAMS, at, ping, write_checkins, write_pings

US_PER_MINUTE = 60_000_000


def random_pairs(seed: int, rows: int) -> RawPairs:
    """Pairs with many repeated keys (ties in every sort column), in no order."""
    rng = random.Random(seed)
    base = 1_709_500_000_000_000
    starts = [base + rng.randrange(0, 50) * 60_000_000 for _ in range(rows)]
    return RawPairs(
        person_id=pa.array([rng.randrange(1, 8) for _ in range(rows)], pa.int64()),
        case_id=pa.array([rng.randrange(1, 4) for _ in range(rows)], pa.int64()),
        where_kind=pa.array([rng.choice(["cell", "venue"]) for _ in range(rows)], pa.string()),
        where_id=pa.array([rng.randrange(1, 4) for _ in range(rows)], pa.int64()),
        overlap_start_us=pa.array(starts, pa.int64()),
        overlap_end_us=pa.array([s + rng.randrange(1, 90) * 1_000_000 for s in starts], pa.int64()),
    )


def sorted_pairs(pairs: RawPairs) -> RawPairs:
    """The pairs in EXPOSURE_ORDER, as a database would hand them over."""
    table = pa.table(
        {
            "case_id": pairs.case_id,
            "person_id": pairs.person_id,
            "where_kind": pairs.where_kind,
            "where_id": pairs.where_id,
            "overlap_start": pairs.overlap_start_us,
            "overlap_end": pairs.overlap_end_us,
        }
    ).sort_by([(key, "ascending") for key in EXPOSURE_ORDER])
    return RawPairs(
        person_id=table["person_id"].combine_chunks(),
        case_id=table["case_id"].combine_chunks(),
        where_kind=table["where_kind"].combine_chunks(),
        where_id=table["where_id"].combine_chunks(),
        overlap_start_us=table["overlap_start"].combine_chunks(),
        overlap_end_us=table["overlap_end"].combine_chunks(),
    )


def hash_summary(exposures: pa.Table) -> pa.Table:
    """The summary by a hash group-by, then sorted (the implementation before finish_sorted)."""
    start = exposures["overlap_start"].cast(pa.timestamp("us")).cast(pa.int64())
    end = exposures["overlap_end"].cast(pa.timestamp("us")).cast(pa.int64())
    work = pa.table(
        {
            "person_id": exposures["person_id"],
            "case_id": exposures["case_id"],
            "is_cell": pc.cast(pc.equal(exposures["where_kind"], "cell"), pa.int64()),
            "is_venue": pc.cast(pc.equal(exposures["where_kind"], "venue"), pa.int64()),
            "us": pc.subtract(end, start),
            "start": start,
            "end": end,
        }
    )
    grouped = work.group_by(["person_id", "case_id"], use_threads=False).aggregate(
        [
            ("us", "count"),
            ("is_cell", "sum"),
            ("is_venue", "sum"),
            ("us", "sum"),
            ("us", "max"),
            ("start", "min"),
            ("end", "max"),
        ]
    )
    ts = pa.timestamp("us", tz="UTC")
    summary = pa.table(
        [
            grouped["person_id"],
            grouped["case_id"],
            grouped["us_count"].cast(pa.int64()),
            grouped["is_cell_sum"].cast(pa.int64()),
            grouped["is_venue_sum"].cast(pa.int64()),
            pc.divide(grouped["us_sum"].cast(pa.float64()), float(US_PER_MINUTE)),
            pc.divide(grouped["us_max"].cast(pa.float64()), float(US_PER_MINUTE)),
            grouped["start_min"].cast(pa.timestamp("us")).cast(ts),
            grouped["end_max"].cast(pa.timestamp("us")).cast(ts),
        ],
        schema=SUMMARY,
    )
    return summary.sort_by([("case_id", "ascending"), ("person_id", "ascending")])


@pytest.mark.parametrize(("seed", "rows"), [(1, 0), (2, 1), (3, 7), (4, 200), (5, 3_000)])
def test_finish_sorted_equals_finish_and_the_hash_summary(seed: int, rows: int) -> None:
    pairs = random_pairs(seed, rows)
    plain = finish(pairs=pairs, cases_without_data=[9, 8, 9])
    fast = finish_sorted(pairs=sorted_pairs(pairs), cases_without_data=[9, 8, 9])
    assert fast.exposures.equals(plain.exposures)
    assert fast.summary.equals(plain.summary)
    assert plain.summary.equals(hash_summary(plain.exposures))
    assert fast.cases_without_data == plain.cases_without_data == (8, 9)


def test_the_cells_of_a_few_cases_skip_the_other_row_groups(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stays are sorted by cell and the cell list is a constant IN filter: DuckDB reads only the
    row groups whose statistics hold a case's cell (checked in EXPLAIN ANALYZE)."""
    monkeypatch.setattr(duckdb_backend, "ROW_GROUP_ROWS", 2048)
    people, cells = 10_000, 40
    pings = [
        ping(person, at(2, 8) + timedelta(minutes=10 * k), ix=person % cells)
        for person in range(1, people + 1)
        for k in range(2)
    ]
    out = tmp_path / "stays.parquet"
    backend = DuckDBBackend(threads=1)
    backend.stays(pings=write_pings(tmp_path, pings), out=out, params=PARAMS)
    groups = pq.ParquetFile(out).metadata.num_row_groups
    assert groups >= 4

    result = backend.match(
        stays=out,
        checkins=write_checkins(tmp_path, []),
        cases=[1],
        start=at(2, 0),
        end=at(3, 0),
        params=PARAMS,
    )
    assert result.exposures.num_rows == people // cells - 1  # everyone else in cell 1, 10 min each
    assert set(result.exposures["minutes"].to_pylist()) == {10.0}

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    s, e = check_range(start=at(2, 0), end=at(3, 0))
    values = {
        "s": s,
        "e": e,
        "start_ts": at(2, 0),
        "end_ts": at(3, 0),
        "stays": str(out),
        "min_costay": 1,
        "bucket": duckdb_backend.BUCKET_US,
        "long": duckdb_backend.LONG,
    }
    con.execute("CREATE TEMP TABLE cases AS SELECT 1::BIGINT AS case_id")
    duckdb_backend._run(con, duckdb_backend.CASE_STAYS_SQL, values)
    cell = con.execute("SELECT DISTINCT cell FROM case_stays").fetchall()
    assert len(cell) == 1
    sql = duckdb_backend.CELL_PAIRS_SQL.format(cells=int(cell[0][0]))
    plan = "\n".join(
        str(row[-1])
        for row in con.execute("EXPLAIN ANALYZE " + sql, duckdb_backend._used(sql, values)).fetchall()
    )
    scans = [(int(a), int(b)) for a, b in re.findall(r"Row Groups Scanned:\s*(\d+)\s*/\s*(\d+)", plan)]
    assert scans, "this DuckDB does not report the row groups it scanned: check the skipping another way"
    parquet = [read for read, total in scans if total == groups]
    assert parquet and parquet[0] <= 2, plan  # cell 1's stays are in the first row group or two


@pytest.mark.parametrize("bucket_minutes", [7, 45, 180, 12 * 60])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_time_buckets_find_exactly_the_reference_pairs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int, bucket_minutes: int
) -> None:
    """Stays from minutes to a day and a half, over three days, in three cells."""
    monkeypatch.setattr(duckdb_backend, "BUCKET_US", bucket_minutes * 60_000_000)
    rng = random.Random(seed)
    pings = []
    for person in range(1, 9):
        moment, cell = at(1, rng.randrange(0, 24)), rng.randrange(3)
        while moment < at(4, 0):
            pings.append(ping(person, moment, cell))
            moment += timedelta(minutes=rng.choice([5, 10, 20, 25, 29, 31, 40]))
            if rng.random() < 0.08:
                cell = rng.randrange(3)
    pings_dir = write_pings(tmp_path, pings)
    checkins_dir = write_checkins(tmp_path, [])
    start, end = at(1, rng.randrange(0, 24)), at(3, rng.randrange(0, 24))
    results = []
    for name, backend in (("duckdb", DuckDBBackend(threads=1)), ("reference", ReferenceBackend())):
        out = tmp_path / f"stays-{name}.parquet"
        backend.stays(pings=pings_dir, out=out, params=PARAMS)
        results.append(
            backend.match(stays=out, checkins=checkins_dir, cases=[1, 2], start=start, end=end, params=PARAMS)
        )
    duck, reference = results
    assert reference.exposures.num_rows > 0
    assert duck.exposures.equals(reference.exposures)
    assert duck.summary.equals(reference.summary)
