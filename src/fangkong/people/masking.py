"""Masked display of PII, as lists and pages show it: 张*明, 4403**********123X, 138****5678."""

from __future__ import annotations

from fangkong.common.masking import mask_name

__all__ = ["mask_id_number", "mask_name", "mask_phone"]


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
