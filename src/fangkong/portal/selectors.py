"""Reads of the portal. Staff reads are scoped (publishers and commanders of the owning unit);
public reads return only what is published (bulletins, rebuttals, articles) or active (areas)."""

from __future__ import annotations

from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Q, QuerySet

from fangkong.common.errors import NotFound
from fangkong.orgs.models import Level, OrgUnit
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import scope_roots, visible, visible_get
from fangkong.portal.models import (
    LEVEL_RANK,
    Article,
    Bulletin,
    BulletinStatus,
    ChangeKind,
    ContentStatus,
    Rebuttal,
    RiskArea,
    RiskAreaChange,
)

# --- staff -----------------------------------------------------------------------------------


def _portal_staff(actor: Any, qs: QuerySet[Any]) -> QuerySet[Any]:
    """Publishers and commanders both work on bulletins and areas (one drafts, one approves)."""
    return visible(actor, qs, perm=Perm.PORTAL_PUBLISH) | visible(actor, qs, perm=Perm.PORTAL_APPROVE)


def bulletin_list(*, actor: Any, status: str = "") -> QuerySet[Bulletin]:
    qs = _portal_staff(actor, Bulletin.objects.select_related("org_unit", "published_by"))
    return qs.filter(status=status) if status else qs


def bulletin_get(*, actor: Any, bulletin_id: int) -> Bulletin:
    found = bulletin_list(actor=actor).filter(pk=bulletin_id).first()
    if found is None:
        raise NotFound("bulletin")
    return found


def risk_area_list(*, actor: Any, active: bool | None = True) -> QuerySet[RiskArea]:
    qs = _portal_staff(actor, RiskArea.objects.select_related("org_unit"))
    return qs if active is None else qs.filter(active=active)


def risk_area_get(*, actor: Any, area_id: int) -> RiskArea:
    found = risk_area_list(actor=actor, active=None).filter(pk=area_id).first()
    if found is None:
        raise NotFound("risk area")
    return found


def risk_proposals_pending(*, actor: Any) -> QuerySet[RiskAreaChange]:
    return visible(
        actor,
        RiskAreaChange.objects.filter(kind=ChangeKind.PROPOSED, decided_at__isnull=True).select_related(
            "area__org_unit"
        ),
        perm=Perm.PORTAL_APPROVE,
    ).order_by("at", "id")


def risk_proposal_get(*, actor: Any, change_id: int) -> RiskAreaChange:
    qs = RiskAreaChange.objects.filter(kind=ChangeKind.PROPOSED).select_related("area__org_unit")
    return visible_get(actor, qs, perm=Perm.PORTAL_APPROVE, pk=change_id, what="proposal")


def rebuttal_list(*, actor: Any, q: str = "") -> QuerySet[Rebuttal]:
    qs = visible(actor, Rebuttal.objects.select_related("org_unit"), perm=Perm.PORTAL_PUBLISH)
    return _search_rebuttals(qs, q)


def rebuttal_get(*, actor: Any, rebuttal_id: int) -> Rebuttal:
    return visible_get(
        actor,
        Rebuttal.objects.select_related("org_unit"),
        perm=Perm.PORTAL_PUBLISH,
        pk=rebuttal_id,
        what="rebuttal",
    )


def article_list(*, actor: Any, q: str = "") -> QuerySet[Article]:
    qs = visible(actor, Article.objects.select_related("org_unit"), perm=Perm.PORTAL_PUBLISH)
    return _search_articles(qs, q).order_by("-updated_at", "-id")


def article_get(*, actor: Any, article_id: int) -> Article:
    return visible_get(
        actor,
        Article.objects.select_related("org_unit"),
        perm=Perm.PORTAL_PUBLISH,
        pk=article_id,
        what="article",
    )


def publish_units(*, actor: Any) -> list[OrgUnit]:
    """Units a publisher may publish for (their roots first, then the districts below them)."""
    if getattr(actor, "is_superuser", False):
        roots = list(OrgUnit.objects.filter(parent__isnull=True).order_by("path"))
    else:
        roots = scope_roots(actor, Perm.PORTAL_PUBLISH)
    if not roots:
        return []
    below = (
        OrgUnit.objects.filter(level=Level.DISTRICT)
        .filter(reduce(or_, (Q(path__startswith=root.path) for root in roots)))
        .exclude(pk__in=[root.pk for root in roots])
        .order_by("path")
    )
    return roots + list(below)


