"""Exports of cases, contacts and orders: scoped (a district exports its district; another
district's unit is 404), masked unless the role may reveal (then audited once, with the count),
CSV and Excel that open as such, read in chunks as the response streams, bad input named."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.db.models.sql import compiler
from django.http import StreamingHttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from fangkong.audit.labels import action_label
from fangkong.audit.models import AuditEvent
from fangkong.common.errors import Invalid
from fangkong.contacts.services import contact_register
from fangkong.dashboard import export_files, export_views, exports
from fangkong.dashboard.export_files import export_file_build
from fangkong.dashboard.models import ExportFile
from fangkong.people.crypto import decrypt
from fangkong.people.models import Person
from tests.cases.factories import make_case
from tests.orgs.factories import user_with_role
from tests.people.factories import make_person

pytestmark = pytest.mark.django_db

KINDS = ("cases", "contacts", "orders")


def _contact(actor: Any, case: Any, person: Any) -> Any:
    last = timezone.localtime() - timedelta(hours=20)
    return contact_register(
        actor=actor,
        case=case,
        person=person,
        exposure_type="household",
        first_exposure=last - timedelta(hours=2),
        last_exposure=last,
    )


@pytest.fixture
def outbreak(tree, epidemiologist, admin_user):
    """Two cases in the district (grids a and b), one far away; a contact (with orders) of the
    grid-a case living on grid b, and one of the far case living far away."""
    onset = timezone.localdate() - timedelta(days=1)

    rooms = iter(range(101, 200))  # each in a household of their own: no secondary contacts

    def person(actor: Any, grid: Any, name: str) -> Any:
        return make_person(actor=actor, grid=grid, name=name, room=str(next(rooms)))

    def case(grid: Any, name: str, actor: Any, **details: Any) -> Any:
        details.setdefault("person", person(actor, grid, name))
        details.setdefault("onset_date", onset)
        return make_case(actor=actor, grid=grid, **details)

    case_a = case(tree.grid_a, "欧阳春华", epidemiologist, hospital='=HYPERLINK("http://x")')
    case_b = case(tree.grid_b, "李建国", epidemiologist, hours_ago=80, onset_date=onset - timedelta(days=5))
    case_far = case(tree.grid_far, "张卫东", admin_user)
    contact_b = _contact(epidemiologist, case_a, person(epidemiologist, tree.grid_b, "赵丽娟"))
    contact_far = _contact(admin_user, case_far, person(admin_user, tree.grid_far, "钱明亮"))
    return {"a": case_a, "b": case_b, "far": case_far, "contact_b": contact_b, "contact_far": contact_far}


def _get(client: Client, actor: Any, kind: str, fmt: str = "csv", **params: Any) -> Any:
    """The export's file: CSV at once; Excel written (as by the worker) and then downloaded."""
    client.force_login(actor)
    response = client.post(f"/dashboard/exports/{kind}.{fmt}", params)
    if fmt == "csv" or response.status_code != 302:
        return response
    file = ExportFile.objects.latest("pk")
    assert response["Location"] == f"/dashboard/exports/files/{file.pk}/"
    export_file_build(file_id=file.pk)
    return client.get(f"/dashboard/exports/files/{file.pk}/download")


