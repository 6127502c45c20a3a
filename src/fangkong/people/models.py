"""Residents, households and their addresses on a grid.

ID numbers and phones are PII: stored encrypted (``*_cipher``), found by a keyed hash
(``*_index``) and shown masked (``*_masked``). The plaintext is never stored.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from fangkong.common.leases import Leased
from fangkong.common.models import TimeStampedModel
from fangkong.people.masking import mask_name


class IdType(models.TextChoices):
    RESIDENT_ID = "resident_id", _("Resident ID card")
    PASSPORT = "passport", _("Passport")
    HK_MACAU_PERMIT = "hk_macau_permit", _("Mainland travel permit for Hong Kong and Macao residents")
    TAIWAN_PERMIT = "taiwan_permit", _("Mainland travel permit for Taiwan residents")
    FOREIGN_PERMANENT = "foreign_permanent", _("Foreign permanent resident ID card")
    OTHER = "other", _("Other document")


class Sex(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")
    UNKNOWN = "U", _("Unknown")


class Household(TimeStampedModel):
    """A dwelling on a grid: building / unit / room. The grid owns it for scoping."""

    scope_path = "org_unit__path"

    org_unit = models.ForeignKey(
        "orgs.OrgUnit", verbose_name=_("grid"), on_delete=models.PROTECT, related_name="households"
    )
    building = models.CharField(_("building"), max_length=20)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    room = models.CharField(_("room"), max_length=20)

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        constraints = [
            models.UniqueConstraint(
                fields=["org_unit", "building", "unit", "room"], name="household_address_unique"
            )
        ]

    def __str__(self) -> str:
        parts = [f"{self.building}栋"]
        if self.unit:
            parts.append(f"{self.unit}单元")
        parts.append(f"{self.room}室")
        return "".join(parts)


class Person(TimeStampedModel):
    """A person known to the platform: one per (ID type, ID number)."""

    scope_path = "org_unit__path"

    name = models.CharField(_("name"), max_length=50, db_index=True)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    id_type = models.CharField(
        _("ID type"), max_length=32, choices=IdType.choices, default=IdType.RESIDENT_ID
    )
    id_number_cipher = models.BinaryField(editable=False)
    id_number_index = models.CharField(max_length=64, editable=False)
    id_number_masked = models.CharField(_("ID number"), max_length=40, editable=False)
    phone_cipher = models.BinaryField(null=True, editable=False)
    phone_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    phone_masked = models.CharField(_("phone"), max_length=20, blank=True, editable=False)
    org_unit = models.ForeignKey(
        "orgs.OrgUnit", verbose_name=_("grid"), on_delete=models.PROTECT, related_name="people"
    )
    household = models.ForeignKey(
        Household,
        verbose_name=_("household"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
    )
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        ordering = ["org_unit__path", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["id_type", "id_number_index"], name="person_document_unique")
        ]

    def __str__(self) -> str:
        return f"{mask_name(self.name)} ({self.id_number_masked})"


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    VALIDATING = "validating", _("Checking rows")
    WRITING = "writing", _("Saving")
    SUCCEEDED = "succeeded", _("Imported")
    REJECTED = "rejected", _("Rejected: nothing imported")
    FAILED = "failed", _("Failed: nothing imported")


class SpreadsheetImport(Leased, TimeStampedModel):
    """A spreadsheet imported in the background, all rows or none (residents, contacts).

    The file is kept in the database so that any worker can read it; ``errors`` lists every
    rejected row as ``{"row": n, "column": header, "message": text}``.
    """

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+"
    )
    file_name = models.CharField(_("file"), max_length=200)
    content = models.BinaryField(editable=False)
    status = models.CharField(
        _("status"), max_length=16, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("rows checked"), default=0)
    created_count = models.PositiveIntegerField(_("rows imported"), default=0)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.file_name

    @property
    def is_finished(self) -> bool:
        return self.status in {ImportStatus.SUCCEEDED, ImportStatus.REJECTED, ImportStatus.FAILED}

    @property
    def percent(self) -> int:
        if self.status == ImportStatus.SUCCEEDED:
            return 100
        return int(100 * self.processed_rows / self.total_rows) if self.total_rows else 0


class PersonImport(SpreadsheetImport):
    """A spreadsheet of residents for an org unit."""

    scope_path = "org_unit__path"

    org_unit = models.ForeignKey(
        "orgs.OrgUnit", verbose_name=_("for unit"), on_delete=models.PROTECT, related_name="person_imports"
    )

    class Meta(SpreadsheetImport.Meta):
        verbose_name = _("people import")
        verbose_name_plural = _("people imports")
