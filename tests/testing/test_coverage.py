"""Coverage of a round by grid against a plain recount, the untested list and what a grid does
about it (visit, home sample, exempt), the round pages, and planning a round."""

from __future__ import annotations

import pytest
from django.test import Client

from fangkong.testing.codes import person_code
from fangkong.testing.coverage import coverage_by_grid, untested
from fangkong.testing.models import Exemption, Round, TubeMember
from fangkong.testing.results import ResultRow, tube_results_record
from fangkong.testing.services import tube_close, tube_open, tube_scan
from fangkong.testing.visits import exemptions_add, home_sampling_request, untested_visit
from fangkong.worklist.models import WorkItem
from tests.testing.conftest import barcode

pytestmark = pytest.mark.django_db


def _sample(mass, n, people, result=None):
    tube = tube_open(actor=mass.collector, round=mass.round, site=mass.site, barcode=barcode(n))
    for person in people:
        tube_scan(actor=mass.collector, tube_id=tube.pk, code=person_code(person))
    tube_close(actor=mass.collector, tube=tube)
    if result:
        from django.utils import timezone

        tube_results_record(
            actor=mass.lab, rows=[ResultRow(n, tube.barcode, result, timezone.now(), "鹏城检测")]
        )
    return tube


def test_coverage_by_grid_equals_a_plain_recount(mass, tree, grid_worker):
    _sample(mass, 1, mass.people[:6], "negative")
    _sample(mass, 2, mass.people[6:9], "positive")
    _sample(mass, 3, mass.people[9:10])
    assert mass.people[11].org_unit_id == tree.grid_a.pk
    exempted = exemptions_add(
        actor=grid_worker, the_round=mass.round, person_ids=[mass.people[11].pk], reason="away"
    )
    assert exempted.done == 1
    rows = {r.grid.pk: r for r in coverage_by_grid(actor=mass.commander, the_round=mass.round)}
    for grid in (tree.grid_a, tree.grid_b):
        people = [p for p in mass.people if p.org_unit_id == grid.pk and p.pk != mass.people[11].pk]
        swabs = {
            m.person_id: m.tube for m in TubeMember.objects.filter(round=mass.round).select_related("tube")
        }
        mine = [swabs[p.pk] for p in people if p.pk in swabs]
        row = rows[grid.pk]
        assert (row.expected, row.sampled) == (len(people), len(mine))
        assert row.resulted == sum(1 for t in mine if t.result)
        assert row.positive == sum(1 for t in mine if t.result == "positive")
    assert list(untested(actor=mass.commander, the_round=mass.round, grid=tree.grid_a)) == []
    assert list(untested(actor=mass.commander, the_round=mass.round, grid=tree.grid_b)) == [mass.people[10]]


def test_a_grid_visits_exempts_and_asks_home_samples_for_its_untested(mass, tree, grid_worker):
    waiting = [p for p in mass.people if p.org_unit_id == tree.grid_a.pk]
    far = [p for p in mass.people if p.org_unit_id != tree.grid_a.pk]
    done = untested_visit(actor=grid_worker, the_round=mass.round, person_ids=[waiting[0].pk, far[0].pk])
    assert (done.done, done.refused) == (1, 1)
    assert (
        untested_visit(actor=grid_worker, the_round=mass.round, person_ids=[waiting[0].pk]).done == 0
    )  # once
    home = home_sampling_request(actor=grid_worker, the_round=mass.round, person_ids=[waiting[1].pk])
    assert home.done == 1
    item = WorkItem.objects.get(kind="testing.home_sample")
    _sample(mass, 1, [waiting[1]])
    item.refresh_from_db()
    assert item.status == "done"
    exemptions_add(actor=grid_worker, the_round=mass.round, person_ids=[waiting[2].pk], reason="hospital")
    assert Exemption.objects.filter(round=mass.round).count() == 1
    left = {p.pk for p in untested(actor=grid_worker, the_round=mass.round, grid=tree.grid_a)}
    assert waiting[1].pk not in left and waiting[2].pk not in left and waiting[0].pk in left


