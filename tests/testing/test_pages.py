"""The collector's page answers each scan at once (htmx) with the masked name or the refusal; the
lab uploads a result file and the worker records it, a positive pool's recalls reach the grid
worker's queue with a page each; other districts see none of it."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client

from fangkong.testing.codes import person_code
from fangkong.testing.models import Recall, Tube, TubeResultImport
from fangkong.testing.services import tube_close, tube_open, tube_scan
from tests.orgs.factories import user_with_role
from tests.testing.conftest import barcode

pytestmark = pytest.mark.django_db(transaction=True)


def run_worker() -> None:
    call_command(
        "db_worker", "--batch", "--queue-name", "*", "--no-startup-delay", "--no-reload", verbosity=0
    )


def test_a_collector_scans_a_tube_on_the_page(mass):
    client = Client()
    client.force_login(mass.collector)
    home = client.get("/testing/scan/")
    assert (
        home.status_code == 200
        and mass.site.name.encode() in home.content
        and b'data-testid="barcode"' in home.content
    )
    opened = client.post(
        f"/testing/scan/tube/?site={mass.site.pk}&round={mass.round.pk}", {"barcode": barcode(1)}
    )
    tube = Tube.objects.get(barcode=barcode(1))
    assert opened.status_code == 302 and opened["Location"] == f"/testing/tubes/{tube.pk}/"
    added = client.post(
        f"/testing/tubes/{tube.pk}/scan/", {"code": person_code(mass.people[0])}, HTTP_HX_REQUEST="true"
    )
    assert (
        added.status_code == 200 and "李**号".encode() in added.content and b'data-beep="ok"' in added.content
    )
    again = client.post(
        f"/testing/tubes/{tube.pk}/scan/", {"code": person_code(mass.people[0])}, HTTP_HX_REQUEST="true"
    )
    assert again.status_code == 422 and b'data-beep="error"' in again.content
    for odd in ("", "\x00", "ＦＫ" + "9" * 150, "１１０１０１１９９０"):
        assert (
            client.post(f"/testing/tubes/{tube.pk}/scan/", {"code": odd}, HTTP_HX_REQUEST="true").status_code
            == 422
        )
    closed = client.post(f"/testing/tubes/{tube.pk}/close/")
    assert closed.status_code == 302 and Tube.objects.get(pk=tube.pk).status == "closed"
    bad = client.post(
        f"/testing/scan/tube/?site={mass.site.pk}&round={mass.round.pk}", {"barcode": "x\x00"}, follow=True
    )
    assert bad.status_code == 200 and list(bad.context["messages"])


def test_an_accepted_scan_answers_in_place_and_the_last_one_redraws_the_tube(mass):
    """A scan adds the name on top of the list and swaps the count, the answer and the close
    button in place (htmx out-of-band); a refusal and the scan that fills the tube redraw it."""
    client = Client()
    client.force_login(mass.collector)
    tube = tube_open(actor=mass.collector, round=mass.round, site=mass.site, barcode=barcode(1))
    url = f"/testing/tubes/{tube.pk}/scan/"
    for n, person in enumerate(mass.people[:9], 1):
        answer = client.post(url, {"code": person_code(person)}, HTTP_HX_REQUEST="true")
        text = answer.content.decode()
        assert answer.status_code == 200 and "HX-Retarget" not in answer
        assert text.startswith("<li>李**号 <small>") and 'id="tube"' not in text
        assert f'data-count="{n}" data-capacity="10" hx-swap-oob="true">{n}/10<' in text
        assert 'data-beep="ok" hx-swap-oob="true">李**号 ✓' in text and 'id="tube-close"' in text
    last = client.post(url, {"code": person_code(mass.people[9])}, HTTP_HX_REQUEST="true")
    assert last.status_code == 200 and (last["HX-Retarget"], last["HX-Reswap"]) == ("#tube", "outerHTML")
    assert 'id="tube"' in last.content.decode() and last.content.decode().count("<li>") == 10
    refused = client.post(url, {"code": person_code(mass.people[10])}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 422 and refused["HX-Retarget"] == "#tube"
    assert b'data-beep="error"' in refused.content
    page = client.get(f"/testing/tubes/{tube.pk}/")  # without htmx: the whole page, the list in it
    assert page.status_code == 200 and page.content.decode().count("李**号") == 10


def test_the_lab_imports_a_file_and_the_recalls_reach_the_grid(mass, tree, grid_worker):
    tube = tube_open(actor=mass.collector, round=mass.round, site=mass.site, barcode=barcode(1))
    for person in mass.people[:4]:
        tube_scan(actor=mass.collector, tube_id=tube.pk, code=person_code(person))
    tube_close(actor=mass.collector, tube=tube)
    lab = Client()
    lab.force_login(mass.lab)
    content = (
        "条码,检测结果,ORF1ab,N,检测时间,检测机构\n"
        f"{barcode(1)},阳性,31.5,30.2,2026-01-01 10:00,鹏城检测\n"
        "00000000000X,阴性,,,2026-01-01 10:00,鹏城检测\n"
        f"{barcode(1)},maybe,,,0001-01-01 10:00,鹏城检测\n"
    ).encode("utf-8-sig")
    from django.core.files.uploadedfile import SimpleUploadedFile

    sent = lab.post("/testing/lab/imports/", {"file": SimpleUploadedFile("results.csv", content)})
    job = TubeResultImport.objects.get()
    assert sent.status_code == 302 and sent["Location"] == f"/testing/lab/imports/{job.pk}/"
    run_worker()
    job.refresh_from_db()
    assert (job.status, job.created_count, job.positive_tubes) == ("succeeded", 1, [barcode(1)])
    assert sorted((e["row"], e["column"]) for e in job.errors) == [(3, "条码"), (4, "检测结果")]
    assert b"positive-tubes" in lab.get(sent["Location"]).content
    grid = Client()
    grid.force_login(grid_worker)
    mine = grid.get("/work/")
    recalls = Recall.objects.filter(pool=tube)
    assert recalls.count() == 4
    assert mine.content.count(b"/testing/recalls/") == 2  # the two recalled people of grid A
    first = recalls.get(person=mass.people[1])  # people 1, 3 live on grid A, the worker's
    assert first.person.org_unit_id == tree.grid_a.pk
    page = grid.get(f"/testing/recalls/{first.pk}/")
    assert page.status_code == 200 and tube.barcode.encode() in page.content
    far = user_with_role("grid_worker", tree.grid_far, username="far.grid.t")
    other = Client()
    other.force_login(far)
    assert other.get(f"/testing/recalls/{first.pk}/").status_code == 404
    assert other.get(f"/testing/tubes/{tube.pk}/").status_code == 404
    assert other.get(f"/testing/lab/imports/{job.pk}/").status_code == 404


def test_the_site_staff_post_the_queue_from_the_scanning_page(mass):
    client = Client()
    client.force_login(mass.collector)
    posted = client.post(
        f"/testing/scan/queue/?site={mass.site.pk}&round={mass.round.pk}", {"queue": "long", "minutes": "35"}
    )
    assert posted.status_code == 302
    mass.site.refresh_from_db()
    assert (mass.site.queue, mass.site.queue_minutes) == ("long", 35)
    for bad in ({"queue": "huge"}, {"queue": "short", "minutes": "99999"}):
        assert (
            client.post(
                f"/testing/scan/queue/?site={mass.site.pk}&round={mass.round.pk}", bad, follow=True
            ).status_code
            == 200
        )


def test_an_unknown_id_number_is_offered_for_registration_on_the_spot(mass, tree):
    from fangkong.people.models import Person
    from tests.people.factories import resident_id

    client = Client()
    client.force_login(mass.collector)
    tube = tube_open(actor=mass.collector, round=mass.round, site=mass.site, barcode=barcode(1))
    number = resident_id()
    answer = client.post(f"/testing/tubes/{tube.pk}/scan/", {"code": number}, HTTP_HX_REQUEST="true")
    assert answer.status_code == 422 and b'data-testid="register-on-the-spot"' in answer.content
    form = client.get(f"/people/new/?id_number={number}&next=/testing/tubes/{tube.pk}/")
    assert number.encode() in form.content
    made = client.post(
        "/people/new/",
        {
            "name": "新来的",
            "id_type": "resident_id",
            "id_number": number,
            "org_unit": str(tree.grid_a.pk),
            "next": f"/testing/tubes/{tube.pk}/",
        },
    )
    assert made.status_code == 302 and made["Location"] == f"/testing/tubes/{tube.pk}/"
    assert Person.objects.filter(name="新来的").exists()
    added = client.post(f"/testing/tubes/{tube.pk}/scan/", {"code": number}, HTTP_HX_REQUEST="true")
    assert added.status_code == 200
    off_site = client.post(
        "/people/new/",
        {
            "name": "x",
            "id_type": "resident_id",
            "id_number": resident_id(),
            "org_unit": str(tree.grid_a.pk),
            "next": "//evil.example/",
        },
    )
    assert off_site.status_code == 302 and "evil" not in off_site["Location"]


def test_a_collector_goes_back_to_a_tube_left_open(mass):
    client = Client()
    client.force_login(mass.collector)
    tube = tube_open(actor=mass.collector, round=mass.round, site=mass.site, barcode=barcode(1))
    home = client.get(f"/testing/scan/?site={mass.site.pk}&round={mass.round.pk}").content.decode()
    assert 'data-testid="open-tubes"' in home and f"/testing/tubes/{tube.pk}/" in home
    again = client.post(
        f"/testing/scan/tube/?site={mass.site.pk}&round={mass.round.pk}", {"barcode": barcode(1).lower()}
    )
    assert again.status_code == 302 and again["Location"] == f"/testing/tubes/{tube.pk}/"
    assert Tube.objects.filter(barcode=barcode(1)).count() == 1
