"""The rules of a protocol profile, as immutable values with their date arithmetic.

Every date rule is computed in the profile's timezone (``Asia/Shanghai`` for the shipped profiles),
whatever timezone the datetimes passed in carry. Naive datetimes are refused: a moment without a
timezone has no calendar day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

QuarantineKind = Literal["centralised", "home", "home_health_monitoring"]
RiskLevel = Literal["high", "medium", "low"]

_NEXT_LEVEL: dict[RiskLevel, RiskLevel | None] = {"high": "medium", "medium": "low", "low": None}


def _local(moment: datetime, timezone: str, what: str) -> datetime:
    """Return ``moment`` in ``timezone``; refuse a naive datetime."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got {moment!r}")
    return moment.astimezone(ZoneInfo(timezone))


def _midnight(day: date, timezone: str) -> datetime:
    """Return 00:00 of ``day`` in ``timezone``."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(timezone))


@dataclass(frozen=True, slots=True)
class QuarantineRule:
    """One stretch of quarantine (隔离) or health monitoring (健康监测): its kind, length and test days.

    Day 1 is the calendar day after the last exposure, in the profile's timezone: an exposure at
    00:00 and one at 23:59 on the same day both make the next day day 1. A stretch ends at 24:00 of
    its last day. A follow-on stretch (home health monitoring after centralised quarantine) starts
    the day after the stretch before it ends; ``starts_after_days`` holds the length of what comes
    before it, so every date of every stretch is computed from the same last exposure.
    """

    kind: QuarantineKind
    days: int
    test_days: tuple[int, ...]
    timezone: str
    starts_after_days: int = 0

    def day_one(self, last_exposure: datetime) -> date:
        """The first day of this stretch for a contact last exposed at ``last_exposure``."""
        exposure_day = _local(last_exposure, self.timezone, "last_exposure").date()
        return exposure_day + timedelta(days=1 + self.starts_after_days)

    def last_day(self, last_exposure: datetime) -> date:
        """The last day of this stretch (day ``days``)."""
        return self.day_one(last_exposure) + timedelta(days=self.days - 1)

    def planned_end(self, last_exposure: datetime) -> datetime:
        """The end of the last day: 00:00 of the day after it, in the profile's timezone.

        ``planned_end - <00:00 of day_one>`` is exactly ``days`` days of wall-clock time.
        """
        return _midnight(self.last_day(last_exposure) + timedelta(days=1), self.timezone)

    def test_dates(self, last_exposure: datetime) -> list[date]:
        """The dates of this stretch's tests, in order (test day 1 is ``day_one``)."""
        first = self.day_one(last_exposure)
        return [first + timedelta(days=day - 1) for day in self.test_days]


@dataclass(frozen=True, slots=True)
class ContactRule:
    """How close contacts (密切接触者) are found and what they are ordered to do.

    The look-back window opens at 00:00 local time on the reference date minus ``lookback_days``;
    the reference is the case's symptom onset, or its sampling time for an asymptomatic case. With a
    look-back of 4 days and onset on 10 June at 15:00, the window opens on 6 June at 00:00.
    """

    lookback_days: int
    quarantine: QuarantineRule
    follow_on: QuarantineRule | None
    timezone: str

    @property
    def stages(self) -> tuple[QuarantineRule, ...]:
        """The quarantine, then the follow-on stretch where the protocol has one."""
        return (self.quarantine,) if self.follow_on is None else (self.quarantine, self.follow_on)

    def lookback_start(self, reference: datetime) -> datetime:
        """The moment the look-back window opens for a case with onset (or sampling) at ``reference``."""
        reference_day = _local(reference, self.timezone, "reference").date()
        return _midnight(reference_day - timedelta(days=self.lookback_days), self.timezone)

    def is_within_lookback(
        self, exposure: datetime, reference: datetime, *, until: datetime | None = None
    ) -> bool:
        """Whether an exposure at ``exposure`` falls in the look-back window of a case.

        The window opens at ``lookback_start(reference)`` (inclusive). It closes when the case is
        isolated, which the protocol does not fix: pass ``until`` (inclusive) to check that end too.
        """
        exposed = _local(exposure, self.timezone, "exposure")
        if exposed < self.lookback_start(reference):
            return False
        return until is None or exposed <= _local(until, self.timezone, "until")


