"""Form pieces every app shares."""

from __future__ import annotations

from typing import Any

from django import forms


class DateWidget(forms.DateInput):
    """A browser date picker. Its value is always ISO ``YYYY-MM-DD`` — the only format
    ``<input type="date">`` accepts — whatever the language's date format (zh-Hans writes
    ``2022/05/03``, which the browser would drop, leaving the field blank)."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")
