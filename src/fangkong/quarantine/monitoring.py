"""Daily health checks, by staff or by the person through a signed, expiring link, and the
evening sweep for missing checks.

A fever (at or above the profile's threshold) or any symptom makes an urgent work item for the
grid, and for the site when the person is at one. A day without a check by the profile's
deadline (20:00 in china-9) makes a work item for the grid.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core import signing
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fangkong.audit.services import audit_record
from fangkong.common.errors import Conflict, Invalid, NotFound
from fangkong.common.protocol import active_profile
from fangkong.people.masking import mask_name
from fangkong.quarantine.models import LIVE_STATUSES, CheckSource, DailyCheck, OrderStatus, QuarantineOrder
from fangkong.quarantine.services import require_change
from fangkong.worklist.kinds import ORDER, Event
from fangkong.worklist.models import OPEN_STATUSES, WorkItem
from fangkong.worklist.services import work_item_create, work_items_end

FEVER_FOLLOW_UP = timedelta(hours=1)  # platform: someone calls back within the hour
MISSING_CHECK_FOLLOW_UP = timedelta(hours=2)
SYMPTOMS = {
    "fever": gettext_lazy("Fever"),
    "cough": gettext_lazy("Cough"),
    "sore_throat": gettext_lazy("Sore throat"),
    "fatigue": gettext_lazy("Fatigue"),
    "taste_smell": gettext_lazy("Loss of taste or smell"),
    "diarrhoea": gettext_lazy("Diarrhoea"),
    "breathless": gettext_lazy("Shortness of breath"),
}
SALT = "fangkong.quarantine.self-report"


def _temperature(raw: Any) -> Decimal:
    try:
        value = Decimal(str(raw).strip()).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        raise Invalid.field("temperature", _("Give the temperature as a number, e.g. 36.5.")) from None
    if not Decimal("34.0") <= value <= Decimal("43.0"):
        raise Invalid.field("temperature", _("A body temperature is between 34.0 and 43.0 °C."))
    return value


@transaction.atomic
def daily_check_record(
    *,
    actor: Any,
    order: QuarantineOrder,
    temperature: Any,
    symptoms: list[str],
    source: str = CheckSource.STAFF,
    day: date | None = None,
) -> DailyCheck:
    """Record a check for an active order on one of its days; a fever or symptom raises urgent work."""
    if source == CheckSource.STAFF:
        require_change(actor, order)
    if order.status != OrderStatus.ACTIVE:
        raise Conflict(
            _("Checks are recorded for active orders; this one is %(s)s.") % {"s": order.get_status_display()}
        )
    value = _temperature(temperature)
    unknown = [s for s in symptoms if s not in SYMPTOMS]
    if unknown:
        raise Invalid.field("symptoms", _("Unknown symptom(s): %(s)s.") % {"s": ", ".join(unknown)})
    day = day or timezone.localdate()
    last_day = timezone.localtime(order.planned_end - timedelta(seconds=1)).date()
    first_day = timezone.localdate(order.last_exposure)  # day 0: checks start when the person is isolated
    if not first_day <= day <= last_day:
        raise Invalid.field(
            "date",
            _("Day %(d)s is outside this order (%(a)s – %(b)s).") % {"d": day, "a": first_day, "b": last_day},
        )
    check = DailyCheck.objects.create(
        order=order,
        date=day,
        temperature=value,
        symptoms=_symptom_words(symptoms),
        source=source,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
    )
    audit_record(
        actor=actor,
        action=f"quarantine.check.{source}",
        target=order,
        after={"date": day.isoformat(), "temperature": str(value), "symptoms": check.symptoms},
    )
    if is_alert(check):
        _fever_work(order, check)
    work_items_end(  # a late check ends the day's "missing check" item
        actor=actor,
        event=Event.CHECK_RECORDED,
        subject_type=ORDER,
        subject_ids=[order.pk],
        note_startswith=day.isoformat(),
    )
    return check


def is_alert(check: DailyCheck) -> bool:
    """Whether a check raises urgent work: a fever by the profile's threshold, or any symptom."""
    return active_profile().monitoring.is_fever(float(check.temperature)) or bool(check.symptoms)


