"""Identity numbers and phones: mainland resident ID (GB 11643-1999) and mainland mobiles.

Resident ID: 18 characters — 6-digit area code, 8-digit birth date (YYYYMMDD), 3-digit sequence
(odd = male, even = female), and an ISO 7064 MOD 11-2 check character (0–9 or X).
Messages are translatable; callers attach them to the field they came from.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext as _

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
MOBILE = re.compile(r"^1[3-9]\d{9}$")
EARLIEST_BIRTH = date(1900, 1, 1)


class InvalidNumber(ValueError):
    """The number is not valid; the message says why, for a person to read."""


@dataclass(frozen=True)
class ResidentId:
    number: str
    area_code: str
    birth_date: date
    sex: str  # "M" or "F"


def check_char(first17: str) -> str:
    """The MOD 11-2 check character of the first 17 digits."""
    return CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def normalize_document(raw: str) -> str:
    """A document number as it is stored, indexed and searched: compatibility forms made plain
    (NFKC: full-width digits and letters typed with a Chinese IME, ² and the like), every space
    and control character dropped, letters upper-case. It may still hold other characters
    (Arabic-Indic digits, ideographs): the validators refuse those, so that one person has one
    number, and a search for them finds nobody."""
    text = unicodedata.normalize("NFKC", raw)
    return "".join(ch for ch in text if ch.isprintable() and not ch.isspace()).upper()


normalize_resident_id = normalize_document
RESIDENT_ID = re.compile(r"[0-9]{17}[0-9X]")  # ASCII only: [0-9] is not \d
DOCUMENT = re.compile(r"[0-9A-Z]{1,32}")


def parse_resident_id(raw: str, *, today: date | None = None) -> ResidentId:
    """Validate a resident ID and derive birth date and sex from it."""
    number = normalize_resident_id(raw)
    if len(number) != 18:
        raise InvalidNumber(_("A resident ID has 18 characters; this one has %(n)d.") % {"n": len(number)})
    if not RESIDENT_ID.fullmatch(number):
        raise InvalidNumber(_("A resident ID is 17 digits followed by a digit or X."))
    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidNumber(_("Characters 7–14 are not a real date (%(d)s).") % {"d": number[6:14]}) from None
    if birth < EARLIEST_BIRTH or birth > (today or date.today()):
        raise InvalidNumber(_("The birth date %(d)s is not a possible past date.") % {"d": birth.isoformat()})
    expected = check_char(number[:17])
    if number[17] != expected:
        raise InvalidNumber(
            _("The check character should be %(c)s; the number was mistyped.") % {"c": expected}
        )
    return ResidentId(
        number=number, area_code=number[:6], birth_date=birth, sex="M" if int(number[16]) % 2 else "F"
    )


def make_resident_id(*, area_code: str, birth_date: date, sequence: int) -> str:
    """Build a valid resident ID (for the demo city and tests). ``sequence`` is 0–999."""
    first17 = f"{area_code}{birth_date:%Y%m%d}{sequence:03d}"
    return first17 + check_char(first17)


WIDE_DIGITS = str.maketrans({chr(0xFF10 + d): str(d) for d in range(10)})  # full-width digits


def normalize_mobile(raw: str) -> str:
    """A mainland mobile number as 11 digits; full-width digits are read as digits, and a leading
    +86, 0086 or 86 and spaces, dashes and brackets are dropped."""
    digits = re.sub(r"[\s\-()]", "", unicodedata.normalize("NFKC", raw).strip())
    if digits.startswith("0086"):
        digits = digits[4:]
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not MOBILE.match(digits):
        raise InvalidNumber(_("A mainland mobile number is 11 digits starting with 13–19."))
    return digits
