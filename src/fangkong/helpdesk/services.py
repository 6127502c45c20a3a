"""Help requests, from the public form to the resolution (DESIGN.md §3 "Public portal and help desk").

Rules:
- A request is stored before the page answers, routed to the community chosen on the form, and
  gets a short unguessable ticket code and a call-back deadline from the protocol (china-9:
  30 min urgent, 120 min normal).
- The same phone asking again in the same category within ``DUPLICATE_WINDOW`` while the first
  request is unresolved gets the first request back, not a second one.
- One operator claims a request; a second claim loses, however close in time (one conditional
  UPDATE decides). Logging a call claims a free request for the caller.
- The first call logged, whatever its outcome, is the call back the deadline measures: the
  resident was called. Resolving needs a call logged and a resolution text.
- The resident may rate a resolved request once (1–5).
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.audit.services import audit_record
from fangkong.common.errors import Conflict, Forbidden, Invalid
from fangkong.common.locks import serialise
from fangkong.common.protocol import active_profile
from fangkong.helpdesk.models import (
    UNRESOLVED,
    CallLog,
    Category,
    HelpRequest,
    Outcome,
    Status,
    Urgency,
)
from fangkong.notify.services import Sms, sms_queue
from fangkong.orgs.models import Level, OrgUnit
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import can
from fangkong.people.crypto import blind_index, decrypt, encrypt
from fangkong.people.idnumbers import WIDE_DIGITS, InvalidNumber, normalize_mobile
from fangkong.people.masking import mask_name, mask_phone
from fangkong.people.pii import redact
from fangkong.worklist.kinds import HELP_REQUEST, Event
from fangkong.worklist.services import work_items_end

DUPLICATE_WINDOW = timedelta(minutes=10)
TICKET_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read out over the phone
TICKET_LENGTH = 8  # 31**8 ≈ 8.5e11 codes


@dataclass(frozen=True, slots=True)
class RequestData:
    """What the public form sends, as typed (validated by ``help_request_submit``)."""

    name: str
    phone: str
    community_id: int | None
    category: str
    urgency: str
    description: str
    grid_id: int | None = None
    address: str = ""


@dataclass(frozen=True, slots=True)
class Submitted:
    request: HelpRequest
    duplicate: bool


LANDLINE = re.compile(r"^0\d{2,3}[1-9]\d{6,7}$")  # area code (010, 0755, …) and 7–8 digits


def callback_number(raw: str) -> str:
    """The number to call back, as digits: a mainland mobile (see ``normalize_mobile``) or a
    landline with its area code (``0755-1234 5678``) — many elderly residents have only that."""
    try:
        return normalize_mobile(raw)
    except InvalidNumber:
        digits = re.sub(r"[\s\-()]", "", raw.translate(WIDE_DIGITS))
        for prefix in ("+86", "0086", "86"):  # written internationally: the area code loses its 0
            if digits.startswith(prefix) and len(digits) > 11:
                digits = "0" + digits[len(prefix) :].lstrip("0")
                break
        if LANDLINE.match(digits):
            return digits
        raise


def phone_key(phone: str) -> str:
    return blind_index(phone, purpose="helpdesk-phone")


def new_ticket() -> str:
    return "".join(secrets.choice(TICKET_ALPHABET) for _ in range(TICKET_LENGTH))


def normalise_ticket(text: str) -> str:
    """What a resident types (lower case, full-width, spaces, the dash) as the stored code."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text).upper() if ch.isascii() and ch.isalnum())


def _clean(data: RequestData) -> tuple[OrgUnit, OrgUnit | None, str]:
    errors: dict[str, list[str]] = {}
    name = data.name.strip()
    if not name:
        errors["name"] = [_("Enter your name.")]
    elif len(name) > 50:
        errors["name"] = [_("A name has at most 50 characters.")]
    try:
        phone = callback_number(data.phone)
    except InvalidNumber:
        phone = ""
        errors["phone"] = [
            _("Enter a mobile number (11 digits) or a landline with its area code, e.g. 0755-12345678.")
        ]
    community = (
        OrgUnit.objects.filter(pk=data.community_id, level=Level.COMMUNITY).first()
        if data.community_id is not None
        else None
    )
    if community is None:
        errors["community"] = [_("Choose your community.")]
    grid = None
    if data.grid_id is not None and community is not None:
        grid = OrgUnit.objects.filter(pk=data.grid_id, level=Level.GRID, parent=community).first()
        if grid is None:
            errors["grid"] = [_("This grid is not in the community chosen.")]
    if data.category not in Category.values:
        errors["category"] = [_("Choose what you need help with.")]
    if data.urgency not in Urgency.values:
        errors["urgency"] = [_("Say how urgent it is.")]
    description = data.description.strip()
    if len(description) < 4:
        errors["description"] = [_("Describe what you need in a few words (at least 4 characters).")]
    elif len(description) > 1000:
        errors["description"] = [_("At most 1000 characters.")]
    if len(data.address) > 200:
        errors["address"] = [_("At most 200 characters.")]
    if errors:
        raise Invalid(errors)
    assert community is not None
    return community, grid, phone