@dataclass(frozen=True, slots=True)
class SecondaryContactRule:
    """Whether contacts of close contacts (次密接, 密接的密接) are tracked, and their quarantine."""

    tracked: bool
    quarantine: QuarantineRule | None


@dataclass(frozen=True, slots=True)
class RiskAreaRule:
    """When a risk area (风险区) may step down a level: after so many days in a row without a new case."""

    high_to_medium_days: int
    medium_to_low_days: int

    def next_level(self, level: RiskLevel) -> RiskLevel | None:
        """The level an area steps down to, or None for a low-risk area."""
        return _NEXT_LEVEL[level]

    def days_without_case(self, level: RiskLevel) -> int | None:
        """Days in a row without a new case before an area at ``level`` steps down; None for low."""
        if level == "high":
            return self.high_to_medium_days
        if level == "medium":
            return self.medium_to_low_days
        return None

    def downgrade_on(self, level: RiskLevel, last_new_case_on: date) -> date | None:
        """The first date a downgrade may be proposed, or None for a low-risk area.

        The case-free days are counted from the day after the last new case; the downgrade is due
        the day after the last of them. High (7 days) with a last case on 1 June: 2–8 June are the
        seven days, and 9 June is the date returned.
        """
        days = self.days_without_case(level)
        return None if days is None else last_new_case_on + timedelta(days=days + 1)


@dataclass(frozen=True, slots=True)
class ColocationRule:
    """Thresholds for co-location discovery (时空伴随) and venue check-ins (场所码)."""

    cell_size_m: int
    min_costay_minutes: int
    lookback_days: int
    max_gap_minutes: int
    venue_default_dwell_minutes: int

    @property
    def min_costay(self) -> timedelta:
        """The shortest overlap of two stays that counts as an exposure."""
        return timedelta(minutes=self.min_costay_minutes)

    @property
    def max_gap(self) -> timedelta:
        """The longest gap between two pings that still continues one stay."""
        return timedelta(minutes=self.max_gap_minutes)

    @property
    def venue_default_dwell(self) -> timedelta:
        """The length given to a venue visit without a check-out (never past midnight)."""
        return timedelta(minutes=self.venue_default_dwell_minutes)

    @property
    def lookback(self) -> timedelta:
        """How far back location data is searched (and kept)."""
        return timedelta(days=self.lookback_days)


@dataclass(frozen=True, slots=True)
class CompanionRule:
    """What a spatiotemporal companion (时空伴随者) is asked to do: not quarantined, but told
    (``notified``) to report and to take a test on each of ``test_days`` (三天两检: days 1 and 3
    of ``within_days`` = 3). Day 1 is the calendar day after the notice, as day 1 of a quarantine
    is the day after the last exposure; a profile without tests asks for self-monitoring only."""

    notified: bool
    within_days: int
    test_days: tuple[int, ...]
    timezone: str

    @property
    def tests(self) -> int:
        """How many tests a companion is asked to take."""
        return len(self.test_days)

    def test_dates(self, notified_at: datetime) -> list[date]:
        """The dates of the tests of a companion told at ``notified_at``, in order."""
        first = _local(notified_at, self.timezone, "notified_at").date() + timedelta(days=1)
        return [first + timedelta(days=day - 1) for day in self.test_days]


@dataclass(frozen=True, slots=True)
class TriageRule:
    """How a discovery run sorts the people it found (分级): proposed close contacts for an
    epidemiologist's review, and spatiotemporal companions (see ``CompanionRule``).

    A person is proposed as a close contact when, on one local day, they shared venue visits
    with the case for at least ``close_venue_minutes`` (0: any shared visit), or shared a cell in
    the daytime for at least ``close_daytime_minutes``. Daytime co-presence is an overlap lying
    wholly between ``day_start`` and ``day_end`` of one local day; an overlap that reaches into
    the night is two people at home in the same cell (neighbours asleep), which never proposes
    anyone. Everyone else found is a companion.
    """

    day_start: time
    day_end: time
    close_venue_minutes: int
    close_daytime_minutes: int
    companion: CompanionRule
    timezone: str

    def daytime_day(self, start: datetime, end: datetime) -> date | None:
        """The local day an overlap ``[start, end]`` lies in wholly within the daytime, or None
        when it reaches outside it (into the night, or across midnight)."""
        first = _local(start, self.timezone, "start")
        last = _local(end, self.timezone, "end")
        if first.date() != last.date():
            return None
        if first.time() < self.day_start or last.time() > self.day_end:
            return None
        return first.date()


