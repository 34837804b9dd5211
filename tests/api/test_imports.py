"""POST /imports/: a citation file through the import service; past runs."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from evidence.models import ImportRun, Study
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/imports/"
RIS = (
    b"TY  - JOUR\n"
    b"TI  - Core decompression for osteonecrosis of the femoral head\n"
    b"AU  - Smith, Jane\n"
    b"PY  - 2020\n"
    b"DO  - 10.1000/import.1\n"
    b"ER  - \n"
)


def upload(name: str = "refs.ris", content: bytes = RIS) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def test_multipart_upload_imports_and_reports(curator_api, curator):
    response = curator_api.post(URL, {"file": upload()}, format="multipart")

    assert response.status_code == 201, response.json()
    run = response.json()
    assert (run["status"], run["created"], run["records_seen"]) == ("succeeded", 1, 1)
    assert (run["user"], run["source_name"], run["format"]) == ("curator1", "refs.ris", "ris")
    assert response["Location"].endswith(f"{URL}{run['id']}/")
    assert Study.objects.get().doi == "10.1000/import.1"


def test_raw_body_upload_with_filename_and_format(curator_api):
    response = curator_api.generic(
        "POST",
        f"{URL}?filename=export.ris&format=ris",
        RIS,
        content_type="application/x-research-info-systems",
    )

    assert response.status_code == 201, response.json()
    assert (response.json()["source_name"], response.json()["format"]) == ("export.ris", "ris")
    assert Study.objects.count() == 1


def test_raw_body_named_by_content_disposition(curator_api):
    response = curator_api.generic(
        "POST",
        URL,
        RIS,
        content_type="text/plain",
        HTTP_CONTENT_DISPOSITION='attachment; filename="from-header.ris"',
    )

    assert response.status_code == 201, response.json()
    assert response.json()["source_name"] == "from-header.ris"


def test_dry_run_changes_nothing(curator_api):
    response = curator_api.post(URL, {"file": upload(), "dry_run": "true"}, format="multipart")

    assert response.status_code == 201
    assert response.json()["status"] == "dry_run"
    assert not Study.objects.exists()


def test_a_refused_file_is_400_with_the_report(curator_api):
    response = curator_api.post(
        URL, {"file": upload("broken.xml", b"<PubmedArticleSet><oops")}, format="multipart"
    )

    assert response.status_code == 400
    run = response.json()
    assert run["status"] == "failed"
    assert run["messages"] and run["messages"][0]["location"].startswith("broken.xml")
    assert ImportRun.objects.get(pk=run["id"]).status == "failed"


@pytest.mark.parametrize(
    ("data", "param"),
    [
        ({"format": "docx"}, "format"),
        ({"on_duplicate": "merge"}, "on_duplicate"),
        ({"dry_run": "perhaps"}, "dry_run"),
    ],
)
def test_bad_options_are_400_naming_them(curator_api, data, param):
    response = curator_api.post(URL, {"file": upload(), **data}, format="multipart")

    assert response.status_code == 400
    assert param in response.json()
    assert not ImportRun.objects.exists()


def test_no_file_is_400(curator_api):
    response = curator_api.post(URL, {}, format="multipart")

    assert response.status_code == 400
    assert "file" in response.json()


def test_too_large_is_413(curator_api, settings):
    settings.EVIDB_MAX_UPLOAD_BYTES = 50

    multipart = curator_api.post(URL, {"file": upload()}, format="multipart")
    raw = curator_api.generic("POST", URL, RIS, content_type="text/plain")

    assert (multipart.status_code, raw.status_code) == (413, 413)
    assert "EVIDB_MAX_UPLOAD_BYTES" in raw.json()["detail"]
    assert not ImportRun.objects.exists()


def test_importing_needs_the_permission(api, reader_api):
    assert api.post(URL, {"file": upload()}, format="multipart").status_code in {401, 403}
    assert reader_api.post(URL, {"file": upload()}, format="multipart").status_code == 403
    assert not ImportRun.objects.exists()


def test_runs_are_listed_for_those_who_may_view_them(api, reader_api, curator_api):
    curator_api.post(URL, {"file": upload()}, format="multipart")

    assert api.get(URL).status_code in {401, 403}
    assert reader_api.get(URL).status_code == 403
    listed = curator_api.get(URL).json()["results"]
    assert [run["status"] for run in listed] == ["succeeded"]
    detail = curator_api.get(f"{URL}{listed[0]['id']}/")
    assert detail.json()["created"] == 1
    assert curator_api.get(f"{URL}?status=failed").json()["results"] == []


@pytest.mark.parametrize("n", [3, 30])
def test_run_list_query_count(curator, django_assert_num_queries, n):
    user = UserFactory()
    ImportRun.objects.bulk_create(
        ImportRun(user=user, source_name=f"f{i}.ris", format="ris", status="succeeded")
        for i in range(n)
    )
    client = APIClient()
    client.force_authenticate(curator)
    # 1-2. the curator's permissions (user and group)   3. runs with their user
    with django_assert_num_queries(3):
        response = client.get(f"{URL}?page_size=200")
    assert len(response.json()["results"]) == n
