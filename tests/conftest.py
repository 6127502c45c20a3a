"""Shared fixtures: a small tree with two grids in one community, and actors on it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from fangkong.orgs.models import OrgUnit
from tests.orgs.factories import OrgUnitFactory, UserFactory, user_with_role
from tests.orgs.second_factor import second_factor_pass


@dataclass
class Tree:
    city: OrgUnit
    district: OrgUnit
    street: OrgUnit
    community: OrgUnit
    grid_a: OrgUnit
    grid_b: OrgUnit
    other_district: OrgUnit
    grid_far: OrgUnit


@pytest.fixture
def tree(db: Any) -> Tree:
    city = OrgUnitFactory(name="鹏城市")
    district = OrgUnitFactory(parent=city, name="东区")
    street = OrgUnitFactory(parent=district, name="东门街道")
    community = OrgUnitFactory(parent=street, name="湖贝社区")
    grid_a = OrgUnitFactory(parent=community, name="第1网格")
    grid_b = OrgUnitFactory(parent=community, name="第2网格")
    other = OrgUnitFactory(parent=city, name="西区")
    far_street = OrgUnitFactory(parent=other, name="西门街道")
    far_community = OrgUnitFactory(parent=far_street, name="西湖社区")
    grid_far = OrgUnitFactory(parent=far_community, name="第9网格")
    return Tree(city, district, street, community, grid_a, grid_b, other, grid_far)


@pytest.fixture
def admin_user(db: Any) -> Any:
    return UserFactory(username="root", is_superuser=True, is_staff=True)


@pytest.fixture
def grid_worker(tree: Tree) -> Any:
    return user_with_role("grid_worker", tree.grid_a, username="gw_a")


@pytest.fixture
def epidemiologist(tree: Tree) -> Any:
    return user_with_role("epidemiologist", tree.district, username="epi")


@pytest.fixture
def commander(tree: Tree) -> Any:
    return user_with_role("commander", tree.city, username="cmd")


@pytest.fixture(autouse=True)
def _test_logins_pass_the_second_factor(monkeypatch: Any) -> None:
    """``client.force_login``/``client.login`` skip the login form; they skip its second step
    too (``tests.orgs.second_factor``). Tests of the second factor log in through the forms."""
    original = Client._login

    def login(self: Client, user: Any, backend: str | None = None) -> None:
        original(self, user, backend)
        second_factor_pass(self, user)

    monkeypatch.setattr(Client, "_login", login)


def pytest_configure(config: Any) -> None:
    # Playwright's sync API runs an event loop in the test thread; Django's ORM refuses to run
    # inside one unless told it is safe (each test is single-threaded, so it is).
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def lab_user(tree: Tree) -> Any:
    return user_with_role("lab", tree.district, username="lab")
