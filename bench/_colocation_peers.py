"""Helpers of bench/colocation.py: peak memory, the result fingerprint, and the peers.

Every peer implements the engine's rule (``engine.stays`` and ``engine.matching``) the obvious
whole-population way, from the raw pings and check-ins, so that its counts can be compared
exactly with the fangkong backend's:

- pings → 800 m cells (the same floating-point operations as ``engine.cells``) → stays: a new
  stay at a person's first ping, at a change of cell and after a gap longer than 30 min;
- cell exposure: a case's stay and another person's stay in the same cell overlapping (clipped
  to the range) for a positive time of at least 10 min; one row per pair of stays;
- venue exposure: a case's visit and another person's visit at the same venue overlapping for a
  positive time; an open check-out closes after 60 min, never past the next local midnight.

The fingerprint of a result is what the bench compares: exposure rows (cell and venue), distinct
(person, case) pairs, the sum of all overlaps in microseconds and the cases without data.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PAGE = os.sysconf("SC_PAGE_SIZE")


# --- memory ------------------------------------------------------------------------------


def _tree(pid: int) -> list[int]:
    """A process and all its descendants (a Spark JVM, a peer), from /proc."""
    found: list[int] = []
    todo = [pid]
    while todo:
        current = todo.pop()
        if current in found:
            continue
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children", encoding="ascii") as children:
                    todo.extend(int(c) for c in children.read().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return found


def rss_bytes(pid: int) -> int:
    """Resident memory of a process and all its descendants."""
    total = 0
    for member in _tree(pid):
        try:
            with open(f"/proc/{member}/statm", encoding="ascii") as statm:
                total += int(statm.read().split()[1]) * PAGE
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def available_bytes() -> int:
    """MemAvailable of the machine (others share it)."""
    with open("/proc/meminfo", encoding="ascii") as meminfo:
        for line in meminfo:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 0


class PeakMemory:
    """Samples the resident memory of this process tree every ``interval`` seconds in a thread.

    DuckDB, Arrow and the JVM allocate outside Python's allocator (tracemalloc would miss them),
    so the resident set is what counts. ``peak`` is the highest sample above the first one.
    """

    def __init__(self, *, pid: int | None = None, interval: float = 0.01) -> None:
        self.pid = pid or os.getpid()
        self.interval = interval
        self.base = 0
        self.highest = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.highest = max(self.highest, rss_bytes(self.pid))
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakMemory:
        self.base = self.highest = rss_bytes(self.pid)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.highest = max(self.highest, rss_bytes(self.pid))

    @property
    def peak(self) -> int:
        """Bytes above the resident memory at the start."""
        return max(0, self.highest - self.base)


@dataclass
class Timed:
    """One timed step: wall seconds, CPU seconds of the process tree, peak bytes above the start."""

    seconds: float
    cpu: float
    peak: int
    value: Any


def cpu_seconds() -> float:
    """CPU time (user + system, all threads) of this process and its live descendants, such as
    the Spark JVM, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for member in _tree(os.getpid()):
        try:
            with open(f"/proc/{member}/stat", encoding="ascii") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total / ticks


def timed(step: Callable[[], Any]) -> Timed:
    """Run ``step`` and measure it."""
    with PeakMemory() as memory:
        cpu = cpu_seconds()
        began = time.perf_counter()
        value = step()
        seconds = time.perf_counter() - began
        cpu = cpu_seconds() - cpu
    return Timed(seconds=seconds, cpu=cpu, peak=memory.peak, value=value)


# --- fingerprints --------------------------------------------------------------------------


