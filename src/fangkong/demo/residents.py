"""The demo city's residents: households of 1–5 people at building/unit/room addresses on grids.

``residents_generate`` is a pure function of (seed, count, grids, as_of): names from Faker zh_CN
(seeded; drawn into pools once, then picked with numpy for speed), valid resident IDs whose area
code is the grid's district code, sequence parity matching the sex (odd = male), no two people
with the same ID, and unique mainland mobiles for most people aged 16 and over. Ages run 0–95 on
``as_of``. ``residents_insert`` writes them with ``bulk_create``, computing the encrypted, indexed
and masked PII exactly as ``people.services`` does.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from faker import Faker

from fangkong.demo.city import GridRef
from fangkong.people.crypto import encrypt
from fangkong.people.idnumbers import check_char
from fangkong.people.masking import mask_id_number, mask_phone
from fangkong.people.models import Household, IdType, Person
from fangkong.people.services import id_index, phone_index

Progress = Callable[[str, int, int], None]

HOUSEHOLD_SIZES = (1, 2, 3, 4, 5)
HOUSEHOLD_SIZE_SHARES = (0.18, 0.30, 0.27, 0.15, 0.10)
# Who lives together, by household size: H head, S spouse, C child, E elder (a parent of the head).
COMPOSITIONS: dict[int, tuple[str, ...]] = {
    1: ("H",),
    2: ("HS", "HS", "HS", "HC"),
    3: ("HSC", "HSC", "HSC", "HSE", "HCE"),
    4: ("HSCC", "HSCC", "HSCE"),
    5: ("HSCCE", "HSCEE", "HSCCC"),
}
# Mainland mobile prefixes in use (all 1[3-9]x): 13x, 15x but 154, 18x, and a few others.
MOBILE_PREFIXES = (
    *(f"13{d}" for d in range(10)),
    *(f"15{d}" for d in range(10) if d != 4),
    *(f"18{d}" for d in range(10)),
    *("147", "166", "173", "176", "177", "178", "191", "198", "199"),
)
NAME_POOL = 4096
UNITS_PER_BUILDING, FLOORS, DOORS_PER_FLOOR = 2, 18, 4
ROOMS_PER_BUILDING = UNITS_PER_BUILDING * FLOORS * DOORS_PER_FLOOR
HOUSEHOLDS_PER_BUILDING = 30  # how full the demo's buildings are, on average at most


@dataclass(frozen=True, slots=True)
class ResidentSpec:
    name: str
    sex: str  # "M" or "F", as people.models.Sex
    birth_date: date
    id_number: str
    phone: str  # "" when the person has no mobile on record


@dataclass(frozen=True, slots=True)
class HouseholdSpec:
    grid_code: str
    building: str
    unit: str
    room: str
    members: tuple[ResidentSpec, ...]


class _Identities:
    """Hands out resident IDs and mobiles, never the same one twice."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.ids: set[str] = set()
        self.phones: set[str] = set()

    def resident_id(self, *, area_code: str, birth: date, male: bool) -> str:
        while True:
            sequence = 2 * int(self.rng.integers(0, 500)) + (1 if male else 0)
            first17 = f"{area_code}{birth:%Y%m%d}{sequence:03d}"
            if first17 not in self.ids:
                self.ids.add(first17)
                return first17 + check_char(first17)

    def phone(self) -> str:
        while True:
            number = MOBILE_PREFIXES[int(self.rng.integers(len(MOBILE_PREFIXES)))] + (
                f"{int(self.rng.integers(100_000_000)):08d}"
            )
            if number not in self.phones:
                self.phones.add(number)
                return number


def _name_pools(seed: int) -> tuple[list[str], list[str], list[str]]:
    """Surnames (weighted as Faker weights them) and male and female given names."""
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    surnames = [fake.last_name() for _ in range(NAME_POOL)]
    male = [fake.first_name_male() for _ in range(NAME_POOL)]
    female = [fake.first_name_female() for _ in range(NAME_POOL)]
    return surnames, male, female


def _ages(composition: str, u: np.ndarray) -> list[int]:
    """Ages for the members of one household, from uniform draws ``u`` (one row per member)."""
    has_children = "C" in composition
    has_elder = "E" in composition
    if has_children or has_elder:
        head = 24 + int(u[0, 1] * 32)  # 24–55
    elif composition == "H":
        head = 18 + int(u[0, 1] ** 1.3 * 78)  # 18–95, more of them young
    else:
        head = 22 + int(u[0, 1] * 70)  # 22–91
    ages = [head]
    for i, role in enumerate(composition[1:], start=1):
        if role == "S":
            age = head - 3 + int(u[i, 1] * 10)
        elif role == "C":
            age = head - 20 - int(u[i, 1] * min(20, head - 20))
        else:
            age = head + 22 + int(u[i, 1] * 14)
        ages.append(min(95, max(0 if role == "C" else 18, age)))
    return ages


def _sexes(composition: str, u: np.ndarray) -> list[bool]:
    """Whether each member is male: spouses are of the other sex; two elders are a couple."""
    head_male = bool(u[0, 0] < 0.55)
    males = [head_male]
    elders = 0
    for i, role in enumerate(composition[1:], start=1):
        if role == "S":
            males.append(not head_male)
        elif role == "E":
            males.append(bool(u[i, 0] < 0.45) if elders == 0 else not males[-1])
            elders += 1
        else:
            males.append(bool(u[i, 0] < 0.51))
    return males


