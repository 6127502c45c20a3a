"""The active protocol profile, chosen by ``settings.FANGKONG_PROTOCOL`` (env ``FANGKONG_PROTOCOL``).

Services read every number of a rule (look-back days, quarantine lengths, test days, SLAs) from
``active_profile()``, never from constants, so switching ``china-9`` ↔ ``who-2021`` changes them.
"""

from __future__ import annotations

from django.conf import settings

from fangkong.protocols import Profile, load_profile


def active_profile() -> Profile:
    """The profile named (or the TOML file given) by the setting; loads are cached by name."""
    return load_profile(settings.FANGKONG_PROTOCOL)
