"""One day of a chunk of people: an itinerary of stops, then pings and venue check-ins.

Each person's day is seven stops, in order: home, main place (work or school; home for those
without one), a midday venue, the main place again, two evening venues, home. A stop a person does
not make that day collapses to zero length at the previous stop's position, so every person has the
same shape and all of it is vectorised over people. Between stops the person moves in a straight
line at a walking or city speed. Times are seconds since local midnight and never reach the next
midnight: venue visits end the same local day.

Pings come every 5–15 min (uniform, drawn per ping) from a random first ping in the first 5 min,
with GPS-like noise (Rayleigh, σ = 12 m, capped at 50 m) and clipped to the city's box. Check-ins
(场所码) are made at every venue visited for at least 3 min: ``check_in`` within a minute after
arrival, ``check_out`` within a minute before leaving, or null for the share who forget.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from fangkong.engine.synth.city import (
    ERRAND_SHARE,
    RESTAURANT,
    VENUE_DWELL_MAX,
    VENUE_DWELL_MIN,
    City,
    venue_pick,
)
from fangkong.engine.synth.geo import METRES_PER_DEGREE_LAT, FloatArray, IntArray, distance_m
from fangkong.engine.synth.population import People, Role

DAY_S = 86_400
PING_GAP_MIN_S = 300
PING_GAP_MAX_S = 900
NOISE_SIGMA_M = 12.0
NOISE_MAX_M = 50.0
MIN_VISIT_S = 180
FORGET_CHECKOUT = 0.2
WEEKEND_WORK = 0.2  # a commuter's chance to go to work or school on a Saturday or Sunday
SICK_DAY = 0.03

STOPS = 7
HOME_AM, MAIN_AM, VENUE_MIDDAY, MAIN_PM, VENUE_1, VENUE_2, HOME_PM = range(STOPS)
VENUE_STOPS = (VENUE_MIDDAY, VENUE_1, VENUE_2)


@dataclass(frozen=True)
class DayPings:
    """Pings of a chunk for one day, sorted by (person_id, ts); ``ts`` in µs since the epoch (UTC)."""

    person_id: IntArray
    ts_us: IntArray
    lon: FloatArray
    lat: FloatArray


@dataclass(frozen=True)
class DayCheckins:
    """Check-ins of a chunk for one day, sorted by (person_id, check_in); null check-out as mask."""

    person_id: IntArray
    venue_id: IntArray
    check_in_us: IntArray
    check_out_us: IntArray
    check_out_missing: npt.NDArray[np.bool_]


def _travel_s(
    *, city: City, lon1: FloatArray, lat1: FloatArray, lon2: FloatArray, lat2: FloatArray
) -> FloatArray:
    """Door-to-door travel time: walking under 1.5 km, else 7 m/s plus 5 min; 0 when not moving."""
    d = distance_m(bbox=city.bbox, lon1=lon1, lat1=lat1, lon2=lon2, lat2=lat2)
    t = np.where(d < 1_500.0, d / 1.3, 300.0 + d / 7.0)
    return np.asarray(np.where(d < 1.0, 0.0, np.minimum(t, 7_200.0)), dtype=np.float64)


def _clipped_normal(
    rng: np.random.Generator, mean_h: float, sd_h: float, lo_h: float, hi_h: float, n: int
) -> FloatArray:
    return np.asarray(np.clip(rng.normal(mean_h, sd_h, n), lo_h, hi_h) * 3_600.0, dtype=np.float64)


def day_generate(
    *, city: City, people: People, rng: np.random.Generator, midnight_utc_s: int, weekend: bool
) -> tuple[DayPings, DayCheckins]:
    """Generate one local day (starting at ``midnight_utc_s``) for a chunk of people."""
    n = len(people)
    role = people.role
    go_main = people.commutes & (rng.random(n) >= SICK_DAY)
    if weekend:
        go_main &= rng.random(n) < WEEKEND_WORK
    visits = rng.binomial(people.venue_habit, 0.75)
    worker = role == Role.WORKER
    student = role == Role.STUDENT
    lunch_out = (visits >= 1) & np.where(go_main, worker & (rng.random(n) < 0.5), True)
    rest = np.minimum(visits - lunch_out, 2)
    used = np.zeros((n, STOPS), dtype=bool)
    used[:, VENUE_MIDDAY] = lunch_out
    used[:, VENUE_1] = rest >= 1
    used[:, VENUE_2] = rest >= 2

    lon = np.empty((n, STOPS))
    lat = np.empty((n, STOPS))
    lon[:, HOME_AM] = lon[:, HOME_PM] = people.home_lon
    lat[:, HOME_AM] = lat[:, HOME_PM] = people.home_lat
    main_lon = np.where(go_main, people.main_lon, people.home_lon)
    main_lat = np.where(go_main, people.main_lat, people.home_lat)
    lon[:, MAIN_AM] = lon[:, MAIN_PM] = main_lon
    lat[:, MAIN_AM] = lat[:, MAIN_PM] = main_lat

    # Venues: lunch is a restaurant near the main place; errands are near home or the main place.
    venue = np.full((n, STOPS), -1, dtype=np.int64)
    errand_kinds = len(ERRAND_SHARE)
    for stop in VENUE_STOPS:
        who = np.flatnonzero(used[:, stop])
        if len(who) == 0:
            continue
        kind = rng.choice(errand_kinds, size=len(who), p=ERRAND_SHARE / ERRAND_SHARE.sum())
        near_main = rng.random(len(who)) < 0.5
        if stop == VENUE_MIDDAY:
            kind = np.where(go_main[who], RESTAURANT, kind)
            near_main = go_main[who]
        elif stop == VENUE_2:
            near_main[:] = False
        qlon = np.where(near_main, main_lon[who], people.home_lon[who])
        qlat = np.where(near_main, main_lat[who], people.home_lat[who])
        venue[who, stop] = venue_pick(city=city, rng=rng, kind=kind.astype(np.int64), lon=qlon, lat=qlat)
        lon[who, stop] = city.venues.lon[venue[who, stop]]
        lat[who, stop] = city.venues.lat[venue[who, stop]]
    dwell = np.zeros((n, STOPS))
    for stop in VENUE_STOPS:
        who = np.flatnonzero(used[:, stop])
        k = city.venue_kind[venue[who, stop]]
        dwell[who, stop] = rng.uniform(VENUE_DWELL_MIN[k], VENUE_DWELL_MAX[k]) * 60.0
    for stop in (VENUE_MIDDAY, VENUE_1, VENUE_2):  # a skipped stop sits where the previous one was
        skip = ~used[:, stop]
        lon[skip, stop] = lon[skip, stop - 1]
        lat[skip, stop] = lat[skip, stop - 1]
    lon[:, MAIN_PM] = main_lon
    lat[:, MAIN_PM] = main_lat

    leave = np.where(
        worker,
        _clipped_normal(rng, 7.75, 0.6, 5.5, 10.5, n),
        np.where(
            student,
            _clipped_normal(rng, 7.3, 0.25, 6.5, 8.5, n),
            _clipped_normal(rng, 9.5, 1.0, 7.0, 12.0, n),
        ),
    )
    lunch = _clipped_normal(rng, 12.0, 0.25, 11.25, 13.0, n)
    end = np.where(
        go_main,
        np.where(
            student,
            _clipped_normal(rng, 16.5, 0.5, 15.0, 18.0, n),
            _clipped_normal(rng, 18.0, 0.8, 15.0, 21.5, n),
        ),
        _clipped_normal(rng, 15.5, 1.5, 12.0, 19.0, n),
    )

    arrive = np.zeros((n, STOPS))
    depart = np.zeros((n, STOPS))
    depart[:, HOME_AM] = leave
    for stop in range(1, STOPS):
        arrive[:, stop] = depart[:, stop - 1] + _travel_s(
            city=city, lon1=lon[:, stop - 1], lat1=lat[:, stop - 1], lon2=lon[:, stop], lat2=lat[:, stop]
        )
        if stop == MAIN_AM:
            depart[:, stop] = np.where(
                go_main & lunch_out, np.maximum(lunch, arrive[:, stop] + 1_800.0), arrive[:, stop]
            )
        elif stop == MAIN_PM:
            depart[:, stop] = np.maximum(end, arrive[:, stop] + np.where(go_main, 1_800.0, 0.0))
        elif stop == HOME_PM:
            depart[:, stop] = DAY_S
        else:
            depart[:, stop] = arrive[:, stop] + dwell[:, stop]
    breaks = np.minimum(np.stack([arrive, depart], axis=2).reshape(n, 2 * STOPS), DAY_S - 60.0)
    breaks = np.rint(breaks).astype(np.int64)
    breaks[:, -1] = DAY_S

    pings = _pings(
        city=city, people=people, rng=rng, breaks=breaks, lon=lon, lat=lat, midnight_utc_s=midnight_utc_s
    )
    checkins = _checkins(
        people=people, rng=rng, breaks=breaks, venue=venue, used=used, midnight_utc_s=midnight_utc_s
    )
    return pings, checkins


def _pings(
    *,
    city: City,
    people: People,
    rng: np.random.Generator,
    breaks: IntArray,
    lon: FloatArray,
    lat: FloatArray,
    midnight_utc_s: int,
) -> DayPings:
    n = len(people)
    first = rng.integers(0, PING_GAP_MIN_S, size=(n, 1))
    width = DAY_S // ((PING_GAP_MIN_S + PING_GAP_MAX_S) // 2) + 30
    gaps = rng.integers(PING_GAP_MIN_S, PING_GAP_MAX_S + 1, size=(n, width))
    times = np.cumsum(np.concatenate([first, gaps], axis=1), axis=1)
    while n and times[:, -1].min() < DAY_S:  # rare: extend the rows that have not reached midnight
        more = rng.integers(PING_GAP_MIN_S, PING_GAP_MAX_S + 1, size=(n, width))
        times = np.concatenate([times, times[:, -1:] + np.cumsum(more, axis=1)], axis=1)
    del gaps
    keep = times < DAY_S
    counts = keep.sum(axis=1)
    t = times[keep]
    del times, keep
    row = np.repeat(np.arange(n, dtype=np.int64), counts)

    # Where each ping falls among its person's breakpoints: one global sorted search.
    span = np.int64(1 << 17)  # > DAY_S, so rows never overlap
    j = np.searchsorted(
        (np.arange(n, dtype=np.int64)[:, None] * span + breaks).ravel(), row * span + t, side="right"
    )
    j = j - 1 - row * (2 * STOPS)
    stop = j // 2
    at = row * STOPS + stop
    flat_lon = lon.ravel()
    flat_lat = lat.ravel()
    plon = flat_lon[at]
    plat = flat_lat[at]
    moving = np.flatnonzero(j % 2 == 1)
    if len(moving):
        m_at = at[moving]
        m_row = row[moving]
        left = breaks[m_row, 2 * stop[moving] + 1]
        right = breaks[m_row, 2 * stop[moving] + 2]
        frac = (t[moving] - left) / np.maximum(right - left, 1)
        plon[moving] += frac * (flat_lon[m_at + 1] - plon[moving])
        plat[moving] += frac * (flat_lat[m_at + 1] - plat[moving])
    del j, stop, at, moving

    size = len(t)
    radius = np.minimum(rng.rayleigh(NOISE_SIGMA_M, size), NOISE_MAX_M)
    angle = rng.uniform(0.0, 2 * np.pi, size)
    plon += radius * np.cos(angle) / city.bbox.metres_per_degree_lon
    plat += radius * np.sin(angle) / METRES_PER_DEGREE_LAT
    del radius, angle
    np.clip(plon, city.bbox.west, city.bbox.east, out=plon)
    np.clip(plat, city.bbox.south, city.bbox.north, out=plat)
    ts_us = (t + midnight_utc_s) * 1_000_000
    return DayPings(person_id=people.person_id[row], ts_us=ts_us, lon=plon, lat=plat)


def _checkins(
    *,
    people: People,
    rng: np.random.Generator,
    breaks: IntArray,
    venue: IntArray,
    used: npt.NDArray[np.bool_],
    midnight_utc_s: int,
) -> DayCheckins:
    stops = np.array(VENUE_STOPS)
    arrive = breaks[:, 2 * stops]
    depart = breaks[:, 2 * stops + 1]
    visit = used[:, stops] & (depart - arrive >= MIN_VISIT_S)
    row, col = np.nonzero(visit)  # row-major: by person, then by time
    size = len(row)
    check_in = arrive[row, col] + rng.integers(0, 60, size)
    check_out = depart[row, col] - rng.integers(0, 60, size)
    missing = rng.random(size) < FORGET_CHECKOUT
    return DayCheckins(
        person_id=people.person_id[row],
        venue_id=venue[row, stops[col]] + 1,
        check_in_us=(check_in + midnight_utc_s) * 1_000_000,
        check_out_us=(check_out + midnight_utc_s) * 1_000_000,
        check_out_missing=missing,
    )