def _addresses(rng: np.random.Generator, count: int) -> list[tuple[str, str, str]]:
    """``count`` distinct (building, unit, room) on one grid, e.g. ("7", "2", "1203")."""
    buildings = max(1, math.ceil(count / HOUSEHOLDS_PER_BUILDING))
    slots = rng.choice(buildings * ROOMS_PER_BUILDING, size=count, replace=False)
    out = []
    for slot in slots.tolist():
        building, rest = divmod(slot, ROOMS_PER_BUILDING)
        unit, rest = divmod(rest, FLOORS * DOORS_PER_FLOOR)
        floor, door = divmod(rest, DOORS_PER_FLOOR)
        out.append((str(building + 1), str(unit + 1), f"{floor + 1}{door + 1:02d}"))
    return out


def residents_generate(
    *, seed: int, count: int, grids: Sequence[GridRef], as_of: date
) -> list[HouseholdSpec]:
    """Exactly ``count`` residents in households of 1–5, spread unevenly over ``grids``.

    The same arguments always give the same households, names, ID numbers and mobiles.
    """
    if count <= 0:
        return []
    rng = np.random.default_rng([seed, 2])
    surnames, male_names, female_names = _name_pools(seed)
    sizes: list[int] = []
    while sum(sizes) < count:
        sizes.extend(rng.choice(HOUSEHOLD_SIZES, size=max(16, count // 2), p=HOUSEHOLD_SIZE_SHARES).tolist())
    total = 0
    for i, size in enumerate(sizes):
        if total + size >= count:
            sizes = [*sizes[:i], count - total]
            break
        total += size
    density = rng.lognormal(0.0, 0.35, size=len(grids))
    grid_of = rng.choice(len(grids), size=len(sizes), p=density / density.sum())
    per_grid = np.bincount(grid_of, minlength=len(grids))
    free = {g: iter(_addresses(rng, int(n))) for g, n in enumerate(per_grid.tolist()) if n}
    identities = _Identities(rng)
    draws = rng.random((count, 7))
    households: list[HouseholdSpec] = []
    person = 0
    for h, size in enumerate(sizes):
        grid = grids[int(grid_of[h])]
        u = draws[person : person + size]
        options = COMPOSITIONS[size]
        composition = options[int(u[0, 2] * len(options))]
        ages, males = _ages(composition, u), _sexes(composition, u)
        drawn = [surnames[int(x * NAME_POOL)] for x in u[:, 3].tolist()]
        # children carry the father's surname; a male elder is the head's father
        family = drawn[1] if composition[1:2] == "S" and not males[0] else drawn[0]
        members: list[ResidentSpec] = []
        names: set[str] = set()
        for i, role in enumerate(composition):
            male, age = males[i], ages[i]
            surname = family if role == "C" else drawn[0] if role == "E" and male else drawn[i]
            pool, pick = (male_names if male else female_names), int(u[i, 4] * NAME_POOL)
            while surname + pool[pick] in names:  # no father and son of the same name
                pick = (pick + 1) % NAME_POOL
            names.add(surname + pool[pick])
            birth = as_of - timedelta(days=1 + int((age + u[i, 5]) * 365.2425))
            phone_share = 0.0 if age < 16 else (0.95 if age < 70 else 0.75)
            members.append(
                ResidentSpec(
                    name=surname + pool[pick],
                    sex="M" if male else "F",
                    birth_date=birth,
                    id_number=identities.resident_id(area_code=grid.district_code, birth=birth, male=male),
                    phone=identities.phone() if u[i, 6] < phone_share else "",
                )
            )
        building, unit, room = next(free[int(grid_of[h])])
        households.append(HouseholdSpec(grid.code, building, unit, room, tuple(members)))
        person += size
    return households


def _person(resident: ResidentSpec, *, grid_id: int, household_id: int) -> Person:
    """The row ``people.services.person_create`` would store for ``resident``."""
    number, phone = resident.id_number, resident.phone
    return Person(
        name=resident.name,
        sex=resident.sex,
        birth_date=resident.birth_date,
        id_type=IdType.RESIDENT_ID,
        id_number_cipher=encrypt(number),
        id_number_index=id_index(id_type=IdType.RESIDENT_ID, number=number),
        id_number_masked=mask_id_number(number),
        phone_cipher=encrypt(phone) if phone else None,
        phone_index=phone_index(phone) if phone else "",
        phone_masked=mask_phone(phone) if phone else "",
        org_unit_id=grid_id,
        household_id=household_id,
    )


def residents_insert(
    *,
    households: Sequence[HouseholdSpec],
    grid_ids: Mapping[str, int],
    batch_size: int = 2000,
    progress: Progress | None = None,
) -> tuple[int, int]:
    """Write ``households`` and their members; returns (households, people) written.

    Relies on ``bulk_create`` setting primary keys (PostgreSQL, SQLite ≥ 3.35). The caller owns
    the transaction.
    """
    total_people = sum(len(h.members) for h in households)
    people_done = 0
    for start in range(0, len(households), batch_size):
        chunk = households[start : start + batch_size]
        rows = Household.objects.bulk_create(
            [
                Household(org_unit_id=grid_ids[h.grid_code], building=h.building, unit=h.unit, room=h.room)
                for h in chunk
            ]
        )
        people = [
            _person(resident, grid_id=row.org_unit_id, household_id=row.pk)
            for spec, row in zip(chunk, rows, strict=True)
            for resident in spec.members
        ]
        Person.objects.bulk_create(people, batch_size=batch_size)
        people_done += len(people)
        if progress is not None:
            progress("residents", people_done, total_people)
    return len(households), people_done
