"""Public pages: cache invalidated on publish, search, shareable pages, the Atom feed, staff pages."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date

import pytest
from django.urls import reverse

from fangkong.portal import content, services
from fangkong.portal.content import ArticleData, RebuttalData
from tests.portal.factories import DAY

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"


def _rebuttal(actor, unit, claim, *, publish=True, explanation="科学解释"):
    rebuttal = content.rebuttal_create(
        actor=actor,
        unit=unit,
        data=RebuttalData(
            claim=claim, verdict="false", explanation=explanation, sources="国家卫健委", date=date(2022, 5, 9)
        ),
    )
    return content.rebuttal_publish(actor=actor, rebuttal=rebuttal) if publish else rebuttal


def test_home_shows_a_new_bulletin_right_after_publish(
    tree, publisher, client, django_capture_on_commit_callbacks
):
    bulletin = services.bulletin_draft(actor=publisher, unit=tree.city, day=DAY)
    services.bulletin_edit(actor=publisher, bulletin=bulletin, title="今日疫情通报甲", body="正文")
    assert "今日疫情通报甲" not in client.get(reverse("portal:home")).content.decode()  # cached now
    with django_capture_on_commit_callbacks(execute=True):
        services.bulletin_publish(actor=publisher, bulletin=bulletin)
    assert "今日疫情通报甲" in client.get(reverse("portal:home")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        services.bulletin_withdraw(actor=publisher, bulletin=bulletin)
    assert "今日疫情通报甲" not in client.get(reverse("portal:home")).content.decode()


def test_cached_pages_are_kept_per_language_and_carry_each_visitors_csrf_token(tree, publisher, client):
    from django.test import Client

    english = Client(enforce_csrf_checks=True)
    english.cookies["django_language"] = "en"
    zh = client.get(reverse("portal:rebuttals")).content.decode()
    en = english.get(reverse("portal:rebuttals")).content.decode()
    assert "Rumour rebuttals" in en and en != zh
    other = Client().get(reverse("portal:rebuttals"))
    assert other.cookies["csrftoken"].value != english.cookies["csrftoken"].value
    # the language switch of a cached page still works for the second visitor
    token = english.cookies["csrftoken"].value
    switched = english.post(
        reverse("set_language"), {"language": "zh-hans", "next": "/portal/"}, HTTP_X_CSRFTOKEN=token
    )
    assert switched.status_code == 302


def test_rebuttal_search_and_pagination(tree, publisher, client):
    _rebuttal(publisher, tree.city, "喝高度白酒能预防新冠")
    _rebuttal(publisher, tree.city, "快递包裹会传播病毒")
    _rebuttal(publisher, tree.city, "熏醋能杀死病毒", publish=False)
    for i in range(11):
        _rebuttal(publisher, tree.city, f"谣言{i:02d}")
    page = client.get(reverse("portal:rebuttals"), {"q": "白酒"}).content.decode()
    assert "喝高度白酒能预防新冠" in page and "快递包裹" not in page
    assert "熏醋能杀死病毒" not in client.get(reverse("portal:rebuttals"), {"q": "熏醋"}).content.decode()
    first = client.get(reverse("portal:rebuttals")).content.decode()
    second = client.get(reverse("portal:rebuttals"), {"page": 2}).content.decode()
    assert len(re.findall(r'href="/portal/rebuttals/\d+/"', first)) == 10  # ten to a page
    assert "page=1" in second and "谣言" in second


def test_shareable_pages_have_open_graph_tags_and_drafts_are_404(tree, publisher, client):
    rebuttal = _rebuttal(publisher, tree.city, "喝高度白酒能预防新冠", explanation="饮酒不能预防感染。")
    draft = _rebuttal(publisher, tree.city, "未发布的谣言", publish=False)
    article = content.article_create(
        actor=publisher,
        unit=tree.city,
        data=ArticleData(title="七步洗手法", body="内外夹弓大立腕", summary="勤洗手"),
    )
    content.article_publish(actor=publisher, article=article)
    page = client.get(reverse("portal:rebuttal", args=[rebuttal.pk])).content.decode()
    assert '<meta property="og:title" content="喝高度白酒能预防新冠">' in page
    assert f'content="http://testserver/portal/rebuttals/{rebuttal.pk}/"' in page
    assert "饮酒不能预防感染。" in page and "国家卫健委" in page
    assert client.get(reverse("portal:rebuttal", args=[draft.pk])).status_code == 404
    art = client.get(reverse("portal:article", args=[article.pk])).content.decode()
    assert '<meta property="og:description" content="勤洗手">' in art
    assert "七步洗手法" in client.get(reverse("portal:articles"), {"q": "洗手"}).content.decode()


def test_feed_is_valid_atom(tree, publisher, client):
    bulletin = services.bulletin_draft(actor=publisher, unit=tree.city, day=DAY)
    services.bulletin_edit(
        actor=publisher, bulletin=bulletin, title="通报<甲>", body="第一段\n\n第二段 & 更多"
    )
    services.bulletin_publish(actor=publisher, bulletin=bulletin)
    _rebuttal(publisher, tree.city, "喝高度白酒能预防新冠")
    _rebuttal(publisher, tree.city, "草稿", publish=False)
    response = client.get(reverse("portal:feed"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)  # noqa: S314 — our own feed, parsed in a test
    assert root.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated"):
        assert root.find(f"{ATOM}{required}") is not None, required
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 2
    titles = set()
    for entry in entries:
        for required in ("id", "title", "updated"):
            element = entry.find(f"{ATOM}{required}")
            assert element is not None and (element.text or "").strip(), required
        titles.add(entry.find(f"{ATOM}title").text)
        summary = entry.find(f"{ATOM}summary")
        assert summary is not None and summary.get("type") == "html"
        assert entry.find(f"{ATOM}link").get("href").startswith("http://testserver/portal/")
    assert "通报<甲>" in titles
    assert any("草稿" in (t or "") for t in titles) is False


def test_publisher_staff_pages_open(tree, publisher, client):
    client.force_login(publisher)
    for name in (
        "publish:home",
        "publish:bulletins",
        "publish:areas",
        "publish:rebuttals",
        "publish:articles",
        "publish:rebuttal-new",
        "publish:article-new",
    ):
        assert client.get(reverse(name)).status_code == 200, name
    response = client.post(reverse("publish:bulletin-new"), {"unit": tree.city.pk, "day": DAY.isoformat()})
    assert response.status_code == 302
    response = client.post(
        reverse("publish:rebuttal-new"),
        {"claim": "谣言", "verdict": "false", "explanation": "解释", "date": "2022-05-09"},
    )
    assert response.status_code == 302
    assert (
        client.post(
            reverse("publish:rebuttal-new"),
            {"claim": "", "verdict": "false", "explanation": "", "date": "2022-05-09"},
        ).status_code
        == 422
    )


def test_a_grid_worker_has_no_publishing_desk(grid_worker, client):
    client.force_login(grid_worker)
    assert client.get(reverse("publish:home")).status_code == 403


def test_public_pages_answer_without_login(client):
    for name in (
        "portal:home",
        "portal:bulletins",
        "portal:risk-areas",
        "portal:risk-map",
        "portal:rebuttals",
        "portal:articles",
    ):
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        assert reverse("help:form") in response.content.decode()


def test_a_search_of_several_words_finds_what_has_them_all(tree, publisher, client):
    from fangkong.portal.content import RebuttalData, rebuttal_create, rebuttal_publish

    for claim, explanation in [("接种疫苗后不用戴口罩", "做好个人防护仍然必要"), ("疫苗有害", "没有依据")]:
        data = RebuttalData(claim=claim, verdict="false", explanation=explanation, sources="")
        rebuttal_publish(
            actor=publisher, rebuttal=rebuttal_create(actor=publisher, unit=tree.city, data=data)
        )
    html = client.get(reverse("portal:rebuttals"), {"q": "疫苗　防护"}).content.decode()
    assert "接种疫苗后不用戴口罩" in html and "疫苗有害" not in html


def test_the_cache_key_reads_only_the_parameters_a_page_uses(db, rf):
    from fangkong.portal.cache import page_key

    def key(query: str) -> str:
        return page_key(rf.get("/portal/rebuttals/" + query), "list")

    assert key("?x=1") == key("?x=2") == key("")
    assert key("?q=疫苗  防护") == key("?q=疫苗 防护&utm=z") != key("?q=疫苗")
    assert key("?page=2") != key("")
