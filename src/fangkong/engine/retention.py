"""How long location data is kept, and the time range a discovery run may search.

Rules (the protocol's co-location look-back, 14 days in china-9):
- Location data older than the look-back serves no case any more and is deleted: a day
  partition (``pings/day=YYYY-MM-DD``, ``checkins/day=…``) is removed when its local day is
  before ``today - older_than_days``. Venues and the manifest stay.
- A discovery run never searches before the look-back: a range that starts earlier is clamped
  to it, and the caller is told so (to say it to the person who asked).

Run as ``python -m fangkong.engine.retention --dataset DIR --older-than DAYS [--today YYYY-MM-DD]``
(``fangkong purge-mobility``); it prints what it removed as JSON.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

PARTITIONED = ("pings", "checkins")


@dataclass(frozen=True, slots=True)
class PurgeSummary:
    days_removed: list[str]
    files_removed: int
    bytes_removed: int


def purge_older_than(*, dataset: Path, older_than_days: int, today: date) -> PurgeSummary:
    """Remove every day partition whose day is before ``today - older_than_days``."""
    if older_than_days < 0:
        raise ValueError(f"older_than_days must be 0 or more, got {older_than_days}")
    if not (dataset / "pings").is_dir():
        raise ValueError(f"{dataset} is not a mobility dataset (no pings/ folder)")
    cutoff = today - timedelta(days=older_than_days)
    days: set[str] = set()
    files = size = 0
    for part in PARTITIONED:
        for folder in sorted((dataset / part).glob("day=*")):
            try:
                day = date.fromisoformat(folder.name.removeprefix("day="))
            except ValueError:
                continue  # not a day partition: leave it alone
            if day < cutoff:
                contents = [f for f in folder.rglob("*") if f.is_file()]
                files += len(contents)
                size += sum(f.stat().st_size for f in contents)
                shutil.rmtree(folder)
                days.add(day.isoformat())
    return PurgeSummary(days_removed=sorted(days), files_removed=files, bytes_removed=size)


@dataclass(frozen=True, slots=True)
class SearchRange:
    start: datetime
    end: datetime
    clamped: bool  # the asked start was before the look-back and was moved up to it


def search_range(*, start: datetime, end: datetime, lookback: timedelta, now: datetime) -> SearchRange:
    """The range a run searches: ``start`` no earlier than ``now - lookback``, ``end`` no later
    than ``now``. Naive datetimes and an empty range are refused."""
    for name, moment in (("start", start), ("end", end), ("now", now)):
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"{name} must be timezone-aware, got {moment!r}")
    earliest = now - lookback
    clamped = start < earliest
    start, end = max(start, earliest), min(end, now)
    if end <= start:
        raise ValueError(f"the range {start.isoformat()} – {end.isoformat()} is empty within the look-back")
    return SearchRange(start=start, end=end, clamped=clamped)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="fangkong purge-mobility", description="Delete location data past the look-back."
    )
    parser.add_argument("--dataset", type=Path, required=True, help="mobility dataset directory")
    parser.add_argument("--older-than", type=int, required=True, help="keep this many days (the look-back)")
    parser.add_argument("--today", type=date.fromisoformat, default=None, help="local today, YYYY-MM-DD")
    args = parser.parse_args(argv)
    try:
        summary = purge_older_than(
            dataset=args.dataset, older_than_days=args.older_than, today=args.today or date.today()
        )
    except ValueError as error:
        print(f"purge-mobility: {error}", file=sys.stderr)
        return 2
    print(json.dumps(asdict(summary), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
