"""The Content-Security-Policy in Chromium on the pages not written by us: Django's admin (a
list and a change form, with their scripts) and the API's map (Swagger UI). The ``page`` fixture
fails the test on any policy violation the browser reports."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_admin_and_the_api_map_run_under_the_policy(live_server, page: Page, admin_user, tree):
    base = live_server.url
    login(page, base, "root", "pw-for-tests-1", lands="/work/")
    page.goto(f"{base}/admin/")
    expect(page.locator("#site-name")).to_be_visible()
    page.goto(f"{base}/admin/orgs/orgunit/")
    expect(page.locator("#result_list")).to_be_visible()
    page.goto(f"{base}/admin/orgs/orgunit/{tree.district.pk}/change/")
    expect(page.locator("form")).not_to_have_count(0)
    page.goto(f"{base}/api/docs")
    expect(page.locator(".swagger-ui .info")).to_be_visible(timeout=15_000)
