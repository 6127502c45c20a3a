"""Writes of mass testing: rounds, sampling sites and their queues, tubes scanned person by person,
Transfer boxes are in ``testing.boxes``, results and recalls in ``testing.results``.

Rules:
- a round's areas each take the protocol's tube size for their level (``[testing.pool_size]``);
- a tube is opened at a site inside one of the round's areas, with that area's size, under a
  barcode of the lab's format (``FANGKONG_TUBE_BARCODE``) never used before;
- a person gives one swab per round; a person under quarantine is never pooled (a single tube,
  see ``testing.quarantined``); a recalled member gives their re-sample in a tube of kind
  ``resample`` (one person); in a sealed area with household tubes a tube holds one household;
- a tube that is full takes nobody more; a closed tube takes nobody; only closed tubes are packed;
- every write is audited and through the actor's scope (``testing.sample`` over the site,
  ``testing.manage`` over a round's or site's unit).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.audit.services import audit_record
from fangkong.common.errors import Conflict, Forbidden, Invalid, NotFound
from fangkong.common.masking import mask_name
from fangkong.common.protocol import active_profile
from fangkong.contacts.handoff import person_by_document
from fangkong.orgs.models import OrgUnit
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import can, scope_roots
from fangkong.people.models import Person
from fangkong.quarantine.lab_rows import plain_text
from fangkong.testing.codes import person_id_from_code
from fangkong.testing.models import (
    AreaLevel,
    QueueStatus,
    Recall,
    RecallStatus,
    Round,
    RoundArea,
    SamplingSite,
    Tube,
    TubeKind,
    TubeMember,
    TubeStatus,
)
from fangkong.testing.quarantined import in_quarantine
from fangkong.worklist.kinds import PERSON, RECALL, Event
from fangkong.worklist.services import work_items_end


def _require(actor: User, perm: Perm, unit: OrgUnit, what: str) -> None:
    if not can(actor, perm, unit):
        raise Forbidden(what)


# --- rounds and sites ---------------------------------------------------------------------------


@transaction.atomic
def round_create(
    *,
    actor: User,
    name: str,
    org_unit: OrgUnit,
    starts_at: datetime,
    ends_at: datetime,
    areas: Sequence[tuple[OrgUnit, str]],
    valid_hours: int | None = None,
) -> Round:
    """A round over ``areas`` (unit, level), each with the protocol's tube size for its level."""
    _require(actor, Perm.TESTING_MANAGE, org_unit, _("Your role may not plan testing rounds here."))
    rule = active_profile().testing
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = [_("Name the round.")]
    if timezone.is_naive(starts_at) or timezone.is_naive(ends_at):
        errors["starts_at"] = [_("The time must carry a time zone.")]
    elif ends_at <= starts_at:
        errors["ends_at"] = [_("The round must end after it starts.")]
    valid = valid_hours or rule.valid_hours[0]
    if valid not in rule.valid_hours:
        errors["valid_hours"] = [
            _("The protocol allows results valid for %(h)s hours.")
            % {"h": "/".join(map(str, rule.valid_hours))}
        ]
    if not areas:
        errors["areas"] = [_("Choose at least one area.")]
    for unit, level in areas:
        if level not in AreaLevel.values:
            errors["areas"] = [_("Unknown area level “%(l)s”.") % {"l": level[:20]}]
        elif not unit.path.startswith(org_unit.path):
            errors["areas"] = [_("%(u)s lies outside %(o)s.") % {"u": unit.name, "o": org_unit.name}]
    if len({unit.pk for unit, _level in areas}) != len(areas):
        errors["areas"] = [_("An area is listed twice.")]
    if errors:
        raise Invalid(errors)
    made = Round.objects.create(
        name=name.strip()[:100],
        org_unit=org_unit,
        starts_at=starts_at,
        ends_at=ends_at,
        valid_hours=valid,
        protocol=active_profile().name,
        created_by=actor,
    )
    RoundArea.objects.bulk_create(
        RoundArea(round=made, org_unit=unit, level=level, pool_size=rule.pool_for(level))
        for unit, level in areas
    )
    audit_record(
        actor=actor,
        action="testing.round.create",
        target=made,
        after={"areas": [[unit.code, level] for unit, level in areas], "valid_hours": valid},
    )
    return made


@dataclass(frozen=True)
class SiteData:
    name: str
    address: str
    lon: float
    lat: float
    hours: str
    teams: int = 1


