from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def get_item(row: dict[str, Any], key: str) -> Any:
    """``row[key]`` in a template (table cells by column name)."""
    return row.get(key)
