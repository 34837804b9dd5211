"""Shared admin machinery for big tables: counts that do not scan, labels without N+1."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.contrib import admin
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db import connections, models
from django.db.models.query import QuerySet
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import format_html

from evidence.forms import PreloadedAutocompleteSelect

# Below this many rows (by the planner's estimate) an exact COUNT is cheap and exact
# page numbers are worth it; above it the admin shows the estimate.
EXACT_COUNT_BELOW = 50_000


class EstimatedCountPaginator(Paginator):
    """Counts an unfiltered PostgreSQL table from ``pg_class.reltuples``.

    ``SELECT COUNT(*)`` over 100,000 studies (or millions of citation rows) is a full
    scan on every page view. With no filter the changelist only needs the page count,
    and the planner's estimate (kept fresh by autovacuum) is good enough; the last page
    may come out short or empty. A filtered list, a small table, SQLite, or a table
    never analysed (``reltuples = -1``) is counted exactly, in the same single query.
    """

    @cached_property
    def count(self) -> int:
        qs = self.object_list
        if isinstance(qs, QuerySet) and self._is_whole_table(qs):
            connection = connections[qs.db]
            if connection.vendor == "postgresql":
                table = connection.ops.quote_name(qs.model._meta.db_table)
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT CASE WHEN c.reltuples < %s "
                        f"THEN (SELECT COUNT(*) FROM {table}) "
                        "ELSE c.reltuples::bigint END "
                        "FROM pg_class c WHERE c.oid = %s::regclass",
                        [EXACT_COUNT_BELOW, table],
                    )
                    return int(cursor.fetchone()[0])
        return super().count

    @staticmethod
    def _is_whole_table(qs: QuerySet) -> bool:
        query = qs.query
        return not query.where and not query.is_sliced and not query.combinator


class LookaheadPage(Page):
    def __init__(self, object_list, number, paginator, has_next: bool) -> None:
        super().__init__(object_list, number, paginator)
        self._has_next = has_next

    def has_next(self) -> bool:
        return self._has_next


class LookaheadPaginator(Paginator):
    """Pages without counting: one extra row says whether a next page exists.

    Autocomplete only asks "more?"; a COUNT of a title search over millions of works
    would cost as much again as the search itself.
    """

    def validate_number(self, number) -> int:
        try:
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger("That page number is not an integer") from None
        if number < 1:
            raise EmptyPage("That page number is less than 1")
        return number

    def page(self, number) -> LookaheadPage:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        return LookaheadPage(rows[: self.per_page], number, self, len(rows) > self.per_page)


class BigTableAdmin(admin.ModelAdmin):
    """Defaults for any table that can hold 10^5 rows or more."""

    paginator = EstimatedCountPaginator
    # The "(N total)" link would run a second, unfiltered COUNT on every page.
    show_full_result_count = False
    # "Show counts" would COUNT the table once per filter choice (dozens of scans).
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 50

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        if getattr(request.resolver_match, "url_name", None) == "autocomplete":
            return LookaheadPaginator(queryset, per_page, orphans, allow_empty_first_page)
        return super().get_paginator(request, queryset, per_page, orphans, allow_empty_first_page)


class PreloadedAutocompleteMixin:
    """For admins/inlines: autocomplete foreign keys use ``PreloadedAutocompleteSelect``."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = PreloadedAutocompleteSelect(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


def admin_change_url(obj: models.Model) -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


def admin_link(obj: models.Model | None, label: object = None) -> str:
    if obj is None:
        return "-"
    text = obj if label is None else label
    return format_html('<a href="{}">{}</a>', admin_change_url(obj), text)


def chunked(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
