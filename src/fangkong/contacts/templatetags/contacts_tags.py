"""Template helpers of the contacts pages: a time span as a reviewer reads it, a score's band."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.contacts.models import ContactEvidence

register = template.Library()


@register.simple_tag
def time_span(start: datetime, end: datetime) -> str:
    """``12-03 14:10 – 15:40`` within one day; ``12-03 22:10 – 12-04 06:40`` when the span crosses
    midnight (local time), so an overnight stay never reads as a backwards one."""
    start, end = timezone.localtime(start), timezone.localtime(end)
    until = end.strftime("%H:%M") if start.date() == end.date() else end.strftime("%m-%d %H:%M")
    return f"{start:%m-%d %H:%M} – {until}"


@register.filter
def score_band(score: int | None) -> str:
    """The band of a proposal's score (0–100), for its colour: high, medium or low."""
    value = score or 0
    return "high" if value >= 70 else "medium" if value >= 40 else "low"


@register.simple_tag
def evidence_line(evidence: ContactEvidence) -> str:
    """One overlap as the reviewer reads it: ``湖贝餐厅 · 12-03 18:10 – 19:10 · 60 分钟`` (the place's
    name; the kind of place when a run left it unnamed, never a raw cell or coordinates)."""
    place = evidence.place or evidence.get_where_kind_display()
    minutes = _("%(m)s min") % {"m": f"{evidence.minutes:.0f}"}
    return f"{place} · {time_span(evidence.start, evidence.end)} · {minutes}"