@transaction.atomic
def site_create(*, actor: User, community: OrgUnit, data: SiteData) -> SamplingSite:
    """A sampling site of ``community`` at a place in the city's box (lon 73–135, lat 3–54)."""
    _require(actor, Perm.TESTING_MANAGE, community, _("Your role may not set up sampling sites here."))
    errors: dict[str, list[str]] = {}
    for field in ("name", "address", "hours"):
        if not getattr(data, field).strip():
            errors[field] = [_("This field is required.")]
    if not (73 <= data.lon <= 135 and 3 <= data.lat <= 54):  # NaN fails both
        errors["lon"] = [_("The place must lie in China (longitude 73–135, latitude 3–54).")]
    if not 1 <= data.teams <= 100:
        errors["teams"] = [_("Between 1 and 100 teams.")]
    if errors:
        raise Invalid(errors)
    site = SamplingSite.objects.create(
        org_unit=community,
        name=data.name.strip()[:100],
        address=data.address.strip()[:200],
        lon=data.lon,
        lat=data.lat,
        hours=data.hours.strip()[:100],
        teams=data.teams,
    )
    audit_record(actor=actor, action="testing.site.create", target=site)
    return site


@transaction.atomic
def site_queue_post(
    *, actor: User, site: SamplingSite, queue: str, minutes: int | None = None
) -> SamplingSite:
    """The site's staff post its queue (the portal shows it with the time it was posted)."""
    _require(actor, Perm.TESTING_SAMPLE, site.org_unit, _("Your role may not post this site's queue."))
    if queue not in QueueStatus.values:
        raise Invalid.field("queue", _("Unknown queue status."))
    if minutes is not None and not 0 <= minutes <= 600:
        raise Invalid.field("queue_minutes", _("Between 0 and 600 minutes."))
    site.queue, site.queue_minutes, site.queue_at = queue, minutes, timezone.now()
    site.save(update_fields=["queue", "queue_minutes", "queue_at", "updated_at"])
    audit_record(
        actor=actor, action="testing.site.queue", target=site, after={"queue": queue, "minutes": minutes}
    )
    return site


# --- tubes --------------------------------------------------------------------------------------


def may_sample(actor: User, site: SamplingSite, *, kind: str = TubeKind.POOL) -> bool:
    """Whether ``actor`` samples at ``site``: ``testing.sample`` over its community; for a
    re-sample at the door, also a grid worker of one of the community's grids."""
    if can(actor, Perm.TESTING_SAMPLE, site.org_unit):
        return True
    return kind == TubeKind.RESAMPLE and any(
        root.path.startswith(site.org_unit.path) for root in scope_roots(actor, Perm.TESTING_SAMPLE)
    )


def area_of(*, round: Round, site: SamplingSite) -> RoundArea | None:
    """The round's area the site lies in (the deepest, when areas nest)."""
    areas = [
        a for a in round.areas.select_related("org_unit") if site.org_unit.path.startswith(a.org_unit.path)
    ]
    return max(areas, key=lambda a: len(a.org_unit.path), default=None)


def barcode_check(barcode: str) -> str:
    """The barcode as the lab prints it; ``Invalid`` on ``barcode`` when it is not of its format."""
    text = plain_text(barcode).upper()  # full-width digits typed on a Chinese keyboard made plain
    if not re.fullmatch(settings.FANGKONG_TUBE_BARCODE, text):
        raise Invalid.field(
            "barcode", _("“%(b)s” is not a tube barcode of the lab's format.") % {"b": text[:32]}
        )
    return text


@transaction.atomic
def tube_open(
    *, actor: User, round: Round, site: SamplingSite, barcode: str, kind: str = TubeKind.POOL
) -> Tube:
    """Open a tube at ``site`` for ``round``: pooled at the size of the site's area, single, or a
    re-sample (one person)."""
    if not may_sample(actor, site, kind=kind):
        raise Forbidden(_("Your role may not sample at this site."))
    code = barcode_check(barcode)
    if kind not in TubeKind.values:
        raise Invalid.field("kind", _("Unknown kind of tube."))
    now = timezone.now()
    if not round.starts_at <= now <= round.ends_at and kind != TubeKind.RESAMPLE:
        raise Conflict(_("The round is not under way: it runs %(a)s – %(b)s.") % _window(round))
    area = area_of(round=round, site=site)
    if area is None:
        raise Invalid.field("site", _("This site lies outside the round's areas."))
    capacity = 1 if kind != TubeKind.POOL else tube_capacity(area)
    existing = Tube.objects.filter(barcode=code).select_related("site").first()
    if existing is not None:
        where = existing.site.name if existing.site_id != site.pk else _("this site")
        raise Conflict(_("Tube %(b)s was already used, at %(s)s.") % {"b": code, "s": where})
    try:
        with transaction.atomic():
            tube = Tube.objects.create(
                barcode=code,
                round=round,
                site=site,
                kind=kind,
                capacity=capacity,
                household=kind == TubeKind.POOL and household_tubes(area),
                opened_by=actor,
            )
    except IntegrityError:  # the same barcode opened at another site a moment ago
        raise Conflict(_("Tube %(b)s was already used.") % {"b": code}) from None
    audit_record(
        actor=actor, action="testing.tube.open", target=tube, after={"kind": kind, "capacity": capacity}
    )
    return tube


