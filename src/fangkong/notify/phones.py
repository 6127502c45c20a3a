"""The numbers a text can reach, and their blind index (the same as a person's phone)."""

from __future__ import annotations

import re
import unicodedata

from fangkong.people.crypto import blind_index
from fangkong.people.idnumbers import InvalidNumber, normalize_mobile

INTERNATIONAL = re.compile(r"^\+[1-9]\d{7,14}$")  # E.164 outside the mainland (+852…, +44…)


def sms_number(raw: str) -> str | None:
    """``raw`` as the outbox keeps it: a mainland mobile as 11 digits, another country's mobile as
    +E.164; None for anything a text cannot reach (a landline, a typo)."""
    try:
        return normalize_mobile(raw)
    except InvalidNumber:
        number = re.sub(r"[\s\-()]", "", unicodedata.normalize("NFKC", raw).strip())
        if number.startswith("00"):
            number = "+" + number[2:]
        if INTERNATIONAL.match(number) and not number.startswith("+86"):
            return number
        return None


def phone_key(number: str) -> str:
    """The blind index of a number as ``sms_number`` gives it (equal to ``Person.phone_index``)."""
    return blind_index(number, purpose="phone")
