"""The outbox page: scoped to the viewer's units, masked, filtered, and its staff actions."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from fangkong.notify.models import OutboxMessage, Status
from fangkong.notify.sending import sms_send_pending
from fangkong.notify.services import Sms, sms_queue
from tests.orgs.factories import user_with_role

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
URL = "/notify/outbox/"


def _queue(unit, phone: str, link: str = "https://fk.example.cn/r/A/") -> OutboxMessage:
    sms = Sms(phone=phone, params={"link": link}, org_unit_id=unit.pk)
    return sms_queue(actor=None, template="self_report", messages=[sms]).queued[0]


def test_the_outbox_shows_the_units_messages_masked_newest_first(tree, grid_worker, client: Client):
    with time_machine.travel(datetime(2022, 4, 10, 9, 0, tzinfo=SH), tick=False):
        _queue(tree.grid_a, "13800138000", "https://fk.example.cn/r/OLD/")
    with time_machine.travel(datetime(2022, 4, 10, 10, 0, tzinfo=SH), tick=False):
        _queue(tree.grid_a, "13800138001", "https://fk.example.cn/r/NEW/")
    _queue(tree.grid_far, "13800138002", "https://fk.example.cn/r/FAR/")
    client.force_login(grid_worker)
    response = client.get(URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert reverse("notify:outbox") == URL
    assert "138****8000" in html and "138****8001" in html
    assert "13800138000" not in html
    assert html.index("/r/NEW/") < html.index("/r/OLD/")
    assert "/r/FAR/" not in html and "138****8002" not in html
    assert f'href="{URL}"' in html  # the navigation entry


def test_another_district_sees_nothing_of_ours(tree, client: Client):
    _queue(tree.grid_a, "13800138000")
    far = user_with_role("commander", tree.other_district, username="far_cmd")
    client.force_login(far)
    html = client.get(URL).content.decode()
    assert "138****8000" not in html
    assert 'class="empty"' in html
    message = OutboxMessage.objects.get()
    assert client.post(reverse("notify:action", args=[message.pk, "retry"])).status_code == 404


def test_a_user_without_people_view_has_no_outbox_entry(tree, client: Client):
    publisher = user_with_role("publisher", tree.city, username="pub")
    client.force_login(publisher)
    html = client.get(URL).content.decode()
    assert f'href="{URL}"' not in html.split("<main", 1)[0]


def test_filters_and_exact_phone_search(tree, grid_worker, client: Client, settings):
    _queue(tree.grid_a, "13800138000", "https://fk.example.cn/r/ONE/")
    _queue(tree.grid_a, "13800138001", "https://fk.example.cn/r/TWO/")
    settings.FANGKONG_SMS_DAILY_LIMIT = 0
    _queue_refused = sms_queue(
        actor=None,
        template="self_report",
        messages=[
            Sms(
                phone="13800138009",
                params={"link": "https://fk.example.cn/r/NO/"},
                org_unit_id=tree.grid_a.pk,
            )
        ],
    )
    assert _queue_refused.refused
    client.force_login(grid_worker)
    html = client.get(URL, {"phone": "138 0013 8001"}).content.decode()
    assert "/r/TWO/" in html and "/r/ONE/" not in html
    html = client.get(URL, {"phone": "8001"}).content.decode()  # no partial search
    assert "/r/TWO/" not in html and 'role="status"' in html
    html = client.get(URL, {"status": "refused"}).content.decode()
    assert "/r/NO/" in html and "/r/ONE/" not in html
    html = client.get(URL, {"template": "help_ack"}).content.decode()
    assert "/r/ONE/" not in html and 'class="empty"' in html
    html = client.get(URL, {"day": "2001-01-01"}).content.decode()
    assert "/r/ONE/" not in html


def test_the_pager_keeps_the_filters(tree, grid_worker, client: Client, settings):
    settings.FANGKONG_PAGE_SIZE = 2
    for i in range(3):
        _queue(tree.grid_a, f"1380013800{i}")
    client.force_login(grid_worker)
    html = client.get(URL, {"status": "queued"}).content.decode()
    assert "status=queued&amp;page=2" in html


def test_retry_from_the_page_requeues_a_failed_message(tree, grid_worker, client: Client, settings):
    message = _queue(tree.grid_a, "13800138000")
    settings.FANGKONG_SMS_BACKEND = "tests.notify.backends.RejectingBackend"
    sms_send_pending()
    client.force_login(grid_worker)
    html = client.get(URL).content.decode()
    assert reverse("notify:action", args=[message.pk, "retry"]) in html
    response = client.post(reverse("notify:action", args=[message.pk, "retry"]), follow=True)
    assert response.status_code == 200
    assert OutboxMessage.objects.get(pk=message.pk).status == Status.QUEUED
    assert "138****8000" in response.content.decode()


def test_an_unknown_message_offers_no_retry_but_asks_to_check_the_console(
    tree, grid_worker, client: Client, settings
):
    message = _queue(tree.grid_a, "13800138000")
    settings.FANGKONG_SMS_BACKEND = "tests.notify.backends.TimeoutBackend"
    sms_send_pending()
    client.force_login(grid_worker)
    html = client.get(URL).content.decode()
    assert reverse("notify:action", args=[message.pk, "retry"]) not in html
    assert reverse("notify:action", args=[message.pk, "delivered"]) in html
    response = client.post(reverse("notify:action", args=[message.pk, "retry"]), follow=True)
    assert OutboxMessage.objects.get(pk=message.pk).status == Status.UNKNOWN
    assert 'class="error"' in response.content.decode()
    client.post(reverse("notify:action", args=[message.pk, "undelivered"]))
    assert OutboxMessage.objects.get(pk=message.pk).status == Status.FAILED
