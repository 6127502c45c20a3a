"""The help desk's call-back SLA against an oracle: requests called back in time, late, after an
unanswered attempt, never reached, still within their deadline; every figure is counted again here
from the raw ``HelpRequest`` and ``CallLog`` rows and must equal what the help desk and the
dashboard show. Then the data migration that recomputes ``called_back_at`` from the call log.

Runs on SQLite and PostgreSQL (``DATABASE_URL``)."""

from __future__ import annotations

import importlib
from collections import defaultdict
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone

from fangkong.dashboard import operations
from fangkong.dashboard.filters import filters_from
from fangkong.helpdesk.models import CallLog, HelpRequest
from fangkong.helpdesk.selectors import sla_by_district
from fangkong.helpdesk.services import call_log, help_request_resolve
from fangkong.orgs.models import OrgUnit
from tests.helpdesk.factories import make_request
from tests.orgs.factories import user_with_role

pytestmark = pytest.mark.django_db
MIGRATION = importlib.import_module("fangkong.helpdesk.migrations.0002_called_back_reached")
MINUTE = timedelta(minutes=1)


@pytest.fixture
def desk(tree) -> dict[str, Any]:
    """Requests of two districts (urgent: 30 min, normal: 120 min, china-9) and their calls."""
    here = user_with_role("hotline", tree.community, username="op_here")
    far_community = tree.grid_far.parent
    there = user_with_role("hotline", far_community, username="op_there")
    now = timezone.now()

    def request(community: OrgUnit, urgency: str, minutes_ago: int) -> HelpRequest:
        return make_request(community=community, urgency=urgency, now=now - minutes_ago * MINUTE)

    def calls(operator: Any, req: HelpRequest, *plan: tuple[str, int]) -> None:
        for outcome, after in plan:
            call_log(
                actor=operator, request=req, outcome=outcome, called_at=req.submitted_at + after * MINUTE
            )

    made = {
        # no answer at +10, reached at +20: in time
        "reached_in_time": request(tree.community, "urgent", 180),
        # no answer at +10 (the old rule's "call back"), reached at +50: late
        "reached_late": request(tree.community, "urgent", 180),
        # a reach logged at +40, then an earlier one at +25 logged afterwards: in time
        "logged_out_of_order": request(tree.community, "urgent", 180),
        # no answer at +30, resolved without reaching anyone: late, not waiting
        "resolved_unreached": request(tree.community, "normal", 300),
        # nothing for two hours: late and waiting
        "forgotten": request(tree.community, "urgent", 120),
        # no answer at +5, ten minutes old: not judged yet
        "young": request(tree.community, "normal", 10),
        # reached exactly at the deadline: in time
        "at_deadline": request(tree.community, "normal", 200),
        # the other district: reached at +31, a minute late
        "far_late": request(far_community, "urgent", 240),
        # before the dashboard's 28 days: on the 60-day help desk page only
        "old": request(tree.community, "urgent", 60 * 24 * 40),
    }
    calls(here, made["reached_in_time"], ("no_answer", 10), ("reached", 20))
    calls(here, made["reached_late"], ("no_answer", 10), ("busy", 15), ("reached", 50))
    calls(here, made["logged_out_of_order"], ("reached", 40), ("reached", 25))
    calls(here, made["resolved_unreached"], ("no_answer", 30))
    help_request_resolve(
        actor=here,
        request=made["resolved_unreached"],
        resolution="多次未接通，已转社区上门",
        resolved_at=made["resolved_unreached"].submitted_at + 60 * MINUTE,
    )
    calls(here, made["young"], ("no_answer", 5))
    calls(here, made["at_deadline"], ("reached", 120))
    calls(there, made["far_late"], ("reached", 31))
    calls(here, made["old"], ("reached", 10))
    for req in made.values():
        req.refresh_from_db()
    return made


def earliest_reached() -> dict[int, datetime | None]:
    """Per request: its earliest call that reached the resident, from the call log."""
    reached: dict[int, datetime | None] = {
        pk: None for pk in HelpRequest.objects.values_list("pk", flat=True)
    }
    for call in CallLog.objects.all():
        if call.outcome == "reached":
            held = reached[call.request_id]
            reached[call.request_id] = call.called_at if held is None else min(held, call.called_at)
    return reached


