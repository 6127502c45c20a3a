"""One person per document number, whatever the keyboard: full-width digits (a Chinese IME in
full-width mode), spaces, ² and other compatibility forms are made plain (NFKC) everywhere a
number is parsed, indexed or searched; digits of other scripts are refused; a migration puts
numbers stored in another form into their normal form, and names the pairs to merge."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from fangkong.common.errors import Invalid
from fangkong.contacts.handoff import person_by_document
from fangkong.people.crypto import blind_index, decrypt, encrypt
from fangkong.people.idnumbers import InvalidNumber, normalize_document, parse_resident_id
from fangkong.people.models import Person
from fangkong.people.selectors import person_list
from fangkong.people.services import DuplicatePerson, id_index
from tests.people.factories import make_person, resident_id

WIDE = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def test_full_width_spaced_and_ascii_forms_are_one_number():
    number = resident_id()
    wide = number[:17].translate(WIDE) + number[17]  # the IME's digits, an ASCII check character
    assert normalize_document(wide) == number
    assert normalize_document(number.translate(WIDE)) == number
    assert normalize_document(f" {number[:6]}\u3000{number[6:14]} {number[14:]}\x00 ") == number
    assert parse_resident_id(number.translate(WIDE)).number == number
    assert id_index(id_type="resident_id", number=wide) == id_index(id_type="resident_id", number=number)


@pytest.mark.parametrize(
    "raw",
    [
        "²40303197001011234",  # the reproducer: an error 500 before
        "440303197001011234".translate(ARABIC_INDIC),
        "４４０３０３１９７００１０１１２３４"[:17] + "١",
        "44030319700101123４五",
    ],
)
def test_other_digits_are_refused_with_a_reason_never_an_error(raw):
    with pytest.raises(InvalidNumber):
        parse_resident_id(raw)


def test_a_full_width_number_finds_and_deduplicates_to_the_same_person(tree, grid_worker):
    person = make_person(actor=grid_worker, grid=tree.grid_a)
    number = decrypt(person.id_number_cipher)
    wide = number[:17].translate(WIDE) + number[17]
    with pytest.raises(DuplicatePerson) as twice:
        make_person(actor=grid_worker, grid=tree.grid_a, id_number=wide)
    assert twice.value.existing == person
    assert list(person_list(actor=grid_worker, q=number.translate(WIDE))) == [person]
    assert person_by_document(number=wide) == person
    with pytest.raises(Invalid) as other_script:
        make_person(actor=grid_worker, grid=tree.grid_a, id_number=number.translate(ARABIC_INDIC))
    assert "id_number" in other_script.value.errors
    assert Person.objects.count() == 1


def test_the_migration_normalises_stored_numbers_and_names_the_pairs_to_merge(tree, grid_worker, capsys):
    kept = make_person(actor=grid_worker, grid=tree.grid_a)
    plain = make_person(actor=grid_worker, grid=tree.grid_a)
    twin_number = decrypt(plain.id_number_cipher)
    stored = decrypt(kept.id_number_cipher).translate(WIDE)  # as an earlier version stored it
    Person.objects.filter(pk=kept.pk).update(
        id_number_cipher=encrypt(stored), id_number_index=blind_index(stored, purpose="id:resident_id")
    )
    twin = Person.objects.create(  # the same number as ``plain``, stored full-width
        name="重复",
        org_unit=tree.grid_a,
        id_type="resident_id",
        id_number_cipher=encrypt(twin_number.translate(WIDE)),
        id_number_index=blind_index(twin_number.translate(WIDE), purpose="id:resident_id"),
        id_number_masked="x",
    )
    migration = importlib.import_module("fangkong.people.migrations.0004_documents_normalised")
    migration.documents_normalise(apps, None)
    kept.refresh_from_db()
    assert decrypt(kept.id_number_cipher).isascii()
    assert kept.id_number_index == id_index(id_type="resident_id", number=decrypt(kept.id_number_cipher))
    assert "*" in kept.id_number_masked and kept.id_number_masked.isascii()
    twin.refresh_from_db()
    assert not decrypt(twin.id_number_cipher).isascii()  # kept as it was, for the merge
    said = capsys.readouterr().out
    assert "1 re-indexed; 1 now the same number" in said
    assert f"person {twin.pk} holds the same document as person {plain.pk}" in said
