"""Two records of one person merged: a person has at most one open case."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from fangkong.common.errors import Invalid


def refuse_two_open_cases(sender: Any, *, actor: Any, keep: Any, drop: Any, **kwargs: Any) -> None:
    """One person has at most one open case: two records that each have one are not merged."""
    from fangkong.cases.models import Case, Classification

    open_cases = Case.objects.exclude(classification=Classification.EXCLUDED)
    mine, theirs = open_cases.filter(person=keep).first(), open_cases.filter(person=drop).first()
    if mine is not None and theirs is not None:
        raise Invalid.field(
            "drop_id",
            _("Both records have an open case (%(a)s and %(b)s): exclude the wrong one first, then merge.")
            % {"a": mine.number, "b": theirs.number},
        )
