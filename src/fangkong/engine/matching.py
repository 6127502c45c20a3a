"""Matching: who shared a cell or a venue with a case, the result types and the Backend interface.

Rules every backend implements:

- The time range ``[start, end]`` (aware datetimes) clips every interval first.
- Cell exposure: a stay of a case and a stay of another person in the same cell whose clipped
  overlap ``[max(starts), min(ends)]`` is positive and lasts at least ``min_costay_minutes``
  (exactly the threshold counts; touching intervals, ``end == start``, never do). Each pair of
  stays is one exposure row; overlaps are not summed before the threshold.
- Venue exposure (场所码): a check-in of a case and a check-in of another person at the same
  venue whose clipped visits overlap for a positive time (no minimum: sharing a venue is the
  signal). A visit is ``[check_in, check_out]``; an open check-out closes at
  ``check_in + venue_default_dwell_minutes`` but never past the next local midnight (in
  ``params.timezone``) after the check-in; a check-out before its check-in counts as zero length.
- A case never matches itself; other cases of the same run are persons like any other.
- A case with no stay and no check-in touching the range (closed intervals) is listed in
  ``MatchResult.cases_without_data``: "no data" must not read as "no contacts".
- A check-in without a person, a venue or a check-in time (NULL) belongs to nobody and nowhere:
  it is dropped, and every such row of the files read is counted in
  ``MatchResult.checkins_dropped`` (the stays' ``StaysSummary.dropped`` counts the pings).
- Folder names are never data: a ``key=value`` folder anywhere in a path (``day=``, or a stray
  ``lat=0``) is not read as a column (no hive partitioning in any backend).

Backends return the raw pairs as microsecond integers; :func:`finish` sorts them, computes the
minutes and the per (person, case) summary, identically for every backend. A backend whose
database already sorts the pairs in :data:`EXPOSURE_ORDER` (DuckDB) hands them to
:func:`finish_sorted`, which is :func:`finish` without the sort.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from fangkong.engine.rules import ColocationParams
from fangkong.engine.schema import EXPOSURES, SUMMARY
from fangkong.engine.stays import StaysSummary

__all__ = [
    "EXPOSURE_ORDER",
    "Backend",
    "MatchResult",
    "RawPairs",
    "check_range",
    "finish",
    "finish_sorted",
    "local_midnights_us",
    "micros",
    "next_midnight_us",
]

US_PER_MINUTE = 60_000_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class MatchResult:
    """Exposures (``schema.EXPOSURES``), their per (person, case) summary (``schema.SUMMARY``),
    the cases that had no location data in the range and the check-ins dropped for a NULL
    person, venue or check-in time."""

    exposures: pa.Table
    summary: pa.Table
    cases_without_data: tuple[int, ...]
    checkins_dropped: int = 0


@dataclass(frozen=True, slots=True)
class RawPairs:
    """Exposure rows as plain columns: timestamps in microseconds since the epoch (UTC)."""

    person_id: pa.Array
    case_id: pa.Array
    where_kind: pa.Array
    where_id: pa.Array
    overlap_start_us: pa.Array
    overlap_end_us: pa.Array


class Backend(Protocol):
    """One engine backend (DuckDB, Spark, the brute-force reference): same input, same output."""

    def stays(self, *, pings: Path, out: Path, params: ColocationParams) -> StaysSummary:
        """Read the pings dataset, write the stays file ``out`` (see ``engine.stays``)."""
        ...

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
        """Find everyone who shared a cell or a venue with one of ``cases`` in the range."""
        ...


def micros(moment: datetime) -> int:
    """Microseconds since the epoch of an aware datetime, exactly (no float rounding)."""
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def check_range(*, start: datetime, end: datetime) -> tuple[int, int]:
    """The range in microseconds; refuses naive datetimes and an end before the start."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware datetimes")
    if end < start:
        raise ValueError(f"the range ends ({end.isoformat()}) before it starts ({start.isoformat()})")
    return micros(start), micros(end)


def next_midnight_us(*, moment_us: int, timezone: str) -> int:
    """The first local midnight strictly after ``moment_us`` (a check-in at 00:00 gets 24 h)."""
    zone = ZoneInfo(timezone)
    local = (EPOCH + timedelta(microseconds=moment_us)).astimezone(zone)
    midnight = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=zone)
    return micros(midnight)


def local_midnights_us(*, start_us: int, end_us: int, timezone: str) -> list[int]:
    """Every local midnight from three days before ``start_us`` to two days after ``end_us``:
    enough for any open check-in that can reach the range (it ends within a day)."""
    zone = ZoneInfo(timezone)
    first = (EPOCH + timedelta(microseconds=start_us)).astimezone(zone).date() - timedelta(days=3)
    last = (EPOCH + timedelta(microseconds=end_us)).astimezone(zone).date() + timedelta(days=2)
    days = (last - first).days
    return [
        micros(datetime.combine(first + timedelta(days=n), time(0), tzinfo=zone)) for n in range(days + 1)
    ]


