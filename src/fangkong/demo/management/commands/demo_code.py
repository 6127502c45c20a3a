"""``fangkong demo_code``: the current second-factor code of the demo logins.

It computes the code from the published demo key (``DEMO_TOTP_KEY``) alone, as an authenticator
app would; it reads nothing from the database, so it opens no real account. A code is accepted
once per login: to log in again as the same user, wait for the next one.
"""

from __future__ import annotations

import time
from base64 import b32decode
from typing import Any

from django.core.management.base import BaseCommand
from django_otp.oath import TOTP

from fangkong.demo.users import DEMO_TOTP_KEY


class Command(BaseCommand):
    help = "Print the current second-factor code of the demo logins (from the published demo key)."

    def handle(self, *args: Any, **options: Any) -> None:
        totp = TOTP(b32decode(DEMO_TOTP_KEY))
        now = time.time()
        totp.time = now
        left = 30 - int(now) % 30
        self.stdout.write(
            f"{totp.token():06d}  (valid for {left} more seconds; each code logs in once per user)"
        )
