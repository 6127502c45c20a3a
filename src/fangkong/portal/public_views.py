"""Public pages of the portal: no login, mobile-first, cached until the next publish.

Each view renders its content fragment through ``cached_fragment`` (the database is read only on
a cache miss) and wraps it in the page shell, which is rendered afresh for every request because
it carries the visitor's CSRF token (the language switch).
"""

from __future__ import annotations

from typing import Any

from django.contrib.syndication.views import Feed
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import feedgenerator, timezone
from django.utils.html import linebreaks
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from fangkong.common.pagination import paginate
from fangkong.common.views import int_param, query_string
from fangkong.portal import selectors
from fangkong.portal.cache import PAGE_SECONDS, cached_fragment, page_key
from fangkong.portal.models import Article, Bulletin, Rebuttal

HOME_REBUTTALS = 5
PUBLIC_PAGE_SIZE = 10


def _page(
    request: HttpRequest, template: str, context: Any, *, title: str, meta: dict[str, str] | None = None
) -> HttpResponse:
    body = cached_fragment(request, template, context)
    return render(request, "portal/public/page.html", {"body": body, "title": title, "meta": meta or {}})


def _og(request: HttpRequest, *, title: str, description: str, kind: str = "article") -> dict[str, str]:
    """Open Graph tags for a shareable page (the text is cut to what previews show)."""
    return {
        "og:title": title[:200],
        "og:description": " ".join(description.split())[:200],
        "og:type": kind,
        "og:url": request.build_absolute_uri(request.path),
        "og:site_name": "防控 fangkong",
    }


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    def context() -> dict[str, Any]:
        areas = selectors.active_areas()
        return {
            "bulletin": selectors.latest_bulletin(),
            "areas": areas[:8],
            "area_count": len(areas),
            "rebuttals": list(selectors.published_rebuttals()[:HOME_REBUTTALS]),
        }

    return _page(request, "portal/public/_home.html", context, title=_("Epidemic information"))


@require_GET
def bulletin_list(request: HttpRequest) -> HttpResponse:
    number = int_param(request, "page", 1) or 1

    def context() -> dict[str, Any]:
        return {
            "page": paginate(selectors.published_bulletins(), page=number, size=PUBLIC_PAGE_SIZE),
            "query": "",
        }

    return _page(request, "portal/public/_bulletins.html", context, title=_("Bulletins"))


def _published(qs: Any, pk: int) -> Any:
    found = qs.filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


@require_GET
def bulletin_detail(request: HttpRequest, bulletin_id: int) -> HttpResponse:
    bulletin: Bulletin = _published(selectors.published_bulletins(), bulletin_id)
    meta = _og(request, title=bulletin.title, description=bulletin.body)
    return _page(
        request,
        "portal/public/_bulletin.html",
        lambda: {"bulletin": bulletin},
        title=bulletin.title,
        meta=meta,
    )


@require_GET
def risk_areas(request: HttpRequest) -> HttpResponse:
    return _page(
        request,
        "portal/public/_areas.html",
        lambda: {"areas": selectors.active_areas()},
        title=_("Risk areas"),
    )


@require_GET
def risk_map(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/public/map.html", {"title": _("Risk area map")})


@require_GET
def risk_geojson(request: HttpRequest) -> HttpResponse:
    key = page_key(request, "geojson")
    data = cache.get(key)
    if data is None:
        data = selectors.risk_geojson()
        cache.set(key, data, timeout=PAGE_SECONDS)
    return JsonResponse(data, content_type="application/geo+json", json_dumps_params={"ensure_ascii": False})


@require_GET
def rebuttal_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")
    number = int_param(request, "page", 1) or 1

    def context() -> dict[str, Any]:
        page = paginate(selectors.published_rebuttals(q=q), page=number, size=PUBLIC_PAGE_SIZE)
        return {"page": page, "q": q, "query": query_string(request)}

    return _page(request, "portal/public/_rebuttals.html", context, title=_("Rumour rebuttals"))


@require_GET
def rebuttal_detail(request: HttpRequest, rebuttal_id: int) -> HttpResponse:
    rebuttal: Rebuttal = _published(selectors.published_rebuttals(), rebuttal_id)
    meta = _og(request, title=rebuttal.claim, description=rebuttal.explanation)
    return _page(
        request,
        "portal/public/_rebuttal.html",
        lambda: {"rebuttal": rebuttal},
        title=rebuttal.claim,
        meta=meta,
    )


@require_GET
def article_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")
    number = int_param(request, "page", 1) or 1

    def context() -> dict[str, Any]:
        page = paginate(selectors.published_articles(q=q), page=number, size=PUBLIC_PAGE_SIZE)
        return {"page": page, "q": q, "query": query_string(request)}

    return _page(request, "portal/public/_articles.html", context, title=_("Articles"))


@require_GET
def article_detail(request: HttpRequest, article_id: int) -> HttpResponse:
    article: Article = _published(selectors.published_articles(), article_id)
    meta = _og(request, title=article.title, description=article.summary or article.body)
    return _page(
        request, "portal/public/_article.html", lambda: {"article": article}, title=article.title, meta=meta
    )


class PortalFeed(Feed):  # type: ignore[type-arg]
    """Atom feed of published bulletins and rebuttals, newest first."""

    feed_type = feedgenerator.Atom1Feed
    limit = 30

    def title(self) -> str:
        return _("Epidemic bulletins and rumour rebuttals")

    def subtitle(self) -> str:
        return _("Published by the epidemic prevention and control command")

    def link(self) -> str:
        return reverse("portal:home")

    def items(self) -> list[Bulletin | Rebuttal]:
        bulletins = list(selectors.published_bulletins()[: self.limit])
        rebuttals = list(selectors.published_rebuttals()[: self.limit])
        merged: list[Bulletin | Rebuttal] = [*bulletins, *rebuttals]
        merged.sort(key=lambda item: item.published_at or item.updated_at, reverse=True)
        return merged[: self.limit]

    def item_title(self, item: Bulletin | Rebuttal) -> str:
        if isinstance(item, Rebuttal):
            return _("Rumour: %(claim)s — %(verdict)s") % {
                "claim": item.claim,
                "verdict": item.get_verdict_display(),
            }
        return item.title

    def item_description(self, item: Bulletin | Rebuttal) -> str:
        text = item.explanation if isinstance(item, Rebuttal) else item.body
        return linebreaks(text, autoescape=True)  # HTML of the escaped text (summary type="html")

    def item_link(self, item: Bulletin | Rebuttal) -> str:
        if isinstance(item, Rebuttal):
            return reverse("portal:rebuttal", args=[item.pk])
        return reverse("portal:bulletin", args=[item.pk])

    def item_pubdate(self, item: Bulletin | Rebuttal) -> Any:
        return item.published_at or item.updated_at

    def item_updateddate(self, item: Bulletin | Rebuttal) -> Any:
        return max(item.updated_at, item.published_at or item.updated_at)

    def item_categories(self, item: Bulletin | Rebuttal) -> list[str]:
        return [_("Rebuttal") if isinstance(item, Rebuttal) else _("Bulletin")]

    def get_feed(self, obj: Any, request: HttpRequest) -> Any:
        feed = super().get_feed(obj, request)
        feed.feed["updateddate"] = feed.latest_post_date() or timezone.now()
        return feed


feed = PortalFeed()
