"""A decision on every proposal a review filter matches, run by the real worker in chunks: only
the matching proposals, progress by chunk, refusals named, one at a time per case, whole chunks
only when it fails, scope, and the page that shows it."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from fangkong.audit.models import AuditEvent
from fangkong.common.errors import Conflict, Forbidden, Invalid
from fangkong.contacts import decisions, services
from fangkong.contacts.models import Contact, ProposalDecision
from fangkong.contacts.selectors import ReviewFilters
from fangkong.contacts.services import contact_propose
from fangkong.quarantine.models import QuarantineOrder
from tests.cases.factories import make_case
from tests.orgs.factories import user_with_role
from tests.people.factories import make_person

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "Decide-password-5"


def run_worker() -> None:
    call_command(
        "db_worker", "--batch", "--queue-name", "*", "--no-startup-delay", "--no-reload", verbosity=0
    )


@pytest.fixture
def proposals(tree, epidemiologist, admin_user):
    """A confirmed case with 9 proposals scored 10, 20, …, 90 (one lives in another district)."""
    case = make_case(actor=epidemiologist, grid=tree.grid_a, classification="confirmed", hours_ago=20)
    last = timezone.now() - timedelta(hours=30)
    made = []
    for n in range(1, 10):
        grid, maker = (tree.grid_far, admin_user) if n == 9 else (tree.grid_a, epidemiologist)
        person = make_person(actor=maker, grid=grid, name=f"冯{n}", building=str(n), room="1")
        contact = contact_propose(
            case=case,
            person=person,
            kind="close",
            exposure_type="venue",
            first_exposure=last - timedelta(hours=1),
            last_exposure=last,
            discovered_by="venue",
        )
        assert contact is not None
        Contact.objects.filter(pk=contact.pk).update(score=10 * n)
        made.append(contact)
    return case, made


def test_every_matching_proposal_is_decided_by_the_worker_in_chunks(proposals, epidemiologist, monkeypatch):
    case, made = proposals
    monkeypatch.setattr(decisions, "CHUNK", 2)
    job = decisions.decision_start(
        actor=epidemiologist, case=case, filters=ReviewFilters(min_score=30), decision="confirm"
    )
    assert (job.status, job.total, job.position, job.percent) == ("queued", 7, 0, 0)
    # decided by hand meanwhile: the worker names it, with why
    services.contact_dismiss(actor=epidemiologist, contact=made[3], reason="同名不同人")
    run_worker()
    job.refresh_from_db()
    assert (job.status, job.position, job.percent) == ("succeeded", 7, 100)
    assert (job.done, job.handed_off) == (6, 1)
    assert [r["id"] for r in job.refused] == [made[3].pk] and job.refused[0]["name"] == "冯*"
    confirmed = Contact.objects.filter(source_case=case, status="confirmed")
    assert set(confirmed.values_list("score", flat=True)) == {30, 50, 60, 70, 80}
    assert Contact.objects.get(pk=made[8].pk).status == "handed_off"
    assert set(Contact.objects.filter(score__lt=30).values_list("status", flat=True)) == {"proposed"}
    assert QuarantineOrder.objects.filter(contact__in=confirmed).values("contact").distinct().count() == 5
    assert AuditEvent.objects.filter(action="contacts.proposals.decision", target_id=str(job.pk)).exists()


def test_a_failing_chunk_leaves_the_chunks_before_it_decided_and_the_rest_proposed(
    proposals, epidemiologist, monkeypatch
):
    case, _made = proposals
    monkeypatch.setattr(decisions, "CHUNK", 4)
    real = services.proposals_decide
    calls = []

    def second_fails(**kwargs):
        calls.append(kwargs["contact_ids"])
        if len(calls) == 2:
            real(**kwargs)  # written, then the worker dies before its chunk commits
            raise RuntimeError("worker died")
        return real(**kwargs)

    monkeypatch.setattr(services, "proposals_decide", second_fails)
    job = decisions.decision_start(
        actor=epidemiologist, case=case, filters=ReviewFilters(), decision="dismiss", reason="误报"
    )
    run_worker()
    job.refresh_from_db()
    assert job.status == "failed" and "worker died" in job.error
    assert (job.position, job.done) == (4, 4)
    statuses = dict(Contact.objects.filter(source_case=case).values_list("pk", "status"))
    assert sorted(statuses[pk] for pk in calls[0]) == ["dismissed"] * 4
    assert [statuses[pk] for pk in job.contact_ids[4:]] == ["proposed"] * 5

    # started again, it decides what is still proposed
    monkeypatch.setattr(services, "proposals_decide", real)
    again = decisions.decision_start(
        actor=epidemiologist, case=case, filters=ReviewFilters(), decision="dismiss", reason="误报"
    )
    assert again.total == 5
    run_worker()
    assert set(Contact.objects.filter(source_case=case).values_list("status", flat=True)) == {"dismissed"}


def test_one_decision_at_a_time_per_case_and_the_rules_of_a_decision(proposals, epidemiologist, tree):
    case, _made = proposals
    decisions.decision_start(actor=epidemiologist, case=case, filters=ReviewFilters(), decision="confirm")
    with pytest.raises(Conflict):
        decisions.decision_start(actor=epidemiologist, case=case, filters=ReviewFilters(), decision="confirm")
    with pytest.raises(Invalid) as no_reason:
        decisions.decision_start(actor=epidemiologist, case=case, filters=ReviewFilters(), decision="dismiss")
    assert "reason" in no_reason.value.errors
    # one that stopped moving was interrupted; another may start
    ProposalDecision.objects.update(updated_at=timezone.now() - timedelta(minutes=11))
    decisions.decision_start(actor=epidemiologist, case=case, filters=ReviewFilters(), decision="confirm")
    assert list(ProposalDecision.objects.order_by("pk").values_list("status", flat=True)) == [
        "failed",
        "queued",
    ]
    ProposalDecision.objects.update(status="succeeded")
    with pytest.raises(Invalid) as nothing:
        decisions.decision_start(
            actor=epidemiologist, case=case, filters=ReviewFilters(min_score=95), decision="confirm"
        )
    assert "contacts" in nothing.value.errors
    far = user_with_role("epidemiologist", tree.other_district, username="far.decider")
    with pytest.raises(Forbidden):
        decisions.decision_start(actor=far, case=case, filters=ReviewFilters(), decision="confirm")


def test_the_review_page_decides_all_matching_and_shows_the_progress(proposals, epidemiologist, tree):
    case, _made = proposals
    epidemiologist.set_password(PASSWORD)
    epidemiologist.save()
    client = Client()
    assert client.login(username=epidemiologist.username, password=PASSWORD)
    sent = client.post(
        f"/contacts/case/{case.pk}/proposals/",
        {"matching": "1", "decision": "confirm", "tab": "proposed", "min_score": "50", "next": "/contacts/"},
    )
    job = ProposalDecision.objects.get()
    assert sent.status_code == 302
    assert sent["Location"] == f"/contacts/decisions/{job.pk}/?{urlencode({'next': '/contacts/#review'})}"
    assert job.total == 5
    waiting = client.get(sent["Location"])
    assert b'data-status="queued"' in waiting.content and b"hx-get" in waiting.content
    run_worker()
    shown = client.get(sent["Location"])
    assert b'data-status="succeeded"' in shown.content and b'href="/contacts/#review"' in shown.content
    # another district sees nothing of it; an address off the site is not followed back
    far = user_with_role("epidemiologist", tree.other_district, username="far.viewer")
    far.set_password(PASSWORD)
    far.save()
    other = Client()
    assert other.login(username="far.viewer", password=PASSWORD)
    assert other.get(f"/contacts/decisions/{job.pk}/").status_code == 404
    off_site = client.get(f"/contacts/decisions/{job.pk}/?next=//evil.example/")
    assert f'href="/contacts/case/{case.pk}/#review" class="button"'.encode() in off_site.content
