"""Passing the second factor in tests, as the user's authenticator app would.

``totp_code`` computes the code a device accepts next from its key (the current time step, or a
later one within the device's tolerance when the current one was already used: a code is
accepted once). ``second_factor_pass`` puts a passed second factor on a test client's session,
the way ``force_login`` puts a passed password there; the production rule is unchanged.
"""

from __future__ import annotations

import re
import time
from base64 import b32decode
from typing import Any

from django.contrib.auth import get_user_model
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP, hotp
from django_otp.plugins.otp_totp.models import TOTPDevice

from fangkong.orgs.second_factor import second_factor_enrolled, second_factor_required


def totp_code(device: TOTPDevice) -> str:
    """The next code ``device`` accepts (read fresh: its last used step and drift change)."""
    while True:
        device.refresh_from_db()
        now = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).t()
        step = max(now, device.last_t + 1)
        if step <= now + device.tolerance:
            return f"{hotp(device.bin_key, step, digits=device.digits):0{device.digits}d}"
        time.sleep(device.step - time.time() % device.step + 0.05)  # every near step is spent


def code_from_secret(secret: str) -> str:
    """The current code of a key as the enrolment page shows it (base32 in groups)."""
    text = secret.replace(" ", "")
    key = b32decode(text + "=" * (-len(text) % 8))
    return f"{TOTP(key).token():06d}"


def second_factor_pass(client: Client, user: Any) -> None:
    """After a test client's login: a user who must have a second factor (or has one) gets a
    confirmed authenticator if they have none, and the session is marked as passed with it."""
    user = get_user_model().objects.get(pk=user.pk)  # fresh: memberships may have changed
    if not (second_factor_required(user) or second_factor_enrolled(user)):
        return
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def form_login(client: Client, username: str, password: str) -> Any:
    """Log a test client in through the forms, as a person would: the password, then the code
    from the authenticator (enrolling first where the role requires it and there is none).
    Returns the last answer, redirects followed (``redirect_chain`` ends on the landing page)."""
    response = client.post("/accounts/login/", {"username": username, "password": password}, follow=True)
    landed = response.redirect_chain[-1][0] if response.redirect_chain else ""
    if landed.startswith("/accounts/second-factor/setup/"):
        secret = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', response.content.decode())
        assert secret is not None, "the enrolment page shows no key"
        codes = client.post(landed, {"token": code_from_secret(secret.group(1))}, follow=True)
        onward = re.search(r'href="([^"]+)" data-testid="recovery-codes-done"', codes.content.decode())
        assert onward is not None, "no recovery codes were shown"
        response = client.get(onward.group(1), follow=True)
    elif landed.startswith("/accounts/second-factor/"):
        device = TOTPDevice.objects.get(user__username=username, confirmed=True)
        response = client.post(landed, {"token": totp_code(device)}, follow=True)
    return response