def oracle_sla(*, since: datetime, until: datetime | None, now: datetime) -> dict[str, dict[str, int]]:
    """Per district name: the SLA figures by the rules, row by row."""
    reached = earliest_reached()
    rows: dict[str, dict[str, int]] = defaultdict(
        lambda: {"submitted": 0, "called_back": 0, "within": 0, "late": 0, "overdue_now": 0}
    )
    for req in HelpRequest.objects.all():
        if req.submitted_at < since or (until is not None and req.submitted_at >= until):
            continue
        district = OrgUnit.objects.get(pk=req.org_unit.parent.parent_id).name
        row = rows[district]
        at = reached[req.pk]
        row["submitted"] += 1
        row["called_back"] += at is not None
        row["within"] += at is not None and at <= req.due_at
        row["late"] += (at is not None and at > req.due_at) or (at is None and req.due_at < now)
        row["overdue_now"] += at is None and req.due_at < now and req.status in ("open", "claimed")
    return dict(rows)


def test_called_back_at_is_the_earliest_call_that_reached(desk):
    reached = earliest_reached()
    assert {req.pk: req.called_back_at for req in HelpRequest.objects.all()} == reached
    assert desk["reached_late"].called_back_at == desk["reached_late"].submitted_at + 50 * MINUTE
    assert (
        desk["logged_out_of_order"].called_back_at == desk["logged_out_of_order"].submitted_at + 25 * MINUTE
    )
    assert desk["resolved_unreached"].called_back_at is None


def test_sla_by_district_equals_the_count_from_the_raw_rows(desk, tree, commander):
    now = timezone.now()
    since = now - timedelta(days=60)
    expected = oracle_sla(since=since, until=None, now=now)
    rows = {r.unit.name: r for r in sla_by_district(actor=commander, since=since, now=now)}
    got = {
        name: {
            "submitted": r.submitted,
            "called_back": r.called_back,
            "within": r.within_sla,
            "late": r.late,
            "overdue_now": r.overdue_now,
        }
        for name, r in rows.items()
        if r.submitted
    }
    assert got == expected
    # by hand: in time reached_in_time, logged_out_of_order, at_deadline, old; late reached_late,
    # resolved_unreached, forgotten; young not judged
    east = rows[tree.district.name]
    assert (east.submitted, east.called_back, east.within_sla, east.late, east.overdue_now) == (8, 5, 4, 3, 1)
    assert east.share_within == 4 / 7
    far = rows[tree.other_district.name]
    assert (far.within_sla, far.late, far.share_within) == (0, 1, 0.0)


def test_the_dashboard_counts_the_range_by_the_same_rules(desk, tree, commander):
    now = timezone.now()
    filters = filters_from(actor=commander)
    expected = oracle_sla(since=filters.start, until=filters.end, now=now)
    for row in operations.helpdesk_sla(filters, now=now):
        want = expected.get(row["district"], {"submitted": 0, "called_back": 0, "within": 0, "late": 0})
        assert (row["submitted"], row["called_back"], row["within"], row["late"]) == (
            want["submitted"],
            want["called_back"],
            want["within"],
            want["late"],
        ), row["district"]
        judged = want["within"] + want["late"]
        assert row["percent"] == (round(100 * want["within"] / judged) if judged else None)
    east = next(r for r in operations.helpdesk_sla(filters, now=now) if r["district"] == tree.district.name)
    assert (east["submitted"], east["within"], east["late"]) == (7, 3, 3)  # "old" is before the range
    narrowed = operations.helpdesk_sla(
        filters_from(actor=commander, unit=str(tree.other_district.pk)), now=now
    )
    assert [(r["district"], r["submitted"]) for r in narrowed] == [(tree.other_district.name, 1)]


def test_the_migration_recomputes_called_back_at_from_the_call_log(desk):
    """Rows as the old rule left them (the first call of any outcome), then the migration."""
    first_call = {}
    for call in CallLog.objects.order_by("called_at", "pk"):
        first_call.setdefault(call.request_id, call.called_at)
    for pk, at in first_call.items():
        HelpRequest.objects.filter(pk=pk).update(called_back_at=at)
    HelpRequest.objects.filter(pk=desk["forgotten"].pk).update(called_back_at=timezone.now())  # stray
    assert (
        HelpRequest.objects.get(pk=desk["reached_late"].pk).called_back_at
        != earliest_reached()[desk["reached_late"].pk]
    )

    MIGRATION.called_back_recompute(apps, SimpleNamespace(connection=connection))

    assert dict(HelpRequest.objects.values_list("pk", "called_back_at")) == earliest_reached()
    assert HelpRequest.objects.get(pk=desk["forgotten"].pk).called_back_at is None
    assert HelpRequest.objects.get(pk=desk["resolved_unreached"].pk).called_back_at is None
