"""Excel exports written by the real worker: asked, written with progress, downloaded by the
asker only (audited), refused when the roles went in between, interrupted, deleted after a day."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from fangkong.audit.models import AuditEvent
from fangkong.dashboard.export_files import export_files_dir, export_files_expire
from fangkong.dashboard.models import ExportFile
from tests.cases.factories import make_case
from tests.orgs.factories import user_with_role

pytestmark = pytest.mark.django_db(transaction=True)  # the real worker commits


def _work() -> None:
    call_command(
        "db_worker", "--batch", "--queue-name", "*", "--no-startup-delay", "--no-reload", verbosity=0
    )


@pytest.fixture
def cases(tree, epidemiologist):
    return [make_case(actor=epidemiologist, grid=tree.grid_a) for _ in range(3)]


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path


def test_the_worker_writes_the_file_and_only_the_asker_downloads_it(
    client: Client, cases, epidemiologist, tree
):
    client.force_login(epidemiologist)
    response = client.post("/dashboard/exports/cases.xlsx", {"org_unit": tree.grid_a.pk})
    file = ExportFile.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/dashboard/exports/files/{file.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert 'data-status="queued"' in page and "hx-trigger" in page and 'data-rows="0/3"' in page
    assert file.rows_total == 3 and not AuditEvent.objects.filter(action="dashboard.export").exists()

    _work()
    file.refresh_from_db()
    assert (file.status, file.rows_done, file.percent) == ("succeeded", 3, 100)
    assert AuditEvent.objects.filter(action="dashboard.export").count() == 1  # written before any download
    block = client.get(f"/dashboard/exports/files/{file.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in block and 'data-testid="export-file-download"' in block
    download = client.get(f"/dashboard/exports/files/{file.pk}/download")
    assert download.status_code == 200 and file.file_name in download["Content-Disposition"]
    rows = list(load_workbook(io.BytesIO(b"".join(download.streaming_content))).worksheets[0].values)
    assert sorted(r[0] for r in rows[1:]) == sorted(c.number for c in cases)
    assert AuditEvent.objects.filter(action="dashboard.export.download", actor=epidemiologist).count() == 1
    assert file.file_name in client.get("/dashboard/exports/").content.decode()  # the latest files

    colleague = user_with_role("epidemiologist", tree.district, username="colleague")
    client.force_login(colleague)
    assert client.get(f"/dashboard/exports/files/{file.pk}/").status_code == 404
    assert client.get(f"/dashboard/exports/files/{file.pk}/download").status_code == 404


def test_a_role_taken_away_before_the_worker_runs_exports_nothing(client: Client, cases, tree):
    short = user_with_role("epidemiologist", tree.district, username="short")
    client.force_login(short)
    client.post("/dashboard/exports/cases.xlsx")
    short.memberships.all().delete()
    _work()
    file = ExportFile.objects.get()
    assert file.status == "failed" and file.error and not file.stored_as
    assert not any(export_files_dir().glob("*.xlsx"))
    assert not AuditEvent.objects.filter(action__startswith="dashboard.export").exists()


def test_a_file_is_deleted_after_a_day_and_a_stalled_one_is_interrupted(
    client: Client, cases, epidemiologist
):
    client.force_login(epidemiologist)
    client.post("/dashboard/exports/cases.xlsx")
    _work()
    file = ExportFile.objects.get()
    stored = export_files_dir() / file.stored_as
    assert stored.is_file()
    assert export_files_expire(now=timezone.now() + timedelta(hours=23)) == 0
    assert export_files_expire(now=timezone.now() + timedelta(hours=25)) == 1
    assert not stored.exists()
    assert (
        client.get(f"/dashboard/exports/files/{file.pk}/download")["Location"]
        == f"/dashboard/exports/files/{file.pk}/"
    )
    assert 'data-status="expired"' in client.get(f"/dashboard/exports/files/{file.pk}/").content.decode()

    client.post("/dashboard/exports/cases.xlsx")
    stalled = ExportFile.objects.latest("pk")
    ExportFile.objects.filter(pk=stalled.pk).update(
        status="running", updated_at=timezone.now() - timedelta(hours=1)
    )
    page = client.get(f"/dashboard/exports/files/{stalled.pk}/").content.decode()
    assert 'data-status="failed"' in page and "hx-trigger" not in page


def test_someone_moved_to_another_district_no_longer_downloads_the_old_one(client: Client, cases, tree):
    mover = user_with_role("epidemiologist", tree.district, username="mover")
    client.force_login(mover)
    client.post("/dashboard/exports/cases.xlsx")
    _work()
    file = ExportFile.objects.get()
    assert file.status == "succeeded" and file.scope_paths == [tree.district.path]
    assert client.get(f"/dashboard/exports/files/{file.pk}/download").status_code == 200
    mover.memberships.all().delete()
    mover.memberships.create(org_unit=tree.other_district, role="epidemiologist")
    assert client.get(f"/dashboard/exports/files/{file.pk}/download").status_code == 404


def test_a_queued_file_waits_and_a_crash_leaves_nothing_on_disk(client: Client, cases, epidemiologist):
    client.force_login(epidemiologist)
    client.post("/dashboard/exports/cases.xlsx")
    queued = ExportFile.objects.get()
    ExportFile.objects.filter(pk=queued.pk).update(updated_at=timezone.now() - timedelta(hours=2))
    assert 'data-status="queued"' in client.get(f"/dashboard/exports/files/{queued.pk}/").content.decode()

    folder = export_files_dir()
    folder.mkdir(parents=True, exist_ok=True)
    left = folder / f"{queued.pk}-crashed.xlsx"
    left.write_bytes(b"half a workbook")
    ExportFile.objects.filter(pk=queued.pk).update(
        status="running", stored_as=left.name, updated_at=timezone.now() - timedelta(hours=1)
    )
    export_files_expire()  # the stalled writing is failed and its half file removed
    queued.refresh_from_db()
    assert (queued.status, queued.stored_as) == ("failed", "") and not left.exists()

    left.write_bytes(b"half a workbook")  # a failed record whose file a crash left behind
    ExportFile.objects.filter(pk=queued.pk).update(stored_as=left.name)
    export_files_expire()
    assert not left.exists() and ExportFile.objects.get(pk=queued.pk).stored_as == ""


def test_a_refused_export_keeps_what_was_typed(client: Client, cases, epidemiologist):
    client.force_login(epidemiologist)
    response = client.post("/dashboard/exports/cases.xlsx", {"since": "2026-13-01", "until": "2026-11-20"})
    page = response.content.decode()
    assert response.status_code == 422 and 'data-field="since"' in page and 'value="2026-11-20"' in page
