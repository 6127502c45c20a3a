"""Triage of the people a discovery finds: tiers by the profile, and the score that ranks them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa

from fangkong.contacts.triage import CLOSE, COMPANION, evidence_score, triage
from fangkong.engine.schema import EXPOSURES
from fangkong.protocols import load_profile

SHANGHAI = ZoneInfo("Asia/Shanghai")
CHINA_9 = load_profile("china-9").triage
WHO = load_profile("who-2021").triage


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2022, 6, day, hour, minute, tzinfo=SHANGHAI)


def exposures(*rows: tuple[str, datetime, datetime]) -> list[dict[str, Any]]:
    """Rows of the engine's exposures table (as a match result holds them) for one person."""
    table = pa.Table.from_pylist(
        [
            {
                "person_id": 2,
                "case_id": 1,
                "where_kind": kind,
                "where_id": 7,
                "overlap_start": start,
                "overlap_end": end,
                "minutes": (end - start) / timedelta(minutes=1),
            }
            for kind, start, end in rows
        ],
        schema=EXPOSURES,
    )
    return table.to_pylist()


def test_a_shared_venue_visit_is_a_close_proposal_in_china_9() -> None:
    verdict = triage(
        exposures=exposures(("venue", at(10, 12), at(10, 12, 20))), household=False, rule=CHINA_9
    )
    assert (verdict.tier, verdict.reason, verdict.score) == (CLOSE, "venue", 14)


def test_who_2021_proposes_a_venue_only_after_15_minutes_in_one_day() -> None:
    short = exposures(("venue", at(10, 12), at(10, 12, 10)), ("venue", at(11, 12), at(11, 12, 10)))
    assert triage(exposures=short, household=False, rule=WHO).tier == COMPANION
    same_day = exposures(("venue", at(10, 12), at(10, 12, 10)), ("venue", at(10, 18), at(10, 18, 5)))
    assert triage(exposures=same_day, household=False, rule=WHO).reason == "venue"


def test_long_daytime_co_presence_in_a_cell_is_a_close_proposal() -> None:
    # two stretches on one day add up: 90 + 30 minutes
    rows = exposures(("cell", at(10, 9), at(10, 10, 30)), ("cell", at(10, 14), at(10, 14, 30)))
    verdict = triage(exposures=rows, household=False, rule=CHINA_9)
    assert (verdict.tier, verdict.reason, verdict.daytime_minutes) == (CLOSE, "daytime", 120.0)


def test_daytime_minutes_count_per_day_not_over_the_range() -> None:
    rows = exposures(("cell", at(10, 9), at(10, 10)), ("cell", at(11, 9), at(11, 10)))
    verdict = triage(exposures=rows, household=False, rule=CHINA_9)
    assert (verdict.tier, verdict.daytime_minutes) == (COMPANION, 60.0)


def test_night_only_co_presence_is_a_companion_however_long() -> None:
    nights = exposures(*[("cell", at(day, 22, 30), at(day + 1, 6, 30)) for day in range(10, 17)])
    verdict = triage(exposures=nights, household=False, rule=CHINA_9)
    assert (verdict.tier, verdict.daytime_minutes) == (COMPANION, 0.0)
    # an evening at home that runs into the night is the same: neighbours, not a shared day
    evening = exposures(("cell", at(10, 18), at(11, 8)))
    assert triage(exposures=evening, household=False, rule=CHINA_9).tier == COMPANION


def test_the_case_household_is_close_with_the_top_score() -> None:
    nights = exposures(("cell", at(10, 22, 30), at(11, 6, 30)))
    verdict = triage(exposures=nights, household=True, rule=CHINA_9)
    assert (verdict.tier, verdict.reason, verdict.score) == (CLOSE, "household", 100)


def test_the_score_ranks_venue_over_cell_and_day_over_night_and_saturates() -> None:
    def score(*rows: tuple[str, datetime, datetime]) -> int:
        return triage(exposures=exposures(*rows), household=False, rule=CHINA_9).score

    venue_hour = score(("venue", at(10, 12), at(10, 13)))
    cell_hour = score(("cell", at(10, 12), at(10, 13)))
    night_hour = score(("cell", at(10, 23), at(11, 0)))
    assert venue_hour > cell_hour > night_hour > 0
    workday = score(("cell", at(10, 9), at(10, 17)))
    week = score(*[("cell", at(day, 9), at(day, 17)) for day in range(10, 17)])
    assert (workday, week) == (57, 90)  # more of the same adds less, and never reaches a household
    assert score(("cell", at(10, 22), at(11, 8))) == 5  # a night as neighbours


def test_evidence_score_is_zero_without_weight_and_at_most_90() -> None:
    assert evidence_score(weight=0) == 0
    assert evidence_score(weight=60) == 35
    assert evidence_score(weight=10_000) == 90