def fingerprint_of(result: Any, cases: Sequence[int]) -> dict[str, int]:
    """The counts of a ``MatchResult`` that every peer must reproduce."""
    import pyarrow as pa
    import pyarrow.compute as pc

    exposures = result.exposures
    start = exposures["overlap_start"].cast(pa.timestamp("us")).cast(pa.int64())
    end = exposures["overlap_end"].cast(pa.timestamp("us")).cast(pa.int64())
    overlap = pc.sum(pc.subtract(end, start)).as_py() or 0
    cell_rows = pc.sum(pc.cast(pc.equal(exposures["where_kind"], "cell"), pa.int64())).as_py() or 0
    return {
        "rows": exposures.num_rows,
        "pairs": result.summary.num_rows,
        "cell_rows": int(cell_rows),
        "venue_rows": exposures.num_rows - int(cell_rows),
        "overlap_us": int(overlap),
        "cases_without_data": len(result.cases_without_data),
        "cases": len(set(cases)),
    }


# --- peer: naive pandas --------------------------------------------------------------------


def pandas_peer(
    *, dataset: Path, cases: Sequence[int], start_us: int, end_us: int, params: Any
) -> dict[str, int]:
    """The rule in plain pandas, the obvious whole-population way: every ping of the city in one
    DataFrame (person, time, cell), sorted, cut into stays with ``shift``/``cumsum``, grouped;
    then the cases' stays merged with everyone's stays on the cell, and the overlaps filtered.

    (Duplicate pings are not dropped first: a duplicate is the same cell at no gap, which never
    starts a stay, so the stays' cells and times are the same.)
    """
    import numpy as np
    import pandas as pd
    import pyarrow.parquet as pq

    from fangkong.engine.cells import CellGrid
    from fangkong.engine.stays import gap_limit_us

    grid = CellGrid.from_params(params)
    gap = gap_limit_us(max_gap_minutes=params.max_gap_minutes)
    minimum = round(params.min_costay_minutes * 60_000_000)
    dwell = round(params.venue_default_dwell_minutes * 60_000_000)
    case_set = sorted(set(cases))

    # One column at a time (pd.read_parquet of all four at once, then a filtered copy, went past
    # 18 GB on 144 M pings before the sort had started).
    def column(name: str) -> np.ndarray:
        values: np.ndarray = pq.read_table(dataset / "pings", columns=[name])[name].to_numpy()
        return values

    lon, lat = column("lon"), column("lat")
    usable = (lon >= -180) & (lon <= 180) & (lat >= -90) & (lat <= 90)  # NaN compares False
    ix = np.floor((lon[usable] - grid.lon0) * grid.kx).astype(np.int64)
    iy = np.floor((lat[usable] - grid.lat0) * grid.ky).astype(np.int64)
    del lon, lat
    pings = pd.DataFrame(
        {
            "person_id": column("person_id")[usable],
            "ts": column("ts").astype("datetime64[us]").astype(np.int64)[usable],
            "cell": (ix + grid.offset) * grid.shift + (iy + grid.offset),
        }
    )
    del ix, iy, usable
    pings = pings.sort_values(["person_id", "ts", "cell"], ignore_index=True)
    new_stay = (
        pings["person_id"].ne(pings["person_id"].shift())
        | pings["cell"].ne(pings["cell"].shift())
        | pings["ts"].diff().gt(gap)
    )
    pings["stay"] = new_stay.cumsum()
    del new_stay
    stays = pings.groupby("stay", sort=False).agg(
        person_id=("person_id", "first"),
        cell=("cell", "first"),
        start=("ts", "min"),
        end=("ts", "max"),
    )
    del pings

    case_stays = stays[
        stays["person_id"].isin(case_set) & (stays["start"] <= end_us) & (stays["end"] >= start_us)
    ]
    case_stays = pd.DataFrame(
        {
            "case_id": case_stays["person_id"],
            "cell": case_stays["cell"],
            "a0": case_stays["start"].clip(lower=start_us),
            "a1": case_stays["end"].clip(upper=end_us),
        }
    )
    met = case_stays.merge(stays, on="cell")
    overlap = np.minimum(met["a1"], met["end"]) - np.maximum(met["a0"], met["start"])
    keep = (met["person_id"] != met["case_id"]) & (overlap > 0) & (overlap >= minimum)
    cell_found = pd.DataFrame(
        {"person_id": met["person_id"][keep], "case_id": met["case_id"][keep], "us": overlap[keep]}
    )
    del met, overlap, keep

    checkins = pd.read_parquet(
        dataset / "checkins", columns=["person_id", "venue_id", "check_in", "check_out"]
    )
    local = checkins["check_in"].dt.tz_convert(params.timezone).dt.tz_localize(None)
    midnight = (local.dt.normalize() + pd.Timedelta(days=1)).dt.tz_localize(params.timezone).dt.as_unit("us")
    i0 = checkins["check_in"].dt.as_unit("us").astype("int64")
    closed = checkins["check_out"].fillna(checkins["check_in"]).dt.as_unit("us").astype("int64")
    i1 = np.where(
        checkins["check_out"].isna(),
        np.minimum(i0 + dwell, midnight.astype("int64")),
        np.maximum(closed, i0),
    )
    visits = pd.DataFrame(
        {"person_id": checkins["person_id"], "venue_id": checkins["venue_id"], "i0": i0, "i1": i1}
    )
    case_visits = visits[
        visits["person_id"].isin(case_set) & (visits["i0"] <= end_us) & (visits["i1"] >= start_us)
    ]
    case_visits = pd.DataFrame(
        {
            "case_id": case_visits["person_id"],
            "venue_id": case_visits["venue_id"],
            "a0": case_visits["i0"].clip(lower=start_us),
            "a1": case_visits["i1"].clip(upper=end_us),
        }
    )
    met = case_visits.merge(visits, on="venue_id")
    overlap = np.minimum(met["a1"], met["i1"]) - np.maximum(met["a0"], met["i0"])
    keep = (met["person_id"] != met["case_id"]) & (overlap > 0)
    venue_found = pd.DataFrame(
        {"person_id": met["person_id"][keep], "case_id": met["case_id"][keep], "us": overlap[keep]}
    )

    found = pd.concat([cell_found, venue_found], ignore_index=True)
    with_data = set(case_stays["case_id"]) | set(case_visits["case_id"])
    return {
        "rows": len(found),
        "pairs": len(found[["person_id", "case_id"]].drop_duplicates()),
        "cell_rows": len(cell_found),
        "venue_rows": len(venue_found),
        "overlap_us": int(found["us"].sum()),
        "cases_without_data": len(set(case_set) - with_data),
        "cases": len(case_set),
    }


