from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "REST API"

    def ready(self) -> None:
        from api.groups import ensure_curator_group

        # sender=self: runs once per migrate, after the evidence app (listed before
        # "api" in INSTALLED_APPS) has had its permissions created.
        post_migrate.connect(ensure_curator_group, sender=self, dispatch_uid="curator_group")
