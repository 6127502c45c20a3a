"""Login with a limit on failed attempts, per address and per username (HTTP 429 past it)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from fangkong.common.context import client_address
from fangkong.common.ratelimit import rate_count, rate_limited, retry_after

WINDOW = timedelta(minutes=15)
LIMIT_PER_ADDRESS = 30
LIMIT_PER_USERNAME = 8


def _keys(request: HttpRequest) -> list[tuple[str, int]]:
    username = (request.POST.get("username") or "").strip().lower()[:150]
    return [
        (f"login:ip:{client_address(request)}", LIMIT_PER_ADDRESS),
        (f"login:user:{username}", LIMIT_PER_USERNAME),
    ]


class LoginView(auth_views.LoginView):
    template_name = "orgs/login.html"

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if any(rate_limited(key=key, limit=limit, window=WINDOW) for key, limit in _keys(request)):
            minutes = -(-retry_after(window=WINDOW) // 60)
            form = self.get_form()
            form.errors.clear()
            context = self.get_context_data(
                form=form,
                throttled=_("Too many failed attempts. Try again in %(m)d minutes.") % {"m": minutes},
            )
            response = self.render_to_response(context, status=429)
            response["Retry-After"] = str(retry_after(window=WINDOW))
            return response
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: Any) -> HttpResponse:
        for key, _limit in _keys(self.request):
            rate_count(key=key, window=WINDOW)
        return super().form_invalid(form)
