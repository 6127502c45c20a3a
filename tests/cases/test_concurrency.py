"""Case numbers stay unique when epidemiologists register cases at the same moment."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import close_old_connections, connection
from django.utils import timezone

from fangkong.cases.models import Case
from fangkong.cases.services import case_register
from tests.people.factories import make_person

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_registrations_get_distinct_sequential_numbers(tree, epidemiologist):
    people = [
        make_person(actor=epidemiologist, grid=tree.grid_a, building="", unit="", room="") for _ in range(6)
    ]

    def register(person):
        try:
            return case_register(
                actor=epidemiologist, person=person, classification="suspected", reported_at=timezone.now()
            ).number
        finally:
            close_old_connections()
            connection.close()

    with ThreadPoolExecutor(max_workers=6) as pool:
        numbers = list(pool.map(register, people))
    assert len(set(numbers)) == 6
    assert sorted(int(n.rsplit("-", 1)[1]) for n in numbers) == [1, 2, 3, 4, 5, 6]
    assert Case.objects.count() == 6
