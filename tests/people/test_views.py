import pytest
from django.test import Client

from fangkong.people.models import Person
from tests.people.factories import make_person, resident_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def ui(client: Client, grid_worker):
    client.force_login(grid_worker)
    return client


def test_form_shows_each_bad_field_with_its_reason_and_keeps_nothing(ui, tree):
    ui.cookies["django_language"] = "en"
    response = ui.post(
        "/people/new/",
        {
            "name": "张三",
            "id_type": "resident_id",
            "id_number": "110105194912310021",
            "phone": "123",
            "org_unit": tree.grid_a.pk,
            "room": "8" * 30,
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-field="id_number"' in page and "check character should be X" in page
    assert 'data-field="phone"' in page and "11 digits" in page
    assert 'data-field="room"' in page and "At most 20 characters" in page
    assert Person.objects.count() == 0


def test_form_errors_are_in_chinese_by_default(ui, tree):
    page = ui.post(
        "/people/new/",
        {"name": "张三", "id_type": "resident_id", "id_number": "123", "org_unit": tree.grid_a.pk},
    ).content.decode()
    assert "18" in page and 'data-field="id_number"' in page
    assert "This field" not in page


def test_duplicate_in_the_form_links_to_the_existing_person(ui, tree, grid_worker):
    number = resident_id()
    existing = make_person(actor=grid_worker, grid=tree.grid_a, id_number=number)
    page = ui.post(
        "/people/new/",
        {"name": "重复", "id_type": "resident_id", "id_number": number, "org_unit": tree.grid_a.pk},
    ).content.decode()
    assert f"/people/{existing.pk}/" in page
    assert Person.objects.count() == 1


def test_register_then_edit_through_the_pages(ui, tree):
    number = resident_id()
    response = ui.post(
        "/people/new/",
        {
            "name": "孙悟空",
            "id_type": "resident_id",
            "id_number": number,
            "phone": "13800138000",
            "org_unit": tree.grid_a.pk,
            "building": "1",
            "unit": "2",
            "room": "303",
        },
    )
    person = Person.objects.get()
    assert response.url == f"/people/{person.pk}/"
    edit_page = ui.get(f"/people/{person.pk}/edit/").content.decode()
    assert number not in edit_page and "13800138000" not in edit_page  # the form never holds plaintext PII
    # ID number and phone left blank: both are kept (the editor only ever saw them masked)
    ui.post(
        f"/people/{person.pk}/edit/", {"name": "孙行者", "id_type": "resident_id", "org_unit": tree.grid_a.pk}
    )
    person.refresh_from_db()
    assert (person.name, person.household, person.phone_masked) == ("孙行者", None, "138****8000")
    assert person.id_number_masked == number[:4] + "*" * 10 + number[-4:]
    ui.post(
        f"/people/{person.pk}/edit/",
        {"name": "孙行者", "id_type": "resident_id", "org_unit": tree.grid_a.pk, "clear_phone": "on"},
    )
    person.refresh_from_db()
    assert person.phone_masked == ""


def test_list_paginates_and_filters_by_unit(ui, tree, grid_worker):
    for i in range(30):
        make_person(actor=grid_worker, grid=tree.grid_a, name=f"测试{i:02d}号")
    first = ui.get("/people/").content.decode()
    assert "?page=2" in first and "30" in first
    second = ui.get("/people/", {"page": 2}).content.decode()
    assert second.count('href="/people/') >= 5
    assert ui.get("/people/", {"page": "abc"}).status_code == 200
    filtered = ui.get("/people/", {"org_unit": tree.grid_a.pk, "q": "测试29号"}).content.decode()
    assert "测***号" in filtered and "共 1 条" in filtered


def test_empty_search_says_so(ui):
    ui.cookies["django_language"] = "en"
    assert (
        "Nobody in your area matches"
        in ui.get(
            "/people/",
            {"q": "不存在"},
        ).content.decode()
    )


def test_pages_are_in_chinese_whatever_the_browser_asks_until_switched(ui):
    assert "<h1>我的任务</h1>" in ui.get("/work/", HTTP_ACCEPT_LANGUAGE="en-US,en").content.decode()
    ui.post("/i18n/setlang/", {"language": "en", "next": "/work/"})
    assert "<h1>My work</h1>" in ui.get("/work/").content.decode()


def test_address_words_typed_into_the_fields_are_not_doubled(ui, tree):
    ui.post(
        "/people/new/",
        {
            "name": "周九",
            "id_type": "resident_id",
            "id_number": resident_id(),
            "org_unit": tree.grid_a.pk,
            "building": "9栋",
            "unit": "1单元",
            "room": "101室",
        },
    )
    assert str(Person.objects.get().household) == "9栋1单元101室"


def test_merge_form_errors_are_messages_not_error_pages(client: Client, tree, grid_worker, epidemiologist):
    person = make_person(actor=grid_worker, grid=tree.grid_a)
    client.force_login(epidemiologist)
    client.cookies["django_language"] = "en"
    response = client.post(f"/people/{person.pk}/merge/", {"drop_id": 999999}, follow=True)
    assert response.status_code == 200 and "No record 999999 in your area." in response.content.decode()
    response = client.post(f"/people/{person.pk}/merge/", {"drop_id": person.pk}, follow=True)
    page = response.content.decode()
    assert "cannot be merged into themselves" in page and "drop:" not in page


def test_search_accepts_an_id_number_typed_with_spaces(ui, tree, grid_worker):
    number = resident_id()
    make_person(actor=grid_worker, grid=tree.grid_a, name="空格", id_number=number)
    spaced = f"{number[:6]} {number[6:14]} {number[14:]}"
    assert "空*" in ui.get("/people/", {"q": spaced}).content.decode()
