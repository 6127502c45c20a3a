"""Forms of the staff pages (the services validate again; these shape the input)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from fangkong.common.forms import DateWidget
from fangkong.portal.models import RiskLevel, Verdict


class UnitChoice(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: object) -> str:
        return f"{getattr(obj, 'name', '')} ({getattr(obj, 'code', '')})"


class DraftForm(forms.Form):
    unit = UnitChoice(label=_("Covers"), queryset=None)
    day = forms.DateField(label=_("Date"), widget=DateWidget())


class BulletinForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    body = forms.CharField(
        label=_("Text"),
        widget=forms.Textarea(attrs={"rows": 20, "class": "publish-body"}),
        help_text=_("Plain text: an empty line starts a paragraph."),
    )


class DesignateForm(forms.Form):
    unit = UnitChoice(label=_("Area, or the unit a named place lies in"), queryset=None)
    place = forms.CharField(label=_("Named place (optional)"), max_length=200, required=False)
    level = forms.ChoiceField(label=_("Level"), choices=RiskLevel.choices)
    since = forms.DateField(label=_("Since"), widget=DateWidget())
    reason = forms.CharField(label=_("Reason"), max_length=500)


class RebuttalForm(forms.Form):
    claim = forms.CharField(label=_("Claim"), max_length=300)
    verdict = forms.ChoiceField(label=_("Verdict"), choices=Verdict.choices)
    explanation = forms.CharField(label=_("Explanation"), widget=forms.Textarea(attrs={"rows": 10}))
    sources = forms.CharField(
        label=_("Sources (one per line)"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    date = forms.DateField(label=_("Date"), widget=DateWidget())


class ArticleForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    summary = forms.CharField(label=_("Summary"), max_length=500, required=False)
    body = forms.CharField(
        label=_("Text"), widget=forms.Textarea(attrs={"rows": 20, "class": "publish-body"})
    )
