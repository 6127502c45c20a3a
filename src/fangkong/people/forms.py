"""The person form of the staff UI. It only shapes input; the service validates the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fangkong.common.forms import DateWidget
from fangkong.orgs.models import OrgUnit
from fangkong.people.models import IdType, Sex
from fangkong.people.validation import PersonData


class PersonForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    id_type = forms.ChoiceField(label=_("ID type"), choices=IdType.choices, initial=IdType.RESIDENT_ID)
    id_number = forms.CharField(label=_("ID number"), max_length=200)
    phone = forms.CharField(label=_("Mobile phone"), max_length=200, required=False)
    org_unit = forms.ModelChoiceField(label=_("Grid"), queryset=OrgUnit.objects.none())
    building = forms.CharField(
        label=_("Building"), max_length=200, required=False, help_text=_("Number only, e.g. 9 for 9栋.")
    )
    unit = forms.CharField(label=pgettext_lazy("address", "Unit"), max_length=200, required=False)
    room = forms.CharField(label=_("Room"), max_length=200, required=False)
    sex = forms.ChoiceField(
        label=_("Sex (other documents)"), choices=[("", "—"), *Sex.choices], required=False
    )
    birth_date = forms.DateField(
        label=_("Birth date (other documents)"),
        required=False,
        widget=DateWidget(),
    )

    clear_phone = forms.BooleanField(label=_("Remove the phone number"), required=False)

    def __init__(self, *args: Any, grids: Any, editing: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["org_unit"].queryset = grids  # type: ignore[attr-defined]
        only = list(grids[:2])
        if len(only) == 1 and not self.is_bound:
            self.initial.setdefault("org_unit", only[0].pk)
        if editing:
            keep = _("Leave blank to keep the stored one (it is shown masked).")
            self.fields["id_number"].required = False
            self.fields["id_number"].help_text = keep
            self.fields["phone"].help_text = keep
        else:
            del self.fields["clear_phone"]

    def person_data(self) -> PersonData:
        c = self.cleaned_data
        return PersonData(
            name=c["name"],
            id_type=c["id_type"],
            id_number=c["id_number"],
            phone=c.get("phone") or "",
            org_unit_id=c["org_unit"].pk,
            building=c.get("building") or "",
            unit=c.get("unit") or "",
            room=c.get("room") or "",
            sex=c.get("sex") or "",
            birth_date=c.get("birth_date"),
            clear_phone=bool(c.get("clear_phone")),
        )


class ImportForm(forms.Form):
    org_unit = forms.ModelChoiceField(label=_("Import into"), queryset=OrgUnit.objects.none())
    file = forms.FileField(label=_("Spreadsheet (.xlsx or .csv)"))

    def __init__(self, *args: Any, units: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["org_unit"].queryset = units  # type: ignore[attr-defined]
