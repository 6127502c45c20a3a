"""Sending: batches up to the backend's limit, outcomes, no blind retry, the stuck sweep."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from fangkong.audit.models import AuditEvent
from fangkong.common.errors import Conflict, Forbidden
from fangkong.notify.backends import get_backend, locmem
from fangkong.notify.models import OutboxMessage, Status
from fangkong.notify.sending import claim_batch, sms_send_pending, sms_sweep_stuck
from fangkong.notify.services import Sms, sms_outcome_record, sms_queue, sms_retry
from fangkong.notify.tasks import sms_send_task
from tests.notify import backends
from tests.orgs.factories import user_with_role

pytestmark = pytest.mark.django_db
BACKENDS = "tests.notify.backends."


def queue(tree, n: int, *, template: str = "self_report", start: int = 0) -> list[OutboxMessage]:
    params = (
        {"link": "https://fk.example.cn/r/X/"}
        if template == "self_report"
        else {"ticket": "AB-CD", "minutes": "30"}
    )
    messages = [Sms(phone=f"139{start + i:08d}", params=params, org_unit_id=tree.grid_a.pk) for i in range(n)]
    return sms_queue(actor=None, template=template, messages=messages).queued


@pytest.fixture(autouse=True)
def _calls():
    backends.calls.clear()


def test_messages_go_in_batches_of_the_backends_limit_one_template_each(tree, settings):
    settings.FANGKONG_SMS_BACKEND = BACKENDS + "SmallBatchBackend"  # max_batch 3
    queue(tree, 7)
    queue(tree, 2, template="help_ack", start=100)
    assert sms_send_pending() == 9
    assert [len(r) for r in locmem.requests] == [3, 3, 1, 2]
    assert [{m.template for m in r} for r in locmem.requests] == [{"self_report"}] * 3 + [{"help_ack"}]
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {Status.SENT}
    sent = OutboxMessage.objects.first()
    assert sent.provider == "small" and sent.sent_at is not None and sent.attempts == 1
    assert locmem.outbox[0].phone == "13900000000"  # the backend gets the number in plaintext


def test_the_task_sends_only_its_template(tree):
    queue(tree, 2)
    queue(tree, 1, template="help_ack", start=50)
    assert sms_send_task.call(template="help_ack") == 1
    assert OutboxMessage.objects.filter(status=Status.QUEUED).count() == 2


def test_a_claimed_batch_is_not_claimed_again(tree):
    queue(tree, 4)
    backend = get_backend(BACKENDS + "SmallBatchBackend")
    first = claim_batch(template=None, backend=backend)
    second = claim_batch(template=None, backend=backend)
    assert len(first) == 3 and len(second) == 1
    assert not {m.pk for m in first} & {m.pk for m in second}
    assert claim_batch(template=None, backend=backend) == []
    assert OutboxMessage.objects.filter(status=Status.SENDING).count() == 4


def test_a_rejected_message_fails_and_may_be_sent_again_by_staff(tree, settings, grid_worker):
    settings.FANGKONG_SMS_BACKEND = BACKENDS + "RejectingBackend"
    (message,) = queue(tree, 1)
    sms_send_pending()
    message.refresh_from_db()
    assert message.status == Status.FAILED and message.error.startswith("isv.MOBILE_NUMBER_ILLEGAL")
    assert sms_send_pending() == 0  # a failure is not sent again by itself
    sms_retry(actor=grid_worker, messages=[message])
    event = AuditEvent.objects.get(action="notify.sms.retry")
    assert event.actor == grid_worker and event.after["error_before"].startswith("isv.")
    settings.FANGKONG_SMS_BACKEND = "fangkong.notify.backends.locmem.LocmemBackend"
    assert sms_send_pending() == 1
    message.refresh_from_db()
    assert message.status == Status.SENT and message.attempts == 2


@pytest.mark.parametrize("backend", ["TimeoutBackend", "CrashingBackend"])
def test_an_unknown_outcome_is_never_sent_again_by_itself_nor_by_retry(tree, settings, grid_worker, backend):
    settings.FANGKONG_SMS_BACKEND = BACKENDS + backend
    (message,) = queue(tree, 1)
    sms_send_pending()
    message.refresh_from_db()
    assert message.status == Status.UNKNOWN and message.error
    assert sms_send_pending() == 0
    with pytest.raises(Conflict) as refused:
        sms_retry(actor=grid_worker, messages=[message])
    assert "139****0000" in refused.value.message
    assert len(backends.calls) == 1
    # the provider's console says it did not arrive: recorded, it may be sent again
    sms_outcome_record(actor=grid_worker, message=message, delivered=False, note="控制台无此记录")
    assert message.status == Status.FAILED
    sms_retry(actor=grid_worker, messages=[message])
    assert OutboxMessage.objects.get(pk=message.pk).status == Status.QUEUED
    assert AuditEvent.objects.filter(action="notify.sms.outcome", target_id=str(message.pk)).count() == 1


def test_an_unknown_message_found_delivered_is_recorded_as_sent(tree, settings, grid_worker):
    settings.FANGKONG_SMS_BACKEND = BACKENDS + "TimeoutBackend"
    (message,) = queue(tree, 1)
    sms_send_pending()
    message.refresh_from_db()
    sms_outcome_record(actor=grid_worker, message=message, delivered=True)
    message.refresh_from_db()
    assert message.status == Status.SENT and message.sent_at is not None
    with pytest.raises(Conflict):
        sms_outcome_record(actor=grid_worker, message=message, delivered=False)


def test_only_staff_of_the_unit_may_retry(tree, settings):
    settings.FANGKONG_SMS_BACKEND = BACKENDS + "RejectingBackend"
    (message,) = queue(tree, 1)
    sms_send_pending()
    message.refresh_from_db()
    far = user_with_role("grid_worker", tree.grid_far, username="far")
    with pytest.raises(Forbidden):
        sms_retry(actor=far, messages=[message])


def test_a_retry_keeps_to_the_daily_limit(tree, settings, grid_worker):
    settings.FANGKONG_SMS_BACKEND = BACKENDS + "RejectingBackend"
    (failed,) = queue(tree, 1)
    sms_send_pending()
    failed.refresh_from_db()
    settings.FANGKONG_SMS_BACKEND = "fangkong.notify.backends.locmem.LocmemBackend"
    same = Sms(phone="13900000000", params={"link": "https://fk.example.cn/r/Y/"}, org_unit_id=tree.grid_a.pk)
    assert len(sms_queue(actor=None, template="self_report", messages=[same] * 3).queued) == 3  # limit 3
    with pytest.raises(Conflict):
        sms_retry(actor=grid_worker, messages=[failed])
    assert OutboxMessage.objects.get(pk=failed.pk).status == Status.FAILED


def test_a_message_stuck_sending_for_ten_minutes_becomes_unknown(tree):
    queue(tree, 2)
    backend = get_backend()
    claimed = claim_batch(template=None, backend=backend)  # the worker died right after this
    assert len(claimed) == 2
    now = timezone.now()
    assert sms_sweep_stuck(now=now + timedelta(minutes=9)) == 0
    assert sms_sweep_stuck(now=now + timedelta(minutes=11)) == 2
    stuck = OutboxMessage.objects.first()
    assert stuck.status == Status.UNKNOWN and stuck.error.startswith("stuck")
    assert AuditEvent.objects.filter(action="notify.sms.unknown").count() == 2
    with time_machine.travel(now + timedelta(hours=1), tick=False):
        assert sms_send_pending() == 0
    assert locmem.outbox == []
