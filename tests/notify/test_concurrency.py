"""Batches to one number at once keep to the daily limit (the count is serialised per number,
which has no row to lock), and two senders never send one message."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import close_old_connections, connection

from fangkong.notify.backends import locmem
from fangkong.notify.models import OutboxMessage, Status
from fangkong.notify.sending import sms_send_pending
from fangkong.notify.services import Sms, sms_queue

pytestmark = pytest.mark.django_db(transaction=True)


def _at_once(n: int, work: Callable[[], None]) -> None:
    barrier = threading.Barrier(n)

    def run() -> None:
        try:
            barrier.wait()
            work()
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_concurrent_batches_to_one_number_keep_to_the_daily_limit(tree):
    sms = Sms(phone="13912345678", params={"link": "https://fk.example.cn/r/A/"}, org_unit_id=tree.grid_a.pk)
    _at_once(6, lambda: sms_queue(actor=None, template="self_report", messages=[sms, sms]))
    assert OutboxMessage.objects.filter(status=Status.QUEUED).count() == 3  # the limit (conftest)
    assert OutboxMessage.objects.filter(status=Status.REFUSED).count() == 9


def test_concurrent_senders_send_each_message_once(tree):
    messages = [
        Sms(phone=f"139{i:08d}", params={"link": "https://fk.example.cn/r/B/"}, org_unit_id=tree.grid_a.pk)
        for i in range(30)
    ]
    sms_queue(actor=None, template="self_report", messages=messages)
    _at_once(4, lambda: sms_send_pending())
    assert OutboxMessage.objects.filter(status=Status.SENT).count() == 30
    assert sorted(m.id for m in locmem.outbox) == sorted(OutboxMessage.objects.values_list("id", flat=True))
