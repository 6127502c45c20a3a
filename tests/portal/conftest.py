"""Fixtures of the portal tests: a publisher at the city, a clean page cache for every test."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache

from tests.orgs.factories import user_with_role


@pytest.fixture(autouse=True)
def _clean_cache() -> Any:
    cache.clear()  # cached public pages of an earlier test's database must not leak in
    yield
    cache.clear()


@pytest.fixture
def publisher(tree: Any) -> Any:
    return user_with_role("publisher", tree.city, username="pub")
