"""Factories for org units, users and memberships."""

from __future__ import annotations

from typing import Any

import factory
from django.contrib.auth import get_user_model

from fangkong.orgs.models import Membership, OrgUnit
from fangkong.orgs.services import child_level, unit_path


class OrgUnitFactory(factory.django.DjangoModelFactory):
    """A unit below ``parent`` (a city when none); level and path follow from the parent."""

    class Meta:
        model = OrgUnit

    parent = None
    code = factory.Sequence(lambda n: f"{n:03d}")
    name = factory.Sequence(lambda n: f"单位{n}")

    @classmethod
    def _create(cls, model_class: type[OrgUnit], *args: Any, **kwargs: Any) -> OrgUnit:
        parent = kwargs.get("parent")
        if parent is not None:
            kwargs["code"] = parent.code + kwargs["code"]
        else:
            kwargs["code"] = "44" + kwargs["code"] + "0"
        kwargs["level"] = child_level(parent)
        kwargs["path"] = unit_path(code=kwargs["code"], parent=parent)
        kwargs["depth"] = parent.depth + 1 if parent else 0
        return super()._create(model_class, *args, **kwargs)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "pw-for-tests-1")

    @factory.post_generation
    def save_password(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            self.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    org_unit = factory.SubFactory(OrgUnitFactory)
    role = "grid_worker"


def user_with_role(role: str, unit: OrgUnit, **kwargs: Any) -> Any:
    user = UserFactory(**kwargs)
    MembershipFactory(user=user, org_unit=unit, role=role)
    return user
