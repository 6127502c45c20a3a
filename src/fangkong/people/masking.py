"""Masked display of PII, as lists and pages show it: 张*明, 4403**********123X, 138****5678."""

from __future__ import annotations


def mask_name(name: str) -> str:
    """Keep the first and last character; two-character names keep the first."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_id_number(number: str) -> str:
    """Resident IDs keep the first 4 and last 4; other documents keep the last 4."""
    if len(number) == 18:
        return number[:4] + "*" * 10 + number[-4:]
    if len(number) <= 4:
        return "*" * len(number)
    return "*" * (len(number) - 4) + number[-4:]


def mask_phone(phone: str) -> str:
    if len(phone) == 11:
        return phone[:3] + "****" + phone[-4:]
    return "*" * max(0, len(phone) - 4) + phone[-4:]
