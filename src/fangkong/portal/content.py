"""Rebuttals (辟谣) and articles (科普): a publisher drafts, edits and publishes them.

A published piece may still be corrected (the public page shows the correction at once); it may
also be taken back to draft (unpublished), which takes it off the public pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.audit.services import audit_record
from fangkong.common.errors import Conflict, Forbidden, Invalid
from fangkong.common.locks import lock_fresh
from fangkong.orgs.models import OrgUnit
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import can
from fangkong.people.pii import refuse_personal_data
from fangkong.portal.cache import bump_generation
from fangkong.portal.models import Article, ContentStatus, Rebuttal, Verdict

P = TypeVar("P", Rebuttal, Article)


def _require(actor: Any, unit: OrgUnit) -> None:
    if not can(actor, Perm.PORTAL_PUBLISH, unit):
        raise Forbidden(_("Your role may not publish for this unit."))


@dataclass
class RebuttalData:
    claim: str
    verdict: str
    explanation: str
    sources: str = ""
    date: date | None = None


@dataclass
class ArticleData:
    title: str
    body: str
    summary: str = ""


def _check_rebuttal(data: RebuttalData) -> None:
    errors: dict[str, list[str]] = {}
    if not data.claim.strip():
        errors["claim"] = [_("State the claim.")]
    if data.verdict not in Verdict.values:
        errors["verdict"] = [_("Choose a verdict.")]
    if not data.explanation.strip():
        errors["explanation"] = [_("Explain the verdict.")]
    if errors:
        raise Invalid(errors)
    refuse_personal_data({"claim": data.claim, "explanation": data.explanation, "sources": data.sources})


def _fill_rebuttal(rebuttal: Rebuttal, data: RebuttalData) -> None:
    rebuttal.claim = data.claim.strip()
    rebuttal.verdict = data.verdict
    rebuttal.explanation = data.explanation.strip()
    rebuttal.sources = "\n".join(line.strip() for line in data.sources.splitlines() if line.strip())
    rebuttal.date = data.date or rebuttal.date or timezone.localdate()


@transaction.atomic
def rebuttal_create(*, actor: Any, unit: OrgUnit, data: RebuttalData) -> Rebuttal:
    """A draft rebuttal."""
    _require(actor, unit)
    _check_rebuttal(data)
    rebuttal = Rebuttal(org_unit=unit)
    _fill_rebuttal(rebuttal, data)
    rebuttal.full_clean()
    rebuttal.save()
    audit_record(actor=actor, action="portal.rebuttal_create", target=rebuttal)
    return rebuttal


@transaction.atomic
def rebuttal_edit(*, actor: Any, rebuttal: Rebuttal, data: RebuttalData) -> Rebuttal:
    _require(actor, rebuttal.org_unit)
    _check_rebuttal(data)
    lock_fresh(rebuttal)  # its status as stored now decides whether the public pages change
    _fill_rebuttal(rebuttal, data)
    rebuttal.full_clean()
    rebuttal.save()
    audit_record(actor=actor, action="portal.rebuttal_edit", target=rebuttal)
    if rebuttal.status == ContentStatus.PUBLISHED:
        bump_generation()
    return rebuttal


def _check_article(data: ArticleData) -> None:
    errors: dict[str, list[str]] = {}
    if not data.title.strip():
        errors["title"] = [_("Give the article a title.")]
    if not data.body.strip():
        errors["body"] = [_("The article has no text.")]
    if errors:
        raise Invalid(errors)
    refuse_personal_data({"title": data.title, "summary": data.summary, "body": data.body})


@transaction.atomic
def article_create(*, actor: Any, unit: OrgUnit, data: ArticleData) -> Article:
    """A draft article."""
    _require(actor, unit)
    _check_article(data)
    article = Article(
        org_unit=unit, title=data.title.strip(), summary=data.summary.strip(), body=data.body.strip()
    )
    article.full_clean()
    article.save()
    audit_record(actor=actor, action="portal.article_create", target=article)
    return article


@transaction.atomic
def article_edit(*, actor: Any, article: Article, data: ArticleData) -> Article:
    _require(actor, article.org_unit)
    _check_article(data)
    lock_fresh(article)
    article.title, article.summary, article.body = data.title.strip(), data.summary.strip(), data.body.strip()
    article.full_clean()
    article.save()
    audit_record(actor=actor, action="portal.article_edit", target=article)
    if article.status == ContentStatus.PUBLISHED:
        bump_generation()
    return article


def _set_status(actor: Any, piece: P, *, to: str, what: str) -> P:
    _require(actor, piece.org_unit)
    lock_fresh(piece)
    if piece.status == to:
        raise Conflict(
            _("Cannot move a %(what)s from “%(from)s” to “%(to)s”.")
            % {"what": what, "from": piece.get_status_display(), "to": ContentStatus(to).label}
        )
    piece.status = to
    if to == ContentStatus.PUBLISHED:
        piece.published_at = timezone.now()
    piece.save(update_fields=["status", "published_at", "updated_at"])
    audit_record(actor=actor, action=f"portal.{piece._meta.model_name}_{to}", target=piece)
    bump_generation()
    return piece


@transaction.atomic
def rebuttal_publish(*, actor: Any, rebuttal: Rebuttal) -> Rebuttal:
    """Publish a draft rebuttal (a published one is refused: nothing to do)."""
    return _set_status(actor, rebuttal, to=ContentStatus.PUBLISHED, what=str(_("rebuttal")))


@transaction.atomic
def rebuttal_unpublish(*, actor: Any, rebuttal: Rebuttal) -> Rebuttal:
    """Take a published rebuttal back to draft."""
    return _set_status(actor, rebuttal, to=ContentStatus.DRAFT, what=str(_("rebuttal")))


@transaction.atomic
def article_publish(*, actor: Any, article: Article) -> Article:
    return _set_status(actor, article, to=ContentStatus.PUBLISHED, what=str(_("article")))


@transaction.atomic
def article_unpublish(*, actor: Any, article: Article) -> Article:
    return _set_status(actor, article, to=ContentStatus.DRAFT, what=str(_("article")))
