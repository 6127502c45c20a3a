"""Readable names of audit actions. An action not listed here is shown by its code."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

ACTION_LABELS: dict[str, str | Promise] = {
    "people.person.create": _("Registered a person"),
    "people.person.update": _("Edited a person"),
    "people.person.reveal": _("Viewed full ID number or phone"),
    "people.person.merge": _("Merged duplicate records"),
    "people.import.create": _("Uploaded a people spreadsheet"),
    "people.import.succeeded": _("Imported a people spreadsheet"),
    "people.import.rejected": _("People spreadsheet rejected"),
    "people.import.failed": _("People spreadsheet failed"),
    "orgs.unit.create": _("Created an org unit"),
    "orgs.unit.admin_save": _("Saved an org unit (admin)"),
    "orgs.membership.grant": _("Granted a role"),
    "orgs.membership.admin_save": _("Saved a role (admin)"),
    "orgs.token.create": _("Created an API token"),
    "orgs.token.revoke": _("Revoked an API token"),
    "worklist.item.create": _("Created a work item"),
    "worklist.item.assign": _("Assigned a work item"),
    "worklist.item.complete": _("Completed a work item"),
    "worklist.item.cancel": _("Cancelled a work item"),
    "worklist.item.done_by_rule": _("Work item done with its subject"),
    "worklist.item.cancel_by_rule": _("Work item ended: its subject no longer needs it"),
    "worklist.item.move": _("Work item moved to the record kept"),
    "worklist.item.note": _("Added a note to a work item"),
    "quarantine.order.create": _("Created a quarantine order"),
    "quarantine.order.extend": _("Extended a quarantine order"),
    "quarantine.order.room": _("Assigned a room"),
    "quarantine.order.release": _("Released a quarantine order"),
    "quarantine.order.release_early": _("Released a quarantine order early"),
    "quarantine.order.convert": _("Quarantine order converted: the person became a case"),
    "quarantine.order.fold": _("Two live orders of one person became one"),
    "quarantine.order.supersede": _("Home quarantine superseded by a close contact's orders"),
    "quarantine.test.negative": _("Recorded a negative test"),
    "quarantine.test.positive": _("Recorded a positive test"),
    "quarantine.test.correct": _("Corrected a test result"),
    "quarantine.check.staff": _("Recorded a health check"),
    "quarantine.check.self": _("Health check self-reported"),
    "quarantine.import.create": _("Uploaded a lab result file"),
    "quarantine.import.succeeded": _("Imported a lab result file"),
    "quarantine.import.rejected": _("Lab result file rejected"),
    "quarantine.import.failed": _("Lab result file failed"),
    "contacts.contact.register": _("Registered a close contact"),
    "contacts.contact.confirm": _("Confirmed a contact"),
    "contacts.contact.dismiss": _("Dismissed a proposed contact"),
    "contacts.case.identified": _("Recorded all close contacts identified"),
    "helpdesk.claim": _("Claimed a help request"),
    "helpdesk.call": _("Logged a call back"),
    "helpdesk.resolve": _("Resolved a help request"),
    "helpdesk.escalate": _("Help request raised to the unit above"),
    "demo.load": _("Loaded the demo city"),
    "dashboard.export": _("Exported a list (masked)"),
    "dashboard.export.unmasked": _("Exported a list with full ID numbers and phones"),
    "dashboard.export.download": _("Downloaded an Excel export"),
}


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))
