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
    "demo.load": _("Loaded the demo city"),
    "dashboard.export": _("Exported a list (masked)"),
    "dashboard.export.unmasked": _("Exported a list with full ID numbers and phones"),
    "dashboard.export.download": _("Downloaded an Excel export"),
}


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))
