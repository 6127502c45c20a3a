"""The second factor stands between the password and every staff page (``orgs.second_factor``).

A signed-in session that has not passed its second factor:

- if the user is enrolled, is sent to the code page (``second-factor``) for any staff page;
- else, if their role requires one, is sent to the enrolment page (``second-factor-setup``);
- else (optional, not enrolled) goes on as before.

What such a session may still open: the login and logout, the two second-factor pages, the
language switch, static files and the public pages (the portal and the self-report links). The
API treats the session as anonymous (a personal token still works). An htmx request is told to
load the page with ``HX-Redirect`` instead of swapping it in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from fangkong.orgs.second_factor import second_factor_enrolled, second_factor_required

PUBLIC_PREFIXES = ("/portal/", "/r/", "/i18n/", "/favicon.ico")


class SecondFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def _open(self, path: str) -> bool:
        static = "/" + settings.STATIC_URL.lstrip("/")
        names = ("login", "logout", "second-factor", "second-factor-setup", "admin:logout")
        return path.startswith((static, *PUBLIC_PREFIXES)) or path in {reverse(name) for name in names}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user: Any = request.user
        if not user.is_authenticated or user.is_verified() or self._open(request.path):
            return self.get_response(request)
        if second_factor_enrolled(user):
            target = "second-factor"
        elif second_factor_required(user):
            target = "second-factor-setup"
        else:
            return self.get_response(request)
        request.second_factor_pending = True  # type: ignore[attr-defined]
        if request.path.startswith("/api/"):
            request.user = AnonymousUser()
            return self.get_response(request)
        location = f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}"
        if request.headers.get("HX-Request"):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = location
            return response
        return HttpResponseRedirect(location)