def household_tubes(area: RoundArea) -> bool:
    """Whether a pooled tube of ``area`` holds one household (sealed, where the protocol says so)."""
    return area.level == AreaLevel.SEALED and active_profile().testing.household_tubes_when_sealed


def tube_capacity(area: RoundArea) -> int:
    if household_tubes(area):
        return active_profile().testing.max_pool  # one household, however many (up to the largest pool)
    return area.pool_size


def _window(round: Round) -> dict[str, str]:
    return {
        "a": timezone.localtime(round.starts_at).strftime("%m-%d %H:%M"),
        "b": timezone.localtime(round.ends_at).strftime("%m-%d %H:%M"),
    }


@dataclass(frozen=True)
class Scanned:
    """What a scan did, for the collector's screen: the tube (as it stands now), the masked name
    and how full the tube is."""

    tube: Tube
    member: TubeMember
    masked_name: str

    @property
    def count(self) -> int:
        return self.tube.members_count

    @property
    def capacity(self) -> int:
        return self.tube.capacity

    @property
    def full(self) -> bool:
        return self.count >= self.capacity


SCANNED_FIELDS = ("pk", "name", "org_unit", "household")  # what a scan reads of the person


def person_for_scan(code: str) -> Person | None:
    """The person a scanned code names: a 核酸码, or a typed resident ID number (anywhere in the
    city: people are sampled where they are)."""
    text = code.strip()
    if text.upper().startswith("FK"):
        pk = person_id_from_code(text)
        return (
            None
            if pk is None
            else Person.objects.only(*SCANNED_FIELDS).filter(pk=pk, merged_into__isnull=True).first()
        )
    return person_by_document(number=text) if text else None


class _SampledAlready(Exception):
    """The unique swab of the round refused the insert (raised out of the scan's transaction, so
    that it is rolled back, the place claimed in the tube too, before the refusal is worded)."""


TUBE_FOR_SCAN = (  # what a scan reads of the tube and its site (the rest, if shown, when shown)
    "barcode", "kind", "capacity", "status", "members_count", "household", "opened_by", "round",
    "site__org_unit__path",
)  # fmt: skip


def tube_scan(*, actor: User, tube_id: int, code: str) -> Scanned:
    """Add the person ``code`` names to the tube.

    The tube, the person and the actor's right are read first; the write then claims a place in
    the tube with one conditional update (open and not full, whichever collector scans first) and
    inserts the swab, which the database's one-swab-per-round rule refuses for a person sampled
    before. A refusal rolls the whole scan back. The write lock is held for the writes alone."""
    tube = Tube.objects.select_related("site__org_unit").only(*TUBE_FOR_SCAN).filter(pk=tube_id).first()
    if tube is None:
        raise NotFound("tube")
    if not may_sample(actor, tube.site, kind=tube.kind):
        if tube.opened_by_id != actor.pk and not can(actor, Perm.TESTING_VIEW, tube.site.org_unit):
            raise NotFound("tube")
        raise Forbidden(_("Your role may not sample at this site."))
    _open_and_not_full(tube)
    person = person_for_scan(code)
    if person is None:
        raise Invalid.field(
            "code",
            _(
                "Unknown code: nobody in the register has this 核酸码 or ID number. Register the person first."
            ),
        )
    if tube.kind == TubeKind.POOL and in_quarantine({person.pk}):
        raise Conflict(
            _("%(n)s is under quarantine: sample them alone, in a single tube (their order's test).")
            % {"n": mask_name(person.name)}
        )
    try:
        return _swab_write(actor=actor, tube=tube, person=person)
    except _SampledAlready:
        first = (
            TubeMember.objects.filter(round=tube.round_id, person=person, recall__isnull=True)
            .select_related("tube")
            .first()
        )
        raise Conflict(
            _("%(n)s was already sampled in this round (tube %(b)s).")
            % {"n": mask_name(person.name), "b": first.tube.barcode if first else "?"}
        ) from None


