from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from tests import factories


@pytest.fixture
def staff_client(client, db):
    """A staff user with only view permissions on studies and import runs."""

    def make(*codenames: str):
        user = factories.UserFactory(is_staff=True)
        perms = Permission.objects.filter(
            content_type__app_label="evidence", codename__in=codenames
        )
        user.user_permissions.set(perms)
        client.force_login(user)
        return client

    return make
