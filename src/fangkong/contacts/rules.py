"""What makes a person a contact of a case: the look-back window, the exposure's checks, and who
may change a case's contacts.

The look-back window comes from the active profile: it opens ``lookback_days`` before symptom
onset (before sampling for an asymptomatic case; before the report when neither is known), at
00:00 local. An exposure that ended before it is not a contact.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.cases.models import Case, Classification
from fangkong.common.errors import Forbidden, Invalid
from fangkong.common.protocol import active_profile
from fangkong.contacts.models import ExposureType
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import can
from fangkong.people.models import Person


def lookback_reference(case: Case) -> datetime:
    """The moment the look-back is counted from: the earlier of symptom onset (00:00 local) and
    sampling — sampling alone for an asymptomatic infection; the report when neither is known."""
    onset = timezone.make_aware(datetime.combine(case.onset_date, time.min)) if case.onset_date else None
    if case.classification == Classification.ASYMPTOMATIC or onset is None:
        return case.sampled_at or onset or case.reported_at
    return min(onset, case.sampled_at) if case.sampled_at else onset


def require_case_change(actor: Any, case: Case) -> None:
    if not can(actor, Perm.CASES_CHANGE, case.org_unit):
        raise Forbidden(_("Your role may not change the contacts of this case."))


def exposure_check(
    case: Case, person: Person, *, exposure_type: str, first: datetime, last: datetime
) -> None:
    """Refuse, naming each field, an exposure that cannot make ``person`` a contact of ``case``:
    the case itself, an unknown type, times out of order or in the future, or a last exposure
    before the protocol's look-back window."""
    errors: dict[str, list[str]] = {}
    if person.pk == case.person_id:
        errors["person"] = [_("A case is not its own contact.")]
    if exposure_type not in ExposureType.values:
        errors["exposure_type"] = [_("Unknown exposure “%(e)s”.") % {"e": exposure_type}]
    if timezone.is_naive(first) or timezone.is_naive(last):
        errors["last_exposure"] = [_("The time must carry a time zone.")]
    elif last < first:
        errors["last_exposure"] = [_("The last exposure is before the first.")]
    elif last > timezone.now():
        errors["last_exposure"] = [_("The time is in the future.")]
    else:
        rule = active_profile().close_contact
        reference = lookback_reference(case)
        if not rule.is_within_lookback(last, reference):
            start = timezone.localtime(rule.lookback_start(reference)).strftime("%Y-%m-%d %H:%M")
            errors["last_exposure"] = [
                _(
                    "Before the look-back window, which opens %(t)s (%(n)d days before onset or sampling): not a close contact."
                )
                % {"t": start, "n": rule.lookback_days}
            ]
    if errors:
        raise Invalid(errors)
