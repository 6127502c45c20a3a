"""Writes to cases: register, classify, set severity and outcome, edit details.

Every change is a ``CaseEvent`` (the timeline) and an audit event. An illegal move raises
``Conflict`` (HTTP 409) naming both states, and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.audit.services import audit_record
from fangkong.cases.investigations import investigation_open
from fangkong.cases.models import (
    CLASSIFICATION_MOVES,
    OUTCOME_MOVES,
    Case,
    CaseCounter,
    CaseEvent,
    Classification,
    Origin,
    Outcome,
    Severity,
)
from fangkong.cases.signals import case_registered
from fangkong.common.errors import Conflict, Forbidden, Invalid
from fangkong.common.protocol import active_profile
from fangkong.orgs.models import Level
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import can
from fangkong.orgs.selectors import org_unit_ancestor
from fangkong.people.models import Person
from fangkong.worklist.kinds import CASE, Event
from fangkong.worklist.services import work_item_create, work_items_end

TIMESTAMP_OF = {
    Classification.CONFIRMED: "confirmed_at",
    Classification.ASYMPTOMATIC: "asymptomatic_at",
    Classification.EXCLUDED: "excluded_at",
}
INITIAL = {Classification.SUSPECTED, Classification.CONFIRMED, Classification.ASYMPTOMATIC}


@dataclass
class CaseDetails:
    """What an epidemiologist enters about a case, apart from its classification."""

    origin: str = Origin.LOCAL
    hospital: str = ""
    onset_date: date | None = None
    sampled_at: datetime | None = None
    note: str = ""


def _check_details(details: CaseDetails, *, reported_at: datetime) -> None:
    errors: dict[str, list[str]] = {}
    if details.origin not in Origin.values:
        errors["origin"] = [_("Unknown origin “%(o)s”.") % {"o": details.origin}]
    if len(details.hospital) > 100:
        errors["hospital"] = [
            _("At most %(limit)d characters (this has %(n)d).") % {"limit": 100, "n": len(details.hospital)}
        ]
    if details.onset_date and details.onset_date > timezone.localdate(reported_at):
        errors["onset_date"] = [_("Symptom onset cannot be after the report.")]
    if details.sampled_at and details.sampled_at > reported_at:
        errors["sampled_at"] = [_("The sample cannot be taken after the report.")]
    if len(details.note) > 2000:
        errors["note"] = [
            _("At most %(limit)d characters (this has %(n)d).") % {"limit": 2000, "n": len(details.note)}
        ]
    if errors:
        raise Invalid(errors)


def _require(actor: Any, case_or_unit: Any) -> None:
    unit = getattr(case_or_unit, "org_unit", case_or_unit)
    if not can(actor, Perm.CASES_CHANGE, unit):
        raise Forbidden(_("Your role may not change cases here."))


def _next_number(*, district: Any, year: int) -> str:
    """The next case number of a district in a year, e.g. ``440303-2026-0007``; safe under concurrency."""
    CaseCounter.objects.get_or_create(district=district, year=year)
    counter = CaseCounter.objects.select_for_update().get(district=district, year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{district.code}-{year}-{counter.last:04d}"


def _lock(case: Case) -> None:
    """Lock the row for this transaction and read its current state into ``case``."""
    list(Case.objects.select_for_update().filter(pk=case.pk).values_list("pk", flat=True))
    case.refresh_from_db()


def _event(
    case: Case, *, actor: Any, kind: str, at: datetime, before: str = "", after: str = "", note: str = ""
) -> None:
    CaseEvent.objects.create(
        case=case,
        kind=kind,
        from_value=before,
        to_value=after,
        at=at,
        note=note[:500],
        actor=actor if getattr(actor, "is_authenticated", False) else None,
    )
    audit_record(
        actor=actor,
        action=f"cases.case.{kind}",
        target=case,
        before={kind: before} if before else None,
        after={kind: after},
    )


@transaction.atomic
def case_register(
    *,
    actor: Any,
    person: Person,
    classification: str,
    reported_at: datetime,
    details: CaseDetails | None = None,
) -> Case:
    """Register ``person`` as a case and open the work to investigate it.

    A person who is already a case (not excluded) is refused. The case belongs to the person's
    grid; its number is per district and year. The investigation is due within the protocol's
    ``timeliness.investigation_hours`` of the report, as a work item of the district.
    """
    _require(actor, person.org_unit)
    return _register(
        actor=actor,
        person=person,
        classification=classification,
        reported_at=reported_at,
        details=details or CaseDetails(),
    )


def _register(
    *, actor: Any, person: Person, classification: str, reported_at: datetime, details: CaseDetails
) -> Case:
    if classification not in INITIAL:
        raise Invalid.field("classification", _("A new case is suspected, confirmed or asymptomatic."))
    if timezone.is_naive(reported_at):
        raise Invalid.field("reported_at", _("The time must carry a time zone."))
    if reported_at > timezone.now():
        raise Invalid.field("reported_at", _("The report time is in the future."))
    _check_details(details, reported_at=reported_at)
    existing = Case.objects.filter(person=person).exclude(classification=Classification.EXCLUDED).first()
    if existing is not None:
        raise Conflict(_("This person is already case %(n)s.") % {"n": existing.number})
    district = org_unit_ancestor(unit=person.org_unit, level=Level.DISTRICT) or person.org_unit
    case = Case(
        number=_next_number(district=district, year=timezone.localdate(reported_at).year),
        person=person,
        org_unit=person.org_unit,
        district=district,
        classification=classification,
        reported_at=reported_at,
        origin=details.origin,
        hospital=details.hospital.strip(),
        onset_date=details.onset_date,
        sampled_at=details.sampled_at,
        note=details.note.strip(),
        severity=Severity.MILD if classification == Classification.CONFIRMED else "",
    )
    if classification in TIMESTAMP_OF:
        setattr(case, TIMESTAMP_OF[Classification(classification)], reported_at)
    case.full_clean(validate_constraints=False)  # the database checks the one-open-case rule
    try:
        with transaction.atomic():
            case.save()
    except IntegrityError:  # a concurrent registration of the same person won
        raise Conflict(_("This person is already a case.")) from None
    _event(case, actor=actor, kind="register", at=reported_at, after=classification)
    investigation_open(case=case)
    investigation_item_create(case=case)
    case_registered.send(sender=Case, actor=actor, case=case)
    return case


def investigation_item_create(*, case: Case) -> None:
    """The district's work to investigate ``case``, due within the protocol's hours of the report."""
    work_item_create(
        actor=None,
        kind="case.investigate",
        title=_("Investigate case %(n)s") % {"n": case.number},
        org_unit=case.district,
        due_at=active_profile().timeliness.investigation_due(case.reported_at),
        subject=case,
        priority="urgent",
    )


@transaction.atomic
def case_register_by_rule(*, actor: Any, person: Person, reported_at: datetime, note: str) -> Case:
    """Register a suspected case because a rule says so (a positive test in quarantine), whoever
    recorded the fact: the permission to register cases is not asked of them."""
    existing = Case.objects.filter(person=person).exclude(classification=Classification.EXCLUDED).first()
    if existing is not None:
        return existing
    return _register(
        actor=actor,
        person=person,
        classification=Classification.SUSPECTED,
        reported_at=reported_at,
        details=CaseDetails(note=note),
    )


@transaction.atomic
def case_classify(
    *, actor: Any, case: Case, to: str, at: datetime, severity: str = "", note: str = ""
) -> Case:
    """Move a case to ``to``: suspected → confirmed | asymptomatic | excluded; asymptomatic → confirmed."""
    _require(actor, case)
    _lock(case)
    if to not in Classification.values:
        raise Invalid.field("classification", _("Unknown classification “%(c)s”.") % {"c": to})
    if to not in CLASSIFICATION_MOVES[case.classification]:
        raise Conflict(
            _("Cannot change a case from %(from)s to %(to)s.")
            % {"from": case.get_classification_display(), "to": Classification(to).label}
        )
    if timezone.is_naive(at) or at > timezone.now():
        raise Invalid.field("at", _("Give a past time with a time zone."))
    if at < case.reported_at:
        raise Invalid.field(
            "at",
            _("The case was reported at %(t)s; this cannot be earlier.")
            % {"t": timezone.localtime(case.reported_at).strftime("%Y-%m-%d %H:%M")},
        )
    if severity and severity not in Severity.values:
        raise Invalid.field("severity", _("Unknown severity “%(s)s”.") % {"s": severity})
    before = case.classification
    case.classification = to
    setattr(case, TIMESTAMP_OF[Classification(to)], at)
    if to == Classification.EXCLUDED:  # not a case: closed, not "in treatment"
        case.outcome, case.outcome_at = Outcome.CLOSED, at
    if to == Classification.CONFIRMED:
        case.severity = severity or case.severity or Severity.MILD
    case.save()
    _event(case, actor=actor, kind="classification", at=at, before=before, after=to, note=note)
    if to == Classification.EXCLUDED:
        work_items_end(
            actor=actor, event=Event.CASE_EXCLUDED, subject_type=CASE, subject_ids=[case.pk], at=at
        )
    return case


@transaction.atomic
def case_set_severity(*, actor: Any, case: Case, severity: str, at: datetime) -> Case:
    """Change the severity of a confirmed case."""
    _require(actor, case)
    if severity not in Severity.values:
        raise Invalid.field("severity", _("Unknown severity “%(s)s”.") % {"s": severity})
    _lock(case)
    if case.classification != Classification.CONFIRMED:
        raise Conflict(
            _("Severity is kept for confirmed cases; this one is %(s)s.")
            % {"s": case.get_classification_display()}
        )
    before, case.severity = case.severity, severity
    case.save(update_fields=["severity", "updated_at"])
    _event(case, actor=actor, kind="severity", at=at, before=before, after=severity)
    return case


@transaction.atomic
def case_set_outcome(*, actor: Any, case: Case, outcome: str, at: datetime) -> Case:
    """Record recovery or death: only from in treatment, and not for an excluded case."""
    _require(actor, case)
    _lock(case)
    if outcome not in Outcome.values:
        raise Invalid.field("outcome", _("Unknown outcome “%(o)s”.") % {"o": outcome})
    if case.classification == Classification.EXCLUDED or outcome not in OUTCOME_MOVES[case.outcome]:
        raise Conflict(
            _("Cannot change the outcome from %(from)s to %(to)s.")
            % {"from": case.get_outcome_display(), "to": Outcome(outcome).label}
        )
    if timezone.is_naive(at) or at > timezone.now() or at < case.reported_at:
        raise Invalid.field("at", _("Give a time between the report and now."))
    before, case.outcome, case.outcome_at = case.outcome, outcome, at
    case.save(update_fields=["outcome", "outcome_at", "updated_at"])
    _event(case, actor=actor, kind="outcome", at=at, before=before, after=outcome)
    event = Event.CASE_RECOVERED if outcome == Outcome.RECOVERED else Event.CASE_DECEASED
    work_items_end(actor=actor, event=event, subject_type=CASE, subject_ids=[case.pk], at=at)
    return case


@transaction.atomic
def case_update(*, actor: Any, case: Case, details: CaseDetails) -> Case:
    """Edit origin, hospital, onset, sampling time and note."""
    _require(actor, case)
    _lock(case)
    _check_details(details, reported_at=case.reported_at)
    case.origin, case.hospital, case.note = details.origin, details.hospital.strip(), details.note.strip()
    case.onset_date, case.sampled_at = details.onset_date, details.sampled_at
    case.save(update_fields=["origin", "hospital", "note", "onset_date", "sampled_at", "updated_at"])
    _event(case, actor=actor, kind="details", at=timezone.now())
    return case
