"""DuckDB backend (the default): embedded SQL over the Parquet datasets, no server.

Stays are one window query streamed by ``COPY ... TO`` (DuckDB spills to disk past its memory
limit). Matching reads the case stays first (one pass over ``person_id``), then only the cells
they touched: the stays file is sorted by cell, so the ``cell IN (...)`` filter skips every row
group whose min/max statistics miss those cells — cost grows with the cases' footprint, not with
the population. Timestamps are compared as microsecond integers, like the reference.
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
    local_midnights_us,
)
from fangkong.engine.rules import ColocationParams
from fangkong.engine.schema import CHECKINS, PINGS, STAYS, check_dataset
from fangkong.engine.stays import ROW_GROUP_ROWS, StaysSummary, gap_limit_us

__all__ = ["DuckDBBackend"]

# isfinite() and not isnan(): DuckDB 2.0 folds isnan()/BETWEEN to constants from Parquet min/max
# statistics, which leave NaN out, so a NaN coordinate would pass (caught by the tests).
STAYS_SQL = """
WITH located AS (
    SELECT person_id, ts,
           (TRY_CAST(floor((lon - $lon0) * $kx) AS BIGINT) + $offset) * $shift
         + (TRY_CAST(floor((lat - $lat0) * $ky) AS BIGINT) + $offset) AS cell
    FROM read_parquet($files)
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

CASE_STAYS_SQL = """
CREATE TEMP TABLE case_stays AS
SELECT person_id AS case_id, cell,
       greatest(epoch_us("start"), $s) AS a0, least(epoch_us("end"), $e) AS a1
FROM read_parquet($stays)
WHERE person_id IN (SELECT case_id FROM cases) AND "start" <= $end_ts AND "end" >= $start_ts
"""

CELL_PAIRS_SQL = """
SELECT o.person_id, c.case_id, 'cell' AS where_kind, c.cell AS where_id,
       greatest(c.a0, epoch_us(o."start")) AS os, least(c.a1, epoch_us(o."end")) AS oe
FROM case_stays c
JOIN (SELECT person_id, cell, "start", "end" FROM read_parquet($stays)
      WHERE cell IN (SELECT UNNEST($cells)) AND "start" < $end_ts AND "end" > $start_ts) o
  ON o.cell = c.cell AND epoch_us(o."start") < c.a1 AND epoch_us(o."end") > c.a0
WHERE o.person_id <> c.case_id
  AND least(c.a1, epoch_us(o."end")) - greatest(c.a0, epoch_us(o."start")) >= $min_costay
"""

VISITS_SQL = """
CREATE TEMP TABLE visits AS
WITH raw AS (
    SELECT person_id, venue_id, epoch_us(check_in) AS i0, epoch_us(check_out) AS o
    FROM read_parquet($files)
    WHERE check_in <= $end_ts
      AND (greatest(check_out, check_in) >= $start_ts OR (check_out IS NULL AND check_in >= $open_from_ts))
)
SELECT raw.person_id, raw.venue_id, raw.i0,
       CASE WHEN raw.o IS NULL THEN least(raw.i0 + $dwell, m.midnight)
            ELSE greatest(raw.o, raw.i0) END AS i1
FROM raw ASOF LEFT JOIN midnights m ON raw.i0 < m.midnight
"""

VENUE_PAIRS_SQL = """
WITH case_visits AS (
    SELECT person_id AS case_id, venue_id, greatest(i0, $s) AS a0, least(i1, $e) AS a1
    FROM visits
    WHERE person_id IN (SELECT case_id FROM cases) AND i0 <= $e AND i1 >= $s
)
SELECT v.person_id, c.case_id, 'venue' AS where_kind, c.venue_id AS where_id,
       greatest(c.a0, v.i0) AS os, least(c.a1, v.i1) AS oe
FROM case_visits c JOIN visits v ON v.venue_id = c.venue_id AND v.i0 < c.a1 AND v.i1 > c.a0
WHERE v.person_id <> c.case_id AND least(c.a1, v.i1) > greatest(c.a0, v.i0)
"""


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
                f"(FORMAT parquet, ROW_GROUP_SIZE {ROW_GROUP_ROWS}, COMPRESSION zstd)",
                values,
            )
            written = con.execute(
                "SELECT count(*), coalesce(sum(pings), 0), count(DISTINCT person_id) FROM read_parquet($out)",
                {"out": str(out)},
            ).fetchone()
            unusable = con.execute(
                """
                SELECT count(*) FROM read_parquet($files)
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
        """Exposures of ``cases`` in ``[start, end]`` (rules in ``engine.matching``)."""
        s, e = check_range(start=start, end=end)
        check_dataset(path=stays, expected=STAYS, what="stays")
        checkin_files = check_dataset(path=checkins, expected=CHECKINS, what="check-ins")
        case_ids = sorted(set(cases))
        rng = {"s": s, "e": e, "start_ts": start, "end_ts": end}
        with self._connect() as con:
            con.execute(
                "CREATE TEMP TABLE cases AS SELECT UNNEST($ids::BIGINT[]) AS case_id",
                {"ids": case_ids},
            )
            _run(con, CASE_STAYS_SQL, {**rng, "stays": str(stays)})
            cells = [r[0] for r in con.execute("SELECT DISTINCT cell FROM case_stays").fetchall()]
            cell_pairs = _arrow(
                con,
                CELL_PAIRS_SQL,
                {
                    **rng,
                    "stays": str(stays),
                    "cells": cells,
                    "min_costay": max(1, round(params.min_costay_minutes * 60_000_000)),
                },
            )
            with_data = {r[0] for r in con.execute("SELECT DISTINCT case_id FROM case_stays").fetchall()}
            venue_pairs = _venue_pairs(con, files=checkin_files, start=start, end=end, params=params)
            if venue_pairs is not None:
                with_data |= {
                    r[0]
                    for r in con.execute(
                        "SELECT DISTINCT person_id FROM visits WHERE person_id IN "
                        "(SELECT case_id FROM cases) AND i0 <= $e AND i1 >= $s",
                        {"s": s, "e": e},
                    ).fetchall()
                }
        tables: list[pa.Table] = [cell_pairs]
        if venue_pairs is not None:
            tables.append(venue_pairs.cast(cell_pairs.schema))
        pairs = pa.concat_tables(tables)
        return finish(
            pairs=RawPairs(
                person_id=pairs["person_id"].combine_chunks(),
                case_id=pairs["case_id"].combine_chunks(),
                where_kind=pairs["where_kind"].combine_chunks(),
                where_id=pairs["where_id"].combine_chunks(),
                overlap_start_us=pairs["os"].combine_chunks(),
                overlap_end_us=pairs["oe"].combine_chunks(),
            ),
            cases_without_data=sorted(set(case_ids) - with_data),
        )


def _venue_pairs(
    con: duckdb.DuckDBPyConnection,
    *,
    files: Sequence[Path],
    start: datetime,
    end: datetime,
    params: ColocationParams,
) -> pa.Table | None:
    """Venue exposure pairs (leaves the ``visits`` table behind), or None without check-ins."""
    if not files:
        return None
    s, e = check_range(start=start, end=end)
    con.execute(
        "CREATE TEMP TABLE midnights AS SELECT UNNEST($m::BIGINT[]) AS midnight",
        {"m": local_midnights_us(start_us=s, end_us=e, timezone=params.timezone)},
    )
    _run(
        con,
        VISITS_SQL,
        {
            "files": [str(f) for f in files],
            "start_ts": start,
            "end_ts": end,
            # An open check-in ends by the next midnight: one from 2 days before cannot reach.
            "open_from_ts": start - timedelta(days=2),
            "dwell": round(params.venue_default_dwell_minutes * 60_000_000),
        },
    )
    return _arrow(con, VENUE_PAIRS_SQL, {"s": s, "e": e})


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
