from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from fangkong.contacts.graph import cluster_graph
from fangkong.contacts.services import contact_register
from fangkong.quarantine.models import QuarantineOrder
from fangkong.quarantine.services import lab_result_record
from tests.cases.factories import make_case
from tests.people.factories import make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain(tree, epidemiologist, lab_user):
    """Case A → contact who tests positive (case B), and two more contacts of A, one of B."""
    a = make_case(
        actor=epidemiologist,
        grid=tree.grid_a,
        hours_ago=2,
        onset_date=timezone.localdate() - timedelta(days=1),
    )
    last = timezone.now() - timedelta(days=2)  # its day-1 test falls on yesterday or today, whatever the hour

    def contact(case, grid):
        person = make_person(actor=epidemiologist, grid=grid, building="", unit="", room="")
        return contact_register(
            actor=epidemiologist,
            case=case,
            person=person,
            exposure_type="social",
            first_exposure=last - timedelta(hours=1),
            last_exposure=last,
        )

    first = contact(a, tree.grid_b)
    contact(a, tree.grid_b)
    contact(a, tree.grid_a)
    order = QuarantineOrder.objects.get(contact=first, status="active")
    lab_result_record(actor=lab_user, appointment=order.tests.first(), result="positive")
    first.refresh_from_db()
    b = first.became_case
    b.onset_date = timezone.localdate() - timedelta(days=1)
    b.save()
    contact(b, tree.grid_a)
    return a, b


def test_the_cluster_follows_the_chain(tree, epidemiologist, chain):
    a, b = chain
    graph = cluster_graph(actor=epidemiologist, case=b)
    assert (graph["level"], graph["cases"], graph["contacts"]) == ("people", 2, 4)
    ids = {n["id"] for n in graph["nodes"]}
    assert {f"c{a.pk}", f"c{b.pk}"} <= ids and len(ids) == 2 + 3  # the contact who became B is drawn as B
    assert {"source": f"c{a.pk}", "target": f"c{b.pk}"} in graph["links"]


def test_big_clusters_are_drawn_coarser(tree, epidemiologist, chain):
    a, _b = chain
    cases_level = cluster_graph(actor=epidemiologist, case=a, people_limit=3)
    assert cases_level["level"] == "cases"
    assert sorted(n["value"] for n in cases_level["nodes"] if n["category"] == "contacts") == [1, 2]
    communities = cluster_graph(actor=epidemiologist, case=a, people_limit=3, cases_limit=1)
    assert communities["level"] == "communities"
    assert [n["value"] for n in communities["nodes"]] == [2]


def test_the_graph_is_scoped(client: Client, tree, chain):
    from tests.orgs.factories import user_with_role

    a, _b = chain
    client.force_login(user_with_role("epidemiologist", tree.other_district))
    assert client.get(f"/contacts/cluster/{a.pk}/data.json").status_code == 404