def _open_and_not_full(tube: Tube) -> None:
    if tube.status != TubeStatus.OPEN:
        raise Conflict(_("Tube %(b)s is closed.") % {"b": tube.barcode})
    if tube.members_count >= tube.capacity:
        raise Conflict(_("Tube %(b)s is full (%(n)d people).") % {"b": tube.barcode, "n": tube.capacity})


@transaction.atomic
def _swab_write(*, actor: User, tube: Tube, person: Person) -> Scanned:
    now = timezone.now()
    claimed = Tube.objects.filter(pk=tube.pk, status=TubeStatus.OPEN, members_count__lt=F("capacity")).update(
        members_count=F("members_count") + 1, updated_at=now
    )
    if not claimed:  # closed or filled since it was read
        tube.status, tube.members_count = Tube.objects.values_list("status", "members_count").get(pk=tube.pk)
        _open_and_not_full(tube)
    recall = _recall_waiting(actor=actor, tube=tube, person=person)
    if tube.household and tube.members_count:
        others = set(TubeMember.objects.filter(tube=tube).values_list("person__household_id", flat=True))
        if person.household_id is None or person.household_id not in others:
            raise Conflict(_("In a sealed area a tube holds one household: open a new tube."))
    try:
        member = TubeMember.objects.create(
            tube=tube,
            round_id=tube.round_id,
            person=person,
            grid_id=person.org_unit_id,
            recall=recall,
            scanned_at=now,
            scanned_by=actor,
        )
    except IntegrityError:  # sampled before in the round, or a moment ago in another tube
        raise _SampledAlready() from None
    tube.members_count += 1  # as claimed (a second phone on the same tube may have added one more)
    if recall is None:  # a home sample asked for the person is done
        work_items_end(actor=actor, event=Event.PERSON_SAMPLED, subject_type=PERSON, subject_ids={person.pk})
    else:
        recall.status, recall.resampled_at = RecallStatus.SAMPLED, now
        recall.save(update_fields=["status", "resampled_at", "updated_at"])
        work_items_end(actor=actor, event=Event.RECALL_SAMPLED, subject_type=RECALL, subject_ids={recall.pk})
    audit_record(actor=actor, action="testing.tube.scan", target=tube, after={"person": person.pk})
    return Scanned(tube=tube, member=member, masked_name=mask_name(person.name))


def _recall_waiting(*, actor: User, tube: Tube, person: Person) -> Recall | None:
    """For a re-sample tube, the person's waiting recall of the round (locked); None otherwise."""
    if tube.kind != TubeKind.RESAMPLE:
        return None
    recall = (
        Recall.objects.select_for_update()
        .filter(person=person, status=RecallStatus.WAITING, pool__round=tube.round)
        .first()
    )
    if recall is None:
        raise Conflict(
            _("%(n)s is not waiting for a re-sample in this round.") % {"n": mask_name(person.name)}
        )
    if not can(actor, Perm.TESTING_SAMPLE, person.org_unit):
        raise Forbidden(_("%(n)s lives outside your area.") % {"n": mask_name(person.name)})
    return recall


@transaction.atomic
def tube_close(*, actor: User, tube: Tube) -> Tube:
    """Close a tube with at least one swab in it (an empty tube is thrown away, not closed)."""
    tube = Tube.objects.select_for_update().select_related("site__org_unit").get(pk=tube.pk)
    if not may_sample(actor, tube.site, kind=tube.kind):
        raise Forbidden(_("Your role may not sample at this site."))
    if tube.status != TubeStatus.OPEN:
        raise Conflict(_("Tube %(b)s is already closed.") % {"b": tube.barcode})
    if not tube.members_count:
        raise Conflict(_("Tube %(b)s is empty: scan at least one person.") % {"b": tube.barcode})
    tube.status, tube.closed_at = TubeStatus.CLOSED, timezone.now()
    tube.save(update_fields=["status", "closed_at", "updated_at"])
    audit_record(actor=actor, action="testing.tube.close", target=tube, after={"people": tube.members_count})
    return tube
