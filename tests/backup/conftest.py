"""A scratch database of the vendor the suite runs on: a file for SQLite, ``createdb`` for
PostgreSQL (dropped afterwards), for restores that must not touch the test database."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection

from fangkong.people.models import Person
from tests.people.factories import make_person, resident_id


@pytest.fixture
def people(tree: Any, admin_user: Any) -> list[Person]:
    """Two people whose ID numbers and phones are encrypted as in use."""
    return [
        make_person(actor=admin_user, grid=tree.grid_a, name="王小明", id_number=resident_id()),
        make_person(actor=admin_user, grid=tree.grid_b, name="李红", id_number=resident_id(male=False)),
    ]


def _pg(settings_dict: dict[str, Any], *args: str) -> None:
    argv = [args[0], "-h", settings_dict["HOST"] or "127.0.0.1", "-p", str(settings_dict["PORT"] or 5432)]
    argv += ["-U", settings_dict["USER"] or "postgres", *args[1:]]
    env = {**os.environ, "PGPASSWORD": settings_dict["PASSWORD"] or ""}
    subprocess.run(argv, env=env, check=True, capture_output=True)  # noqa: S603


@pytest.fixture
def scratch_url(tmp_path: Path) -> Iterator[str]:
    settings_dict = connection.settings_dict
    if connection.vendor == "sqlite":
        yield f"sqlite:///{tmp_path / 'scratch.sqlite3'}"
        return
    name = f"fangkong_scratch_{os.getpid()}"
    _pg(settings_dict, "dropdb", "--if-exists", name)  # left by an interrupted run
    _pg(settings_dict, "createdb", name)
    user, password = quote(settings_dict["USER"] or ""), quote(settings_dict["PASSWORD"] or "")
    host, port = settings_dict["HOST"] or "127.0.0.1", settings_dict["PORT"] or 5432
    try:
        yield f"postgres://{user}:{password}@{host}:{port}/{name}"
    finally:
        _pg(settings_dict, "dropdb", name)
