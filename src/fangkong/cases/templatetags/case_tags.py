"""How a timeline event reads: "Classification: Suspected → Confirmed"."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext_lazy as _

from fangkong.cases.models import CaseEvent, Classification, Outcome, Severity

register = template.Library()

KINDS = {
    "register": _("Registered"),
    "classification": _("Classification"),
    "severity": _("Severity"),
    "outcome": _("Outcome"),
    "details": _("Details edited"),
    "investigation.start": _("Investigation started"),
    "investigation.complete": _("Investigation completed"),
}
VALUES = {**dict(Classification.choices), **dict(Outcome.choices), **dict(Severity.choices)}


@register.filter
def event_text(event: CaseEvent) -> str:
    text = str(KINDS.get(event.kind, event.kind))
    before, after = (str(VALUES.get(v, v)) for v in (event.from_value, event.to_value))
    if before and after:
        return f"{text}: {before} → {after}"
    if after:
        return f"{text}: {after}"
    return text
