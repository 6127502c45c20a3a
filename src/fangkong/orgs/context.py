"""Template context: the navigation, one entry per capability the user may use."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import can

NAVIGATION = [
    ("worklist:mine", _("My work"), Perm.WORK_VIEW),
    ("cases:list", _("Cases"), Perm.CASES_VIEW),
    ("quarantine:orders", _("Quarantine"), Perm.QUARANTINE_VIEW),
    ("contacts:timeliness", _("Timeliness"), Perm.CASES_VIEW),
    ("people:list", _("People"), Perm.PEOPLE_VIEW),
    ("orgs:tree", _("Org tree"), Perm.ORGS_VIEW),
    ("audit:list", _("Audit"), Perm.AUDIT_VIEW),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"navigation": []}
    current = request.resolver_match.view_name if request.resolver_match else ""
    entries = [
        {"url": reverse(name), "label": label, "active": current.split(":")[0] == name.split(":")[0]}
        for name, label, perm in NAVIGATION
        if can(user, perm)
    ]
    return {"navigation": entries}
