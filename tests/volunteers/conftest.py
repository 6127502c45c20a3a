from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from fangkong.worklist.services import work_item_create
from tests.orgs.factories import user_with_role


@pytest.fixture
def coordinator(tree: Any) -> Any:
    return user_with_role("volunteer_coordinator", tree.street, username="coord")


@pytest.fixture
def far_coordinator(tree: Any) -> Any:
    return user_with_role("volunteer_coordinator", tree.grid_far.parent.parent, username="coord_far")


def open_item(unit: Any, *, kind: str = "quarantine.notice", title: str = "送隔离告知书") -> Any:
    return work_item_create(
        actor=None, kind=kind, title=title, org_unit=unit, due_at=timezone.now() + timedelta(hours=4)
    )
