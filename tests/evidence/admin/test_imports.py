"""Import runs in the admin: the read-only record and the "Import citation file" page."""

from __future__ import annotations

import importlib.util

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse

from evidence.forms import IMPORT_FORMATS, ImportUploadForm
from evidence.models import ImportRun, ImportStatus, Study
from tests import factories

pytestmark = pytest.mark.django_db

UPLOAD = "admin:evidence_importrun_upload"


def _service_missing() -> bool:
    try:
        from evidence.services import study_import  # noqa: F401
    except ImportError:
        return True
    return False


requires_import_service = pytest.mark.skipif(
    _service_missing(),
    reason="evidence.services.study_import is not written yet (the lead is writing it)",
)

RIS = b"""TY  - JOUR
TI  - Core decompression for osteonecrosis of the femoral head
AU  - Smith, John
PY  - 2019
JO  - Journal of Orthopaedics
DO  - 10.5555/ris.upload.1
ER  -\x20
"""

MEDLINE = b"""PMID- 99000001
TI  - Stem cells and femoral head necrosis.
DP  - 2021 Mar
FAU - Li, Wei
AU  - Li W
TA  - J Orthop
PT  - Journal Article

"""


def upload(name: str, content: bytes, **options):
    return {
        "file": SimpleUploadedFile(name, content, content_type="application/octet-stream"),
        "format": "auto",
        "on_duplicate": "update",
        **options,
    }


# -- the upload page --------------------------------------------------------------------


def test_upload_page_renders_with_every_option(admin_client):
    response = admin_client.get(reverse(UPLOAD))
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.fields) == {"file", "format", "dry_run", "on_duplicate", "skip_invalid"}
    assert [value for value, _ in form.fields["format"].choices] == ["auto", *IMPORT_FORMATS]
    assert 'enctype="multipart/form-data"' in response.text


def test_changelist_links_to_the_upload_page(admin_client):
    response = admin_client.get(reverse("admin:evidence_importrun_changelist"))
    assert reverse(UPLOAD) in response.text
    assert "Import citation file" in response.text


def test_staff_without_add_permission_gets_403(staff_client):
    client = staff_client("view_importrun")
    assert client.get(reverse(UPLOAD)).status_code == 403
    response = client.post(reverse(UPLOAD), upload("refs.ris", RIS))
    assert response.status_code == 403
    assert not ImportRun.objects.exists()
    # They still see the runs, without the button.
    listing = client.get(reverse("admin:evidence_importrun_changelist"))
    assert listing.status_code == 200
    assert reverse(UPLOAD) not in listing.text


def test_staff_with_add_permission_sees_the_page(staff_client):
    client = staff_client("view_importrun", "add_importrun")
    assert client.get(reverse(UPLOAD)).status_code == 200


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse(UPLOAD))
    assert response.status_code == 302
    assert reverse("admin:login") in response.url


def test_upload_checks_csrf(admin_user):
    # The view installs its size limit before the body is read, so it checks CSRF
    # itself rather than through the middleware: prove that it does.
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    response = client.post(reverse(UPLOAD), upload("refs.ris", RIS))
    assert response.status_code == 403
    assert not ImportRun.objects.exists()


@override_settings(EVIDB_MAX_UPLOAD_BYTES=100)
def test_oversized_file_is_refused_with_a_message(admin_client):
    response = admin_client.post(reverse(UPLOAD), upload("big.ris", RIS * 10))
    assert response.status_code == 413
    errors = response.context["form"].errors["file"]
    assert errors == [
        "'big.ris' is over the 100 bytes upload limit. Split the file, or import it with "
        "'manage.py import_records'."
    ]
    assert "over the 100 bytes upload limit" in response.text
    assert not ImportRun.objects.exists()


@override_settings(EVIDB_MAX_UPLOAD_BYTES=100)
def test_form_refuses_a_file_over_the_limit():
    form = ImportUploadForm(
        data={"format": "auto", "on_duplicate": "update"},
        files={"file": SimpleUploadedFile("big.ris", b"x" * 101)},
    )
    assert not form.is_valid()
    assert form.has_error("file", "too_large")
    small = ImportUploadForm(
        data={"format": "auto", "on_duplicate": "update"},
        files={"file": SimpleUploadedFile("ok.ris", b"x" * 100)},
    )
    assert small.is_valid(), small.errors


