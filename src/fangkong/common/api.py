"""What every app's API shares: authentication, error answers, page envelopes."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Generic, TypeVar

from django.http import HttpRequest
from ninja import Schema
from pydantic import Field

from fangkong.common.bounds import EARLIEST_DAY, LATEST_DAY, MAX_ID
from fangkong.common.errors import DomainError, Invalid
from fangkong.common.pagination import Page

T = TypeVar("T")

# The bounded types of every API filter (DESIGN: no input may cause an error 500): a key the
# databases can hold, a page number, a day the platform takes, a search without NUL.
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
PageNumber = Annotated[int, Field(ge=1, le=1_000_000)]
Day = Annotated[date, Field(ge=EARLIEST_DAY, le=LATEST_DAY)]
Search = Annotated[str, Field(max_length=100, pattern=r"^[^\x00]*$")]


class ErrorOut(Schema):
    detail: str
    errors: dict[str, list[str]] = {}


class PageOut(Schema, Generic[T]):
    items: list[T]
    page: int
    pages: int
    total: int


def page_out(page: Page[Any]) -> dict[str, Any]:
    """The envelope of one page; the route's response schema shapes each item."""
    return {
        "items": page.items,
        "page": page.number,
        "pages": page.pages,
        "total": page.total,
    }


def domain_error_body(error: DomainError) -> dict[str, Any]:
    body: dict[str, Any] = {"detail": error.message}
    if isinstance(error, Invalid):
        body["errors"] = error.errors
    if error.status == 404:
        body = {"detail": "Not Found"}
    return body


def actor_of(request: HttpRequest) -> Any:
    """The authenticated user of a request (by session or by API token)."""
    return request.auth if getattr(request, "auth", None) is not None else request.user  # type: ignore[attr-defined]
