"""Close (密接) and secondary (次密接) contacts of a case, and the chain from contact to case."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fangkong.common.leases import Leased
from fangkong.common.models import TimeStampedModel
from fangkong.people.models import SpreadsheetImport


class ContactKind(models.TextChoices):
    CLOSE = "close", _("Close contact")
    SECONDARY = "secondary", _("Secondary contact")
    COMPANION = "companion", _("Spatiotemporal companion")


class ExposureType(models.TextChoices):
    HOUSEHOLD = "household", _("Household")
    WORKPLACE = "workplace", _("Workplace or school")
    VENUE = "venue", _("Venue")
    TRANSPORT = "transport", _("Transport")
    MEDICAL = "medical", _("Medical care")
    COLOCATION = "colocation", _("Same place and time (location data)")
    SOCIAL = "social", _("Social gathering")
    OTHER = "other", _("Other")


class DiscoveredBy(models.TextChoices):
    MANUAL = "manual", _("Entered by hand")
    HOUSEHOLD = "household", _("Household of a close contact")
    VENUE = "venue", _("Venue check-ins")
    COLOCATION = "colocation", _("Location data")


class ContactStatus(models.TextChoices):
    PROPOSED = "proposed", pgettext_lazy("contact status", "Proposed")
    CONFIRMED = "confirmed", pgettext_lazy("contact status", "Confirmed")
    DISMISSED = "dismissed", pgettext_lazy("contact status", "Dismissed")
    HANDED_OFF = "handed_off", pgettext_lazy("contact status", "Handed off")


class Contact(TimeStampedModel):
    """``person`` was exposed to ``source_case`` (directly, or through ``via_contact`` for a
    secondary contact). Visible to both the case's area and the contact's own grid."""

    scope_path = ("source_case__org_unit__path", "org_unit__path")

    source_case = models.ForeignKey(
        "cases.Case", verbose_name=_("case"), on_delete=models.CASCADE, related_name="contacts"
    )
    person = models.ForeignKey(
        "people.Person", verbose_name=_("person"), on_delete=models.PROTECT, related_name="contacts"
    )
    org_unit = models.ForeignKey(
        "orgs.OrgUnit", verbose_name=_("grid"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=ContactKind.choices, default=ContactKind.CLOSE)
    via_contact = models.ForeignKey(
        "self",
        verbose_name=_("through contact"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="secondary",
    )
    exposure_type = models.CharField(_("exposure"), max_length=16, choices=ExposureType.choices)
    first_exposure = models.DateTimeField(_("first exposure"))
    last_exposure = models.DateTimeField(_("last exposure"))
    discovered_by = models.CharField(
        _("found by"), max_length=16, choices=DiscoveredBy.choices, default=DiscoveredBy.MANUAL
    )
    status = models.CharField(
        _("status"), max_length=16, choices=ContactStatus.choices, default=ContactStatus.PROPOSED
    )
    decided_at = models.DateTimeField(_("confirmed or dismissed at"), null=True, blank=True)
    controlled_at = models.DateTimeField(  # kept by fangkong.contacts.control
        _("under control at"), null=True, blank=True, editable=False
    )
    became_case = models.ForeignKey(
        "cases.Case",
        verbose_name=_("became case"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="from_contacts",
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    score = models.PositiveSmallIntegerField(  # set by fangkong.contacts.triage
        _("score"), default=0, db_index=True
    )

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-last_exposure", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["source_case", "person", "kind"], name="contact_once_per_case"),
            models.CheckConstraint(
                condition=models.Q(last_exposure__gte=models.F("first_exposure")), name="exposure_in_order"
            ),
        ]

    def __str__(self) -> str:
        kind = ContactKind(self.kind).label if self.kind in ContactKind.values else self.kind
        return f"{kind} {self.person_id} ← {self.source_case_id}"


class ContactImport(SpreadsheetImport):
    """A list of close contacts of one case, from a spreadsheet: all rows or none."""

    scope_path = "case__org_unit__path"

    case = models.ForeignKey(
        "cases.Case", verbose_name=_("case"), on_delete=models.CASCADE, related_name="contact_imports"
    )

    class Meta(SpreadsheetImport.Meta):
        verbose_name = _("contact import")
        verbose_name_plural = _("contact imports")

    @property
    def org_unit(self) -> Any:
        """Owned like its case (for the audit trail's scope)."""
        return self.case.org_unit


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Finished")
    FAILED = "failed", _("Failed")


class DiscoveryRun(Leased, TimeStampedModel):
    """One automatic search for the contacts of ``case`` in the location data and venue
    check-ins, run by the worker. Its proposals are written all at once at the end, so a run
    that fails or is interrupted leaves none behind."""

    scope_path = "case__org_unit__path"

    case = models.ForeignKey(
        "cases.Case", verbose_name=_("case"), on_delete=models.CASCADE, related_name="discovery_runs"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("started by"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(_("status"), max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED)
    stage = models.CharField(_("stage"), max_length=32, blank=True)
    percent = models.PositiveSmallIntegerField(_("progress"), default=0)
    range_start = models.DateTimeField(_("searched from"))
    range_end = models.DateTimeField(_("searched until"))
    clamped = models.BooleanField(_("clamped to the look-back"), default=False)
    backend = models.CharField(_("engine"), max_length=16)
    params = models.JSONField(_("thresholds"), default=dict)
    no_data = models.BooleanField(_("no location data for the case"), default=False)
    exposures = models.PositiveIntegerField(_("exposures found"), default=0)
    people_found = models.PositiveIntegerField(_("people found"), default=0)
    proposed = models.PositiveIntegerField(_("contacts proposed"), default=0)
    companions = models.PositiveIntegerField(_("spatiotemporal companions"), default=0)
    already_contacts = models.PositiveIntegerField(_("already contacts"), default=0)
    unknown_people = models.PositiveIntegerField(_("not in the register"), default=0)
    # Rows of the whole dataset the engine left out: no person, place or time (NULL).
    pings_dropped = models.PositiveBigIntegerField(_("pings left out"), default=0)
    checkins_dropped = models.PositiveBigIntegerField(_("check-ins left out"), default=0)
    error = models.CharField(_("error"), max_length=500, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("contact discovery")
        verbose_name_plural = _("contact discoveries")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"discovery {self.pk} of case {self.case_id}"

    @property
    def is_finished(self) -> bool:
        return self.status in {RunStatus.SUCCEEDED, RunStatus.FAILED}

    @property
    def org_unit(self) -> Any:
        """Owned like its case (for the audit trail's scope)."""
        return self.case.org_unit


class WhereKind(models.TextChoices):
    CELL = "cell", _("Location cell")
    VENUE = "venue", _("Venue")


class ContactEvidence(models.Model):
    """Why a discovery run proposed a contact: one shared stay in a cell or visit to a venue."""

    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), on_delete=models.CASCADE, related_name="evidence"
    )
    run = models.ForeignKey(
        DiscoveryRun, verbose_name=_("discovery"), on_delete=models.CASCADE, related_name="evidence"
    )
    where_kind = models.CharField(_("where"), max_length=8, choices=WhereKind.choices)
    where_id = models.BigIntegerField(_("cell or venue"))
    place = models.CharField(_("place"), max_length=120, blank=True)
    start = models.DateTimeField(_("from"))
    end = models.DateTimeField(_("until"))
    minutes = models.FloatField(_("minutes"))

    class Meta:
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")
        ordering = ["start", "id"]

    def __str__(self) -> str:
        return f"{self.where_kind} {self.where_id} {self.start:%Y-%m-%d %H:%M}"


class HandoffStatus(models.TextChoices):
    REQUESTED = "requested", pgettext_lazy("hand-off status", "Requested")
    ACCEPTED = "accepted", pgettext_lazy("hand-off status", "Accepted")
    DECLINED = "declined", pgettext_lazy("hand-off status", "Declined")


class Handoff(TimeStampedModel):
    """A contact who lives outside the scope of the case's team, handed to the person's home unit
    (协查): that unit accepts it (and makes the orders there) or declines it with a reason."""

    scope_path = ("contact__source_case__org_unit__path", "contact__org_unit__path")

    contact = models.OneToOneField(
        Contact, verbose_name=_("contact"), on_delete=models.CASCADE, related_name="handoff"
    )
    status = models.CharField(
        _("status"), max_length=16, choices=HandoffStatus.choices, default=HandoffStatus.REQUESTED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("hand-off")
        verbose_name_plural = _("hand-offs")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"handoff {self.pk} of contact {self.contact_id}"

    @property
    def org_unit_id(self) -> int:
        """Owned by the person's home grid (for the audit trail's scope)."""
        return int(self.contact.org_unit_id)


class CompanionTest(models.Model):
    """One of the tests a spatiotemporal companion is asked to take (三天两检: two in three days)."""

    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), on_delete=models.CASCADE, related_name="companion_tests"
    )
    number = models.PositiveSmallIntegerField(_("test"))
    due_on = models.DateField(_("due on"))
    tested_at = models.DateTimeField(_("tested at"), null=True, blank=True)
    result = models.CharField(_("result"), max_length=16, blank=True)

    class Meta:
        verbose_name = _("companion test")
        verbose_name_plural = _("companion tests")
        ordering = ["contact_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["contact", "number"], name="companion_test_once"),
        ]

    def __str__(self) -> str:
        return f"companion test {self.number} of contact {self.contact_id}"


class ProposalDecision(Leased, TimeStampedModel):
    """One decision on every proposal a review filter matched (up to the bulk limit), run by the
    worker in chunks: each chunk is one batch and commits with the position it reached, so a
    worker that dies resumes where the last chunk ended and nothing is half-written."""

    scope_path = "case__org_unit__path"

    case = models.ForeignKey(
        "cases.Case", verbose_name=_("case"), on_delete=models.CASCADE, related_name="proposal_decisions"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("decided by"), on_delete=models.PROTECT, related_name="+"
    )
    decision = models.CharField(_("decision"), max_length=16)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    contact_ids = models.JSONField(_("contacts"), default=list)
    status = models.CharField(_("status"), max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED)
    position = models.PositiveIntegerField(_("contacts gone through"), default=0)
    done = models.PositiveIntegerField(_("decided"), default=0)
    handed_off = models.PositiveIntegerField(_("handed off"), default=0)
    refused = models.JSONField(_("not decided"), default=list)
    error = models.CharField(_("error"), max_length=500, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("decision on proposals")
        verbose_name_plural = _("decisions on proposals")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.decision} of {len(self.contact_ids)} proposals of case {self.case_id}"

    @property
    def total(self) -> int:
        return len(self.contact_ids)

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, self.position * 100 // self.total)

    @property
    def is_finished(self) -> bool:
        return self.status in {RunStatus.SUCCEEDED, RunStatus.FAILED}

    @property
    def org_unit(self) -> Any:
        """Owned like its case (for the audit trail's scope)."""
        return self.case.org_unit
