"""DuckDB backend (the default): embedded SQL over the Parquet datasets, no server.

Stays are one window query streamed by ``COPY ... TO`` (DuckDB spills to disk past its memory
limit). Matching reads the case stays first (one pass over ``person_id``), then only the cells
they touched: the stays file is sorted by cell, so the ``cell IN (...)`` filter skips every row
group whose min/max statistics miss those cells — cost grows with the cases' footprint, not with
the population. The join of those stays with the cases' is keyed by (cell, time bucket): a stay
meets only the case stays of its cell near it in time, not those of every day of the range
(see ``CELL_PAIRS_SQL``). Timestamps
are compared as microsecond integers, like the reference. DuckDB also sorts the exposures
(``matching.EXPOSURE_ORDER``); ``matching.finish_sorted`` then adds the minutes and the summary
in one pass over the sorted rows, as for every backend.
"""

from __future__ import annotations

import re
import time as clock
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from fangkong.engine.cells import CellGrid
from fangkong.engine.matching import (
    MatchResult,
    RawPairs,
    check_range,
    finish,
    finish_sorted,
    local_midnights_us,
)
from fangkong.engine.rules import ColocationParams
from fangkong.engine.schema import CHECKINS, PINGS, STAYS, check_dataset, nulls_possible
from fangkong.engine.stays import ROW_GROUP_ROWS, StaysSummary, gap_limit_us

__all__ = ["DuckDBBackend"]

# Every read_parquet says hive_partitioning = false: by default DuckDB turns any key=value folder
# of a path into a column, and one of a column's name replaces it (a folder lat=0 above the pings
# put every ping on the equator).
# isfinite() and not isnan(): DuckDB 2.0 folds isnan()/BETWEEN to constants from Parquet min/max
# statistics, which leave NaN out, so a NaN coordinate would pass (caught by the tests).
STAYS_SQL = """
WITH located AS (
    SELECT person_id, ts,
           (TRY_CAST(floor((lon - $lon0) * $kx) AS BIGINT) + $offset) * $shift
         + (TRY_CAST(floor((lat - $lat0) * $ky) AS BIGINT) + $offset) AS cell
    FROM read_parquet($files, hive_partitioning = false)
    WHERE lon BETWEEN -180 AND 180 AND lat BETWEEN -90 AND 90 AND isfinite(lon) AND isfinite(lat)
      AND person_id IS NOT NULL AND ts IS NOT NULL
),
pings AS (SELECT DISTINCT person_id, ts, cell FROM located),
marked AS (
    SELECT person_id, ts, cell,
           CASE WHEN lag(cell) OVER w IS DISTINCT FROM cell
                  OR epoch_us(ts) - epoch_us(lag(ts) OVER w) > $gap THEN 1 ELSE 0 END AS new_stay
    FROM pings
    WINDOW w AS (PARTITION BY person_id ORDER BY ts, cell)
),
numbered AS (
    SELECT person_id, ts, cell,
           sum(new_stay) OVER (PARTITION BY person_id ORDER BY ts, cell
                               ROWS UNBOUNDED PRECEDING) AS stay_no
    FROM marked
)
SELECT person_id, cell, min(ts) AS "start", max(ts) AS "end", count(*) AS pings
FROM numbered
GROUP BY person_id, stay_no, cell
ORDER BY cell, "start", person_id
"""

# How the stays file is encoded: Parquet 2 encodings (delta for the ids and the timestamps, which
# are sorted within a cell) and Snappy. Matching decodes most of the file for a hundred cases:
# on 1 M people x 1 day, a 100-case match took 1.4-1.6 CPU s on this file against 2.4-2.8 s on
# zstd with plain encodings, and the file is slightly smaller (120 MB instead of 124 MB). See
# docs/performance.md, "Co-location discovery".
STAYS_PARQUET = "COMPRESSION snappy, PARQUET_VERSION V2"

# Matching. The cases are a temporary table: the semi-join pushes a Bloom filter of their ids into
# the scan of person_id (cheaper than a long IN list evaluated row by row). The cells and venues
# are written into the SQL as integer literals (formatted by int(), never user text): a constant
# IN list is pushed down into the Parquet scan, where row groups whose min/max statistics miss
# every listed cell are skipped; a subquery or a parameter list is not.
CASE_STAYS_SQL = """
CREATE TEMP TABLE case_stays AS
SELECT person_id AS case_id, cell,
       greatest(epoch_us("start"), $s) AS a0, least(epoch_us("end"), $e) AS a1
FROM read_parquet($stays, hive_partitioning = false)
WHERE person_id IN (SELECT case_id FROM cases) AND "start" <= $end_ts AND "end" >= $start_ts
"""