def _symptom_words(codes: list[str]) -> str:
    """The symptoms as kept on the record: in zh-Hans, the platform's language, whoever reported."""
    with translation.override("zh-hans"):
        return "、".join(str(SYMPTOMS[code]) for code in codes)


def _fever_work(order: QuarantineOrder, check: DailyCheck) -> None:
    """Urgent follow-up for the grid (and the site): one open item per unit per order and day —
    further reports that day are added to its note rather than making more work."""
    title = _("Follow up: %(p)s reports %(t)s °C %(s)s") % {
        "p": mask_name(order.person.name),
        "t": check.temperature,
        "s": check.symptoms,
    }
    units = [order.org_unit] + ([order.site.org_unit] if order.site is not None else [])
    for unit in dict.fromkeys(units):
        open_item = WorkItem.objects.filter(
            kind="quarantine.fever",
            subject_type="quarantine.quarantineorder",
            subject_id=str(order.pk),
            org_unit=unit,
            status__in=OPEN_STATUSES,
            note__startswith=check.date.isoformat(),
        ).first()
        if open_item is not None:
            open_item.note = f"{open_item.note}\n{title.strip()}"[:2000]
            open_item.save(update_fields=["note", "updated_at"])
            continue
        work_item_create(
            actor=None,
            kind="quarantine.fever",
            title=title.strip(),
            org_unit=unit,
            subject=order,
            due_at=timezone.now() + FEVER_FOLLOW_UP,
            priority="urgent",
            note=check.date.isoformat(),
        )


def self_report_token(*, order: QuarantineOrder) -> str:
    """A signed link token for the person of ``order``, valid until the day after its planned end."""
    expires = int((order.planned_end + timedelta(days=1)).timestamp())
    return signing.dumps({"o": order.pk, "e": expires}, salt=SALT, compress=True)


def order_from_token(token: str) -> QuarantineOrder:
    """The order a token was made for; ``NotFound`` when forged or expired, when the order has ended
    (released, converted, cancelled) or its planned end is more than a day past."""
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        raise NotFound("token") from None
    if not isinstance(data, dict) or int(data.get("e", 0)) < timezone.now().timestamp():
        raise NotFound("token")
    order = (
        QuarantineOrder.objects.select_related("person", "org_unit", "site")
        .filter(pk=int(data.get("o") or 0))
        .first()
    )
    if (
        order is None
        or order.status not in LIVE_STATUSES
        or timezone.now() > order.planned_end + timedelta(days=1)
    ):
        raise NotFound("token")
    return order


@transaction.atomic
def missing_checks_sweep(*, day: date, now: datetime | None = None) -> int:
    """After the day's deadline, one work item per active order with no check that day (once)."""
    now = now or timezone.now()
    deadline = active_profile().monitoring.check_due(day)
    if now < deadline:
        return 0
    orders = (
        QuarantineOrder.objects.filter(status=OrderStatus.ACTIVE, day_one__lte=day)
        .exclude(checks__date=day)
        .select_related("person", "org_unit")
    )
    done = set(
        WorkItem.objects.filter(
            kind="quarantine.missing_check", note__startswith=day.isoformat()
        ).values_list("subject_id", flat=True)
    )
    created = 0
    for order in orders:
        if timezone.localtime(order.planned_end - timedelta(seconds=1)).date() < day or str(order.pk) in done:
            continue
        work_item_create(
            actor=None,
            kind="quarantine.missing_check",
            subject=order,
            org_unit=order.org_unit,
            note=day.isoformat(),
            title=_("No health check from %(p)s on %(d)s")
            % {"p": mask_name(order.person.name), "d": day.strftime("%m-%d")},
            due_at=now + MISSING_CHECK_FOLLOW_UP,
        )
        created += 1
    return created
