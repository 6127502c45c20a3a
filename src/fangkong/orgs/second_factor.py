"""The second factor: a TOTP authenticator (django-otp) with single-use recovery codes.

Rules:

- Required for superusers, staff (the Django admin) and every holder of a role in
  ``SECOND_FACTOR_ROLES`` (admin, commander, epidemiologist, lab); optional for the others.
- A user is *enrolled* when they hold a confirmed TOTP device. Enrolment makes an unconfirmed
  device (its key shown as a QR code and as text), a code from it confirms it, and
  ``RECOVERY_CODES`` single-use recovery codes are made, shown once.
- After the password, an enrolled user passes with a code from the authenticator or one recovery
  code (spent by its use); a user whose role requires it and who is not enrolled may only enrol
  (``orgs.middleware``). A code is accepted once: a second login in the same 30 s needs the next.
- Code attempts are limited twice: django-otp doubles the wait per device after each failure
  (1 s, 2 s, 4 s, …), and a user who fails ``CODE_LIMIT`` times in ``CODE_WINDOW`` is refused
  until the window ends. A refused try is not checked and not counted.
- Every enrolment, verification passed or failed, recovery-code use, regeneration and reset is
  audited, scoped to the user's highest unit.
"""

from __future__ import annotations

import math
from base64 import b32encode
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import segno
from django.contrib.auth.models import AbstractBaseUser, User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp import verify_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from fangkong.audit.services import audit_record
from fangkong.common.errors import Conflict, DomainError, Forbidden, Invalid
from fangkong.common.ratelimit import rate_count, rate_limited, retry_after
from fangkong.orgs.models import Membership, OrgUnit
from fangkong.orgs.roles import SECOND_FACTOR_ROLES

RECOVERY_CODES = 10
CODE_LIMIT = 10
CODE_WINDOW = timedelta(minutes=15)
TOTP_DIGITS = 6  # django-otp's default; recovery codes are 8 letters and digits
DEVICE_NAME = "authenticator"
RECOVERY_NAME = "recovery"


class Throttled(DomainError):
    """Too many failed codes: try again in ``wait`` seconds (HTTP 429)."""

    status = 429

    def __init__(self, wait: int) -> None:
        self.wait = max(1, wait)
        super().__init__(_("Too many wrong codes. Try again in %(s)d seconds.") % {"s": self.wait})


@dataclass(frozen=True)
class Passed:
    """A passed second factor: the device that passed it; ``recovery_left`` when a recovery code
    was spent (how many remain), else None."""

    device: TOTPDevice | StaticDevice
    recovery_left: int | None


def _memberships(user: Any) -> list[Membership]:
    """The user's memberships, from the per-request cache ``orgs.scope`` keeps (filled if empty)."""
    cache = user.__dict__.get("_fangkong_memberships")
    if cache is None:
        cache = list(Membership.objects.filter(user=user).select_related("org_unit"))
        user.__dict__["_fangkong_memberships"] = cache
    return list(cache)


def second_factor_required(user: Any) -> bool:
    """Whether ``user`` must pass a second factor (superuser, staff, or a role that requires it)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser or user.is_staff:
        return True
    return any(m.role in SECOND_FACTOR_ROLES for m in _memberships(user))


def totp_device(user: Any, *, confirmed: bool = True) -> TOTPDevice | None:
    """The user's TOTP device, confirmed (enrolled) or not yet."""
    return TOTPDevice.objects.filter(user=user, confirmed=confirmed).order_by("pk").first()


def second_factor_enrolled(user: Any) -> bool:
    return bool(TOTPDevice.objects.filter(user=user, confirmed=True).exists())


def recovery_codes_left(user: Any) -> int:
    return int(StaticToken.objects.filter(device__user=user, device__confirmed=True).count())


def totp_secret(device: TOTPDevice) -> str:
    """The key as an authenticator app takes it by hand: base32, in groups of four."""
    text = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def totp_qr_svg(device: TOTPDevice) -> str:
    """The device's ``otpauth://`` address as an inline SVG QR code (dark on white, no size)."""
    return str(
        segno.make_qr(device.config_url, error="m").svg_inline(
            scale=1, border=4, dark="#000", light="#fff", omitsize=True, svgclass=None, lineclass=None
        )
    )


def _top_unit(user: Any) -> OrgUnit | None:
    units = sorted((m.org_unit for m in _memberships(user)), key=lambda unit: unit.path)
    return units[0] if units else None


def _audit(*, actor: Any, user: Any, action: str, after: dict[str, Any] | None = None) -> None:
    audit_record(
        actor=actor, action=f"orgs.second_factor.{action}", target=user, after=after, org_unit=_top_unit(user)
    )


def _code_key(user: Any) -> str:
    return f"otp:user:{user.pk}"


def _refuse_if_throttled(user: Any, device: TOTPDevice | StaticDevice | None) -> None:
    if rate_limited(key=_code_key(user), limit=CODE_LIMIT, window=CODE_WINDOW):
        raise Throttled(retry_after(window=CODE_WINDOW))
    if device is not None:
        allowed, data = device.verify_is_allowed()
        if not allowed and data and data.get("locked_until"):
            raise Throttled(math.ceil((data["locked_until"] - timezone.now()).total_seconds()))


