"""The invariant of the work about help requests (see ``worklist.lifecycle``): an open escalation
item is stale once a call reached the resident (``help.called_back``) or the request was closed
(``help.closed``). Escalation items are made by the sweep each minute, so none is "missing" here."""

from __future__ import annotations

from fangkong.helpdesk.models import HelpRequest, Status
from fangkong.worklist.kinds import HELP_REQUEST, Event
from fangkong.worklist.lifecycle import Finding, open_items_about, stale


def help_work_check() -> list[Finding]:
    """Every exception among the items about help requests (module rules)."""
    items = open_items_about(HELP_REQUEST)
    requests = {
        r.pk: r
        for r in HelpRequest.objects.filter(
            pk__in=[int(i.subject_id) for i in items if i.subject_id.isdigit()]
        ).only("id", "status", "called_back_at")
    }
    findings = []
    for item in items:
        request = requests.get(int(item.subject_id)) if item.subject_id.isdigit() else None
        if request is None:
            continue
        if request.status == Status.RESOLVED:
            findings.append(stale(item, Event.HELP_CLOSED))
        elif request.called_back_at is not None:
            findings.append(stale(item, Event.HELP_CALLED_BACK))
    return findings
