from datetime import date

import pytest
from django.db import connection

from fangkong.audit.models import AuditEvent
from fangkong.common.errors import Forbidden, Invalid
from fangkong.people.models import Household, Person
from fangkong.people.selectors import person_list
from fangkong.people.services import (
    DuplicatePerson,
    person_create,
    person_merge,
    person_reveal,
    person_update,
)
from fangkong.people.validation import PersonData
from tests.orgs.factories import user_with_role
from tests.people.factories import make_person, phone_number, resident_id

pytestmark = pytest.mark.django_db


def test_create_derives_birth_date_and_sex_and_stores_masked_copies(tree, grid_worker):
    number = resident_id(male=False)
    person = make_person(actor=grid_worker, grid=tree.grid_a, id_number=number, phone="13912345678")
    person.refresh_from_db()
    assert person.sex == "F"
    assert person.birth_date.isoformat() == "1990-05-17"
    assert person.id_number_masked == number[:4] + "*" * 10 + number[-4:]
    assert person.phone_masked == "139****5678"
    assert str(person.household) == "3栋1单元502室"


def test_raw_columns_hold_no_plaintext(tree, grid_worker):
    number = resident_id()
    make_person(actor=grid_worker, grid=tree.grid_a, id_number=number, phone="13912345678")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id_number_cipher, phone_cipher, id_number_index, phone_index FROM people_person"
        )
        row = cursor.fetchone()
    blob = b"".join(bytes(value) if not isinstance(value, str) else value.encode() for value in row)
    assert number.encode() not in blob
    assert b"13912345678" not in blob
    assert number[6:14].encode() not in blob  # not even the birth date part


def test_ciphertexts_differ_for_equal_values_but_the_index_is_equal(tree, grid_worker):
    a = make_person(actor=grid_worker, grid=tree.grid_a, phone="13900000001")
    b = make_person(actor=grid_worker, grid=tree.grid_a, phone="13900000001")
    assert bytes(a.phone_cipher) != bytes(b.phone_cipher)
    assert a.phone_index == b.phone_index


def test_blind_index_finds_by_exact_id_number_and_by_phone(tree, grid_worker):
    number = resident_id()
    wanted = make_person(actor=grid_worker, grid=tree.grid_a, id_number=number, phone="13811112222")
    make_person(actor=grid_worker, grid=tree.grid_a)
    assert list(person_list(actor=grid_worker, q=number)) == [wanted]
    assert list(person_list(actor=grid_worker, q=number.lower())) == [wanted]
    assert list(person_list(actor=grid_worker, q="138 1111 2222")) == [wanted]
    assert list(person_list(actor=grid_worker, q=number[:-1])) == []  # no partial match on PII


def test_duplicate_is_refused_and_returns_the_existing_person(tree, grid_worker):
    number = resident_id()
    existing = make_person(actor=grid_worker, grid=tree.grid_a, id_number=number)
    with pytest.raises(DuplicatePerson) as error:
        make_person(actor=grid_worker, grid=tree.grid_a, id_number=number, name="另一个")
    assert error.value.existing == existing
    assert "id_number" in error.value.errors
    assert Person.objects.count() == 1


def test_duplicate_in_another_area_is_refused_without_showing_it(tree, grid_worker):
    number = resident_id()
    far_worker = user_with_role("grid_worker", tree.grid_far)
    make_person(actor=far_worker, grid=tree.grid_far, id_number=number)
    with pytest.raises(DuplicatePerson) as error:
        make_person(actor=grid_worker, grid=tree.grid_a, id_number=number)
    assert error.value.visible_to_actor is False
    assert "王" not in str(error.value)


def test_every_bad_field_is_named_and_nothing_is_stored(tree, grid_worker):
    data = PersonData(
        name="",
        id_type="resident_id",
        id_number="110105194912310021",
        phone="12345",
        org_unit_id=999999,
        building="x" * 21,
    )
    with pytest.raises(Invalid) as error:
        person_create(actor=grid_worker, data=data)
    assert set(error.value.errors) == {"name", "id_number", "phone", "org_unit", "building"}
    assert Person.objects.count() == 0
    assert Household.objects.count() == 0


def test_a_person_cannot_be_registered_on_a_grid_outside_scope(tree, grid_worker):
    with pytest.raises(Invalid) as error:
        make_person(actor=grid_worker, grid=tree.grid_b)
    assert list(error.value.errors) == ["org_unit"]


def test_a_person_must_live_on_a_grid(tree, epidemiologist):
    with pytest.raises(Invalid) as error:
        make_person(actor=epidemiologist, grid=tree.community)
    assert list(error.value.errors) == ["org_unit"]


