"""The OpenAPI contract: it generates cleanly, and no request it allows is a 500."""

from __future__ import annotations

import itertools

import pytest
import schemathesis
import yaml
from django.core import signals
from django.core.management import call_command
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from config.wsgi import application
from tests.api.factories import full_study


def test_schema_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    schema = yaml.safe_load(target.read_text())
    studies = schema["paths"]["/api/v1/studies/"]["get"]
    names = {parameter["name"] for parameter in studies["parameters"]}
    # Every filter and format is documented.
    assert {
        "pmid",
        "doi",
        "q",
        "design",
        "safety",
        "cites",
        "cited_by",
        "gap_category",
        "has_effect_sizes",
        "ordering",
        "fields",
        "group_by",
        "format",
        "cursor",
        "page",
        "page_size",
    } <= names
    formats = next(p for p in studies["parameters"] if p["name"] == "format")["schema"]["enum"]
    assert {"json", "ris", "bibtex", "nbib", "csl-json", "csv"} <= set(formats)
    assert "application/x-research-info-systems" in studies["responses"]["200"]["content"]


MAX_EXAMPLES = 15
# Invalid inputs (wrong types, out-of-range values, malformed bodies) too, fewer of them.
MAX_NEGATIVE_EXAMPLES = 5


@pytest.fixture
def keep_the_test_connection():
    """Django closes a connection that saw an error when a request finishes; in a test
    that would end the test's transaction (PostgreSQL). Its test client disconnects
    these handlers too; schemathesis' WSGI client does not."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.mark.django_db
def test_no_request_is_a_server_error(curator, keep_the_test_connection):
    """Schemathesis against every operation, as a curator so that writes get past
    authentication into validation. (Its pytest plugin does not run on pytest 9, so
    the strategies are driven with Hypothesis directly.)"""
    for n in range(3):
        full_study(pub_year=2018 + n)
    token = Token.objects.create(user=curator).key
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
    failures: list[str] = []
    operations = 0
    runs = [
        (GenerationMode.POSITIVE, MAX_EXAMPLES),
        (GenerationMode.NEGATIVE, MAX_NEGATIVE_EXAMPLES),
    ]
    for result, (mode, examples) in itertools.product(schema.get_all_operations(), runs):
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=examples,
            phases=[Phase.explicit, Phase.generate],
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def exercise(case):
            case.call_and_validate(
                headers={"Authorization": f"Token {token}"}, checks=[not_a_server_error]
            )

        try:
            exercise()
        except Unsatisfiable:
            pass  # nothing in this operation can be made invalid (negative mode)
        except (Exception, BaseExceptionGroup) as exc:  # collect them all, fail once
            failures.append(f"{operation.label} ({mode.value}): {exc}")
    assert operations > 100
    assert not failures, "\n\n".join(failures)
