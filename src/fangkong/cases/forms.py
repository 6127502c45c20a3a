"""Forms of the cases pages. Times are typed as ``2022-05-03 14:30`` (local time)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fangkong.cases.investigations import TIME_FORMAT
from fangkong.cases.models import Classification, Origin, Severity
from fangkong.common.forms import DateWidget

NEW_CASE = [(c.value, c.label) for c in Classification if c != Classification.EXCLUDED]


def _time_field(label: Any, *, required: bool = True) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        input_formats=[TIME_FORMAT, "%Y-%m-%dT%H:%M"],
        widget=forms.TextInput(attrs={"placeholder": "2022-05-03 14:30", "inputmode": "numeric", "size": 16}),
    )


class CaseForm(forms.Form):
    person = forms.CharField(
        label=_("Person"),
        max_length=40,
        help_text=_("Full ID number, mobile, or the record number shown on the person's page."),
    )
    classification = forms.ChoiceField(label=_("Classification"), choices=NEW_CASE)
    reported_at = _time_field(_("Reported at"))
    origin = forms.ChoiceField(label=_("Origin"), choices=Origin.choices)
    hospital = forms.CharField(label=_("Treating hospital"), max_length=200, required=False)
    onset_date = forms.DateField(label=_("Symptom onset"), required=False, widget=DateWidget())
    sampled_at = _time_field(_("Sampled at"), required=False)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("reported_at", timezone.localtime().strftime(TIME_FORMAT))


class ClassifyForm(forms.Form):
    to = forms.ChoiceField(choices=Classification.choices)
    at = _time_field(_("At"), required=False)
    severity = forms.ChoiceField(choices=[("", "—"), *Severity.choices], required=False)
