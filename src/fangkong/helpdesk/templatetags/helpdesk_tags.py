"""The SLA countdown as text, the same words the page's script keeps up to date."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.simple_tag
def countdown(due: datetime, now: datetime) -> str:
    """ "12 min left" before the deadline, "5 min late" after it (whole minutes, rounded)."""
    minutes = round((due - now).total_seconds() / 60)
    if minutes < 0:
        return _("%s min late") % abs(minutes)
    return _("%s min left") % minutes
