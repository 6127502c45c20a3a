"""The second factor (``orgs.second_factor``, ``orgs.middleware``): who must have one, enrolment,
codes after the password, recovery codes, limits, resets; each audited. These tests log in
through the login form, so the test clients' shortcut (``tests.orgs.second_factor``) is unused."""

from __future__ import annotations

import re
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from fangkong.audit.models import AuditEvent
from fangkong.demo.users import demo_totp_key_hex
from fangkong.orgs.second_factor import (
    CODE_LIMIT,
    RECOVERY_CODES,
    second_factor_check,
    second_factor_required,
    totp_device_install,
    totp_enrolment_confirm,
    totp_enrolment_start,
)
from tests.orgs.factories import UserFactory, user_with_role
from tests.orgs.second_factor import code_from_secret, totp_code

pytestmark = pytest.mark.django_db

SETUP, VERIFY = "/accounts/second-factor/setup/", "/accounts/second-factor/"


def _login(username: str, address: str = "10.0.0.1") -> Client:
    client = Client(REMOTE_ADDR=address)
    assert (
        client.post("/accounts/login/", {"username": username, "password": "pw-for-tests-1"}).status_code
        == 302
    )
    return client


def _actions(user) -> list[str]:
    return list(
        AuditEvent.objects.filter(target_type="auth.user", target_id=str(user.pk))
        .order_by("pk")
        .values_list("action", flat=True)
    )


def _enrolled(user) -> tuple[TOTPDevice, list[str]]:
    totp_enrolment_start(actor=user)
    device = TOTPDevice.objects.get(user=user)
    return totp_enrolment_confirm(actor=user, token=totp_code(device))


def test_who_must_have_a_second_factor(tree, epidemiologist, commander, lab_user, grid_worker, admin_user):
    for user in (epidemiologist, commander, lab_user, admin_user, UserFactory(is_staff=True)):
        assert second_factor_required(user), user
    assert not second_factor_required(grid_worker)
    assert second_factor_required(user_with_role("admin", tree.street))
    assert not second_factor_required(user_with_role("publisher", tree.city))


def test_a_required_role_without_one_reaches_only_the_enrolment(epidemiologist):
    client = _login("epi")
    answer = client.get("/work/?kind=x")
    assert answer.status_code == 302 and answer["Location"] == f"{SETUP}?next=%2Fwork%2F%3Fkind%3Dx"
    assert client.get("/people/").status_code == 302
    assert client.get("/api/people/persons").status_code == 401  # the API takes the session as nobody
    assert client.get("/portal/").status_code == 200
    partial = client.get("/work/", headers={"HX-Request": "true"})
    assert partial.status_code == 204 and partial["HX-Redirect"].startswith(SETUP)
    page = client.get(SETUP).content.decode()
    assert 'data-testid="totp-secret"' in page and "<svg" in page
    assert 'href="/work/"' not in page  # no navigation before the second factor


def test_enrolment_confirms_with_a_code_then_shows_ten_recovery_codes_once(epidemiologist):
    client = _login("epi")
    page = client.get(SETUP, {"next": "/cases/"}).content.decode()
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', page).group(1)
    wrong = client.post(SETUP, {"token": "000000" if code_from_secret(secret) != "000000" else "111111"})
    assert wrong.status_code == 200 and 'data-testid="second-factor-error"' in wrong.content.decode()
    assert not TOTPDevice.objects.filter(user=epidemiologist, confirmed=True).exists()
    with time_machine.travel(timezone.now() + timezone.timedelta(seconds=2), tick=False):  # past the 1 s wait
        done = client.post(SETUP, {"token": code_from_secret(secret), "next": "/cases/"})
    assert done.status_code == 302 and done["Location"] == "/accounts/second-factor/recovery-codes/"
    codes_page = client.get(done["Location"]).content.decode()
    codes = re.findall(r'data-testid="recovery-code">(\w+)<', codes_page)
    assert len(codes) == RECOVERY_CODES == len(set(codes))
    assert 'href="/cases/"' in codes_page
    assert client.get(done["Location"])["Location"] == "/accounts/profile/"  # shown once
    assert client.get("/work/").status_code == 200
    assert _actions(epidemiologist) == [
        "orgs.second_factor.enrol_start",
        "orgs.second_factor.verify_failed",
        "orgs.second_factor.enrol",
    ]


def test_an_enrolled_user_passes_only_with_a_code_each_code_once(epidemiologist):
    device, _codes = _enrolled(epidemiologist)
    client = _login("epi")
    answer = client.get("/cases/")
    assert answer.status_code == 302 and answer["Location"] == f"{VERIFY}?next=%2Fcases%2F"
    code = totp_code(device)
    passed = client.post(VERIFY, {"token": code, "next": "/cases/"})
    assert passed.status_code == 302 and passed["Location"] == "/cases/"
    assert client.get("/cases/").status_code == 200
    again = _login("epi", "10.0.0.2")
    replay = again.post(VERIFY, {"token": code})
    assert replay.status_code == 200 and again.get("/cases/").status_code == 302
    assert "orgs.second_factor.verify" in _actions(epidemiologist)
    assert _actions(epidemiologist)[-1] == "orgs.second_factor.verify_failed"


