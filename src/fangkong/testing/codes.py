"""The resident's 核酸码: a signed code that names a person without any personal data.

A code is ``FK`` followed by a signed, timestamped register number (Django's signing, its own
salt), so a collector's scan finds the person without a name, ID number or phone travelling in
the code. A code expires after :data:`CODE_DAYS` days (the portal shows a fresh one each visit);
a forged, altered or expired code names nobody.
"""

from __future__ import annotations

import segno
from django.core import signing

from fangkong.people.models import Person

SALT = "fangkong.testing.person-code"
PREFIX = "FK"
CODE_DAYS = 30
QR_ERROR = "m"


def person_code(person: Person) -> str:
    """The 核酸码 of ``person`` (a QR code on the portal, scanned at the site)."""
    return PREFIX + signing.TimestampSigner(salt=SALT).sign(signing.b62_encode(person.pk))


def person_qr_svg(*, code: str) -> str:
    """The 核酸码 as an inline SVG QR code, for the resident's phone screen.

    Always a full QR code, never a Micro QR (a collector's scanner may not read those), at error
    level M (a scratched or glary screen still reads), with the 4-module quiet zone the standard
    asks for, dark on an explicit white ground (a phone in dark mode keeps it scannable). The SVG
    has a viewBox and no size, so the page sets it; it holds only the modules, never the text.
    """
    qr = segno.make_qr(code, error=QR_ERROR)
    return qr.svg_inline(
        scale=1, border=4, dark="#000", light="#fff", omitsize=True, svgclass=None, lineclass=None
    )


def person_id_from_code(code: str) -> int | None:
    """The register number a valid, unexpired code names; None for anything else."""
    code = code.strip()
    if not code.startswith(PREFIX) or len(code) > 100:
        return None
    try:
        value = signing.TimestampSigner(salt=SALT).unsign(code[len(PREFIX) :], max_age=CODE_DAYS * 86400)
        return signing.b62_decode(value)
    except (signing.BadSignature, ValueError):
        return None


def person_from_code(code: str) -> Person | None:
    """The person a valid, unexpired code names; None for anything else."""
    pk = person_id_from_code(code)
    if pk is None:
        return None
    return (
        Person.objects.select_related("org_unit", "household").filter(pk=pk, merged_into__isnull=True).first()
    )


def people_from_codes(codes: list[str]) -> dict[str, Person]:
    """The people valid codes name, by code, in one query (an offline phone's upload)."""
    ids: dict[str, int] = {}
    signer = signing.TimestampSigner(salt=SALT)
    for code in codes:
        text = code.strip()
        if not text.startswith(PREFIX) or len(text) > 100:
            continue
        try:
            ids[code] = signing.b62_decode(signer.unsign(text[len(PREFIX) :], max_age=CODE_DAYS * 86400))
        except (signing.BadSignature, ValueError):
            continue
    people = Person.objects.filter(pk__in=set(ids.values()), merged_into__isnull=True).in_bulk()
    return {code: people[pk] for code, pk in ids.items() if pk in people}
