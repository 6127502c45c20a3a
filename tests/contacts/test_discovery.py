"""Contact discovery from location data and venue check-ins, run by the real worker: proposals
with evidence, bulk decisions that make orders, no data said as such, clamping, nothing left
behind by a failed run, one run at a time, scope, audit, API and `fangkong trace`."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from fangkong.audit.models import AuditEvent
from fangkong.cases.models import Case
from fangkong.contacts.discovery import data as discovery_data
from fangkong.contacts.models import Contact, ContactEvidence, DiscoveryRun
from fangkong.contacts.services import contact_register
from fangkong.quarantine.models import QuarantineOrder
from tests.cases.factories import make_case
from tests.engine.conftest import ping, place, write_checkins, write_pings
from tests.orgs.factories import user_with_role
from tests.people.factories import make_person

pytestmark = pytest.mark.django_db(transaction=True)


def run_worker() -> None:
    call_command(
        "db_worker", "--batch", "--queue-name", "*", "--no-startup-delay", "--no-reload", verbosity=0
    )


def loner(actor: Any, grid: Any) -> Any:
    """A resident living alone (no household to propose as secondary contacts)."""
    return make_person(actor=actor, grid=grid, building="", unit="", room="")


def every(minutes: int, start: datetime, end: datetime) -> list[datetime]:
    moments, moment = [], start
    while moment <= end:
        moments.append(moment)
        moment += timedelta(minutes=minutes)
    return moments


@pytest.fixture
def mobility(tmp_path: Path, settings: Any) -> Path:
    settings.FANGKONG_MOBILITY_DIR = tmp_path / "mobility"
    return tmp_path / "mobility"


def outline(lon: float, lat: float, half: float = 0.01) -> dict[str, Any]:
    """A square GeoJSON outline around a point (a grid's outline on the maps)."""
    ring = [
        [lon - half, lat - half],
        [lon + half, lat - half],
        [lon + half, lat + half],
        [lon - half, lat + half],
    ]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


@pytest.fixture
def scene(tree, epidemiologist, mobility):
    """A confirmed case who spent yesterday 10:00–12:30 in cell 0 and visited venue 7 at 15:00.

    - ``near``: in cell 0 from 10:30 to 12:40 (120 min together, daytime) → proposed, location data
    - ``passer``: in cell 0 from 11:00 to 11:30 (30 min) → a spatiotemporal companion
    - ``brief``: in cell 0 from 12:25 to 13:00 (5 min) → under the 10-minute minimum
    - ``diner``: checked in at venue 7 at 15:20 without checking out → proposed, venue
    - ``known``: in cell 0 with the case, already a manual contact → not proposed again
    - person 999999 in cell 0 with the case: not in the register

    Cell 0 lies in the outline of grid B (湖贝社区 第2网格).
    """
    tree.grid_b.geometry = outline(*place(0))
    tree.grid_b.save()
    case = make_case(
        actor=epidemiologist,
        grid=tree.grid_a,
        classification="confirmed",
        onset_date=timezone.localdate() - timedelta(days=1),
        hours_ago=1,
    )
    near, passer, brief, diner, known = (loner(epidemiologist, tree.grid_b) for _ in range(5))
    y = timezone.localtime() - timedelta(days=1)
    ten = y.replace(hour=10, minute=0, second=0, microsecond=0)
    minutes = lambda n: ten + timedelta(minutes=n)  # noqa: E731
    pings = [ping(case.person_id, t, 0) for t in every(5, ten, minutes(150))]
    pings += [ping(near.pk, t, 0) for t in every(5, minutes(30), minutes(160))]
    pings += [ping(passer.pk, t, 0) for t in every(5, minutes(60), minutes(90))]
    pings += [ping(brief.pk, t, 0) for t in every(5, minutes(145), minutes(180))]
    pings += [ping(known.pk, t, 0) for t in every(5, ten, minutes(60))]
    pings += [ping(999_999, t, 0) for t in every(5, ten, minutes(60))]
    pings += [ping(diner.pk, ten + timedelta(hours=5), 40)]
    write_pings(mobility, pings)
    write_checkins(
        mobility,
        [
            (case.person_id, 7, ten + timedelta(hours=5), ten + timedelta(hours=5, minutes=40)),
            (diner.pk, 7, ten + timedelta(hours=5, minutes=20), None),
        ],
    )
    pq.write_table(
        pa.table({"venue_id": pa.array([7], pa.int64()), "name": ["湖贝餐厅"]}), mobility / "venues.parquet"
    )
    contact_register(
        actor=epidemiologist,
        case=case,
        person=known,
        exposure_type="workplace",
        first_exposure=ten,
        last_exposure=ten + timedelta(hours=1),
    )
    return {
        "case": case,
        "near": near,
        "passer": passer,
        "brief": brief,
        "diner": diner,
        "known": known,
        "ten": ten,
    }


def test_discovery_proposes_contacts_with_evidence_and_audits_the_run(client: Client, scene, epidemiologist):
    case = scene["case"]
    client.force_login(epidemiologist)
    response = client.post(f"/contacts/case/{case.pk}/discover/")
    assert response.status_code == 302
    run = DiscoveryRun.objects.get()
    assert (run.status, run.percent) == ("queued", 0)
    page = client.get(f"/contacts/case/{case.pk}/").content.decode()
    assert 'data-status="queued"' in page and f"/contacts/discovery/{run.pk}/?watching=1" in page

    run_worker()
    run.refresh_from_db()
    assert (run.status, run.percent, run.no_data) == ("succeeded", 100, False)
    assert (run.people_found, run.proposed, run.companions, run.already_contacts, run.unknown_people) == (
        5,
        2,
        1,
        1,
        1,
    )
    proposed = {c.person_id: c for c in Contact.objects.filter(source_case=case, status="proposed")}
    assert set(proposed) == {scene["near"].pk, scene["diner"].pk}
    assert {c.kind for c in proposed.values()} == {"close"}
    near, diner = proposed[scene["near"].pk], proposed[scene["diner"].pk]
    assert (near.discovered_by, near.exposure_type) == ("colocation", "colocation")
    assert (diner.discovered_by, diner.exposure_type) == ("venue", "venue")
    # 120 daytime minutes in a cell weigh 30, a 20-minute shared restaurant visit 20
    assert (near.score, diner.score) == (20, 14)
    ten = scene["ten"]
    assert near.first_exposure == ten + timedelta(minutes=30)
    assert near.last_exposure == ten + timedelta(minutes=150)
    evidence = ContactEvidence.objects.get(contact=diner)
    # an open check-out closes at the 60-minute default dwell; the case left at 15:40
    assert (evidence.place, evidence.minutes) == ("湖贝餐厅", 20.0)
    near_evidence = ContactEvidence.objects.get(contact=near)
    assert (near_evidence.place, near_evidence.minutes) == ("湖贝社区 第2网格", 120.0)
    companion = Contact.objects.get(source_case=case, kind="companion")
    assert (companion.person_id, companion.status, companion.score) == (scene["passer"].pk, "confirmed", 5)
    assert companion.decided_at is not None
    assert list(companion.companion_tests.values_list("number", "due_on")) == [
        (1, timezone.localdate() + timedelta(days=1)),
        (2, timezone.localdate() + timedelta(days=3)),
    ]
    assert ContactEvidence.objects.get(contact=companion).place == "湖贝社区 第2网格"
    finish = AuditEvent.objects.get(action="contacts.discovery.finish")
    assert finish.after["cases"] == [case.number] and finish.after["proposed"] == 2
    assert (finish.after["companions"], finish.after["notified"]) == (1, 1)
    assert finish.after["start"] == run.range_start.isoformat()
    assert AuditEvent.objects.filter(action="contacts.discovery.start").count() == 1
    assert AuditEvent.objects.filter(action="contacts.contact.propose").count() == 2
    assert AuditEvent.objects.filter(action="contacts.contact.companion").count() == 1

    status = client.get(f"/contacts/discovery/{run.pk}/?watching=1", HTTP_HX_REQUEST="true")
    assert status["HX-Refresh"] == "true"  # the page reloads to show the proposals
    page = client.get(f"/contacts/case/{case.pk}/").content.decode()
    assert page.count('data-testid="evidence"') >= 2 and "湖贝餐厅" in page


def test_bulk_confirm_makes_orders_and_bulk_dismiss_needs_a_reason(client: Client, scene, epidemiologist):
    case = scene["case"]
    client.force_login(epidemiologist)
    client.post(f"/contacts/case/{case.pk}/discover/")
    run_worker()
    ids = list(Contact.objects.filter(source_case=case, status="proposed").values_list("pk", flat=True))
    refused = client.post(f"/contacts/case/{case.pk}/proposals/", {"contact": ids, "decision": "dismiss"})
    assert refused.status_code == 302
    assert Contact.objects.filter(pk__in=ids, status="proposed").count() == 2
    client.post(f"/contacts/case/{case.pk}/proposals/", {"contact": ids[:1], "decision": "confirm"})
    assert QuarantineOrder.objects.filter(contact_id=ids[0]).count() >= 1
    client.post(
        f"/contacts/case/{case.pk}/proposals/",
        {"contact": ids, "decision": "dismiss", "reason": "同楼不同层"},
    )
    statuses = dict(Contact.objects.filter(pk__in=ids).values_list("pk", "status"))
    assert statuses == {ids[0]: "confirmed", ids[1]: "dismissed"}  # the confirmed one is refused


def test_a_case_without_location_data_is_reported_not_silent(tree, epidemiologist, mobility):
    case = make_case(actor=epidemiologist, grid=tree.grid_a, classification="confirmed", hours_ago=1)
    other = loner(epidemiologist, tree.grid_b)
    write_pings(mobility, [ping(other.pk, timezone.now() - timedelta(hours=3), 0)])
    call_command("contacts_trace", case=[case.number], user=epidemiologist.username, stdout=io.StringIO())
    run = DiscoveryRun.objects.get()
    assert (run.status, run.no_data, run.proposed) == ("succeeded", True, 0)


def test_rows_without_a_person_place_or_time_are_left_out_and_counted_on_the_run(
    client: Client, scene, epidemiologist, mobility
):
    case, ten = scene["case"], scene["ten"]
    lon, lat = place(0)
    day = mobility / "pings" / f"day={timezone.localdate(ten).isoformat()}"
    nulls = [(None, ten, lon, lat), (case.person_id, ten, None, lat), (case.person_id, None, lon, lat)]
    pq.write_table(
        pa.table(
            {
                "person_id": pa.array([r[0] for r in nulls], pa.int64()),
                "ts": pa.array([r[1] for r in nulls], pa.timestamp("us", tz="UTC")),
                "lon": pa.array([r[2] for r in nulls], pa.float64()),
                "lat": pa.array([r[3] for r in nulls], pa.float64()),
            }
        ),
        day / "part-nulls.parquet",
    )
    pq.write_table(  # the case somewhere unknown, and nobody at the case's venue
        pa.table(
            {
                "person_id": pa.array([case.person_id, None], pa.int64()),
                "venue_id": pa.array([None, 7], pa.int64()),
                "check_in": pa.array([ten, ten + timedelta(hours=5)], pa.timestamp("us", tz="UTC")),
                "check_out": pa.array([None, None], pa.timestamp("us", tz="UTC")),
            }
        ),
        mobility / "checkins" / f"day={timezone.localdate(ten).isoformat()}" / "part-nulls.parquet",
    )
    out = io.StringIO()
    call_command("contacts_trace", case=[case.number], user=epidemiologist.username, stdout=out)
    run = DiscoveryRun.objects.get()
    assert (run.status, run.proposed, run.companions) == ("succeeded", 2, 1)  # the same as without
    assert (run.pings_dropped, run.checkins_dropped) == (3, 2)
    assert "3 pings, 2 check-ins" in out.getvalue()
    finish = AuditEvent.objects.get(action="contacts.discovery.finish")
    assert (finish.after["pings_dropped"], finish.after["checkins_dropped"]) == (3, 2)
    client.force_login(epidemiologist)
    body = client.get(f"/api/contacts/discovery/{run.pk}").json()
    assert (body["pings_dropped"], body["checkins_dropped"]) == (3, 2)
    page = client.get(f"/contacts/case/{case.pk}/").content.decode()
    assert 'data-testid="discovery-dropped"' in page


def test_a_failed_run_leaves_no_proposal(monkeypatch, client: Client, scene, epidemiologist):
    def broken(**kwargs: Any) -> Any:
        yield from []
        raise OSError("disk full")

    monkeypatch.setattr("fangkong.contacts.discovery.runs.evidence_rows", broken)
    client.force_login(epidemiologist)
    client.post(f"/contacts/case/{scene['case'].pk}/discover/")
    run_worker()
    run = DiscoveryRun.objects.get()
    assert run.status == "failed" and "disk full" in run.error
    assert Contact.objects.filter(status="proposed").count() == 0
    assert ContactEvidence.objects.count() == 0
    assert AuditEvent.objects.filter(action="contacts.discovery.failed").count() == 1


def test_a_range_before_the_look_back_is_clamped_and_says_so(client: Client, scene, epidemiologist):
    client.force_login(epidemiologist)
    start = (timezone.localtime() - timedelta(days=30)).strftime("%Y-%m-%d %H:%M")
    before = timezone.now()
    client.post(f"/contacts/case/{scene['case'].pk}/discover/", {"start": start})
    run = DiscoveryRun.objects.get()
    assert run.clamped
    assert before - timedelta(days=14) <= run.range_start <= timezone.now() - timedelta(days=14)
    page = client.get(f"/contacts/case/{scene['case'].pk}/").content.decode()
    assert 'data-testid="discovery-status"' in page


def test_one_run_at_a_time_and_a_stale_run_is_marked_interrupted(client: Client, scene, epidemiologist):
    client.force_login(epidemiologist)
    case = scene["case"]
    client.post(f"/contacts/case/{case.pk}/discover/")
    client.post(f"/contacts/case/{case.pk}/discover/")
    assert DiscoveryRun.objects.count() == 1
    DiscoveryRun.objects.update(updated_at=timezone.now() - timedelta(hours=1))
    client.post(f"/contacts/case/{case.pk}/discover/")
    assert list(DiscoveryRun.objects.order_by("id").values_list("status", flat=True)) == ["failed", "queued"]


def test_a_mistyped_column_fails_the_run_naming_it(tree, epidemiologist, mobility):
    case = make_case(actor=epidemiologist, grid=tree.grid_a, classification="confirmed", hours_ago=1)
    (mobility / "pings" / "day=2026-01-01").mkdir(parents=True)
    pq.write_table(
        pa.table({"person_id": ["x"], "ts": [timezone.now()], "lon": [114.0], "lat": [22.5]}),
        mobility / "pings" / "day=2026-01-01" / "part-0.parquet",
    )
    err = io.StringIO()
    with pytest.raises(Exception, match="failed"):
        call_command("contacts_trace", case=[case.number], user=epidemiologist.username, stderr=err)
    run = DiscoveryRun.objects.get()
    assert run.status == "failed" and "'person_id'" in run.error and "int64" in run.error


def test_stays_are_built_once_and_rebuilt_when_the_pings_change(scene, mobility):
    params = discovery_data.colocation_params()
    backend = discovery_data.colocation_backend()
    stays = discovery_data.stays_current(dataset=mobility, params=params, backend=backend)
    built = stays.stat().st_mtime_ns
    assert (
        discovery_data.stays_current(dataset=mobility, params=params, backend=backend).stat().st_mtime_ns
        == built
    )
    write_pings(mobility / "more", [ping(1, timezone.now(), 3)])
    (mobility / "more" / "pings").rename(mobility / "pings" / "extra")
    again = discovery_data.stays_current(dataset=mobility, params=params, backend=backend)
    assert again.stat().st_mtime_ns != built
    assert pq.read_table(again).num_rows == pq.read_table(stays).num_rows


def test_scope_and_api(client: Client, scene, epidemiologist, tree):
    case = scene["case"]
    stranger = user_with_role("epidemiologist", tree.other_district)
    client.force_login(stranger)
    assert client.post(f"/contacts/case/{case.pk}/discover/").status_code == 404
    client.force_login(epidemiologist)
    started = client.post(f"/api/contacts/cases/{case.pk}/discover", {}, content_type="application/json")
    assert started.status_code == 202, started.content
    run_id = started.json()["id"]
    run_worker()
    body = client.get(f"/api/contacts/discovery/{run_id}").json()
    assert (body["status"], body["proposed"]) == ("succeeded", 2)
    ids = list(Contact.objects.filter(source_case=case, status="proposed").values_list("pk", flat=True))
    decided = client.post(
        f"/api/contacts/cases/{case.pk}/proposals",
        {"contact_ids": ids, "decision": "confirm"},
        content_type="application/json",
    )
    assert decided.json() == {"done": 2, "refused": []}
    client.force_login(stranger)
    assert client.get(f"/api/contacts/discovery/{run_id}").status_code == 404
    assert client.get(f"/contacts/discovery/{run_id}/").status_code == 404
    assert Case.objects.get(pk=case.pk).contacts.filter(status="confirmed", kind="close").count() == 3


def test_a_bulk_decision_is_limited_and_says_so(client: Client, scene, epidemiologist):
    client.force_login(epidemiologist)
    case = scene["case"]
    response = client.post(
        f"/api/contacts/cases/{case.pk}/proposals",
        {"contact_ids": list(range(1, 5002)), "decision": "confirm"},
        content_type="application/json",
    )
    assert response.status_code == 422 and "5000" in response.json()["errors"]["contacts"][0]
