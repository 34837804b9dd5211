"""Study list filters that stay cheap at 100,000 studies and thousands of journals.

None of them loads a related table to build its choices, except the publication-type
filter (a vocabulary of a few dozen rows, capped). Appraisal filters treat a study
without an appraisal as "not recorded" / "not yet curated".
"""

from __future__ import annotations

import re

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from evidence import identifiers
from evidence.models import (
    Appraisal,
    Certainty,
    Journal,
    PublicationType,
    ReportingState,
    RiskOfBias,
    StudyDesign,
)
from evidence.models.appraisal import REPORTED_FIELDS

NOT_RECORDED = "none"


class InputFilter(admin.SimpleListFilter):
    """A filter that is a text box, for relations too large to list."""

    template = "admin/evidence/input_filter.html"
    placeholder = ""

    def lookups(self, request, model_admin):
        return ()

    def has_output(self) -> bool:
        return True

    def choices(self, changelist):
        # One entry: the "All" link, plus what the form needs to keep the other
        # parameters (search, ordering, other filters) when this one is submitted.
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "All",
            "parameter_name": self.parameter_name,
            "value": self.value() or "",
            "placeholder": self.placeholder,
            "current_label": self.current_label(),
            "other_params": [
                (key, value)
                for key, value in changelist.params.items()
                if key != self.parameter_name
            ],
        }

    def current_label(self) -> str:
        return ""


class JournalFilter(InputFilter):
    """``?journal=`` takes an ISSN, a journal ID (the list's journal links use it), or
    part of the title or ISO abbreviation."""

    title = "journal"
    parameter_name = "journal"
    placeholder = "ID, ISSN or title"

    _ISSN_RE = re.compile(r"^\d{4}-?\d{3}[\dXx]$")

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        value = (self.value() or "").strip()
        if not value:
            return queryset
        # Eight characters are an ISSN ("01406736"); journal IDs never get that long.
        if self._ISSN_RE.match(value):
            issn = identifiers.normalize_issn(value)
            journals = Journal.objects.filter(Q(issn=issn) | Q(eissn=issn))
        elif value.isdigit():
            return queryset.filter(journal_id=int(value))
        else:
            journals = Journal.objects.filter(
                Q(title__icontains=value) | Q(iso_abbreviation__icontains=value)
            )
        return queryset.filter(journal__in=journals.values("pk"))

    def current_label(self) -> str:
        value = (self.value() or "").strip()
        if value.isdigit() and not self._ISSN_RE.match(value):
            journal = Journal.objects.filter(pk=int(value)).first()
            return str(journal) if journal else "no such journal"
        return ""


def appraisal_choice_filter(field: str, title: str, choices, none_label: str):
    """A filter on ``appraisal.<field>`` with a "not recorded" entry that also catches
    studies that have no appraisal yet."""

    class AppraisalChoiceFilter(admin.SimpleListFilter):
        parameter_name = field

        def lookups(self, request, model_admin):
            return [*choices, (NOT_RECORDED, none_label)]

        def queryset(self, request, queryset: QuerySet) -> QuerySet:
            value = self.value()
            if value is None:
                return queryset
            if value == NOT_RECORDED:
                # NOT EXISTS, not "appraisal IS NULL OR field = ''": PostgreSQL
                # misestimates that OR across a LEFT JOIN (1 row for 40,000) and picks a
                # nested loop that took 5 s at 100,000 studies; the anti-join takes 0.1 s.
                recorded = Appraisal.objects.filter(study=OuterRef("pk")).exclude(**{field: ""})
                return queryset.exclude(Exists(recorded))
            if value not in {choice for choice, _ in choices}:
                raise IncorrectLookupParameters(f"unknown {field}: {value!r}")
            return queryset.filter(**{f"appraisal__{field}": value})

    AppraisalChoiceFilter.title = title
    AppraisalChoiceFilter.__name__ = AppraisalChoiceFilter.__qualname__ = (
        f"{field.title().replace('_', '')}Filter"
    )
    return AppraisalChoiceFilter


