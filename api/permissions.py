"""Reading is open (switchable with EVIDB_ANONYMOUS_READ); writing needs a logged-in user
(session or token) holding the model's Django permission, the same one the admin checks."""

from __future__ import annotations

from django.conf import settings
from rest_framework.permissions import SAFE_METHODS, DjangoModelPermissions


class ReadOpenWriteWithModelPermission(DjangoModelPermissions):
    perms_map = {
        "GET": [],
        "HEAD": [],
        "OPTIONS": [],
        "POST": ["%(app_label)s.add_%(model_name)s"],
        "PUT": ["%(app_label)s.change_%(model_name)s"],
        "PATCH": ["%(app_label)s.change_%(model_name)s"],
        "DELETE": ["%(app_label)s.delete_%(model_name)s"],
    }

    def has_permission(self, request, view) -> bool:
        user = request.user
        authenticated = bool(user and user.is_authenticated)
        if request.method in SAFE_METHODS:
            return authenticated or settings.EVIDB_ANONYMOUS_READ
        if not authenticated:
            return False
        if getattr(view, "_ignore_model_permissions", False):
            return True
        model = (
            view.get_permission_model()
            if hasattr(view, "get_permission_model")
            else (self._queryset(view).model)
        )
        return user.has_perms(self.get_required_permissions(request.method, model))


class ModelPermissionToRead(ReadOpenWriteWithModelPermission):
    """For records that name people (import runs): reading needs the view permission."""

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            user = request.user
            if not (user and user.is_authenticated):
                return False
            model = view.get_permission_model()
            return user.has_perm(f"{model._meta.app_label}.view_{model._meta.model_name}")
        return super().has_permission(request, view)
