"""Quarantine sites and rooms, orders computed from the protocol, test appointments, daily checks."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fangkong.common.models import TimeStampedModel
from fangkong.people.models import SpreadsheetImport


class Site(TimeStampedModel):
    """A centralised quarantine site (集中隔离点), run for an org unit (usually a district)."""

    scope_path = "org_unit__path"

    name = models.CharField(_("name"), max_length=100)
    org_unit = models.ForeignKey(
        "orgs.OrgUnit", verbose_name=_("run for"), on_delete=models.PROTECT, related_name="sites"
    )
    address = models.CharField(_("address"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("quarantine site")
        verbose_name_plural = _("quarantine sites")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Room(models.Model):
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="rooms")
    number = models.CharField(_("room"), max_length=20)
    capacity = models.PositiveSmallIntegerField(_("beds"), default=1)

    class Meta:
        verbose_name = _("room")
        verbose_name_plural = _("rooms")
        ordering = ["site", "number"]
        constraints = [models.UniqueConstraint(fields=["site", "number"], name="room_number_unique")]

    def __str__(self) -> str:
        return f"{self.site.name} {self.number}"


class OrderKind(models.TextChoices):
    CENTRALISED = "centralised", _("Centralised quarantine")
    HOME = "home", _("Home quarantine")
    HOME_HEALTH_MONITORING = "home_health_monitoring", _("Home health monitoring")


class OrderStatus(models.TextChoices):
    PLANNED = "planned", _("Planned (follows another order)")
    ACTIVE = "active", _("Active")
    RELEASED = "released", _("Released")
    CONVERTED = "converted", _("Converted to a case")
    CANCELLED = "cancelled", _("Cancelled")


LIVE_STATUSES = (OrderStatus.PLANNED, OrderStatus.ACTIVE)


class QuarantineOrder(TimeStampedModel):
    """One stretch of quarantine or health monitoring for a person, with its own test days.

    ``day_one`` is the first day (the day after the last exposure, by the protocol), ``planned_end``
    the end of the last day. A follow-on order (e.g. home health monitoring) points at the order
    it follows and becomes active when that one is released.
    """

    scope_path = ("org_unit__path", "site__org_unit__path")

    person = models.ForeignKey(
        "people.Person", verbose_name=_("person"), on_delete=models.PROTECT, related_name="quarantine_orders"
    )
    contact = models.ForeignKey(
        "contacts.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="orders",
    )
    org_unit = models.ForeignKey(
        "orgs.OrgUnit", verbose_name=_("grid"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=32, choices=OrderKind.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=OrderStatus.choices, default=OrderStatus.ACTIVE
    )
    protocol = models.CharField(_("protocol"), max_length=40)
    last_exposure = models.DateTimeField(_("last exposure"))
    day_one = models.DateField(_("day 1"))
    planned_end = models.DateTimeField(_("planned end"))
    follows = models.OneToOneField(
        "self",
        verbose_name=_("follows"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="follow_on",
    )
    site = models.ForeignKey(
        Site, verbose_name=_("site"), null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    room = models.ForeignKey(
        Room, verbose_name=_("room"), null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    converted_case = models.ForeignKey(
        "cases.Case",
        verbose_name=_("became case"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("quarantine order")
        verbose_name_plural = _("quarantine orders")
        ordering = ["-day_one", "-id"]
        indexes = [
            models.Index(fields=["status", "planned_end"]),
            # the beds taken: orders in a room (most orders have none)
            models.Index(
                fields=["room", "status"], condition=models.Q(room__isnull=False), name="order_in_room"
            ),
        ]

    def __str__(self) -> str:
        kind = OrderKind(self.kind).label if self.kind in OrderKind.values else self.kind
        return f"{kind} {self.day_one:%m-%d}→{self.last_day:%m-%d}"

    @property
    def last_day(self) -> date:
        """The last day of the order (``planned_end`` is 00:00 of the day after)."""
        return timezone.localtime(self.planned_end - timedelta(seconds=1)).date()

    @property
    def overdue(self) -> bool:
        """Still live after its planned end: a release (or a result) is missing."""
        return self.status in LIVE_STATUSES and self.planned_end < timezone.now()


class TestResult(models.TextChoices):
    PENDING = "pending", _("Pending")
    NEGATIVE = "negative", _("Negative")
    POSITIVE = "positive", _("Positive")


class TestAppointment(models.Model):
    """A nucleic-acid test due on day ``day`` of an order (``date``), and its result."""

    scope_path = ("order__org_unit__path", "order__site__org_unit__path")

    order = models.ForeignKey(QuarantineOrder, on_delete=models.CASCADE, related_name="tests")
    day = models.PositiveSmallIntegerField(_("day"))
    date = models.DateField(_("date"))
    result = models.CharField(
        _("result"), max_length=16, choices=TestResult.choices, default=TestResult.PENDING
    )
    result_at = models.DateTimeField(_("result at"), null=True, blank=True)

    class Meta:
        verbose_name = _("test appointment")
        verbose_name_plural = _("test appointments")
        ordering = ["date", "id"]
        constraints = [models.UniqueConstraint(fields=["order", "date"], name="test_once_a_day")]

    def __str__(self) -> str:
        return f"{self.date} {self.get_result_display()}"


class CheckSource(models.TextChoices):
    STAFF = "staff", _("Staff")
    SELF = "self", _("Self-report")


class DailyCheck(models.Model):
    """A health check: temperature and symptoms, by staff or self-reported through the link."""

    scope_path = ("order__org_unit__path", "order__site__org_unit__path")

    order = models.ForeignKey(QuarantineOrder, on_delete=models.CASCADE, related_name="checks")
    date = models.DateField(_("date"))
    temperature = models.DecimalField(_("temperature (°C)"), max_digits=3, decimal_places=1)
    symptoms = models.CharField(_("symptoms"), max_length=200, blank=True)
    source = models.CharField(_("source"), max_length=8, choices=CheckSource.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("daily check")
        verbose_name_plural = _("daily checks")
        ordering = ["-recorded_at", "-id"]
        indexes = [models.Index(fields=["order", "date"])]

    def __str__(self) -> str:
        return f"{self.date} {self.temperature}"


class LabResultImport(SpreadsheetImport):
    """A lab's result file (``quarantine.lab_imports``): valid rows are recorded, bad rows reported.

    ``created_count`` counts the results written; ``unchanged_count`` the rows that repeat a result
    already recorded (a file sent twice changes nothing); ``notes`` lists those rows, and ``cases``
    the numbers of the cases that positive rows registered.
    """

    scope_path = "org_unit__path"

    org_unit = models.ForeignKey(
        "orgs.OrgUnit",
        verbose_name=_("for unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    unchanged_count = models.PositiveIntegerField(_("rows already recorded"), default=0)
    notes = models.JSONField(_("notes"), default=list, blank=True)
    cases = models.JSONField(_("cases registered"), default=list, blank=True)

    class Meta(SpreadsheetImport.Meta):
        verbose_name = _("lab result import")
        verbose_name_plural = _("lab result imports")
