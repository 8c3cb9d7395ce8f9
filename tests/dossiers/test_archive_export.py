"""The export of an archived file: one zip with the copies exactly as stored, their SHA-256
list, the review history as CSV (Chinese headers) and JSON; checked against the hashes first
(a tampered copy stops it, logged); every export logged; only the scoped roles."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile

import pytest
from django.urls import reverse

from audit.models import AccessEvent
from dossiers import archive
from dossiers.archive import do_export_archive
from dossiers.pdf import Copy
from dossiers.services import (
    DossierError,
    DossierNotFound,
    DossierTampered,
    do_compile_dossier,
    do_resolve_problem,
    do_resubmit,
    do_return,
)
from tests.dossiers.test_services import pass_all, reviewers, stored_bytes  # noqa: F401
from tests.factories import login_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def archived(released, reviewers):  # noqa: F811 - the fixture imported above
    return pass_all(do_compile_dossier(released), reviewers)


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zipped:
        return {name: zipped.read(name) for name in zipped.namelist()}


def test_the_zip_holds_the_copies_as_stored_their_hashes_and_the_history(
    archived, private_dir, org, settings
):
    settings.LANGUAGE_CODE = "zh-hans"
    files = unzip(do_export_archive(archived, org.officer))
    assert set(files) == {
        "officer.pdf",
        "SHA256SUMS.txt",
        "history.csv",
        "history.json",
        "manifest.json",
    }  # an officer never gets the counselor's copy
    assert files["officer.pdf"] == stored_bytes(private_dir, archived, Copy.OFFICER)
    digest = hashlib.sha256(files["officer.pdf"]).hexdigest()
    assert digest == archived.officer_sha256
    assert files["SHA256SUMS.txt"].decode() == f"{digest}  officer.pdf\n"
    table = list(csv.reader(io.StringIO(files["history.csv"].decode("utf-8-sig"))))
    assert table[0][:4] == ["时间", "轮次", "轮次名称", "审核人"]
    assert len(table) == 5 and {row[4] for row in table[1:]} == {"已通过"}
    history = json.loads(files["history.json"])
    assert [row["round"] for row in history["rows"]] == [1, 2, 3, 4]
    assert history["rows"][0]["round_title"] == "矫正小组自查" == table[1][2]
    manifest = json.loads(files["manifest.json"])
    assert manifest["files"] == {"officer.pdf": digest}
    assert manifest["retain_until"] == archived.retain_until.isoformat()
    event = AccessEvent.objects.order_by("pk").last()
    assert event.action == "export" and event.success and digest in event.detail
    assert "archive export" in event.detail


def test_a_reader_of_both_copies_gets_both(archived, private_dir):
    from django.contrib.auth import get_user_model

    root = get_user_model().objects.create_superuser("root", "root@example.org", "pw")
    files = unzip(do_export_archive(archived, root))
    assert files["counselor.pdf"] == stored_bytes(private_dir, archived, Copy.COUNSELOR)
    assert files["SHA256SUMS.txt"].decode().count("\n") == 2


def test_a_tampered_copy_stops_the_export_and_is_logged(archived, private_dir, org):
    path = private_dir / archived.counselor_file.name
    path.write_bytes(path.read_bytes() + b"forged")
    before = AccessEvent.objects.filter(action="export").count()
    from django.contrib.auth import get_user_model

    root = get_user_model().objects.create_superuser("root", "root@example.org", "pw")
    with pytest.raises(DossierTampered):
        do_export_archive(archived, root)
    refused = AccessEvent.objects.order_by("pk").last()
    assert refused.success is False and archived.counselor_sha256 in refused.detail
    assert AccessEvent.objects.filter(action="export").count() == before


def test_only_an_archived_file_is_exported(released, org):
    dossier = do_compile_dossier(released)
    with pytest.raises(DossierError, match="已归档"):
        do_export_archive(dossier, org.officer)


def test_those_who_may_not_read_the_file_are_refused_and_logged(archived, org):
    for user in (org.counselor, org.other_officer, org.lecturer):
        with pytest.raises(DossierNotFound):
            do_export_archive(archived, user)
    assert AccessEvent.objects.filter(action="denied", detail="archive export").count() == 3


def test_the_page_offers_the_export_and_answers_with_the_zip(client, archived, org):
    login_staff(client, org.officer)
    page = client.get(reverse("dossiers_detail", args=[archived.pk])).content.decode()
    assert 'data-testid="archive-export"' in page and "导出归档档案" in page
    url = reverse("dossiers_archive_export", args=[archived.pk])
    assert client.get(url).status_code == 405
    response = client.post(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert "officer.pdf" in unzip(response.content)
    for role in ("counselor", "other_officer"):
        login_staff(client, getattr(org, role))
        assert client.post(url).status_code == 404


def test_a_file_in_review_is_not_exported_from_the_page(client, released, org):
    dossier = do_compile_dossier(released)
    login_staff(client, org.officer)
    page = client.get(reverse("dossiers_detail", args=[dossier.pk])).content.decode()
    assert 'data-testid="archive-export"' not in page
    response = client.post(reverse("dossiers_archive_export", args=[dossier.pk]), follow=True)
    assert "只有已归档的档案才能导出" in response.content.decode()


def test_the_history_csv_and_json_carry_the_same_rows(archived):
    rows = archive.history_rows(archived)
    table = list(csv.reader(io.StringIO(archive.history_csv(rows).lstrip("\ufeff"))))
    assert len(table) == len(rows) + 1
    assert json.loads(archive.history_json(rows))["rows"] == json.loads(json.dumps(rows))


def test_a_formula_in_a_problem_is_neutralised_in_the_zips_csv(released, reviewers, org):  # noqa: F811
    hostile = '=HYPERLINK("http://evil.example/","Open")'
    dossier = do_return(do_compile_dossier(released), org.officer, [("plan", hostile)])
    do_resolve_problem(dossier.problems.get(), org.officer, "+已补方案")
    dossier = pass_all(do_resubmit(dossier, org.officer), reviewers)
    files = unzip(do_export_archive(dossier, org.officer))
    cells = [
        cell
        for row in csv.reader(io.StringIO(files["history.csv"].decode("utf-8-sig")))
        for cell in row
    ]
    assert "'" + hostile in cells and "'+已补方案" in cells
    assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@"))]
