"""What the public reads: bulletins (疫情通报) with their versions, risk areas (风险区) with their
history, rumour rebuttals (辟谣) and articles (科普).

Every object is owned by an org unit (a bulletin covers it; a risk area is it, or lies in it) and
is scoped like any other. The public pages show only what is published (or active).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from fangkong.common.models import TimeStampedModel


class BulletinStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
    PUBLISHED = "published", _("Published")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Bulletin(TimeStampedModel):
    """The daily bulletin of a unit (usually the city). ``title`` and ``body`` are the current
    text; each save of them is also kept as a ``BulletinVersion``."""

    scope_path = "org_unit__path"

    org_unit = models.ForeignKey(
        "orgs.OrgUnit", verbose_name=_("covers"), on_delete=models.PROTECT, related_name="bulletins"
    )
    for_date = models.DateField(_("for the day"))
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), max_length=50000)
    status = models.CharField(
        _("status"), max_length=20, choices=BulletinStatus.choices, default=BulletinStatus.DRAFT
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, db_index=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("bulletin")
        verbose_name_plural = _("bulletins")
        ordering = ["-for_date", "-id"]

    def __str__(self) -> str:
        return self.title


class BulletinVersion(models.Model):
    """One saved text of a bulletin, numbered from 1."""

    scope_path = "bulletin__org_unit__path"

    bulletin = models.ForeignKey(Bulletin, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), max_length=50000)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(_("saved at"), auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["bulletin", "number"], name="bulletin_version_unique")]

    def __str__(self) -> str:
        return f"{self.bulletin_id} v{self.number}"


class RiskLevel(models.TextChoices):
    HIGH = "high", _("High risk")
    MEDIUM = "medium", _("Medium risk")
    LOW = "low", _("Low risk")


LEVEL_RANK = {RiskLevel.HIGH: 3, RiskLevel.MEDIUM: 2, RiskLevel.LOW: 1}


class RiskArea(TimeStampedModel):
    """An org unit (``place`` blank) or a named place lying in ``org_unit`` at a risk level."""

    scope_path = "org_unit__path"

    org_unit = models.ForeignKey(
        "orgs.OrgUnit", verbose_name=_("area or owner"), on_delete=models.PROTECT, related_name="risk_areas"
    )
    place = models.CharField(_("named place"), max_length=200, blank=True)
    level = models.CharField(_("level"), max_length=8, choices=RiskLevel.choices)
    since = models.DateField(_("since"))
    reason = models.CharField(_("reason"), max_length=500)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("risk area")
        verbose_name_plural = _("risk areas")
        ordering = ["-active", "level", "-since", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return f"{self.org_unit.name} {self.place}".strip() if self.place else self.org_unit.name

    @property
    def level_rank(self) -> int:
        return LEVEL_RANK.get(RiskLevel(self.level), 0)


class ChangeKind(models.TextChoices):
    DESIGNATED = "designated", _("Designated")
    PROPOSED = "proposed", _("Downgrade proposed")
    APPROVED = "approved", _("Downgrade approved")
    REJECTED = "rejected", _("Downgrade rejected")
    LIFTED = "lifted", _("Lifted")


class RiskAreaChange(models.Model):
    """One step in an area's history. A ``proposed`` change is pending until ``decided_at``;
    the database holds at most one pending proposal per area (so the daily rule is idempotent)."""

    scope_path = "area__org_unit__path"

    area = models.ForeignKey(RiskArea, on_delete=models.CASCADE, related_name="changes")
    kind = models.CharField(_("kind"), max_length=12, choices=ChangeKind.choices)
    from_level = models.CharField(_("from"), max_length=8, choices=RiskLevel.choices, blank=True)
    to_level = models.CharField(_("to"), max_length=8, choices=RiskLevel.choices, blank=True)
    day = models.DateField(_("day"))
    at = models.DateTimeField(_("at"), auto_now_add=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["area"],
                condition=models.Q(kind="proposed", decided_at__isnull=True),
                name="risk_area_one_pending_proposal",
            )
        ]

    def __str__(self) -> str:
        return f"{self.area_id} {self.kind} {self.from_level}→{self.to_level}"

    @property
    def pending(self) -> bool:
        return self.kind == ChangeKind.PROPOSED and self.decided_at is None


class Verdict(models.TextChoices):
    FALSE = "false", _("False")
    MISLEADING = "misleading", _("Misleading")
    TRUE = "true", _("True")
    UNVERIFIED = "unverified", _("Unverified")


class ContentStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class Rebuttal(TimeStampedModel):
    """A rumour and what is true about it (辟谣)."""

    scope_path = "org_unit__path"

    org_unit = models.ForeignKey(
        "orgs.OrgUnit", verbose_name=_("published by unit"), on_delete=models.PROTECT, related_name="+"
    )
    claim = models.CharField(_("claim"), max_length=300)
    verdict = models.CharField(_("verdict"), max_length=12, choices=Verdict.choices)
    explanation = models.TextField(_("explanation"), max_length=20000)
    sources = models.TextField(_("sources (one per line)"), max_length=5000, blank=True)
    date = models.DateField(_("date"))
    status = models.CharField(
        _("status"), max_length=12, choices=ContentStatus.choices, default=ContentStatus.DRAFT
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("rebuttal")
        verbose_name_plural = _("rebuttals")
        ordering = ["-date", "-id"]

    def __str__(self) -> str:
        return self.claim

    @property
    def source_lines(self) -> list[str]:
        return [line.strip() for line in self.sources.splitlines() if line.strip()]


class Article(TimeStampedModel):
    """A piece of science popularisation (科普)."""

    scope_path = "org_unit__path"

    org_unit = models.ForeignKey(
        "orgs.OrgUnit", verbose_name=_("published by unit"), on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(_("title"), max_length=200)
    summary = models.CharField(_("summary"), max_length=500, blank=True)
    body = models.TextField(_("text"), max_length=50000)
    status = models.CharField(
        _("status"), max_length=12, choices=ContentStatus.choices, default=ContentStatus.DRAFT
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        ordering = ["-published_at", "-id"]

    def __str__(self) -> str:
        return self.title


class PublicEdition(models.Model):
    """The number of what the public sees now: every publish, approval, withdrawal, designation
    or lifting adds one, in the same transaction. Cached public pages are keyed by it, so every
    server process (each with its own cache) renders afresh after a change."""

    key = models.CharField(primary_key=True, max_length=32)
    number = models.PositiveBigIntegerField(default=1)

    class Meta:
        verbose_name = _("public edition")
        verbose_name_plural = _("public editions")

    def __str__(self) -> str:
        return f"{self.key} #{self.number}"
