import csv
import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from fangkong.contacts.imports import TEMPLATE_HEADER, contact_import_run
from fangkong.contacts.models import Contact, ContactImport
from fangkong.quarantine.models import QuarantineOrder
from tests.cases.factories import make_case
from tests.people.factories import make_person, resident_id

pytestmark = pytest.mark.django_db


def sheet(rows) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(TEMPLATE_HEADER)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def at(hours_ago: float) -> str:
    return (timezone.localtime() - timedelta(hours=hours_ago)).strftime("%Y-%m-%d %H:%M")


@pytest.mark.django_db(transaction=True)
def test_a_good_list_becomes_contacts_with_orders_through_the_worker(client: Client, tree, epidemiologist):
    case = make_case(
        actor=epidemiologist,
        grid=tree.grid_a,
        hours_ago=2,
        onset_date=timezone.localdate() - timedelta(days=1),
    )
    known = resident_id()
    make_person(actor=epidemiologist, grid=tree.grid_b, id_number=known, building="", unit="", room="")
    content = sheet(
        [
            ["", "", known, "", "", "", "", "", "工作场所", at(8), at(6)],
            [
                "新来的",
                "居民身份证",
                resident_id(),
                "13900000077",
                tree.grid_b.code,
                "",
                "",
                "",
                "household",
                at(5),
                at(3),
            ],
        ]
    )
    client.force_login(epidemiologist)
    upload = io.BytesIO(content)
    upload.name = "密接名单.csv"
    response = client.post(f"/contacts/case/{case.pk}/import/", {"file": upload})
    job = ContactImport.objects.get()
    assert response.url == f"/contacts/imports/{job.pk}/"
    call_command(
        "db_worker", "--batch", "--queue-name", "*", "--no-startup-delay", "--no-reload", verbosity=0
    )
    job.refresh_from_db()
    assert (job.status, job.created_count, job.errors) == ("succeeded", 2, [])
    assert Contact.objects.filter(source_case=case, status="confirmed").count() == 2
    assert QuarantineOrder.objects.filter(contact__source_case=case).count() == 4


def test_every_bad_row_is_reported_and_nothing_is_written(tree, epidemiologist):
    case = make_case(
        actor=epidemiologist,
        grid=tree.grid_a,
        hours_ago=2,
        onset_date=timezone.localdate() - timedelta(days=1),
    )
    twice = resident_id()
    content = sheet(
        [
            ["甲", "", resident_id(), "", tree.grid_b.code, "", "", "", "household", at(5), at(3)],  # 2: good
            [
                "乙",
                "",
                "110105194912310021",
                "",
                tree.grid_b.code,
                "",
                "",
                "",
                "household",
                at(5),
                at(3),
            ],  # 3: checksum
            [
                "丙",
                "",
                resident_id(),
                "",
                tree.grid_b.code,
                "",
                "",
                "",
                "在月球",
                at(5),
                at(3),
            ],  # 4: exposure
            [
                "丁",
                "",
                resident_id(),
                "",
                tree.grid_b.code,
                "",
                "",
                "",
                "household",
                "昨天",
                at(3),
            ],  # 5: time
            [
                "戊",
                "",
                resident_id(),
                "",
                tree.grid_b.code,
                "",
                "",
                "",
                "household",
                at(24 * 20),
                at(24 * 19),
            ],  # 6: look-back
            ["己", "", twice, "", tree.grid_b.code, "", "", "", "household", at(5), at(3)],  # 7
            ["庚", "", twice, "", tree.grid_b.code, "", "", "", "household", at(5), at(3)],  # 8: twice
        ]
    )
    job = ContactImport.objects.create(
        case=case, created_by=epidemiologist, file_name="x.csv", content=content
    )
    contact_import_run(import_id=job.pk)
    job.refresh_from_db()
    assert job.status == "rejected"
    assert {(e["row"], e["column"]) for e in job.errors} == {
        (3, "证件号码"),
        (4, "暴露方式"),
        (5, "首次暴露时间"),
        (6, "末次暴露时间"),
        (8, "证件号码"),
    }
    assert not Contact.objects.exists()
