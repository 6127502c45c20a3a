"""Template context: the navigation, one entry per capability the user may use."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _

from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import can

NAVIGATION = [
    # (url name, label, permission, view names or namespaces that light this entry up)
    ("worklist:mine", _("My work"), Perm.WORK_VIEW, ("worklist",)),
    (
        "cases:list",
        _("Cases"),
        Perm.CASES_VIEW,
        ("cases", "contacts:case", "contacts:cluster", "contacts:import"),
    ),
    ("quarantine:orders", _("Quarantine"), Perm.QUARANTINE_VIEW, ("quarantine",)),
    (
        "quarantine:lab-due",
        _("Tests due"),
        Perm.QUARANTINE_CHANGE,
        ("quarantine:lab-due", "contacts:companion-tests"),
    ),
    ("testing:scan", _("Sampling"), Perm.TESTING_SAMPLE, ("testing:scan", "testing:tube")),
    (
        "testing:rounds",
        _("Mass testing"),
        Perm.TESTING_VIEW,
        (
            "testing:rounds",
            "testing:round",
            "testing:round-new",
            "testing:untested",
            "testing:sites",
            "testing:advisor",
        ),
    ),
    ("testing:lab", _("Tube results"), Perm.TESTING_LAB, ("testing:lab", "testing:import")),
    ("dashboard:home", _("Dashboard"), Perm.CASES_VIEW, ("dashboard",)),
    ("contacts:timeliness", _("Timeliness"), Perm.CASES_VIEW, ("contacts:timeliness",)),
    ("contacts:handoffs", _("Hand-offs"), Perm.CASES_CHANGE, ("contacts:handoffs",)),
    ("helpdesk:queue", _("Help requests"), Perm.HELPDESK_VIEW, ("helpdesk",)),
    ("volunteers:list", _("Volunteers"), Perm.VOLUNTEERS_VIEW, ("volunteers",)),
    # the portal desk: publishers draft and publish, commanders approve (one entry for either)
    ("publish:home", _("Public portal"), Perm.PORTAL_PUBLISH, ("publish",)),
    ("publish:home", _("Public portal"), Perm.PORTAL_APPROVE, ("publish",)),
    ("people:list", _("People"), Perm.PEOPLE_VIEW, ("people",)),
    ("notify:outbox", _("Text messages"), Perm.PEOPLE_VIEW, ("notify",)),
    ("orgs:tree", _("Org tree"), Perm.ORGS_VIEW, ("orgs",)),
    ("audit:list", _("Audit"), Perm.AUDIT_VIEW, ("audit",)),
]


def _lights(current: str, patterns: tuple[str, ...]) -> bool:
    return any(current == p or current.split(":")[0] == p for p in patterns)


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The menu entries the user's roles open, worked out only when a template draws the menu
    (a partial answering htmx does not)."""
    return {"navigation": SimpleLazyObject(lambda: _entries(request))}


def _entries(request: HttpRequest) -> list[dict[str, Any]]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or getattr(request, "second_factor_pending", False):
        return []  # nothing to open before the second factor is passed (``orgs.middleware``)
    current = request.resolver_match.view_name if request.resolver_match else ""
    entries: dict[str, dict[str, Any]] = {}
    exact: set[str] = set()  # entries whose own page this is (待检检测), not just their app's
    for name, label, perm, patterns in NAVIGATION:
        if name not in entries and can(user, perm):
            entries[name] = {"url": reverse(name), "label": label, "active": _lights(current, patterns)}
            if current in patterns:
                exact.add(name)
    if exact:
        for name, entry in entries.items():
            entry["active"] = name in exact
    return list(entries.values())
