"""Chromium for end-to-end tests: Debian's build at /usr/bin/chromium, driven by Playwright."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Browser, Page, sync_playwright

from tests.orgs.second_factor import code_from_secret, totp_code

CHROMIUM = os.environ.get("FANGKONG_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium (make e2e-browser)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # what the Content-Security-Policy refused (an inline script or style, an eval) is a bug
    page.on(
        "console",
        lambda message: errors.append(message.text) if "Content Security Policy" in message.text else None,
    )
    yield page
    context.close()
    assert not errors, f"JavaScript errors in the page: {errors}"


def login(page: Page, base: str, username: str, password: str, *, lands: str = "/work/") -> Any:
    """Log in and wait for the landing page (the first navigation entry the role may open).

    The second step is passed as its user would: an enrolled user types the code their
    authenticator shows (computed here from the device's key); a user whose role requires a
    second factor and who has none enrols on the page (the code from the key it shows), keeps
    the recovery codes and goes on."""
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: url.startswith((f"{base}{lands}", f"{base}/accounts/second-factor/")))
    if page.url.startswith(f"{base}/accounts/second-factor/setup/"):
        secret = page.get_by_test_id("totp-secret").inner_text()
        page.get_by_test_id("second-factor-code").fill(code_from_secret(secret))
        page.get_by_test_id("second-factor-code").press("Enter")
        page.get_by_test_id("recovery-codes-done").click()
    elif page.url.startswith(f"{base}/accounts/second-factor/"):
        device = TOTPDevice.objects.get(user__username=username, confirmed=True)
        page.get_by_test_id("second-factor-code").fill(totp_code(device))
        page.get_by_test_id("second-factor-code").press("Enter")
    page.wait_for_url(f"{base}{lands}")