# Cell pairs: a hash join on the cell alone would compare every stay in a cell with every case
# stay there, of all the days of the range (14 days: 14 times the work of one). The join key is
# (cell, time bucket) instead, exactly: a stay no longer than a bucket is keyed by the bucket of
# its start, and a case stay is repeated for every bucket from one bucket before its start to
# its end, where every such stay that overlaps it starts (one key each side, so one match); a
# stay longer than a bucket, rare, is keyed LONG and meets every case stay of its cell once.
BUCKET_US = 12 * 3_600_000_000
LONG = -(2**62)  # never a bucket number: buckets of any int64 timestamp are within +-2**45

CELL_PAIRS_SQL = """
WITH c AS (
    SELECT case_id, cell, a0, a1, UNNEST(range((a0 - $bucket) // $bucket, a1 // $bucket + 1)) AS b
    FROM case_stays
    UNION ALL
    SELECT case_id, cell, a0, a1, $long AS b FROM case_stays
),
o AS (
    SELECT person_id, cell, epoch_us("start") AS o0, epoch_us("end") AS o1
    FROM read_parquet($stays, hive_partitioning = false)
    WHERE cell IN ({cells}) AND "start" < $end_ts AND "end" > $start_ts
)
SELECT o.person_id, c.case_id, 0::UTINYINT AS kind, c.cell AS where_id,
       greatest(c.a0, o.o0) AS os, least(c.a1, o.o1) AS oe
FROM c JOIN o
  ON o.cell = c.cell AND c.b = CASE WHEN o.o1 - o.o0 > $bucket THEN $long ELSE o.o0 // $bucket END
WHERE o.o0 < c.a1 AND o.o1 > c.a0 AND o.person_id <> c.case_id
  AND least(c.a1, o.o1) - greatest(c.a0, o.o0) >= $min_costay
"""

# Visits: the cases' check-ins first, then everyone's only at the venues the cases visited. An
# open check-in from two days before the range cannot reach it (it ends by the next midnight).
# A check-in with a null person, venue or check-in is no visit (counted by UNUSABLE_CHECKINS_SQL).
CASE_VISITS_SQL = """
CREATE TEMP TABLE case_visits AS
WITH raw AS (
    SELECT person_id, venue_id, epoch_us(check_in) AS i0, epoch_us(check_out) AS o
    FROM read_parquet($files, hive_partitioning = false)
    WHERE person_id IN ({cases}) AND venue_id IS NOT NULL AND check_in <= $end_ts
      AND (greatest(check_out, check_in) >= $start_ts OR (check_out IS NULL AND check_in >= $open_from_ts))
),
visits AS (
    SELECT raw.person_id, raw.venue_id, raw.i0,
           CASE WHEN raw.o IS NULL THEN least(raw.i0 + $dwell, m.midnight)
                ELSE greatest(raw.o, raw.i0) END AS i1
    FROM raw ASOF LEFT JOIN midnights m ON raw.i0 < m.midnight
)
SELECT person_id AS case_id, venue_id, greatest(i0, $s) AS a0, least(i1, $e) AS a1
FROM visits WHERE i0 <= $e AND i1 >= $s
"""

VENUE_PAIRS_SQL = """
SELECT v.person_id, c.case_id, 1::UTINYINT AS kind, c.venue_id AS where_id,
       greatest(c.a0, v.i0) AS os, least(c.a1, v.i1) AS oe
FROM case_visits c
JOIN (
    SELECT raw.person_id, raw.venue_id, raw.i0,
           CASE WHEN raw.o IS NULL THEN least(raw.i0 + $dwell, m.midnight)
                ELSE greatest(raw.o, raw.i0) END AS i1
    FROM (
        SELECT person_id, venue_id, epoch_us(check_in) AS i0, epoch_us(check_out) AS o
        FROM read_parquet($files, hive_partitioning = false)
        WHERE venue_id IN ({venues}) AND person_id IS NOT NULL AND check_in <= $end_ts
          AND (greatest(check_out, check_in) >= $start_ts
               OR (check_out IS NULL AND check_in >= $open_from_ts))
    ) raw ASOF LEFT JOIN midnights m ON raw.i0 < m.midnight
) v ON v.venue_id = c.venue_id AND v.i0 < c.a1 AND v.i1 > c.a0
WHERE v.person_id <> c.case_id AND least(c.a1, v.i1) > greatest(c.a0, v.i0)
"""

