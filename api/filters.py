"""FilterSets, one per list endpoint, with explicit lookups.

A bad value is a 400 naming its parameter: every filter validates in its form field
(identifiers are normalised as the importers do, choices are checked, booleans must be
true/false), and django-filter's errors become ``{"pmid": ["..."]}``. Lists are
comma-separated (``pmid=1,2,3``; documented as ``style=form, explode=false``).
Multi-valued relations are matched with ``pk__in`` subqueries so a study is listed once.
"""

from __future__ import annotations

import re

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Lower
from django_filters.fields import BaseCSVField
from django_filters.filters import QuerySetRequestMixin
from django_filters.widgets import BaseCSVWidget
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from evidence import identifiers, selectors
from evidence.models import (
    Appraisal,
    Author,
    Authorship,
    Certainty,
    Citation,
    Concept,
    ConceptKind,
    EffectMeasure,
    EffectSize,
    ImportRun,
    ImportStatus,
    Journal,
    Limitation,
    LimitationCategory,
    RaisedBy,
    ReportingState,
    ResearchGap,
    ResearchGapCategory,
    ReviewStatus,
    RiskOfBias,
    Study,
    StudyDesign,
    StudyMeshHeading,
    Work,
)
from evidence.models.appraisal import REPORTED_FIELDS
from evidence.search import MAX_QUERY_LENGTH, search_filter

MAX_LIST_ITEMS = 500


# --- form fields: one value each; the CSV wrapper splits and validates them all -------


def invalid(message: str) -> forms.ValidationError:
    """A form error quoting user input: django-filter formats every message with
    ``%``, so the text goes in as a parameter (a '%' in the input stays harmless)."""
    return forms.ValidationError("%(message)s", params={"message": message})


class CSVField(BaseCSVField):
    """Blank items are dropped, duplicates removed, at most MAX_LIST_ITEMS values."""

    def clean(self, value):
        if value is None:
            return None
        items = [item.strip() for item in value if item.strip()]
        if len(items) > MAX_LIST_ITEMS:
            raise invalid(f"At most {MAX_LIST_ITEMS} values; got {len(items)}.")
        cleaned = [super(BaseCSVField, self).clean(item) for item in items]
        return list(dict.fromkeys(cleaned))


class DOIListWidget(BaseCSVWidget, forms.TextInput):
    # A DOI may contain a comma; split only where the next item starts a new DOI.
    _split = re.compile(r",\s*(?=(?:doi:\s*|https?://(?:dx\.)?doi\.org/)?10\.)", re.IGNORECASE)

    def value_from_datadict(self, data, files, name):
        value = data.get(name)
        if value is None:
            return None
        return [part for part in self._split.split(value)]


class _NormalisedField(forms.CharField):
    normalise = staticmethod(str)
    convert = staticmethod(str)

    def clean(self, value):
        value = super().clean(value)
        try:
            return self.convert(self.normalise(value))
        except identifiers.InvalidIdentifier as exc:
            raise invalid(str(exc).capitalize() + ".") from None


class PmidField(_NormalisedField):
    normalise = staticmethod(identifiers.normalize_pmid)
    convert = staticmethod(int)


class DoiField(_NormalisedField):
    normalise = staticmethod(identifiers.normalize_doi)


class PmcidField(_NormalisedField):
    normalise = staticmethod(identifiers.normalize_pmcid)


class IssnField(_NormalisedField):
    normalise = staticmethod(identifiers.normalize_issn)


class OrcidField(_NormalisedField):
    normalise = staticmethod(identifiers.normalize_orcid)


class IdField(forms.CharField):
    def clean(self, value):
        value = super().clean(value)
        try:
            return selectors.parse_id(value)
        except selectors.InvalidReference as exc:
            raise invalid(str(exc)) from None


