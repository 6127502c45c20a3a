"""What the dashboard stores: Excel exports built by the worker (large ones take minutes)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from fangkong.common.leases import Leased
from fangkong.common.models import TimeStampedModel


class FileStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Being written")
    SUCCEEDED = "succeeded", _("Ready")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Deleted after a day")


class ExportFile(Leased, TimeStampedModel):
    """One Excel export asked for by ``created_by``, written by the worker with what that user
    may see when it runs, kept for a day, and downloadable by that user only."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("asked by"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("export"), max_length=16)
    params = models.JSONField(_("filters"), default=dict)
    full = models.BooleanField(_("full ID numbers and phones"), default=False)
    status = models.CharField(
        _("status"), max_length=16, choices=FileStatus.choices, default=FileStatus.QUEUED, db_index=True
    )
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_done = models.PositiveIntegerField(_("rows written"), default=0)
    file_name = models.CharField(_("file name"), max_length=120, blank=True)
    stored_as = models.CharField(_("stored as"), max_length=200, blank=True)
    size = models.PositiveBigIntegerField(_("size in bytes"), default=0)
    scope_paths = models.JSONField(_("scope when written"), default=list)  # the asker's roots then
    error = models.CharField(_("error"), max_length=500, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("export file")
        verbose_name_plural = _("export files")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.file_name or f"export {self.pk}"

    @property
    def is_finished(self) -> bool:
        return self.status not in {FileStatus.QUEUED, FileStatus.RUNNING}

    @property
    def percent(self) -> int:
        if self.status == FileStatus.SUCCEEDED:
            return 100
        return min(99, 100 * self.rows_done // self.rows_total) if self.rows_total else 0