DesignFilter = appraisal_choice_filter("design", "design", StudyDesign.choices, "Not recorded")
RiskOfBiasFilter = appraisal_choice_filter(
    "risk_of_bias", "risk of bias", RiskOfBias.choices, "Not assessed"
)
CertaintyFilter = appraisal_choice_filter(
    "certainty", "certainty (GRADE)", Certainty.choices, "Not assessed"
)


class PublicationYearFilter(admin.SimpleListFilter):
    """Decades, and the single years of the decade in view; no query to list them."""

    title = "publication year"
    parameter_name = "year"
    EARLIEST_DECADE = 1950
    BEFORE = "before"
    UNKNOWN = "unknown"

    def lookups(self, request, model_admin):
        selected = self._parse(self.value()) if self.value() else None
        open_decade = None
        if selected and selected[0] in {"decade", "year"}:
            open_decade = selected[1] // 10 * 10
        current_decade = timezone.now().year // 10 * 10
        choices = []
        for decade in range(current_decade, self.EARLIEST_DECADE - 1, -10):
            choices.append((f"{decade}s", f"{decade}s"))
            if decade == open_decade:
                last = min(decade + 9, timezone.now().year)
                choices.extend((str(year), f"\u2003{year}") for year in range(last, decade - 1, -1))
        choices.append((self.BEFORE, f"Before {self.EARLIEST_DECADE}"))
        choices.append((self.UNKNOWN, "Unknown"))
        return choices

    def _parse(self, value: str) -> tuple[str, int]:
        if value == self.BEFORE:
            return ("before", self.EARLIEST_DECADE)
        if value == self.UNKNOWN:
            return ("unknown", 0)
        if re.fullmatch(r"\d{4}s", value):
            return ("decade", int(value[:4]))
        if re.fullmatch(r"\d{4}", value):
            return ("year", int(value))
        raise IncorrectLookupParameters(f"not a year or decade: {value!r}")

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        if self.value() is None:
            return queryset
        kind, number = self._parse(self.value())
        if kind == "decade":
            return queryset.filter(pub_year__gte=number, pub_year__lt=number + 10)
        if kind == "year":
            return queryset.filter(pub_year=number)
        if kind == "before":
            return queryset.filter(pub_year__lt=number)
        return queryset.filter(pub_year__isnull=True)


class PublicationTypeFilter(admin.SimpleListFilter):
    title = "publication type"
    parameter_name = "publication_type"
    # PubMed's vocabulary has ~80 types; the cap keeps a polluted table from
    # turning the sidebar into a dump.
    MAX_CHOICES = 100

    def lookups(self, request, model_admin):
        return [
            (str(pk), name)
            for pk, name in PublicationType.objects.order_by("name").values_list("pk", "name")[
                : self.MAX_CHOICES
            ]
        ]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value is None:
            return queryset
        if not value.isdigit():
            raise IncorrectLookupParameters(f"not a publication type id: {value!r}")
        # A study holds a type at most once (the M2M is unique), so this join cannot
        # duplicate rows.
        return queryset.filter(publication_types__id=int(value))


class ReportingStateFilter(admin.SimpleListFilter):
    """One filter for "field x state": ``?reporting=population:not_reported``.

    A study without an appraisal has every field *not yet curated*.
    """

    title = "reporting state"
    parameter_name = "reporting"

    def lookups(self, request, model_admin):
        choices = []
        for field in REPORTED_FIELDS:
            label = str(Appraisal._meta.get_field(field).verbose_name).capitalize()
            for state, state_label in ReportingState.choices:
                choices.append((f"{field}:{state}", f"{label}: {str(state_label).lower()}"))
        return choices

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value is None:
            return queryset
        field, _, state = value.partition(":")
        if field not in REPORTED_FIELDS or state not in ReportingState.values:
            raise IncorrectLookupParameters(f"unknown reporting filter: {value!r}")
        if state == ReportingState.NOT_CURATED:
            # As for "not recorded" above: an anti-join, not an OR across a LEFT JOIN.
            curated = Appraisal.objects.filter(study=OuterRef("pk")).exclude(
                **{f"{field}_state": state}
            )
            return queryset.exclude(Exists(curated))
        return queryset.filter(**{f"appraisal__{field}_state": state})
