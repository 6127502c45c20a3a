"""Queuing text messages: templates, refusals, the daily limit, audit, the help desk's ack."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from fangkong.audit.models import AuditEvent
from fangkong.common.errors import Invalid
from fangkong.notify.models import OutboxMessage, Status
from fangkong.notify.services import Sms, sms_queue, sms_to_people
from fangkong.people.crypto import decrypt
from fangkong.people.models import Person
from tests.helpdesk.factories import make_request
from tests.people.factories import make_person

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
NOTICE = {"days": "3", "tests": "2", "link": "https://fk.example.cn/r/AB12/"}


def test_a_message_is_the_approved_text_with_the_phone_encrypted_and_masked(tree, grid_worker):
    result = sms_queue(
        actor=grid_worker,
        template="companion_notice",
        messages=[Sms(phone="+86 138-0013-8000", params=NOTICE, org_unit_id=tree.grid_a.pk)],
    )
    (message,) = result.queued
    assert result.refused == []
    message.refresh_from_db()
    assert message.status == Status.QUEUED
    assert message.body == (
        "【防控】您近期与新冠病例存在时空伴随，请于3天内完成2次核酸检测，并向社区报备：https://fk.example.cn/r/AB12/"
    )
    assert decrypt(message.phone_cipher) == "13800138000"
    assert message.phone_masked == "138****8000"
    assert b"13800138000" not in bytes(message.phone_cipher)
    assert message.created_by == grid_worker and message.org_unit == tree.grid_a


def test_an_unknown_template_or_a_missing_parameter_is_invalid_and_queues_nothing(tree):
    with pytest.raises(Invalid) as error:
        sms_queue(actor=None, template="marketing", messages=[Sms(phone="13800138000", params={})])
    assert "template" in error.value.errors
    with pytest.raises(Invalid) as error:
        sms_queue(
            actor=None,
            template="companion_notice",
            messages=[Sms(phone="13800138000", params={"days": "3", "link": "x"})],
        )
    assert list(error.value.errors) == ["tests"]
    with pytest.raises(Invalid) as error:  # a parameter the approved text has no place for
        sms_queue(
            actor=None,
            template="self_report",
            messages=[Sms(phone="13800138000", params={"link": "x", "name": "张三"})],
        )
    assert list(error.value.errors) == ["name"]
    assert OutboxMessage.objects.count() == 0


def test_the_daily_limit_refuses_and_keeps_the_refusal_until_the_next_local_day(tree):
    # the limit is 3 in these tests (conftest)
    morning = datetime(2022, 4, 10, 8, 0, tzinfo=SH)
    sms = Sms(phone="13800138000", params={"link": "https://fk.example.cn/r/X/"}, org_unit_id=tree.grid_a.pk)
    with time_machine.travel(morning, tick=False):
        first = sms_queue(actor=None, template="self_report", messages=[sms] * 4)
        later = sms_queue(actor=None, template="self_report", messages=[sms])
    assert len(first.queued) == 3
    ((_sms, reason),) = first.refused
    assert "3" in reason
    assert len(later.queued) == 0 and len(later.refused) == 1
    refused = OutboxMessage.objects.filter(status=Status.REFUSED)
    assert refused.count() == 2 and all(m.error for m in refused)
    # 23:59 the same day (local) still counts; 00:00 local the next day starts afresh (16:00 UTC)
    with time_machine.travel(datetime(2022, 4, 10, 23, 59, tzinfo=SH), tick=False):
        assert sms_queue(actor=None, template="self_report", messages=[sms]).queued == []
    with time_machine.travel(datetime(2022, 4, 11, 0, 0, tzinfo=SH), tick=False):
        assert len(sms_queue(actor=None, template="self_report", messages=[sms]).queued) == 1


def test_a_landline_or_no_number_is_refused_and_shown(tree):
    result = sms_queue(
        actor=None,
        template="help_ack",
        messages=[
            Sms(
                phone="0755-12345678",
                params={"ticket": "ABCD-EFGH", "minutes": "30"},
                org_unit_id=tree.community.pk,
            ),
            Sms(phone="", params={"ticket": "ABCD-EFGK", "minutes": "30"}, org_unit_id=tree.community.pk),
        ],
    )
    assert result.queued == [] and len(result.refused) == 2
    stored = list(OutboxMessage.objects.order_by("id"))
    assert [m.status for m in stored] == [Status.REFUSED, Status.REFUSED]
    assert stored[0].phone_masked == "*********5678"  # as typed, masked


def test_to_people_uses_their_phone_and_grid_and_refuses_those_without_one(tree, epidemiologist):
    grid_worker = epidemiologist
    with_phone = make_person(actor=grid_worker, grid=tree.grid_a, name="李四", phone="13912345678")
    without = make_person(actor=grid_worker, grid=tree.grid_b, name="王五")
    Person.objects.filter(pk=without.pk).update(phone_cipher=None, phone_index="", phone_masked="")
    without.refresh_from_db()
    result = sms_to_people(
        actor=grid_worker,
        template="self_report",
        people=[with_phone, without],
        params=lambda p: {"link": f"https://fk.example.cn/r/{p.pk}/"},
        subject=lambda p: p,
    )
    (queued,) = result.queued
    assert decrypt(queued.phone_cipher) == "13912345678"
    assert queued.person == with_phone and queued.org_unit == tree.grid_a
    assert queued.subject_type == "people.person" and queued.subject_id == str(with_phone.pk)
    assert queued.phone_index == with_phone.phone_index  # one blind index for a phone, wherever kept
    ((sms, reason),) = result.refused
    assert sms.person_id == without.pk and reason
    assert OutboxMessage.objects.get(person=without).status == Status.REFUSED


def test_a_batch_costs_the_same_queries_whatever_its_size(tree):
    def batch(n: int, start: int) -> list[Sms]:
        return [
            Sms(
                phone=f"139{start + i:08d}",
                params={"link": "https://fk.example.cn/r/Q/"},
                org_unit_id=tree.grid_a.pk,
            )
            for i in range(n)
        ]

    with CaptureQueriesContext(connection) as one:
        sms_queue(actor=None, template="self_report", messages=batch(1, 0))
    with CaptureQueriesContext(connection) as many:  # under SQLite's 999 parameters a statement
        sms_queue(actor=None, template="self_report", messages=batch(40, 100))
    assert len(many.captured_queries) == len(one.captured_queries)
    assert OutboxMessage.objects.count() == 41


def test_queuing_is_audited_per_message_with_the_phone_masked(tree, grid_worker):
    sms_queue(
        actor=grid_worker,
        template="self_report",
        messages=[
            Sms(
                phone="13800138000", params={"link": "https://fk.example.cn/r/1/"}, org_unit_id=tree.grid_a.pk
            ),
            Sms(phone="12345", params={"link": "https://fk.example.cn/r/2/"}, org_unit_id=tree.grid_a.pk),
        ],
    )
    queued = AuditEvent.objects.get(action="notify.sms.queue")
    refused = AuditEvent.objects.get(action="notify.sms.refuse")
    assert queued.actor == grid_worker and queued.org_unit == tree.grid_a
    assert queued.after["phone"] == "138****8000"
    assert "13800138000" not in str(queued.after) and refused.after["reason"]


def test_the_sender_is_enqueued_once_the_transaction_commits(tree, django_capture_on_commit_callbacks):
    sms = Sms(phone="13800138000", params={"link": "https://fk.example.cn/r/1/"}, org_unit_id=tree.grid_a.pk)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        sms_queue(actor=None, template="self_report", messages=[sms])
        assert DBTaskResult.objects.count() == 0
    assert len(callbacks) == 1
    task = DBTaskResult.objects.get()
    assert task.task_path == "fangkong.notify.tasks.sms_send_task"
    assert task.args_kwargs["kwargs"] == {"template": "self_report"}


def test_a_help_request_queues_one_acknowledgement_with_its_ticket(tree):
    with time_machine.travel(datetime(2022, 4, 10, 9, 0, tzinfo=SH), tick=False):
        request = make_request(community=tree.community, urgency="urgent", phone="13800138000")
        again = make_request(community=tree.community, urgency="urgent", phone="13800138000")  # a duplicate
    assert again.pk == request.pk
    (message,) = OutboxMessage.objects.all()
    assert message.template == "help_ack" and message.status == Status.QUEUED
    assert message.params == {"ticket": request.ticket_display, "minutes": "30"}  # china-9: urgent 30 min
    assert request.ticket_display in message.body and "30分钟内回电" in message.body
    assert message.org_unit == tree.community
    assert message.subject_type == "helpdesk.helprequest" and message.subject_id == str(request.pk)
    assert request.name not in message.body


def test_a_help_request_from_a_landline_is_stored_with_its_refused_ack(tree):
    request = make_request(community=tree.community, phone="0755-12345678")
    (message,) = OutboxMessage.objects.all()
    assert message.status == Status.REFUSED and message.subject_id == str(request.pk)
