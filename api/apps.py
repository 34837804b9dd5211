from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "REST API"

    def ready(self) -> None:
        from api.groups import ensure_curator_group

        # post_migrate is sent per app with models (not for this one). After the
        # evidence app's, whose permissions django.contrib.auth's handler (connected
        # earlier, so called first) has just created.
        post_migrate.connect(
            ensure_curator_group,
            sender=apps.get_app_config("evidence"),
            dispatch_uid="api.curator_group",
        )
