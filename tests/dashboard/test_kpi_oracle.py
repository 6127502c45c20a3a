"""The dashboard's timeliness and overdue figures against an oracle: a small outbreak is built
through the services (so the lifecycle closes the work it should), then every figure is counted
again here in plain Python from the raw rows (cases, investigations, contacts, orders, work items)
by the rules as written, and the two must agree. The oracle re-derives "under control" from the
first-step items themselves, not from the fields the platform keeps.

Runs on SQLite and PostgreSQL (``DATABASE_URL``)."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from fangkong.cases.investigations import investigation_complete
from fangkong.cases.models import Case, Investigation
from fangkong.cases.services import case_classify
from fangkong.contacts.models import Contact
from fangkong.contacts.services import case_contacts_identified, contact_register
from fangkong.contacts.timeliness import case_times, district_rows
from fangkong.dashboard import operations
from fangkong.dashboard.filters import filters_from
from fangkong.orgs.models import OrgUnit
from fangkong.quarantine.models import QuarantineOrder
from fangkong.worklist.kinds import kind_label
from fangkong.worklist.models import WorkItem
from fangkong.worklist.services import work_item_complete
from tests.cases.factories import make_case
from tests.orgs.factories import user_with_role
from tests.people.factories import make_person

pytestmark = pytest.mark.django_db

HOURS = {  # the protocols' hours per step, as their TOML files state them
    "china-9": {"investigated": 24, "identified": 24, "controlled": 24},
    "who-2021": {"investigated": 24, "identified": 48, "controlled": 72},
}
OPEN = {"open", "in_progress"}
FIRST_STEPS = {"quarantine.transfer", "quarantine.notice"}


@dataclass
class Outbreak:
    now: datetime
    cases: dict[str, Case]
    contacts: dict[str, Contact]


def _confirmed(actor: Any, grid: OrgUnit, *, hours_ago: float) -> tuple[Case, datetime]:
    case = make_case(actor=actor, grid=grid, hours_ago=hours_ago + 2)
    at = timezone.now() - timedelta(hours=hours_ago)
    case_classify(actor=actor, case=case, to="confirmed", at=at)
    return case, at


def _contact(actor: Any, case: Case, grid: OrgUnit, *, at: datetime) -> Contact:
    return contact_register(
        actor=actor,
        case=case,
        person=make_person(actor=actor, grid=grid),
        exposure_type="household",
        first_exposure=at - timedelta(hours=30),
        last_exposure=at - timedelta(hours=28),
        at=at,
    )


def _first_step(contact: Contact) -> WorkItem:
    order = QuarantineOrder.objects.filter(contact=contact).order_by("day_one", "pk").first()
    assert order is not None
    return WorkItem.objects.get(kind__in=FIRST_STEPS, subject_id=str(order.pk))


@pytest.fixture
def outbreak(tree, epidemiologist) -> Outbreak:
    """Confirmed cases with each step done early, late or not yet; contacts under control, turned
    into cases (their orders converted) or still waiting; cases still within their hours; one with
    nobody to control; a suspected case and one confirmed before the range; loose work items."""
    far = user_with_role("epidemiologist", tree.other_district, username="far_epi")
    epi = epidemiologist
    cases: dict[str, Case] = {}
    contacts: dict[str, Contact] = {}

    # early: investigated +6 h, identified +10 h, its contact transferred +12 h
    cases["early"], c = _confirmed(epi, tree.grid_a, hours_ago=60)
    investigation_complete(actor=epi, investigation=cases["early"].investigation, at=c + timedelta(hours=6))
    case_contacts_identified(actor=epi, case=cases["early"], at=c + timedelta(hours=10))
    contacts["transferred"] = _contact(epi, cases["early"], tree.grid_b, at=c + timedelta(hours=9))
    work_item_complete(actor=epi, item=_first_step(contacts["transferred"]), done_at=c + timedelta(hours=12))

    # late: investigated +30 h, identified +30 h; one contact transferred +40 h, one became a case
    cases["late"], c = _confirmed(epi, tree.grid_b, hours_ago=60)
    investigation_complete(actor=epi, investigation=cases["late"].investigation, at=c + timedelta(hours=30))
    contacts["slow"] = _contact(epi, cases["late"], tree.grid_a, at=c + timedelta(hours=20))
    contacts["became_case"] = _contact(epi, cases["late"], tree.grid_a, at=c + timedelta(hours=21))
    case_contacts_identified(actor=epi, case=cases["late"], at=c + timedelta(hours=30))
    work_item_complete(actor=epi, item=_first_step(contacts["slow"]), done_at=c + timedelta(hours=40))
    make_case(actor=epi, grid=tree.grid_a, person=contacts["became_case"].person, hours_ago=60 - 25)

    # converted in time: its only contact became a case 10 h after the confirmation
    cases["converted"], c = _confirmed(epi, tree.grid_a, hours_ago=50)
    contacts["converted"] = _contact(epi, cases["converted"], tree.grid_b, at=c + timedelta(hours=2))
    make_case(actor=epi, grid=tree.grid_b, person=contacts["converted"].person, hours_ago=40)

    # nothing done after 60 h: late on every step (its contact's transfer still open)
    cases["undone"], c = _confirmed(epi, tree.grid_a, hours_ago=60)
    contacts["waiting"] = _contact(epi, cases["undone"], tree.grid_b, at=c + timedelta(hours=3))

    # nobody to control: identified +8 h with no close contact
    cases["alone"], c = _confirmed(epi, tree.grid_b, hours_ago=60)
    case_contacts_identified(actor=epi, case=cases["alone"], at=c + timedelta(hours=8))

    # within the hours still: one with nothing done, one investigated +2 h
    cases["fresh"], _c = _confirmed(epi, tree.grid_a, hours_ago=5)
    cases["fresh_done"], c = _confirmed(epi, tree.grid_b, hours_ago=5)
    investigation_complete(
        actor=epi, investigation=cases["fresh_done"].investigation, at=c + timedelta(hours=2)
    )

    # between 24 and 72 h, not done: late by china-9, not yet by who-2021 for the contacts' steps
    cases["middle"], c = _confirmed(epi, tree.grid_b, hours_ago=36)
    contacts["middle"] = _contact(epi, cases["middle"], tree.grid_a, at=c + timedelta(hours=1))

    # the other district: investigated +25 h
    cases["far"], c = _confirmed(far, tree.grid_far, hours_ago=30)
    investigation_complete(actor=far, investigation=cases["far"].investigation, at=c + timedelta(hours=25))

    # not counted: a suspected case, one confirmed before the range
    cases["suspected"] = make_case(actor=epi, grid=tree.grid_a, hours_ago=30)
    cases["before"], c = _confirmed(epi, tree.grid_a, hours_ago=24 * 40)
    investigation_complete(actor=epi, investigation=cases["before"].investigation, at=c + timedelta(hours=1))

    # loose work: overdue open and in progress, done and cancelled past due, open not yet due,
    # one held by the city itself
    now = timezone.now()
    loose = [
        ("quarantine.sample", tree.grid_a, -5, "open"),
        ("quarantine.sample", tree.grid_a, -1, "in_progress"),
        ("household.visit", tree.grid_b, -2, "open"),
        ("household.visit", tree.grid_b, -2, "done"),
        ("people.verify", tree.street, -3, "cancelled"),
        ("people.verify", tree.grid_far, -1, "open"),
        ("notice.deliver", tree.grid_far, 4, "open"),
        ("notice.deliver", tree.city, -6, "open"),
        ("volunteers.dispatch", tree.district, -1, "in_progress"),
    ]
    for kind, unit, hours, status in loose:
        WorkItem.objects.create(
            kind=kind, title=kind, org_unit=unit, due_at=now + timedelta(hours=hours), status=status
        )
    return Outbreak(now=timezone.now(), cases=cases, contacts=contacts)


# ---- the oracle: the rules, counted row by row -------------------------------------------------


def oracle_controlled_at() -> dict[int, datetime | None]:
    """Per case: when all its confirmed close contacts were under control (None: not (yet), or
    none). A contact is under control when every first-step item of its orders is done, or was
    cancelled because the order was converted (the time: the latest of them); with no first step,
    when it was confirmed."""
    orders = {o.pk: o for o in QuarantineOrder.objects.all()}
    steps: dict[int, list[WorkItem]] = defaultdict(list)  # per contact
    for item in WorkItem.objects.all():
        if item.kind in FIRST_STEPS and item.subject_type == "quarantine.quarantineorder":
            order = orders.get(int(item.subject_id))
            if order is not None and order.contact_id is not None:
                steps[order.contact_id].append(item)
    per_case: dict[int, list[datetime | None]] = defaultdict(list)
    for contact in Contact.objects.all():
        if contact.kind != "close" or contact.status != "confirmed":
            continue
        items = steps[contact.pk]
        if not items:
            at = contact.decided_at
        elif all(
            i.status == "done"
            or (i.status == "cancelled" and orders[int(i.subject_id)].status == "converted")
            for i in items
        ):
            at = max(i.done_at for i in items if i.done_at is not None)
        else:
            at = None
        per_case[contact.source_case_id].append(at)
    return {
        case: (None if any(t is None for t in times) else max(t for t in times if t is not None))
        for case, times in per_case.items()
    }


def oracle_timeliness(*, start: datetime, end: datetime, now: datetime, hours: dict[str, int]) -> dict:
    """Per step: cases confirmed in ``[start, end)``, judged, within; and per district."""
    completed = dict(Investigation.objects.values_list("case_id", "completed_at"))
    controlled = oracle_controlled_at()
    close = {c.source_case_id for c in Contact.objects.all() if c.kind == "close" and c.status == "confirmed"}
    totals: dict[str, dict[str, int]] = {s: {"cases": 0, "judged": 0, "within": 0} for s in hours}
    districts: dict[str, dict[str, dict[str, int]]] = defaultdict(
        lambda: {s: {"judged": 0, "within": 0} for s in hours}
    )
    for case in Case.objects.all():
        if case.classification != "confirmed" or not (start <= case.confirmed_at < end):
            continue
        done = {
            "investigated": completed.get(case.pk),
            "identified": case.contacts_identified_at,
            "controlled": controlled.get(case.pk),
        }
        district = OrgUnit.objects.get(pk=case.district_id).name
        for stage, at in done.items():
            totals[stage]["cases"] += 1
            limit = timedelta(hours=hours[stage])
            if stage == "controlled" and case.contacts_identified_at is not None and case.pk not in close:
                continue  # nobody to control
            judged = at is not None or now - case.confirmed_at > limit
            within = at is not None and at - case.confirmed_at <= limit
            for counts in (totals[stage], districts[district][stage]):
                counts["judged"] += judged
                counts["within"] += within
    return {"totals": totals, "districts": dict(districts)}


def oracle_overdue(*, top: OrgUnit, now: datetime) -> dict[str, dict[str, Any]]:
    """Per unit below ``top`` (by name; the top's own items under its pk): overdue and open items,
    and per kind (overdue, open)."""
    children = [u for u in OrgUnit.objects.all() if u.parent_id == top.pk]
    rows: dict[Any, dict[str, Any]] = {}
    for item in WorkItem.objects.select_related("org_unit"):
        if item.status not in OPEN:
            continue
        if item.org_unit_id == top.pk:
            key: Any = top.pk
        else:
            owners = [c.name for c in children if item.org_unit.path.startswith(c.path)]
            if not owners:
                continue
            key = owners[0]
        row = rows.setdefault(key, {"overdue": 0, "open": 0, "kinds": defaultdict(lambda: [0, 0])})
        late = item.due_at < now
        row["overdue"] += late
        row["open"] += 1
        row["kinds"][item.kind][0] += late
        row["kinds"][item.kind][1] += 1
    for child in children:
        rows.setdefault(child.name, {"overdue": 0, "open": 0, "kinds": {}})
    return {k: {**v, "kinds": {kind: tuple(n) for kind, n in v["kinds"].items()}} for k, v in rows.items()}


# ---- the tests --------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", ["china-9", "who-2021"])
def test_timeliness_equals_the_count_from_the_raw_rows(outbreak, commander, settings, protocol):
    settings.FANGKONG_PROTOCOL = protocol
    filters = filters_from(actor=commander)
    now = outbreak.now
    expected = oracle_timeliness(start=filters.start, end=filters.end, now=now, hours=HOURS[protocol])
    kpis = {row["stage"]: row for row in operations.timeliness_kpis(filters, now=now)}
    for stage, counts in expected["totals"].items():
        got = kpis[stage]
        assert (got["cases"], got["judged"], got["within"]) == (
            counts["cases"],
            counts["judged"],
            counts["within"],
        ), stage
        assert got["hours"] == HOURS[protocol][stage]
        assert got["percent"] == (
            round(100 * counts["within"] / counts["judged"]) if counts["judged"] else None
        )

    # the per-district page counts by the same rules
    times = case_times(actor=commander, since=filters.since, until=filters.until)
    page = {row.district: row for row in district_rows(times, now=now)}
    assert set(page) == set(expected["districts"])
    for district, stages in expected["districts"].items():
        for stage, counts in stages.items():
            assert (page[district].judged.get(stage, 0), page[district].within.get(stage, 0)) == (
                counts["judged"],
                counts["within"],
            ), (district, stage)

    # and the oracle is the rule, not a copy of the code: the counts by hand
    by_hand = {
        # early, late, converted, undone, alone, fresh, fresh_done, middle, far = 9 cases
        # investigated: judged = early, late, undone, alone, fresh_done, middle, far (converted: 50 h)
        "china-9": {
            "investigated": (9, 8, 2),  # within: early (+6), fresh_done (+2)
            "identified": (9, 7, 2),  # judged: not fresh/fresh_done; within: early (+10), alone (+8)
            # judged: early, late, converted, undone, middle, far; within: early, converted
            "controlled": (9, 6, 2),
        },
        "who-2021": {
            "investigated": (9, 8, 2),
            # 48 h: judged early, late, converted, undone, alone; within early, late (+30), alone
            "identified": (9, 5, 3),
            # 72 h: only the done ones, all within: early (+12), late (+40), converted (+10)
            "controlled": (9, 3, 3),
        },
    }[protocol]
    assert {s: (r["cases"], r["judged"], r["within"]) for s, r in kpis.items()} == by_hand


def test_control_follows_the_corrected_lifecycle(outbreak):
    """The contact who became a case is under control from the conversion; the one waiting is not."""
    controlled = oracle_controlled_at()
    c = outbreak.cases
    converted_at = controlled[c["converted"].pk]  # the new case's report, ~10 h after (factories' clocks)
    assert converted_at is not None
    assert abs(converted_at - c["converted"].confirmed_at - timedelta(hours=10)) < timedelta(seconds=5)
    assert controlled[c["late"].pk] == c["late"].confirmed_at + timedelta(hours=40)
    assert controlled[c["undone"].pk] is None
    order = QuarantineOrder.objects.filter(contact=outbreak.contacts["converted"]).order_by("day_one").first()
    assert order is not None and order.status == "converted"
    ended = QuarantineOrder.objects.exclude(status__in=("planned", "active")).values_list("pk", flat=True)
    assert (
        ended
        and not WorkItem.objects.filter(
            subject_type="quarantine.quarantineorder",
            subject_id__in=[str(pk) for pk in ended],
            status__in=OPEN,
        ).exists()
    )
    kept = dict(Case.objects.values_list("pk", "contacts_controlled_at"))
    assert {pk: kept[pk] for pk in controlled} == controlled


def test_overdue_by_unit_and_kind_equals_the_count_from_the_raw_rows(outbreak, tree, commander):
    now = outbreak.now
    for unit, top in ((None, tree.city), (tree.district, tree.district)):
        filters = filters_from(actor=commander, unit="" if unit is None else str(unit.pk))
        rows = operations.overdue_by_unit(filters, now=now)
        expected = oracle_overdue(top=top, now=now)
        children = {u.name for u in OrgUnit.objects.filter(parent=top)}
        got: dict[Any, dict[str, Any]] = {}
        for row in rows:
            key = row["unit"] if row["unit"] in children else top.pk
            got[key] = {"overdue": row["overdue"], "open": row["open"], "kinds": row["kinds"]}
        assert got == expected, top.name
        everything = [
            i
            for i in WorkItem.objects.select_related("org_unit")
            if i.status in OPEN and i.org_unit.path.startswith(top.path) and i.due_at < now
        ]
        assert sum(r["overdue"] for r in rows) == len(everything)
        assert [r["overdue"] for r in rows] == sorted((r["overdue"] for r in rows), reverse=True)

    rows = operations.overdue_by_unit(filters_from(actor=commander), now=now)
    by_unit = {r["unit"]: r for r in rows}
    # by hand: the loose items (the east district's samples include the live orders' past test days)
    east = by_unit[tree.district.name]["kinds"]
    assert east["household.visit"] == (1, 1)
    assert east["volunteers.dispatch"] == (1, 1) and "people.verify" not in east  # cancelled
    assert by_unit[tree.other_district.name]["kinds"] == {"people.verify": (1, 1), "notice.deliver": (0, 1)}
    city = [r for r in rows if r["unit"] not in {tree.district.name, tree.other_district.name}]
    assert [(r["overdue"], r["kinds"]) for r in city] == [(1, {"notice.deliver": (1, 1)})]


def test_the_overdue_panel_and_its_csv_show_the_roll_up(outbreak, tree, commander, client: Client):
    client.force_login(commander)
    page = client.get("/dashboard/").content.decode()
    table = page[page.index('data-testid="table-overdue"') :].split("</table>")[0]
    for kind in ("quarantine.sample", "household.visit", "people.verify", "notice.deliver"):
        assert kind_label(kind) in table, kind
    response = client.get("/dashboard/data.csv", {"chart": "overdue"})
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    expected = oracle_overdue(top=tree.city, now=timezone.now())
    east = next(r for r in rows if r["unit"] == tree.district.name)
    assert int(east["overdue"]) == expected[tree.district.name]["overdue"]
    for kind, (late, _open) in expected[tree.district.name]["kinds"].items():
        if late:
            assert int(east[f"overdue:{kind}"]) == late, kind
    assert sum(int(r["overdue"]) for r in rows) == sum(r["overdue"] for r in expected.values())
    headline = page[page.index('data-testid="kpi-overdue"') :].split("</strong>")[0].split(">")[-1]
    assert int(headline) == sum(r["overdue"] for r in expected.values())
