"""The second-factor pages: the code after the password, enrolment, recovery codes, and the
admin's reset (``orgs.second_factor`` holds the rules)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import django_otp
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from fangkong.common.errors import Conflict, Invalid
from fangkong.common.views import staff_user, staff_view
from fangkong.orgs.second_factor import (
    Throttled,
    recovery_codes_regenerate,
    second_factor_check,
    second_factor_enrolled,
    second_factor_required,
    totp_enrolment_confirm,
    totp_enrolment_start,
    totp_qr_svg,
    totp_secret,
)

CODES_KEY = "second_factor_codes"
NEXT_KEY = "second_factor_next"


def _next(request: HttpRequest) -> str:
    """Where to go once passed: ``next`` if it stays on this site, else home."""
    target = str(request.POST.get("next") or request.GET.get("next") or "")
    safe = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if target and safe else reverse("home")


def _passed(request: HttpRequest, device: Any) -> None:
    """The session has passed its second factor: a new session key, then the device on it."""
    request.session.cycle_key()
    django_otp.login(request, device)


def _refused(request: HttpRequest, template: str, context: dict[str, Any], error: Throttled) -> HttpResponse:
    response = render(request, template, {**context, "error": error.text()}, status=429)
    response["Retry-After"] = str(error.wait)
    return response


@never_cache
@login_required
def verify(request: HttpRequest) -> HttpResponse:
    """The code after the password: from the authenticator app, or one recovery code."""
    user = staff_user(request)
    target = _next(request)
    if getattr(user, "is_verified", lambda: False)():
        return redirect(target)
    if not second_factor_enrolled(user):
        return redirect(f"{reverse('second-factor-setup')}?{urlencode({'next': target})}")
    request.second_factor_pending = True  # type: ignore[attr-defined]
    context: dict[str, Any] = {"next": target}
    if request.method == "POST":
        try:
            passed = second_factor_check(actor=user, token=str(request.POST.get("token", "")))
        except Throttled as error:
            return _refused(request, "orgs/second_factor_verify.html", context, error)
        except Invalid as error:
            context["error"] = error.text()
        else:
            _passed(request, passed.device)
            if passed.recovery_left is not None:
                messages.warning(
                    request,
                    _("You used a recovery code; %(n)d are left. Make new ones on your profile page.")
                    % {"n": passed.recovery_left},
                )
            return redirect(target)
    return render(request, "orgs/second_factor_verify.html", context)


@never_cache
@login_required
def setup(request: HttpRequest) -> HttpResponse:
    """Enrolment: the key as a QR code and as text; a code from the app confirms it."""
    user = staff_user(request)
    target = _next(request)
    try:
        device = totp_enrolment_start(actor=user)
    except Conflict as error:
        messages.info(request, error.text())
        return redirect(target)
    required = second_factor_required(user)
    request.second_factor_pending = required  # type: ignore[attr-defined]
    context: dict[str, Any] = {
        "next": target,
        "qr": totp_qr_svg(device),
        "secret": totp_secret(device),
        "required": required,
    }
    if request.method == "POST":
        try:
            device, codes = totp_enrolment_confirm(actor=user, token=str(request.POST.get("token", "")))
        except Throttled as error:
            return _refused(request, "orgs/second_factor_setup.html", context, error)
        except (Invalid, Conflict) as error:
            context["error"] = error.text()
        else:
            _passed(request, device)
            request.session[CODES_KEY] = codes
            request.session[NEXT_KEY] = target
            return redirect("recovery-codes")
    return render(request, "orgs/second_factor_setup.html", context)


@never_cache
@staff_view
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """New recovery codes, shown once (after enrolment or after making new ones)."""
    codes = request.session.pop(CODES_KEY, None)
    if not codes:
        return redirect("profile")
    target = request.session.pop(NEXT_KEY, None) or reverse("profile")
    return render(request, "orgs/second_factor_codes.html", {"codes": codes, "next": target})


@require_POST
@staff_view
def recovery_codes_new(request: HttpRequest) -> HttpResponse:
    try:
        request.session[CODES_KEY] = recovery_codes_regenerate(actor=staff_user(request))
    except Conflict as error:
        messages.error(request, error.text())
        return redirect("profile")
    messages.success(request, _("New recovery codes made; the old ones no longer work."))
    return redirect("recovery-codes")