def test_a_recovery_code_lets_in_once(epidemiologist):
    _device, codes = _enrolled(epidemiologist)
    client = _login("epi")
    typed = f" {codes[0][:4].upper()}-{codes[0][4:]} "  # as read off paper
    assert client.post(VERIFY, {"token": typed})["Location"] == "/"
    assert StaticToken.objects.filter(device__user=epidemiologist).count() == RECOVERY_CODES - 1
    event = AuditEvent.objects.filter(action="orgs.second_factor.recovery_use").get()
    assert event.after == {"left": RECOVERY_CODES - 1} and event.actor == epidemiologist
    with time_machine.travel(timezone.now() + timezone.timedelta(seconds=5), tick=False):
        other = _login("epi", "10.0.0.3")
        assert other.post(VERIFY, {"token": codes[0]}).status_code == 200
        assert other.get("/work/").status_code == 302


def test_a_wrong_code_makes_the_next_wait_and_the_user_is_capped(epidemiologist, settings):
    device, _codes = _enrolled(epidemiologist)
    client = _login("epi")
    with time_machine.travel(timezone.now(), tick=False) as clock:
        assert client.post(VERIFY, {"token": "12345a"}).status_code == 200  # a recovery-code try
        assert (
            client.post(
                VERIFY, {"token": "000000" if totp_code(device) != "000000" else "111111"}
            ).status_code
            == 200
        )
        early = client.post(VERIFY, {"token": totp_code(device)})  # the device waits 1 s
        assert early.status_code == 429 and int(early["Retry-After"]) >= 1
        clock.shift(2)
        assert client.post(VERIFY, {"token": totp_code(device)}).status_code == 302
    settings.OTP_STATIC_THROTTLE_FACTOR = 0  # the devices' own waits aside: the cap per user
    capped = _login("epi", "10.0.0.9")
    for _ in range(CODE_LIMIT - 2):
        assert capped.post(VERIFY, {"token": "zzzzzzzz"}).status_code == 200
    refused = capped.post(VERIFY, {"token": totp_code(device)})
    assert refused.status_code == 429 and capped.get("/work/").status_code == 302
    assert _actions(epidemiologist).count("orgs.second_factor.verify_failed") == CODE_LIMIT


def test_an_optional_role_goes_on_without_one_and_may_enrol(grid_worker):
    client = _login("gw_a")
    assert client.get("/work/").status_code == 200
    profile = client.get("/accounts/profile/").content.decode()
    assert f'href="{SETUP}?next=/accounts/profile/"' in profile
    _enrolled(grid_worker)
    assert _login("gw_a", "10.0.0.4").get("/work/")["Location"].startswith(VERIFY)


def test_new_recovery_codes_replace_the_old(client: Client, epidemiologist):
    _device, old = _enrolled(epidemiologist)
    client.force_login(epidemiologist)
    answer = client.post("/accounts/second-factor/recovery-codes/new/")
    new = re.findall(r'data-testid="recovery-code">(\w+)<', client.get(answer["Location"]).content.decode())
    assert len(new) == RECOVERY_CODES and not set(new) & set(old)
    assert set(
        StaticToken.objects.filter(device__user=epidemiologist).values_list("token", flat=True)
    ) == set(new)
    assert _actions(epidemiologist)[-1] == "orgs.second_factor.recovery_regenerate"


def test_an_admin_resets_a_lost_phone_and_the_user_enrols_again(client: Client, admin_user, epidemiologist):
    _enrolled(epidemiologist)
    user_client = _login("epi")
    client.force_login(admin_user)
    answer = client.post(
        "/admin/auth/user/", {"action": "reset_second_factor", "_selected_action": [epidemiologist.pk]}
    )
    assert answer.status_code == 302
    assert not TOTPDevice.objects.filter(user=epidemiologist).exists()
    assert not StaticDevice.objects.filter(user=epidemiologist).exists()
    event = AuditEvent.objects.filter(action="orgs.second_factor.reset").get()
    assert event.actor == admin_user and event.after == {"devices": 2}
    assert user_client.get("/work/")["Location"].startswith(SETUP)
    _enrolled(epidemiologist)
    out = StringIO()
    call_command("second_factor_reset", "epi", stdout=out)
    assert "Removed 2" in out.getvalue() and not TOTPDevice.objects.filter(user=epidemiologist).exists()
    assert AuditEvent.objects.filter(action="orgs.second_factor.reset", actor=None).count() == 1


def test_the_admin_site_needs_the_second_factor_too(admin_user):
    client = Client()
    assert client.post("/admin/login/", {"username": "root", "password": "pw-for-tests-1"}).status_code == 302
    answer = client.get("/admin/")
    assert answer.status_code == 302 and answer["Location"].startswith(SETUP)


def test_the_demo_code_command_opens_a_demo_login(epidemiologist):
    totp_device_install(actor=None, user=epidemiologist, key_hex=demo_totp_key_hex())
    out = StringIO()
    call_command("demo_code", stdout=out)
    code = out.getvalue().split()[0]
    assert second_factor_check(actor=epidemiologist, token=code).recovery_left is None