def test_the_round_pages_show_coverage_and_the_untested_list(mass, tree, grid_worker):
    _sample(mass, 1, mass.people[:4], "negative")
    client = Client()
    client.force_login(mass.commander)
    page = client.get(f"/testing/rounds/{mass.round.pk}/")
    assert page.status_code == 200 and page.content.count(b'data-testid="coverage-row"') == 2
    csv = client.get(f"/testing/rounds/{mass.round.pk}/?format=csv")
    assert csv["Content-Type"].startswith("text/csv") and "网格".encode() in csv.content
    worker = Client()
    worker.force_login(grid_worker)
    listed = worker.get(f"/testing/rounds/{mass.round.pk}/grids/{tree.grid_a.pk}/")
    assert listed.status_code == 200 and b'data-testid="untested-row"' in listed.content
    ids = [str(p.pk) for p in mass.people if p.org_unit_id == tree.grid_a.pk][-2:]
    acted = worker.post(
        f"/testing/rounds/{mass.round.pk}/grids/{tree.grid_a.pk}/act/", {"action": "visit", "person": ids}
    )
    assert acted.status_code == 302 and WorkItem.objects.filter(kind="household.visit").count() == 2
    assert worker.get(f"/testing/rounds/{mass.round.pk}/grids/{tree.grid_far.pk}/").status_code == 404


def test_a_commander_plans_a_round_on_the_page(tree, commander):
    client = Client()
    client.force_login(commander)
    form = client.get("/testing/rounds/new/")
    assert form.status_code == 200
    bad = client.post("/testing/rounds/new/", {"name": "", "starts_at": "0001-01-01 00:00", "ends_at": "x"})
    assert bad.status_code == 422 and Round.objects.count() == 0
    made = client.post(
        "/testing/rounds/new/",
        {
            "name": "第2轮",
            "starts_at": "2026-12-06 06:00",
            "ends_at": "2026-12-06 22:00",
            "valid_hours": "48",
            f"level_{tree.community.pk}": "sealed",
        },
    )
    the_round = Round.objects.get()
    assert made.status_code == 302 and sorted(the_round.areas.values_list("level", "pool_size")) == [
        ("elsewhere", 20),
        ("sealed", 1),
    ]


def test_the_dashboard_panel_sums_the_latest_round_by_district(mass, tree):
    from datetime import date

    from fangkong.dashboard.filters import Filters
    from fangkong.dashboard.testing_panel import mass_testing

    _sample(mass, 1, mass.people[:4], "positive")
    (row,) = mass_testing(Filters(actor=mass.commander, since=date(2026, 1, 1), until=date(2026, 1, 2)))
    assert (row["district"], row["expected"], row["sampled"], row["positive"], row["waiting"]) == (
        tree.district.name,
        12,
        4,
        4,
        4,
    )
    assert row["percent"] == round(100 * 4 / 12, 1)
    client = Client()
    client.force_login(mass.commander)
    page = client.get("/dashboard/")
    assert b'data-testid="table-testing"' in page.content


def test_people_in_quarantine_count_as_covered_and_are_not_untested(mass, tree, admin_user):
    from tests.quarantine.test_lab import make_order

    order = make_order(actor=admin_user, grid=tree.grid_a, name="隔离中")
    rows = {r.grid.pk: r for r in coverage_by_grid(actor=mass.commander, the_round=mass.round)}
    grid = rows[tree.grid_a.pk]
    assert (grid.quarantined, grid.covered, grid.sampled) == (1, 1, 0)
    assert order.person not in list(untested(actor=mass.commander, the_round=mass.round, grid=tree.grid_a))


def test_a_commander_sets_up_a_site_and_bad_places_are_refused(tree):
    from fangkong.testing.models import SamplingSite
    from tests.orgs.factories import user_with_role

    client = Client()
    client.force_login(user_with_role("commander", tree.district, username="district.commander"))
    base = {
        "community": str(tree.community.pk),
        "name": "新采样点",
        "address": "湖贝路2号",
        "hours": "全天",
        "teams": "2",
    }
    for lon, lat in (("nan", "22.5"), ("200", "22.5"), ("1e309", "22.5"), ("x\x00", "")):
        refused = client.post("/testing/sites/", {**base, "lon": lon, "lat": lat})
        assert refused.status_code == 422
    made = client.post("/testing/sites/", {**base, "lon": "114.1", "lat": "22.55"})
    assert made.status_code == 302 and SamplingSite.objects.get().name == "新采样点"
    assert (
        client.post(
            "/testing/sites/", {**base, "community": str(tree.grid_far.parent.pk), "lon": "114", "lat": "22"}
        ).status_code
        == 422
    )
    assert "新采样点".encode() in client.get("/testing/sites/").content


