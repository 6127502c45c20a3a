"""The synthetic city's people, drawn one chunk at a time so memory stays bounded.

Each person has a home, a role and (for workers and students) a main place: a workplace, often in
the centre they live in, or a school near home. Children under school age and some adults stay
home; retirees and others at home still run errands. Each person also has a habit of visiting 0–3
venues a day. A chunk is drawn from its own seed, so any chunk can be drawn alone (tests do).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import numpy.typing as npt

from fangkong.engine.synth.city import City
from fangkong.engine.synth.geo import FloatArray, IntArray


class Role(IntEnum):
    """What a person does on a weekday."""

    PRESCHOOL = 0  # under school age: stays home
    STUDENT = 1
    WORKER = 2
    RETIRED = 3
    AT_HOME = 4  # adult without a workplace: errands only


ROLE_SHARE = np.array([0.06, 0.16, 0.60, 0.13, 0.05])
HABIT_SHARE = np.array([0.25, 0.35, 0.25, 0.15])  # venues a day: 0, 1, 2, 3
STAYS_LOCAL = 0.6  # a worker's chance to work in the centre they live in


@dataclass(frozen=True)
class People:
    """One chunk of people (arrays of equal length)."""

    person_id: IntArray
    role: IntArray
    home: IntArray
    home_lon: FloatArray
    home_lat: FloatArray
    #: Work or school; home for those without one.
    main_lon: FloatArray
    main_lat: FloatArray
    venue_habit: IntArray

    def __len__(self) -> int:
        return len(self.person_id)

    @property
    def commutes(self) -> npt.NDArray[np.bool_]:
        """Whether each person has a workplace or school to go to."""
        return np.asarray((self.role == Role.STUDENT) | (self.role == Role.WORKER))


def people_chunk(*, city: City, seed: int, chunk_index: int, first_id: int, count: int) -> People:
    """Draw people ``first_id .. first_id + count - 1`` (chunk ``chunk_index`` of the city)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x9E0, chunk_index]))
    person_id = np.arange(first_id, first_id + count, dtype=np.int64)
    role = rng.choice(len(ROLE_SHARE), size=count, p=ROLE_SHARE).astype(np.int64)
    home = rng.integers(0, len(city.homes), size=count).astype(np.int64)
    home_lon = city.homes.lon[home]
    home_lat = city.homes.lat[home]
    habit = rng.choice(len(HABIT_SHARE), size=count, p=HABIT_SHARE).astype(np.int64)
    habit[role == Role.PRESCHOOL] = 0

    main_lon = home_lon.copy()
    main_lat = home_lat.copy()

    workers = np.flatnonzero(role == Role.WORKER)
    if len(workers):
        n_buckets = len(city.work_count)
        own = city.homes.centre[home[workers]]
        own = np.where(own < 0, n_buckets - 1, own)
        other = rng.choice(n_buckets - 1, size=len(workers), p=city.centre_weights)
        other = np.where(rng.random(len(workers)) < 0.1, n_buckets - 1, other)
        bucket = np.where(rng.random(len(workers)) < STAYS_LOCAL, own, other)
        count_in = city.work_count[bucket]
        pick = (rng.random(len(workers)) * np.maximum(count_in, 1)).astype(np.int64)
        job = city.work_order[np.minimum(city.work_start[bucket] + pick, len(city.work_order) - 1)]
        anywhere = rng.integers(0, len(city.workplaces), size=len(workers))
        job = np.where(count_in > 0, job, anywhere)
        main_lon[workers] = city.workplaces.lon[job]
        main_lat[workers] = city.workplaces.lat[job]

    students = np.flatnonzero(role == Role.STUDENT)
    if len(students):
        school = city.school_index.pick(rng=rng, lon=home_lon[students], lat=home_lat[students])
        main_lon[students] = city.schools.lon[school]
        main_lat[students] = city.schools.lat[school]

    return People(
        person_id=person_id,
        role=role,
        home=home,
        home_lon=home_lon,
        home_lat=home_lat,
        main_lon=main_lon,
        main_lat=main_lat,
        venue_habit=habit,
    )