class IdOrNameField(forms.CharField):
    """A concept (or similar) by id (digits) or by name."""

    def clean(self, value):
        value = super().clean(value)
        if value.isdigit():
            try:
                return ("id", selectors.parse_id(value))
            except selectors.InvalidReference as exc:
                raise invalid(str(exc)) from None
        return ("name", value.casefold())


class StudyReferenceField(forms.CharField):
    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        try:
            return selectors.parse_study_reference(value, allow_doi=True)
        except selectors.InvalidReference as exc:
            raise invalid(str(exc)) from None


class StrictBooleanField(forms.Field):
    TRUE = {"true", "1", "yes"}
    FALSE = {"false", "0", "no"}

    def clean(self, value):
        if value is None or value == "":
            return None
        text = str(value).strip().lower()
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise invalid(f"Must be true or false; got {value!r}.")


# --- filters ---------------------------------------------------------------------------


@extend_schema_field({"type": "integer", "minimum": 1})
class IdListFilter(django_filters.filters.BaseCSVFilter, django_filters.CharFilter):
    base_field_class = CSVField
    field_class = IdField


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": 999999999})
class PmidListFilter(IdListFilter):
    field_class = PmidField


@extend_schema_field({"type": "string", "example": "10.1186/s12967-020-02592-4"})
class DoiListFilter(IdListFilter):
    field_class = DoiField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", DOIListWidget)
        super().__init__(*args, **kwargs)


@extend_schema_field({"type": "string", "example": "PMC7574435"})
class PmcidListFilter(IdListFilter):
    field_class = PmcidField


@extend_schema_field({"type": "string", "example": "0028-4793"})
class IssnListFilter(IdListFilter):
    field_class = IssnField


@extend_schema_field({"type": "string", "example": "0000-0002-1825-0097"})
class OrcidListFilter(IdListFilter):
    field_class = OrcidField


@extend_schema_field({"type": "string"})
class IdOrNameListFilter(IdListFilter):
    field_class = IdOrNameField


class ChoiceListFilter(django_filters.filters.BaseCSVFilter, django_filters.ChoiceFilter):
    base_field_class = CSVField


@extend_schema_field(
    {
        "type": "string",
        "pattern": r"^(\d+|(pmid|pmcid|doi):.+)$",
        "example": "pmid:33081809",
    }
)
class StudyReferenceFilter(django_filters.CharFilter):
    field_class = StudyReferenceField


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBooleanFilter(django_filters.Filter):
    field_class = StrictBooleanField


@extend_schema_field({"type": "integer", "minimum": 1000, "maximum": 2100})
class YearFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1000)
        kwargs.setdefault("max_value", 2100)
        super().__init__(*args, **kwargs)


@extend_schema_field({"type": "string", "maxLength": MAX_QUERY_LENGTH})
class TextFilter(django_filters.CharFilter):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", MAX_QUERY_LENGTH)
        super().__init__(*args, **kwargs)


class EvidenceFilterSet(django_filters.FilterSet):
    """A FilterSet that builds only the filters a request uses.

    django-filter deep-copies every declared filter and makes a form field for each on
    every request; with the ~40 study filters that was most of a list request's Python
    time. A filter absent from the query does nothing, and unknown parameters are
    refused by the view, so building only the named ones changes no result.
    """

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        if data is not None:
            self.base_filters = {
                name: filter_ for name, filter_ in self.base_filters.items() if name in data
            }
        super().__init__(data, queryset, request=request, prefix=prefix)

    def get_form_class(self):
        """The form class for this set of filters, built once: building it makes a form
        field per filter and works out each one's label from the model, which cost more
        than validating the values. (A form deep-copies its class's fields, so one class
        serves every request.) Filters whose field depends on the request (a model
        choice with a queryset callable) get a form class of their own each time."""
        if any(isinstance(f, QuerySetRequestMixin) for f in self.filters.values()):
            return super().get_form_class()
        key = (type(self), self.queryset.model, tuple(self.filters))
        form_class = _FORM_CLASSES.get(key)
        if form_class is None:
            if len(_FORM_CLASSES) >= MAX_FORM_CLASSES:
                _FORM_CLASSES.clear()  # bounded: clients choose the combinations
            form_class = _FORM_CLASSES[key] = super().get_form_class()
        return form_class


