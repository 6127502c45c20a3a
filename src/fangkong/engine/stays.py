"""Pings become stays: the rule every backend implements, and its result summary.

The rule, per person:

1. Each ping gets its cell (``engine.cells``); pings off the Earth (NaN, null, |lat| > 90,
   |lon| > 180) and pings without a person or a time (null) are dropped and counted
   (``StaysSummary.dropped``). Exact duplicates, same (person, ts, cell), count once.
2. Pings are ordered by (ts, cell) — input order does not matter, and two pings at the same
   instant in two cells are ordered by cell so that every backend agrees.
3. A new stay starts at the first ping, whenever the cell changes, and when the time since the
   previous ping is longer than ``max_gap_minutes`` (a gap of exactly the maximum does not split).
4. A stay is ``[first ping, last ping]`` of its run: a single ping is a stay of zero length,
   which can never overlap another for a positive time. Stays cross midnight freely: the day
   partitions of the input are not boundaries.

Stays are written as one Parquet file with the ``schema.STAYS`` schema, sorted by
(cell, start, person_id) in row groups of moderate size, so that a query by cell and time
reads only the row groups whose min/max statistics cover the cells it asks for.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["ROW_GROUP_ROWS", "StaysSummary", "gap_limit_us"]

ROW_GROUP_ROWS = 64 * 1024
"""Rows per row group of the stays file: small enough to skip, large enough to scan fast."""


@dataclass(frozen=True, slots=True)
class StaysSummary:
    """What a stays run read and wrote."""

    path: Path
    pings: int  # distinct usable pings read
    dropped: int  # rows dropped: off the Earth (no cell), or a null person, time or coordinate
    stays: int
    people: int
    seconds: float


def gap_limit_us(*, max_gap_minutes: float) -> int:
    """The maximum gap in whole microseconds (the unit of the stored timestamps)."""
    return round(max_gap_minutes * 60_000_000)
