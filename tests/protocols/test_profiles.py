"""Protocol profiles: the shipped values, the refusal of bad files, and the date conventions."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fangkong.protocols import (
    PROFILES_DIR,
    ProfileError,
    QuarantineRule,
    available_profiles,
    load_profile,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
CHINA_9_TEXT = (PROFILES_DIR / "china-9.toml").read_text(encoding="utf-8")


def _at(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)


def _write_variant(tmp_path: Path, old: str, new: str) -> Path:
    """Write china-9 with one piece of text replaced; fail loudly if the text is not there."""
    assert CHINA_9_TEXT.count(old) == 1, f"{old!r} must occur once in china-9.toml"
    path = tmp_path / "variant.toml"
    path.write_text(CHINA_9_TEXT.replace(old, new), encoding="utf-8")
    return path


# --- the shipped profiles -------------------------------------------------------------------


def test_both_profiles_ship_and_load() -> None:
    assert available_profiles() == ["china-9", "who-2021"]
    for name in available_profiles():
        profile = load_profile(name)
        assert profile.name == name
        assert profile.timezone == "Asia/Shanghai"
        assert "day after the last exposure" in profile.day_one_convention


def test_china_9_close_contacts_get_7_days_centralised_then_3_days_home_monitoring() -> None:
    rule = load_profile("china-9").close_contact
    assert rule.lookback_days == 4
    assert (rule.quarantine.kind, rule.quarantine.days, rule.quarantine.test_days) == (
        "centralised",
        7,
        (1, 2, 3, 5, 7),
    )
    assert rule.follow_on is not None
    assert (rule.follow_on.kind, rule.follow_on.days, rule.follow_on.test_days) == (
        "home_health_monitoring",
        3,
        (3,),
    )
    assert rule.stages == (rule.quarantine, rule.follow_on)


def test_china_9_other_rules() -> None:
    profile = load_profile("china-9")
    secondary = profile.secondary_contact
    assert secondary.tracked is True
    assert secondary.quarantine is not None
    assert (secondary.quarantine.kind, secondary.quarantine.days, secondary.quarantine.test_days) == (
        "home",
        7,
        (1, 4, 7),
    )
    assert (profile.risk_area.high_to_medium_days, profile.risk_area.medium_to_low_days) == (7, 3)
    coloc = profile.colocation
    assert (coloc.cell_size_m, coloc.min_costay_minutes, coloc.lookback_days) == (800, 10, 14)
    assert coloc.min_costay == timedelta(minutes=10)
    assert (profile.helpdesk.sla_urgent_minutes, profile.helpdesk.sla_normal_minutes) == (30, 120)
    assert profile.monitoring.fever_celsius == 37.3
    assert profile.monitoring.check_deadline == time(20, 0)


def test_who_2021_is_14_days_home_with_a_2_day_lookback_and_no_secondary_contacts() -> None:
    profile = load_profile("who-2021")
    rule = profile.close_contact
    assert rule.lookback_days == 2
    assert (rule.quarantine.kind, rule.quarantine.days) == ("home", 14)
    assert rule.follow_on is None
    assert rule.stages == (rule.quarantine,)
    assert profile.secondary_contact.tracked is False
    assert profile.secondary_contact.quarantine is None


def test_china_9_triage_proposes_venues_and_long_daytime_and_follows_companions_three_days_two_tests() -> (
    None
):
    triage = load_profile("china-9").triage
    assert (triage.close_venue_minutes, triage.close_daytime_minutes) == (0, 120)
    assert (triage.day_start, triage.day_end) == (time(7, 0), time(22, 0))
    companion = triage.companion
    assert (companion.notified, companion.within_days, companion.test_days, companion.tests) == (
        True,
        3,
        (1, 3),
        2,
    )
    # day 1 is the day after the notice, counted in Shanghai time
    assert companion.test_dates(_at(2022, 6, 10, 23, 59)) == [date(2022, 6, 11), date(2022, 6, 13)]
    assert companion.test_dates(datetime(2022, 6, 10, 16, 30, tzinfo=UTC)) == [
        date(2022, 6, 12),
        date(2022, 6, 14),
    ]


def test_who_2021_triage_uses_15_minutes_and_asks_companions_to_self_monitor() -> None:
    triage = load_profile("who-2021").triage
    assert (triage.close_venue_minutes, triage.close_daytime_minutes) == (15, 15)
    assert (triage.companion.notified, triage.companion.within_days, triage.companion.tests) == (False, 14, 0)
    assert triage.companion.test_dates(_at(2022, 6, 10, 9)) == []


def test_daytime_is_an_overlap_wholly_inside_the_day_window_of_one_local_day() -> None:
    triage = load_profile("china-9").triage
    assert triage.daytime_day(_at(2022, 6, 10, 7, 0), _at(2022, 6, 10, 22, 0)) == date(2022, 6, 10)
    assert triage.daytime_day(_at(2022, 6, 10, 6, 59), _at(2022, 6, 10, 9, 0)) is None
    assert triage.daytime_day(_at(2022, 6, 10, 20, 0), _at(2022, 6, 10, 22, 1)) is None
    assert triage.daytime_day(_at(2022, 6, 10, 21, 0), _at(2022, 6, 11, 8, 0)) is None  # overnight
    # 02:00 UTC is 10:00 in Shanghai
    assert triage.daytime_day(
        datetime(2022, 6, 10, 2, tzinfo=UTC), datetime(2022, 6, 10, 4, tzinfo=UTC)
    ) == date(2022, 6, 10)
    with pytest.raises(ValueError, match="start must be timezone-aware"):
        triage.daytime_day(datetime(2022, 6, 10, 10), _at(2022, 6, 10, 11))


def test_load_by_name_is_cached_and_by_path_reads_the_file(tmp_path: Path) -> None:
    assert load_profile("china-9") is load_profile("china-9")
    by_path = load_profile(PROFILES_DIR / "china-9.toml")
    assert by_path == load_profile(str(PROFILES_DIR / "china-9.toml"))
    assert by_path.close_contact == load_profile("china-9").close_contact
    copy = tmp_path / "mine.toml"
    copy.write_text(CHINA_9_TEXT.replace("lookback_days = 4", "lookback_days = 5"), encoding="utf-8")
    assert load_profile(copy).close_contact.lookback_days == 5


def test_unknown_profile_name_is_refused_with_the_available_names() -> None:
    with pytest.raises(ProfileError, match="no such profile; available: china-9, who-2021"):
        load_profile("china-10")


def test_missing_file_and_invalid_toml_name_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "absent.toml"
    with pytest.raises(ProfileError, match="no such file") as excinfo:
        load_profile(missing)
    assert str(missing) in str(excinfo.value)
    broken = tmp_path / "broken.toml"
    broken.write_text("[profile\nname = 1\n", encoding="utf-8")
    with pytest.raises(ProfileError, match="is not valid TOML") as excinfo:
        load_profile(broken)
    assert str(broken) in str(excinfo.value)


# --- bad files ------------------------------------------------------------------------------

BAD_FILES = [
    pytest.param("lookback_days = 4\n", "", "close_contact.lookback_days", "is missing", id="missing-key"),
    pytest.param(
        "lookback_days = 4",
        'lookback_days = "4"',
        "close_contact.lookback_days",
        "must be an integer",
        id="str",
    ),
    pytest.param(
        "lookback_days = 4", "lookback_days = true", "close_contact.lookback_days", "not a boolean", id="bool"
    ),
    pytest.param(
        "lookback_days = 4", "lookback_days = 4.0", "close_contact.lookback_days", "not a number", id="float"
    ),
    pytest.param(
        "lookback_days = 4",
        "lookback_days = -1",
        "close_contact.lookback_days",
        "must not be negative",
        id="neg",
    ),
    pytest.param(
        'kind = "centralised"\ndays = 7',
        'kind = "centralised"\ndays = -7',
        "close_contact.quarantine.days",
        "must be at least 1",
        id="negative-quarantine-days",
    ),
    pytest.param(
        "lookback_days = 4",
        "lookback_days = 4\nlookback_hours = 3",
        "close_contact.lookback_hours",
        "is not a known key",
        id="unknown-key",
    ),
    pytest.param(
        'check_deadline = "20:00"',
        'check_deadline = "20:00"\n\n[extra]\nx = 1',
        "extra",
        "is not a known key",
        id="unknown-table",
    ),
    pytest.param(
        "test_days = [1, 2, 3, 5, 7]",
        "test_days = [1, 2, 3, 5, 8]",
        "close_contact.quarantine.test_days",
        "day 8 is outside the 7-day",
        id="test-day-after-quarantine",
    ),
    pytest.param(
        "test_days = [1, 2, 3, 5, 7]",
        "test_days = [0, 2, 3, 5, 7]",
        "close_contact.quarantine.test_days",
        "must be at least 1",
        id="test-day-zero",
    ),
    pytest.param(
        "test_days = [3]",
        "test_days = [4]",
        "close_contact.follow_on.test_days",
        "day 4 is outside",
        id="follow-on",
    ),
    pytest.param(
        "test_days = [1, 2, 3, 5, 7]",
        "test_days = [1, 3, 2]",
        "close_contact.quarantine.test_days",
        "increasing order",
        id="test-days-unordered",
    ),
    pytest.param(
        'kind = "centralised"',
        'kind = "hotel"',
        "close_contact.quarantine.kind",
        "must be one of",
        id="unknown-kind",
    ),
    pytest.param(
        'check_deadline = "20:00"', 'check_deadline = "8pm"', "monitoring.check_deadline", "HH:MM", id="8pm"
    ),
    pytest.param(
        'check_deadline = "20:00"', 'check_deadline = "24:00"', "monitoring.check_deadline", "HH:MM", id="24h"
    ),
    pytest.param(
        'check_deadline = "20:00"', 'check_deadline = "20:60"', "monitoring.check_deadline", "HH:MM", id="60m"
    ),
    pytest.param(
        'check_deadline = "20:00"',
        "check_deadline = 20:00:00",
        "monitoring.check_deadline",
        "must be a string",
        id="toml-time",
    ),
    pytest.param(
        "fever_celsius = 37.3",
        "fever_celsius = true",
        "monitoring.fever_celsius",
        "not a boolean",
        id="fever",
    ),
    pytest.param(
        'timezone = "Asia/Shanghai"',
        'timezone = "Asia/Beijing"',
        "profile.timezone",
        "not a known IANA timezone",
        id="timezone",
    ),
    pytest.param(
        "cell_size_m = 800", "cell_size_m = 0", "colocation.cell_size_m", "must be at least 1", id="zero-cell"
    ),
    pytest.param(
        '[secondary_contact.quarantine]\nkind = "home"\ndays = 7\ntest_days = [1, 4, 7]\n',
        "",
        "secondary_contact.quarantine",
        "is missing",
        id="tracked-without-quarantine",
    ),
    pytest.param(
        "tracked = true",
        "tracked = false",
        "secondary_contact.quarantine",
        "not tracked",
        id="quarantine-but-untracked",
    ),
    pytest.param(
        'title = { zh = "', 'title = { fr = "x", zh = "', "profile.title.fr", "is not a known key", id="title"
    ),
    pytest.param("[triage.companion]\n", "", "triage.companion", "is missing", id="no-companion-table"),
    pytest.param(
        "test_days = [1, 3]",
        "test_days = [1, 4]",
        "triage.companion.test_days",
        "day 4 is outside",
        id="companion-day",
    ),
    pytest.param(
        "test_days = [1, 3]",
        "test_days = [3, 1]",
        "triage.companion.test_days",
        "increasing order",
        id="companion-days-unordered",
    ),
    pytest.param(
        "within_days = 3",
        "within_days = 0",
        "triage.companion.within_days",
        "at least 1",
        id="companion-0-days",
    ),
    pytest.param(
        "notified = true", 'notified = "yes"', "triage.companion.notified", "true or false", id="notified"
    ),
    pytest.param(
        'day_ends = "22:00"',
        'day_ends = "06:00"',
        "triage.day_ends",
        "must be after day_starts",
        id="day-window",
    ),
    pytest.param(
        "close_venue_minutes = 0",
        "close_venue_minutes = -5",
        "triage.close_venue_minutes",
        "must not be negative",
        id="venue-minutes",
    ),
    pytest.param(
        "close_daytime_minutes = 120",
        "close_daytime_minutes = 0",
        "triage.close_daytime_minutes",
        "at least 1",
        id="daytime-minutes",
    ),
    pytest.param(
        "close_daytime_minutes = 120",
        "close_daytime_minutes = 120\nclose_night_minutes = 600",
        "triage.close_night_minutes",
        "is not a known key",
        id="triage-unknown-key",
    ),
]


@pytest.mark.parametrize(("old", "new", "key", "problem"), BAD_FILES)
def test_bad_profile_is_refused_naming_file_and_key(
    tmp_path: Path, old: str, new: str, key: str, problem: str
) -> None:
    path = _write_variant(tmp_path, old, new)
    with pytest.raises(ProfileError) as excinfo:
        load_profile(path)
    error = excinfo.value
    assert error.key == key
    assert str(error).startswith(f"{path}: {key}: ")
    assert problem in str(error)
    assert isinstance(error, ValueError)


def test_an_integer_fever_threshold_is_accepted_as_a_number(tmp_path: Path) -> None:
    path = _write_variant(tmp_path, "fever_celsius = 37.3", "fever_celsius = 38")
    assert load_profile(path).monitoring.fever_celsius == 38.0


# --- day 1 and the end of quarantine -----------------------------------------------------------


def test_exposure_at_2359_makes_the_next_day_day_one() -> None:
    quarantine = load_profile("china-9").close_contact.quarantine
    assert quarantine.day_one(_at(2022, 6, 10, 23, 59)) == date(2022, 6, 11)


def test_exposure_at_midnight_also_makes_the_next_day_day_one() -> None:
    quarantine = load_profile("china-9").close_contact.quarantine
    assert quarantine.day_one(_at(2022, 6, 10, 0, 0)) == date(2022, 6, 11)


def test_day_one_is_counted_in_shanghai_time_whatever_the_exposure_timezone() -> None:
    quarantine = load_profile("china-9").close_contact.quarantine
    # 16:30 UTC on 10 June is 00:30 on 11 June in Shanghai: day 1 is 12 June.
    assert quarantine.day_one(datetime(2022, 6, 10, 16, 30, tzinfo=UTC)) == date(2022, 6, 12)
    # 15:59 UTC is 23:59 in Shanghai, still 10 June.
    assert quarantine.day_one(datetime(2022, 6, 10, 15, 59, tzinfo=UTC)) == date(2022, 6, 11)


def test_china_9_dates_for_quarantine_and_follow_on_monitoring() -> None:
    rule = load_profile("china-9").close_contact
    last_exposure = _at(2022, 6, 10, 18, 0)
    assert rule.quarantine.last_day(last_exposure) == date(2022, 6, 17)
    assert rule.quarantine.planned_end(last_exposure) == _at(2022, 6, 18)
    assert rule.quarantine.test_dates(last_exposure) == [date(2022, 6, d) for d in (11, 12, 13, 15, 17)]
    assert rule.follow_on is not None
    assert rule.follow_on.day_one(last_exposure) == date(2022, 6, 18)
    assert rule.follow_on.planned_end(last_exposure) == _at(2022, 6, 21)
    assert rule.follow_on.test_dates(last_exposure) == [date(2022, 6, 20)]


def test_secondary_contact_and_who_dates() -> None:
    last_exposure = _at(2022, 6, 10, 9, 0)
    secondary = load_profile("china-9").secondary_contact.quarantine
    assert secondary is not None
    assert secondary.test_dates(last_exposure) == [date(2022, 6, 11), date(2022, 6, 14), date(2022, 6, 17)]
    who = load_profile("who-2021").close_contact.quarantine
    assert who.planned_end(last_exposure) == _at(2022, 6, 25)
    assert who.test_dates(last_exposure) == []


def test_planned_end_is_timezone_aware_in_shanghai() -> None:
    end = load_profile("china-9").close_contact.quarantine.planned_end(
        datetime(2022, 6, 10, 16, 30, tzinfo=UTC)
    )
    assert end.utcoffset() == timedelta(hours=8)
    assert end == datetime(2022, 6, 18, 16, 0, tzinfo=UTC)  # 00:00 on 19 June in Shanghai


def test_naive_datetimes_are_refused() -> None:
    profile = load_profile("china-9")
    with pytest.raises(ValueError, match="last_exposure must be timezone-aware"):
        profile.close_contact.quarantine.day_one(datetime(2022, 6, 10, 12, 0))
    with pytest.raises(ValueError, match="reference must be timezone-aware"):
        profile.close_contact.lookback_start(datetime(2022, 6, 10, 12, 0))


# --- the look-back window ---------------------------------------------------------------------


def test_lookback_opens_at_midnight_four_days_before_onset_date() -> None:
    rule = load_profile("china-9").close_contact
    onset = _at(2022, 6, 10, 15, 0)
    start = rule.lookback_start(onset)
    assert start == _at(2022, 6, 6)
    assert rule.is_within_lookback(start, onset)
    assert not rule.is_within_lookback(start - timedelta(seconds=1), onset)


def test_lookback_edge_holds_for_exposures_given_in_utc() -> None:
    rule = load_profile("who-2021").close_contact
    onset = datetime(2022, 6, 10, 17, 0, tzinfo=UTC)  # 01:00 on 11 June in Shanghai
    assert rule.lookback_start(onset) == _at(2022, 6, 9)
    assert rule.is_within_lookback(datetime(2022, 6, 8, 16, 0, tzinfo=UTC), onset)
    assert not rule.is_within_lookback(datetime(2022, 6, 8, 15, 59, 59, tzinfo=UTC), onset)


def test_lookback_end_is_checked_only_when_given() -> None:
    rule = load_profile("china-9").close_contact
    onset = _at(2022, 6, 10, 15, 0)
    isolated = _at(2022, 6, 12, 8, 0)
    after_onset = _at(2022, 6, 11, 12, 0)
    assert rule.is_within_lookback(after_onset, onset)
    assert rule.is_within_lookback(after_onset, onset, until=isolated)
    assert rule.is_within_lookback(isolated, onset, until=isolated)
    assert not rule.is_within_lookback(isolated + timedelta(seconds=1), onset, until=isolated)


# --- the other rules ------------------------------------------------------------------------


def test_risk_area_downgrades_after_the_days_without_a_new_case() -> None:
    risk = load_profile("china-9").risk_area
    assert risk.next_level("high") == "medium"
    assert risk.next_level("low") is None
    assert risk.downgrade_on("high", date(2022, 6, 1)) == date(2022, 6, 9)
    assert risk.downgrade_on("medium", date(2022, 6, 1)) == date(2022, 6, 5)
    assert risk.downgrade_on("low", date(2022, 6, 1)) is None


def test_helpdesk_and_monitoring_rules() -> None:
    profile = load_profile("china-9")
    submitted = _at(2022, 6, 10, 23, 50)
    assert profile.helpdesk.callback_due(submitted, urgent=True) == _at(2022, 6, 11, 0, 20)
    assert profile.helpdesk.callback_due(submitted, urgent=False) == _at(2022, 6, 11, 1, 50)
    assert profile.monitoring.is_fever(37.3)
    assert not profile.monitoring.is_fever(37.2)
    assert profile.monitoring.check_due(date(2022, 6, 10)) == _at(2022, 6, 10, 20, 0)


# --- properties -----------------------------------------------------------------------------

STAGES = [stage for name in ("china-9", "who-2021") for stage in load_profile(name).close_contact.stages] + [
    stage for stage in (load_profile("china-9").secondary_contact.quarantine,) if stage is not None
]


@given(
    stage=st.sampled_from(STAGES),
    last_exposure=st.datetimes(
        min_value=datetime(1950, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.timezones()
    ),
)
def test_day_one_follows_the_exposure_day_and_the_stretch_spans_its_days(
    stage: QuarantineRule, last_exposure: datetime
) -> None:
    exposure_day = last_exposure.astimezone(SHANGHAI).date()
    first = stage.day_one(last_exposure)
    assert first > exposure_day
    assert first == exposure_day + timedelta(days=1 + stage.starts_after_days)
    end = stage.planned_end(last_exposure)
    assert end.utcoffset() is not None
    assert end.time() == time(0)
    assert end - datetime.combine(first, time(0), tzinfo=SHANGHAI) == timedelta(days=stage.days)
    assert all(first <= day <= stage.last_day(last_exposure) for day in stage.test_dates(last_exposure))


def test_timeliness_targets_come_from_the_profile():
    china, who = load_profile("china-9").timeliness, load_profile("who-2021").timeliness
    assert (china.investigation_hours, china.contact_control_hours) == (24, 24)
    assert who.contact_control_hours == 72
    reported = datetime(2022, 5, 3, 23, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert china.investigation_due(reported) == datetime(2022, 5, 4, 23, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_china_9_tests_areas_by_level_in_pools_of_1_10_and_20() -> None:
    testing = load_profile("china-9").testing
    assert [testing.pool_for(level) for level in ("sealed", "controlled", "elsewhere", "unknown")] == [
        1,
        10,
        20,
        20,
    ]
    assert (testing.max_pool, testing.valid_hours[0], testing.recall_hours) == (20, 48, 6)
    assert testing.household_tubes_when_sealed


def test_a_pool_larger_than_the_maximum_is_refused_by_its_key(tmp_path: Path) -> None:
    mine = tmp_path / "mine.toml"
    mine.write_text(CHINA_9_TEXT.replace("elsewhere = 20", "elsewhere = 30"), encoding="utf-8")
    with pytest.raises(ProfileError, match=r"testing.pool_size.elsewhere: is 30, more than max_pool \(20\)"):
        load_profile(mine)
