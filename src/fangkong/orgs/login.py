"""The staff login and the admin login, both behind one lockout (``orgs.lockout``): a growing
delay per account and address, a ceiling per address; a refused try is HTTP 429 with
``Retry-After``. The second factor comes after either (``orgs.middleware``)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from fangkong.common.context import client_address
from fangkong.orgs.lockout import login_failure_record, login_success_record, login_wait


def _refusal_text(wait: int) -> str:
    if wait < 60:
        return _("Too many failed attempts. Try again in %(s)d seconds.") % {"s": wait}
    return _("Too many failed attempts. Try again in %(m)d minutes.") % {"m": -(-wait // 60)}


def _attempt(request: HttpRequest) -> tuple[str, str]:
    return str(request.POST.get("username") or ""), client_address(request)


class LoginView(auth_views.LoginView):
    template_name = "orgs/login.html"

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        username, address = _attempt(request)
        wait = login_wait(username=username, address=address)
        if wait:
            form = self.get_form()
            form.errors.clear()
            response = self.render_to_response(
                self.get_context_data(form=form, throttled=_refusal_text(wait)), status=429
            )
            response["Retry-After"] = str(wait)
            return response
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: Any) -> HttpResponse:
        username, address = _attempt(self.request)
        login_failure_record(username=username, address=address)
        return super().form_invalid(form)

    def form_valid(self, form: Any) -> HttpResponse:
        username, address = _attempt(self.request)
        login_success_record(username=username, address=address)
        return super().form_valid(form)


@never_cache
def admin_login(request: HttpRequest) -> HttpResponse:
    """Django admin's own login, behind the same lockout: a refused try never reaches the
    password check; a POST the admin answers with a redirect logged in, any other answer failed."""
    if request.method != "POST":
        return admin.site.login(request)
    username, address = _attempt(request)
    wait = login_wait(username=username, address=address)
    if wait:
        context = {
            **admin.site.each_context(request),
            "title": _("Log in"),
            "subtitle": None,
            "app_path": request.get_full_path(),
            "username": request.user.get_username(),
            "form": AdminAuthenticationForm(request),
            "throttled": _refusal_text(wait),
        }
        response: HttpResponse = TemplateResponse(request, "orgs/admin_login.html", context, status=429)
        response["Retry-After"] = str(wait)
        return response
    response = admin.site.login(request)
    if response.status_code == 302:
        login_success_record(username=username, address=address)
    else:
        login_failure_record(username=username, address=address)
    return response
