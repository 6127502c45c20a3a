"""The outbox: every text message the platform sends or refused to send, one row each.

The phone is PII: stored encrypted, found by its blind index (purpose ``phone``, as a person's),
shown masked. A message's life: queued → sending (claimed by the sender, one UPDATE) → sent,
failed (the provider said no) or unknown (the request may have reached the provider and no answer
came back: never sent again by itself). A message that broke a rule (the daily limit, a number
that cannot take a text) is stored as refused, so that it is seen.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fangkong.notify.templates import TEMPLATES
from fangkong.worklist.models import SUBJECT_PAGES


class Status(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", pgettext_lazy("a text message", "Sent")
    FAILED = "failed", _("Failed")
    UNKNOWN = "unknown", _("Outcome unknown")
    REFUSED = "refused", _("Refused")


# The messages that count towards a number's daily limit: all but those that never left.
COUNTED = (Status.QUEUED, Status.SENDING, Status.SENT, Status.UNKNOWN)


class OutboxMessage(models.Model):
    """One text message to one number, from one template."""

    scope_path = "org_unit__path"

    template = models.CharField(
        _("template"), max_length=40, choices=[(t.name, t.label) for t in TEMPLATES.values()]
    )
    phone_cipher = models.BinaryField(editable=False)
    phone_index = models.CharField(max_length=64, editable=False)
    phone_masked = models.CharField(_("phone"), max_length=20, editable=False)
    person = models.ForeignKey(
        "people.Person",
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    org_unit = models.ForeignKey(
        "orgs.OrgUnit",
        verbose_name=_("unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    params = models.JSONField(_("parameters"), default=dict)
    body = models.TextField(_("text"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    provider = models.CharField(_("provider"), max_length=20, blank=True)
    provider_batch_id = models.CharField(_("provider batch id"), max_length=100, blank=True)
    provider_message_id = models.CharField(_("provider message id"), max_length=100, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    claim = models.CharField(max_length=32, blank=True, editable=False)  # the sender run that holds it
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    subject_type = models.CharField(_("subject type"), max_length=64, blank=True)
    subject_id = models.CharField(_("subject id"), max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("queued by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("queued at"), default=timezone.now, db_index=True)
    sending_at = models.DateTimeField(_("handed to the provider at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("text message")
        verbose_name_plural = _("text messages")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["phone_index", "created_at"], name="outbox_phone_day"),
            models.Index(fields=["status", "template", "id"], name="outbox_queue"),
            models.Index(fields=["subject_type", "subject_id"], name="outbox_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.get_template_display()} → {self.phone_masked}"

    @property
    def subject_url(self) -> str:
        """The page of what the message is about, or "" when it has none."""
        page = SUBJECT_PAGES.get(self.subject_type)
        if page is None or not self.subject_id.isdigit():
            return ""
        try:
            return reverse(page[0], kwargs={page[1]: int(self.subject_id)})
        except NoReverseMatch:
            return ""
