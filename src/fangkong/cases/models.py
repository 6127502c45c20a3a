"""Cases (病例) and their timeline; flow investigations (流调) and itineraries live in ``investigations``.

Classification moves only suspected → confirmed | asymptomatic | excluded and
asymptomatic → confirmed; the outcome only in_treatment → recovered | deceased (an excluded case is
closed with its exclusion). Every move is
a ``CaseEvent`` with the time it happened and the time it was recorded.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fangkong.common.models import TimeStampedModel


class Classification(models.TextChoices):
    SUSPECTED = "suspected", _("Suspected")
    CONFIRMED = "confirmed", _("Confirmed")
    ASYMPTOMATIC = "asymptomatic", _("Asymptomatic infection")
    EXCLUDED = "excluded", _("Excluded")


CLASSIFICATION_MOVES: dict[str, frozenset[str]] = {
    Classification.SUSPECTED: frozenset(
        {Classification.CONFIRMED, Classification.ASYMPTOMATIC, Classification.EXCLUDED}
    ),
    Classification.ASYMPTOMATIC: frozenset({Classification.CONFIRMED}),
    Classification.CONFIRMED: frozenset(),
    Classification.EXCLUDED: frozenset(),
}


class Outcome(models.TextChoices):
    IN_TREATMENT = "in_treatment", _("In treatment")
    RECOVERED = "recovered", _("Recovered")
    DECEASED = "deceased", _("Deceased")
    CLOSED = "closed", _("Closed: not a case")  # an excluded case: nothing to treat


OUTCOME_MOVES: dict[str, frozenset[str]] = {
    Outcome.IN_TREATMENT: frozenset({Outcome.RECOVERED, Outcome.DECEASED}),
    Outcome.RECOVERED: frozenset(),
    Outcome.DECEASED: frozenset(),
    Outcome.CLOSED: frozenset(),
}


class Severity(models.TextChoices):
    MILD = "mild", _("Mild")
    MODERATE = "moderate", _("Moderate")
    SEVERE = "severe", _("Severe")
    CRITICAL = "critical", _("Critical")


class Origin(models.TextChoices):
    LOCAL = "local", pgettext_lazy("case origin", "Local")
    IMPORTED = "imported", pgettext_lazy("case origin", "Imported")


class Case(TimeStampedModel):
    """A person registered as a case; owned by the grid the person lived on when reported."""

    scope_path = "org_unit__path"

    number = models.CharField(_("case number"), max_length=32, unique=True)
    person = models.ForeignKey(
        "people.Person", verbose_name=_("person"), on_delete=models.PROTECT, related_name="cases"
    )
    org_unit = models.ForeignKey(
        "orgs.OrgUnit", verbose_name=_("grid"), on_delete=models.PROTECT, related_name="cases"
    )
    district = models.ForeignKey(
        "orgs.OrgUnit", verbose_name=_("district"), on_delete=models.PROTECT, related_name="district_cases"
    )
    classification = models.CharField(_("classification"), max_length=16, choices=Classification.choices)
    outcome = models.CharField(
        _("outcome"), max_length=16, choices=Outcome.choices, default=Outcome.IN_TREATMENT
    )
    severity = models.CharField(_("severity"), max_length=16, choices=Severity.choices, blank=True)
    origin = models.CharField(_("origin"), max_length=16, choices=Origin.choices, default=Origin.LOCAL)
    hospital = models.CharField(_("treating hospital"), max_length=100, blank=True)
    onset_date = models.DateField(_("symptom onset"), null=True, blank=True)
    sampled_at = models.DateTimeField(_("sampled at"), null=True, blank=True)
    reported_at = models.DateTimeField(_("reported at"), db_index=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    asymptomatic_at = models.DateTimeField(_("classified asymptomatic at"), null=True, blank=True)
    excluded_at = models.DateTimeField(_("excluded at"), null=True, blank=True)
    outcome_at = models.DateTimeField(_("outcome at"), null=True, blank=True)
    contacts_identified_at = models.DateTimeField(
        _("all close contacts identified at"), null=True, blank=True
    )
    contacts_controlled_at = models.DateTimeField(
        _("all close contacts under control at"), null=True, blank=True
    )
    note = models.TextField(_("note"), blank=True, max_length=2000)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-reported_at", "-id"]
        indexes = [
            models.Index(fields=["district", "classification", "reported_at"]),
            # the dashboard's tallies and timeliness, answered from the index alone
            models.Index(
                fields=["reported_at", "classification", "origin", "district", "org_unit", "onset_date"],
                name="case_report_tally",
            ),
            models.Index(
                fields=["onset_date", "classification", "origin", "org_unit"], name="case_onset_tally"
            ),
            models.Index(
                fields=[
                    "classification",
                    "confirmed_at",
                    "org_unit",
                    "contacts_identified_at",
                    "contacts_controlled_at",
                ],
                name="case_timeliness",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["person"],
                condition=~models.Q(classification="excluded"),
                name="one_open_case_per_person",
            )
        ]

    def __str__(self) -> str:
        return self.number


class CaseCounter(models.Model):
    """The last case number given in a district in a year (numbers are per district and year)."""

    district = models.ForeignKey("orgs.OrgUnit", on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["district", "year"], name="case_counter_unique")]

    def __str__(self) -> str:
        return f"{self.district_id}/{self.year}: {self.last}"


class CaseEvent(models.Model):
    """One step in a case's timeline: ``at`` is when it happened, ``recorded_at`` when it was entered."""

    scope_path = "case__org_unit__path"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("kind"), max_length=32)
    from_value = models.CharField(_("from"), max_length=32, blank=True)
    to_value = models.CharField(_("to"), max_length=32, blank=True)
    at = models.DateTimeField(_("at"))
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.from_value}→{self.to_value}"


class Investigation(TimeStampedModel):
    """The flow investigation (流调) of one case: opened with the case, started and completed by an
    epidemiologist. Household and workplace are part of what the itinerary and contacts record."""

    scope_path = "case__org_unit__path"

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="investigation")
    investigator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("investigator"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    workplace = models.CharField(_("workplace or school"), max_length=200, blank=True)
    summary = models.TextField(_("summary"), blank=True, max_length=5000)

    class Meta:
        verbose_name = _("flow investigation")
        verbose_name_plural = _("flow investigations")

    def __str__(self) -> str:
        return f"{self.case.number}"


class ItineraryEntry(TimeStampedModel):
    """Where a case was, and when: a place, a venue, a transport with seat, or a unit of the tree.

    ``publish`` marks an entry for the public bulletin, which shows only its place and time.
    """

    scope_path = "investigation__case__org_unit__path"

    investigation = models.ForeignKey(Investigation, on_delete=models.CASCADE, related_name="itinerary")
    start_at = models.DateTimeField(_("from"))
    end_at = models.DateTimeField(_("until"), null=True, blank=True)
    place = models.CharField(_("place"), max_length=200)
    org_unit = models.ForeignKey(
        "orgs.OrgUnit",
        verbose_name=_("area"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    transport_number = models.CharField(_("train or flight number"), max_length=20, blank=True)
    seat = models.CharField(_("seat"), max_length=20, blank=True)
    publish = models.BooleanField(_("publish"), default=False)

    class Meta:
        verbose_name = _("itinerary entry")
        verbose_name_plural = _("itinerary entries")
        ordering = ["start_at", "id"]

    def __str__(self) -> str:
        return f"{self.start_at:%Y-%m-%d %H:%M} {self.place}"
