"""``fangkong second_factor_reset USERNAME``: remove a user's authenticator and recovery codes.

For an operator at the server when the user lost their phone and their recovery codes, and no
administrator who could use the admin's action is at hand (or the administrator is that user).
Audited like the admin's action, with no actor.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from fangkong.orgs.second_factor import second_factor_reset


class Command(BaseCommand):
    help = "Reset a user's second factor (authenticator and recovery codes); they enrol again at login."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, username: str, **options: Any) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        removed = second_factor_reset(actor=None, user=user)
        self.stdout.write(
            f"Removed {removed} second-factor device(s) of {username}; they set one up again at their next login."
        )
