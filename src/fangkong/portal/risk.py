"""Risk areas (风险区): designated by a commander, stepped down by the protocol's rule.

The daily rule proposes a downgrade for every active area whose case-free days are over:
``active_profile().risk_area.downgrade_on(level, last_new_case_on)``, where the last new case is
the latest confirmed or asymptomatic case reported in the area's org-unit subtree, but never
before the area's ``since`` (an area just designated or just stepped down counts its case-free
days from then; with no case at all it counts from ``since``). A low-risk area has no next level
under the protocol: the rule proposes nothing for it, and a commander lifts it by hand.

The rule is idempotent: at most one pending proposal per area (a database constraint), and an
area whose proposal was decided today gets no new one today. A commander approves a proposal
(the level changes, ``since`` becomes the day of approval) or rejects it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.audit.services import audit_record
from fangkong.cases.models import Case
from fangkong.common.errors import Conflict, Forbidden, Invalid
from fangkong.common.locks import serialise
from fangkong.common.protocol import active_profile
from fangkong.orgs.models import OrgUnit
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import can
from fangkong.people.pii import refuse_personal_data
from fangkong.portal.cache import bump_generation
from fangkong.portal.models import ChangeKind, RiskArea, RiskAreaChange, RiskLevel


def _require(actor: Any, unit: OrgUnit) -> None:
    if not can(actor, Perm.PORTAL_APPROVE, unit):
        raise Forbidden(_("Your role may not designate risk areas here."))


def last_new_case_on(area: RiskArea) -> date:
    """The local day (profile's timezone) the latest case in the area's subtree became confirmed
    or asymptomatic — the day a bulletin counts it as new —, or the area's ``since`` when that
    is later (or when there is none)."""
    stamps = Case.objects.filter(org_unit__path__startswith=area.org_unit.path).aggregate(
        confirmed=Max("confirmed_at"), asymptomatic=Max("asymptomatic_at")
    )
    moments: list[datetime] = [at for at in stamps.values() if at is not None]
    if not moments:
        return area.since
    day: date = max(moments).astimezone(ZoneInfo(active_profile().timezone)).date()
    return max(day, area.since)


@transaction.atomic
def risk_area_designate(
    *, actor: Any, unit: OrgUnit, level: str, since: date, reason: str, place: str = ""
) -> RiskArea:
    """Designate ``unit`` (or a named ``place`` in it) at ``level``, or change the level of the
    active area already there. Any pending downgrade proposal of it is set aside."""
    _require(actor, unit)
    errors: dict[str, list[str]] = {}
    if level not in RiskLevel.values:
        errors["level"] = [_("Choose high, medium or low.")]
    if not reason.strip():
        errors["reason"] = [_("Say why.")]
    if since > timezone.localdate():
        errors["since"] = [_("The date is in the future.")]
    if errors:
        raise Invalid(errors)
    refuse_personal_data({"reason": reason, "place": place})  # both are shown to the public
    place = place.strip()
    serialise(key=f"portal.risk_area:{unit.pk}:{place}")  # one active area per unit and place
    area = RiskArea.objects.select_for_update().filter(org_unit=unit, place=place, active=True).first()
    before = area.level if area else ""
    if area is None:
        area = RiskArea(org_unit=unit, place=place, level=level, since=since, reason=reason.strip())
    else:
        area.level, area.since, area.reason = level, since, reason.strip()
    area.full_clean()
    area.save()
    area.changes.filter(kind=ChangeKind.PROPOSED, decided_at__isnull=True).update(decided_at=timezone.now())
    RiskAreaChange.objects.create(
        area=area,
        kind=ChangeKind.DESIGNATED,
        from_level=before,
        to_level=level,
        day=since,
        by=actor,
        reason=reason.strip(),
    )
    audit_record(
        actor=actor,
        action="portal.risk_designate",
        target=area,
        before={"level": before} if before else None,
        after={"level": level},
    )
    bump_generation()
    return area


@transaction.atomic
def risk_area_lift(*, actor: Any, area: RiskArea, reason: str, today: date | None = None) -> RiskArea:
    """End an active area (it leaves the public list and the map)."""
    area = RiskArea.objects.select_for_update().select_related("org_unit").get(pk=area.pk)
    _require(actor, area.org_unit)
    if not area.active:
        raise Conflict(_("This area is already lifted."))
    refuse_personal_data({"reason": reason})
    _lift(
        area,
        actor=actor,
        reason=reason.strip() or _("Lifted by the command."),
        today=today or timezone.localdate(),
    )
    return area


def _lift(area: RiskArea, *, actor: Any, reason: str, today: date) -> None:
    before = area.level
    area.active = False
    area.save(update_fields=["active", "updated_at"])
    area.changes.filter(kind=ChangeKind.PROPOSED, decided_at__isnull=True).update(decided_at=timezone.now())
    RiskAreaChange.objects.create(
        area=area, kind=ChangeKind.LIFTED, from_level=before, day=today, by=actor, reason=reason
    )
    audit_record(actor=actor, action="portal.risk_lift", target=area, before={"level": before})
    bump_generation()


def _propose(area: RiskArea, *, today: date) -> bool:
    rule = active_profile().risk_area
    level = RiskLevel(area.level)
    last = last_new_case_on(area)
    due = rule.downgrade_on(level.value, last)  # type: ignore[arg-type]
    if due is None or today < due:
        return False
    if area.changes.filter(kind=ChangeKind.PROPOSED).filter(decided_at__isnull=True).exists():
        return False
    if area.changes.filter(kind__in=[ChangeKind.APPROVED, ChangeKind.REJECTED], day=today).exists():
        return False
    days = (today - last).days - 1
    try:
        with transaction.atomic():
            RiskAreaChange.objects.create(
                area=area,
                kind=ChangeKind.PROPOSED,
                from_level=level,
                to_level=rule.next_level(level.value) or "",  # type: ignore[arg-type]
                day=today,
                reason=_("%(n)d days without a new case (last on %(day)s).")
                % {"n": days, "day": last.isoformat()},
            )
    except IntegrityError:  # a concurrent sweep proposed it first
        return False
    return True


def risk_area_downgrades_propose(*, today: date) -> int:
    """The daily rule: propose a downgrade for each active area that is due; returns how many."""
    made = 0
    for area in RiskArea.objects.filter(active=True).select_related("org_unit").order_by("id"):
        made += _propose(area, today=today)
    return made


def _pending(proposal: RiskAreaChange) -> RiskAreaChange:
    proposal = RiskAreaChange.objects.select_for_update().select_related("area__org_unit").get(pk=proposal.pk)
    if not proposal.pending:
        raise Conflict(
            _("Cannot decide a proposal that is “%(state)s”; only a pending one.")
            % {"state": proposal.get_kind_display() if proposal.kind != ChangeKind.PROPOSED else _("decided")}
        )
    return proposal


@transaction.atomic
def risk_proposal_approve(*, actor: Any, proposal: RiskAreaChange, today: date | None = None) -> RiskArea:
    """Step the area down as proposed (lift it when there is no lower level)."""
    proposal = _pending(proposal)
    area = proposal.area
    _require(actor, area.org_unit)
    today = today or timezone.localdate()
    proposal.decided_at = timezone.now()
    proposal.by = actor
    proposal.save(update_fields=["decided_at", "by"])
    RiskAreaChange.objects.create(
        area=area,
        kind=ChangeKind.APPROVED,
        from_level=proposal.from_level,
        to_level=proposal.to_level,
        day=today,
        by=actor,
        reason=proposal.reason,
    )
    if not proposal.to_level:
        _lift(area, actor=actor, reason=proposal.reason, today=today)
        return area
    before = area.level
    area.level, area.since, area.reason = proposal.to_level, today, proposal.reason
    area.full_clean()
    area.save(update_fields=["level", "since", "reason", "updated_at"])
    audit_record(
        actor=actor,
        action="portal.risk_downgrade",
        target=area,
        before={"level": before},
        after={"level": area.level},
    )
    bump_generation()
    return area


@transaction.atomic
def risk_proposal_reject(
    *, actor: Any, proposal: RiskAreaChange, reason: str = "", today: date | None = None
) -> RiskArea:
    """Keep the area at its level; the rule proposes again on a later day if still due."""
    proposal = _pending(proposal)
    area = proposal.area
    _require(actor, area.org_unit)
    proposal.decided_at = timezone.now()
    proposal.by = actor
    proposal.save(update_fields=["decided_at", "by"])
    RiskAreaChange.objects.create(
        area=area,
        kind=ChangeKind.REJECTED,
        from_level=proposal.from_level,
        to_level=proposal.to_level,
        day=today or timezone.localdate(),
        by=actor,
        reason=reason.strip(),
    )
    audit_record(actor=actor, action="portal.risk_reject", target=area)
    return area
