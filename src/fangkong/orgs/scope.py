"""The one scoping function. Every selector passes its queryset through ``visible``.

A model declares ``scope_path``: the lookup from the model to its owning unit's ``path``
(``"org_unit__path"`` for most, ``"path"`` for ``OrgUnit`` itself), or a tuple of lookups when
an object belongs to more than one unit (a contact: the case's grid and the contact's own grid). An actor sees the rows owned
by the subtrees of the units where they hold a role granting ``perm``. Superusers see everything.
Objects outside scope must be answered with 404, never 403.
"""

from __future__ import annotations

from functools import reduce
from operator import or_
from typing import Any, TypeVar

from django.db.models import Model, Q, QuerySet

from fangkong.common.errors import NotFound
from fangkong.orgs.models import Membership, OrgUnit
from fangkong.orgs.roles import Perm, role_grants

M = TypeVar("M", bound=Model)


def scope_roots(actor: Any, perm: str) -> list[OrgUnit]:
    """The units whose subtrees ``actor`` may act in with ``perm`` (nested roots folded away)."""
    if not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return []
    cache = actor.__dict__.setdefault("_fangkong_memberships", None)
    if cache is None:
        cache = list(Membership.objects.filter(user=actor).select_related("org_unit"))
        actor.__dict__["_fangkong_memberships"] = cache
    units = sorted({m.org_unit.path: m.org_unit for m in cache if role_grants(m.role, perm)}.items())
    roots: list[OrgUnit] = []
    for path, unit in units:
        if not any(path.startswith(root.path) for root in roots):
            roots.append(unit)
    return roots


def visible(actor: Any, qs: QuerySet[M], *, perm: str | Perm) -> QuerySet[M]:
    """``qs`` cut down to what ``actor`` may see with ``perm``."""
    if getattr(actor, "is_superuser", False) and actor.is_active:
        return qs
    roots = scope_roots(actor, str(perm))
    if not roots:
        return qs.none()
    paths = qs.model.scope_path  # type: ignore[attr-defined]
    lookups = [f"{path}__startswith" for path in ((paths,) if isinstance(paths, str) else paths)]
    return qs.filter(reduce(or_, (Q(**{lookup: root.path}) for root in roots for lookup in lookups)))


def can(actor: Any, perm: str | Perm, unit: OrgUnit | None = None) -> bool:
    """Whether ``actor`` holds ``perm`` anywhere, or over ``unit`` when given."""
    if getattr(actor, "is_superuser", False) and actor.is_active:
        return True
    roots = scope_roots(actor, str(perm))
    if unit is None:
        return bool(roots)
    return any(unit.path.startswith(root.path) for root in roots)


def forget_memberships(actor: Any) -> None:
    """Drop the per-request membership cache after memberships change."""
    actor.__dict__.pop("_fangkong_memberships", None)


def visible_get(actor: Any, qs: QuerySet[M], *, perm: str | Perm, pk: int, what: str) -> M:
    """The object ``pk`` of ``qs`` if ``actor`` may see it with ``perm``; ``NotFound`` otherwise
    (absent and out of scope answer the same, so a 404 confirms nothing)."""
    found = visible(actor, qs, perm=perm).filter(pk=pk).first()
    if found is None:
        raise NotFound(what)
    return found
