"""The command dashboard: the numbers behind the epidemic curve equal the database's, everything is
scoped (a district sees its district; another district's unit is 404), filters are checked, and
every chart's CSV is the chart's data."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from fangkong.cases.models import Case
from fangkong.dashboard import curves, operations
from fangkong.dashboard.charts import CHARTS
from fangkong.dashboard.filters import filters_from
from tests.cases.factories import make_case
from tests.orgs.factories import user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def outbreak(tree, epidemiologist, commander):
    """Cases over the last 10 days in both districts, of every classification and origin."""
    far = user_with_role("epidemiologist", tree.other_district, username="far")
    today = timezone.localdate()
    made = []
    plan = [
        (tree.grid_a, "confirmed", 30, 3, "local"),
        (tree.grid_a, "confirmed", 54, 4, "local"),
        (tree.grid_b, "confirmed", 80, 5, "imported"),
        (tree.grid_b, "asymptomatic", 5, None, "local"),
        (tree.grid_a, "suspected", 2, 1, "local"),
        (tree.grid_a, "confirmed", 200, 10, "local"),
        (tree.grid_far, "confirmed", 20, 2, "local"),
        (tree.grid_far, "confirmed", 100, 6, "local"),
    ]
    for grid, classification, hours_ago, onset_days, origin in plan:
        actor = far if grid == tree.grid_far else epidemiologist
        made.append(
            make_case(
                actor=actor,
                grid=grid,
                classification=classification,
                hours_ago=hours_ago,
                onset_date=today - timedelta(days=onset_days) if onset_days else None,
                origin=origin,
            )
        )
    return made


def test_epi_curve_numbers_equal_the_database(outbreak, commander):
    filters = filters_from(actor=commander)
    for by in ("onset", "report"):
        curve = curves.epi_curve(filters, by=by)
        expected: Counter[tuple[str, str]] = Counter()
        for case in Case.objects.exclude(classification="excluded"):
            day = case.onset_date if by == "onset" else timezone.localdate(case.reported_at)
            if day is not None and filters.since <= day <= filters.until:
                expected[(day.isoformat(), case.classification)] += 1
        drawn = {
            (day, name): curve["series"][name][i]
            for i, day in enumerate(curve["days"])
            for name in curve["series"]
            if curve["series"][name][i]
        }
        assert drawn == dict(expected), by
        infections = sum(n for (_day, cls), n in expected.items() if cls in {"confirmed", "asymptomatic"})
        assert curve["cumulative"][-1] == infections


def test_a_district_sees_its_district_and_another_unit_is_404(outbreak, tree, epidemiologist, client: Client):
    filters = filters_from(actor=epidemiologist)
    districts = curves.cases_by_district(filters)
    assert [row["district"] for row in districts] == [tree.district.name]
    assert sum(row["confirmed"] for row in districts) == 4
    client.force_login(epidemiologist)
    assert client.get("/dashboard/", {"unit": tree.other_district.pk}).status_code == 404
    assert (
        client.get("/dashboard/data.csv", {"chart": "districts", "unit": tree.other_district.pk}).status_code
        == 404
    )
    page = client.get("/dashboard/")
    assert page.status_code == 200
    assert tree.other_district.name not in page.content.decode()


def test_unit_filter_narrows_and_bad_dates_name_the_field(outbreak, tree, commander, client: Client):
    narrowed = filters_from(actor=commander, unit=str(tree.other_district.pk))
    assert [row["district"] for row in curves.cases_by_district(narrowed)] == [tree.other_district.name]
    client.force_login(commander)
    response = client.get("/dashboard/", {"since": "2022-13-01"})
    assert response.status_code == 422 and 'data-field="since"' in response.content.decode()
    response = client.get("/dashboard/", {"since": "2022-05-03", "until": "2022-05-01"})
    assert response.status_code == 422 and 'data-field="until"' in response.content.decode()


def test_every_chart_downloads_as_csv_with_its_data(outbreak, commander, client: Client):
    client.force_login(commander)
    for name in CHARTS:
        response = client.get("/dashboard/data.csv", {"chart": name})
        assert response.status_code == 200, name
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert rows and rows[0], name
    rows = list(
        csv.DictReader(
            io.StringIO(
                client.get("/dashboard/data.csv", {"chart": "epi-report"}).content.decode("utf-8-sig")
            )
        )
    )
    assert sum(int(r["confirmed"]) for r in rows) == Case.objects.filter(classification="confirmed").count()


def test_doubling_time_and_timeliness_follow_their_rules(outbreak, commander):
    filters = filters_from(actor=commander)
    doubling = curves.doubling_times(filters)
    assert len(doubling["values"]) == len(filters.days)
    assert all(v is None or v > 0 for v in doubling["values"])
    kpis = {row["stage"]: row for row in operations.timeliness_kpis(filters)}
    confirmed = Case.objects.filter(classification="confirmed").count()
    assert kpis["investigated"]["cases"] == confirmed
    assert all(row["within"] <= row["judged"] <= row["cases"] for row in kpis.values())
