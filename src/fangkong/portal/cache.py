"""Caching of the public pages, invalidated on publish.

A generation number is kept in Django's cache; every service that changes what the public sees
(publish, approve, withdraw, designate, lift) bumps it, and it is part of every public page's
key, so the next request renders afresh. Only a page's content is cached, never the page shell:
the shell carries the CSRF token of the language switch, which belongs to one visitor. The key
also carries the language (``LanguageMiddleware`` sets it from a cookie) and the full path
(``?q=`` and ``?page=`` included).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

GENERATION_KEY = "portal:generation"
PAGE_SECONDS = 600  # a safety net: the generation already invalidates on every change


def generation() -> int:
    value = cache.get(GENERATION_KEY)
    if value is None:
        cache.add(GENERATION_KEY, 1, timeout=None)
        value = cache.get(GENERATION_KEY, 1)
    return int(value)


def _bump() -> None:
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # not there (evicted, or never read): any new value invalidates
        cache.set(GENERATION_KEY, generation() + 1, timeout=None)


def bump_generation() -> None:
    """Invalidate every cached public page once the current transaction commits (before that,
    a reader could cache the old content again under the new generation)."""
    transaction.on_commit(_bump)


def page_key(request: HttpRequest, part: str) -> str:
    return f"portal:{generation()}:{get_language()}:{part}:{request.get_full_path()}"


def cached_fragment(request: HttpRequest, template: str, context: Callable[[], dict[str, Any]]) -> SafeString:
    """``template`` rendered with ``context()`` (called only when the cache misses)."""
    key = page_key(request, template)
    html: str | None = cache.get(key)
    if html is None:
        html = render_to_string(template, context(), request=None)
        cache.set(key, html, timeout=PAGE_SECONDS)
    return mark_safe(html)  # noqa: S308 — our own template's output, escaped when rendered