MAX_FORM_CLASSES = 1000
_FORM_CLASSES: dict[tuple, type[forms.Form]] = {}


def _in_subquery(queryset, path: str, subquery):
    return queryset.filter(**{f"{path}__in": subquery})


# --- studies ---------------------------------------------------------------------------


class StudyScopedFilters(EvidenceFilterSet):
    """Filters on a study's attributes, for studies (prefix "") and for the curated items
    that belong to a study (prefix "study__")."""

    study_prefix = ""

    design = ChoiceListFilter(
        choices=StudyDesign.choices, method="filter_design", help_text="Study design(s)."
    )
    year = YearFilter(method="filter_year", help_text="Publication year.")
    year_min = YearFilter(method="filter_year_min", help_text="Published in or after.")
    year_max = YearFilter(method="filter_year_max", help_text="Published in or before.")
    review_status = ChoiceListFilter(choices=ReviewStatus.choices, method="filter_review_status")
    concept = IdOrNameListFilter(
        method="filter_concept",
        help_text=(
            "Appraisal concepts (topics, conditions, mechanisms) by id or by name "
            "(case-insensitive); any of them."
        ),
    )
    concept_kind = ChoiceListFilter(
        choices=ConceptKind.choices,
        method="filter_concept_kind",
        help_text="Studies tagged with a concept of this kind.",
    )

    def _path(self, path: str) -> str:
        return f"{self.study_prefix}{path}"

    def _study_ids(self, queryset, subquery):
        """Rows whose study's id is in ``subquery``."""
        path = "study_id" if self.study_prefix else "pk"
        return queryset.filter(**{f"{path}__in": subquery})

    def filter_design(self, queryset, name, value):
        return queryset.filter(**{self._path("appraisal__design__in"): value})

    def filter_year(self, queryset, name, value):
        return queryset.filter(**{self._path("pub_year"): value})

    def filter_year_min(self, queryset, name, value):
        return queryset.filter(**{self._path("pub_year__gte"): value})

    def filter_year_max(self, queryset, name, value):
        return queryset.filter(**{self._path("pub_year__lte"): value})

    def filter_review_status(self, queryset, name, value):
        return queryset.filter(**{self._path("review_status__in"): value})

    def filter_concept(self, queryset, name, value):
        ids = [v for kind, v in value if kind == "id"]
        names = [v for kind, v in value if kind == "name"]
        concepts = Concept.objects.annotate(lname=Lower("name")).filter(
            Q(pk__in=ids) | Q(lname__in=names)
        )
        tagged = Appraisal.concepts.through.objects.filter(concept__in=concepts).values(
            "appraisal_id"
        )
        return self._study_ids(queryset, tagged)

    def filter_concept_kind(self, queryset, name, value):
        tagged = Appraisal.concepts.through.objects.filter(concept__kind__in=value).values(
            "appraisal_id"
        )
        return self._study_ids(queryset, tagged)


def _reporting_state_filter(field: str) -> ChoiceListFilter:
    label = field.replace("_", " ")
    return ChoiceListFilter(
        choices=ReportingState.choices,
        method="filter_reporting_state",
        help_text=(
            f"Reporting state of the appraisal's {label}. A study without an appraisal "
            "counts as not_curated."
        ),
    )


