"""Reads of mass testing, through the scoping function."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from fangkong.common.errors import NotFound
from fangkong.common.masking import mask_name
from fangkong.orgs.models import OrgUnit
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import scope_roots, visible, visible_get
from fangkong.portal.models import RiskArea, RiskLevel
from fangkong.testing.models import (
    AreaLevel,
    Recall,
    ReportStatus,
    Round,
    SamplingSite,
    TransferBox,
    Tube,
    TubeMember,
    TubeResult,
    TubeResultImport,
    TubeStatus,
)


def sites_for_sampling(*, actor: Any) -> QuerySet[SamplingSite]:
    """The open sites where the actor samples: those of their communities, and for a grid
    worker the sites of the community their grid lies in (re-samples at the door)."""
    sites = SamplingSite.objects.filter(active=True).select_related("org_unit")
    if getattr(actor, "is_superuser", False):
        return sites
    roots = scope_roots(actor, Perm.TESTING_SAMPLE)
    if not roots:
        return sites.none()
    above = {root.path[: i + 1] for root in roots for i, ch in enumerate(root.path) if ch == "/"}
    inside = [Q(org_unit__path__startswith=root.path) for root in roots]
    return sites.filter(Q(org_unit__path__in=above) | reduce(or_, inside))


def tubes_open(*, site: SamplingSite, round: Round) -> QuerySet[Tube]:
    """The site's tubes of the round still open (a collector goes back to one), newest first."""
    return Tube.objects.filter(site=site, round=round, status=TubeStatus.OPEN).order_by("-id")


def rounds_under_way(*, site: SamplingSite) -> list[Round]:
    """The rounds whose areas include the site and whose window is open now, or closed within a
    day (its positive pools' members are still re-sampled): latest first."""
    now = timezone.now()
    rounds = Round.objects.filter(starts_at__lte=now, ends_at__gte=now - timedelta(days=1)).prefetch_related(
        "areas__org_unit"
    )
    return [r for r in rounds if any(site.org_unit.path.startswith(a.org_unit.path) for a in r.areas.all())]


def _rounds_seen(actor: Any) -> QuerySet[Round]:
    """Rounds over the actor's area: run by a unit above them (a city's round reaches its grid
    workers) or inside it."""
    qs = Round.objects.select_related("org_unit")
    if getattr(actor, "is_superuser", False) and actor.is_active:
        return qs
    condition = Q(pk__in=[])
    for root in scope_roots(actor, str(Perm.TESTING_VIEW)):
        above = [root.path[: i + 1] for i, ch in enumerate(root.path) if ch == "/"]
        condition |= Q(org_unit__path__in=above) | Q(org_unit__path__startswith=root.path)
    return qs.filter(condition)


def round_list(*, actor: Any) -> QuerySet[Round]:
    return _rounds_seen(actor).order_by("-starts_at", "-id")


def round_current(*, actor: Any) -> Round | None:
    """The round the dashboard shows: the latest to have started (a round planned for tomorrow
    does not hide today's)."""
    return round_list(actor=actor).filter(starts_at__lte=timezone.now()).first()


def round_get(*, actor: Any, round_id: int) -> Round:
    found = _rounds_seen(actor).filter(pk=round_id).first()
    if found is None:
        raise NotFound("round")
    return found


def site_get(*, actor: Any, site_id: int) -> SamplingSite:
    return visible_get(
        actor,
        SamplingSite.objects.select_related("org_unit"),
        perm=Perm.TESTING_VIEW,
        pk=site_id,
        what="site",
    )


def tube_get(*, actor: Any, tube_id: int) -> Tube:
    """A tube the actor sees (its site in their area; a grid worker's re-sample tube too)."""
    qs = Tube.objects.select_related("site__org_unit", "round")
    found = visible(actor, qs, perm=Perm.TESTING_VIEW).filter(pk=tube_id).first()
    if found is None:
        found = qs.filter(pk=tube_id, opened_by=actor).first()
    if found is None:
        raise NotFound("tube")
    return found


def tube_members(*, tube_id: int, limit: int) -> list[tuple[str, str]]:
    """The newest ``limit`` swabs of a tube as the collector sees them: (the masked name, the
    local time of the scan)."""
    rows = TubeMember.objects.filter(tube_id=tube_id).order_by("-id")
    return [
        (mask_name(name), timezone.localtime(at).strftime("%H:%M:%S"))
        for name, at in rows.values_list("person__name", "scanned_at")[:limit]
    ]


def recall_get(*, actor: Any, recall_id: int) -> Recall:
    qs = Recall.objects.select_related("person__org_unit", "pool__site", "pool__round", "case")
    return visible_get(actor, qs, perm=Perm.TESTING_VIEW, pk=recall_id, what="recall")


def recall_list(*, actor: Any, status: str = "") -> QuerySet[Recall]:
    qs = visible(
        actor, Recall.objects.select_related("person__org_unit", "pool", "case"), perm=Perm.TESTING_VIEW
    )
    return (qs.filter(status=status) if status else qs).order_by("due_at", "id")


def import_list(*, actor: Any) -> QuerySet[TubeResultImport]:
    return visible(actor, TubeResultImport.objects.defer("content"), perm=Perm.TESTING_LAB)


def import_get(*, actor: Any, import_id: int) -> TubeResultImport:
    qs = TubeResultImport.objects.select_related("created_by").defer("content")
    return visible_get(actor, qs, perm=Perm.TESTING_LAB, pk=import_id, what="tube result import")


def conflicts(*, actor: Any) -> QuerySet[TubeResult]:
    """Results that differ from their tube's, waiting for a correction."""
    qs = TubeResult.objects.filter(status=ReportStatus.CONFLICT).select_related("tube")
    return visible(actor, qs, perm=Perm.TESTING_LAB).order_by("reported_at", "id")


def report_get(*, actor: Any, report_id: int) -> TubeResult:
    qs = TubeResult.objects.select_related("tube")
    return visible_get(actor, qs, perm=Perm.TESTING_LAB, pk=report_id, what="tube result")


def boxes_in_transit(*, actor: Any) -> QuerySet[TransferBox]:
    """Boxes packed at the sites of the actor's area and not yet received, oldest first."""
    qs = TransferBox.objects.filter(received_at__isnull=True).select_related("site", "round")
    return (
        visible(actor, qs, perm=Perm.TESTING_VIEW)
        .annotate(tube_count=Count("tubes"))
        .order_by("created_at", "id")
    )


def levels_by_risk(*, communities: Sequence[OrgUnit]) -> dict[int, str]:
    """The round's level each community takes from the published risk areas (2022's rule): a
    high-risk community is sealed (封控区); a medium-risk one, and the other communities of a street
    holding a sealed one, controlled (管控区); the rest is 防范区 (``elsewhere``)."""
    risk = dict(
        RiskArea.objects.filter(active=True, place="", org_unit__in=[c.pk for c in communities]).values_list(
            "org_unit_id", "level"
        )
    )
    sealed = {c.pk for c in communities if risk.get(c.pk) == RiskLevel.HIGH}
    streets = {c.parent_id for c in communities if c.pk in sealed}
    return {
        c.pk: AreaLevel.SEALED
        if c.pk in sealed
        else AreaLevel.CONTROLLED
        if risk.get(c.pk) == RiskLevel.MEDIUM or c.parent_id in streets
        else AreaLevel.ELSEWHERE
        for c in communities
    }
