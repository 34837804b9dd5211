"""One paginator, two modes.

- Cursor (the default): ``?cursor=`` from the previous page's ``next`` link. Keyset
  pagination on the ordering (``WHERE (pub_year, id) < (...)``), so page 5,000 costs what
  page 1 costs: use it to walk a whole result set. ``count`` is null.
- Page number: ``?page=N``. Offset pagination with a ``count`` that is exact up to
  ``COUNT_LIMIT`` rows and null beyond (counting 100,000 filtered rows on every page
  would cost more than the page).

``page_size`` (default 50) is at most 200 in both modes; larger is a 400, not a silent
cap, so a client that asked for 500 learns it got fewer.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import orjson
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import DateTimeField, Field, Model, QuerySet
from django.utils.timezone import is_naive
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from api.ordering import Ordering

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_PAGE = 1_000_000
COUNT_LIMIT = 10_000
MAX_INT = 2**63 - 1


def _error(param: str, message: str) -> ValidationError:
    return ValidationError({param: [message]})


def _invalid_cursor() -> ValidationError:
    return _error("cursor", "Invalid cursor: use the next or previous link as given.")


def _positive_int(request, param: str, maximum: int) -> int | None:
    raw = request.query_params.get(param)
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= maximum:
        raise _error(param, f"Must be an integer from 1 to {maximum}; got {raw!r}.")
    return int(raw)


def _value_of(row, path: str):
    if isinstance(row, dict):
        return row[path]
    for part in path.split("__"):
        if row is None:
            return None
        row = getattr(row, part)
    return row


# A cursor is base64url(JSON): the ordering it belongs to, the position (the ordering
# values of a boundary row, each tagged with its type) and the direction.
def _encode_value(value):
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return {"f": value}
    if isinstance(value, datetime.datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, datetime.date):
        return {"d": value.isoformat()}
    raise TypeError(f"cannot put {type(value).__name__} in a cursor")


def _decode_value(value):
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        if abs(value) > MAX_INT:
            raise ValueError("integer out of range")
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((tag, inner),) = value.items()
        if tag == "f" and isinstance(inner, int | float) and math.isfinite(inner):
            return float(inner)
        if tag == "dt" and isinstance(inner, str):
            return datetime.datetime.fromisoformat(inner)
        if tag == "d" and isinstance(inner, str):
            return datetime.date.fromisoformat(inner)
    raise ValueError("unknown value")


@dataclass(frozen=True, slots=True)
class Cursor:
    ordering: str
    position: tuple
    reverse: bool

    def encode(self) -> str:
        payload = {
            "o": self.ordering,
            "p": [_encode_value(value) for value in self.position],
            "r": self.reverse,
        }
        return base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str, name: str, length: int) -> Cursor:
        """The cursor in ``text``, which must belong to the ordering ``name`` and hold
        a position of ``length`` values."""
        try:
            if len(text) > 4096:
                raise ValueError("too long")
            padded = text + "=" * (-len(text) % 4)
            payload = orjson.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
            position = tuple(_decode_value(value) for value in payload["p"])
            reverse = payload["r"]
            found = payload["o"]
            if not isinstance(reverse, bool) or not isinstance(found, str):
                raise ValueError("bad fields")
        except (
            ValueError,
            TypeError,
            KeyError,
            binascii.Error,
            UnicodeError,
            orjson.JSONDecodeError,
        ):
            raise _invalid_cursor() from None
        if found != name or len(position) != length:
            raise _error(
                "cursor",
                f"This cursor belongs to ordering={found!r}, not {name!r}: "
                "keep the ordering of the request that returned it.",
            )
        return cls(found, position, reverse)


def _model_field(model: type[Model], path: str) -> Field | None:
    """The model field at the end of ``path`` ("study__pub_year"), None if not a field."""
    field = None
    for part in path.split("__"):
        if model is None:
            return None
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            return None
        model = field.related_model
    return field


def checked_position(model: type[Model], ordering: Ordering, position: tuple) -> tuple:
    """The cursor's position with each value as its column holds it.

    A cursor is only base64 JSON, so a client can forge one; its values go straight
    into the keyset condition, where 'abc' for a year, null for the primary key or a
    NUL in a title (PostgreSQL) raised in the database layer. Such a cursor is a 400.
    """
    checked = []
    for term, value in zip(ordering.terms, position, strict=True):
        if value is None:
            if term.nulls_first is None:  # a column that is never null
                raise _invalid_cursor()
            checked.append(None)
            continue
        if isinstance(value, str) and "\x00" in value:
            raise _invalid_cursor()
        field = _model_field(model, term.path)
        if isinstance(field, DateTimeField):
            # Our cursors carry aware datetimes; Django would only warn about the rest.
            if not isinstance(value, datetime.datetime) or (settings.USE_TZ and is_naive(value)):
                raise _invalid_cursor()
        elif field is not None:
            try:
                value = field.to_python(value)
            except (DjangoValidationError, TypeError, ValueError, OverflowError):
                raise _invalid_cursor() from None
        checked.append(value)
    return tuple(checked)


@dataclass(slots=True)
class Page:
    rows: list
    count: int | None
    next: str | None
    previous: str | None


class EvidencePagination(BasePagination):
    """Cursor or page-number pagination; see the module docstring."""

    page_size_query_param = "page_size"

    def paginate(
        self,
        queryset: QuerySet,
        request,
        *,
        ordering: Ordering,
        fetch: Callable[[QuerySet], Sequence] = list,
        count_queryset: QuerySet | None = None,
    ) -> Page:
        """One page of ``queryset`` in ``ordering``; ``fetch`` turns the sliced queryset
        into rows (model instances or dicts carrying the ordering paths)."""
        size = _positive_int(request, "page_size", MAX_PAGE_SIZE) or DEFAULT_PAGE_SIZE
        page = _positive_int(request, "page", MAX_PAGE)
        raw_cursor = request.query_params.get("cursor")
        if page is not None and raw_cursor:
            raise _error("page", "Give either page or cursor, not both.")
        url = request.build_absolute_uri()
        if page is not None:
            self.page = self._page_number(
                queryset, url, page, size, ordering, fetch, count_queryset
            )
        else:
            cursor = None
            if raw_cursor:
                cursor = Cursor.decode(raw_cursor, ordering.name, len(ordering.terms))
                position = checked_position(queryset.model, ordering, cursor.position)
                cursor = Cursor(cursor.ordering, position, cursor.reverse)
            self.page = self._cursor(queryset, url, cursor, size, ordering, fetch)
        return self.page

    def _page_number(self, queryset, url, page, size, ordering, fetch, count_queryset):
        offset = (page - 1) * size
        rows = list(fetch(queryset.order_by(*ordering.order_by())[offset : offset + size + 1]))
        has_next = len(rows) > size
        rows = rows[:size]
        if page == 1 and not has_next:
            count = len(rows)  # the whole set is on this page: no count query
        else:
            counted = (queryset if count_queryset is None else count_queryset).order_by()
            count = counted[: COUNT_LIMIT + 1].count()
            if count > COUNT_LIMIT:
                count = None
        base = remove_query_param(url, "cursor")
        return Page(
            rows=rows,
            count=count,
            next=replace_query_param(base, "page", page + 1) if has_next else None,
            previous=replace_query_param(base, "page", page - 1) if page > 1 else None,
        )

    def _cursor(self, queryset, url, cursor, size, ordering, fetch):
        reverse = bool(cursor and cursor.reverse)
        if cursor is not None:
            queryset = queryset.filter(ordering.after(cursor.position, reverse=reverse))
        rows = list(fetch(queryset.order_by(*ordering.order_by(reverse=reverse))[: size + 1]))
        has_more = len(rows) > size
        rows = rows[:size]
        if reverse:
            rows.reverse()
        # Coming back (reverse) there are rows after this page; going forward from a
        # cursor there are rows before it.
        has_next = has_more if not reverse else cursor is not None
        has_previous = has_more if reverse else cursor is not None
        base = remove_query_param(url, "page")

        def link(row, to_reverse: bool) -> str:
            position = tuple(_value_of(row, path) for path in ordering.paths)
            token = Cursor(ordering.name, position, to_reverse).encode()
            return replace_query_param(base, "cursor", token)

        return Page(
            rows=rows,
            count=None,
            next=link(rows[-1], False) if has_next and rows else None,
            previous=link(rows[0], True) if has_previous and rows else None,
        )

    def paginate_slices(
        self,
        slice_of: Callable[[int, int], tuple[list, bool]],
        request,
        *,
        name: str,
        count_queryset: QuerySet,
    ) -> Page:
        """One page of a sequence that is not a plain ordered queryset (full-text
        relevance): ``slice_of(offset, limit)`` gives the rows and whether more follow;
        cursors hold the offset."""
        size = _positive_int(request, "page_size", MAX_PAGE_SIZE) or DEFAULT_PAGE_SIZE
        page = _positive_int(request, "page", MAX_PAGE)
        raw_cursor = request.query_params.get("cursor")
        if page is not None and raw_cursor:
            raise _error("page", "Give either page or cursor, not both.")
        url = request.build_absolute_uri()
        if page is not None:
            offset = (page - 1) * size
        elif raw_cursor:
            (offset,) = Cursor.decode(raw_cursor, name, 1).position
            if not isinstance(offset, int) or not 0 <= offset <= MAX_PAGE * MAX_PAGE_SIZE:
                raise _invalid_cursor()
        else:
            offset = 0
        rows, more = slice_of(offset, size)
        if page is not None:
            if page == 1 and not more:
                count = len(rows)
            else:
                count = count_queryset.order_by()[: COUNT_LIMIT + 1].count()
                count = None if count > COUNT_LIMIT else count
            base = remove_query_param(url, "cursor")
            next_link = replace_query_param(base, "page", page + 1) if more else None
            previous = replace_query_param(base, "page", page - 1) if page > 1 else None
        else:
            count = None
            base = remove_query_param(url, "page")

            def link(at: int) -> str:
                return replace_query_param(base, "cursor", Cursor(name, (at,), False).encode())

            next_link = link(offset + size) if more else None
            previous = link(max(0, offset - size)) if offset > 0 else None
        self.page = Page(rows=rows, count=count, next=next_link, previous=previous)
        return self.page

    # DRF's interface, for the schema and for views that do not need more.
    def paginate_queryset(self, queryset, request, view=None):  # pragma: no cover - unused
        raise NotImplementedError("call paginate() with the ordering")

    def get_paginated_response(self, data) -> Response:
        return Response(
            {
                "count": self.page.count,
                "next": self.page.next,
                "previous": self.page.previous,
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return {
            "type": "object",
            "required": ["count", "next", "previous", "results"],
            "properties": {
                "count": {
                    "type": "integer",
                    "nullable": True,
                    "description": (
                        f"Number of results with `page=`, when at most {COUNT_LIMIT}; "
                        "null with cursor pagination and above that."
                    ),
                },
                "next": {"type": "string", "format": "uri", "nullable": True},
                "previous": {"type": "string", "format": "uri", "nullable": True},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view) -> list[dict]:
        def param(name: str, schema: dict, description: str) -> dict:
            return {
                "name": name,
                "in": "query",
                "required": False,
                "description": description,
                "schema": schema,
            }

        return [
            param(
                "cursor",
                {"type": "string", "maxLength": 4096},
                "Opaque position from a `next`/`previous` link (the default mode: walks "
                "any number of results at constant cost per page).",
            ),
            param(
                "page",
                {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
                "Page number for offset pagination with a `count`; not with `cursor`.",
            ),
            param(
                "page_size",
                {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
                f"Results per page (default {DEFAULT_PAGE_SIZE}).",
            ),
        ]
