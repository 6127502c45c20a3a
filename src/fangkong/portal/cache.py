"""Caching of the public pages, invalidated on publish.

The edition number (``PublicEdition``, one row in the database) is part of every public page's
key; every service that changes what the public sees (publish, approve, withdraw, designate,
lift) adds one to it in its own transaction. Each server process may keep its own cache (the
default local-memory one): all of them read the same edition, so none serves a page older than
the last change. Only a page's content is cached, never the page shell: the shell carries the
CSRF token of the language switch, which belongs to one visitor. The key also carries the
language (``LanguageMiddleware`` sets it from a cookie) and the full path (``?q=`` and ``?page=``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from fangkong.portal.models import PublicEdition

EDITION = "portal"
PAGE_SECONDS = 600  # a safety net: the edition already invalidates on every change


def generation() -> int:
    """The current edition of the public pages (1 before anything was published)."""
    return PublicEdition.objects.filter(pk=EDITION).values_list("number", flat=True).first() or 1


def bump_generation() -> None:
    """Start a new edition, in the caller's transaction: readers see the old edition with the
    old content until it commits, then the new one with the new content."""
    with transaction.atomic():
        if not PublicEdition.objects.filter(pk=EDITION).update(number=F("number") + 1):
            try:
                with transaction.atomic():
                    PublicEdition.objects.create(key=EDITION, number=2)
            except IntegrityError:  # created by a concurrent bump
                PublicEdition.objects.filter(pk=EDITION).update(number=F("number") + 1)


KEYED_PARAMS = ("q", "page")  # the only query parameters a public page reads


def page_key(request: HttpRequest, part: str) -> str:
    """Edition, language, page and the parameters the page reads (``?q=`` normalised). Any other
    query string is ignored, so random ones cannot fill the cache or force fresh renders."""
    params = "&".join(
        f"{name}={' '.join(request.GET.get(name, '').split())[:100]}"
        for name in KEYED_PARAMS
        if request.GET.get(name)
    )
    digest = hashlib.blake2b(params.encode(), digest_size=12).hexdigest() if params else "-"
    return f"portal:{generation()}:{get_language()}:{part}:{request.path}:{digest}"


def cached_fragment(request: HttpRequest, template: str, context: Callable[[], dict[str, Any]]) -> SafeString:
    """``template`` rendered with ``context()`` (called only when the cache misses)."""
    key = page_key(request, template)
    html: str | None = cache.get(key)
    if html is None:
        html = render_to_string(template, context(), request=None)
        cache.set(key, html, timeout=PAGE_SECONDS)
    return mark_safe(html)  # noqa: S308 — our own template's output, escaped when rendered


def on_org_unit_saved(sender: Any, *, raw: bool = False, **kwargs: Any) -> None:
    """A unit created or renamed: the public pages that name units show it from the next edition."""
    if not raw:  # not while loading fixtures
        bump_generation()
