"""python manage.py bootstrap — a ready-to-browse database for a new user."""

from __future__ import annotations

import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from evidence.models import Study

SEED_FIXTURE = "seed.json"


class Command(BaseCommand):
    help = "Migrate, load the seed fixtures and make sure an admin login exists."

    def handle(self, *args, **options) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database migrated.")
        # Fixture rows carry fixed primary keys: loading them into a database that holds
        # other studies could overwrite those, so seeds go only into an empty one.
        if Study.objects.exists():
            self.stdout.write("Seed records skipped: the database already holds studies.")
        else:
            call_command("loaddata", SEED_FIXTURE, verbosity=0)
            self.stdout.write("Seed records loaded (fixtures/seed.json).")
        self._admin_login()

    def _admin_login(self) -> None:
        User = get_user_model()
        username = os.environ.get("EVIDB_ADMIN_USER", "admin")
        if User.objects.filter(username=username).exists():
            self.stdout.write(
                f"Admin login: user '{username}' exists already "
                f"(forgot the password? python manage.py changepassword {username})."
            )
            return
        password = os.environ.get("EVIDB_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, email="", password=password)
        self.stdout.write(
            self.style.SUCCESS(
                f"Admin login for http://127.0.0.1:8000/admin/: user '{username}', "
                f"password '{password}' (shown once; change it with "
                f"python manage.py changepassword {username})."
            )
        )
