"""Handing queued messages to the provider (run by the worker: ``notify.tasks``).

Rules:
- Messages go by template, oldest first, in batches of the backend's ``max_batch`` (Aliyun
  SendBatchSms 100, Tencent SendSms 200).
- A batch is claimed by one UPDATE (queued → sending, with this run's claim token) and that is
  committed before the provider is called: two workers never send one message, and a worker that
  dies mid-call leaves its batch "sending".
- The provider's answer sets each message sent, failed or unknown (see ``backends.base``); a
  backend that raises leaves the whole batch unknown. Nothing unknown is sent again by itself.
- A message "sending" for longer than ``STUCK_AFTER`` (its worker died) becomes unknown.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from fangkong.audit.services import audit_record_many
from fangkong.notify.backends import BaseBackend, Outgoing, Result, get_backend
from fangkong.notify.backends.base import SENT, UNKNOWN
from fangkong.notify.models import OutboxMessage, Status
from fangkong.people.crypto import decrypt

log = logging.getLogger(__name__)
STUCK_AFTER = timedelta(minutes=10)


def sms_send_pending(*, template: str | None = None, backend: BaseBackend | None = None) -> int:
    """Send the queued messages (of ``template``, or all), batch by batch, until none is left;
    returns how many were handed to the provider."""
    backend = backend or get_backend()
    sms_sweep_stuck()
    handed = 0
    while batch := claim_batch(template=template, backend=backend):
        deliver(batch, backend=backend)
        handed += len(batch)
    return handed


def claim_batch(*, template: str | None, backend: BaseBackend) -> list[OutboxMessage]:
    """Claim the oldest queued messages of one template, at most ``backend.max_batch`` of them."""
    queued = OutboxMessage.objects.filter(status=Status.QUEUED)
    if template is None:
        template = queued.order_by("id").values_list("template", flat=True).first()
        if template is None:
            return []
    ids = list(
        queued.filter(template=template).order_by("id").values_list("id", flat=True)[: backend.max_batch]
    )
    if not ids:
        return []
    token = uuid.uuid4().hex
    OutboxMessage.objects.filter(pk__in=ids, status=Status.QUEUED).update(
        status=Status.SENDING,
        claim=token,
        provider=backend.name,
        sending_at=timezone.now(),
        attempts=F("attempts") + 1,
    )
    return list(OutboxMessage.objects.filter(claim=token, status=Status.SENDING).order_by("id"))


def deliver(batch: list[OutboxMessage], *, backend: BaseBackend) -> None:
    """Send one claimed batch and store each message's outcome."""
    outgoing = [
        Outgoing(id=m.pk, phone=decrypt(m.phone_cipher), template=m.template, params=m.params, body=m.body)
        for m in batch
    ]
    try:
        results = backend.send(outgoing)
    except Exception as error:  # after the request may have left: nothing can be said
        log.exception("SMS backend %s failed on a batch of %d", backend.name, len(batch))
        results = [Result(id=m.pk, status=UNKNOWN, error=f"{type(error).__name__}: {error}") for m in batch]
    by_id = {result.id: result for result in results}
    now = timezone.now()
    held = set(
        OutboxMessage.objects.filter(
            pk__in=[m.pk for m in batch], claim=batch[0].claim, status=Status.SENDING
        ).values_list("pk", flat=True)
    )
    done = []
    for message in batch:
        if message.pk not in held:  # swept to unknown meanwhile: that stands
            continue
        result = by_id.get(message.pk) or Result(id=message.pk, status=UNKNOWN, error="no answer for it")
        message.status = result.status
        message.provider_batch_id = result.batch_id[:100]
        message.provider_message_id = result.message_id[:100]
        message.error = result.error[:300]
        message.sent_at = now if result.status == SENT else None
        done.append(message)
    OutboxMessage.objects.bulk_update(
        done, ["status", "provider_batch_id", "provider_message_id", "error", "sent_at"], batch_size=500
    )


def sms_sweep_stuck(*, now: datetime | None = None) -> int:
    """Mark unknown each message left "sending" for longer than ``STUCK_AFTER``; returns how many."""
    now = now or timezone.now()
    with transaction.atomic():
        return _sweep(now)


def _sweep(now: datetime) -> int:
    stuck = list(
        OutboxMessage.objects.select_for_update().filter(
            status=Status.SENDING, sending_at__lt=now - STUCK_AFTER
        )
    )
    if not stuck:
        return 0
    reason = "stuck: no answer recorded within 10 minutes (the sender stopped)"
    OutboxMessage.objects.filter(pk__in=[m.pk for m in stuck], status=Status.SENDING).update(
        status=Status.UNKNOWN, error=reason
    )
    for message in stuck:
        message.status, message.error = Status.UNKNOWN, reason
    audit_record_many(
        actor=None,
        action="notify.sms.unknown",
        targets=stuck,
        after=lambda m: {"template": m.template, "phone": m.phone_masked, "reason": reason},
    )
    return len(stuck)
