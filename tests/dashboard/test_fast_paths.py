"""The dashboard's fast paths give the same answers as the plain rules: report days across a
daylight-saving change, the 24-hour deadline to the second, scope by unit keys, open work."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from fangkong.cases.investigations import investigation_complete
from fangkong.cases.models import Case
from fangkong.cases.services import case_classify
from fangkong.dashboard import curves, operations
from fangkong.dashboard import filters as dashboard_filters
from fangkong.dashboard.filters import filters_from, scoped, scoped_by_unit
from fangkong.orgs.roles import Perm
from fangkong.worklist.models import WorkItem
from tests.cases.factories import make_case

pytestmark = pytest.mark.django_db


def test_report_days_are_right_across_a_daylight_saving_change(tree, epidemiologist, commander, settings):
    settings.TIME_ZONE = "America/New_York"  # summer time ended on 2025-11-02 at 02:00
    moments = [
        datetime(2025, 11, 2, 4, 30, tzinfo=UTC),  # 00:30 EDT on the 2nd
        datetime(2025, 11, 2, 3, 30, tzinfo=UTC),  # 23:30 EDT on the 1st
        datetime(2025, 11, 3, 4, 30, tzinfo=UTC),  # 23:30 EST on the 2nd (a fixed -4 h says the 3rd)
        datetime(2025, 11, 3, 5, 30, tzinfo=UTC),  # 00:30 EST on the 3rd
        datetime(2025, 10, 20, 12, 0, tzinfo=UTC),
    ]
    now = timezone.now()
    for at in moments:
        make_case(
            actor=epidemiologist,
            grid=tree.grid_a,
            classification="confirmed",
            hours_ago=(now - at).total_seconds() / 3600,
        )
    for since, until in (("2025-10-20", "2025-11-10"), ("2025-11-02", "2025-11-10")):  # across, after
        filters = filters_from(actor=commander, since=since, until=until)
        curve = curves.epi_curve(filters, by="report")
        expected = Counter(
            timezone.localdate(c.reported_at).isoformat()
            for c in Case.objects.all()
            if filters.since <= timezone.localdate(c.reported_at) <= filters.until
        )
        drawn = {day: n for day, n in zip(curve["days"], curve["series"]["confirmed"], strict=True) if n}
        assert drawn == dict(expected), since
    assert drawn == {"2025-11-02": 2, "2025-11-03": 1}


def test_the_24_hour_deadline_holds_to_the_second(tree, epidemiologist, commander):
    confirmed = timezone.now() - timedelta(days=3)
    for done_after in (
        timedelta(hours=24),
        timedelta(hours=24, seconds=1),
        timedelta(hours=23, milliseconds=999),
    ):
        case = make_case(actor=epidemiologist, grid=tree.grid_a, hours_ago=80)
        case_classify(actor=epidemiologist, case=case, to="confirmed", at=confirmed)
        investigation_complete(
            actor=epidemiologist, investigation=case.investigation, at=confirmed + done_after
        )
    (investigated,) = [
        row
        for row in operations.timeliness_kpis(filters_from(actor=commander))
        if row["stage"] == "investigated"
    ]
    assert (investigated["cases"], investigated["judged"], investigated["within"]) == (3, 3, 2)


@pytest.mark.parametrize("as_list", [20_000, 1])  # 1: more units than that, so the paths' join
def test_scope_by_unit_keys_is_the_scope_by_paths(
    tree, epidemiologist, commander, admin_user, monkeypatch, as_list
):
    monkeypatch.setattr(dashboard_filters, "UNITS_AS_LIST", as_list)
    for grid in (tree.grid_a, tree.grid_b, tree.grid_far):
        make_case(actor=admin_user, grid=grid, classification="confirmed")
    for actor, unit in (
        (commander, ""),
        (epidemiologist, ""),
        (commander, str(tree.other_district.pk)),
        (admin_user, ""),
    ):
        filters = filters_from(actor=actor, unit=unit)
        for model, perm in ((Case, Perm.CASES_VIEW), (WorkItem, Perm.WORK_VIEW)):
            by_paths = scoped(filters, model.objects.all(), perm=perm, path="org_unit__path")
            by_keys = scoped_by_unit(filters, model.objects.all(), perm=perm)
            assert set(by_keys.values_list("pk", flat=True)) == set(by_paths.values_list("pk", flat=True))
            assert by_paths.exists(), (actor, unit, model)


def test_overdue_counts_only_open_work(tree, epidemiologist, commander):
    late = timezone.now() - timedelta(hours=1)
    for status in ("open", "in_progress", "done", "cancelled"):
        WorkItem.objects.create(kind="test", title=status, org_unit=tree.grid_a, due_at=late, status=status)
    rows = {r["unit"]: r for r in operations.overdue_by_unit(filters_from(actor=commander))}
    district = rows[tree.district.name]
    open_items = WorkItem.objects.filter(
        org_unit__path__startswith=tree.district.path, status__in=("open", "in_progress")
    )
    assert (district["open"], district["overdue"]) == (
        open_items.count(),
        open_items.filter(due_at__lt=timezone.now()).count(),
    )
    assert district["overdue"] >= 2


def test_rt_uses_the_serial_interval_of_the_protocol(tree, epidemiologist, commander, settings, tmp_path):
    from pathlib import Path

    from fangkong.protocols.loader import PROFILES_DIR

    today = timezone.localdate()
    for days_ago in range(20, 0, -1):
        for _ in range(1 + (20 - days_ago) // 4):  # a growing outbreak
            make_case(
                actor=epidemiologist,
                grid=tree.grid_a,
                classification="confirmed",
                hours_ago=24 * days_ago,
                onset_date=today - timedelta(days=days_ago),
            )
    china = curves.rt_series(filters_from(actor=commander))["last"]
    text = (Path(PROFILES_DIR) / "china-9.toml").read_text(encoding="utf-8")
    shorter = tmp_path / "short-si.toml"
    shorter.write_text(
        text.replace("serial_interval_mean_days = 4.7", "serial_interval_mean_days = 3.0"), encoding="utf-8"
    )
    settings.FANGKONG_PROTOCOL = str(shorter)
    short = curves.rt_series(filters_from(actor=commander))["last"]
    assert china is not None and short is not None
    # a shorter interval means faster generations: a lower Rt for the same growth
    assert 0 < short["mean"] < china["mean"]
    page = Client()
    page.force_login(commander)
    assert "3.0 ± 2.9" in page.get("/dashboard/").content.decode()


def test_a_doubling_time_needs_ten_infections_a_week_before(tree, epidemiologist, commander):
    for hours_ago in [24 * 9] * 9 + [2] * 9:  # 9 a week before, then 9 more: doubled, but from 9
        make_case(actor=epidemiologist, grid=tree.grid_a, classification="confirmed", hours_ago=hours_ago)
    assert curves.doubling_times(filters_from(actor=commander))["last"] is None
    make_case(actor=epidemiologist, grid=tree.grid_a, classification="confirmed", hours_ago=24 * 9)
    make_case(actor=epidemiologist, grid=tree.grid_a, classification="confirmed", hours_ago=2)
    assert curves.doubling_times(filters_from(actor=commander))["last"] == 7.0  # 10 → 20 in 7 days
