import csv
import io

import pytest
from django.core.management import call_command
from django.test import Client
from openpyxl import Workbook

from fangkong.audit.models import AuditEvent
from fangkong.people.imports import person_import_create, person_import_run
from fangkong.people.models import Person, PersonImport
from tests.people.factories import make_person, resident_id

pytestmark = pytest.mark.django_db
HEADER = ["姓名", "证件类型", "证件号码", "手机号", "网格编码", "楼栋", "单元", "房号"]


def csv_bytes(rows, header=HEADER, encoding="utf-8-sig") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def run_worker() -> None:
    """The real database worker, processing what is queued, then exiting."""
    call_command(
        "db_worker", "--batch", "--queue-name", "*", "--no-startup-delay", "--no-reload", verbosity=0
    )


@pytest.mark.django_db(transaction=True)
def test_a_good_file_is_imported_by_the_worker(tree, grid_worker):
    a, b = tree.grid_a.code, tree.grid_a.code
    content = csv_bytes(
        [
            ["赵一", "居民身份证", resident_id(), "13900000001", a, "7", "1", "101"],
            ["钱二", "", resident_id(male=False), "", b, "7", "1", "101"],
            ["孙三", "护照", "E99887766", "+86 139 0000 0003", a, "", "", ""],
            ["李四", "其他证件", "X123456", "", a, "", "", ""],
            ["周五", "Passport", "G12345678", "", a, "", "", ""],
        ]
    )
    job = person_import_create(actor=grid_worker, org_unit=tree.grid_a, file_name="居民.csv", content=content)
    assert job.status == "queued"
    run_worker()
    job.refresh_from_db()
    assert (job.status, job.total_rows, job.created_count, job.errors) == ("succeeded", 5, 5, [])
    assert sorted(Person.objects.values_list("id_type", flat=True)) == [
        "other",
        "passport",
        "passport",
        "resident_id",
        "resident_id",
    ]
    zhao, qian = Person.objects.get(name="赵一"), Person.objects.get(name="钱二")
    assert zhao.household == qian.household and qian.sex == "F"
    assert AuditEvent.objects.filter(action="people.person.create", actor=grid_worker).count() == 5
    assert AuditEvent.objects.filter(action="people.import.succeeded").count() == 1


def test_every_bad_row_is_reported_with_row_and_column_and_nothing_is_written(tree, grid_worker):
    registered = resident_id()
    make_person(actor=grid_worker, grid=tree.grid_a, id_number=registered)
    twice = resident_id()
    g = tree.grid_a.code
    content = csv_bytes(
        [
            ["好人", "", resident_id(), "13900000001", g, "", "", ""],  # row 2: good
            ["错号", "", "110105194912310021", "", g, "", "", ""],  # row 3: check character
            ["外区", "", resident_id(), "", tree.grid_far.code, "", "", ""],  # row 4: grid outside scope
            ["重复甲", "", twice, "", g, "", "", ""],  # row 5
            ["重复乙", "", twice, "", g, "", "", ""],  # row 6: same as row 5
            ["已登记", "", registered, "", g, "", "", ""],  # row 7: already in the registry
            ["坏手机", "", resident_id(), "12345", g, "", "", ""],  # row 8
            ["", "", resident_id(), "", g, "", "", ""],  # row 9: no name
        ]
    )
    job = PersonImport.objects.create(
        org_unit=tree.grid_a, created_by=grid_worker, file_name="x.csv", content=content
    )
    person_import_run(import_id=job.pk)
    job.refresh_from_db()
    assert job.status == "rejected"
    found = {(e["row"], e["column"]) for e in job.errors}
    assert found == {
        (3, "证件号码"),
        (4, "网格编码"),
        (6, "证件号码"),
        (7, "证件号码"),
        (8, "手机号"),
        (9, "姓名"),
    }
    assert Person.objects.count() == 1  # only the one registered before
    assert job.created_count == 0