def approve_units(*, actor: Any) -> QuerySet[OrgUnit]:
    """Units a commander may designate: communities and grids (and districts, streets) in scope."""
    return visible(actor, OrgUnit.objects.exclude(level=Level.CITY), perm=Perm.PORTAL_APPROVE).order_by(
        "path"
    )


# --- public ----------------------------------------------------------------------------------


def _words(q: str) -> list[str]:
    """The words of a search, separated by spaces (ASCII or ideographic)."""
    return q.replace("\u3000", " ").strip()[:100].split()[:8]


def _search(qs: QuerySet[Any], q: str, fields: tuple[str, ...]) -> QuerySet[Any]:
    """Every word must appear in one of ``fields`` (not necessarily the same one)."""
    for word in _words(q):
        qs = qs.filter(reduce(or_, (Q(**{f"{field}__icontains": word}) for field in fields)))
    return qs


def _search_rebuttals(qs: QuerySet[Rebuttal], q: str) -> QuerySet[Rebuttal]:
    return _search(qs, q, ("claim", "explanation"))


def _search_articles(qs: QuerySet[Article], q: str) -> QuerySet[Article]:
    return _search(qs, q, ("title", "summary", "body"))


def published_bulletins() -> QuerySet[Bulletin]:
    return Bulletin.objects.filter(status=BulletinStatus.PUBLISHED).order_by(
        "-for_date", "-published_at", "-id"
    )


def latest_bulletin() -> Bulletin | None:
    return published_bulletins().first()


def published_rebuttals(*, q: str = "") -> QuerySet[Rebuttal]:
    return _search_rebuttals(Rebuttal.objects.filter(status=ContentStatus.PUBLISHED), q).order_by(
        "-date", "-published_at", "-id"
    )


def published_articles(*, q: str = "") -> QuerySet[Article]:
    return _search_articles(Article.objects.filter(status=ContentStatus.PUBLISHED), q).order_by(
        "-published_at", "-id"
    )


def active_areas() -> list[RiskArea]:
    """Active areas, highest level first, then the most recent."""
    areas = list(RiskArea.objects.filter(active=True).select_related("org_unit__parent__parent"))
    return sorted(areas, key=lambda a: (-a.level_rank, -a.since.toordinal(), a.name))


def risk_geojson() -> dict[str, Any]:
    """A FeatureCollection of community and grid outlines, each with the level of the highest
    active area that is the unit itself or one of its ancestors (named places are not outlines:
    they are listed, not drawn)."""
    by_unit: dict[str, RiskArea] = {}
    for area in RiskArea.objects.filter(active=True, place="").select_related("org_unit"):
        held = by_unit.get(area.org_unit.path)
        if held is None or LEVEL_RANK.get(area.level, 0) > LEVEL_RANK.get(held.level, 0):  # type: ignore[call-overload]
            by_unit[area.org_unit.path] = area
    features = []
    units = (
        OrgUnit.objects.filter(level__in=[Level.COMMUNITY, Level.GRID], geometry__isnull=False)
        .order_by("depth", "path")
        .values("code", "name", "path", "geometry", "parent__name")
    )
    for unit in units:
        codes = unit["path"].split("/")[:-1]
        prefixes = ("/".join(codes[: i + 1]) + "/" for i in range(len(codes)))
        covering = [by_unit[prefix] for prefix in prefixes if prefix in by_unit]
        found = max(covering, key=lambda a: a.level_rank) if covering else None
        features.append(
            {
                "type": "Feature",
                "geometry": unit["geometry"],
                "properties": {
                    "code": unit["code"],
                    "name": unit["name"],
                    "parent": unit["parent__name"],
                    "level": found.level if found else None,
                    "since": found.since.isoformat() if found else None,
                    "reason": found.reason if found else None,
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}
