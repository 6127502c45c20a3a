"""Automatic contact discovery (时空伴随 and 场所码): the only module that calls ``fangkong.engine``.

A run searches for the contacts of one case:

1. **Range**: from the opening of the case's close-contact look-back (``lookback_reference``) to
   now, or the range an epidemiologist gives. It is clamped to the co-location look-back of the
   profile (how long location data is kept, 14 days in ``china-9``) and the run says so.
2. **Stays** are built from the pings once and reused until the pings or the cell thresholds
   change (a stamp of every file's name, size and time, and the thresholds).
3. **Matching** on the configured engine (``FANGKONG_COLOCATION_BACKEND``: DuckDB or Spark).
4. **Triage** (``contacts.triage``, by the profile's ``[triage]`` tiers): every person found who
   is in the register (a merged record counts as its survivor), is not the case and is not
   already a contact of the case (of any kind) becomes either a *proposed* close contact (shared
   venue visits, long daytime co-presence, the case's household) or a *spatiotemporal companion*
   (时空伴随者: confirmed at once, not quarantined, tested and told by ``contacts.companions``),
   each with a score that ranks them, ``discovered_by=venue`` when they shared a venue visit,
   else ``colocation``; the exposure spans their first to last overlap, with the longest overlaps
   kept as evidence, named by place (``discovery.places``). A close proposal ends the person's
   follow-up as another case's companion. Everything, and the run's counts, is written in one
   transaction: a run that fails or is interrupted leaves nothing behind. An epidemiologist
   confirms or dismisses the proposals (in bulk), and a confirmed one gets its orders like a
   contact entered by hand.

Each start and each end of a run is audited (who, the case, the range, the counts). A case with
no location data in the range is reported as such: no data is not "no contacts". The rows of the
dataset that the engine left out (pings and check-ins without a person, a place or a time) are
counted on the run and shown with its result.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.audit.services import audit_record, audit_record_many
from fangkong.cases.models import Case
from fangkong.common.errors import Conflict, Invalid
from fangkong.common.leases import Lease, lease_fence, retry_audit_after
from fangkong.common.protocol import active_profile
from fangkong.contacts.companions import companions_end, companions_follow
from fangkong.contacts.discovery.data import (
    colocation_backend,
    colocation_params,
    evidence_rows,
    exposures_by_person,
    mobility_dir,
    pings_dropped,
    stays_current,
)
from fangkong.contacts.models import (
    Contact,
    ContactEvidence,
    ContactKind,
    ContactStatus,
    DiscoveredBy,
    DiscoveryRun,
    ExposureType,
    RunStatus,
)
from fangkong.contacts.services import lookback_reference, require_case_change
from fangkong.contacts.triage import CLOSE, Verdict, triage
from fangkong.engine.matching import MatchResult
from fangkong.engine.retention import search_range
from fangkong.engine.rules import ColocationParams
from fangkong.engine.schema import parquet_files
from fangkong.people.models import Person

STALE_AFTER = timedelta(minutes=30)
"""A run that has not reported progress for this long was interrupted (its worker died)."""


# --- starting ----------------------------------------------------------------------------


@transaction.atomic
def discovery_start(
    *,
    actor: Any,
    case: Case,
    start: datetime | None = None,
    end: datetime | None = None,
    now: datetime | None = None,
    enqueue: bool = True,
) -> DiscoveryRun:
    """Queue a discovery run for ``case`` (one at a time per case) for the worker, or, with
    ``enqueue=False``, for the caller to run with :func:`discovery_execute`."""
    require_case_change(actor, case)
    now = now or timezone.now()
    _interrupted_mark(case=case, now=now)
    if DiscoveryRun.objects.filter(case=case, status__in=[RunStatus.QUEUED, RunStatus.RUNNING]).exists():
        raise Conflict(_("A discovery for this case is already under way; wait for it to finish."))
    start = start or active_profile().close_contact.lookback_start(lookback_reference(case))
    end = end or now
    for name, moment in (("start", start), ("end", end)):
        if timezone.is_naive(moment):
            raise Invalid.field(name, _("The time must carry a time zone."))
    if end <= start:
        raise Invalid.field("end", _("The end of the range must be after its start."))
    lookback = timedelta(days=active_profile().colocation.lookback_days)
    try:
        searched = search_range(start=start, end=end, lookback=lookback, now=now)
    except ValueError:
        raise Invalid.field(
            "start",
            _("The range lies outside the %(n)d days of location data that are kept.") % {"n": lookback.days},
        ) from None
    params = colocation_params()
    run = DiscoveryRun.objects.create(
        case=case,
        created_by=actor,
        range_start=searched.start,
        range_end=searched.end,
        clamped=searched.clamped,
        backend=settings.FANGKONG_COLOCATION_BACKEND,
        params={
            "cell_size_m": params.cell_size_m,
            "min_costay_minutes": params.min_costay_minutes,
            "max_gap_minutes": params.max_gap_minutes,
            "venue_default_dwell_minutes": params.venue_default_dwell_minutes,
        },
    )
    audit_record(actor=actor, action="contacts.discovery.start", target=run, after=_audit_range(run))
    from fangkong.contacts.tasks import discovery_task

    if enqueue:
        transaction.on_commit(lambda: discovery_task.enqueue(run_id=run.pk))
    return run


def _interrupted_mark(*, case: Case, now: datetime) -> None:
    """Fail the runs of ``case`` that stopped reporting progress (their worker died)."""
    DiscoveryRun.objects.filter(
        case=case, status__in=[RunStatus.QUEUED, RunStatus.RUNNING], updated_at__lt=now - STALE_AFTER
    ).update(status=RunStatus.FAILED, error=_("Interrupted: no progress for 30 minutes."), finished_at=now)


def _audit_range(run: DiscoveryRun) -> dict[str, Any]:
    return {
        "cases": [run.case.number],
        "start": run.range_start.isoformat(),
        "end": run.range_end.isoformat(),
        "clamped": run.clamped,
        "engine": run.backend,
    }


# --- running (in the worker) -------------------------------------------------------------


def _progress(run: DiscoveryRun, *, stage: str, percent: int) -> None:
    run.stage, run.percent = stage, percent
    run.save(update_fields=["stage", "percent", "updated_at"])


def discovery_execute(*, run_id: int, lease: Lease | None = None) -> DiscoveryRun:
    """Run a queued discovery: stays, matching, then every proposal at once (see the module);
    under ``lease``, the proposals' transaction is fenced (``fangkong.common.leases``)."""
    claimed = DiscoveryRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING, started_at=timezone.now(), stage="stays", percent=5
    )
    run = DiscoveryRun.objects.select_related("case__org_unit", "created_by").get(pk=run_id)
    if not claimed:
        return run  # another worker has it, or it was already run
    dataset = mobility_dir()
    if not (dataset / "pings").is_dir() or not parquet_files(dataset / "pings"):
        raise FileNotFoundError(
            _("No location data has been loaded (looked in %(d)s/pings).") % {"d": dataset}
        )
    params = colocation_params()
    backend = colocation_backend()
    stays = stays_current(dataset=dataset, params=params, backend=backend)
    _progress(run, stage="matching", percent=50)
    with tempfile.TemporaryDirectory() as empty:
        checkins = dataset / "checkins" if (dataset / "checkins").is_dir() else Path(empty)
        result = backend.match(
            stays=stays,
            checkins=checkins,
            cases=[run.case.person_id],
            start=run.range_start,
            end=run.range_end,
            params=params,
        )
    _progress(run, stage="proposing", percent=80)
    run.pings_dropped, run.checkins_dropped = pings_dropped(dataset=dataset), result.checkins_dropped
    with transaction.atomic():
        lease_fence(lease)
        return _proposals_write(run=run, result=result, dataset=dataset, params=params)


