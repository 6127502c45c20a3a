"""A work item: one step of the work at the last kilometre, owned by an org unit, due at a time."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fangkong.common.models import TimeStampedModel
from fangkong.worklist.kinds import kind_label


class Status(models.TextChoices):
    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_STATUSES = (Status.OPEN, Status.IN_PROGRESS)


def open_condition() -> RawSQL:
    """``status in OPEN_STATUSES`` written out with its values, for filters over many items: SQLite
    uses the partial index ``workitem_open`` only for a condition it can read (a bound parameter
    could be anything). The values are the constants above, never input."""
    values = ", ".join(f"'{status}'" for status in OPEN_STATUSES)
    column = f'"{WorkItem._meta.db_table}"."status"'  # the table by its name: not for a query that aliases it
    return RawSQL(f"{column} IN ({values})", [], output_field=models.BooleanField())  # noqa: S611


class Priority(models.TextChoices):
    NORMAL = "normal", _("Normal")
    URGENT = "urgent", _("Urgent")


# The page each kind of subject opens on (URL names only: the worklist imports no domain app).
SUBJECT_PAGES: dict[str, tuple[str, str]] = {
    "cases.case": ("cases:detail", "case_id"),
    "quarantine.quarantineorder": ("quarantine:order", "order_id"),
    "people.person": ("people:detail", "person_id"),
    "helpdesk.helprequest": ("helpdesk:detail", "request_id"),
    "testing.recall": ("testing:recall", "recall_id"),
}


class WorkItem(TimeStampedModel):
    """``kind`` names the step (e.g. ``case.investigate``); ``subject`` is the object it is about."""

    scope_path = "org_unit__path"

    kind = models.CharField(_("kind"), max_length=64, db_index=True)
    title = models.CharField(_("title"), max_length=200)
    priority = models.CharField(
        _("priority"), max_length=16, choices=Priority.choices, default=Priority.NORMAL
    )
    subject_type = models.CharField(_("subject type"), max_length=64, blank=True)
    subject_id = models.CharField(_("subject id"), max_length=64, blank=True)
    org_unit = models.ForeignKey(
        "orgs.OrgUnit", verbose_name=_("owner unit"), on_delete=models.PROTECT, related_name="work_items"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="work_items",
    )
    due_at = models.DateTimeField(_("due at"), db_index=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True, max_length=2000)

    class Meta:
        verbose_name = _("work item")
        verbose_name_plural = _("work items")
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["status", "due_at"]),
            # the work of one subject (the first step of a quarantine order, for timeliness)
            models.Index(fields=["subject_id", "kind"], name="workitem_subject"),
            # the open work of units (the queue and the dashboard's overdue counts)
            models.Index(
                fields=["org_unit", "due_at"], condition=Q(status__in=OPEN_STATUSES), name="workitem_open"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def kind_label(self) -> str:
        return kind_label(self.kind)

    @property
    def subject_url(self) -> str:
        """The page of what the item is about, or "" when it has none."""
        page = SUBJECT_PAGES.get(self.subject_type)
        if page is None or not self.subject_id.isdigit():
            return ""
        try:
            return reverse(page[0], kwargs={page[1]: int(self.subject_id)})
        except NoReverseMatch:
            return ""

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.due_at < timezone.now()
