"""Help requests ("电话发我": leave your number, we call you back) and the calls made about them.

A request belongs to the community it was routed to (``org_unit``); a missed call-back deadline
raises it to the unit above (``escalated_to``), one level per missed deadline. The resident's
phone and address detail are PII: stored encrypted, shown masked, revealed only by an audited action.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fangkong.common.models import TimeStampedModel


class Category(models.TextChoices):
    MEDICINE = "medicine", _("Medicine")
    MEDICAL_CARE = "medical_care", _("Medical care")
    FOOD = "food", _("Food and supplies")
    CARE = "care", _("Care for the elderly or disabled")
    PSYCHOLOGICAL = "psychological", _("Psychological support")
    OTHER = "other", _("Other")


class Urgency(models.TextChoices):
    URGENT = "urgent", _("Urgent")
    NORMAL = "normal", _("Normal")


class Status(models.TextChoices):
    OPEN = "open", _("Waiting for an operator")
    CLAIMED = "claimed", _("Being handled")
    RESOLVED = "resolved", _("Resolved")


class Outcome(models.TextChoices):
    REACHED = "reached", _("Reached the resident")
    NO_ANSWER = "no_answer", _("No answer")
    BUSY = "busy", _("Line busy")
    WRONG_NUMBER = "wrong_number", _("Wrong number")


UNRESOLVED = (Status.OPEN, Status.CLAIMED)
ESCALATION_KIND = "helpdesk.escalated"  # the work item a missed deadline gives the unit above


class HelpRequest(TimeStampedModel):
    """One resident's need. ``due_at`` is the call-back deadline the protocol sets at submission."""

    scope_path = "org_unit__path"

    ticket = models.CharField(_("ticket"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=50)
    phone_cipher = models.BinaryField(editable=False)
    phone_index = models.CharField(max_length=64, db_index=True, editable=False)
    phone_masked = models.CharField(_("phone"), max_length=20, editable=False)
    org_unit = models.ForeignKey(
        "orgs.OrgUnit", verbose_name=_("community"), on_delete=models.PROTECT, related_name="help_requests"
    )
    grid = models.ForeignKey(
        "orgs.OrgUnit",
        verbose_name=_("grid"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    address_cipher = models.BinaryField(null=True, editable=False)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices)
    description = models.TextField(_("description"), max_length=1000)
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now, db_index=True)
    due_at = models.DateTimeField(_("call back by"), db_index=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("operator"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="claimed_help_requests",
    )
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    called_back_at = models.DateTimeField(_("first call back"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolution = models.TextField(_("resolution"), blank=True, max_length=2000)
    escalated_to = models.ForeignKey(
        "orgs.OrgUnit",
        verbose_name=_("escalated to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="escalated_help_requests",
    )
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    rating = models.PositiveSmallIntegerField(_("rating"), null=True, blank=True)
    rating_comment = models.CharField(_("comment"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("help request")
        verbose_name_plural = _("help requests")
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["status", "due_at"]),
            models.Index(fields=["phone_index", "submitted_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.ticket} · {self.get_category_display()}"

    @property
    def is_open(self) -> bool:
        return self.status in UNRESOLVED

    @property
    def overdue(self) -> bool:
        """Not yet called back and past the deadline."""
        return self.called_back_at is None and self.is_open and timezone.now() > self.due_at

    @property
    def within_sla(self) -> bool | None:
        """Whether the first call back came by the deadline; None while none came and time is left."""
        if self.called_back_at is not None:
            return self.called_back_at <= self.due_at
        return False if timezone.now() > self.due_at else None

    @property
    def ticket_display(self) -> str:
        return f"{self.ticket[:4]}-{self.ticket[4:]}"


class CallLog(TimeStampedModel):
    """One call an operator made about a request, whatever its outcome."""

    scope_path = "request__org_unit__path"

    request = models.ForeignKey(HelpRequest, on_delete=models.CASCADE, related_name="calls")
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("operator"), on_delete=models.PROTECT, related_name="+"
    )
    called_at = models.DateTimeField(_("called at"), default=timezone.now)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    note = models.TextField(_("note"), blank=True, max_length=2000)

    class Meta:
        verbose_name = _("call back")
        verbose_name_plural = _("call backs")
        ordering = ["called_at", "id"]

    def __str__(self) -> str:
        return f"{self.request.ticket} · {self.get_outcome_display()}"