def test_the_coverage_map_colours_each_community_by_the_latest_round(mass, tree):
    from datetime import date

    from fangkong.dashboard.filters import Filters
    from fangkong.dashboard.testing_panel import coverage_map

    tree.community.geometry = {
        "type": "Polygon",
        "coordinates": [[[114, 22], [114.1, 22], [114.1, 22.1], [114, 22]]],
    }
    tree.community.save()
    _sample(mass, 1, mass.people[:3])
    geo = coverage_map(Filters(actor=mass.commander, since=date(2026, 1, 1), until=date(2026, 1, 2)))
    (feature,) = [f for f in geo["features"] if f["properties"]["code"] == tree.community.code]
    assert (feature["properties"]["expected"], feature["properties"]["covered"]) == (12, 3)
    assert feature["properties"]["coverage"] == 25.0


def test_the_advisor_page_estimates_the_prevalence_from_the_round_and_advises(mass):
    from fangkong.testing.advisor import prevalence_estimate

    _sample(mass, 1, mass.people[:5], "positive")
    _sample(mass, 2, mass.people[5:10], "negative")
    estimate = prevalence_estimate(the_round=mass.round)
    assert (estimate.pools, estimate.positive, estimate.mean_size) == (2, 1, 5.0)
    assert estimate.p == pytest.approx(1 - 0.5 ** (1 / 5))
    client = Client()
    client.force_login(mass.commander)
    page = client.get("/testing/advisor/")
    assert page.status_code == 200 and b'data-testid="estimate"' in page.content
    typed = client.get("/testing/advisor/", {"p": "0.01"})  # 0.01 %: the protocol's largest pool
    assert b'data-k="20"' in typed.content
    one = client.get("/testing/advisor/", {"p": "1"})  # 1 %
    assert b'data-k="11"' in one.content
    for odd in ("abc", "-1", "1e400", "\x00", "１"):
        assert client.get("/testing/advisor/", {"p": odd}).status_code == 200


def test_the_round_form_proposes_each_communitys_level_from_the_risk_areas(tree, commander):
    from datetime import date

    from fangkong.portal.models import RiskArea
    from fangkong.testing.selectors import levels_by_risk

    far = tree.grid_far.parent
    assert levels_by_risk(communities=[tree.community, far]) == {
        tree.community.pk: "elsewhere",
        far.pk: "elsewhere",
    }
    RiskArea.objects.create(org_unit=tree.community, level="high", since=date(2026, 12, 1), reason="聚集疫情")
    RiskArea.objects.create(org_unit=far, level="medium", since=date(2026, 12, 1), reason="病例活动")
    RiskArea.objects.create(
        org_unit=far, place="某商场", level="high", since=date(2026, 12, 1), reason="点位"
    )
    assert levels_by_risk(communities=[tree.community, far]) == {
        tree.community.pk: "sealed",
        far.pk: "controlled",  # a named place inside it does not seal the community
    }
    client = Client()
    client.force_login(commander)
    form = client.get("/testing/rounds/new/").content.decode()
    chosen = form.split(f'data-testid="level-{tree.community.code}"')[1].split("</select>")[0]
    assert '<option value="sealed" selected>' in chosen and chosen.count(" selected") == 1


def test_the_round_page_filters_grids_by_community_or_grid_name(mass, tree):
    client = Client()
    client.force_login(mass.commander)
    url = f"/testing/rounds/{mass.round.pk}/"
    every = client.get(url).content.decode().count('data-testid="coverage-row"')
    assert every >= 2
    one = client.get(url, {"q": tree.grid_a.name}).content.decode()
    assert one.count('data-testid="coverage-row"') == 1 and 'data-testid="coverage-filter"' in one
    none = client.get(url, {"q": "没有这个社区", "page": "²"}).content.decode()
    assert none.count('data-testid="coverage-row"') == 0 and "没有符合条件的网格" in none
