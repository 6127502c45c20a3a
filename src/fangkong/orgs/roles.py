"""Roles and what each may do: the one table of permissions (DESIGN.md §3 "Org tree and access").

A permission is granted in the subtree of the org unit where the role is held. Reading an object
needs the ``*.view`` permission of its app; changing it needs ``*.change``; seeing full PII needs
``people.reveal`` and is audited each time.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    COMMANDER = "commander", _("Commander")
    EPIDEMIOLOGIST = "epidemiologist", _("Epidemiologist")
    GRID_WORKER = "grid_worker", _("Grid worker")
    QUARANTINE_STAFF = "quarantine_staff", _("Quarantine staff")
    LAB = "lab", _("Lab")
    SAMPLER = "sampler", _("Sampling collector")
    HOTLINE = "hotline", _("Hotline operator")
    PUBLISHER = "publisher", _("Publisher")
    VOLUNTEER_COORDINATOR = "volunteer_coordinator", _("Volunteer coordinator")
    ADMIN = "admin", _("Administrator")


class Perm(models.TextChoices):
    ORGS_VIEW = "orgs.view", _("See the org tree")
    ORGS_MANAGE = "orgs.manage", _("Manage org units and memberships")
    PEOPLE_VIEW = "people.view", _("See people (masked)")
    PEOPLE_CHANGE = "people.change", _("Register and edit people")
    PEOPLE_REVEAL = "people.reveal", _("See full ID numbers and phones (audited)")
    PEOPLE_MERGE = "people.merge", _("Merge duplicate people")
    WORK_VIEW = "worklist.view", _("See work items")
    WORK_CHANGE = "worklist.change", _("Create, assign and complete work items")
    AUDIT_VIEW = "audit.view", _("Read the audit trail")
    CASES_VIEW = "cases.view", _("See cases and their investigations")
    CASES_CHANGE = "cases.change", _("Register, classify and investigate cases")
    QUARANTINE_VIEW = "quarantine.view", _("See quarantine orders, checks and tests")
    QUARANTINE_CHANGE = "quarantine.change", _("Record checks and test results, assign rooms, release")
    PORTAL_PUBLISH = "portal.publish", _("Draft and publish bulletins, rebuttals and articles")
    PORTAL_APPROVE = "portal.approve", _("Designate risk areas, approve downgrades and bulletins")
    HELPDESK_VIEW = "helpdesk.view", _("See help requests and their call backs")
    HELPDESK_CHANGE = "helpdesk.change", _("Claim help requests, log call backs, resolve")
    VOLUNTEERS_VIEW = "volunteers.view", _("See volunteers, their dispatches and hours")
    VOLUNTEERS_CHANGE = "volunteers.change", _("Approve, dispatch and commend volunteers")
    TESTING_VIEW = "testing.view", _("See testing rounds, sites, tubes, results and coverage")
    TESTING_SAMPLE = "testing.sample", _("Scan people into tubes, pack boxes, post a site's queue")
    TESTING_LAB = "testing.lab", _("Receive boxes and record tube results")
    TESTING_MANAGE = "testing.manage", _("Plan testing rounds and sampling sites")


P = Perm
PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.COMMANDER: frozenset(
        {
            P.ORGS_VIEW,
            P.PEOPLE_VIEW,
            P.PEOPLE_REVEAL,
            P.WORK_VIEW,
            P.WORK_CHANGE,
            P.AUDIT_VIEW,
            P.CASES_VIEW,
            P.QUARANTINE_VIEW,
            P.PORTAL_APPROVE,
            P.HELPDESK_VIEW,
            P.VOLUNTEERS_VIEW,
            P.TESTING_VIEW,
            P.TESTING_MANAGE,
        }
    ),
    Role.EPIDEMIOLOGIST: frozenset(
        {
            P.ORGS_VIEW,
            P.PEOPLE_VIEW,
            P.PEOPLE_CHANGE,
            P.PEOPLE_REVEAL,
            P.PEOPLE_MERGE,
            P.WORK_VIEW,
            P.WORK_CHANGE,
            P.CASES_VIEW,
            P.CASES_CHANGE,
            P.QUARANTINE_VIEW,
            P.QUARANTINE_CHANGE,
            P.TESTING_VIEW,
        }
    ),
    Role.GRID_WORKER: frozenset(
        {
            P.ORGS_VIEW,
            P.PEOPLE_VIEW,
            P.PEOPLE_CHANGE,
            P.WORK_VIEW,
            P.WORK_CHANGE,
            P.CASES_VIEW,
            P.QUARANTINE_VIEW,
            P.QUARANTINE_CHANGE,
            P.TESTING_VIEW,
            P.TESTING_SAMPLE,  # the emergency re-sample at the door
        }
    ),
    Role.QUARANTINE_STAFF: frozenset(
        {
            P.ORGS_VIEW,
            P.PEOPLE_VIEW,
            P.WORK_VIEW,
            P.WORK_CHANGE,
            P.CASES_VIEW,
            P.QUARANTINE_VIEW,
            P.QUARANTINE_CHANGE,
        }
    ),
    Role.LAB: frozenset(
        {
            P.ORGS_VIEW,
            P.PEOPLE_VIEW,
            P.WORK_VIEW,
            P.WORK_CHANGE,  # take sampling work, mark samples taken
            P.CASES_VIEW,
            P.QUARANTINE_VIEW,
            P.QUARANTINE_CHANGE,
            P.TESTING_VIEW,
            P.TESTING_LAB,
        }
    ),
    Role.SAMPLER: frozenset(
        {
            P.ORGS_VIEW,
            P.PEOPLE_VIEW,
            P.PEOPLE_CHANGE,  # register a resident unknown to the register on the spot
            P.WORK_VIEW,
            P.WORK_CHANGE,
            P.TESTING_VIEW,
            P.TESTING_SAMPLE,
        }
    ),
    Role.HOTLINE: frozenset(
        {P.ORGS_VIEW, P.PEOPLE_VIEW, P.WORK_VIEW, P.WORK_CHANGE, P.HELPDESK_VIEW, P.HELPDESK_CHANGE}
    ),
    Role.PUBLISHER: frozenset({P.ORGS_VIEW, P.PORTAL_PUBLISH}),
    Role.VOLUNTEER_COORDINATOR: frozenset(
        {P.ORGS_VIEW, P.WORK_VIEW, P.WORK_CHANGE, P.VOLUNTEERS_VIEW, P.VOLUNTEERS_CHANGE}
    ),
    Role.ADMIN: frozenset(Perm),
}


# Roles whose holders must pass a second factor (TOTP or a recovery code) after their password:
# they see the whole register unmasked, decide cases, or hold results. Others may choose to.
# Superusers and staff (the Django admin) must too (``orgs.second_factor.second_factor_required``).
SECOND_FACTOR_ROLES: frozenset[Role] = frozenset({Role.ADMIN, Role.COMMANDER, Role.EPIDEMIOLOGIST, Role.LAB})


def role_grants(role: str, perm: str) -> bool:
    """Whether ``role`` carries ``perm`` (unknown roles carry nothing)."""
    try:
        return Perm(perm) in PERMISSIONS[Role(role)]
    except ValueError:
        return False


def roles_with(perm: str) -> list[str]:
    return [role.value for role, perms in PERMISSIONS.items() if Perm(perm) in perms]
