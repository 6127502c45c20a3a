import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from fangkong.orgs.models import ApiToken
from fangkong.orgs.roles import PERMISSIONS, Perm, Role, role_grants
from fangkong.orgs.scope import can, visible
from fangkong.orgs.services import api_token_authenticate, api_token_create, api_token_revoke, org_unit_create
from fangkong.people.models import Person
from tests.orgs.factories import user_with_role
from tests.people.factories import make_person

pytestmark = pytest.mark.django_db


def test_every_role_has_a_row_in_the_permission_table():
    assert set(PERMISSIONS) == set(Role)
    assert role_grants("admin", "people.reveal")
    assert not role_grants("grid_worker", "people.reveal")
    assert not role_grants("no-such-role", "people.view")


def test_a_grid_worker_sees_only_their_grid(tree, grid_worker, epidemiologist):
    mine = make_person(actor=grid_worker, grid=tree.grid_a)
    make_person(actor=epidemiologist, grid=tree.grid_b)
    assert list(visible(grid_worker, Person.objects.all(), perm=Perm.PEOPLE_VIEW)) == [mine]
    assert visible(epidemiologist, Person.objects.all(), perm=Perm.PEOPLE_VIEW).count() == 2


def test_roles_in_two_units_see_both_subtrees(tree):
    user = user_with_role("grid_worker", tree.grid_a)
    user_with_role("grid_worker", tree.grid_far)  # someone else
    from tests.orgs.factories import MembershipFactory

    MembershipFactory(user=user, org_unit=tree.grid_far, role="grid_worker")
    assert can(user, Perm.PEOPLE_VIEW, tree.grid_far)
    assert can(user, Perm.PEOPLE_VIEW, tree.grid_a)
    assert not can(user, Perm.PEOPLE_VIEW, tree.grid_b)


def test_a_role_without_the_permission_sees_nothing(tree):
    publisher = user_with_role("publisher", tree.city)
    assert visible(publisher, Person.objects.all(), perm=Perm.PEOPLE_VIEW).count() == 0


def test_unit_codes_build_the_path_and_the_level(tree, admin_user):
    grid = org_unit_create(
        actor=admin_user, code=tree.community.code + "777", name="新网格", parent=tree.community
    )
    assert grid.level == "grid"
    assert grid.path == tree.community.path + grid.code + "/"


def test_a_grid_cannot_have_children(tree, admin_user):
    from fangkong.common.errors import Invalid

    with pytest.raises(Invalid):
        org_unit_create(actor=admin_user, code="1", name="x", parent=tree.grid_a)


def test_token_is_stored_hashed_and_authenticates_until_it_expires_or_is_revoked(grid_worker):
    token, raw = api_token_create(actor=grid_worker, name="手机")
    assert raw not in token.digest and token.digest != raw
    assert api_token_authenticate(raw=raw) == grid_worker
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert api_token_authenticate(raw=raw) is None
    token2, raw2 = api_token_create(actor=grid_worker, name="电脑")
    api_token_revoke(actor=grid_worker, token_id=token2.pk)
    assert api_token_authenticate(raw=raw2) is None
    assert api_token_authenticate(raw="fk_made-up") is None


def test_api_accepts_a_bearer_token(client: Client, grid_worker):
    _token, raw = api_token_create(actor=grid_worker, name="脚本")
    response = client.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200
    assert response.json()["username"] == grid_worker.username
    assert client.get("/api/me", HTTP_AUTHORIZATION="Bearer fk_wrong").status_code == 401


def test_tokens_are_created_by_api_and_shown_once(client: Client, grid_worker):
    client.force_login(grid_worker)
    response = client.post("/api/me/tokens", data=json.dumps({"name": "ci"}), content_type="application/json")
    assert response.status_code == 201
    assert response.json()["token"].startswith("fk_")
    listed = client.get("/api/me/tokens").json()
    assert "token" not in listed[0]


def test_the_tree_api_lists_only_units_in_scope(client: Client, tree, grid_worker):
    client.force_login(grid_worker)
    codes = [u["code"] for u in client.get("/api/orgs/units").json()["items"]]
    assert codes == [tree.grid_a.code]


def test_tree_page_and_profile_render(client: Client, tree, commander):
    client.force_login(commander)
    page = client.get(f"/orgs/{tree.district.pk}/")
    assert tree.street.name in page.content.decode()
    assert client.get("/accounts/profile/").status_code == 200
    response = client.post("/accounts/profile/tokens/", {"name": "网页", "days": "30"}, follow=True)
    assert "fk_" in response.content.decode()


def test_a_token_made_with_a_token_never_outlives_it_and_dies_with_it(grid_worker, client):
    from datetime import timedelta

    from django.utils import timezone

    from fangkong.orgs.models import ApiToken

    parent, raw = api_token_create(actor=grid_worker, name="父", days=10)
    made = client.post(
        "/api/me/tokens",
        {"name": "子", "days": 366},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert made.status_code == 201, made.content
    child = ApiToken.objects.get(name="子")
    assert child.parent == parent and child.expires_at <= parent.expires_at
    assert child.expires_at < timezone.now() + timedelta(days=11)
    _grandchild, grand_raw = api_token_create(actor=grid_worker, name="孙", via=child)
    api_token_revoke(actor=grid_worker, token_id=parent.pk)
    assert api_token_authenticate(raw=grand_raw) is None
    assert ApiToken.objects.filter(revoked_at__isnull=True).count() == 0