def _body(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def _csv(response: Any) -> list[list[str]]:
    text = _body(response).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def _xlsx(response: Any) -> list[tuple[Any, ...]]:
    sheet = load_workbook(io.BytesIO(_body(response)), read_only=True).worksheets[0]
    return list(sheet.iter_rows(values_only=True))


def test_a_district_exports_only_its_district(client: Client, outbreak, epidemiologist):
    rows = _csv(_get(client, epidemiologist, "cases"))
    assert sorted(r[0] for r in rows[1:]) == sorted([outbreak["a"].number, outbreak["b"].number])
    contacts = _csv(_get(client, epidemiologist, "contacts"))
    assert [r[0] for r in contacts[1:]] == [outbreak["a"].number]
    orders = _csv(_get(client, epidemiologist, "orders"))
    assert {r[-1] for r in orders[1:]} == {outbreak["a"].number}  # the quarantine and its follow-on
    assert len(orders) - 1 == outbreak["contact_b"].orders.count() == 2


def test_a_grid_worker_exports_the_rows_of_their_grid(client: Client, outbreak, tree):
    worker_b = user_with_role("grid_worker", tree.grid_b, username="gw_b")
    assert [r[0] for r in _csv(_get(client, worker_b, "cases"))[1:]] == [outbreak["b"].number]
    # the contact lives on grid b though its case is on grid a: grid b sees it
    assert [r[0] for r in _csv(_get(client, worker_b, "contacts"))[1:]] == [outbreak["a"].number]


def test_an_org_unit_narrows_the_export(client: Client, outbreak, epidemiologist, tree):
    rows = _csv(_get(client, epidemiologist, "cases", org_unit=tree.grid_a.pk))
    assert [r[0] for r in rows[1:]] == [outbreak["a"].number]


@pytest.mark.parametrize("kind", KINDS)
def test_an_org_unit_outside_scope_is_404(client: Client, outbreak, epidemiologist, tree, kind):
    assert _get(client, epidemiologist, kind, org_unit=tree.other_district.pk).status_code == 404
    assert _get(client, epidemiologist, kind, "xlsx", org_unit=tree.grid_far.pk).status_code == 404
    assert _get(client, epidemiologist, kind, org_unit=999_999).status_code == 404
    assert not AuditEvent.objects.filter(action__startswith="dashboard.export").exists()


def test_a_role_without_the_view_permission_has_no_export(client: Client, outbreak, tree):
    publisher = user_with_role("publisher", tree.city, username="pub")
    assert _get(client, publisher, "cases").status_code == 404


def _pii_of_everyone() -> list[str]:
    values = []
    for person in Person.objects.all():
        values += [person.name, decrypt(person.id_number_cipher), decrypt(person.phone_cipher)]
    return values


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("kind", KINDS)
def test_a_masked_export_holds_no_full_name_id_or_phone(client: Client, outbreak, commander, kind, fmt):
    response = _get(client, commander, kind, fmt)
    rows = _csv(response) if fmt == "csv" else _xlsx(response)
    cells = [str(cell) for row in rows for cell in row if cell is not None]
    assert len(rows) > 1
    for value in _pii_of_everyone():
        assert not any(value in cell for cell in cells), value
    assert any("*" in cell for cell in cells)


def test_a_full_export_needs_the_reveal_permission(client: Client, outbreak, grid_worker, lab_user):
    assert _get(client, grid_worker, "cases", full=1).status_code == 403
    assert _get(client, lab_user, "orders", "xlsx", full=1).status_code == 403
    assert not AuditEvent.objects.filter(action__startswith="dashboard.export").exists()


def test_a_full_export_is_refused_when_part_of_the_scope_may_not_be_revealed(client: Client, outbreak, tree):
    """Epidemiologist of the district, lab in the far district: the far rows may not be revealed."""
    user = user_with_role("epidemiologist", tree.district, username="two_hats")
    user.memberships.create(org_unit=tree.other_district, role="lab")
    assert _get(client, user, "cases", full=1).status_code == 403
    assert _get(client, user, "cases", full=1, org_unit=tree.district.pk).status_code == 200


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_full_export_shows_the_values_and_is_audited_once_with_the_count(
    client: Client, outbreak, epidemiologist, fmt
):
    since = (timezone.localdate() - timedelta(days=1)).isoformat()
    response = _get(client, epidemiologist, "cases", fmt, full=1, since=since)
    rows = _csv(response) if fmt == "csv" else _xlsx(response)
    person = outbreak["a"].person
    assert [r[0] for r in rows[1:]] == [outbreak["a"].number]  # case b was reported 80 h ago
    assert decrypt(person.id_number_cipher) in rows[1] and "欧阳春华" in rows[1]
    events = AuditEvent.objects.filter(action__startswith="dashboard.export").exclude(
        action="dashboard.export.download"
    )
    assert [(e.action, e.actor_id) for e in events] == [("dashboard.export.unmasked", epidemiologist.pk)]
    downloads = AuditEvent.objects.filter(action="dashboard.export.download")
    assert downloads.count() == (1 if fmt == "xlsx" else 0)
    assert events[0].after == {
        "kind": "cases",
        "format": fmt,
        "filters": {"since": since, "until": None, "org_unit": None},
        "rows": 1,
    }
    assert events[0].org_unit == epidemiologist.memberships.get().org_unit


def test_a_masked_export_is_audited_too(client: Client, outbreak, commander, tree):
    _body(_get(client, commander, "orders", org_unit=tree.district.pk, status="active"))
    event = AuditEvent.objects.get(action__startswith="dashboard.export")
    assert event.action == "dashboard.export" and event.org_unit == tree.district
    assert event.after["rows"] == 1 and event.after["filters"]["status"] == "active"
    assert action_label(event.action) != event.action  # the audit list names it in words
    assert "/dashboard/exports/" in client.get("/dashboard/").content.decode()  # reached from the dashboard


def test_the_csv_has_a_translated_header_and_a_safe_file_name(client: Client, outbreak, epidemiologist):
    response = _get(client, epidemiologist, "cases")
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    today = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == f'attachment; filename="cases-{today}.csv"'
    header, *rows = _csv(response)
    assert header[0] == "病例编号" and "证件号码" in header  # zh-Hans by default
    assert len(rows) == 2 and all(len(row) == len(header) for row in rows)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert _csv(_get(client, epidemiologist, "cases"))[0][:2] == ["Case number", "Classification"]


def test_a_spreadsheet_formula_is_written_as_text(client: Client, outbreak, epidemiologist):
    header, *rows = _csv(_get(client, epidemiologist, "cases", org_unit=outbreak["a"].org_unit_id))
    assert rows[0][header.index("收治医院")] == '\'=HYPERLINK("http://x")'
    response = _get(client, epidemiologist, "cases", "xlsx", org_unit=outbreak["a"].org_unit_id)
    sheet = load_workbook(io.BytesIO(_body(response))).worksheets[0]
    cell = sheet.cell(row=2, column=header.index("收治医院") + 1)
    assert cell.data_type == "s" and cell.value == '=HYPERLINK("http://x")'


def test_the_xlsx_opens_with_real_dates(client: Client, outbreak, epidemiologist):
    response = _get(client, epidemiologist, "orders", "xlsx")
    assert response["Content-Disposition"].startswith('attachment; filename="orders-')
    assert response["Content-Type"] == export_views.XLSX_TYPE
    header, *rows = _xlsx(response)
    assert header[0] == "姓名" and len(rows) == 2
    day_one = rows[0][header.index("第1天")]
    assert isinstance(day_one, datetime) and day_one.date() >= date.today() - timedelta(days=2)
    assert all(row[header.index("第1天")] is not None for row in rows)


def test_excel_columns_are_wide_enough_for_their_values(client: Client, outbreak, commander):
    response = _get(client, commander, "cases", "xlsx", full=1)
    sheet = load_workbook(io.BytesIO(_body(response))).worksheets[0]
    header = [cell.value for cell in sheet[1]]
    for name, least in (("报告时间", 19), ("证件号码", 18), ("病例编号", 18)):
        letter = get_column_letter(header.index(name) + 1)
        assert sheet.column_dimensions[letter].width >= least, name


def test_the_csv_streams_and_reads_the_rows_in_chunks(
    client: Client, outbreak, epidemiologist, monkeypatch, tree
):
    """The header leaves before any row is read; then one chunk of rows is read per chunk sent,
    and the number of queries does not grow with the rows (no query per row)."""
    for _ in range(3):
        make_case(
            actor=epidemiologist, grid=tree.grid_b, person=make_person(actor=epidemiologist, grid=tree.grid_b)
        )
    monkeypatch.setattr(exports, "CHUNK_ROWS", 2)
    fetched: list[int] = []
    real_cursor_iter = compiler.cursor_iter

    def counting_cursor_iter(cursor: Any, sentinel: Any, col_count: Any, itersize: int) -> Any:
        for rows in real_cursor_iter(cursor, sentinel, col_count, itersize):
            if itersize == 2:  # the export's reads (Django reads other queries 100 rows at a time)
                fetched.append(len(rows))
            yield rows

    monkeypatch.setattr(compiler, "cursor_iter", counting_cursor_iter)
    client.force_login(epidemiologist)
    with CaptureQueriesContext(connection) as five_rows:
        response = client.post("/dashboard/exports/cases.csv", {"full": "1"})
        chunks = iter(response.streaming_content)
        next(chunks)  # the BOM and header
        assert fetched == []
        next(chunks)
        assert fetched == [2]  # only the first chunk has been read
        rest = list(chunks)
    assert fetched == [2, 2, 1] and len(rest) == 2
    with CaptureQueriesContext(connection) as one_row:
        _body(client.post("/dashboard/exports/cases.csv", {"full": "1", "org_unit": tree.grid_a.pk}))
    assert len(one_row) == len(five_rows) + 1  # the unit's own look-up; nothing per row


def test_an_excel_export_beyond_a_sheet_is_refused(client: Client, outbreak, epidemiologist, monkeypatch):
    monkeypatch.setattr(export_files, "EXCEL_ROWS", 1)
    response = _get(client, epidemiologist, "cases", "xlsx")
    assert response.status_code == 422 and 'data-field="format"' in response.content.decode()
    assert (
        _get(client, epidemiologist, "cases", "xlsx", org_unit=outbreak["a"].org_unit_id).status_code == 200
    )
    assert AuditEvent.objects.filter(action="dashboard.export").count() == 1


def test_an_unknown_export_is_not_there(client: Client, outbreak, epidemiologist):
    client.force_login(epidemiologist)
    assert client.get("/dashboard/exports/cases.csv").status_code == 405  # a link cannot start one
    assert client.get("/dashboard/exports/people.csv").status_code == 404
    assert client.get("/dashboard/exports/cases.pdf").status_code == 404
    assert (
        reverse("dashboard:export", kwargs={"kind": "orders", "fmt": "xlsx"})
        == "/dashboard/exports/orders.xlsx"
    )
    with pytest.raises(Invalid) as refused:
        exports.export_job(actor=epidemiologist, kind="people", fmt="pdf", params={})
    assert set(refused.value.errors) == {"kind", "format"}


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("cases.csv", {"since": "2026-13-01"}, "since"),
        ("cases.csv", {"since": "2026-11-20", "until": "2026-11-19"}, "until"),
        ("cases.csv", {"classification": "cured"}, "classification"),
        ("orders.xlsx", {"org_unit": "grid-a"}, "org_unit"),
        ("contacts.csv", {"full": "yes"}, "full"),
    ],
)
def test_bad_parameters_are_named(client: Client, outbreak, epidemiologist, path, params, field):
    client.force_login(epidemiologist)
    response = client.post(f"/dashboard/exports/{path}", params)
    assert response.status_code == 422
    assert f'data-field="{field}"' in response.content.decode()
    assert not AuditEvent.objects.filter(action__startswith="dashboard.export").exists()


def test_the_page_offers_full_values_only_to_who_may_reveal(
    client: Client, outbreak, epidemiologist, grid_worker
):
    client.force_login(epidemiologist)
    page = client.get("/dashboard/exports/").content.decode()
    assert all(f'data-testid="export-{kind}"' in page for kind in KINDS)
    assert 'name="full"' in page and 'name="classification"' in page
    client.force_login(grid_worker)
    page = client.get("/dashboard/exports/").content.decode()
    assert 'data-testid="export-cases"' in page and 'name="full"' not in page
