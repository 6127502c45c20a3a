"""Writes to the org tree, memberships and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.audit.services import audit_record
from fangkong.common.errors import Invalid, NotFound, validated_save
from fangkong.orgs.models import LEVEL_ORDER, ApiToken, Level, Membership, OrgUnit
from fangkong.orgs.roles import Role
from fangkong.orgs.scope import forget_memberships

TOKEN_PREFIX = "fk_"  # noqa: S105 (a prefix, not a secret)


def unit_path(*, code: str, parent: OrgUnit | None) -> str:
    return f"{parent.path if parent else ''}{code}/"


def child_level(parent: OrgUnit | None) -> Level:
    """The level of a child of ``parent``: the tree has exactly five levels."""
    if parent is None:
        return Level.CITY
    index = LEVEL_ORDER.index(Level(parent.level))
    if index + 1 >= len(LEVEL_ORDER):
        raise Invalid.field("parent", _("A grid cannot have child units."))
    return LEVEL_ORDER[index + 1]


@transaction.atomic
def org_unit_create(*, actor: Any, code: str, name: str, parent: OrgUnit | None) -> OrgUnit:
    """Add a unit under ``parent``; its level follows from the parent's (city has no parent)."""
    unit = OrgUnit(
        code=code.strip(),
        name=name.strip(),
        parent=parent,
        level=child_level(parent),
        path=unit_path(code=code.strip(), parent=parent),
        depth=(parent.depth + 1) if parent else 0,
    )
    validated_save(unit)
    audit_record(
        actor=actor, action="orgs.unit.create", target=unit, after={"code": unit.code, "name": unit.name}
    )
    return unit


@transaction.atomic
def membership_grant(*, actor: Any, user: Any, org_unit: OrgUnit, role: Role | str) -> Membership:
    """Give ``user`` ``role`` in ``org_unit`` (granting twice is harmless)."""
    if role not in Role.values:
        raise Invalid.field("role", _("Unknown role “%(role)s”.") % {"role": role})
    membership, created = Membership.objects.get_or_create(user=user, org_unit=org_unit, role=str(role))
    if created:
        audit_record(
            actor=actor,
            action="orgs.membership.grant",
            target=membership,
            after={"user": user.username, "role": str(role)},
        )
    forget_memberships(user)
    return membership


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@transaction.atomic
def api_token_create(
    *, actor: Any, name: str, days: int | None = None, via: ApiToken | None = None
) -> tuple[ApiToken, str]:
    """A new personal token for ``actor``; returns the row and the token, shown only this once.
    Made ``via`` another token (a request authenticated by it), it ends when that one ends at the
    latest, and is revoked with it."""
    name = name.strip()
    if not name:
        raise Invalid.field("name", _("Give the token a name."))
    if len(name) > 100:
        raise Invalid.field("name", _("At most 100 characters."))
    lifetime = days if days is not None else settings.FANGKONG_API_TOKEN_DAYS
    if not 1 <= lifetime <= 366:
        raise Invalid.field("days", _("Between 1 and 366 days."))
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = timezone.now() + timedelta(days=lifetime)
    token = ApiToken.objects.create(
        user=actor,
        name=name,
        prefix=raw[:10],
        digest=_digest(raw),
        expires_at=min(expires, via.expires_at) if via is not None else expires,
        parent=via,
    )
    audit_record(
        actor=actor, action="orgs.token.create", target=token, after={"name": name, "days": lifetime}
    )
    return token, raw


@transaction.atomic
def api_token_revoke(*, actor: Any, token_id: int) -> ApiToken:
    """Revoke one of the actor's own tokens (another user's token is not found)."""
    token = ApiToken.objects.filter(user=actor, pk=token_id, revoked_at__isnull=True).first()
    if token is None:
        raise NotFound(_("No such token."))
    now = timezone.now()
    token.revoked_at = now
    token.save(update_fields=["revoked_at", "updated_at"])
    descendants, level = [], [token.pk]
    while level:  # the tokens made with it, and those made with them
        level = list(
            ApiToken.objects.filter(parent__in=level, revoked_at__isnull=True).values_list("pk", flat=True)
        )
        descendants += level
    ApiToken.objects.filter(pk__in=descendants).update(revoked_at=now, updated_at=now)
    audit_record(actor=actor, action="orgs.token.revoke", target=token, after={"with_it": len(descendants)})
    return token


def api_token_authenticate(*, raw: str) -> Any | None:
    """The active user a token belongs to, or None when it is unknown, revoked or expired (the
    token itself rides on the user as ``api_token``, for a token made with it)."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    now = timezone.now()
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=_digest(raw), revoked_at__isnull=True, expires_at__gt=now, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    setattr(token.user, "api_token", token)  # noqa: B010 - the request's token, on its user
    return token.user
