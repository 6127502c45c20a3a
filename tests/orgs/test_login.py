import pytest
from django.test import Client

from fangkong.orgs.login import LIMIT_PER_USERNAME

pytestmark = pytest.mark.django_db


def test_login_works_and_lands_on_my_work(client: Client, grid_worker):
    response = client.post("/accounts/login/", {"username": "gw_a", "password": "pw-for-tests-1"})
    assert response.status_code == 302 and response.url == "/"


def test_repeated_failures_are_refused_with_429_even_with_the_right_password(client: Client, grid_worker):
    for _ in range(LIMIT_PER_USERNAME):
        assert client.post("/accounts/login/", {"username": "gw_a", "password": "wrong"}).status_code == 200
    blocked = client.post("/accounts/login/", {"username": "gw_a", "password": "pw-for-tests-1"})
    assert blocked.status_code == 429
    assert int(blocked["Retry-After"]) > 0
    assert "_auth_user_id" not in client.session
    other = Client(REMOTE_ADDR="10.9.9.9")
    assert other.post("/accounts/login/", {"username": "someone", "password": "x"}).status_code == 200