def help_request_check(*, data: RequestData) -> str:
    """Validate a request as ``help_request_submit`` would, storing nothing; returns the phone
    as stored (11 digits)."""
    return _clean(data)[2]


def help_request_submit(*, data: RequestData, now: datetime | None = None) -> Submitted:
    """Store a resident's request (no actor: the public form) and return it with its ticket; a
    text message acknowledges it (ticket and call-back minutes), queued in the same transaction."""
    community, grid, phone = _clean(data)
    now = now or timezone.now()
    index = phone_key(phone)
    with transaction.atomic():
        serialise(key=f"helpdesk.submit:{index}")  # two sends of the same phone: one after the other
        earlier = (
            HelpRequest.objects.filter(
                phone_index=index,
                category=data.category,
                status__in=UNRESOLVED,
                submitted_at__gte=now - DUPLICATE_WINDOW,
            )
            .order_by("-submitted_at")
            .first()
        )
        if earlier is not None:
            return Submitted(earlier, duplicate=True)
        due = active_profile().helpdesk.callback_due(now, urgent=data.urgency == Urgency.URGENT)
        request = HelpRequest(
            name=data.name.strip(),
            phone_cipher=encrypt(phone),
            phone_index=index,
            phone_masked=mask_phone(phone),
            org_unit=community,
            grid=grid,
            address_cipher=encrypt(data.address.strip()) if data.address.strip() else None,
            category=data.category,
            urgency=data.urgency,
            description=data.description.strip(),
            submitted_at=now,
            due_at=due,
        )
        for _attempt in range(5):  # a clash of random codes is rare; try a fresh one
            request.ticket = new_ticket()
            try:
                with transaction.atomic():
                    request.save()
                break
            except IntegrityError:
                request.pk = None
        else:  # pragma: no cover - 5 clashes in a row in a space of 8.5e11
            raise Conflict(_("Could not issue a ticket code; please submit again."))
        audit_record(
            actor=None,
            action="helpdesk.submit",
            target=request,
            after={"name": mask_name(request.name), "category": request.category, "urgency": request.urgency},
        )
        minutes = max(1, round((due - now).total_seconds() / 60))
        sms_queue(  # the acknowledgement: its ticket and when to expect the call (a landline is refused)
            actor=None,
            template="help_ack",
            messages=[
                Sms(
                    phone=phone,
                    params={"ticket": request.ticket_display, "minutes": str(minutes)},
                    org_unit_id=community.pk,
                    subject=request,
                )
            ],
        )
    return Submitted(request, duplicate=False)


def _past_moment(moment: datetime | None, *, request: HelpRequest, field: str) -> datetime:
    """``moment`` (now when None), refused when in the future or before the request was sent."""
    now = timezone.now()
    if moment is None:
        return now
    if timezone.is_naive(moment):
        raise Invalid.field(field, _("The time must carry a time zone."))
    if moment > now + timedelta(minutes=1):
        raise Invalid.field(field, _("The time cannot be in the future."))
    if moment < request.submitted_at:
        raise Invalid.field(field, _("The time cannot be before the request was sent."))
    return moment


def _require_change(actor: Any, request: HelpRequest) -> None:
    if not can(actor, Perm.HELPDESK_CHANGE, request.org_unit):
        raise Forbidden(_("You may see this request but not handle it."))


def help_request_claim(*, actor: Any, request: HelpRequest) -> HelpRequest:
    """Claim a free request for ``actor``. One conditional UPDATE decides between rival claims."""
    _require_change(actor, request)
    now = timezone.now()
    with transaction.atomic():
        won = HelpRequest.objects.filter(pk=request.pk, status=Status.OPEN, claimed_by__isnull=True).update(
            status=Status.CLAIMED, claimed_by=actor, claimed_at=now, updated_at=now
        )
        request.refresh_from_db()
        if not won:
            if request.claimed_by_id == actor.pk and request.status == Status.CLAIMED:
                return request
            raise Conflict(_("This request is already %(status)s.") % {"status": _claimed_text(request)})
        audit_record(actor=actor, action="helpdesk.claim", target=request, after={"operator": actor.username})
    return request


def _claimed_text(request: HelpRequest) -> str:
    if request.status == Status.RESOLVED:
        return str(Status.RESOLVED.label).lower()
    who = request.claimed_by.get_username() if request.claimed_by else "?"
    return _("claimed by %(who)s") % {"who": who}


def help_request_release(*, actor: Any, request: HelpRequest) -> HelpRequest:
    """Give a claimed request back to the queue (only its operator may)."""
    _require_change(actor, request)
    with transaction.atomic():
        released = HelpRequest.objects.filter(pk=request.pk, status=Status.CLAIMED, claimed_by=actor).update(
            status=Status.OPEN, claimed_by=None, claimed_at=None, updated_at=timezone.now()
        )
        request.refresh_from_db()
        if not released:
            raise Conflict(_("Only the operator who claimed this request may give it back."))
        audit_record(actor=actor, action="helpdesk.release", target=request)
    return request