def test_form_requires_a_file(admin_client):
    response = admin_client.post(reverse(UPLOAD), {"format": "auto", "on_duplicate": "update"})
    assert response.status_code == 200
    assert response.context["form"].errors["file"] == ["This field is required."]


def test_format_names_match_the_importer_registry():
    if importlib.util.find_spec("evidence.importers.registry") is None:
        pytest.skip("evidence.importers.registry is not written yet")
    from evidence.importers.registry import FORMATS

    assert set(IMPORT_FORMATS) == set(FORMATS)


@requires_import_service
def test_ris_upload_imports_and_redirects_to_the_run(admin_client, admin_user):
    response = admin_client.post(reverse(UPLOAD), upload("refs.ris", RIS), follow=True)
    run = ImportRun.objects.get()
    assert response.redirect_chain[0][0] == reverse(
        "admin:evidence_importrun_change", args=[run.pk]
    )
    assert run.status == ImportStatus.SUCCEEDED, run.messages
    assert (run.user, run.source_name, run.format, run.created) == (
        admin_user,
        "refs.ris",
        "ris",
        1,
    )
    assert Study.objects.get().doi == "10.5555/ris.upload.1"
    assert "Imported refs.ris" in response.text


@requires_import_service
def test_medline_dry_run_saves_nothing(admin_client):
    response = admin_client.post(
        reverse(UPLOAD), upload("pubmed.nbib", MEDLINE, dry_run="on", format="medline"), follow=True
    )
    run = ImportRun.objects.get()
    assert run.status == ImportStatus.DRY_RUN, run.messages
    assert run.options["dry_run"] is True
    assert not Study.objects.exists()
    assert "Dry run of pubmed.nbib" in response.text


@requires_import_service
def test_unreadable_file_gives_a_failed_run_with_its_messages(admin_client):
    response = admin_client.post(
        reverse(UPLOAD), upload("junk.txt", b"\x00\x01 definitely not citations"), follow=True
    )
    run = ImportRun.objects.get()
    assert run.status == ImportStatus.FAILED
    assert "failed and nothing was imported" in response.text
    assert run.messages  # shown on the run page
    assert run.messages[0]["message"][:40] in response.text


# -- the run's record -------------------------------------------------------------------


def test_run_page_is_read_only_and_renders_messages(admin_client):
    run = ImportRun.objects.create(
        source_name="refs.ris",
        format="ris",
        status=ImportStatus.FAILED,
        user=factories.UserFactory(),
        options={"dry_run": False, "on_duplicate": "skip", "skip_invalid": True},
        records_seen=3,
        failed=1,
        messages=[
            {"level": "error", "location": "refs.ris, record 2, line 9", "message": "no title"},
            {"level": "warning", "location": "refs.ris, record 3", "message": "odd <year>"},
        ],
    )
    response = admin_client.get(reverse("admin:evidence_importrun_change", args=[run.pk]))
    assert response.status_code == 200
    text = response.text
    assert "refs.ris, record 2, line 9" in text
    assert "no title" in text
    assert "odd &lt;year&gt;" in text  # escaped, not markup
    assert "on duplicate: skip, skip invalid records" in text
    assert 'name="_save"' not in text  # nothing to save
    before = ImportRun.objects.values().get(pk=run.pk)
    admin_client.post(
        reverse("admin:evidence_importrun_change", args=[run.pk]), {"source_name": "x"}
    )
    assert ImportRun.objects.values().get(pk=run.pk) == before


def test_run_list_shows_counts_and_user(admin_client):
    user = factories.UserFactory(username="curator")
    ImportRun.objects.create(
        source_name="a.xml",
        format="pubmed-xml",
        status=ImportStatus.SUCCEEDED,
        user=user,
        created=7,
    )
    response = admin_client.get(reverse("admin:evidence_importrun_changelist"))
    assert response.status_code == 200
    assert "a.xml" in response.text
    assert "curator" in response.text
    assert '<td class="field-created">7</td>' in response.text
