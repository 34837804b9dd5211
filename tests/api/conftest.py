from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from rest_framework.test import APIClient

from api.groups import CURATOR_GROUP
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    # Anonymous throttling counts in the cache; each test starts from zero.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def curator(db):
    user = UserFactory(username="curator1")
    user.groups.add(Group.objects.get(name=CURATOR_GROUP))
    return user


@pytest.fixture
def curator_api(curator):
    client = APIClient()
    client.force_authenticate(curator)
    return client


@pytest.fixture
def reader_api(db):
    """Logged in, but in no group: may read, may not write."""
    client = APIClient()
    client.force_authenticate(UserFactory(username="reader1"))
    return client