@dataclass(frozen=True, slots=True)
class HelpdeskRule:
    """The help-request call-back SLA ("电话发我": leave your number and we call you back)."""

    sla_urgent_minutes: int
    sla_normal_minutes: int

    def callback_due(self, submitted_at: datetime, *, urgent: bool) -> datetime:
        """When the call back to a request submitted at ``submitted_at`` is due."""
        if submitted_at.tzinfo is None or submitted_at.utcoffset() is None:
            raise ValueError(f"submitted_at must be timezone-aware, got {submitted_at!r}")
        minutes = self.sla_urgent_minutes if urgent else self.sla_normal_minutes
        return submitted_at + timedelta(minutes=minutes)


@dataclass(frozen=True, slots=True)
class TimelinessRule:
    """How fast each step after a case report must be done (the timeliness KPIs, 及时)."""

    investigation_hours: int
    contact_identification_hours: int
    contact_control_hours: int

    def investigation_due(self, reported_at: datetime) -> datetime:
        """When the flow investigation of a case reported at ``reported_at`` must be complete."""
        if reported_at.tzinfo is None or reported_at.utcoffset() is None:
            raise ValueError(f"reported_at must be timezone-aware, got {reported_at!r}")
        return reported_at + timedelta(hours=self.investigation_hours)


@dataclass(frozen=True, slots=True)
class MonitoringRule:
    """Daily health checks: what counts as a fever, and when a day's check is due."""

    fever_celsius: float
    check_deadline: time
    timezone: str

    def is_fever(self, celsius: float) -> bool:
        """Whether a temperature is a fever (at or above the threshold)."""
        return celsius >= self.fever_celsius

    def check_due(self, day: date) -> datetime:
        """The moment the check for ``day`` is missing, in the profile's timezone."""
        return datetime.combine(day, self.check_deadline, tzinfo=ZoneInfo(self.timezone))


@dataclass(frozen=True, slots=True)
class EpidemiologyRule:
    """What the estimates assume of the disease: the serial interval (days from the infector's
    symptom onset to the infectee's) with which Rt is computed, as a mean and a standard deviation."""

    serial_interval_mean_days: float
    serial_interval_sd_days: float


AREA_LEVELS = ("sealed", "controlled", "elsewhere")
"""The areas of a testing round by their control level (封控区, 管控区, 防范区 and the rest)."""


@dataclass(frozen=True, slots=True)
class TestingRule:
    """Mass testing (全员核酸): the pool size by area level, the validity of a result, and how soon
    the members of a positive pool are re-sampled one by one."""

    pool_size: dict[str, int]  # by AREA_LEVELS
    household_tubes_when_sealed: bool  # in a sealed area one tube per household, not per person
    max_pool: int
    valid_hours: tuple[int, ...]  # the validities a round may name; the first is the default
    recall_hours: int  # a positive pool's members re-sampled (single tubes) within this

    def pool_for(self, level: str) -> int:
        """The tube size of an area at ``level`` (an unknown level: the largest, 防范区)."""
        return self.pool_size.get(level, self.pool_size["elsewhere"])


@dataclass(frozen=True, slots=True)
class Profile:
    """A protocol profile (防控方案): every rule the platform takes from the protocol in force."""

    name: str
    title_zh: str
    title_en: str
    version: str
    source: str
    day_one_convention: str
    timezone: str
    close_contact: ContactRule
    secondary_contact: SecondaryContactRule
    risk_area: RiskAreaRule
    colocation: ColocationRule
    helpdesk: HelpdeskRule
    monitoring: MonitoringRule
    timeliness: TimelinessRule
    epidemiology: EpidemiologyRule
    triage: TriageRule
    testing: TestingRule
    path: Path
