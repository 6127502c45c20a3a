"""The org tree (city → district → street → community → grid), memberships and API tokens."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from fangkong.common.models import TimeStampedModel
from fangkong.orgs.roles import Role


class Level(models.TextChoices):
    CITY = "city", _("City")
    DISTRICT = "district", _("District")
    STREET = "street", _("Street")
    COMMUNITY = "community", _("Community")
    GRID = "grid", _("Grid")


LEVEL_ORDER = [Level.CITY, Level.DISTRICT, Level.STREET, Level.COMMUNITY, Level.GRID]


class OrgUnit(TimeStampedModel):
    """A node of the tree. ``path`` is the chain of codes from the root, each followed by "/",
    so the subtree of a unit is ``path__startswith=unit.path``."""

    scope_path = "path"

    code = models.CharField(
        _("code"),
        max_length=32,
        unique=True,
        validators=[RegexValidator(r"^[0-9A-Za-z]+$", _("Use digits and letters only."))],
    )
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(_("path"), max_length=255, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(_("depth"), default=0, editable=False)
    geometry = models.JSONField(
        _("outline"),
        null=True,
        blank=True,
        help_text=_("GeoJSON geometry (WGS 84 longitude/latitude) drawn on the maps."),
    )

    class Meta:
        verbose_name = _("org unit")
        verbose_name_plural = _("org units")
        ordering = ["path"]
        indexes = [models.Index(fields=["level", "path"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def org_unit(self) -> OrgUnit:
        """A unit is owned by itself, so it is scoped like every other object."""
        return self

    @property
    def lineage_paths(self) -> list[str]:
        """The paths of this unit and of every unit above it (a role held at any of them reaches it)."""
        return [self.path[: i + 1] for i, ch in enumerate(self.path) if ch == "/"] or [self.path]


class Membership(TimeStampedModel):
    """A user holds a role in an org unit, and with it the role's permissions in its subtree."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    org_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("org unit"), on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [models.UniqueConstraint(fields=["user", "org_unit", "role"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.org_unit}"


class ApiToken(TimeStampedModel):
    """A personal API token. Only its SHA-256 is stored; the token is shown once at creation."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=12, db_index=True)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    expires_at = models.DateTimeField(_("expires at"))
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    parent = models.ForeignKey(  # the token this one was made with: it dies with it, never outlives it
        "self",
        verbose_name=_("made with"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="children",
    )

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class LoginFailure(models.Model):
    """Failed logins of one account from one address (``orgs.lockout``): how many in a row and
    when the last was, from which the growing delay before the next try is reckoned."""

    username = models.CharField(_("username"), max_length=150)
    address = models.CharField(_("address"), max_length=64)
    failures = models.PositiveIntegerField(_("failures"), default=0)
    last_failed_at = models.DateTimeField(_("last failed at"), db_index=True)

    class Meta:
        verbose_name = _("failed login")
        verbose_name_plural = _("failed logins")
        constraints = [models.UniqueConstraint(fields=["username", "address"], name="login_failure_unique")]

    def __str__(self) -> str:
        return f"{self.username} @ {self.address} × {self.failures}"