EXPOSURE_ORDER = ("case_id", "person_id", "where_kind", "where_id", "overlap_start", "overlap_end")
"""The order of ``MatchResult.exposures``: every key ascending (``'cell'`` before ``'venue'``)."""


def finish(*, pairs: RawPairs, cases_without_data: Sequence[int], checkins_dropped: int = 0) -> MatchResult:
    """Sort the exposure rows, compute minutes and the per (person, case) summary."""
    exposures = _exposures(pairs).sort_by([(key, "ascending") for key in EXPOSURE_ORDER])
    return MatchResult(
        exposures=exposures,
        summary=_summary(exposures),
        cases_without_data=tuple(sorted(set(cases_without_data))),
        checkins_dropped=checkins_dropped,
    )


def finish_sorted(
    *, pairs: RawPairs, cases_without_data: Sequence[int], checkins_dropped: int = 0
) -> MatchResult:
    """:func:`finish` for pairs that a backend already returns in :data:`EXPOSURE_ORDER` (its
    database sorted them): the same result without sorting again. Pairs in any other order
    give a wrong summary; the backend's agreement with the reference is what checks it."""
    exposures = _exposures(pairs)
    return MatchResult(
        exposures=exposures,
        summary=_summary(exposures),
        cases_without_data=tuple(sorted(set(cases_without_data))),
        checkins_dropped=checkins_dropped,
    )


def _exposures(pairs: RawPairs) -> pa.Table:
    """The rows in the ``EXPOSURES`` schema, minutes computed from the integer microseconds."""
    start = pairs.overlap_start_us.cast(pa.int64())
    end = pairs.overlap_end_us.cast(pa.int64())
    duration = pc.subtract(end, start)
    return pa.table(
        [
            pairs.person_id.cast(pa.int64()),
            pairs.case_id.cast(pa.int64()),
            pairs.where_kind.cast(pa.string()),
            pairs.where_id.cast(pa.int64()),
            start.cast(pa.timestamp("us")).cast(pa.timestamp("us", tz="UTC")),
            end.cast(pa.timestamp("us")).cast(pa.timestamp("us", tz="UTC")),
            pc.divide(duration.cast(pa.float64()), float(US_PER_MINUTE)),
        ],
        schema=EXPOSURES,
    )


def _summary(exposures: pa.Table) -> pa.Table:
    """Per (person, case): counts by kind, minutes summed (in integer µs, then divided) and
    longest, first overlap start and last overlap end; ordered by (case_id, person_id).

    ``exposures`` must be sorted by (case_id, person_id) first, as :data:`EXPOSURE_ORDER`
    sorts them: each pair's rows are then one run, reduced in place (no hashing, no sort).
    """
    rows = exposures.num_rows
    if rows == 0:
        return SUMMARY.empty_table()
    person = _numpy(exposures["person_id"])
    case = _numpy(exposures["case_id"])
    start = _numpy(exposures["overlap_start"].cast(pa.timestamp("us")).cast(pa.int64()))
    end = _numpy(exposures["overlap_end"].cast(pa.timestamp("us")).cast(pa.int64()))
    is_cell = _numpy(pc.cast(pc.equal(exposures["where_kind"], "cell"), pa.int64()))
    is_venue = _numpy(pc.cast(pc.equal(exposures["where_kind"], "venue"), pa.int64()))
    us = end - start
    new_group = np.empty(rows, dtype=np.bool_)
    new_group[0] = True
    np.not_equal(case[1:], case[:-1], out=new_group[1:])
    new_group[1:] |= person[1:] != person[:-1]
    firsts = np.flatnonzero(new_group)
    ts = pa.timestamp("us", tz="UTC")
    return pa.table(
        [
            pa.array(person[firsts]),
            pa.array(case[firsts]),
            pa.array(np.diff(np.append(firsts, rows))),
            pa.array(np.add.reduceat(is_cell, firsts)),
            pa.array(np.add.reduceat(is_venue, firsts)),
            pa.array(np.add.reduceat(us, firsts).astype(np.float64) / float(US_PER_MINUTE)),
            pa.array(np.maximum.reduceat(us, firsts).astype(np.float64) / float(US_PER_MINUTE)),
            pa.array(np.minimum.reduceat(start, firsts)).cast(pa.timestamp("us")).cast(ts),
            pa.array(np.maximum.reduceat(end, firsts)).cast(pa.timestamp("us")).cast(ts),
        ],
        schema=SUMMARY,
    )


def _numpy(column: pa.ChunkedArray | pa.Array) -> npt.NDArray[np.int64]:
    """An int64 column without nulls as a numpy array (copied only when it has several chunks)."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    values: npt.NDArray[np.int64] = array.to_numpy(zero_copy_only=False)
    return values
