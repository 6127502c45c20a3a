"""The demo's logins, one per role, and the open work that greets the demo grid worker.

Every demo user's password is ``DEMO_PASSWORD``; the username is the role's value. Those whose role
requires a second factor are enrolled with the published ``DEMO_TOTP_KEY``. Where each
role sits, by what it does in the city:

- ``commander``, ``admin`` (staff and superuser) and ``publisher``: the city (鹏城市) — the
  command centre and the city's bulletins see everything;
- ``epidemiologist``, ``quarantine_staff``, ``lab`` and ``hotline``: the first district
  (440303) — flow investigation, quarantine sites, the CDC lab and the 12345 desk are run per
  district;
- ``sampler``: the first street of that district — a collector (采样员) of the street's sampling
  team, who works at any of its communities' sites;
- ``volunteer_coordinator``: the first street of that district — volunteers are organised by
  the street office (街道办);
- ``grid_worker``: the first grid of the first district (``FIRST_GRID_CODE``), which tests and
  docs may rely on; ``grid_worker_2``: the second grid of the same community.
"""

from __future__ import annotations

from base64 import b32decode
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from fangkong.demo.city import CITY_CODE, DISTRICT_CODES
from fangkong.orgs.models import OrgUnit
from fangkong.orgs.roles import Role
from fangkong.orgs.second_factor import second_factor_required, totp_device_install
from fangkong.orgs.services import membership_grant
from fangkong.people.models import Person
from fangkong.worklist.models import Priority, WorkItem
from fangkong.worklist.services import work_item_create

DEMO_PASSWORD = "fangkong-demo"  # noqa: S105 — published on purpose: it opens the demo city only
# The demo's authenticator key (base32), published like the password: every demo login whose role
# requires a second factor (admin, commander, epidemiologist, lab) is enrolled with it, so one
# entry in an authenticator app, or ``fangkong demo_code``, gives the code for all of them.
DEMO_TOTP_KEY = "FANGKONGDEMOFANGKONGDEMOFANGKONG"
FIRST_DISTRICT_CODE = DISTRICT_CODES[0]
FIRST_STREET_CODE = FIRST_DISTRICT_CODE + "001"
FIRST_COMMUNITY_CODE = FIRST_STREET_CODE + "001"
FIRST_GRID_CODE = FIRST_COMMUNITY_CODE + "001"
SECOND_GRID_CODE = FIRST_COMMUNITY_CODE + "002"

# (username, role, code of the unit where the role is held), in the order the logins are shown
DEMO_LOGINS: tuple[tuple[str, Role, str], ...] = (
    ("commander", Role.COMMANDER, CITY_CODE),
    ("admin", Role.ADMIN, CITY_CODE),
    ("publisher", Role.PUBLISHER, CITY_CODE),
    ("epidemiologist", Role.EPIDEMIOLOGIST, FIRST_DISTRICT_CODE),
    ("quarantine_staff", Role.QUARANTINE_STAFF, FIRST_DISTRICT_CODE),
    ("lab", Role.LAB, FIRST_DISTRICT_CODE),
    ("sampler", Role.SAMPLER, FIRST_STREET_CODE),
    ("hotline", Role.HOTLINE, FIRST_DISTRICT_CODE),
    ("volunteer_coordinator", Role.VOLUNTEER_COORDINATOR, FIRST_STREET_CODE),
    ("grid_worker", Role.GRID_WORKER, FIRST_GRID_CODE),
    ("grid_worker_2", Role.GRID_WORKER, SECOND_GRID_CODE),
)
DEMO_USERNAMES = tuple(username for username, _role, _code in DEMO_LOGINS)


def demo_users_create(*, units: Mapping[str, OrgUnit]) -> dict[str, Any]:
    """The demo users and their memberships (``units`` maps code to unit); returns them by name.

    The password is hashed once and shared: hashing is deliberately slow, and these accounts
    exist to be logged into with a published password anyway. A user of the same name made
    before the demo (say ``admin`` by ``createsuperuser``) is kept as it is and given the role.
    """
    User = get_user_model()
    password = make_password(DEMO_PASSWORD)
    users: dict[str, Any] = {}
    for username, role, code in DEMO_LOGINS:
        is_admin = role == Role.ADMIN
        user, _created = User.objects.get_or_create(
            username=username, defaults={"password": password, "is_staff": is_admin, "is_superuser": is_admin}
        )
        membership_grant(actor=None, user=user, org_unit=units[code], role=role)
        if second_factor_required(user):
            totp_device_install(actor=None, user=user, key_hex=demo_totp_key_hex())
        users[username] = user
    return users


def demo_totp_key_hex() -> str:
    """``DEMO_TOTP_KEY`` as django-otp stores a key (hex)."""
    return b32decode(DEMO_TOTP_KEY).hex()


def demo_work_items_create(*, grid: OrgUnit, worker: Any) -> list[WorkItem]:
    """A handful of open items on the demo grid worker's grid: two overdue (each with a note of why
    it waits), some assigned to them.

    Created by the platform (``actor=None``), as the later capabilities would create them.
    """
    now = timezone.now()
    people = list(Person.objects.filter(org_unit=grid).order_by("id")[:3])
    subject = people + [None] * (3 - len(people))
    plan: list[tuple[str, str, timedelta, str, Any, Any, str]] = [
        (
            "household.visit",
            "上门核实独居老人健康状况",
            -timedelta(days=1),
            Priority.URGENT,
            subject[0],
            worker,
            "电话未接通，请上门。",
        ),
        (
            "people.verify",
            "核对新登记居民的证件与住址",
            -timedelta(hours=3),
            Priority.NORMAL,
            subject[1],
            None,
            "登记电话为空号，已请楼栋长协助联系。",
        ),
        (
            "notice.deliver",
            "张贴并逐户告知本周核酸检测安排",
            timedelta(hours=6),
            Priority.NORMAL,
            None,
            worker,
            "",
        ),
        ("people.verify", "排查网格内近7日返鹏人员", timedelta(days=1), Priority.URGENT, None, None, ""),
        (
            "household.visit",
            "回访行动不便居民的生活物资需求",
            timedelta(days=2),
            Priority.NORMAL,
            subject[2],
            worker,
            "",
        ),
        ("notice.deliver", "更新楼栋长联系表", timedelta(days=3), Priority.NORMAL, None, None, ""),
    ]
    return [
        work_item_create(
            actor=None,
            kind=kind,
            title=title,
            org_unit=grid,
            due_at=now + due_in,
            subject=about,
            priority=priority,
            assignee=assignee,
            note=note,
        )
        for kind, title, due_in, priority, about, assignee, note in plan
    ]