class StudyFilterSet(StudyScopedFilters):
    id = IdListFilter(method="filter_id", help_text="Study ids.")
    pmid = PmidListFilter(method="filter_pmid", help_text="PubMed IDs.")
    doi = DoiListFilter(
        method="filter_doi",
        help_text="DOIs (with or without https://doi.org/, case-insensitive).",
    )
    pmcid = PmcidListFilter(method="filter_pmcid", help_text="PubMed Central IDs.")
    journal = IdListFilter(method="filter_journal", help_text="Journal ids.")
    journal_issn = IssnListFilter(method="filter_journal_issn", help_text="Journal ISSNs.")
    journal_title = TextFilter(
        method="filter_journal_title",
        help_text="Case-insensitive substring of the journal title or ISO abbreviation.",
    )
    author = IdListFilter(method="filter_author", help_text="Author ids.")
    author_name = TextFilter(
        method="filter_author_name",
        help_text=(
            "An author as PubMed names one: last name, optionally with initials "
            "('smith', 'Smith J'), or a collective name; case-insensitive."
        ),
    )
    orcid = OrcidListFilter(method="filter_orcid", help_text="Author ORCID iDs.")
    mesh = TextFilter(
        method="filter_mesh",
        help_text="MeSH descriptor name (case-insensitive) or unique ID (D000000).",
    )
    mesh_major = StrictBooleanFilter(
        method="filter_noop",
        help_text="With mesh: only where the descriptor is a major topic.",
    )
    publication_type = TextFilter(
        method="filter_publication_type",
        help_text="Publication type name, case-insensitive ('Randomized Controlled Trial').",
    )
    risk_of_bias = ChoiceListFilter(choices=RiskOfBias.choices, method="filter_appraisal")
    certainty = ChoiceListFilter(
        choices=Certainty.choices, method="filter_appraisal", help_text="GRADE certainty."
    )
    population = _reporting_state_filter("population")
    sample_size = _reporting_state_filter("sample_size")
    intervention = _reporting_state_filter("intervention")
    comparator = _reporting_state_filter("comparator")
    outcomes = _reporting_state_filter("outcomes")
    safety = _reporting_state_filter("safety")
    effect_measures = _reporting_state_filter("effect_measures")
    limitation_category = ChoiceListFilter(
        choices=LimitationCategory.choices,
        method="filter_limitation_category",
        help_text="Studies with a limitation in any of these categories.",
    )
    gap_category = ChoiceListFilter(
        choices=ResearchGapCategory.choices,
        method="filter_gap_category",
        help_text="Studies with a research gap in any of these categories.",
    )
    has_effect_sizes = StrictBooleanFilter(method="filter_has_effect_sizes")
    has_appraisal = StrictBooleanFilter(method="filter_has_appraisal")
    has_doi = StrictBooleanFilter(method="filter_has_identifier")
    has_pmid = StrictBooleanFilter(method="filter_has_identifier")
    has_pmcid = StrictBooleanFilter(method="filter_has_identifier")
    has_abstract = StrictBooleanFilter(method="filter_has_abstract")
    is_retracted = StrictBooleanFilter(field_name="is_retracted")
    cites = StudyReferenceFilter(
        method="filter_cites",
        help_text=(
            "Studies whose references include this work: a study id, pmid:<n>, "
            "pmcid:<id> or doi:<doi> (the work need not be a study in the database)."
        ),
    )
    cited_by = StudyReferenceFilter(
        method="filter_cited_by",
        help_text="Studies in the reference list of this work (id, pmid:, pmcid: or doi:).",
    )
    updated_after = django_filters.IsoDateTimeFilter(
        field_name="updated_at",
        lookup_expr="gte",
        help_text="Changed at or after this time (ISO 8601), for synchronising clients.",
    )
    q = TextFilter(
        method="filter_q",
        help_text=(
            "Full-text search of title, abstract, keywords and MeSH terms, in web-search "
            'syntax: words (all required), "quoted phrases", OR, -excluded. Orders by '
            "relevance unless `ordering` says otherwise."
        ),
    )

    class Meta:
        model = Study
        fields: list[str] = []

    def filter_id(self, queryset, name, value):
        return queryset.filter(pk__in=value)

    def filter_pmid(self, queryset, name, value):
        return queryset.filter(pmid__in=value)

    def filter_doi(self, queryset, name, value):
        return queryset.filter(doi__in=value)

    def filter_pmcid(self, queryset, name, value):
        return queryset.filter(pmcid__in=value)

    def filter_journal(self, queryset, name, value):
        return queryset.filter(journal_id__in=value)

    def filter_journal_issn(self, queryset, name, value):
        return queryset.filter(Q(journal__issn__in=value) | Q(journal__eissn__in=value))

    def filter_journal_title(self, queryset, name, value):
        journals = Journal.objects.filter(
            Q(title__icontains=value) | Q(iso_abbreviation__icontains=value)
        )
        return queryset.filter(journal__in=journals)

    def filter_author(self, queryset, name, value):
        return _in_subquery(
            queryset, "pk", Authorship.objects.filter(author_id__in=value).values("study_id")
        )

    def filter_author_name(self, queryset, name, value):
        authors = authors_by_lower_name().filter(author_name_condition(value)).values("pk")
        return _in_subquery(
            queryset, "pk", Authorship.objects.filter(author__in=authors).values("study_id")
        )

    def filter_orcid(self, queryset, name, value):
        return _in_subquery(
            queryset, "pk", Authorship.objects.filter(orcid__in=value).values("study_id")
        )

    def filter_noop(self, queryset, name, value):
        return queryset  # read by filter_mesh

    def filter_mesh(self, queryset, name, value):
        value = value.strip()
        if re.fullmatch(r"[Dd]\d{6,9}", value):
            descriptor = Q(descriptor__ui=value.upper())
        else:
            descriptor = Q(descriptor__name__iexact=value)
        headings = StudyMeshHeading.objects.filter(descriptor)
        if self.form.cleaned_data.get("mesh_major"):
            headings = headings.filter(is_major=True)
        return _in_subquery(queryset, "pk", headings.values("study_id"))

    def filter_publication_type(self, queryset, name, value):
        through = Study.publication_types.through
        return _in_subquery(
            queryset,
            "pk",
            through.objects.filter(publicationtype__name__iexact=value.strip()).values("study_id"),
        )

    def filter_appraisal(self, queryset, name, value):
        return queryset.filter(**{f"appraisal__{name}__in": value})

    def filter_reporting_state(self, queryset, name, value):
        condition = Q(**{f"appraisal__{name}_state__in": value})
        if ReportingState.NOT_CURATED in value:
            condition |= Q(appraisal__isnull=True)
        return queryset.filter(condition)

    def filter_limitation_category(self, queryset, name, value):
        return _in_subquery(
            queryset, "pk", Limitation.objects.filter(category__in=value).values("study_id")
        )

    def filter_gap_category(self, queryset, name, value):
        return _in_subquery(
            queryset, "pk", ResearchGap.objects.filter(category__in=value).values("study_id")
        )

    def filter_has_effect_sizes(self, queryset, name, value):
        exists = Exists(EffectSize.objects.filter(study_id=OuterRef("pk")))
        return queryset.filter(exists if value else ~exists)

    def filter_has_appraisal(self, queryset, name, value):
        return queryset.filter(appraisal__isnull=not value)

    def filter_has_identifier(self, queryset, name, value):
        field = name.removeprefix("has_")
        return queryset.filter(**{f"{field}__isnull": not value})

    def filter_has_abstract(self, queryset, name, value):
        return queryset.exclude(abstract="") if value else queryset.filter(abstract="")

    def filter_cites(self, queryset, name, value):
        return _in_subquery(queryset, "pk", selectors.studies_citing(value))

    def filter_cited_by(self, queryset, name, value):
        return _in_subquery(queryset, "pk", selectors.studies_cited_by(value))

    def filter_q(self, queryset, name, value):
        if not value.strip():
            return queryset
        return search_filter(queryset, value)


