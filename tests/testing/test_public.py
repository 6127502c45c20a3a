"""The public side of mass testing: the open sites with their queues, and a resident's own results
by ID number and name or by their 核酸码 link — rate-limited, and the same answer whether or not
the person exists."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from fangkong.people.crypto import decrypt
from fangkong.testing.codes import person_code
from fangkong.testing.public import LOOKUPS_PER_HOUR
from fangkong.testing.results import ResultRow, tube_results_record
from fangkong.testing.services import site_queue_post, tube_close, tube_open, tube_scan
from tests.testing.conftest import barcode

pytestmark = pytest.mark.django_db


def test_the_sites_page_shows_the_posted_queue(mass, client: Client):
    site_queue_post(actor=mass.collector, site=mass.site, queue="long", minutes=40)
    page = client.get("/portal/testing/sites/")
    assert (
        page.status_code == 200
        and "湖贝广场采样点".encode() in page.content
        and b'data-queue="long"' in page.content
    )


def test_a_resident_sees_their_result_and_a_stranger_learns_nothing(mass, client: Client):
    person = mass.people[0]
    tube = tube_open(actor=mass.collector, round=mass.round, site=mass.site, barcode=barcode(1))
    tube_scan(actor=mass.collector, tube_id=tube.pk, code=person_code(person))
    tube_scan(actor=mass.collector, tube_id=tube.pk, code=person_code(mass.people[1]))
    tube_close(actor=mass.collector, tube=tube)
    id_number = decrypt(person.id_number_cipher)
    waiting = client.post("/portal/testing/result/", {"id_number": id_number, "name": person.name})
    assert b'data-result="waiting"' in waiting.content and person.name.encode() not in waiting.content
    tube_results_record(
        actor=mass.lab,
        rows=[ResultRow(1, tube.barcode, "negative", timezone.now() - timedelta(minutes=5), "鹏城检测")],
    )
    shown = client.post("/portal/testing/result/", {"id_number": id_number, "name": person.name})
    assert b'data-result="negative"' in shown.content and "李**号".encode() in shown.content
    code = shown.context["code"]
    assert b'data-result="negative"' in client.get(f"/portal/testing/code/{code}/").content

    # a wrong name, a person who does not exist, a forged code: the same "no result" page
    for details in (
        {"id_number": id_number, "name": "张三"},
        {"id_number": "110101199003077777", "name": "张三"},
    ):
        answer = client.post("/portal/testing/result/", details)
        assert answer.status_code == 200 and b'data-testid="no-results"' in answer.content
    assert b'data-testid="no-results"' in client.get(f"/portal/testing/code/{code[:-2]}xx/").content
    for odd in (
        {"id_number": "\x00", "name": "x"},
        {"id_number": "１" * 18, "name": "李00号"},
        {"id_number": "", "name": ""},
    ):
        assert client.post("/portal/testing/result/", odd).status_code in {200, 422}


def test_lookups_are_limited_per_address(mass, client: Client):
    for _n in range(LOOKUPS_PER_HOUR):
        assert (
            client.post(
                "/portal/testing/result/", {"id_number": "110101199003077777", "name": "张三"}
            ).status_code
            == 200
        )
    refused = client.post("/portal/testing/result/", {"id_number": "110101199003077777", "name": "张三"})
    assert refused.status_code == 429 and refused["Retry-After"]
