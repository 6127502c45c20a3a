"""Write a synthetic city's mobility as Parquet, chunk by chunk, in the engine's shared layout.

Layout of a dataset directory (the schemas are :data:`PINGS_SCHEMA`, :data:`CHECKINS_SCHEMA` and
``VENUES_SCHEMA``)::

    manifest.json
    venues.parquet
    pings/day=YYYY-MM-DD/part-00000.parquet      one file per chunk of people, sorted by (person_id, ts)
    checkins/day=YYYY-MM-DD/part-00000.parquet   sorted by (person_id, check_in)

``day`` is the LOCAL day (Asia/Shanghai); timestamps are UTC. The output depends only on the
arguments (seed, people, days, start, bbox, chunk): the same arguments give byte-identical files.
Memory is bounded by one chunk (about 1 GB for 50,000 people), whatever the population.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from fangkong.engine.synth.city import City, city_build, venues_table
from fangkong.engine.synth.days import DayCheckins, DayPings, day_generate
from fangkong.engine.synth.geo import DEMO_BBOX, BBox
from fangkong.engine.synth.population import People, people_chunk

GENERATOR = "fangkong.engine.synth"
GENERATOR_VERSION = 1
TIMEZONE = "Asia/Shanghai"
ROW_GROUP_ROWS = 1_000_000

UTC_US = pa.timestamp("us", tz="UTC")
PINGS_SCHEMA = pa.schema(
    [
        pa.field("person_id", pa.int64(), nullable=False),
        pa.field("ts", UTC_US, nullable=False),
        pa.field("lon", pa.float64(), nullable=False),
        pa.field("lat", pa.float64(), nullable=False),
    ]
)
CHECKINS_SCHEMA = pa.schema(
    [
        pa.field("person_id", pa.int64(), nullable=False),
        pa.field("venue_id", pa.int64(), nullable=False),
        pa.field("check_in", UTC_US, nullable=False),
        pa.field("check_out", UTC_US, nullable=True),
    ]
)


@dataclass(frozen=True)
class SynthSummary:
    """What :func:`synth_city` wrote: counts, wall time and bytes on disk."""

    people: int
    days: int
    pings: int
    checkins: int
    venues: int
    seconds: float
    bytes: int


def local_midnight_utc_s(day: date, *, timezone: str = TIMEZONE) -> int:
    """Seconds since the epoch (UTC) of local midnight starting ``day``."""
    return int(datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(timezone)).timestamp())


def _pings_table(p: DayPings) -> pa.Table:
    return pa.Table.from_arrays(
        [pa.array(p.person_id), pa.array(p.ts_us).cast(UTC_US), pa.array(p.lon), pa.array(p.lat)],
        schema=PINGS_SCHEMA,
    )


def _checkins_table(c: DayCheckins) -> pa.Table:
    check_out = pa.array(c.check_out_us, mask=c.check_out_missing).cast(UTC_US)
    return pa.Table.from_arrays(
        [pa.array(c.person_id), pa.array(c.venue_id), pa.array(c.check_in_us).cast(UTC_US), check_out],
        schema=CHECKINS_SCHEMA,
    )


def _write(table: pa.Table, path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd", row_group_size=ROW_GROUP_ROWS)
    return path.stat().st_size


def synth_city(
    *,
    people: int,
    days: int,
    out: Path,
    seed: int = 2022,
    start: date | None = None,
    bbox: BBox = DEMO_BBOX,
    chunk: int = 50_000,
    progress: Callable[[int, int], None] | None = None,
) -> SynthSummary:
    """Generate ``people`` residents × ``days`` local days of pings and check-ins into ``out``.

    ``start`` is the first local day; by default the last ``days`` days up to today (so the data
    falls inside the look-back), which makes the dates, not the movements, depend on the run date:
    pass ``start`` for fully reproducible files. ``progress(done, total)`` is called after each chunk
    with person-days done and in all. ``out`` must not hold a dataset already (files are never mixed).
    """
    if people < 1 or days < 1 or chunk < 1:
        raise ValueError("people, days and chunk must be at least 1")
    if (out / "manifest.json").exists() or (out / "pings").exists():
        raise FileExistsError(f"{out} already holds a dataset; choose an empty directory")
    began = time.perf_counter()
    if start is None:
        start = datetime.now(ZoneInfo(TIMEZONE)).date() - timedelta(days=days - 1)
    out.mkdir(parents=True, exist_ok=True)
    city = city_build(people=people, seed=seed, bbox=bbox)
    written = _write(venues_table(city=city), out / "venues.parquet")
    day_list = [start + timedelta(days=i) for i in range(days)]
    pings = checkins = 0
    chunks = (people + chunk - 1) // chunk
    for chunk_index in range(chunks):
        first = chunk_index * chunk
        group = people_chunk(
            city=city,
            seed=seed,
            chunk_index=chunk_index,
            first_id=first + 1,
            count=min(chunk, people - first),
        )
        for day_index, day in enumerate(day_list):
            p, c = day_tables(
                city=city, people=group, seed=seed, chunk_index=chunk_index, day_index=day_index, day=day
            )
            name = f"day={day.isoformat()}/part-{chunk_index:05d}.parquet"
            written += _write(p, out / "pings" / name) + _write(c, out / "checkins" / name)
            pings += p.num_rows
            checkins += c.num_rows
            del p, c
            if progress is not None:
                progress(first * days + len(group) * (day_index + 1), people * days)
    manifest = {
        "generator": GENERATOR,
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "people": people,
        "days": days,
        "start": start.isoformat(),
        "timezone": TIMEZONE,
        "bbox": bbox.as_dict(),
        "chunk": chunk,
        "pings": pings,
        "checkins": checkins,
        "venues": len(city.venues),
    }
    (out / "manifest.json").write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return SynthSummary(
        people=people,
        days=days,
        pings=pings,
        checkins=checkins,
        venues=len(city.venues),
        seconds=round(time.perf_counter() - began, 3),
        bytes=written,
    )


def day_tables(
    *, city: City, people: People, seed: int, chunk_index: int, day_index: int, day: date
) -> tuple[pa.Table, pa.Table]:
    """Pings and check-ins of one chunk of people for one local day, as Arrow tables."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xDA7, chunk_index, day_index]))
    p, c = day_generate(
        city=city,
        people=people,
        rng=rng,
        midnight_utc_s=local_midnight_utc_s(day),
        weekend=day.weekday() >= 5,
    )
    return _pings_table(p), _checkins_table(c)


def summary_dict(summary: SynthSummary) -> dict[str, object]:
    """The summary as a plain dict (for JSON output)."""
    return asdict(summary)