def discovery_requeue(run_id: int) -> None:
    """The lease sweep's retry of a run whose worker died: queued again, to run from the start
    (its proposals are written in one transaction at the end, so the dead attempt left none)."""
    DiscoveryRun.objects.filter(pk=run_id).update(
        status=RunStatus.QUEUED, stage="", percent=0, updated_at=timezone.now()
    )
    job = DiscoveryRun.objects.get(pk=run_id)
    audit_record(actor=None, action="jobs.lease.retry", target=job, after=retry_audit_after(job))


def discovery_fail(*, run_id: int, reason: str) -> None:
    """Close a run that raised: failed, with the reason (nothing was proposed); audited."""
    run = DiscoveryRun.objects.select_related("case", "created_by").get(pk=run_id)
    if run.is_finished:
        return
    run.status, run.error, run.finished_at = RunStatus.FAILED, reason[:500], timezone.now()
    run.save(update_fields=["status", "error", "finished_at", "updated_at"])
    audit_record(
        actor=run.created_by,
        action="contacts.discovery.failed",
        target=run,
        after={**_audit_range(run), "error": reason[:200]},
    )


@transaction.atomic
def _proposals_write(
    *, run: DiscoveryRun, result: MatchResult, dataset: Path, params: ColocationParams
) -> DiscoveryRun:
    """Every contact of a run, triaged (proposals and companions), their evidence, the companions'
    tests and notices, and the run's counts, in one transaction (see the module). The queries
    do not grow with the number of people found."""
    case = Case.objects.select_for_update(of=("self",)).select_related("person").get(pk=run.case_id)
    now = timezone.now()
    found = result.summary.to_pylist()
    survivors = _register_ids([row["person_id"] for row in found])
    existing = set(Contact.objects.filter(source_case=case).values_list("person_id", flat=True))
    sources: dict[int, list[int]] = {}  # person → their numbers in the data (two if merged)
    unknown = already = 0
    for row in found:
        person_id = survivors.get(row["person_id"])
        if person_id is None:
            unknown += 1
        elif person_id == case.person_id or person_id in existing:
            already += 1
        else:
            sources.setdefault(person_id, []).append(row["person_id"])
    people = {
        person.pk: person
        for chunk in _chunks(list(sources))
        for person in Person.objects.filter(pk__in=chunk).only(
            "id", "org_unit_id", "household_id", "phone_cipher"
        )
    }
    exposures = exposures_by_person(result)
    rule = active_profile().triage
    contacts = []
    for person_id, numbers in sources.items():
        rows = [row for number in numbers for row in exposures.get(number, ())]
        home = case.person.household_id
        verdict = triage(
            exposures=rows, household=home is not None and people[person_id].household_id == home, rule=rule
        )
        contacts.append(_contact(case=case, person=people[person_id], rows=rows, verdict=verdict, now=now))
    Contact.objects.bulk_create(contacts, batch_size=1000)
    proposals = [c for c in contacts if c.kind == ContactKind.CLOSE]
    companions = [c for c in contacts if c.kind == ContactKind.COMPANION]
    by_source = {number: c for c in contacts for number in sources[c.person_id]}
    ContactEvidence.objects.bulk_create(
        evidence_rows(run=run, exposures=exposures, contacts=by_source, dataset=dataset, params=params),
        batch_size=1000,
    )
    # a close proposal supersedes the person's follow-up as another case's companion
    companions_end(actor=run.created_by, at=now, person_ids=[c.person_id for c in proposals])
    follow_up = companions_follow(actor=run.created_by, contacts=companions, people=people, at=now)
    for action, written in (
        ("contacts.contact.propose", proposals),
        ("contacts.contact.companion", companions),
    ):
        audit_record_many(
            actor=run.created_by,
            action=action,
            targets=written,
            after=lambda c: {
                "case": case.number,
                "run": run.pk,
                "found_by": c.discovered_by,
                "score": c.score,
            },
        )
    run.status, run.stage, run.percent, run.finished_at = RunStatus.SUCCEEDED, "done", 100, now
    run.exposures, run.people_found = result.exposures.num_rows, len(found)
    run.proposed, run.companions = len(proposals), len(companions)
    run.already_contacts, run.unknown_people = already, unknown
    run.no_data = case.person_id in result.cases_without_data
    run.save()
    audit_record(
        actor=run.created_by,
        action="contacts.discovery.finish",
        target=run,
        after={
            **_audit_range(run),
            "exposures": run.exposures,
            "people": run.people_found,
            "proposed": run.proposed,
            "companions": run.companions,
            "notified": follow_up.notified,
            "no_data": run.no_data,
            "pings_dropped": run.pings_dropped,
            "checkins_dropped": run.checkins_dropped,
        },
    )
    return run


