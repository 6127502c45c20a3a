"""The synthetic city's places: centres, homes, workplaces, schools and venues (场所).

A city has a few dense centres (a downtown and satellite towns) drawn inside the box; homes,
workplaces, schools and venues cluster around them with a uniform background share. Workplaces
cluster more tightly than homes (business districts). Counts grow with the population, so a city of
200 people is as plausible as one of 10 million. Only the venues are published (``venues.parquet``);
homes, workplaces and schools live inside the generator.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from fangkong.engine.synth.geo import BBox, FloatArray, GridIndex, IntArray, points_clustered

#: Venue kinds, their share of all venues, their Chinese label (for names) and dwell minutes.
VENUE_KINDS: tuple[str, ...] = (
    "restaurant",
    "shop",
    "supermarket",
    "market",
    "transit",
    "clinic",
    "pharmacy",
    "gym",
)
VENUE_SHARE = np.array([0.30, 0.20, 0.10, 0.10, 0.12, 0.06, 0.07, 0.05])
VENUE_LABEL: tuple[str, ...] = ("餐厅", "商店", "超市", "菜市场", "地铁站", "诊所", "药店", "健身房")
VENUE_DWELL_MIN = np.array([25.0, 10.0, 15.0, 15.0, 4.0, 20.0, 5.0, 45.0])
VENUE_DWELL_MAX = np.array([70.0, 40.0, 40.0, 45.0, 10.0, 60.0, 15.0, 90.0])
#: How often each kind is chosen for an errand (lunch is always a restaurant).
ERRAND_SHARE = np.array([0.25, 0.20, 0.15, 0.12, 0.12, 0.04, 0.07, 0.05])

RESTAURANT = VENUE_KINDS.index("restaurant")

VENUES_SCHEMA = pa.schema(
    [
        pa.field("venue_id", pa.int64(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("name", pa.string(), nullable=False),
        pa.field("lon", pa.float64(), nullable=False),
        pa.field("lat", pa.float64(), nullable=False),
    ]
)


@dataclass(frozen=True)
class Places:
    """Points of one kind of place, with the centre each was drawn around (-1: background)."""

    lon: FloatArray
    lat: FloatArray
    centre: IntArray

    def __len__(self) -> int:
        return len(self.lon)


@dataclass(frozen=True)
class City:
    """Everything fixed about a city, independent of its days."""

    bbox: BBox
    centres_lon: FloatArray
    centres_lat: FloatArray
    centre_weights: FloatArray
    homes: Places
    workplaces: Places
    schools: Places
    venues: Places
    venue_kind: IntArray
    #: Workplaces ordered by centre, with each centre's slice, to pick a job in a chosen centre.
    work_order: IntArray
    work_start: IntArray
    work_count: IntArray
    school_index: GridIndex
    #: One grid index per venue kind, over that kind's venues (indices are venue indices).
    venue_index: tuple[GridIndex | None, ...]
    venue_of_kind: tuple[IntArray, ...]

    @property
    def venue_ids(self) -> IntArray:
        """Venue ids as published: 1-based, in generation order."""
        return np.arange(1, len(self.venues) + 1, dtype=np.int64)


def city_build(*, people: int, seed: int, bbox: BBox) -> City:
    """Draw a city sized for ``people`` residents; the same arguments give the same city."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xC17]))
    n_centres = int(np.clip(3 + people // 200_000, 3, 9))
    margin_x = (bbox.east - bbox.west) * 0.12
    margin_y = (bbox.north - bbox.south) * 0.12
    centres_lon = rng.uniform(bbox.west + margin_x, bbox.east - margin_x, n_centres)
    centres_lat = rng.uniform(bbox.south + margin_y, bbox.north - margin_y, n_centres)
    weights = rng.pareto(1.5, n_centres) + 0.5
    weights[0] *= 2.0  # a downtown
    weights = weights / weights.sum()
    home_spread = rng.uniform(2_500.0, 5_000.0, n_centres)
    work_spread = home_spread * 0.5

    def draw(n: int, spread: FloatArray, background: float) -> Places:
        lon, lat, centre = points_clustered(
            rng=rng,
            bbox=bbox,
            n=n,
            centres_lon=centres_lon,
            centres_lat=centres_lat,
            centre_weights=weights,
            spread_m=spread,
            background=background,
        )
        return Places(lon=lon, lat=lat, centre=centre)

    homes = draw(max(20, people // 40), home_spread, 0.10)
    workplaces = draw(max(10, people // 60), work_spread, 0.10)
    schools = draw(max(3, people // 1_500), home_spread, 0.05)
    venues = draw(max(len(VENUE_KINDS) * 4, people // 100), home_spread * 0.8, 0.08)
    venue_kind = rng.choice(len(VENUE_KINDS), size=len(venues), p=VENUE_SHARE / VENUE_SHARE.sum())
    venue_kind[: len(VENUE_KINDS)] = np.arange(len(VENUE_KINDS))  # every kind exists at least once
    venue_kind = venue_kind.astype(np.int64)

    # Workplaces by centre; background ones (centre -1) form one more bucket, number n_centres.
    work_bucket = np.where(workplaces.centre < 0, n_centres, workplaces.centre)
    work_order = np.argsort(work_bucket, kind="stable").astype(np.int64)
    buckets = np.arange(n_centres + 1)
    sorted_bucket = work_bucket[work_order]
    work_start = np.searchsorted(sorted_bucket, buckets, side="left").astype(np.int64)
    work_count = np.searchsorted(sorted_bucket, buckets, side="right").astype(np.int64) - work_start

    school_index = GridIndex(bbox=bbox, lon=schools.lon, lat=schools.lat, cell_m=3_000.0)
    venue_of_kind = tuple(np.flatnonzero(venue_kind == k).astype(np.int64) for k in range(len(VENUE_KINDS)))
    venue_index = tuple(
        GridIndex(bbox=bbox, lon=venues.lon[idx], lat=venues.lat[idx], cell_m=1_500.0) if len(idx) else None
        for idx in venue_of_kind
    )
    return City(
        bbox=bbox,
        centres_lon=centres_lon,
        centres_lat=centres_lat,
        centre_weights=weights,
        homes=homes,
        workplaces=workplaces,
        schools=schools,
        venues=venues,
        venue_kind=venue_kind,
        work_order=work_order,
        work_start=work_start,
        work_count=work_count,
        school_index=school_index,
        venue_index=venue_index,
        venue_of_kind=venue_of_kind,
    )


def venue_pick(
    *, city: City, rng: np.random.Generator, kind: IntArray, lon: FloatArray, lat: FloatArray
) -> IntArray:
    """For each query, a venue of the given kind near the given point (venue index, 0-based)."""
    out = np.zeros(len(kind), dtype=np.int64)
    for k, index in enumerate(city.venue_index):
        sel = np.flatnonzero(kind == k)
        if len(sel) == 0 or index is None:
            continue
        local = index.pick(rng=rng, lon=lon[sel], lat=lat[sel])
        out[sel] = city.venue_of_kind[k][local]
    return out


def venues_table(*, city: City) -> pa.Table:
    """The venues as published in ``venues.parquet`` (schema :data:`VENUES_SCHEMA`)."""
    ids = city.venue_ids
    kinds = [VENUE_KINDS[k] for k in city.venue_kind.tolist()]
    names = [f"{VENUE_LABEL[k]}{i:06d}" for k, i in zip(city.venue_kind.tolist(), ids.tolist(), strict=True)]
    return pa.table(
        {"venue_id": ids, "kind": kinds, "name": names, "lon": city.venues.lon, "lat": city.venues.lat},
        schema=VENUES_SCHEMA,
    )
