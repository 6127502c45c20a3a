"""Template filters for masked display."""

from django import template

from fangkong.people.masking import mask_name as _mask_name

register = template.Library()


@register.filter
def mask_name(value: str) -> str:
    return _mask_name(value or "")
