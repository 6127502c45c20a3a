"""Date pickers keep the ISO value the browser needs, in either language."""

from __future__ import annotations

from datetime import date

import pytest
from django import forms
from django.utils import translation

from fangkong.common.forms import DateWidget


class _Form(forms.Form):
    day = forms.DateField(widget=DateWidget())


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_date_is_rendered_as_iso_in_every_language(language):
    with translation.override(language):
        html = str(_Form(initial={"day": date(2022, 5, 3)})["day"])
    assert 'type="date"' in html and 'value="2022-05-03"' in html
