"""Protocols as data (C13): versioned TOML profiles and their loader, in pure Python.

A profile holds every rule the platform takes from the protocol in force: the close-contact
look-back, quarantine kinds, lengths and test days, secondary contacts, risk-area downgrades,
co-location thresholds, the triage of discovered people, the help-desk SLA and health-monitoring
thresholds. Two ship: ``china-9`` (Chinese national protocol, 9th edition, June 2022) and ``who-2021``.

    >>> profile = load_profile("china-9")
    >>> profile.close_contact.quarantine.days
    7

This package imports nothing from Django or the rest of fangkong.
"""

from fangkong.protocols.loader import PROFILES_DIR, ProfileError, available_profiles, load_profile
from fangkong.protocols.rules import (
    ColocationRule,
    CompanionRule,
    ContactRule,
    HelpdeskRule,
    MonitoringRule,
    Profile,
    QuarantineKind,
    QuarantineRule,
    RiskAreaRule,
    RiskLevel,
    SecondaryContactRule,
    TimelinessRule,
    TriageRule,
)

__all__ = [
    "PROFILES_DIR",
    "ColocationRule",
    "CompanionRule",
    "ContactRule",
    "HelpdeskRule",
    "MonitoringRule",
    "Profile",
    "ProfileError",
    "QuarantineKind",
    "QuarantineRule",
    "RiskAreaRule",
    "RiskLevel",
    "SecondaryContactRule",
    "TimelinessRule",
    "TriageRule",
    "available_profiles",
    "load_profile",
]
