"""The second factor, in Chromium: an epidemiologist's first login goes to enrolment (a QR code
and the key), a code from the key confirms it and ten recovery codes are shown once; the next
login asks for a code from the authenticator, and the one after lets a recovery code in, once."""

from __future__ import annotations

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from tests.orgs.factories import user_with_role
from tests.orgs.second_factor import code_from_secret, totp_code

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _password(page: Page, base: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", "mfa.epi")
    page.fill("input[name=password]", "pw-for-tests-1")
    page.click("button[type=submit]")


def _log_out(page: Page, base: str) -> None:
    page.locator("header form[action='/accounts/logout/'] button").click()
    page.wait_for_url(f"{base}/accounts/login/")


def test_enrol_log_in_with_a_code_then_with_a_recovery_code(live_server, page: Page, tree):
    user_with_role("epidemiologist", tree.district, username="mfa.epi")
    base = live_server.url

    _password(page, base)
    page.wait_for_url(f"{base}/accounts/second-factor/setup/?next=%2F")
    expect(page.get_by_test_id("totp-qr").locator("svg")).to_be_visible()
    page.goto(f"{base}/cases/")  # nothing else opens before enrolment
    page.wait_for_url(f"{base}/accounts/second-factor/setup/?next=%2Fcases%2F")
    page.get_by_test_id("second-factor-code").fill(
        code_from_secret(page.get_by_test_id("totp-secret").inner_text())
    )
    page.get_by_test_id("second-factor-code").press("Enter")
    codes = page.get_by_test_id("recovery-code")
    expect(codes).to_have_count(10)
    recovery = codes.first.inner_text()
    page.get_by_test_id("recovery-codes-done").click()
    page.wait_for_url(f"{base}/cases/")
    _log_out(page, base)

    _password(page, base)
    page.wait_for_url(f"{base}/accounts/second-factor/?next=%2F")
    page.get_by_test_id("second-factor-code").fill(
        totp_code(TOTPDevice.objects.get(user__username="mfa.epi"))
    )
    page.get_by_test_id("second-factor-code").press("Enter")
    page.wait_for_url(f"{base}/work/")
    _log_out(page, base)

    for attempt in ("first", "second"):
        _password(page, base)
        page.wait_for_url(f"{base}/accounts/second-factor/?next=%2F")
        page.get_by_test_id("second-factor-code").fill(recovery)
        page.get_by_test_id("second-factor-code").press("Enter")
        if attempt == "first":
            page.wait_for_url(f"{base}/work/")
            expect(page.locator(".messages .warning")).to_contain_text("9")
            _log_out(page, base)
    expect(page.get_by_test_id("second-factor-error")).to_be_visible()  # spent: refused the second time
    expect(page).to_have_url(f"{base}/accounts/second-factor/?next=%2F")