# Each reporting-state filter reads its own name; make sure none is forgotten.
assert set(REPORTED_FIELDS) <= set(StudyFilterSet.base_filters)


def author_name_condition(text: str) -> Q:
    """Authors named as PubMed's author search does: 'smith', 'Smith J', 'Smith JA' (last
    name then initials) or a collective name; case-insensitive. Goes through the
    ``Lower(last_name)`` index, so use it on ``authors_by_lower_name()``."""
    text = " ".join(text.split()).lower()
    condition = Q(_lower_last_name=text) | Q(collective_name__iexact=text)
    head, _, tail = text.rpartition(" ")
    if head and tail.isalpha() and len(tail) <= 3:
        condition |= Q(_lower_last_name=head, initials__istartswith=tail)
    return condition


def authors_by_lower_name():
    return Author.objects.annotate(_lower_last_name=Lower("last_name"))


# --- curated items ----------------------------------------------------------------------


class StudyItemFilters(StudyScopedFilters):
    study_prefix = "study__"

    study = IdListFilter(method="filter_study", help_text="Study ids.")
    study_q = TextFilter(
        method="filter_study_q",
        help_text="Full-text search of the study (as `q` on studies).",
    )

    def filter_study(self, queryset, name, value):
        return queryset.filter(study_id__in=value)

    def filter_study_q(self, queryset, name, value):
        if not value.strip():
            return queryset
        return queryset.filter(study__in=search_filter(Study.objects.all(), value).values("pk"))