def test_update_is_audited_with_masked_values_only(tree, grid_worker):
    person = make_person(actor=grid_worker, grid=tree.grid_a, phone="13900001111")
    data = PersonData(
        name="王小明",
        id_type="resident_id",
        id_number=resident_id(),
        phone="13700002222",
        org_unit_id=tree.grid_a.pk,
    )
    person_update(actor=grid_worker, person=person, data=data)
    event = AuditEvent.objects.get(action="people.person.update")
    assert event.before["phone"] == "139****1111"
    assert event.after["phone"] == "137****2222"
    assert "13700002222" not in str(event.after)


def test_reveal_is_audited_and_returns_the_full_value(tree, epidemiologist, grid_worker):
    number = resident_id()
    person = make_person(actor=grid_worker, grid=tree.grid_a, id_number=number)
    assert person_reveal(actor=epidemiologist, person=person, field="id_number") == number
    event = AuditEvent.objects.get(action="people.person.reveal")
    assert (event.actor, event.target_id, event.after) == (
        epidemiologist,
        str(person.pk),
        {"field": "id_number"},
    )
    assert event.org_unit == tree.grid_a


def test_grid_workers_may_not_reveal(tree, grid_worker):
    person = make_person(actor=grid_worker, grid=tree.grid_a)
    with pytest.raises(Forbidden):
        person_reveal(actor=grid_worker, person=person, field="phone")
    assert not AuditEvent.objects.filter(action="people.person.reveal").exists()


def test_merge_moves_every_link_and_keeps_the_old_document_findable(tree, epidemiologist, grid_worker):
    right = make_person(actor=grid_worker, grid=tree.grid_a, name="李四", building="", unit="", room="")
    typo_number = resident_id()
    wrong = make_person(actor=grid_worker, grid=tree.grid_a, name="李四", id_number=typo_number)
    merged = person_merge(actor=epidemiologist, keep=right, drop=wrong)
    wrong.refresh_from_db()
    assert wrong.merged_into == merged == right
    assert right.household == wrong.household  # the household link moved to the kept record
    assert list(person_list(actor=grid_worker, q="李四")) == [right]
    with pytest.raises(DuplicatePerson) as error:
        make_person(actor=grid_worker, grid=tree.grid_a, id_number=typo_number)
    assert error.value.existing == right
    event = AuditEvent.objects.get(action="people.person.merge")
    assert event.before["dropped"] == wrong.pk


def test_merge_refuses_the_same_person(tree, epidemiologist, grid_worker):
    person = make_person(actor=grid_worker, grid=tree.grid_a)
    with pytest.raises(Invalid):
        person_merge(actor=epidemiologist, keep=person, drop=person)


def test_merge_moves_foreign_keys_of_other_models(tree, epidemiologist, grid_worker):
    """Links from any model pointing at Person are moved (checked with Person.merged_into itself)."""
    keep = make_person(actor=grid_worker, grid=tree.grid_a)
    drop = make_person(actor=grid_worker, grid=tree.grid_a)
    older = make_person(actor=grid_worker, grid=tree.grid_a)
    person_merge(actor=epidemiologist, keep=drop, drop=older)
    person_merge(actor=epidemiologist, keep=keep, drop=drop)
    older.refresh_from_db()
    assert older.merged_into == drop  # self-links are history, not moved


def test_phone_is_optional(tree, grid_worker):
    data = PersonData(
        name="赵六", id_type="passport", id_number="E1234567", org_unit_id=tree.grid_a.pk, sex="M"
    )
    person = person_create(actor=grid_worker, data=data)
    assert (person.phone_masked, person.id_number_masked, person.sex) == ("", "****4567", "M")
    assert phone_number()  # the factory still hands out numbers


def test_merge_refuses_two_records_that_look_like_two_people(tree, epidemiologist, grid_worker):
    parent = make_person(actor=grid_worker, grid=tree.grid_a, name="何博")
    child = make_person(
        actor=grid_worker, grid=tree.grid_a, name="何小宇", id_number=resident_id(birth=date(2018, 3, 2))
    )
    with pytest.raises(Invalid) as refused:
        person_merge(actor=epidemiologist, keep=parent, drop=child)
    assert set(refused.value.errors) == {"drop_id"}
    sister = make_person(actor=grid_worker, grid=tree.grid_a, name="何博", id_number=resident_id(male=False))
    with pytest.raises(Invalid):  # the same name, but not the same sex
        person_merge(actor=epidemiologist, keep=parent, drop=sister)
    typo = make_person(actor=grid_worker, grid=tree.grid_a, name="何搏")  # same birth date and sex
    assert person_merge(actor=epidemiologist, keep=parent, drop=typo) == parent
    child.refresh_from_db()
    sister.refresh_from_db()
    assert child.merged_into is None and sister.merged_into is None
