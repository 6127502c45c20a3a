"""The login lockout (``orgs.lockout``): per account and address, a growing delay, a ceiling per
address; the admin login goes through the same one."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from fangkong.orgs.lockout import (
    ADDRESS_LIMIT,
    BASE_DELAY,
    FREE_FAILURES,
    MAX_DELAY,
    delay_after,
    login_wait,
)
from fangkong.orgs.models import LoginFailure

pytestmark = pytest.mark.django_db

RIGHT = "pw-for-tests-1"


def _post(client: Client, username: str, password: str, path: str = "/accounts/login/"):
    return client.post(path, {"username": username, "password": password})


def test_login_works_and_lands_on_my_work(client: Client, grid_worker):
    response = _post(client, "gw_a", RIGHT)
    assert response.status_code == 302 and response.url == "/"


def test_the_delay_starts_after_the_free_failures_and_doubles_up_to_the_cap():
    assert [delay_after(n) for n in range(FREE_FAILURES)] == [timedelta(0)] * FREE_FAILURES
    assert delay_after(FREE_FAILURES) == BASE_DELAY
    assert delay_after(FREE_FAILURES + 1) == 2 * BASE_DELAY
    assert delay_after(FREE_FAILURES + 3) == 8 * BASE_DELAY
    assert delay_after(FREE_FAILURES + 100) == MAX_DELAY


def test_a_stranger_elsewhere_delays_only_himself_not_the_owner(grid_worker):
    stranger, owner = Client(REMOTE_ADDR="10.9.9.9"), Client(REMOTE_ADDR="10.1.1.1")
    for _ in range(FREE_FAILURES + 2):
        _post(stranger, "gw_a", "wrong")
    blocked = _post(stranger, "gw_a", RIGHT)
    assert blocked.status_code == 429 and int(blocked["Retry-After"]) > 0
    assert "_auth_user_id" not in stranger.session
    assert _post(owner, "gw_a", RIGHT).status_code == 302


def test_the_wait_grows_with_each_failure_and_a_success_clears_it(grid_worker):
    client = Client(REMOTE_ADDR="10.2.2.2")
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _ in range(FREE_FAILURES - 1):
            assert _post(client, "GW_A ", "wrong").status_code == 200  # counted as "gw_a"
        assert login_wait(username="gw_a", address="10.2.2.2") == 0
        _post(client, "gw_a", "wrong")
        first = login_wait(username="gw_a", address="10.2.2.2")
        assert first == BASE_DELAY.total_seconds()
        refused = _post(client, "gw_a", "wrong")  # refused unchecked, and not counted
        assert refused.status_code == 429
        assert LoginFailure.objects.get(username="gw_a").failures == FREE_FAILURES
        clock.shift(first + 1)
        assert _post(client, "gw_a", "wrong").status_code == 200
        assert login_wait(username="gw_a", address="10.2.2.2") == 2 * first
        clock.shift(2 * first + 1)
        assert _post(client, "gw_a", RIGHT).status_code == 302
    assert not LoginFailure.objects.filter(username="gw_a").exists()


def test_one_address_trying_many_accounts_is_refused_there_only(grid_worker, monkeypatch):
    assert ADDRESS_LIMIT > FREE_FAILURES
    monkeypatch.setattr("fangkong.orgs.lockout.ADDRESS_LIMIT", 4)  # each failure costs a password hash
    sprayer = Client(REMOTE_ADDR="10.3.3.3")
    for n in range(4):
        _post(sprayer, f"someone{n}", "guess")
    assert _post(sprayer, "gw_a", RIGHT).status_code == 429
    assert _post(Client(REMOTE_ADDR="10.4.4.4"), "gw_a", RIGHT).status_code == 302


def test_the_admin_login_shares_the_lockout(admin_user):
    attacker = Client(REMOTE_ADDR="10.5.5.5")
    for _ in range(FREE_FAILURES - 1):
        assert _post(attacker, "root", "wrong", "/admin/login/").status_code == 200
    _post(attacker, "root", "wrong")  # the staff login counts for the same account and address
    blocked = _post(attacker, "root", RIGHT, "/admin/login/")
    assert blocked.status_code == 429 and int(blocked["Retry-After"]) > 0
    assert 'data-testid="throttled"' in blocked.content.decode()
    assert "_auth_user_id" not in attacker.session
    admin = Client(REMOTE_ADDR="10.6.6.6")
    assert _post(admin, "root", RIGHT, "/admin/login/").status_code == 302
    assert admin.session["_auth_user_id"] == str(admin_user.pk)
