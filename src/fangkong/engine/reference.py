"""Brute-force reference backend: the rules of ``engine.stays`` and ``engine.matching`` written
as plainly as possible in pure Python, for checking the real backends on small data.

It reads everything into Python lists and compares every pair of intervals: quadratic, fine for
a few thousand pings, useless beyond. Do not optimise it; its value is being obviously right.
"""

from __future__ import annotations

import time as clock
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from fangkong.engine.cells import CellGrid, cell_of
from fangkong.engine.matching import (
    Backend,
    MatchResult,
    RawPairs,
    check_range,
    finish,
    next_midnight_us,
)
from fangkong.engine.rules import ColocationParams
from fangkong.engine.schema import CHECKINS, PINGS, STAYS, check_dataset
from fangkong.engine.stays import ROW_GROUP_ROWS, StaysSummary, gap_limit_us

__all__ = ["Backend", "ReferenceBackend"]

Interval = tuple[int, int, int, int]  # person_id, where_id, start_us, end_us


def _rows(files: Sequence[Path], columns: list[str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for file in files:
        table = pq.read_table(file, columns=columns, partitioning=None)  # folder names are not data
        for name in columns:
            if pa.types.is_timestamp(table.schema.field(name).type):
                index = table.schema.get_field_index(name)
                as_us = table[name].cast(pa.timestamp("us")).cast(pa.int64())
                table = table.set_column(index, name, as_us)
        rows.extend(table.to_pylist())
    return rows


class ReferenceBackend:
    """Pure-Python implementation of the :class:`~fangkong.engine.matching.Backend` interface."""

    def stays(self, *, pings: Path, out: Path, params: ColocationParams) -> StaysSummary:
        """Pings to stays, one person at a time, exactly as ``engine.stays`` states the rule."""
        began = clock.perf_counter()
        files = check_dataset(path=pings, expected=PINGS, what="pings")
        grid = CellGrid.from_params(params)
        gap = gap_limit_us(max_gap_minutes=params.max_gap_minutes)
        by_person: dict[int, set[tuple[int, int]]] = {}
        dropped = 0
        for row in _rows(files, ["person_id", "ts", "lon", "lat"]):
            lon, lat = row["lon"], row["lat"]
            cell = None if lon is None or lat is None else cell_of(lon=lon, lat=lat, grid=grid)
            if cell is None or row["person_id"] is None or row["ts"] is None:
                dropped += 1
                continue
            by_person.setdefault(row["person_id"], set()).add((row["ts"], cell))
        stays: list[dict[str, int]] = []
        for person_id, points in by_person.items():
            current: dict[str, int] | None = None
            previous_ts = 0
            for ts, cell in sorted(points):
                if current is None or cell != current["cell"] or ts - previous_ts > gap:
                    current = {"person_id": person_id, "cell": cell, "start": ts, "end": ts, "pings": 0}
                    stays.append(current)
                current["end"] = ts
                current["pings"] += 1
                previous_ts = ts
        stays.sort(key=lambda s: (s["cell"], s["start"], s["person_id"]))
        table = pa.Table.from_pylist(stays, schema=_stays_schema_us())
        table = table.cast(STAYS)
        out.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, out, row_group_size=ROW_GROUP_ROWS)
        return StaysSummary(
            path=out,
            pings=sum(len(points) for points in by_person.values()),
            dropped=dropped,
            stays=len(stays),
            people=len(by_person),
            seconds=clock.perf_counter() - began,
        )

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
        """Every pair of (case interval, other interval) at the same place, compared one by one."""
        range_start, range_end = check_range(start=start, end=end)
        case_ids = set(cases)
        min_costay = round(params.min_costay_minutes * 60_000_000)
        dwell = round(params.venue_default_dwell_minutes * 60_000_000)

        cell_intervals: list[Interval] = [
            (row["person_id"], row["cell"], row["start"], row["end"])
            for row in _rows(check_dataset(path=stays, expected=STAYS, what="stays"), STAYS.names)
        ]
        visits: list[Interval] = []
        checkins_dropped = 0
        checkin_files = check_dataset(path=checkins, expected=CHECKINS, what="check-ins")
        for row in _rows(checkin_files, CHECKINS.names):
            check_in, check_out = row["check_in"], row["check_out"]
            if row["person_id"] is None or row["venue_id"] is None or check_in is None:
                checkins_dropped += 1
                continue
            if check_out is None:
                midnight = next_midnight_us(moment_us=check_in, timezone=params.timezone)
                check_out = min(check_in + dwell, midnight)
            visits.append((row["person_id"], row["venue_id"], check_in, max(check_out, check_in)))

        found: list[tuple[int, int, str, int, int, int]] = []
        with_data: set[int] = set()
        for kind, intervals, minimum in (("cell", cell_intervals, min_costay), ("venue", visits, 0)):
            for case_id, where, case_start, case_end in intervals:
                if case_id not in case_ids or case_start > range_end or case_end < range_start:
                    continue
                with_data.add(case_id)
                for person_id, other_where, other_start, other_end in intervals:
                    if person_id == case_id or other_where != where:
                        continue
                    overlap_start = max(case_start, other_start, range_start)
                    overlap_end = min(case_end, other_end, range_end)
                    length = overlap_end - overlap_start
                    if length > 0 and length >= minimum:
                        found.append((person_id, case_id, kind, where, overlap_start, overlap_end))

        columns = list(zip(*found, strict=True)) if found else [(), (), (), (), (), ()]
        pairs = RawPairs(
            person_id=pa.array(columns[0], pa.int64()),
            case_id=pa.array(columns[1], pa.int64()),
            where_kind=pa.array(columns[2], pa.string()),
            where_id=pa.array(columns[3], pa.int64()),
            overlap_start_us=pa.array(columns[4], pa.int64()),
            overlap_end_us=pa.array(columns[5], pa.int64()),
        )
        return finish(
            pairs=pairs, cases_without_data=sorted(case_ids - with_data), checkins_dropped=checkins_dropped
        )


def _stays_schema_us() -> pa.Schema:
    """STAYS with timestamps as int64 microseconds (cast to timestamps afterwards)."""
    return pa.schema([pa.field(f.name, pa.int64()) if pa.types.is_timestamp(f.type) else f for f in STAYS])
