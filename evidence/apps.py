from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_link_checks(sender: AppConfig, using: str, **kwargs) -> None:
    # SQLite drops a table's triggers when a migration rebuilds it; reinstalling them
    # after every migrate keeps the link tables checked whatever the migrations did.
    from django.db import connections

    from evidence.models import integrity

    integrity.ensure(connections[using])


class EvidenceConfig(AppConfig):
    name = "evidence"
    verbose_name = "Evidence"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        post_migrate.connect(_ensure_link_checks, sender=self)
