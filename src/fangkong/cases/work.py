"""The invariant of the work about cases (see ``worklist.lifecycle``).

- An open investigation item is stale when the investigation was completed, or the case was
  excluded, recovered or died.
- A case that is not excluded, still in treatment and not yet investigated, with no investigation
  item at all (an item closed by hand counts: someone decided), is missing its item.
"""

from __future__ import annotations

from functools import partial

from fangkong.cases.models import Case, Classification, Outcome
from fangkong.cases.services import investigation_item_create
from fangkong.worklist.kinds import CASE, Event
from fangkong.worklist.lifecycle import MISSING, Finding, open_items_about, stale
from fangkong.worklist.models import WorkItem

CLOSED_BY = {Outcome.RECOVERED: Event.CASE_RECOVERED, Outcome.DECEASED: Event.CASE_DECEASED}


def case_work_check() -> list[Finding]:
    """Every exception among the items about cases (module rules)."""
    items = open_items_about(CASE, kinds=["case.investigate"])
    cases = {
        c.pk: c
        for c in Case.objects.filter(pk__in=[int(i.subject_id) for i in items if i.subject_id.isdigit()])
        .select_related("investigation")
        .only("id", "classification", "outcome", "investigation__completed_at")
    }
    findings = []
    for item in items:
        case = cases.get(int(item.subject_id)) if item.subject_id.isdigit() else None
        if case is None:
            continue
        if case.classification == Classification.EXCLUDED:
            findings.append(stale(item, Event.CASE_EXCLUDED))
        elif case.outcome in CLOSED_BY:
            findings.append(stale(item, CLOSED_BY[Outcome(case.outcome)]))
        elif getattr(case, "investigation", None) is not None and case.investigation.completed_at is not None:
            findings.append(stale(item, Event.CASE_INVESTIGATED))
    with_item = WorkItem.objects.filter(kind="case.investigate", subject_type=CASE).values_list(
        "subject_id", flat=True
    )
    uninvestigated = (
        Case.objects.exclude(classification=Classification.EXCLUDED)
        .filter(outcome=Outcome.IN_TREATMENT, investigation__completed_at__isnull=True)
        .select_related("district")
    )
    known = set(with_item)
    return findings + [
        Finding(
            problem=MISSING,
            kind="case.investigate",
            subject_type=CASE,
            subject_id=str(case.pk),
            why=f"case {case.number} is not investigated and has no investigation item",
            repair=partial(investigation_item_create, case=case),
        )
        for case in uninvestigated
        if str(case.pk) not in known
    ]
