from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from fangkong.contacts.graph import cluster_graph
from fangkong.contacts.models import Contact
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
    assert {"source": f"c{a.pk}", "target": f"c{b.pk}", "chain": True} in graph["links"]


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


def _contacts(case, people, *, status, kind="close", became=None, start=0):
    last = timezone.now() - timedelta(days=1)
    return Contact.objects.bulk_create(
        Contact(
            source_case=case,
            person=person,
            org_unit_id=person.org_unit_id,
            kind=kind,
            status=status,
            exposure_type="social",
            first_exposure=last - timedelta(hours=1),
            last_exposure=last,
            discovered_by="colocation" if status == "proposed" else "manual",
            became_case=became,
        )
        for person in people[start:]
    )


def test_proposals_are_drawn_apart_and_companions_are_counted_not_drawn(
    client: Client, tree, epidemiologist, chain
):
    a, b = chain
    people = [make_person(actor=epidemiologist, grid=tree.grid_a) for _ in range(5)]
    _contacts(a, people[:3], status="proposed")
    _contacts(a, people[3:], status="confirmed", kind="companion")
    _contacts(b, people[:1], status="dismissed")
    graph = cluster_graph(actor=epidemiologist, case=a)
    proposals = [n for n in graph["nodes"] if n.get("proposed")]
    assert len(proposals) == 3 and {n["category"] for n in proposals} == {"proposal"}
    assert {n["category"] for n in graph["nodes"] if n["id"].startswith("p") and not n["proposed"]} == {
        "contact_close"
    }
    dashed = [link for link in graph["links"] if link.get("proposed")]
    assert {link["target"] for link in dashed} == {n["id"] for n in proposals}
    assert (graph["contacts"], graph["proposals"], graph["companions"]) == (4, 3, 2)
    node_a = next(n for n in graph["nodes"] if n["id"] == f"c{a.pk}")
    assert node_a["companions"] == 2 and node_a["origin"] is True
    assert len(graph["nodes"]) == 2 + 3 + 3  # cases, contacts, proposals; no companion, nothing dismissed

    client.force_login(epidemiologist)
    came_from = client.get(f"/contacts/cluster/{a.pk}/data.json", {"from": b.pk}).json()
    assert came_from["origin"] == f"c{b.pk}"
    assert [n["id"] for n in came_from["nodes"] if n.get("origin")] == [f"c{b.pk}"]
    stranger = client.get(f"/contacts/cluster/{a.pk}/data.json", {"from": 999999}).json()
    assert stranger["origin"] == f"c{a.pk}"  # a case outside the cluster: the page's own
    page = client.get(f"/contacts/cluster/{a.pk}/", {"from": b.pk}).content.decode()
    assert f"data.json?from={b.pk}" in page and 'id="cluster-words"' in page


def test_an_80_case_cluster_stays_readable(tree, epidemiologist):
    """80 cases in a chain, each with 20 contacts and 10 proposals (2,400 people in all): one node
    per case and at most two for its contacts, and the origin flagged."""
    cases = [
        make_case(actor=epidemiologist, grid=tree.grid_a, classification="confirmed", hours_ago=80 - n)
        for n in range(80)
    ]
    people = [make_person(actor=epidemiologist, grid=tree.grid_b) for _ in range(30)]
    for n, case in enumerate(cases):
        if n + 1 < len(cases):
            _contacts(case, [cases[n + 1].person], status="confirmed", became=cases[n + 1])
        _contacts(case, people[:20], status="confirmed")
        _contacts(case, people[20:], status="proposed")
    origin = cases[40]
    graph = cluster_graph(actor=epidemiologist, case=cases[0], origin_id=origin.pk)
    assert graph["level"] == "cases" and graph["cases"] == 80
    assert (graph["contacts"], graph["proposals"]) == (80 * 20 + 79, 80 * 10)
    assert len(graph["nodes"]) <= 3 * 80
    assert [n["id"] for n in graph["nodes"] if n.get("origin")] == [f"c{origin.pk}"] == [graph["origin"]]
    assert sum(1 for link in graph["links"] if link.get("chain")) == 79
    labelled = [n for n in graph["nodes"] if n["name"] and n["category"] not in {"contacts", "proposals"}]
    assert len(labelled) == 80  # case numbers; contact nodes carry counts only