class LimitationFilterSet(StudyItemFilters):
    category = ChoiceListFilter(
        choices=LimitationCategory.choices, field_name="category", lookup_expr="in"
    )
    raised_by = ChoiceListFilter(choices=RaisedBy.choices, field_name="raised_by", lookup_expr="in")
    q = TextFilter(
        field_name="description",
        lookup_expr="icontains",
        help_text="Case-insensitive substring of the description.",
    )

    class Meta:
        model = Limitation
        fields: list[str] = []


class ResearchGapFilterSet(StudyItemFilters):
    category = ChoiceListFilter(
        choices=ResearchGapCategory.choices, field_name="category", lookup_expr="in"
    )
    q = TextFilter(
        method="filter_text",
        help_text="Case-insensitive substring of the description or future direction.",
    )

    class Meta:
        model = ResearchGap
        fields: list[str] = []

    def filter_text(self, queryset, name, value):
        return queryset.filter(
            Q(description__icontains=value) | Q(future_direction__icontains=value)
        )


class EffectSizeFilterSet(StudyItemFilters):
    measure = ChoiceListFilter(
        choices=EffectMeasure.choices, field_name="measure", lookup_expr="in"
    )
    outcome_certainty = ChoiceListFilter(
        choices=Certainty.choices,
        field_name="certainty",
        lookup_expr="in",
        help_text="GRADE certainty given for this outcome.",
    )
    q = TextFilter(
        method="filter_text",
        help_text="Case-insensitive substring of the outcome, timepoint or note.",
    )

    class Meta:
        model = EffectSize
        fields: list[str] = []

    def filter_text(self, queryset, name, value):
        return queryset.filter(
            Q(outcome__icontains=value) | Q(timepoint__icontains=value) | Q(note__icontains=value)
        )


# --- reference data ---------------------------------------------------------------------


class JournalFilterSet(EvidenceFilterSet):
    id = IdListFilter(field_name="pk", lookup_expr="in")
    issn = IssnListFilter(method="filter_issn", help_text="Print or electronic ISSNs.")
    q = TextFilter(
        method="filter_text",
        help_text="Case-insensitive substring of the title or ISO abbreviation.",
    )

    class Meta:
        model = Journal
        fields: list[str] = []

    def filter_issn(self, queryset, name, value):
        return queryset.filter(Q(issn__in=value) | Q(eissn__in=value))

    def filter_text(self, queryset, name, value):
        return queryset.filter(Q(title__icontains=value) | Q(iso_abbreviation__icontains=value))


