"""Volunteers (志愿者): who signed up, where they serve, where they were sent, and who is commended.

A volunteer's phone is PII: stored encrypted (``phone_cipher``), found by a keyed hash
(``phone_index``, one registration per phone) and shown masked (``phone_masked``), as for people.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from fangkong.common.models import TimeStampedModel
from fangkong.people.masking import mask_name


class Skill(models.TextChoices):
    DELIVERY = "delivery", _("Delivery of supplies")
    SAMPLING = "sampling", _("Sampling-point help")
    CALLBACKS = "callbacks", _("Phone call-backs")
    ELDERLY_CARE = "elderly_care", _("Care for the elderly")
    TRANSLATION = "translation", _("Translation")
    DRIVING = "driving", _("Driving")
    MEDICAL = "medical", _("Medical (licensed)")
    OTHER = "other", _("Other")


class Availability(models.TextChoices):
    WEEKDAYS = "weekdays", _("Weekdays")
    WEEKENDS = "weekends", _("Weekends")
    EVENINGS = "evenings", _("Evenings")
    ANY_TIME = "any", _("Any time")


class VolunteerStatus(models.TextChoices):
    APPLIED = "applied", _("Applied")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    SUSPENDED = "suspended", _("Suspended")


class Volunteer(TimeStampedModel):
    """A person who offered to help in an area (a street, community or grid).

    ``skills`` holds skill codes between commas (",delivery,driving,") so that one skill is found
    with ``skills__contains=",delivery,"`` on every database.
    """

    scope_path = "org_unit__path"

    name = models.CharField(_("name"), max_length=50, db_index=True)
    phone_cipher = models.BinaryField(editable=False)
    phone_index = models.CharField(max_length=64, unique=True, editable=False)
    phone_masked = models.CharField(_("mobile"), max_length=20, editable=False)
    org_unit = models.ForeignKey(
        "orgs.OrgUnit", verbose_name=_("area served"), on_delete=models.PROTECT, related_name="volunteers"
    )
    skills = models.CharField(_("skills"), max_length=200, default=",", blank=True)
    availability = models.CharField(
        _("availability"), max_length=16, choices=Availability.choices, default=Availability.ANY_TIME
    )
    availability_note = models.CharField(_("when exactly"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=VolunteerStatus.choices, default=VolunteerStatus.APPLIED
    )
    consent_at = models.DateTimeField(_("consent given at"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True, max_length=2000)

    class Meta:
        verbose_name = _("volunteer")
        verbose_name_plural = _("volunteers")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{mask_name(self.name)} ({self.phone_masked})"

    @property
    def skill_list(self) -> list[str]:
        return [code for code in self.skills.split(",") if code]

    @property
    def skill_labels(self) -> list[str]:
        labels = dict(Skill.choices)
        return [str(labels.get(code, code)) for code in self.skill_list]

    @property
    def masked_name(self) -> str:
        return mask_name(self.name)


class DispatchStatus(models.TextChoices):
    DISPATCHED = "dispatched", _("Dispatched")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class Dispatch(TimeStampedModel):
    """A volunteer sent to help with one work item; ``hours`` are logged when it is done."""

    scope_path = "volunteer__org_unit__path"

    volunteer = models.ForeignKey(
        Volunteer, verbose_name=_("volunteer"), on_delete=models.PROTECT, related_name="dispatches"
    )
    work_item = models.ForeignKey(
        "worklist.WorkItem", verbose_name=_("work item"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=16, choices=DispatchStatus.choices, default=DispatchStatus.DISPATCHED
    )
    dispatched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("dispatched by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    dispatched_at = models.DateTimeField(_("dispatched at"))
    hours = models.DecimalField(
        _("hours"),
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(24)],
    )
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True, max_length=2000)

    class Meta:
        verbose_name = _("dispatch")
        verbose_name_plural = _("dispatches")
        ordering = ["-dispatched_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["volunteer", "work_item"],
                condition=models.Q(status="dispatched"),
                name="dispatch_one_live_per_item",
            )
        ]

    def __str__(self) -> str:
        return f"{self.volunteer} → {self.work_item}"

    @property
    def org_unit(self) -> object:
        """Scoped (and audited) like its volunteer."""
        return self.volunteer.org_unit


class Commendation(TimeStampedModel):
    """A role model (先进典型): a citation for a volunteer, shown on the public list once published."""

    scope_path = "volunteer__org_unit__path"

    volunteer = models.ForeignKey(
        Volunteer, verbose_name=_("volunteer"), on_delete=models.PROTECT, related_name="commendations"
    )
    citation = models.TextField(_("citation"), max_length=1000)
    commended_on = models.DateField(_("date"))
    curated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("curated by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    published = models.BooleanField(_("published"), default=False)

    class Meta:
        verbose_name = _("commendation")
        verbose_name_plural = _("commendations")
        ordering = ["-commended_on", "-id"]

    def __str__(self) -> str:
        return f"{self.volunteer.masked_name} · {self.commended_on:%Y-%m-%d}"

    @property
    def org_unit(self) -> object:
        return self.volunteer.org_unit
