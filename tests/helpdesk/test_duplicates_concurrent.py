"""The same phone sending the same need from several places at once is stored once (the
duplicate guard serialises on the phone, which has no row to lock yet)."""

from __future__ import annotations

import threading

import pytest
from django.db import close_old_connections, connection

from fangkong.helpdesk.models import HelpRequest
from fangkong.helpdesk.services import RequestData, help_request_submit

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_sends_of_one_phone_and_need_store_one_request(tree):
    senders = 8
    barrier = threading.Barrier(senders)
    outcomes: list[bool] = []

    def send():
        try:
            barrier.wait()
            data = RequestData(
                name="王阿姨",
                phone="13912345678",
                community_id=tree.community.pk,
                category="medicine",
                urgency="urgent",
                description="降压药吃完了",
            )
            outcomes.append(help_request_submit(data=data).duplicate)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert HelpRequest.objects.count() == 1
    assert sorted(outcomes) == [False] + [True] * (senders - 1)