class AuthorFilterSet(EvidenceFilterSet):
    id = IdListFilter(field_name="pk", lookup_expr="in")
    name = TextFilter(
        method="filter_name",
        help_text="Last name, optionally with initials ('Smith J'), or a collective name.",
    )
    orcid = OrcidListFilter(field_name="orcid", lookup_expr="in")
    q = TextFilter(
        method="filter_text",
        help_text="Case-insensitive substring of the last, fore or collective name.",
    )

    class Meta:
        model = Author
        fields: list[str] = []

    def filter_name(self, queryset, name, value):
        return queryset.filter(pk__in=authors_by_lower_name().filter(author_name_condition(value)))

    def filter_text(self, queryset, name, value):
        return queryset.filter(
            Q(last_name__icontains=value)
            | Q(fore_name__icontains=value)
            | Q(collective_name__icontains=value)
        )


class ConceptFilterSet(EvidenceFilterSet):
    id = IdListFilter(field_name="pk", lookup_expr="in")
    kind = ChoiceListFilter(choices=ConceptKind.choices, field_name="kind", lookup_expr="in")
    q = TextFilter(
        method="filter_text",
        help_text="Case-insensitive substring of the name or description.",
    )

    class Meta:
        model = Concept
        fields: list[str] = []

    def filter_text(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(description__icontains=value))


class AuthorshipFilterSet(EvidenceFilterSet):
    study = IdListFilter(field_name="study_id", lookup_expr="in")
    author = IdListFilter(field_name="author_id", lookup_expr="in")

    class Meta:
        model = Authorship
        fields: list[str] = []


class MeshHeadingFilterSet(EvidenceFilterSet):
    study = IdListFilter(field_name="study_id", lookup_expr="in")
    descriptor = TextFilter(
        field_name="descriptor__name",
        lookup_expr="iexact",
        help_text="Descriptor name, case-insensitive.",
    )
    is_major = StrictBooleanFilter(field_name="is_major")

    class Meta:
        model = StudyMeshHeading
        fields: list[str] = []


class WorkFilterSet(EvidenceFilterSet):
    id = IdListFilter(field_name="pk", lookup_expr="in")
    pmid = PmidListFilter(field_name="pmid", lookup_expr="in")
    doi = DoiListFilter(field_name="doi", lookup_expr="in")
    pmcid = PmcidListFilter(field_name="pmcid", lookup_expr="in")
    study = IdListFilter(field_name="study_id", lookup_expr="in")
    in_database = StrictBooleanFilter(
        method="filter_in_database", help_text="Whether the work is a study in the database."
    )

    class Meta:
        model = Work
        fields: list[str] = []

    def filter_in_database(self, queryset, name, value):
        return queryset.filter(study__isnull=not value)


class CitationFilterSet(EvidenceFilterSet):
    citing = IdListFilter(field_name="citing_id", lookup_expr="in", help_text="Citing work ids.")
    cited = IdListFilter(field_name="cited_id", lookup_expr="in", help_text="Cited work ids.")
    citing_study = IdListFilter(
        field_name="citing__study_id", lookup_expr="in", help_text="Citing study ids."
    )
    cited_study = IdListFilter(
        field_name="cited__study_id", lookup_expr="in", help_text="Cited study ids."
    )

    class Meta:
        model = Citation
        fields: list[str] = []


class ImportRunFilterSet(EvidenceFilterSet):
    status = ChoiceListFilter(choices=ImportStatus.choices, field_name="status", lookup_expr="in")
    # Not "format": DRF reads ?format= to choose the response format.
    import_format = TextFilter(
        field_name="format", lookup_expr="iexact", help_text="Import format."
    )

    class Meta:
        model = ImportRun
        fields: list[str] = []
