"""The public side of mass testing: the open sites with their queues, and a resident's own results
by ID number and name or by their 核酸码 link — rate-limited, and the same answer whether or not
the person exists."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import segno
from django.test import Client
from django.utils import timezone

from fangkong.people.crypto import decrypt
from fangkong.testing.codes import person_code
from fangkong.testing.public import LOOKUPS_PER_HOUR
from fangkong.testing.results import ResultRow, tube_results_record
from fangkong.testing.services import SiteData, site_create, site_queue_post, tube_close, tube_open, tube_scan
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


def test_the_sites_page_names_each_open_site_on_its_street_map_and_lists_it(mass, tree, client: Client):
    tree.community.geometry = {
        "type": "Polygon",
        "coordinates": [
            [[114.10, 22.54], [114.14, 22.54], [114.14, 22.56], [114.10, 22.56], [114.10, 22.54]]
        ],
    }
    tree.community.save()
    second = site_create(
        actor=mass.commander,
        community=tree.community,
        data=SiteData(
            name="湖贝小学采样点", address="湖贝路9号", lon=114.13, lat=22.551, hours="08:00-20:00", teams=1
        ),
    )
    closed = site_create(
        actor=mass.commander,
        community=tree.community,
        data=SiteData(
            name="已关闭采样点", address="湖贝路3号", lon=114.11, lat=22.545, hours="08:00-12:00", teams=1
        ),
    )
    site_queue_post(actor=mass.collector, site=mass.site, queue="long", minutes=40)
    site_queue_post(actor=mass.collector, site=closed, queue="closed")
    page = client.get("/portal/testing/sites/").content.decode()

    maps = re.findall(r'<svg class="site-map".*?</svg>', page, flags=re.S)
    lists = re.findall(r'<ul class="plain sites".*?</ul>', page, flags=re.S)
    assert len(maps) == 1 and len(lists) == 1 and "东门街道" in page  # one street: one map
    assert "已关闭采样点" not in page
    assert re.search(r'<path class="outline" d="M[\d. L]+Z"', maps[0])  # the community's outline
    for site in (mass.site, second):
        point = re.search(rf'<a href="#site-entry-{site.pk}" id="site-{site.pk}".*?</a>', maps[0], flags=re.S)
        assert point and f">{site.name}</text>" in point.group(0)
        assert f'<a href="#site-{site.pk}"><strong>{site.name}</strong></a>' in lists[0]
        assert f'id="site-entry-{site.pk}"' in lists[0]
    assert 'class="queue-long" data-queue="long"' in maps[0]  # the queue is the point's colour
    legend = re.search(r'data-testid="site-legend">.*?</p>', page, flags=re.S)
    assert legend and all(word in legend.group(0) for word in ("无需排队", "排队较短", "排队较长"))


def _qr_matrix(svg: str) -> list[list[int]]:
    """The modules segno's SVG path draws, quiet zone included: a row of ``h`` runs per module row."""
    size = int(re.search(r'viewBox="0 0 (\d+) \1"', svg).group(1))
    path = re.search(r'<path stroke="#000" d="([^"]+)"', svg).group(1)
    matrix = [[0] * size for _n in range(size)]
    x = y = 0.0
    for command, args in re.findall(r"([MmHh])([-\d. ]+)", path):
        numbers = [float(n) for n in args.split()]
        if command == "M":
            x, y = numbers
        elif command == "m":
            x, y = x + numbers[0], y + numbers[1]
        else:
            run = numbers[0] if command == "h" else numbers[0] - x
            for column in range(int(x), int(x + run)):
                matrix[int(y)][column] = 1
            x += run
    return matrix


def test_the_code_link_shows_the_code_as_a_qr_code_that_scans_to_it(mass, client: Client):
    code = person_code(mass.people[0])
    page = client.get(f"/portal/testing/code/{code}/").content.decode()
    shown = re.search(
        r'<div class="person-qr" data-testid="person-qr" role="img" aria-label="[^"]+">(<svg.*?</svg>)</div>',
        page,
        flags=re.S,
    )
    assert shown and f'data-testid="person-code">{code}</code>' in page
    expected = segno.make(code, error="m", micro=False).matrix
    drawn = _qr_matrix(shown.group(1))
    assert len(drawn) == len(expected) + 8  # the 4-module quiet zone on each side
    assert [row[4:-4] for row in drawn[4:-4]] == [list(row) for row in expected]
    assert not any(any(row) for row in drawn[:4] + drawn[-4:])

    forged = client.get(f"/portal/testing/code/{code[:-2]}xx/").content.decode()
    assert 'data-testid="no-results"' in forged and 'data-testid="person-qr"' not in forged


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