UNUSABLE_CHECKINS_SQL = """
SELECT count(*) FROM read_parquet($files, hive_partitioning = false)
WHERE person_id IS NULL OR venue_id IS NULL OR check_in IS NULL
"""

# The pairs in matching.EXPOSURE_ORDER, sorted here rather than in Arrow: kind 0 is 'cell' and
# 1 is 'venue', which sort the same way as the strings.
ORDER_SQL = """
SELECT person_id, case_id, kind, where_id, os, oe
FROM ({pairs})
ORDER BY case_id, person_id, kind, where_id, os, oe
"""

KINDS = pa.array(["cell", "venue"], pa.string())


class DuckDBBackend:
    """The :class:`~fangkong.engine.matching.Backend` on an in-process DuckDB connection.

    ``threads`` and ``memory_limit`` bound what one run may take (None: DuckDB's defaults);
    ``temp_directory`` is where it spills.
    """

    def __init__(
        self,
        *,
        threads: int | None = None,
        memory_limit: str | None = None,
        temp_directory: Path | None = None,
    ) -> None:
        self.threads = threads
        self.memory_limit = memory_limit
        self.temp_directory = temp_directory

    def _connect(self) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect(":memory:")
        con.execute("SET TimeZone = 'UTC'")
        if self.threads is not None:
            con.execute(f"SET threads = {int(self.threads)}")
        if self.memory_limit is not None:
            con.execute("SET memory_limit = $limit", {"limit": self.memory_limit})
        if self.temp_directory is not None:
            con.execute("SET temp_directory = $dir", {"dir": str(self.temp_directory)})
        return con

    def stays(self, *, pings: Path, out: Path, params: ColocationParams) -> StaysSummary:
        """Pings to stays (rule in ``engine.stays``), written to ``out`` sorted by cell."""
        began = clock.perf_counter()
        files = check_dataset(path=pings, expected=PINGS, what="pings")
        out.parent.mkdir(parents=True, exist_ok=True)
        if not files:
            pq.write_table(STAYS.empty_table(), out)
            return StaysSummary(out, 0, 0, 0, 0, clock.perf_counter() - began)
        grid = CellGrid.from_params(params)
        values: dict[str, object] = {
            "files": [str(f) for f in files],
            "lon0": grid.lon0,
            "lat0": grid.lat0,
            "kx": grid.kx,
            "ky": grid.ky,
            "offset": grid.offset,
            "shift": grid.shift,
            "gap": gap_limit_us(max_gap_minutes=params.max_gap_minutes),
        }
        with self._connect() as con:
            con.execute(
                f"COPY ({STAYS_SQL}) TO '{_quote(out)}' "
                f"(FORMAT parquet, ROW_GROUP_SIZE {ROW_GROUP_ROWS}, {STAYS_PARQUET})",
                values,
            )
            written = con.execute(
                "SELECT count(*), coalesce(sum(pings), 0), count(DISTINCT person_id) FROM read_parquet($out, hive_partitioning = false)",
                {"out": str(out)},
            ).fetchone()
            unusable = con.execute(
                """
                SELECT count(*) FROM read_parquet($files, hive_partitioning = false)
                WHERE lon IS NULL OR lat IS NULL OR person_id IS NULL OR ts IS NULL
                   OR NOT (lon BETWEEN -180 AND 180 AND lat BETWEEN -90 AND 90)
                   OR NOT isfinite(lon) OR NOT isfinite(lat)
                """,
                {"files": values["files"]},
            ).fetchone()
        assert written is not None and unusable is not None
        stays, used, people = (int(v) for v in written)
        dropped = int(unusable[0])
        return StaysSummary(out, used, dropped, stays, people, clock.perf_counter() - began)

    def match(
        self,
        *,
        stays: Path,
        checkins: Path,
        cases: Sequence[int],
        start: datetime,
        end: datetime,
        params: ColocationParams,
    ) -> MatchResult:
        """Exposures of ``cases`` in ``[start, end]`` (rules in ``engine.matching``).

        One connection: the cases' stays (one pass over ``person_id``), then the stays in the
        cells they touched (row groups skipped by their statistics) and the visits at the venues
        they checked in, joined and sorted in one query; only the sorted pairs cross into Arrow.
        """
        s, e = check_range(start=start, end=end)
        check_dataset(path=stays, expected=STAYS, what="stays")
        checkin_files = check_dataset(path=checkins, expected=CHECKINS, what="check-ins")
        case_ids = sorted({int(c) for c in cases})
        dropped = 0
        if nulls_possible(files=checkin_files, columns=["person_id", "venue_id", "check_in"]):
            with self._connect() as con:
                dropped = _column(con, UNUSABLE_CHECKINS_SQL, {"files": [str(f) for f in checkin_files]})[0]
        if not case_ids:
            return _empty_result(checkins_dropped=dropped)
        values: dict[str, object] = {
            "s": s,
            "e": e,
            "start_ts": start,
            "end_ts": end,
            "stays": str(stays),
            "files": [str(f) for f in checkin_files],
            "open_from_ts": start - timedelta(days=2),  # an open check-in ends by the next midnight
            "dwell": round(params.venue_default_dwell_minutes * 60_000_000),
            "min_costay": max(1, round(params.min_costay_minutes * 60_000_000)),
            "bucket": BUCKET_US,
            "long": LONG,
        }
        with self._connect() as con:
            con.execute(
                "CREATE TEMP TABLE cases AS SELECT UNNEST($ids::BIGINT[]) AS case_id", {"ids": case_ids}
            )
            _run(con, CASE_STAYS_SQL, values)
            parts: list[str] = []
            cells = _column(con, "SELECT DISTINCT cell FROM case_stays ORDER BY cell")
            if cells:
                parts.append(CELL_PAIRS_SQL.format(cells=_ints(cells)))
            with_data = set(_column(con, "SELECT DISTINCT case_id FROM case_stays"))
            if checkin_files:
                con.execute(
                    "CREATE TEMP TABLE midnights AS SELECT UNNEST($m::BIGINT[]) AS midnight",
                    {"m": local_midnights_us(start_us=s, end_us=e, timezone=params.timezone)},
                )
                _run(con, CASE_VISITS_SQL.format(cases=_ints(case_ids)), values)
                with_data |= set(_column(con, "SELECT DISTINCT case_id FROM case_visits"))
                venues = _column(con, "SELECT DISTINCT venue_id FROM case_visits ORDER BY venue_id")
                if venues:
                    parts.append(VENUE_PAIRS_SQL.format(venues=_ints(venues)))
            if not parts:
                return _empty_result(
                    cases_without_data=sorted(set(case_ids) - with_data), checkins_dropped=dropped
                )
            table = _arrow(con, ORDER_SQL.format(pairs="\nUNION ALL\n".join(parts)), values)
        return finish_sorted(
            pairs=RawPairs(
                person_id=_array(table["person_id"]),
                case_id=_array(table["case_id"]),
                where_kind=KINDS.take(_array(table["kind"])),
                where_id=_array(table["where_id"]),
                overlap_start_us=_array(table["os"]),
                overlap_end_us=_array(table["oe"]),
            ),
            cases_without_data=sorted(set(case_ids) - with_data),
            checkins_dropped=dropped,
        )


