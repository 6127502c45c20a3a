"""Tubes recorded as a set: a phone that sampled offline uploads its tubes at once, and the demo
and the benchmark write a day of sampling through the same rules.

The rules are those of a scan (``testing.services``), checked for the whole set with a constant
number of queries: the barcode of the lab's format and never used (in the database or twice in
the set); no more people than the area's tube size; each person known, not under quarantine
(never pooled: ``testing.quarantined``) and sampled once in the round (in the database or twice
in the set); in a sealed area with household tubes, one household
per tube. A tube that breaks a rule is refused with its key, field and reason; the others are
written: the tubes, their members and one audit event per tube, each in one bulk insert.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.audit.services import audit_rows
from fangkong.common.errors import Forbidden, Invalid
from fangkong.common.rows import objects_insert, rows_insert
from fangkong.people.models import Person
from fangkong.testing.models import Round, SamplingSite, Tube, TubeKind, TubeMember, TubeStatus
from fangkong.testing.quarantined import in_quarantine
from fangkong.testing.services import area_of, barcode_check, household_tubes, may_sample, tube_capacity
from fangkong.worklist.kinds import PERSON, Event
from fangkong.worklist.models import OPEN_STATUSES, WorkItem
from fangkong.worklist.services import work_items_end

LIMIT = 5000
"""The most tubes one set takes (100,000 people at 20 in a tube)."""


@dataclass(frozen=True)
class TubeScans:
    """One tube as the collector filled it: its barcode, its people (register numbers, in the
    order scanned), when it was closed; ``key`` names it to the caller."""

    key: int
    barcode: str
    person_ids: Sequence[int]
    closed_at: datetime


@dataclass
class TubesRecorded:
    tubes: list[Tube] = field(default_factory=list)
    people: int = 0
    refused: list[tuple[int, str, str]] = field(default_factory=list)  # key, field, reason


@transaction.atomic
def tubes_record(
    *,
    actor: User,
    round: Round,
    site: SamplingSite,
    tubes: Sequence[TubeScans],
    kind: str = TubeKind.POOL,
) -> TubesRecorded:
    """Write the closed tubes of ``site`` for ``round`` (see the module): pooled, or single tubes
    of one person each (people under quarantine among them)."""
    if not may_sample(actor, site):
        raise Forbidden(_("Your role may not sample at this site."))
    if kind not in (TubeKind.POOL, TubeKind.SINGLE):
        raise Invalid.field("kind", _("Pooled or single tubes only (a re-sample is scanned)."))
    if len(tubes) > LIMIT:
        raise Invalid.field("tubes", _("At most %(n)d tubes at once.") % {"n": LIMIT})
    area = area_of(round=round, site=site)
    if area is None:
        raise Invalid.field("site", _("This site lies outside the round's areas."))
    capacity = tube_capacity(area) if kind == TubeKind.POOL else 1
    households_only = kind == TubeKind.POOL and household_tubes(area)
    out = TubesRecorded()
    barcodes: dict[int, str] = {}
    for tube in tubes:
        try:
            barcodes[tube.key] = barcode_check(tube.barcode)
        except Invalid as error:
            out.refused += [(tube.key, f, m) for f, ms in error.errors.items() for m in ms]
    used = set(Tube.objects.filter(barcode__in=list(barcodes.values())).values_list("barcode", flat=True))
    wanted = {pk for tube in tubes for pk in tube.person_ids}
    people = {
        p.pk: p
        for p in Person.objects.filter(pk__in=wanted, merged_into__isnull=True).only(
            "pk", "household", "name", "org_unit"
        )
    }
    sampled = set(
        TubeMember.objects.filter(round=round, person_id__in=wanted, recall__isnull=True).values_list(
            "person_id", flat=True
        )
    )
    quarantined = in_quarantine(wanted) if kind == TubeKind.POOL else set()
    now = timezone.now()
    good: list[tuple[TubeScans, str]] = []
    seen_barcodes: set[str] = set()
    for tube in tubes:
        code = barcodes.get(tube.key)
        if code is None:
            continue
        reason = _tube_refusal(
            tube, code, used | seen_barcodes, people, sampled, quarantined, capacity, households_only, now
        )
        if reason is not None:
            out.refused.append((tube.key, *reason))
            continue
        seen_barcodes.add(code)
        sampled |= set(tube.person_ids)
        good.append((tube, code))
    made = objects_insert(
        [
            Tube(
                barcode=code,
                round=round,
                site=site,
                kind=kind,
                capacity=capacity,
                status=TubeStatus.CLOSED,
                opened_by=actor,
                members_count=len(tube.person_ids),
                household=households_only,
                closed_at=tube.closed_at,
                result="",
                lab="",
            )
            for tube, code in good
        ]
    )
    rows_insert(
        TubeMember,
        columns=["tube", "round", "person", "grid", "recall", "scanned_at", "scanned_by"],
        rows=[
            (made_tube.pk, round.pk, pk, people[pk].org_unit_id, None, tube.closed_at, actor.pk)
            for (tube, _code), made_tube in zip(good, made, strict=True)
            for pk in tube.person_ids
        ],
    )
    label = Tube._meta.label_lower
    audit_rows(
        actor=actor,
        action="testing.tube.record",
        rows=[(label, str(t.pk), t.barcode, site.org_unit_id, {"people": t.members_count}) for t in made],
    )
    asked = set(  # home samples asked for: few, so read them all rather than name 100,000 people
        WorkItem.objects.filter(kind="testing.home_sample", status__in=OPEN_STATUSES).values_list(
            "subject_id", flat=True
        )
    )
    done = {str(pk) for tube, _code in good for pk in tube.person_ids} & asked
    if done:
        work_items_end(actor=actor, event=Event.PERSON_SAMPLED, subject_type=PERSON, subject_ids=done)
    out.tubes, out.people = list(made), sum(t.members_count for t in made)
    return out


def _tube_refusal(
    tube: TubeScans,
    code: str,
    used: set[str],
    people: dict[int, Person],
    sampled: set[int],
    quarantined: set[int],
    capacity: int,
    households_only: bool,
    now: datetime,
) -> tuple[str, str] | None:
    """Why ``tube`` cannot be written (field, reason), or None."""
    if code in used:
        return "barcode", _("Tube %(b)s was already used.") % {"b": code}
    if not tube.person_ids:
        return "people", _("Tube %(b)s is empty.") % {"b": code}
    if len(tube.person_ids) > capacity:
        return "people", _("Tube %(b)s holds %(n)d people; this area's tubes hold %(m)d.") % {
            "b": code,
            "n": len(tube.person_ids),
            "m": capacity,
        }
    if timezone.is_naive(tube.closed_at) or tube.closed_at > now:
        return "closed_at", _("The closing time must carry a time zone and not be in the future.")
    if len(set(tube.person_ids)) != len(tube.person_ids):
        return "people", _("A person is listed twice in tube %(b)s.") % {"b": code}
    unknown = [pk for pk in tube.person_ids if pk not in people]
    if unknown:
        return "people", _("No person with register number %(p)s.") % {"p": unknown[0]}
    twice = [pk for pk in tube.person_ids if pk in sampled]
    if twice:
        return "people", _("Person %(p)s was already sampled in this round.") % {"p": twice[0]}
    isolated = [pk for pk in tube.person_ids if pk in quarantined]
    if isolated:
        return "people", _("Person %(p)s is under quarantine: sampled alone, never pooled.") % {
            "p": isolated[0]
        }
    if households_only and len({people[pk].household_id for pk in tube.person_ids}) > 1:
        return "people", _("In a sealed area a tube holds one household.")
    return None
