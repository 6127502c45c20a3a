"""Triage of the people a discovery run finds (分级): a proposed close contact or a spatiotemporal
companion (时空伴随者), and a score that ranks them. Pure: no database, no engine.

The tier follows the protocol's ``[triage]`` table (``protocols.TriageRule``):

- a person of the case's own household is a close contact (top score);
- shared venue visits (场所码) of at least ``close_venue_minutes`` on one local day (china-9: any
  shared visit; who-2021: 15 minutes) propose a close contact;
- daytime co-presence in a cell of at least ``close_daytime_minutes`` on one local day (china-9:
  120) proposes a close contact. Only an overlap lying wholly within the day window of one day
  (07:00–22:00) is daytime; one reaching into the night is two people at home in the same 800 m
  cell — neighbours asleep — and never proposes anyone;
- everyone else found is a companion.

The score (0–100) says how much the evidence weighs, so that a reviewer reads the strongest first::

    weight  = Σ minutes × place × time           over the person's overlaps with the case
              place: venue 1.0 (indoors, together), cell 0.25 (somewhere in the same 800 m square)
              time:  1.0, or 0.05 for a cell overlap reaching into the night (asleep, apart)
    score   = round(90 × (1 − e^(−weight / 120)))  saturating: more of the same adds less and less
    score   = 100 for the case's own household

So a 20-minute shared restaurant visit scores 14, an hour at the same gym 35, a shared working
day in a cell (8 h) 57 and five of them 89, a night as neighbours in one cell (10 h) 5 and a week
of nights 32; nothing but a member of the household reaches 100.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from fangkong.protocols import TriageRule

Tier = Literal["close", "companion"]
CLOSE: Tier = "close"
COMPANION: Tier = "companion"

VENUE_WEIGHT = 1.0
CELL_WEIGHT = 0.25
NIGHT_WEIGHT = 0.05
SATURATION_MINUTES = 120.0
CEILING = 90
HOUSEHOLD_SCORE = 100


@dataclass(frozen=True, slots=True)
class Verdict:
    """The tier of one person found, its score and the rule that decided it."""

    tier: Tier
    score: int
    reason: Literal["household", "venue", "daytime", "companion"]
    venue_minutes: float  # the most shared venue minutes on one local day
    daytime_minutes: float  # the most daytime cell co-presence on one local day


def triage(*, exposures: Iterable[Mapping[str, Any]], household: bool, rule: TriageRule) -> Verdict:
    """The tier and score of one person from their overlaps with the case (rows of the engine's
    exposures table: ``where_kind`` 'venue' or 'cell', ``overlap_start``, ``overlap_end``,
    ``minutes``) and whether they share the case's household (see the module for the rules)."""
    zone = ZoneInfo(rule.timezone)
    venue_by_day: defaultdict[date, float] = defaultdict(float)
    daytime_by_day: defaultdict[date, float] = defaultdict(float)
    weight = 0.0
    for row in exposures:
        minutes = float(row["minutes"])
        start: datetime = row["overlap_start"]
        if row["where_kind"] == "venue":
            venue_by_day[start.astimezone(zone).date()] += minutes
            weight += minutes * VENUE_WEIGHT
            continue
        day = rule.daytime_day(start, row["overlap_end"])
        if day is None:
            weight += minutes * CELL_WEIGHT * NIGHT_WEIGHT
        else:
            daytime_by_day[day] += minutes
            weight += minutes * CELL_WEIGHT
    venue = max(venue_by_day.values(), default=0.0)
    daytime = max(daytime_by_day.values(), default=0.0)
    if household:
        return Verdict(CLOSE, HOUSEHOLD_SCORE, "household", venue, daytime)
    score = evidence_score(weight=weight)
    if venue > 0 and venue >= rule.close_venue_minutes:
        return Verdict(CLOSE, score, "venue", venue, daytime)
    if daytime >= rule.close_daytime_minutes:
        return Verdict(CLOSE, score, "daytime", venue, daytime)
    return Verdict(COMPANION, score, "companion", venue, daytime)


def evidence_score(*, weight: float) -> int:
    """The score of weighted minutes: ``round(90 × (1 − e^(−weight / 120)))``, 0 to 90."""
    if weight <= 0:
        return 0
    return min(CEILING, round(CEILING * (1.0 - math.exp(-weight / SATURATION_MINUTES))))