def _empty_result(*, cases_without_data: Sequence[int] = (), checkins_dropped: int = 0) -> MatchResult:
    """No exposure at all: the shared definition from ``matching.finish`` on no rows."""
    empty = pa.array([], pa.int64())
    return finish(
        pairs=RawPairs(empty, empty, pa.array([], pa.string()), empty, empty, empty),
        cases_without_data=cases_without_data,
        checkins_dropped=checkins_dropped,
    )


def _array(column: pa.ChunkedArray) -> pa.Array:
    """One column of a query result as a single array."""
    return column.combine_chunks()


def _ints(values: Sequence[int]) -> str:
    """Integers as a SQL list literal body (``int()`` makes sure nothing else gets in)."""
    return ", ".join(str(int(v)) for v in values)


def _column(con: duckdb.DuckDBPyConnection, sql: str, values: dict[str, object] | None = None) -> list[int]:
    """The first column of a query's rows, as Python integers."""
    return [int(row[0]) for row in con.execute(sql, values).fetchall()]


def _used(sql: str, values: dict[str, object]) -> dict[str, object]:
    """The named values that ``sql`` uses (DuckDB refuses extra ones)."""
    used = set(re.findall(r"\$([a-z_0-9]+)", sql))
    return {k: v for k, v in values.items() if k in used}


def _run(con: duckdb.DuckDBPyConnection, sql: str, values: dict[str, object]) -> None:
    """Execute a statement with its named values."""
    con.execute(sql, _used(sql, values))


def _arrow(con: duckdb.DuckDBPyConnection, sql: str, values: dict[str, object]) -> pa.Table:
    """Run a query with its named values and fetch the result as an Arrow table."""
    relation = con.sql(sql, params=_used(sql, values))
    assert relation is not None
    table: pa.Table = relation.to_arrow_table()
    return table


def _quote(path: Path) -> str:
    """A path as a SQL string literal body (COPY TO does not take a parameter)."""
    return str(path).replace("'", "''")
