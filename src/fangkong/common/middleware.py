"""The page language (the user's choice from the switch, else zh-Hans), and no caching of answers
with personal data."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.locale import LocaleMiddleware
from django.utils import translation

if TYPE_CHECKING:
    from django.http.request import _ImmutableQueryDict


class LanguageMiddleware(LocaleMiddleware):
    """zh-Hans unless the user picked another language with the switch (its cookie).

    The browser's Accept-Language is not consulted: the people who use fangkong are Chinese
    public-health and community workers, often on shared machines with English browsers.
    """

    def process_request(self, request: HttpRequest) -> None:
        choice = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        language = choice if choice in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


class NoStoreMiddleware:
    """Answers that may carry personal data are never stored by a browser or a proxy: every page
    a signed-in user sees and every API answer gets ``Cache-Control: no-store, private`` (unless
    the view set its own). The public pages without personal data stay cacheable."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        personal = request.path.startswith("/api/") or bool(user is not None and user.is_authenticated)
        if personal and not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store, private"
        return response


class NulFreeQueryMiddleware:
    """A query string never carries NUL into a filter or a search: PostgreSQL refuses it in text
    (an error 500), SQLite matches everything with it. Every page's filters read the query string
    with NUL characters dropped; the API refuses them by field instead."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/api/") and any(  # the API refuses it by field (``Search``)
            "\x00" in v for _key, values in request.GET.lists() for v in values
        ):
            cleaned = request.GET.copy()
            for key, values in request.GET.lists():
                cleaned.setlist(key, [v.replace("\x00", "") for v in values])
            cleaned._mutable = False
            request.GET = cast("_ImmutableQueryDict", cleaned)
        return self.get_response(request)
