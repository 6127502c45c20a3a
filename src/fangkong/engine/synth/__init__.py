"""Synthetic mobility: a seeded, reproducible city's location pings and venue check-ins (场所码).

``synth_city(people=..., days=..., out=...)`` writes the engine's shared Parquet layout (see
:mod:`fangkong.engine.synth.generate`); ``python -m fangkong.engine.synth`` is its command line.
"""

from __future__ import annotations

from fangkong.engine.synth.city import VENUE_KINDS, VENUES_SCHEMA, City, city_build, venues_table
from fangkong.engine.synth.days import NOISE_MAX_M, PING_GAP_MAX_S, PING_GAP_MIN_S
from fangkong.engine.synth.generate import (
    CHECKINS_SCHEMA,
    PINGS_SCHEMA,
    TIMEZONE,
    SynthSummary,
    day_tables,
    local_midnight_utc_s,
    synth_city,
)
from fangkong.engine.synth.geo import DEMO_BBOX, BBox
from fangkong.engine.synth.population import People, Role, people_chunk

__all__ = [
    "CHECKINS_SCHEMA",
    "DEMO_BBOX",
    "NOISE_MAX_M",
    "PINGS_SCHEMA",
    "PING_GAP_MAX_S",
    "PING_GAP_MIN_S",
    "TIMEZONE",
    "VENUES_SCHEMA",
    "VENUE_KINDS",
    "BBox",
    "City",
    "People",
    "Role",
    "SynthSummary",
    "city_build",
    "day_tables",
    "local_midnight_utc_s",
    "people_chunk",
    "synth_city",
    "venues_table",
]
