"""Bad requests are 4xx with the parameter named; Django errors become JSON."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from rest_framework.test import APIRequestFactory

from api.exceptions import exception_handler
from tests.factories import JournalFactory, StudyFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/api/v1/studies/?desing=rct", "desing"),
        ("/api/v1/studies/1/?design=rct", "design"),
        ("/api/v1/journals/?q=x&foo=1", "foo"),
        ("/api/v1/studies/?format=api", "format"),
        ("/api/v1/studies/?page=0", "page"),
        ("/api/v1/studies/?page=abc", "page"),
        ("/api/v1/studies/?page=1&cursor=abc", "page"),
        ("/api/v1/studies/?page_size=0", "page_size"),
        ("/api/v1/studies/?ordering=-relevance&q=x", "ordering"),
        ("/api/v1/studies/?ordering=a,b,c,d", "ordering"),
        ("/api/v1/limitations/?group_by=mesh,journal,design", "group_by"),
        ("/api/v1/journals/?group_by=title", "group_by"),
    ],
)
def test_bad_parameters_are_400_naming_them(api, path, param):
    StudyFactory(pk=1)

    response = api.get(path)

    assert response.status_code == 400
    assert param in response.json()


def test_unknown_parameter_message_lists_the_allowed_ones(api):
    message = api.get("/api/v1/concepts/?nmae=x").json()["nmae"][0]

    assert "kind" in message and "ordering" in message


def test_missing_resources_are_json_404(api):
    response = api.get("/api/v1/journals/12345/")

    assert response.status_code == 404
    assert response.json() == {"detail": "No Journal matches the given query."}


def test_malformed_json_body_is_400(curator_api):
    response = curator_api.generic(
        "POST", "/api/v1/concepts/", b"{not json", content_type="application/json"
    )

    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]


def test_unsupported_body_type_is_415(curator_api):
    response = curator_api.generic(
        "POST", "/api/v1/concepts/", b"name=x", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 415


def test_api_root_lists_the_resources(api):
    body = api.get("/api/v1/").json()

    assert {"studies", "research-gaps", "imports"} <= set(body)


def _context():
    return {"request": APIRequestFactory().get("/"), "view": None}


def test_handler_turns_a_django_validation_error_into_field_errors():
    exc = DjangoValidationError({"doi": ["Not a DOI."], "__all__": ["Bad."]})

    response = exception_handler(exc, _context())

    assert response.status_code == 400
    assert response.data == {"doi": ["Not a DOI."], "non_field_errors": ["Bad."]}


def test_handler_turns_an_integrity_error_into_409():
    response = exception_handler(IntegrityError("duplicate key"), _context())

    assert response.status_code == 409
    assert "duplicate key" in response.data["detail"]


def test_protected_delete_is_409(curator_api):
    journal = JournalFactory()
    StudyFactory(journal=journal)

    assert curator_api.delete(f"/api/v1/journals/{journal.id}/").status_code == 409
