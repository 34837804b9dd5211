"""JSON through orjson: several times faster than the standard library on list pages."""

from __future__ import annotations

import datetime
import decimal

import orjson
from django.utils.functional import Promise
from rest_framework.renderers import JSONRenderer


def _default(value):
    if isinstance(value, Promise):  # lazy translation strings in DRF messages
        return str(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class ORJSONRenderer(JSONRenderer):
    media_type = "application/json"
    format = "json"
    charset = None  # JSON is UTF-8 by definition (RFC 8259)

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if data is None:
            return b""
        return orjson.dumps(data, default=_default, option=orjson.OPT_NON_STR_KEYS)
