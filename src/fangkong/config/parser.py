"""The API's reader of input: JSON bodies, query strings and forms, with no NUL character.

PostgreSQL refuses NUL in text and in JSON (an error 500 when it reaches a query or a row);
SQLite stores it or matches everything with it. No field of the platform means anything by it,
so the API refuses it, by field, before any schema or service sees the input (422, ``ErrorOut``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.http import HttpRequest
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from ninja.errors import ValidationError
from ninja.parser import Parser

NUL = "\x00"


class NulFreeParser(Parser):
    """ninja's parser, refusing any string (a value or a key) that holds NUL.

    A refusal is ninja's ``ValidationError``; ninja reports a failed body parse as a 400 with the
    error as its cause, which ``config.api`` answers as the 422 it is."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        data = super().parse_body(request)
        _refuse(_nul_places(data, ("body",)))
        return data

    def parse_querydict(
        self, data: MultiValueDict[str, Any], list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        parsed = super().parse_querydict(data, list_fields, request)
        _refuse(_nul_places(parsed, ()))
        return parsed


def _refuse(places: list[tuple[str | int, ...]]) -> None:
    if places:
        message = _("Null characters are not allowed.")
        raise ValidationError([{"loc": place, "msg": message, "type": "nul_character"} for place in places])


def _nul_places(value: Any, place: tuple[str | int, ...]) -> list[tuple[str | int, ...]]:
    return list(_walk(value, place))


def _walk(value: Any, place: tuple[str | int, ...]) -> Iterator[tuple[str | int, ...]]:
    if isinstance(value, str):
        if NUL in value:
            yield place
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and NUL in key:
                yield (*place, key.replace(NUL, ""))
            else:
                yield from _walk(item, (*place, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, (*place, index))
