"""The page language: the user's choice from the switch, else zh-Hans."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


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
