"""Pagination at the database, shared by lists in the UI and the API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from django.conf import settings
from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)
T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list (rows of a query, or rows worked out in Python)."""

    items: list[T]
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def paginate(qs: QuerySet[M], *, page: int = 1, size: int | None = None) -> Page[M]:
    """One page of ``qs``; a page number past the end gives the last page, below 1 the first."""
    size = max(1, min(size or settings.FANGKONG_PAGE_SIZE, 200))
    total = qs.count()
    last = max(1, -(-total // size))
    number = min(max(1, page), last)
    start = (number - 1) * size
    return Page(items=list(qs[start : start + size]), number=number, size=size, total=total)
