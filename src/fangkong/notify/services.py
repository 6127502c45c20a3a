"""Queuing text messages, and what staff may do with one afterwards (docs/notifications.md).

Rules:
- A message is one of the approved templates (``notify.templates``) with all its parameters;
  an unknown template or a missing parameter is ``Invalid`` for the whole batch (a defect of the
  caller, not of one recipient).
- A number that cannot take a text (a landline, a typo, none on record) and a number that has
  had ``FANGKONG_SMS_DAILY_LIMIT`` messages this local day are refused: stored as ``refused``
  with the reason, and returned in ``Queued.refused``; the others are queued.
- A batch costs a constant number of queries (one count, one insert, two audit inserts), and
  the sender is started once the transaction commits.
- Only a failed message may be sent again by a person; one whose outcome is unknown may have
  been delivered, so staff first look it up in the provider's console and record what it says.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.audit.services import audit_record, audit_record_many
from fangkong.common.errors import Conflict, Forbidden
from fangkong.notify.models import COUNTED, OutboxMessage, Status
from fangkong.notify.phones import phone_key, sms_number
from fangkong.notify.templates import params_clean, template_get
from fangkong.orgs.models import OrgUnit
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import can
from fangkong.people.crypto import decrypt, encrypt
from fangkong.people.masking import mask_phone
from fangkong.people.models import Person

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# Who may send a failed message again or record an unknown one's outcome: either, in its unit.
HANDLE_PERMS = (Perm.PEOPLE_CHANGE, Perm.HELPDESK_CHANGE)


@dataclass(frozen=True)
class Sms:
    phone: str  # plaintext, E.164-ish or 11-digit CN mobile
    params: Mapping[str, str]  # template parameters (never another person's personal data)
    person_id: int | None = None
    org_unit_id: int | None = None  # whose scope sees the message (person's grid, or the help request's unit)
    subject: models.Model | None = None  # what it is about (stored as subject_type/subject_id)


@dataclass(frozen=True)
class Queued:
    queued: list[OutboxMessage]
    refused: list[tuple[Sms, str]]  # reason text, e.g. daily limit reached, invalid number


def local_day_bounds(moment: datetime) -> tuple[datetime, datetime]:
    """The local day (``TIME_ZONE``, Asia/Shanghai) holding ``moment``, as [start, end)."""
    day = timezone.localdate(moment)
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, start + timedelta(days=1)


def sent_today(*, keys: Iterable[str], now: datetime, exclude: Iterable[int] = ()) -> dict[str, int]:
    """How many messages each phone key has had this local day (one query)."""
    start, end = local_day_bounds(now)
    rows = (
        OutboxMessage.objects.filter(
            phone_index__in=set(keys), created_at__gte=start, created_at__lt=end, status__in=COUNTED
        )
        .exclude(pk__in=list(exclude))
        .values("phone_index")
        .annotate(n=Count("id"))
    )
    return {row["phone_index"]: row["n"] for row in rows}


def lock_numbers(keys: Iterable[str]) -> None:
    """Serialise the transactions that count and add messages of the same numbers, until this one
    ends: on PostgreSQL one statement takes an advisory lock per number (in a fixed order, so two
    batches cannot deadlock); on SQLite every writing transaction already runs alone."""
    if connection.vendor != "postgresql":
        return
    numbers = sorted(
        {
            int.from_bytes(hashlib.blake2b(f"notify.sms:{k}".encode(), digest_size=8).digest()) >> 1
            for k in keys
            if k
        }
    )
    if numbers:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(k) FROM (SELECT unnest(%s::bigint[]) AS k ORDER BY 1) AS keys",
                [numbers],
            )


@transaction.atomic
def sms_queue(*, actor: User | None, template: str, messages: Sequence[Sms]) -> Queued:
    """Queue ``messages`` of ``template``; refuse (and store as refused) those that break a rule."""
    spec = template_get(template)
    cleaned = [params_clean(spec, sms.params) for sms in messages]
    now = timezone.now()
    numbers = [sms_number(sms.phone) for sms in messages]
    keys = [phone_key(n) for n in numbers if n]
    lock_numbers(keys)  # two batches to one number: the second waits, then counts the first
    counts = sent_today(keys=keys, now=now)
    limit = settings.FANGKONG_SMS_DAILY_LIMIT
    units = OrgUnit.objects.in_bulk({sms.org_unit_id for sms in messages if sms.org_unit_id is not None})
    rows: list[OutboxMessage] = []
    reasons: list[str] = []
    for sms, params, number in zip(messages, cleaned, numbers, strict=True):
        reason = ""
        if not sms.phone.strip():
            reason = _("No mobile number on record.")
        elif number is None:
            reason = _("Not a mobile number: a text message cannot reach it.")
        elif counts.get(phone_key(number), 0) >= limit:
            reason = _("Daily limit reached: this number has had %(n)d messages today.") % {"n": limit}
        else:
            counts[phone_key(number)] = counts.get(phone_key(number), 0) + 1
        stored = number or sms.phone.strip()
        rows.append(
            OutboxMessage(
                template=template,
                phone_cipher=encrypt(stored),
                phone_index=phone_key(stored) if stored else "",
                phone_masked=mask_phone(stored) if stored else "",
                person_id=sms.person_id,
                org_unit=units.get(sms.org_unit_id) if sms.org_unit_id is not None else None,
                params=params,
                body=spec.render(params),
                status=Status.REFUSED if reason else Status.QUEUED,
                error=reason[:300],
                subject_type=sms.subject._meta.label_lower if sms.subject is not None else "",
                subject_id=str(sms.subject.pk) if sms.subject is not None else "",
                created_by=actor if getattr(actor, "is_authenticated", False) else None,
                created_at=now,
            )
        )
        reasons.append(reason)
    OutboxMessage.objects.bulk_create(rows)
    queued = [row for row in rows if row.status == Status.QUEUED]
    refused = [row for row in rows if row.status == Status.REFUSED]
    audit_record_many(actor=actor, action="notify.sms.queue", targets=queued, after=_audited)
    audit_record_many(actor=actor, action="notify.sms.refuse", targets=refused, after=_audited)
    if queued:
        _start_sender(template)
    return Queued(
        queued=queued,
        refused=[(sms, reason) for sms, reason in zip(messages, reasons, strict=True) if reason],
    )


def sms_to_people(
    *,
    actor: User | None,
    template: str,
    people: Sequence[Person],
    params: Callable[[Person], Mapping[str, str]],
    subject: Callable[[Person], models.Model | None] | None = None,
) -> Queued:
    """Queue ``template`` to each of ``people`` at the phone on their record (decrypted here, in
    Python); the message is seen in the person's grid. People without a phone are refused."""
    return sms_queue(
        actor=actor,
        template=template,
        messages=[
            Sms(
                phone=decrypt(person.phone_cipher) if person.phone_cipher else "",
                params=params(person),
                person_id=person.pk,
                org_unit_id=person.org_unit_id,
                subject=subject(person) if subject is not None else None,
            )
            for person in people
        ],
    )


