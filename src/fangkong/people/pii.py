"""Personal data in free text that is about to be made public (bulletins, rebuttals, citations).

The rule: text the public will read must not carry a resident ID number or a mainland mobile
number. What looks like one is refused before it is saved, naming it masked so the writer can
find it. A resident ID counts only when its check character is right (so long statistics pass);
a mobile counts written as people write it (``138 0013 8000``, ``+86-138-0013-8000``).
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

from fangkong.common.errors import Invalid
from fangkong.people.idnumbers import check_char
from fangkong.people.masking import mask_id_number, mask_phone

RESIDENT_ID = re.compile(r"(?<![0-9A-Za-z])(\d{17})([0-9Xx])(?![0-9A-Za-z])")
# Full-width digits, X and plus as people type them on a phone, read as their ASCII forms
# (only these: the rest of the text is left as written).
_WIDE = str.maketrans({**{chr(0xFF10 + d): str(d) for d in range(10)}, "Ｘ": "X", "ｘ": "x", "＋": "+"})
MOBILE_IN_TEXT = re.compile(r"(?<![0-9])(?:\+?86[\s-]?)?(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?![0-9])")


def personal_data_in(text: str) -> list[str]:
    """Masked copies of every resident ID number and mobile number found in ``text``."""
    plain = text.translate(_WIDE)
    found: list[str] = []
    for match in RESIDENT_ID.finditer(plain):
        if check_char(match.group(1)) == match.group(2).upper():
            found.append(mask_id_number(match.group(1) + match.group(2).upper()))
            plain = plain.replace(match.group(0), " " * len(match.group(0)))
    found += [mask_phone("".join(m.groups())) for m in MOBILE_IN_TEXT.finditer(plain)]
    return found


def redact(text: str) -> str:
    """``text`` with every resident ID number and mobile number in it masked (for the audit trail,
    which keeps no plaintext PII: operators' notes often carry a number)."""
    plain = text.translate(_WIDE)

    def _id(match: re.Match[str]) -> str:
        number = match.group(1) + match.group(2).upper()
        return mask_id_number(number) if check_char(match.group(1)) == number[-1] else match.group(0)

    plain = RESIDENT_ID.sub(_id, plain)
    return MOBILE_IN_TEXT.sub(lambda m: mask_phone("".join(m.groups())), plain)


def refuse_personal_data(fields: dict[str, str]) -> None:
    """Raise ``Invalid`` naming each field whose text carries an ID number or a mobile number."""
    errors = {
        field: [
            _("Remove personal data before it is published: %(found)s looks like an ID or phone number.")
            % {"found": "、".join(found)}
        ]
        for field, text in fields.items()
        if (found := personal_data_in(text))
    }
    if errors:
        raise Invalid(errors)