def _failed(*, user: Any, stage: str, method: str) -> Invalid:
    rate_count(key=_code_key(user), window=CODE_WINDOW, limit=CODE_LIMIT)
    _audit(actor=user, user=user, action="verify_failed", after={"stage": stage, "method": method})
    return Invalid.field("token", _("The code is not right."))


def _recovery_codes_make(user: Any) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def _normalised(token: str) -> str:
    return "".join(token.split()).replace("-", "").lower()[:16]


@transaction.atomic
def totp_enrolment_start(*, actor: User) -> TOTPDevice:
    """The unconfirmed device ``actor`` is enrolling (made with a fresh key the first time;
    the same one on each visit until confirmed). Refused once enrolled: a reset comes first."""
    if second_factor_enrolled(actor):
        raise Conflict(_("You are already enrolled; ask an administrator to reset your second factor."))
    device = totp_device(actor, confirmed=False)
    if device is None:
        device = TOTPDevice.objects.create(user=actor, name=DEVICE_NAME, confirmed=False)
        _audit(actor=actor, user=actor, action="enrol_start")
    return device


def totp_enrolment_confirm(*, actor: User, token: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm ``actor``'s new device with a code from it; returns the device and the recovery
    codes (shown once). A wrong code is ``Invalid`` and counts against the limit."""
    device = totp_device(actor, confirmed=False)
    if device is None:
        raise Conflict(_("Start the enrolment again: there is no authenticator waiting to be confirmed."))
    _refuse_if_throttled(actor, device)
    token = _normalised(token)
    with transaction.atomic():
        passed = token.isdigit() and verify_token(actor, device.persistent_id, token) is not None
        if passed:
            device.refresh_from_db()
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            TOTPDevice.objects.filter(user=actor).exclude(pk=device.pk).delete()
            codes = _recovery_codes_make(actor)
            _audit(actor=actor, user=actor, action="enrol", after={"recovery_codes": len(codes)})
            return device, codes
    raise _failed(user=actor, stage="enrol", method="totp")


def second_factor_check(*, actor: User, token: str) -> Passed:
    """Pass ``actor``'s second factor with a 6-digit authenticator code or a recovery code (any
    other shape). A wrong code is ``Invalid``; past the limits, ``Throttled``."""
    token = _normalised(token)
    method = "totp" if token.isdigit() and len(token) == TOTP_DIGITS else "recovery"
    device: TOTPDevice | StaticDevice | None
    if method == "totp":
        device = totp_device(actor)
    else:
        device = StaticDevice.objects.filter(user=actor, confirmed=True).first()
    _refuse_if_throttled(actor, device)
    if device is not None and token:
        with transaction.atomic():
            if verify_token(actor, device.persistent_id, token) is not None:
                left = recovery_codes_left(actor) if method == "recovery" else None
                if left is None:
                    _audit(actor=actor, user=actor, action="verify", after={"method": method})
                else:
                    _audit(actor=actor, user=actor, action="recovery_use", after={"left": left})
                return Passed(device=device, recovery_left=left)
    raise _failed(user=actor, stage="login", method=method)


@transaction.atomic
def recovery_codes_regenerate(*, actor: User) -> list[str]:
    """New recovery codes for enrolled ``actor`` (shown once); the old ones stop working."""
    if not second_factor_enrolled(actor):
        raise Conflict(_("Set up an authenticator first."))
    codes = _recovery_codes_make(actor)
    _audit(actor=actor, user=actor, action="recovery_regenerate", after={"recovery_codes": len(codes)})
    return codes


@transaction.atomic
def second_factor_reset(*, actor: User | None, user: AbstractBaseUser) -> int:
    """Remove ``user``'s authenticator and recovery codes (a lost phone); returns how many
    devices went. Their sessions fall back to the second-factor step at once; a user who must
    have one enrols again at their next page. ``actor`` None: the operator's command line."""
    if actor is not None and not actor.has_perm("auth.change_user"):
        raise Forbidden(_("Only an administrator may reset a second factor."))
    removed = TOTPDevice.objects.filter(user=user).delete()[1].get("otp_totp.TOTPDevice", 0)
    removed += StaticDevice.objects.filter(user=user).delete()[1].get("otp_static.StaticDevice", 0)
    _audit(actor=actor, user=user, action="reset", after={"devices": removed})
    return int(removed)


@transaction.atomic
def totp_device_install(*, actor: User | None, user: AbstractBaseUser, key_hex: str) -> TOTPDevice:
    """A confirmed authenticator with a known key for ``user`` (the demo's published key), unless
    they already have one, which is kept. Never for real accounts: the key is not secret."""
    device = totp_device(user)
    if device is None:
        device = TOTPDevice(user=user, name=DEVICE_NAME, confirmed=True, key=key_hex)
        device.full_clean()
        device.save()
        _audit(actor=actor, user=user, action="enrol", after={"by": "known key"})
    return device
