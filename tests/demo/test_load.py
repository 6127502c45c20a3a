"""The demo city: its tree, residents, logins and work, and that loading it twice writes nothing."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db.models import F

from fangkong.audit.models import AuditEvent
from fangkong.demo.city import CITY_CODE, DISTRICT_CODES, city_spec, grid_refs
from fangkong.demo.load import DEMO_PASSWORD, DemoSummary, demo_load, demo_logins
from fangkong.demo.residents import residents_generate
from fangkong.demo.users import FIRST_GRID_CODE
from fangkong.orgs.models import Membership, OrgUnit
from fangkong.orgs.roles import Role
from fangkong.people.crypto import decrypt
from fangkong.people.idnumbers import normalize_mobile, parse_resident_id
from fangkong.people.masking import mask_id_number, mask_phone
from fangkong.people.models import Household, Person
from fangkong.people.services import id_index, phone_index
from fangkong.worklist.models import WorkItem
from fangkong.worklist.selectors import overdue_count, work_item_list

RESIDENTS = 600
AS_OF = date(2022, 4, 1)


@pytest.fixture
def demo(db: Any, settings: Any) -> DemoSummary:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return demo_load(seed=7, residents=RESIDENTS, as_of=AS_OF)


def test_tree_has_a_city_4_districts_16_streets_64_communities_512_grids(demo: DemoSummary) -> None:
    levels = Counter(OrgUnit.objects.values_list("level", flat=True))
    assert levels == {"city": 1, "district": 4, "street": 16, "community": 64, "grid": 512}
    assert OrgUnit.objects.get(level="city").code == CITY_CODE
    assert sorted(OrgUnit.objects.filter(level="district").values_list("code", flat=True)) == list(
        DISTRICT_CODES
    )
    assert demo.created and demo.units == 597 and demo.grids == 512


def test_every_unit_path_extends_its_parents_path(demo: DemoSummary) -> None:
    units = {u.pk: u for u in OrgUnit.objects.all()}
    for unit in units.values():
        if unit.parent_id is None:
            assert unit.path == f"{unit.code}/" and unit.depth == 0
            continue
        parent = units[unit.parent_id]
        assert unit.path == f"{parent.path}{unit.code}/"
        assert unit.path.startswith(parent.path)
        assert unit.depth == parent.depth + 1
        if unit.level != "district":
            assert unit.code.startswith(parent.code) and len(unit.code) == len(parent.code) + 3


def test_names_are_unique_among_siblings(demo: DemoSummary) -> None:
    siblings = Counter(OrgUnit.objects.values_list("parent_id", "name"))
    assert max(siblings.values()) == 1
    assert OrgUnit.objects.get(code=FIRST_GRID_CODE).name == "第1网格"


def test_every_resident_id_is_valid_and_from_the_residents_district(demo: DemoSummary) -> None:
    people = list(Person.objects.select_related("org_unit"))
    assert len(people) == RESIDENTS == demo.residents
    numbers = set()
    for person in people:
        number = decrypt(person.id_number_cipher)
        parsed = parse_resident_id(number, today=AS_OF)
        district_code = person.org_unit.path.split("/")[1]
        assert parsed.area_code == district_code
        assert (parsed.sex, parsed.birth_date) == (person.sex, person.birth_date)
        assert 0 <= (AS_OF - parsed.birth_date).days // 366 <= 95
        assert person.id_number_index == id_index(id_type="resident_id", number=number)
        assert person.id_number_masked == mask_id_number(number)
        numbers.add(number)
    assert len(numbers) == RESIDENTS


def test_phones_are_unique_mainland_mobiles_held_by_most_adults(demo: DemoSummary) -> None:
    people = list(Person.objects.all())
    phones = [decrypt(p.phone_cipher) for p in people if p.phone_cipher is not None]
    for person in people:
        if person.phone_cipher is None:
            assert person.phone_index == person.phone_masked == ""
            continue
        phone = decrypt(person.phone_cipher)
        assert normalize_mobile(phone) == phone
        assert person.phone_index == phone_index(phone)
        assert person.phone_masked == mask_phone(phone)
    assert len(set(phones)) == len(phones)
    adults = [p for p in people if p.birth_date is not None and (AS_OF - p.birth_date).days >= 18 * 366]
    assert sum(p.phone_cipher is not None for p in adults) > 0.8 * len(adults)


def test_households_hold_one_to_five_people_at_distinct_addresses(demo: DemoSummary) -> None:
    sizes = Counter(Person.objects.values_list("household_id", flat=True))
    assert None not in sizes
    assert set(sizes.values()) <= {1, 2, 3, 4, 5}
    assert len(sizes) == Household.objects.count() == demo.households
    assert not Person.objects.exclude(org_unit_id=F("household__org_unit_id")).exists()
    assert Household.objects.filter(org_unit__level="grid").count() == demo.households


def test_generators_give_the_same_city_for_the_same_seed() -> None:
    assert city_spec(seed=11) == city_spec(seed=11)
    assert city_spec(seed=11) != city_spec(seed=12)
    grids = grid_refs(city_spec(seed=11))
    first = residents_generate(seed=11, count=300, grids=grids, as_of=AS_OF)
    assert first == residents_generate(seed=11, count=300, grids=grids, as_of=AS_OF)
    assert first != residents_generate(seed=12, count=300, grids=grids, as_of=AS_OF)
    assert sum(len(h.members) for h in first) == 300


def test_a_second_load_writes_nothing(demo: DemoSummary) -> None:
    models = (OrgUnit, Household, Person, get_user_model(), Membership, WorkItem, AuditEvent)
    before = {m: m.objects.count() for m in models}
    again = demo_load(seed=7, residents=RESIDENTS, as_of=AS_OF)
    assert not again.created
    assert {m: m.objects.count() for m in models} == before
    assert again.counts() == demo.counts()
    assert AuditEvent.objects.filter(action="demo.load").count() == 1


def test_one_login_per_role_with_the_demo_password(demo: DemoSummary) -> None:
    User = get_user_model()
    for role in Role:
        user = User.objects.get(username=role.value)
        assert user.check_password(DEMO_PASSWORD)
        assert Membership.objects.filter(user=user, role=role.value).exists()
    admin = User.objects.get(username="admin")
    assert admin.is_staff and admin.is_superuser
    assert not User.objects.get(username="commander").is_superuser
    worker = Membership.objects.get(user__username="grid_worker").org_unit
    assert (
        worker.code
        == FIRST_GRID_CODE
        == min(
            OrgUnit.objects.filter(
                level="grid", path__startswith=f"{CITY_CODE}/{DISTRICT_CODES[0]}/"
            ).values_list("code", flat=True)
        )
    )
    second = Membership.objects.get(user__username="grid_worker_2", role="grid_worker").org_unit
    assert second.parent_id == worker.parent_id and second != worker


def test_logins_name_each_unit_from_the_district_down(demo: DemoSummary) -> None:
    logins = {username: (role, unit) for username, role, unit in demo_logins()}
    assert set(logins) == {role.value for role in Role} | {"grid_worker_2"}
    grid = OrgUnit.objects.get(code=FIRST_GRID_CODE)
    above = OrgUnit.objects.filter(level__in=["district", "street", "community"], pk__in=_ancestors(grid))
    address = "".join(unit.name for unit in above.order_by("depth")) + grid.name
    assert logins["grid_worker"] == ("grid_worker", address)
    assert logins["commander"] == ("commander", "鹏城市")


def test_the_demo_grid_worker_has_open_work_two_of_it_overdue(demo: DemoSummary) -> None:
    worker = get_user_model().objects.get(username="grid_worker")
    items = list(work_item_list(actor=worker))
    assert len(items) == demo.work_items >= 5
    assert {item.org_unit.code for item in items} == {FIRST_GRID_CODE}
    assert overdue_count(actor=worker) == 2
    assert work_item_list(actor=worker, mine_only=True).exists()


def _ancestors(unit: OrgUnit) -> list[int]:
    ids = []
    while unit.parent_id is not None:
        ids.append(unit.parent_id)
        unit = OrgUnit.objects.get(pk=unit.parent_id)
    return ids
