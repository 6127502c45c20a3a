"""zh-Hans is the default language: every string is translated and the shipped .mo matches the .po."""

import gettext
import re
from pathlib import Path

import fangkong

LOCALE = Path(fangkong.__file__).parent / "locale" / "zh_Hans" / "LC_MESSAGES"
ENTRY = re.compile(
    r'^(?:msgctxt "(?P<ctx>.*)"\n)?msgid "(?P<id>.*)"\n(?:msgid_plural ".*"\n)?msgstr(?:\[0\])? "(?P<str>.*)"$',
    re.M,
)


def entries() -> list[tuple[str | None, str, str]]:
    text = (LOCALE / "django.po").read_text(encoding="utf-8")
    return [(m["ctx"], m["id"], m["str"]) for m in ENTRY.finditer(text) if m["id"]]


def test_no_string_is_untranslated_or_fuzzy():
    text = (LOCALE / "django.po").read_text(encoding="utf-8")
    assert "#, fuzzy" not in text
    untranslated = [msgid for _ctx, msgid, msgstr in entries() if not msgstr]
    assert not untranslated, f"translate these in django.po (make messages): {untranslated}"
    assert len(entries()) > 250


def test_the_compiled_catalog_matches_the_po_file():
    with (LOCALE / "django.mo").open("rb") as handle:
        catalog = gettext.GNUTranslations(handle)
    stale = []
    for ctx, msgid, msgstr in entries():
        key = msgid.encode().decode("unicode_escape").encode("latin-1").decode("utf-8")
        want = msgstr.encode().decode("unicode_escape").encode("latin-1").decode("utf-8")
        got = catalog.pgettext(ctx, key) if ctx else catalog.gettext(key)
        if "%(" not in want and got != want and "\\" not in msgid:
            stale.append(msgid)
    assert not stale, f"django.mo is stale; run make messages: {stale[:5]}"
