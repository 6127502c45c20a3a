"""The invariant of the work about mass testing (see ``worklist.lifecycle``).

- An open "testing.recall" item is stale once its recall waits no more: re-sampled (and perhaps
  resulted: ``recall.sampled``), or the person became a case otherwise (``recall.ended``).
- A recall still waiting with no item ever made (one closed by hand counts: someone decided) is
  missing its item.
- An open "testing.home_sample" item is stale once the person was swabbed in the round named in
  its note (``person.sampled``).
"""

from __future__ import annotations

from functools import partial

from fangkong.testing.models import Recall, RecallStatus, TubeMember
from fangkong.testing.results import recall_items_create
from fangkong.worklist.kinds import PERSON, RECALL, Event
from fangkong.worklist.lifecycle import MISSING, Finding, open_items_about, stale
from fangkong.worklist.models import WorkItem


def testing_work_check() -> list[Finding]:
    """Every exception among the items of mass testing (module rules)."""
    findings: list[Finding] = []
    items = open_items_about(RECALL, kinds=["testing.recall"])
    states = dict(
        Recall.objects.filter(
            pk__in=[int(i.subject_id) for i in items if i.subject_id.isdigit()]
        ).values_list("pk", "status")
    )
    for item in items:
        state = states.get(int(item.subject_id)) if item.subject_id.isdigit() else None
        if state == RecallStatus.ENDED:
            findings.append(stale(item, Event.RECALL_ENDED))
        elif state is not None and state != RecallStatus.WAITING:
            findings.append(stale(item, Event.RECALL_SAMPLED))
    for item in open_items_about(PERSON, kinds=["testing.home_sample"]):
        round_id = item.note.removeprefix("round:")
        if round_id.isdigit() and item.subject_id.isdigit():
            swabbed = TubeMember.objects.filter(
                round_id=int(round_id), person_id=int(item.subject_id)
            ).exists()
            if swabbed:
                findings.append(stale(item, Event.PERSON_SAMPLED))
    made = set(WorkItem.objects.filter(kind="testing.recall").values_list("subject_id", flat=True))
    for recall in Recall.objects.filter(status=RecallStatus.WAITING).select_related("pool", "person"):
        if str(recall.pk) not in made:
            findings.append(
                Finding(
                    problem=MISSING,
                    kind="testing.recall",
                    subject_type=RECALL,
                    subject_id=str(recall.pk),
                    why=f"recall of tube {recall.pool.barcode} waits for its re-sample and has no item",
                    repair=partial(recall_items_create, [recall]),
                )
            )
    return findings
