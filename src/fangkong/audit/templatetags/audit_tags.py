"""Template filters for the audit page."""

from __future__ import annotations

from typing import Any

from django import template

from fangkong.audit.labels import action_label as _action_label

register = template.Library()


@register.filter
def action_label(action: str) -> str:
    return _action_label(action)


@register.filter
def change_lines(event: Any) -> list[str]:
    """``key: before → after`` (or ``key: value``) per changed key, for reading, not parsing."""
    before = event.before if isinstance(event.before, dict) else {}
    after = event.after if isinstance(event.after, dict) else {}
    lines = []
    for key in [*after, *(k for k in before if k not in after)]:
        if key in before:
            lines.append(f"{key}: {before.get(key) or '—'} → {after.get(key) or '—'}")
        else:
            lines.append(f"{key}: {after.get(key)}")
    return lines
