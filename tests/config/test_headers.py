"""Answers with personal data are not stored by browsers or proxies; the API's map needs a login."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_signed_in_pages_and_api_answers_are_not_stored(grid_worker):
    client = Client()
    client.force_login(grid_worker)
    for path in ("/people/", "/api/people/persons", "/work/"):
        answer = client.get(path)
        assert answer.status_code == 200 and "no-store" in answer["Cache-Control"], path
    public = Client().get("/portal/")
    assert "no-store" not in public.get("Cache-Control", "")


def test_the_api_docs_need_a_login(grid_worker):
    for path in ("/api/docs", "/api/openapi.json"):
        anonymous = Client().get(path)
        assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"], path
        client = Client()
        client.force_login(grid_worker)
        assert client.get(path).status_code == 200