def _contact(
    *, case: Case, person: Person, rows: list[dict[str, Any]], verdict: Verdict, now: datetime
) -> Contact:
    """The contact a person found becomes: a proposed close contact, or a companion (confirmed:
    a companion is not reviewed, only followed), spanning their first to last overlap."""
    venue = any(row["where_kind"] == "venue" for row in rows)
    close = verdict.tier == CLOSE
    return Contact(
        source_case=case,
        person=person,
        org_unit_id=person.org_unit_id,
        kind=ContactKind.CLOSE if close else ContactKind.COMPANION,
        status=ContactStatus.PROPOSED if close else ContactStatus.CONFIRMED,
        decided_at=None if close else now,
        exposure_type=ExposureType.VENUE if venue else ExposureType.COLOCATION,
        first_exposure=min(row["overlap_start"] for row in rows),
        last_exposure=max(row["overlap_end"] for row in rows),
        discovered_by=DiscoveredBy.VENUE if venue else DiscoveredBy.COLOCATION,
        score=verdict.score,
    )


def _register_ids(ids: Sequence[int]) -> dict[int, int]:
    """Person number in the data → the register's person (a merged record → its survivor)."""
    merged: dict[int, int | None] = {}
    for chunk in _chunks(ids):
        merged.update(Person.objects.filter(pk__in=chunk).values_list("pk", "merged_into_id"))
    survivors: dict[int, int] = {}
    for person_id, target in merged.items():
        current, hops = person_id, 0
        while target is not None and hops < 10:  # merges chain rarely, and never in a loop
            current, hops = target, hops + 1
            target = Person.objects.filter(pk=current).values_list("merged_into_id", flat=True).first()
        survivors[person_id] = current
    return survivors


def _chunks(ids: Sequence[int], size: int = 5000) -> list[Sequence[int]]:
    """``ids`` in slices small enough for any database's limit on query parameters."""
    return [ids[i : i + size] for i in range(0, len(ids), size)]
