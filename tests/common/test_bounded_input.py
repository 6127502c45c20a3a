"""Bounded input: the reproducers of issue 16 answer with a refusal naming the field, never an
error 500 — unbounded integers in filters, year-1 dates, NUL in a search, ² in a number."""

from __future__ import annotations

import pytest
from django.test import Client

from fangkong.common.bounds import ascii_int
from fangkong.common.views import date_param
from tests.people.factories import make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def commanding(commander) -> Client:
    client = Client()
    client.force_login(commander)
    return client


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/cases/cases?district=8474694509202712667738", "district"),
        ("/api/orgs/units?parent=99999999999999999999", "parent"),
        ("/api/cases/cases?since=0001-01-01", "since"),
        ("/api/cases/cases?until=9999-12-31", "until"),
        ("/api/people/persons?q=%00", "q"),
        ("/api/people/persons?page=0", "page"),
        ("/api/cases/cases?page=99999999999999999999999", "page"),
    ],
)
def test_an_out_of_range_filter_is_refused_by_field_in_one_shape(commanding, url, field):
    answer = commanding.get(url)
    assert answer.status_code == 422, answer.content[:300]
    body = answer.json()
    assert isinstance(body["detail"], str) and field in body["errors"], body


def test_the_dashboard_refuses_year_one_with_the_field_named(commanding):
    answer = commanding.get("/dashboard/?since=0001-01-01&until=0001-01-02")
    assert answer.status_code in (200, 422) and "2000-01-01" in answer.content.decode()
    huge = commanding.get("/dashboard/?unit=99999999999999999999999")
    assert huge.status_code in (200, 422)


def test_a_search_for_nul_finds_nobody_on_the_pages(commanding, tree, admin_user):
    make_person(actor=admin_user, grid=tree.grid_a)
    answer = commanding.get("/people/?q=%00")
    assert answer.status_code in (200, 422)
    assert 'data-testid="person-row"' not in answer.content.decode()


@pytest.mark.parametrize("text", ["²", "٣", "99999999999999999999", "-1", " 12 ", "１２"])
def test_only_ascii_digits_the_databases_can_hold_are_read_as_numbers(text):
    assert ascii_int(text) == (12 if text == " 12 " else None)


def test_a_year_one_date_parameter_counts_as_absent(rf):
    assert date_param(rf.get("/", {"since": "0001-01-01"}), "since") is None
    assert str(date_param(rf.get("/", {"since": "2022-04-04"}), "since")) == "2022-04-04"


@pytest.mark.parametrize(
    "path",
    ["/cases/?q=²", "/contacts/cases/1/register/?person=²", "/work/?item=²", "/people/?q=²40303197001011234"],
)
def test_pages_read_odd_digits_without_an_error(commanding, path):
    assert commanding.get(path).status_code < 500
