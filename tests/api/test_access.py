"""Anonymous reading (switchable) and its throttle."""

from __future__ import annotations

import re

import pytest
from rest_framework.throttling import AnonRateThrottle

from tests.factories import StudyFactory

pytestmark = pytest.mark.django_db


def test_anonymous_may_read_by_default(api):
    study = StudyFactory()

    assert api.get("/api/v1/studies/").status_code == 200
    assert api.get(f"/api/v1/studies/{study.id}/").status_code == 200


def test_anonymous_reading_can_be_switched_off(api, reader_api, settings):
    settings.EVIDB_ANONYMOUS_READ = False

    assert api.get("/api/v1/studies/").status_code in {401, 403}
    assert api.get("/api/v1/journals/").status_code in {401, 403}
    assert reader_api.get("/api/v1/studies/").status_code == 200


def test_anonymous_requests_are_throttled(api, reader_api, monkeypatch):
    monkeypatch.setitem(AnonRateThrottle.THROTTLE_RATES, "anon", "3/minute")

    codes = [api.get("/api/v1/studies/").status_code for _ in range(4)]

    assert codes == [200, 200, 200, 429]
    assert "Retry-After" in api.get("/api/v1/studies/")
    assert reader_api.get("/api/v1/studies/").status_code == 200  # logged in: not throttled


def test_schema_and_docs_are_served(api):
    schema = api.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/studies/" in schema.content
    docs = api.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
    # Assets are served locally (sidecar), never from a CDN. The page also
    # holds a random CSRF token, so look at the asset URLs, not at the text.
    asset_urls = re.findall(rb'(?:src|href)="([^"]+)"', docs.content)
    assert asset_urls
    assert all(url.startswith(b"/static/") for url in asset_urls), asset_urls
    assert api.get("/api/redoc/").status_code == 200
    assert api.get("/").status_code == 302
