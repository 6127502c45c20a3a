"""Reading and checking profile files.

A profile is refused whole at the first fault, with a ``ProfileError`` naming the file and the
dotted key: a missing key, a wrong type (a bool is not an integer), a number out of range, an
unknown key, a test day outside its stretch, a bad "HH:MM" time or an unknown timezone.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from datetime import time
from functools import lru_cache
from pathlib import Path
from typing import NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fangkong.protocols.rules import (
    AREA_LEVELS,
    ColocationRule,
    CompanionRule,
    ContactRule,
    EpidemiologyRule,
    HelpdeskRule,
    MonitoringRule,
    Profile,
    QuarantineKind,
    QuarantineRule,
    RiskAreaRule,
    SecondaryContactRule,
    TestingRule,
    TimelinessRule,
    TriageRule,
)

PROFILES_DIR = Path(__file__).resolve().parent / "profiles"

_QUARANTINE_KINDS: dict[str, QuarantineKind] = {
    "centralised": "centralised",
    "home": "home",
    "home_health_monitoring": "home_health_monitoring",
}


class ProfileError(ValueError):
    """A profile file that cannot be used; the message names the file and the dotted key at fault."""

    def __init__(self, path: Path, key: str | None, problem: str) -> None:
        self.path = path
        self.key = key
        self.problem = problem
        super().__init__(f"{path}: {key}: {problem}" if key else f"{path}: {problem}")


class _Table:
    """One TOML table being read: typed getters that fail with the dotted key, and a check for leftovers."""

    def __init__(self, path: Path, data: Mapping[str, object], prefix: str = "") -> None:
        self.path = path
        self.data = data
        self.prefix = prefix
        self.read: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def fail(self, name: str, problem: str) -> NoReturn:
        raise ProfileError(self.path, self.key(name), problem)

    def has(self, name: str) -> bool:
        return name in self.data

    def value(self, name: str) -> object:
        if name not in self.data:
            self.fail(name, "is missing")
        self.read.add(name)
        return self.data[name]

    def string(self, name: str) -> str:
        value = self.value(name)
        if not isinstance(value, str):
            self.fail(name, f"must be a string, not {_type_name(value)}")
        if not value.strip():
            self.fail(name, "must not be empty")
        return value

    def boolean(self, name: str) -> bool:
        value = self.value(name)
        if not isinstance(value, bool):
            self.fail(name, f"must be true or false, not {_type_name(value)}")
        return value

    def integer(self, name: str, *, minimum: int) -> int:
        value = self.value(name)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(name, f"must be an integer, not {_type_name(value)}")
        return self._at_least(name, value, minimum)

    def number(self, name: str, *, minimum: float, maximum: float) -> float:
        value = self.value(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(name, f"must be a number, not {_type_name(value)}")
        if not minimum <= value <= maximum:
            self.fail(name, f"must be between {minimum} and {maximum}, got {value}")
        return float(value)

    def integers(self, name: str, *, minimum: int) -> tuple[int, ...]:
        value = self.value(name)
        if not isinstance(value, list):
            self.fail(name, f"must be a list of integers, not {_type_name(value)}")
        items: list[int] = []
        for item in value:
            if isinstance(item, bool) or not isinstance(item, int):
                self.fail(name, f"must be a list of integers, but holds {_type_name(item)} {item!r}")
            items.append(self._at_least(name, item, minimum))
        return tuple(items)

    def clock_time(self, name: str) -> time:
        text = self.string(name)
        hours, colon, minutes = text[:2], text[2:3], text[3:]
        if not (len(text) == 5 and colon == ":" and hours.isdigit() and minutes.isdigit()):
            self.fail(name, f'must be a time as "HH:MM", got {text!r}')
        if int(hours) > 23 or int(minutes) > 59:
            self.fail(name, f'must be a time as "HH:MM" between 00:00 and 23:59, got {text!r}')
        return time(int(hours), int(minutes))

    def table(self, name: str) -> _Table:
        value = self.value(name)
        if not isinstance(value, dict):
            self.fail(name, f"must be a table, not {_type_name(value)}")
        return _Table(self.path, value, self.key(name))

    def optional_table(self, name: str) -> _Table | None:
        return self.table(name) if self.has(name) else None

    def done(self) -> None:
        """Refuse keys that were never read: a misspelt key must not pass silently."""
        for name in self.data:
            if name not in self.read:
                self.fail(name, "is not a known key")

    def _at_least(self, name: str, value: int, minimum: int) -> int:
        if value < minimum:
            self.fail(
                name,
                f"must not be negative, got {value}"
                if minimum == 0
                else f"must be at least {minimum}, got {value}",
            )
        return value


def _type_name(value: object) -> str:
    names = {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a table",
    }
    return names.get(type(value), type(value).__name__)


def _quarantine(table: _Table, timezone: str, *, starts_after_days: int = 0) -> QuarantineRule:
    kind_text = table.string("kind")
    kind = _QUARANTINE_KINDS.get(kind_text)
    if kind is None:
        table.fail("kind", f"must be one of {', '.join(sorted(_QUARANTINE_KINDS))}, got {kind_text!r}")
    days = table.integer("days", minimum=1)
    test_days = table.integers("test_days", minimum=1)
    for day in test_days:
        if day > days:
            table.fail("test_days", f"day {day} is outside the {days}-day {kind_text} stretch")
    if list(test_days) != sorted(set(test_days)):
        table.fail("test_days", f"must be in increasing order without repeats, got {list(test_days)}")
    table.done()
    return QuarantineRule(
        kind=kind, days=days, test_days=test_days, timezone=timezone, starts_after_days=starts_after_days
    )


def _close_contact(table: _Table, timezone: str) -> ContactRule:
    lookback_days = table.integer("lookback_days", minimum=0)
    quarantine = _quarantine(table.table("quarantine"), timezone)
    follow_on_table = table.optional_table("follow_on")
    follow_on = (
        None
        if follow_on_table is None
        else _quarantine(follow_on_table, timezone, starts_after_days=quarantine.days)
    )
    table.done()
    return ContactRule(
        lookback_days=lookback_days, quarantine=quarantine, follow_on=follow_on, timezone=timezone
    )


def _secondary_contact(table: _Table, timezone: str) -> SecondaryContactRule:
    tracked = table.boolean("tracked")
    quarantine_table = table.optional_table("quarantine")
    if tracked and quarantine_table is None:
        table.fail("quarantine", "is missing (secondary contacts are tracked)")
    if not tracked and quarantine_table is not None:
        table.fail("quarantine", "is given, but secondary contacts are not tracked")
    quarantine = None if quarantine_table is None else _quarantine(quarantine_table, timezone)
    table.done()
    return SecondaryContactRule(tracked=tracked, quarantine=quarantine)


def _companion(table: _Table, timezone: str) -> CompanionRule:
    notified = table.boolean("notified")
    within_days = table.integer("within_days", minimum=1)
    test_days = table.integers("test_days", minimum=1)
    for day in test_days:
        if day > within_days:
            table.fail("test_days", f"day {day} is outside the {within_days} days a companion is followed")
    if list(test_days) != sorted(set(test_days)):
        table.fail("test_days", f"must be in increasing order without repeats, got {list(test_days)}")
    table.done()
    return CompanionRule(notified=notified, within_days=within_days, test_days=test_days, timezone=timezone)


def _triage(table: _Table, timezone: str) -> TriageRule:
    day_start = table.clock_time("day_starts")
    day_end = table.clock_time("day_ends")
    if day_end <= day_start:
        table.fail("day_ends", f"must be after day_starts ({day_start:%H:%M}), got {day_end:%H:%M}")
    close_venue_minutes = table.integer("close_venue_minutes", minimum=0)
    close_daytime_minutes = table.integer("close_daytime_minutes", minimum=1)
    companion = _companion(table.table("companion"), timezone)
    table.done()
    return TriageRule(
        day_start=day_start,
        day_end=day_end,
        close_venue_minutes=close_venue_minutes,
        close_daytime_minutes=close_daytime_minutes,
        companion=companion,
        timezone=timezone,
    )


def _timezone(table: _Table) -> str:
    name = table.string("timezone")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        table.fail("timezone", f"is not a known IANA timezone: {name!r}")
    return name


def _parse(path: Path, data: Mapping[str, object]) -> Profile:
    root = _Table(path, data)
    meta = root.table("profile")
    name = meta.string("name")
    title = meta.table("title")
    title_zh, title_en = title.string("zh"), title.string("en")
    title.done()
    version = meta.string("version")
    source = meta.string("source")
    day_one_convention = meta.string("day_one")
    timezone = _timezone(meta)
    meta.done()

    close_contact = _close_contact(root.table("close_contact"), timezone)
    secondary_contact = _secondary_contact(root.table("secondary_contact"), timezone)

    risk = root.table("risk_area")
    risk_area = RiskAreaRule(
        high_to_medium_days=risk.integer("high_to_medium_days", minimum=1),
        medium_to_low_days=risk.integer("medium_to_low_days", minimum=1),
    )
    risk.done()

    coloc = root.table("colocation")
    colocation = ColocationRule(
        cell_size_m=coloc.integer("cell_size_m", minimum=1),
        min_costay_minutes=coloc.integer("min_costay_minutes", minimum=1),
        lookback_days=coloc.integer("lookback_days", minimum=1),
        max_gap_minutes=coloc.integer("max_gap_minutes", minimum=1),
        venue_default_dwell_minutes=coloc.integer("venue_default_dwell_minutes", minimum=1),
    )
    coloc.done()

    desk = root.table("helpdesk")
    helpdesk = HelpdeskRule(
        sla_urgent_minutes=desk.integer("sla_urgent_minutes", minimum=1),
        sla_normal_minutes=desk.integer("sla_normal_minutes", minimum=1),
    )
    desk.done()

    watch = root.table("monitoring")
    monitoring = MonitoringRule(
        fever_celsius=watch.number("fever_celsius", minimum=35.0, maximum=42.0),
        check_deadline=watch.clock_time("check_deadline"),
        timezone=timezone,
    )
    watch.done()

    pace = root.table("timeliness")
    timeliness = TimelinessRule(
        investigation_hours=pace.integer("investigation_hours", minimum=1),
        contact_identification_hours=pace.integer("contact_identification_hours", minimum=1),
        contact_control_hours=pace.integer("contact_control_hours", minimum=1),
    )
    pace.done()

    disease = root.table("epidemiology")
    epidemiology = EpidemiologyRule(
        serial_interval_mean_days=disease.number("serial_interval_mean_days", minimum=1.0, maximum=30.0),
        serial_interval_sd_days=disease.number("serial_interval_sd_days", minimum=0.1, maximum=30.0),
    )
    disease.done()

    triage = _triage(root.table("triage"), timezone)
    testing = _testing(root.table("testing"))

    root.done()
    return Profile(
        name=name,
        title_zh=title_zh,
        title_en=title_en,
        version=version,
        source=source,
        day_one_convention=day_one_convention,
        timezone=timezone,
        close_contact=close_contact,
        secondary_contact=secondary_contact,
        risk_area=risk_area,
        colocation=colocation,
        helpdesk=helpdesk,
        monitoring=monitoring,
        timeliness=timeliness,
        epidemiology=epidemiology,
        triage=triage,
        testing=testing,
        path=path,
    )


def _testing(table: _Table) -> TestingRule:
    pools = table.table("pool_size")
    max_pool = table.integer("max_pool", minimum=1)
    sizes = {level: pools.integer(level, minimum=1) for level in AREA_LEVELS}
    pools.done()
    for level, size in sizes.items():
        if size > max_pool:
            table.fail(f"pool_size.{level}", f"is {size}, more than max_pool ({max_pool})")
    valid = table.integers("valid_hours", minimum=1)
    if not valid:
        table.fail("valid_hours", "must name at least one validity")
    rule = TestingRule(
        pool_size=sizes,
        household_tubes_when_sealed=table.boolean("household_tubes_when_sealed"),
        max_pool=max_pool,
        valid_hours=valid,
        recall_hours=table.integer("recall_hours", minimum=1),
    )
    table.done()
    return rule


def _load_file(path: Path) -> Profile:
    try:
        with path.open("rb") as file:
            data = tomllib.load(file)
    except FileNotFoundError:
        raise ProfileError(path, None, "no such file") from None
    except tomllib.TOMLDecodeError as error:
        raise ProfileError(path, None, f"is not valid TOML: {error}") from None
    return _parse(path, data)


def available_profiles() -> list[str]:
    """The names of the profiles shipped with fangkong, sorted."""
    return sorted(path.stem for path in PROFILES_DIR.glob("*.toml"))


@lru_cache(maxsize=16)
def _load_packaged(name: str) -> Profile:
    if name not in available_profiles():
        raise ProfileError(
            PROFILES_DIR / f"{name}.toml",
            None,
            f"no such profile; available: {', '.join(available_profiles())}",
        )
    profile = _load_file(PROFILES_DIR / f"{name}.toml")
    if profile.name != name:
        raise ProfileError(
            profile.path, "profile.name", f"must be the file's name {name!r}, got {profile.name!r}"
        )
    return profile


def load_profile(name_or_path: str | Path) -> Profile:
    """Load a profile: a shipped one by name (``"china-9"``, cached), or any file by path.

    A ``Path``, or a string holding a path separator or ending in ``.toml``, is read as a file
    (uncached, so an edited file is read again); any other string is the name of a shipped profile.
    """
    if isinstance(name_or_path, Path):
        return _load_file(name_or_path)
    if "/" in name_or_path or "\\" in name_or_path or name_or_path.endswith(".toml"):
        return _load_file(Path(name_or_path))
    return _load_packaged(name_or_path)