# --- peer: plain DuckDB SQL ----------------------------------------------------------------

PLAIN_SQL = """
WITH pings AS (
    SELECT person_id, epoch_us(ts) AS t,
           (CAST(floor((lon - $lon0) * $kx) AS BIGINT) + $offset) * $shift
         + (CAST(floor((lat - $lat0) * $ky) AS BIGINT) + $offset) AS cell
    FROM read_parquet($pings)
    WHERE lon BETWEEN -180 AND 180 AND lat BETWEEN -90 AND 90 AND isfinite(lon) AND isfinite(lat)
),
marked AS (
    SELECT person_id, t, cell,
           CASE WHEN lag(cell) OVER w IS DISTINCT FROM cell OR t - lag(t) OVER w > $gap
                THEN 1 ELSE 0 END AS new_stay
    FROM pings WINDOW w AS (PARTITION BY person_id ORDER BY t, cell)
),
numbered AS (
    SELECT person_id, t, cell,
           sum(new_stay) OVER (PARTITION BY person_id ORDER BY t, cell ROWS UNBOUNDED PRECEDING) AS stay
    FROM marked
),
stays AS (
    SELECT person_id, cell, min(t) AS t0, max(t) AS t1 FROM numbered GROUP BY person_id, stay, cell
),
case_stays AS (
    SELECT person_id AS case_id, cell, greatest(t0, $s) AS a0, least(t1, $e) AS a1
    FROM stays WHERE list_contains($cases, person_id) AND t0 <= $e AND t1 >= $s
),
cell_found AS (
    SELECT o.person_id, c.case_id, 'cell' AS kind, least(c.a1, o.t1) - greatest(c.a0, o.t0) AS us
    FROM case_stays c JOIN stays o ON o.cell = c.cell
    WHERE o.person_id <> c.case_id
      AND least(c.a1, o.t1) - greatest(c.a0, o.t0) > 0
      AND least(c.a1, o.t1) - greatest(c.a0, o.t0) >= $minimum
),
visits AS (
    SELECT person_id, venue_id, epoch_us(check_in) AS i0,
           CASE WHEN check_out IS NULL
                THEN least(epoch_us(check_in) + $dwell,
                           epoch_us(timezone($tz, date_trunc('day', timezone($tz, check_in)) + INTERVAL 1 DAY)))
                ELSE greatest(epoch_us(check_out), epoch_us(check_in)) END AS i1
    FROM read_parquet($checkins)
),
case_visits AS (
    SELECT person_id AS case_id, venue_id, greatest(i0, $s) AS a0, least(i1, $e) AS a1
    FROM visits WHERE list_contains($cases, person_id) AND i0 <= $e AND i1 >= $s
),
venue_found AS (
    SELECT v.person_id, c.case_id, 'venue' AS kind, least(c.a1, v.i1) - greatest(c.a0, v.i0) AS us
    FROM case_visits c JOIN visits v ON v.venue_id = c.venue_id
    WHERE v.person_id <> c.case_id AND least(c.a1, v.i1) > greatest(c.a0, v.i0)
),
found AS (SELECT * FROM cell_found UNION ALL SELECT * FROM venue_found)
SELECT count(*), count(DISTINCT (person_id, case_id)),
       count(*) FILTER (WHERE kind = 'cell'), count(*) FILTER (WHERE kind = 'venue'),
       coalesce(sum(us), 0),
       (SELECT count(DISTINCT case_id) FROM (SELECT case_id FROM case_stays
                                             UNION ALL SELECT case_id FROM case_visits))
FROM found
"""


