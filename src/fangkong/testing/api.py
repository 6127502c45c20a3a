"""API of mass testing: a phone's tubes uploaded at once, tube results from a lab's system, and
a round's coverage by grid."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from fangkong.common.api import ErrorOut, Id, actor_of
from fangkong.testing import coverage, selectors
from fangkong.testing.batch import LIMIT, TubeScans, tubes_record
from fangkong.testing.codes import people_from_codes
from fangkong.testing.results import ResultRow, tube_results_record

router = Router()
ERRORS: dict[int, Any] = {409: ErrorOut, 422: ErrorOut}


class TubeIn(Schema):
    barcode: str = Field(..., max_length=40)
    codes: list[str] = Field(..., min_length=1, max_length=20)  # 核酸码 of the people, in scan order
    closed_at: datetime


class TubesIn(Schema):
    round_id: Id
    site_id: Id
    tubes: list[TubeIn] = Field(..., min_length=1, max_length=LIMIT)


class RefusalOut(Schema):
    index: int
    field: str
    reason: str


class TubesOut(Schema):
    tubes: int
    people: int
    refused: list[RefusalOut]


@router.post("/tubes/batch", response={200: TubesOut, **ERRORS})
def tubes_upload(request: HttpRequest, payload: TubesIn) -> Any:
    """A collector's closed tubes, sampled offline, uploaded at once: each tube is written or
    refused with its index (the barcode used, a person already sampled, an unknown code, …)."""
    actor = actor_of(request)
    the_round = selectors.round_get(actor=actor, round_id=payload.round_id)
    site = selectors.site_get(actor=actor, site_id=payload.site_id)
    people = people_from_codes([c for t in payload.tubes for c in t.codes])
    refused: list[dict[str, Any]] = []
    scans = []
    for index, tube in enumerate(payload.tubes):
        unknown = [c for c in tube.codes if c not in people]
        if unknown:
            refused.append({"index": index, "field": "codes", "reason": "unknown or expired 核酸码"})
            continue
        scans.append(TubeScans(index, tube.barcode, [people[c].pk for c in tube.codes], tube.closed_at))
    out = tubes_record(actor=actor, round=the_round, site=site, tubes=scans)
    refused += [{"index": k, "field": f, "reason": m} for k, f, m in out.refused]
    return {
        "tubes": len(out.tubes),
        "people": out.people,
        "refused": sorted(refused, key=lambda r: r["index"]),
    }


class TubeResultIn(Schema):
    barcode: str = Field(..., max_length=40)
    result: str
    tested_at: datetime
    lab: str = Field(..., max_length=100)
    ct_orf: float | None = Field(None, ge=0, le=50)
    ct_n: float | None = Field(None, ge=0, le=50)


class TubeResultsIn(Schema):
    results: list[TubeResultIn] = Field(..., min_length=1, max_length=100_000)


class TubeResultsOut(Schema):
    recorded: int
    unchanged: int
    conflicts: int
    positive_tubes: list[str]
    recalls: int
    cases: list[str]
    refused: list[RefusalOut]


@router.post("/results", response={200: TubeResultsOut, **ERRORS})
def results_record(request: HttpRequest, payload: TubeResultsIn) -> Any:
    """Tube results from a lab's system, as a file would bring them (same rules, by index)."""
    rows = [
        ResultRow(
            key=i,
            barcode=r.barcode.strip().upper(),
            result=r.result,
            tested_at=r.tested_at,
            lab=r.lab,
            ct_orf=r.ct_orf,
            ct_n=r.ct_n,
        )
        for i, r in enumerate(payload.results)
    ]
    out = tube_results_record(actor=actor_of(request), rows=rows)
    return {
        "recorded": out.recorded,
        "unchanged": out.unchanged,
        "conflicts": out.conflicts,
        "positive_tubes": out.positive_tubes,
        "recalls": out.recalls,
        "cases": out.cases,
        "refused": [{"index": k, "field": f, "reason": m} for k, f, m in sorted(out.refused)],
    }


class GridOut(Schema):
    grid_code: str
    grid_name: str
    expected: int
    sampled: int
    resulted: int
    positive: int


@router.get("/rounds/{round_id}/coverage", response=list[GridOut])
def round_coverage(request: HttpRequest, round_id: int) -> Any:
    """The round's coverage by grid of the caller's area."""
    actor = actor_of(request)
    the_round = selectors.round_get(actor=actor, round_id=round_id)
    return [
        {
            "grid_code": r.grid.code,
            "grid_name": r.grid.name,
            "expected": r.expected,
            "sampled": r.sampled,
            "resulted": r.resulted,
            "positive": r.positive,
        }
        for r in coverage.coverage_by_grid(actor=actor, the_round=the_round)
    ]
