"""Writes: permissions, the admin's validation rules, optimistic concurrency."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from api.groups import CURATOR_GROUP, CURATOR_PERMISSIONS
from evidence.models import Appraisal, Journal, Limitation, Study
from tests.api.factories import full_study
from tests.factories import (
    AppraisalFactory,
    ConceptFactory,
    JournalFactory,
    StudyFactory,
)

pytestmark = pytest.mark.django_db


# --- who may write -------------------------------------------------------------------------


def test_curator_group_has_the_curation_permissions():
    group = Group.objects.get(name=CURATOR_GROUP)
    codenames = set(group.permissions.values_list("codename", flat=True))

    assert {"add_study", "change_appraisal", "delete_limitation", "view_citation"} <= codenames
    assert {"add_importrun", "view_importrun"} <= codenames
    assert "delete_importrun" not in codenames
    assert len(codenames) == sum(len(actions) for actions in CURATOR_PERMISSIONS.values())


def test_anonymous_cannot_write(api):
    response = api.post("/api/v1/journals/", {"title": "J"}, format="json")

    assert response.status_code in {401, 403}
    assert not Journal.objects.exists()


def test_logged_in_user_without_permission_cannot_write(reader_api):
    study = StudyFactory()

    assert reader_api.get(f"/api/v1/studies/{study.id}/").status_code == 200
    response = reader_api.patch(f"/api/v1/studies/{study.id}/", {"title": "X"}, format="json")
    assert response.status_code == 403


def test_token_authentication(curator):
    token = Token.objects.create(user=curator)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    response = client.post(
        "/api/v1/concepts/", {"name": "Blood supply", "kind": "mechanism"}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["name"] == "Blood supply"


# --- validation by the model's rules ---------------------------------------------------


def test_create_study_normalises_identifiers_and_returns_the_detail(curator_api):
    journal = JournalFactory()

    response = curator_api.post(
        "/api/v1/studies/",
        {
            "title": "New study",
            "doi": "https://doi.org/10.1186/S1",
            "pmcid": "pmc 42",
            "journal": journal.id,
            "pub_date": "2021-03-04",
            "keywords": ["hip"],
            "publication_types": ["Randomized Controlled Trial"],
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["doi"], body["pmcid"], body["pub_year"]) == ("10.1186/s1", "PMC42", 2021)
    assert body["publication_types"] == ["Randomized Controlled Trial"]
    assert body["journal"] == journal.title
    assert response["ETag"]
    study = Study.objects.get(pk=body["id"])
    assert "New study" in study.search_document and "hip" in study.search_document


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"title": "x", "doi": "not a doi"}, "doi"),
        ({"title": "x", "pmcid": "PMCX"}, "pmcid"),
        ({"title": "x", "pub_year": 3000}, "pub_year"),
        ({"title": "x", "pub_date": "2020-01-01", "pub_year": 2019}, "pub_year"),
        ({"title": "x", "review_status": "done"}, "review_status"),
        ({"title": "x", "journal": 999999}, "journal"),
        ({"title": "x", "keywords": "hip"}, "keywords"),
        ({"title": "x", "grants": [{"agency": ["NIH"]}]}, "grants"),
        ({"title": "x", "grants": {"agency": "NIH"}}, "grants"),
    ],
)
def test_invalid_study_is_400_naming_the_field(curator_api, payload, field):
    response = curator_api.post("/api/v1/studies/", payload, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Study.objects.exists()


def test_curator_records_funding_and_interests(curator_api):
    study = StudyFactory()

    response = curator_api.patch(
        f"/api/v1/studies/{study.id}/",
        {
            "grants": [{"agency": "Example Pharma"}],
            "conflict_of_interest": "Two authors are employees of Example Pharma.",
        },
        format="json",
    )

    assert response.status_code == 200
    study.refresh_from_db()
    assert study.grants == [
        {"agency": "Example Pharma", "grant_id": "", "acronym": "", "country": ""}
    ]
    assert study.conflict_of_interest == "Two authors are employees of Example Pharma."
    assert response.json()["grants"] == study.grants


def test_duplicate_identifier_is_400(curator_api):
    StudyFactory(pmid=123)

    response = curator_api.post("/api/v1/studies/", {"title": "x", "pmid": 123}, format="json")

    assert response.status_code == 400
    assert "pmid" in response.json()


def test_patch_study_records_history_with_the_user(curator_api, curator):
    study = StudyFactory(title="Old")

    response = curator_api.patch(
        f"/api/v1/studies/{study.id}/", {"title": "New words"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["title"] == "New words"
    latest = study.history.latest()
    assert (latest.title, latest.history_user) == ("New words", curator)
    study.refresh_from_db()
    assert study.search_document.startswith("New words")


def test_appraisal_put_creates_patch_changes_delete_removes(curator_api):
    study = StudyFactory()
    concept = ConceptFactory(name="Blood supply")
    url = f"/api/v1/studies/{study.id}/appraisal/"

    created = curator_api.put(
        url,
        {
            "design": "systematic_review",
            "safety": {"state": "not_reported"},
            "sample_size": {"state": "reported", "value": 12},
            "concepts": [concept.id],
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert created.json()["safety"] == {"state": "not_reported", "value": None}
    assert created.json()["concepts"] == [
        {"id": concept.id, "name": "Blood supply", "kind": "mechanism"}
    ]

    changed = curator_api.patch(url, {"certainty": "low"}, format="json")
    assert changed.status_code == 200
    assert (changed.json()["certainty"], changed.json()["design"]) == ("low", "systematic_review")

    assert curator_api.delete(url).status_code == 204
    assert not Appraisal.objects.filter(study=study).exists()
    assert curator_api.get(url).status_code == 404


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        (
            {"safety": {"state": "reported"}},
            {"safety": {"value": ["Give the value, or choose another reporting state."]}},
        ),
        (
            {"safety": {"state": "not_reported", "value": "Mild pain"}},
            {"safety": {"state": ["A value is given: set the state to 'Reported'."]}},
        ),
        (
            {"risk_of_bias": "high"},
            {"risk_of_bias_tool": ["Name the tool used to judge the risk of bias."]},
        ),
        ({"concepts": [999999]}, {"concepts": ["Unknown concept id(s): 999999."]}),
        ({"sample_size": {"state": "reported", "value": -1}}, None),
    ],
)
def test_appraisal_rules_are_the_models(curator_api, payload, error):
    study = StudyFactory()

    response = curator_api.put(f"/api/v1/studies/{study.id}/appraisal/", payload, format="json")

    assert response.status_code == 400
    if error is not None:
        assert response.json() == error
    assert not Appraisal.objects.exists()


def test_effect_size_constraint_is_400(curator_api):
    study = StudyFactory()

    response = curator_api.post(
        "/api/v1/effect-sizes/",
        {
            "study": study.id,
            "outcome": "Collapse",
            "measure": "RR",
            "value": 0.5,
            "ci_lower": 0.9,
            "ci_upper": 0.4,
        },
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["The CI lower bound exceeds the upper bound."]}


def test_limitation_crud(curator_api):
    study = StudyFactory()

    created = curator_api.post(
        "/api/v1/limitations/",
        {
            "study": study.id,
            "category": "heterogeneity",
            "description": "Mixed populations.",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    url = f"/api/v1/limitations/{created.json()['id']}/"
    assert (
        curator_api.patch(url, {"raised_by": "reviewer"}, format="json").json()["raised_by"]
        == "reviewer"
    )
    bad = curator_api.patch(url, {"category": "vibes"}, format="json")
    assert bad.status_code == 400 and "category" in bad.json()
    assert curator_api.delete(url).status_code == 204
    assert not Limitation.objects.exists()


def test_journal_issn_is_normalised_and_a_duplicate_refused(curator_api):
    first = curator_api.post(
        "/api/v1/journals/", {"title": "Bone", "issn": "12345678"}, format="json"
    )
    assert first.status_code == 201
    assert first.json()["issn"] == "1234-5678"

    again = curator_api.post(
        "/api/v1/journals/", {"title": "Bone Again", "issn": "1234-5678"}, format="json"
    )
    assert again.status_code == 400
    assert "already exists" in again.json()["non_field_errors"][0]


def test_deleting_a_journal_with_studies_is_409(curator_api):
    journal = JournalFactory()
    StudyFactory(journal=journal)

    response = curator_api.delete(f"/api/v1/journals/{journal.id}/")

    assert response.status_code == 409
    assert "studies" in response.json()["detail"]
    assert Journal.objects.filter(pk=journal.pk).exists()


def test_mesh_heading_create_adds_the_descriptor_and_refreshes_search(curator_api):
    study = StudyFactory(title="Hip study")

    response = curator_api.post(
        "/api/v1/mesh-headings/",
        {
            "study": study.id,
            "descriptor": "Osteonecrosis",
            "is_major": True,
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    study.refresh_from_db()
    assert "Osteonecrosis" in study.search_document
    assert curator_api.delete(f"/api/v1/mesh-headings/{response.json()['id']}/").status_code == 204
    study.refresh_from_db()
    assert "Osteonecrosis" not in study.search_document


def test_citation_and_work_writes(curator_api):
    work = curator_api.post("/api/v1/works/", {"pmid": 12345, "title": "Cited"}, format="json")
    other = curator_api.post(
        "/api/v1/works/", {"doi": "10.1000/ABC", "title": "Other"}, format="json"
    )
    assert (work.status_code, other.status_code) == (201, 201)
    assert other.json()["doi"] == "10.1000/abc"

    edge = curator_api.post(
        "/api/v1/citations/",
        {
            "citing": work.json()["id"],
            "cited": other.json()["id"],
            "position": 1,
        },
        format="json",
    )
    assert edge.status_code == 201
    self_cite = curator_api.post(
        "/api/v1/citations/",
        {
            "citing": work.json()["id"],
            "cited": work.json()["id"],
        },
        format="json",
    )
    assert self_cite.status_code == 400
    assert self_cite.json() == {"non_field_errors": ["A work cannot cite itself."]}


# --- optimistic concurrency --------------------------------------------------------------


def test_if_match_with_the_current_etag_writes(curator_api):
    study = StudyFactory()
    url = f"/api/v1/studies/{study.id}/"
    etag = curator_api.get(url)["ETag"]

    response = curator_api.patch(url, {"title": "Mine"}, format="json", HTTP_IF_MATCH=etag)

    assert response.status_code == 200
    assert response["ETag"] != etag
    assert curator_api.get(url)["ETag"] == response["ETag"]


def test_stale_if_match_is_412_and_changes_nothing(curator_api):
    study = full_study(title="Original")
    url = f"/api/v1/studies/{study.id}/"
    etag = curator_api.get(url)["ETag"]
    curator_api.patch(url, {"review_status": "in_review"}, format="json")  # someone else

    stale = curator_api.patch(url, {"title": "Mine"}, format="json", HTTP_IF_MATCH=etag)
    stale_delete = curator_api.delete(url, HTTP_IF_MATCH=etag)

    assert (stale.status_code, stale_delete.status_code) == (412, 412)
    study.refresh_from_db()
    assert study.title == "Original"


def test_if_match_on_appraisal_and_items(curator_api):
    study = StudyFactory()
    AppraisalFactory(study=study)
    url = f"/api/v1/studies/{study.id}/appraisal/"
    etag = curator_api.get(url)["ETag"]

    assert (
        curator_api.patch(url, {"notes": "a"}, format="json", HTTP_IF_MATCH=etag).status_code == 200
    )
    assert (
        curator_api.patch(url, {"notes": "b"}, format="json", HTTP_IF_MATCH=etag).status_code == 412
    )

    journal = JournalFactory()
    journal_url = f"/api/v1/journals/{journal.id}/"
    journal_etag = curator_api.get(journal_url)["ETag"]
    assert (
        curator_api.put(
            journal_url, {"title": "Renamed"}, format="json", HTTP_IF_MATCH='"nope"'
        ).status_code
        == 412
    )
    assert (
        curator_api.put(
            journal_url, {"title": "Renamed"}, format="json", HTTP_IF_MATCH=journal_etag
        ).status_code
        == 200
    )
