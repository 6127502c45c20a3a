"""Answers with personal data are not stored by browsers or proxies; the API's map needs a login."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

import fangkong

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


def test_every_page_carries_a_policy_without_inline_script(grid_worker):
    client = Client()
    client.force_login(grid_worker)
    for answer in (client.get("/work/"), Client().get("/portal/"), Client().get("/accounts/login/")):
        policy = answer["Content-Security-Policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
        assert directives["script-src"] == "'self'"
        assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"


TEMPLATES = Path(fangkong.__file__).parent


@pytest.mark.parametrize(
    "path", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: str(p.relative_to(TEMPLATES))
)
def test_no_template_holds_inline_script_or_style(path):
    """What the policy would refuse: a script without src (data in application/json is allowed),
    an on…= handler, a javascript: link, a style element."""
    text = path.read_text(encoding="utf-8")
    scripts = re.findall(r"<script\b([^>]*)>", text)
    inline = [s for s in scripts if "src=" not in s and "application/json" not in s]
    assert not inline, f"inline <script{inline[0]}>"
    assert not re.search(r"\son[a-z]+\s*=\s*[\"']", text), "an inline on…= handler"
    assert "javascript:" not in text.lower() and "<style" not in text.lower()
