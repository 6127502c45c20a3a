"""Bulletins: drafted from the day's data, edited (every save a version), submitted, approved
when the setting asks for it, published, withdrawn.

Moves: draft → awaiting_approval (submit); awaiting_approval → approved (a commander with
``portal.approve``, only when ``FANGKONG_BULLETIN_APPROVAL`` is on; the status stays
awaiting_approval with ``approved_at`` set); → published (a publisher with ``portal.publish``:
from draft or awaiting_approval when no approval is required, only once approved when it is);
published → withdrawn. Anything else is a ``Conflict`` naming both states.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.audit.services import audit_record
from fangkong.common.errors import Conflict, Forbidden, Invalid
from fangkong.common.locks import serialise
from fangkong.orgs.models import OrgUnit
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import can
from fangkong.people.pii import refuse_personal_data
from fangkong.portal.cache import bump_generation
from fangkong.portal.drafting import day_figures, draft_body, draft_title
from fangkong.portal.models import Bulletin, BulletinStatus, BulletinVersion

S = BulletinStatus


def approval_required() -> bool:
    return bool(getattr(settings, "FANGKONG_BULLETIN_APPROVAL", False))


def _require(actor: Any, perm: Perm, unit: OrgUnit) -> None:
    if not can(actor, perm, unit):
        raise Forbidden(_("Your role may not do this to bulletins of this unit."))


def _refuse(bulletin: Bulletin, to: Any) -> Conflict:
    return Conflict(
        _("Cannot move a bulletin from “%(from)s” to “%(to)s”.")
        % {"from": bulletin.get_status_display(), "to": to}
    )


def _lock(bulletin: Bulletin) -> Bulletin:
    """Re-read the row under a lock so two concurrent moves cannot both pass the state check."""
    return Bulletin.objects.select_for_update().select_related("org_unit").get(pk=bulletin.pk)


def _version(bulletin: Bulletin, *, actor: Any) -> BulletinVersion:
    last = bulletin.versions.aggregate(n=Max("number"))["n"] or 0
    return BulletinVersion.objects.create(
        bulletin=bulletin,
        number=last + 1,
        title=bulletin.title,
        body=bulletin.body,
        author=actor if getattr(actor, "is_authenticated", False) else None,
    )


def _check_text(title: str, body: str) -> tuple[str, str]:
    errors: dict[str, list[str]] = {}
    title, body = title.strip(), body.strip()
    if not title:
        errors["title"] = [_("Give the bulletin a title.")]
    elif len(title) > 200:
        errors["title"] = [_("At most 200 characters.")]
    if not body:
        errors["body"] = [_("The bulletin has no text.")]
    if errors:
        raise Invalid(errors)
    refuse_personal_data({"title": title, "body": body})
    return title, body


@transaction.atomic
def bulletin_draft(*, actor: Any, unit: OrgUnit, day: date) -> Bulletin:
    """A new draft for ``unit`` and ``day``, written from the data (see ``drafting``).

    One bulletin per unit and day is open at a time: when one exists that is not withdrawn, the
    draft is refused (edit that one instead).
    """
    _require(actor, Perm.PORTAL_PUBLISH, unit)
    if day > timezone.localdate():
        raise Invalid.field("day", _("The day is in the future."))
    serialise(key=f"portal.bulletin:{unit.pk}:{day.isoformat()}")  # two drafts at once: one waits
    existing = Bulletin.objects.filter(org_unit=unit, for_date=day).exclude(status=S.WITHDRAWN).first()
    if existing is not None:
        raise Conflict(
            _("There is already a bulletin for this day (it is %(s)s).")
            % {"s": existing.get_status_display()}
        )
    figures = day_figures(unit=unit, day=day)
    bulletin = Bulletin(org_unit=unit, for_date=day, title=draft_title(figures), body=draft_body(figures))
    bulletin.full_clean()
    bulletin.save()
    _version(bulletin, actor=actor)
    audit_record(actor=actor, action="portal.bulletin_draft", target=bulletin, after={"day": day.isoformat()})
    return bulletin


@transaction.atomic
def bulletin_edit(*, actor: Any, bulletin: Bulletin, title: str, body: str) -> Bulletin:
    """Save a new text: a new version. Only a draft is edited (a submitted one goes back to draft
    only through a new edit after a refusal, so what was approved is what is published)."""
    bulletin = _lock(bulletin)
    _require(actor, Perm.PORTAL_PUBLISH, bulletin.org_unit)
    if bulletin.status != S.DRAFT:
        raise _refuse(bulletin, str(_("edited")))
    title, body = _check_text(title, body)
    if (title, body) == (bulletin.title, bulletin.body):
        return bulletin
    bulletin.title, bulletin.body = title, body
    bulletin.full_clean()
    bulletin.save(update_fields=["title", "body", "updated_at"])
    version = _version(bulletin, actor=actor)
    audit_record(
        actor=actor, action="portal.bulletin_edit", target=bulletin, after={"version": version.number}
    )
    return bulletin


@transaction.atomic
def bulletin_submit(*, actor: Any, bulletin: Bulletin) -> Bulletin:
    """Hand a draft over for approval (or for review, when no approval is required)."""
    bulletin = _lock(bulletin)
    _require(actor, Perm.PORTAL_PUBLISH, bulletin.org_unit)
    if bulletin.status != S.DRAFT:
        raise _refuse(bulletin, S.AWAITING_APPROVAL.label)
    bulletin.status = S.AWAITING_APPROVAL
    bulletin.save(update_fields=["status", "updated_at"])
    audit_record(actor=actor, action="portal.bulletin_submit", target=bulletin)
    return bulletin


@transaction.atomic
def bulletin_return(*, actor: Any, bulletin: Bulletin) -> Bulletin:
    """Send a submitted bulletin back to draft (by its publisher or the approving commander)."""
    bulletin = _lock(bulletin)
    if not (
        can(actor, Perm.PORTAL_PUBLISH, bulletin.org_unit)
        or can(actor, Perm.PORTAL_APPROVE, bulletin.org_unit)
    ):
        raise Forbidden(_("Your role may not do this to bulletins of this unit."))
    if bulletin.status != S.AWAITING_APPROVAL:
        raise _refuse(bulletin, S.DRAFT.label)
    bulletin.status, bulletin.approved_at, bulletin.approved_by = S.DRAFT, None, None
    bulletin.save(update_fields=["status", "approved_at", "approved_by", "updated_at"])
    audit_record(actor=actor, action="portal.bulletin_return", target=bulletin)
    return bulletin


@transaction.atomic
def bulletin_approve(*, actor: Any, bulletin: Bulletin) -> Bulletin:
    """A commander approves a submitted bulletin for publication (only when approval is on)."""
    bulletin = _lock(bulletin)
    _require(actor, Perm.PORTAL_APPROVE, bulletin.org_unit)
    if not approval_required():
        raise Conflict(_("Bulletins need no approval here (FANGKONG_BULLETIN_APPROVAL is off)."))
    if bulletin.status != S.AWAITING_APPROVAL or bulletin.approved_at is not None:
        raise _refuse(bulletin, str(_("approved")))
    bulletin.approved_at, bulletin.approved_by = timezone.now(), actor
    bulletin.save(update_fields=["approved_at", "approved_by", "updated_at"])
    audit_record(actor=actor, action="portal.bulletin_approve", target=bulletin)
    return bulletin  # nothing public changes until it is published


@transaction.atomic
def bulletin_publish(*, actor: Any, bulletin: Bulletin) -> Bulletin:
    """Publish: the public pages and the feed show it from now on."""
    bulletin = _lock(bulletin)
    _require(actor, Perm.PORTAL_PUBLISH, bulletin.org_unit)
    if approval_required():
        if bulletin.status != S.AWAITING_APPROVAL:
            raise _refuse(bulletin, S.PUBLISHED.label)
        if bulletin.approved_at is None:
            raise Conflict(_("A commander must approve this bulletin before it is published."))
    elif bulletin.status not in {S.DRAFT, S.AWAITING_APPROVAL}:
        raise _refuse(bulletin, S.PUBLISHED.label)
    refuse_personal_data({"title": bulletin.title, "body": bulletin.body})  # the last gate
    bulletin.status, bulletin.published_at, bulletin.published_by = S.PUBLISHED, timezone.now(), actor
    bulletin.save(update_fields=["status", "published_at", "published_by", "updated_at"])
    audit_record(actor=actor, action="portal.bulletin_publish", target=bulletin)
    bump_generation()
    return bulletin


@transaction.atomic
def bulletin_withdraw(*, actor: Any, bulletin: Bulletin) -> Bulletin:
    """Take a published bulletin off the public pages (kept, with its versions)."""
    bulletin = _lock(bulletin)
    _require(actor, Perm.PORTAL_PUBLISH, bulletin.org_unit)
    if bulletin.status != S.PUBLISHED:
        raise _refuse(bulletin, S.WITHDRAWN.label)
    bulletin.status = S.WITHDRAWN
    bulletin.save(update_fields=["status", "updated_at"])
    audit_record(actor=actor, action="portal.bulletin_withdraw", target=bulletin)
    bump_generation()
    return bulletin
