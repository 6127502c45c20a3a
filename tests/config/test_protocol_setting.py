from pathlib import Path

from django.core.management import call_command
from django.core.management.base import SystemCheckError

from fangkong.common.checks import protocol_loads
from fangkong.common.protocol import active_profile


def test_the_setting_chooses_the_active_profile(settings):
    settings.FANGKONG_PROTOCOL = "china-9"
    assert active_profile().close_contact.lookback_days == 4
    settings.FANGKONG_PROTOCOL = "who-2021"
    assert active_profile().close_contact.lookback_days == 2
    assert active_profile().secondary_contact.tracked is False


def test_a_bad_profile_stops_the_checks_and_names_the_key(settings, tmp_path: Path):
    source = Path(active_profile().path).read_text(encoding="utf-8")
    broken = tmp_path / "broken.toml"
    broken.write_text(source.replace("lookback_days = 4", 'lookback_days = "four"'), encoding="utf-8")
    settings.FANGKONG_PROTOCOL = str(broken)
    errors = protocol_loads(None)
    assert len(errors) == 1 and "close_contact.lookback_days" in errors[0].msg
    try:
        call_command("check")
    except SystemCheckError as error:
        assert "close_contact.lookback_days" in str(error)
    else:
        raise AssertionError("the check did not fail")
