"""Errors as JSON with the failing parameter or field named, and no 500 for bad input.

DRF already turns its own exceptions into ``{"detail": ...}`` or ``{field: [messages]}``;
this handler adds the Django ones a view can meet: a model's ``full_clean`` error
(400, keyed by field), a delete blocked by ``PROTECT`` (409), a constraint violation
from a concurrent write (409) and a request beyond Django's DATA_UPLOAD_* limits (400
or 413 as JSON, where Django would answer with a bare HTML page).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import (
    NON_FIELD_ERRORS,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.db.models import ProtectedError, RestrictedError
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError, ValidationError
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


class PreconditionFailed(APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = (
        "If-Match does not match the current ETag: the resource changed since you read "
        "it. Fetch it again and reapply your change."
    )
    default_code = "precondition_failed"


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


def validation_error_detail(exc: DjangoValidationError) -> dict[str, list[str]]:
    """A Django ValidationError as DRF's ``{field: [messages]}``."""
    if hasattr(exc, "error_dict"):
        return {
            (api_settings.NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else field): messages
            for field, messages in exc.message_dict.items()
        }
    return {api_settings.NON_FIELD_ERRORS_KEY: exc.messages}


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = ValidationError(detail=validation_error_detail(exc))
    elif isinstance(exc, ProtectedError | RestrictedError):
        blocking = (
            sorted({str(obj._meta.verbose_name_plural) for obj in exc.protected_objects})
            if isinstance(exc, ProtectedError)
            else []
        )
        what = f" by {', '.join(blocking)}" if blocking else ""
        exc = Conflict(
            f"Cannot delete: it is still referenced{what}. Delete or reassign those first."
        )
    elif isinstance(exc, IntegrityError):
        exc = Conflict(f"The change conflicts with data saved meanwhile: {exc}".strip())
    elif isinstance(exc, TooManyFieldsSent):
        exc = ParseError(
            "Too many query parameters or form fields: at most "
            f"{settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} (DATA_UPLOAD_MAX_NUMBER_FIELDS)."
        )
    elif isinstance(exc, TooManyFilesSent):
        exc = ParseError(
            f"Too many files: at most {settings.DATA_UPLOAD_MAX_NUMBER_FILES} "
            "(DATA_UPLOAD_MAX_NUMBER_FILES)."
        )
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge(
            f"The request body exceeds {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes "
            "(DATA_UPLOAD_MAX_MEMORY_SIZE)."
        )
    return drf_exception_handler(exc, context)