def sql_peer(
    *,
    dataset: Path,
    cases: Sequence[int],
    start_us: int,
    end_us: int,
    params: Any,
    threads: int,
    memory_limit: str,
    temp_directory: Path,
) -> dict[str, int]:
    """The rule as one plain DuckDB query over the raw pings and check-ins: stays by window
    functions for the whole population, then the self-join of those stays on the cell (no
    stays file, no pruning, no pushdown written by hand)."""
    import duckdb

    from fangkong.engine.cells import CellGrid
    from fangkong.engine.stays import gap_limit_us

    grid = CellGrid.from_params(params)
    case_set = sorted(set(cases))
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET threads = {int(threads)}")
    con.execute("SET memory_limit = $m", {"m": memory_limit})
    con.execute("SET temp_directory = $d", {"d": str(temp_directory)})
    row = con.execute(
        PLAIN_SQL,
        {
            "pings": str(dataset / "pings" / "**" / "*.parquet"),
            "checkins": str(dataset / "checkins" / "**" / "*.parquet"),
            "lon0": grid.lon0,
            "lat0": grid.lat0,
            "kx": grid.kx,
            "ky": grid.ky,
            "offset": grid.offset,
            "shift": grid.shift,
            "gap": gap_limit_us(max_gap_minutes=params.max_gap_minutes),
            "minimum": round(params.min_costay_minutes * 60_000_000),
            "dwell": round(params.venue_default_dwell_minutes * 60_000_000),
            "tz": params.timezone,
            "s": start_us,
            "e": end_us,
            "cases": case_set,
        },
    ).fetchone()
    con.close()
    assert row is not None
    rows, pairs, cell_rows, venue_rows, overlap, with_data = (int(v) for v in row)
    return {
        "rows": rows,
        "pairs": pairs,
        "cell_rows": cell_rows,
        "venue_rows": venue_rows,
        "overlap_us": overlap,
        "cases_without_data": len(case_set) - with_data,
        "cases": len(case_set),
    }