def test_an_id_number_stored_as_a_number_in_excel_is_refused_with_a_hint(tree, grid_worker):
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append(["王五", "", 440303199005171234.0, "", tree.grid_a.code, "", "", ""])
    buffer = io.BytesIO()
    book.save(buffer)
    job = PersonImport.objects.create(
        org_unit=tree.grid_a, created_by=grid_worker, file_name="a.xlsx", content=buffer.getvalue()
    )
    person_import_run(import_id=job.pk)
    job.refresh_from_db()
    assert job.status == "rejected"
    assert [(e["row"], e["column"]) for e in job.errors] == [(2, "证件号码")]


def test_xlsx_with_text_cells_imports(tree, grid_worker):
    book = Workbook()
    sheet = book.active
    sheet.append(["name", "id_number", "grid_code", "phone"])
    sheet.append(["周六", resident_id(), tree.grid_a.code, 13900000009])
    buffer = io.BytesIO()
    book.save(buffer)
    job = PersonImport.objects.create(
        org_unit=tree.grid_a, created_by=grid_worker, file_name="b.XLSX", content=buffer.getvalue()
    )
    assert person_import_run(import_id=job.pk).status == "succeeded"
    assert Person.objects.get().phone_masked == "139****0009"


def test_gbk_csv_from_excel_is_read(tree, grid_worker):
    content = csv_bytes([["吴七", "", resident_id(), "", tree.grid_a.code, "", "", ""]], encoding="gb18030")
    job = PersonImport.objects.create(
        org_unit=tree.grid_a, created_by=grid_worker, file_name="c.csv", content=content
    )
    assert person_import_run(import_id=job.pk).status == "succeeded"


@pytest.mark.parametrize(
    ("header", "column"),
    [
        (["姓名", "证件号码"], "网格编码"),
        (["姓名", "证件号码", "网格编码", "血型"], "血型"),
        (["姓名", "姓名"], "姓名"),
    ],
)
def test_a_bad_header_rejects_the_file_naming_the_column(tree, grid_worker, header, column):
    content = csv_bytes([["x"] * len(header)], header=header)
    job = PersonImport.objects.create(
        org_unit=tree.grid_a, created_by=grid_worker, file_name="d.csv", content=content
    )
    person_import_run(import_id=job.pk)
    job.refresh_from_db()
    assert job.status == "rejected"
    assert job.errors[0]["row"] == 1 and job.errors[0]["column"] == column


@pytest.mark.django_db(transaction=True)
def test_upload_page_and_progress_page(client: Client, tree, grid_worker):
    client.force_login(grid_worker)
    upload = io.BytesIO(csv_bytes([["郑八", "", resident_id(), "", tree.grid_a.code, "", "", ""]]))
    upload.name = "名单.csv"
    response = client.post("/people/imports/", {"org_unit": tree.grid_a.pk, "file": upload})
    job = PersonImport.objects.get()
    assert response.url == f"/people/imports/{job.pk}/"
    assert 'hx-trigger="every 1s"' in client.get(response.url).content.decode()
    run_worker()
    page = client.get(response.url).content.decode()
    assert 'data-status="succeeded"' in page and "hx-trigger" not in page
    assert client.get("/people/imports/template.csv").content.decode("utf-8-sig").startswith("姓名,证件类型")


def test_upload_refuses_other_file_types(client: Client, tree, grid_worker):
    client.force_login(grid_worker)
    upload = io.BytesIO(b"%PDF-1.4")
    upload.name = "scan.pdf"
    page = client.post("/people/imports/", {"org_unit": tree.grid_a.pk, "file": upload}).content.decode()
    assert 'data-field="file"' in page
    assert PersonImport.objects.count() == 0


def test_api_upload_is_202_and_status_is_readable(client: Client, tree, grid_worker):
    client.force_login(grid_worker)
    upload = io.BytesIO(csv_bytes([["冯九", "", resident_id(), "", tree.grid_a.code, "", "", ""]]))
    upload.name = "api.csv"
    response = client.post("/api/people/imports", {"org_unit_id": tree.grid_a.pk, "file": upload})
    assert response.status_code == 202, response.content
    status = client.get(f"/api/people/imports/{response.json()['id']}").json()
    assert status["status"] == "queued" and status["file_name"] == "api.csv"