def _own(actor: Any, request: HelpRequest) -> HelpRequest:
    """The request locked, claimed by ``actor`` (claiming it if free); Conflict if another holds it."""
    locked = HelpRequest.objects.select_for_update().get(pk=request.pk)
    if locked.status == Status.OPEN:
        help_request_claim(actor=actor, request=locked)
    if locked.status == Status.RESOLVED:
        raise Conflict(_("This request is already resolved."))
    if locked.claimed_by_id != actor.pk:
        raise Conflict(_("This request is %(status)s.") % {"status": _claimed_text(locked)})
    return locked


@transaction.atomic
def call_log(
    *, actor: Any, request: HelpRequest, outcome: str, note: str = "", called_at: datetime | None = None
) -> CallLog:
    """Log a call to the resident. The deadline measures the earliest call that **reached** the
    resident (an unanswered attempt does not stop the clock); that call also ends the escalation
    items of the request.

    ``called_at`` is for a call logged after it was made: not in the future, not before the request.
    """
    _require_change(actor, request)
    if outcome not in Outcome.values:
        raise Invalid.field("outcome", _("Choose the outcome of the call."))
    if len(note) > 2000:
        raise Invalid.field("note", _("At most 2000 characters."))
    when = _past_moment(called_at, request=request, field="called_at")
    locked = _own(actor, request)
    call = CallLog.objects.create(
        request=locked, operator=actor, outcome=outcome, note=note.strip(), called_at=when
    )
    reached = outcome == Outcome.REACHED
    if reached and (locked.called_back_at is None or call.called_at < locked.called_back_at):
        locked.called_back_at = call.called_at
        locked.save(update_fields=["called_back_at", "updated_at"])
    audit_record(
        actor=actor,
        action="helpdesk.call",
        target=locked,
        after={"outcome": outcome, "note": redact(note.strip())[:200]},
    )
    if reached:
        work_items_end(
            actor=actor,
            event=Event.HELP_CALLED_BACK,
            subject_type=HELP_REQUEST,
            subject_ids=[locked.pk],
            at=call.called_at,
        )
    request.refresh_from_db()
    return call


@transaction.atomic
def help_request_resolve(
    *, actor: Any, request: HelpRequest, resolution: str, resolved_at: datetime | None = None
) -> HelpRequest:
    """Close a request with what was done; a call must have been logged first."""
    _require_change(actor, request)
    when = _past_moment(resolved_at, request=request, field="resolved_at")
    text = resolution.strip()
    if len(text) < 4:
        raise Invalid.field("resolution", _("Say what was done (at least 4 characters)."))
    if len(text) > 2000:
        raise Invalid.field("resolution", _("At most 2000 characters."))
    locked = _own(actor, request)
    if not locked.calls.exists():
        raise Conflict(_("Log the call back to the resident before resolving."))
    locked.status, locked.resolution, locked.resolved_at = Status.RESOLVED, text, when
    locked.save(update_fields=["status", "resolution", "resolved_at", "updated_at"])
    audit_record(
        actor=actor, action="helpdesk.resolve", target=locked, after={"resolution": redact(text)[:200]}
    )
    work_items_end(
        actor=actor, event=Event.HELP_CLOSED, subject_type=HELP_REQUEST, subject_ids=[locked.pk], at=when
    )
    request.refresh_from_db()
    return request


@transaction.atomic
def help_request_rate(*, request: HelpRequest, rating: int | None, comment: str = "") -> HelpRequest:
    """The resident's rating of a resolved request, once."""
    locked = HelpRequest.objects.select_for_update().get(pk=request.pk)
    if locked.status != Status.RESOLVED:
        raise Conflict(_("You can rate the help once your request is resolved."))
    if locked.rating is not None:
        raise Conflict(_("You have already rated this help. Thank you."))
    if rating is None or not 1 <= rating <= 5:
        raise Invalid.field("rating", _("Choose from 1 to 5 stars."))
    if len(comment) > 500:
        raise Invalid.field("comment", _("At most 500 characters."))
    locked.rating, locked.rating_comment = rating, comment.strip()
    locked.save(update_fields=["rating", "rating_comment", "updated_at"])
    audit_record(actor=None, action="helpdesk.rate", target=locked, after={"rating": rating})
    return locked


def help_request_reveal(*, actor: Any, request: HelpRequest) -> dict[str, str]:
    """The resident's full phone and address detail, to call and to reach them; audited."""
    _require_change(actor, request)
    audit_record(
        actor=actor, action="helpdesk.reveal", target=request, after={"fields": ["phone", "address"]}
    )
    return {
        "phone": decrypt(request.phone_cipher),
        "address": decrypt(request.address_cipher) if request.address_cipher else "",
    }