@transaction.atomic
def sms_retry(*, actor: Any, messages: Sequence[OutboxMessage]) -> list[OutboxMessage]:
    """Queue failed ``messages`` again. Only failed ones: an unknown outcome may have been
    delivered (look it up in the provider's console, then record it). The daily limit holds."""
    for message in messages:
        _require_handle(actor, message)
        if message.status == Status.UNKNOWN:
            raise Conflict(
                _(
                    "The outcome of the message to %(phone)s is unknown: it may have been delivered. "
                    "Look it up in the provider's console first, then record what it says."
                )
                % {"phone": message.phone_masked}
            )
        if message.status != Status.FAILED:
            raise Conflict(_("Only a failed message can be sent again."))
    now = timezone.now()
    lock_numbers([m.phone_index for m in messages])
    counts = sent_today(keys=[m.phone_index for m in messages], now=now, exclude=[m.pk for m in messages])
    for message in messages:
        counts[message.phone_index] = counts.get(message.phone_index, 0) + 1
        if counts[message.phone_index] > settings.FANGKONG_SMS_DAILY_LIMIT:
            raise Conflict(
                _("Daily limit reached: %(phone)s has had %(n)d messages today; try again tomorrow.")
                % {"phone": message.phone_masked, "n": settings.FANGKONG_SMS_DAILY_LIMIT}
            )
    ids = [m.pk for m in messages]
    errors = {m.pk: m.error for m in messages}
    moved = OutboxMessage.objects.filter(pk__in=ids, status=Status.FAILED).update(
        status=Status.QUEUED, error="", claim="", created_at=now, sending_at=None
    )
    if moved != len(ids):
        raise Conflict(_("The message changed meanwhile; reload the page."))
    for message in messages:
        message.status, message.error, message.created_at = Status.QUEUED, "", now
    audit_record_many(
        actor=actor,
        action="notify.sms.retry",
        targets=list(messages),
        after=lambda m: {**_audited(m), "error_before": errors[m.pk]},
    )
    for template in sorted({m.template for m in messages}):
        _start_sender(template)
    return list(messages)


@transaction.atomic
def sms_outcome_record(
    *, actor: Any, message: OutboxMessage, delivered: bool, note: str = ""
) -> OutboxMessage:
    """Record what the provider's console says of a message whose outcome was unknown: sent, or
    failed (which may then be sent again)."""
    _require_handle(actor, message)
    now = timezone.now()
    status = Status.SENT if delivered else Status.FAILED
    error = note.strip()[:300] or (message.error if not delivered else "")
    moved = OutboxMessage.objects.filter(pk=message.pk, status=Status.UNKNOWN).update(
        status=status, error=error, sent_at=now if delivered else None
    )
    if not moved:
        raise Conflict(_("Only a message whose outcome is unknown can be settled this way."))
    before = message.error
    message.status, message.error = status, error
    message.sent_at = now if delivered else None
    audit_record(
        actor=actor,
        action="notify.sms.outcome",
        target=message,
        before={"status": Status.UNKNOWN, "error": before},
        after={"status": status, "note": note.strip()[:300]},
    )
    return message


def _require_handle(actor: Any, message: OutboxMessage) -> None:
    if message.org_unit is None and not getattr(actor, "is_superuser", False):
        raise Forbidden(_("You may see this message but not act on it."))
    if not any(can(actor, perm, message.org_unit) for perm in HANDLE_PERMS):
        raise Forbidden(_("You may see this message but not act on it."))


def _audited(message: OutboxMessage) -> dict[str, Any]:
    return {"template": message.template, "phone": message.phone_masked, "reason": message.error}


def _start_sender(template: str) -> None:
    from fangkong.notify.tasks import sms_send_task

    transaction.on_commit(lambda: sms_send_task.enqueue(template=template))
