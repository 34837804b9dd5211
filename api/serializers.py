"""Serializers: explicit fields, a lean study list item and a rich study detail.

Writes are validated by the model's own ``full_clean()`` (the rules the admin applies:
identifier normalisation, reporting states, CI order, uniqueness, check constraints),
after DRF's field checks; Django's errors come back keyed by field.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Mapping
from operator import itemgetter
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from api.exceptions import validation_error_detail
from evidence import identifiers
from evidence.models import (
    STUDY_EDITABLE_FIELDS,
    WORK_EDITABLE_FIELDS,
    Appraisal,
    Author,
    Authorship,
    Certainty,
    Citation,
    Concept,
    EffectSize,
    ImportRun,
    Journal,
    Limitation,
    MeshDescriptor,
    PublicationType,
    ReportingState,
    ResearchGap,
    RiskOfBias,
    RiskOfBiasTool,
    Study,
    StudyDesign,
    StudyMeshHeading,
    Work,
)
from evidence.models.appraisal import REPORTED_FIELDS
from evidence.models.bibliographic import GRANT_KEYS, MAX_YEAR, MIN_YEAR
from evidence.search import build_search_document, refresh_search_document
from evidence.selectors import MAX_ID
from evidence.services.importing import REPORT_COUNTS

# --- shared pieces -----------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _prebuilt(serializer_class, options: frozenset) -> serializers.BaseSerializer:
    return serializer_class(**dict(options))


def represent(serializer_class, instance, **options) -> dict:
    """``serializer_class(instance, **options).data``, without rebuilding its fields.

    DRF builds every field of a ModelSerializer (model introspection, nested serializers
    included) each time one is instantiated: most of a study detail's Python time. Read
    representations need no request context here, so one serializer per class (and
    options) serves every request; this also keeps the nested ones built.
    """
    options = {k: frozenset(v) if isinstance(v, set) else v for k, v in options.items()}
    return _prebuilt(serializer_class, frozenset(options.items())).to_representation(instance)


def represent_many(serializer_class, instances, **options) -> list[dict]:
    options = {k: frozenset(v) if isinstance(v, set) else v for k, v in options.items()}
    serializer = _prebuilt(serializer_class, frozenset(options.items()))
    return [serializer.to_representation(instance) for instance in instances]


class BlankableChoiceField(serializers.ChoiceField):
    """A choice stored as "" when unset: read as null, written as null or ""."""

    def __init__(self, choices, **kwargs):
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("required", False)
        super().__init__(choices, **kwargs)

    def validate_empty_values(self, data):
        if data is None:
            return True, ""
        return super().validate_empty_values(data)

    def to_representation(self, value):
        return value or None


# Deeper than any legitimate body (qualifiers are two levels) and well within the 255
# levels orjson renders: a deeper value would be stored and then break every read of it.
MAX_NESTING = 32
NUL_MESSAGE = "Null characters are not allowed."  # DRF's CharField says the same


def body_value_problem(value: Any, depth: int = 0) -> str | None:
    """Why ``value`` from a request body cannot be stored and read back, or None.

    PostgreSQL refuses NUL in text and in jsonb (keys too); SQLite stores it, so a
    test suite on SQLite alone would never see the 500. Fields that are not CharFields
    (slugs, free-form JSON) do not check for it themselves. A number inside a list or
    object (free-form JSON) must fit in 64 bits: jsonb gives 1e20 back as the integer
    100000000000000000000, which orjson cannot render. (Top-level numbers are the
    typed fields' business: a FloatField may hold 1e300.)
    """
    if isinstance(value, str):
        return NUL_MESSAGE if "\x00" in value else None
    if depth and isinstance(value, int | float) and not -MAX_ID <= value <= MAX_ID:
        return f"Numbers inside lists and objects must lie within ±{MAX_ID}."
    if isinstance(value, dict | list):
        if depth >= MAX_NESTING:
            return f"Nested deeper than {MAX_NESTING} levels."
        if isinstance(value, dict):
            if any(isinstance(key, str) and "\x00" in key for key in value):
                return NUL_MESSAGE
            value = value.values()
        for item in value:
            problem = body_value_problem(item, depth + 1)
            if problem is not None:
                return problem
    return None


class StrictPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A related object by id: an integer or a string of digits, nothing else.

    DRF's field hands any JSON value to ``queryset.get(pk=...)``, where a float is
    truncated (1.5 found object 1) and an infinite one raised OverflowError.
    """

    def to_internal_value(self, data):
        if isinstance(data, str) and data.isascii() and data.isdigit():
            data = int(data)
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not 0 < data <= MAX_ID:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


class ModelCleanSerializer(serializers.ModelSerializer):
    """Validate the would-be instance with ``full_clean()`` and save that instance.

    ``clean()`` may normalise values (a DOI lower-cased, the year taken from the date);
    what is saved, and returned, is the normalised instance.
    """

    serializer_related_field = StrictPrimaryKeyRelatedField

    # Non-editable model fields that prepare_instance() fills and full_clean must check
    # (a journal's matching key is unique).
    clean_also: tuple[str, ...] = ()

    def prepare_instance(self, instance) -> None:
        """Hook: derive fields before validation."""

    def error_key(self, field: str) -> Any:
        """Hook: where a model error on ``field`` goes in the response."""
        return field

    def _model_fields(self) -> dict[str, Any]:
        return {field.name: field for field in self.Meta.model._meta.get_fields()}

    def to_internal_value(self, data):
        # Before the fields run: some act on their value at once (a MeSH descriptor
        # named by a new name is created while the field validates).
        if isinstance(data, Mapping):
            errors = {
                name: [problem]
                for name, value in data.items()
                if name in self.fields and (problem := body_value_problem(value)) is not None
            }
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)

    def validate(self, attrs):
        attrs = super().validate(attrs)
        model = self.Meta.model
        model_fields = self._model_fields()
        instance = self.instance if self.instance is not None else model()
        for name, value in attrs.items():
            field = model_fields.get(name)
            if field is not None and not field.many_to_many and not field.one_to_many:
                setattr(instance, name, value)
        self.prepare_instance(instance)
        # Validate what this serializer edits, as a ModelForm does for its fields.
        keep = (
            set(attrs)
            | set(self.clean_also)
            | {
                field.source
                for field in self.fields.values()
                if not field.read_only and field.source != "*"
            }
        )
        exclude = [
            field.name
            for field in model._meta.concrete_fields
            if field.name not in keep and field.attname not in keep
        ]
        try:
            instance.full_clean(exclude=exclude)
        except DjangoValidationError as exc:
            detail: dict[str, Any] = {}
            for field, messages in validation_error_detail(exc).items():
                key = self.error_key(field)
                if isinstance(key, tuple):
                    detail.setdefault(key[0], {})[key[1]] = messages
                else:
                    detail[key] = messages
            raise serializers.ValidationError(detail) from None
        self._clean_instance = instance
        return attrs

    def _save_clean_instance(self, validated_data):
        instance = self._clean_instance
        model_fields = self._model_fields()
        many = {
            name: value
            for name, value in validated_data.items()
            if name in model_fields and model_fields[name].many_to_many
        }
        with transaction.atomic():
            self.before_save(instance, validated_data)
            instance.save()
            for name, value in many.items():
                getattr(instance, name).set(self.resolve_many(name, value))
            self.after_save(instance, validated_data)
        return instance

    def before_save(self, instance, validated_data) -> None:
        """Hook, inside the transaction."""

    def after_save(self, instance, validated_data) -> None:
        """Hook, inside the transaction."""

    def resolve_many(self, name: str, value):
        return value

    def create(self, validated_data):
        return self._save_clean_instance(validated_data)

    def update(self, instance, validated_data):
        return self._save_clean_instance(validated_data)


# --- reference data ------------------------------------------------------------------------


class JournalSerializer(ModelCleanSerializer):
    clean_also = ("key",)

    class Meta:
        model = Journal
        fields = ["id", "title", "iso_abbreviation", "issn", "eissn", "nlm_id", "publisher"]

    def _issn(self, value: str) -> str:
        # Normalised here, not only in Journal.clean(): the matching key is built from it.
        try:
            return identifiers.normalize_issn(value)
        except identifiers.InvalidIdentifier as exc:
            raise serializers.ValidationError(str(exc).capitalize() + ".") from None

    def validate_issn(self, value: str) -> str:
        return self._issn(value)

    def validate_eissn(self, value: str) -> str:
        return self._issn(value)

    def prepare_instance(self, instance: Journal) -> None:
        if not instance.key:
            instance.key = Journal.make_key(
                title=instance.title,
                issn=instance.issn,
                eissn=instance.eissn,
                nlm_id=instance.nlm_id,
            )

    def error_key(self, field: str):
        return "non_field_errors" if field == "key" else field

    def validate(self, attrs):
        try:
            return super().validate(attrs)
        except serializers.ValidationError as exc:
            # "Journal with this Key already exists" means: same ISSN / NLM ID / title.
            detail = exc.detail
            if isinstance(detail, dict) and "non_field_errors" in detail:
                detail["non_field_errors"] = [
                    "A journal with the same ISSN, NLM ID or title already exists."
                    if "already exists" in str(message)
                    else message
                    for message in detail["non_field_errors"]
                ]
            raise


class AuthorSerializer(ModelCleanSerializer):
    clean_also = ("key",)

    class Meta:
        model = Author
        fields = ["id", "last_name", "fore_name", "initials", "collective_name", "orcid"]

    def validate_orcid(self, value: str) -> str:
        try:
            return identifiers.normalize_orcid(value)
        except identifiers.InvalidIdentifier as exc:
            raise serializers.ValidationError(str(exc).capitalize() + ".") from None

    def prepare_instance(self, instance: Author) -> None:
        if not instance.key:
            instance.key = Author.make_key(
                last_name=instance.last_name,
                initials=instance.initials,
                fore_name=instance.fore_name,
                collective_name=instance.collective_name,
                orcid=instance.orcid,
            )

    def error_key(self, field: str):
        return "non_field_errors" if field == "key" else field


class ConceptSerializer(ModelCleanSerializer):
    class Meta:
        model = Concept
        fields = ["id", "name", "kind", "description"]


class ConceptBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Concept
        fields = ["id", "name", "kind"]


# --- study parts ---------------------------------------------------------------------------


class AuthorOnStudySerializer(serializers.ModelSerializer):
    """An author as printed on one study (the detail's ``authors``)."""

    class Meta:
        model = Authorship
        fields = [
            "author_id",
            "position",
            "last_name",
            "fore_name",
            "initials",
            "collective_name",
            "orcid",
            "affiliations",
        ]


class MeshTermSerializer(serializers.ModelSerializer):
    descriptor = serializers.CharField(source="descriptor.name")
    ui = serializers.CharField(source="descriptor.ui")

    class Meta:
        model = StudyMeshHeading
        fields = ["descriptor", "ui", "is_major", "qualifiers"]


class ReportedValueSerializer(serializers.Serializer):
    """One appraisal field with its reporting state: ``{"state": ..., "value": ...}``.

    Reads ``<field>_state`` and ``<field>`` of the appraisal; on write, a value left out
    is cleared unless the state is ``reported`` (then the model asks for it).
    """

    state = serializers.ChoiceField(choices=ReportingState.choices)
    value = serializers.CharField(allow_blank=True, allow_null=True, required=False)

    def __init__(self, *args, reported_field: str, **kwargs):
        kwargs["source"] = "*"
        super().__init__(*args, **kwargs)
        self.reported_field = reported_field
        if reported_field == "sample_size":
            self.fields["value"] = serializers.IntegerField(
                min_value=0, max_value=2**31 - 1, allow_null=True, required=False
            )

    def to_representation(self, instance):
        value = getattr(instance, self.reported_field)
        return {
            "state": getattr(instance, f"{self.reported_field}_state"),
            "value": None if value in ("", None) else value,
        }

    def to_internal_value(self, data):
        # The state is required even in a PATCH of the appraisal: the partial flag
        # reaches this nested serializer and would let {} through without one.
        if isinstance(data, Mapping) and "state" not in data:
            raise serializers.ValidationError({"state": [self.error_messages["required"]]})
        data = super().to_internal_value(data)
        value = data.get("value")
        if value is None:
            value = None if self.reported_field == "sample_size" else ""
        return {f"{self.reported_field}_state": data["state"], self.reported_field: value}


@extend_schema_field(ConceptBriefSerializer(many=True))
class ConceptsField(serializers.Field):
    """Read as ``[{id, name, kind}]``; written as a list of concept ids."""

    default_error_messages = {
        "not_a_list": "Expected a list of concept ids.",
        "missing": "Unknown concept id(s): {ids}.",
    }

    def get_attribute(self, instance):
        return instance.concepts.all()

    def to_representation(self, concepts):
        return represent_many(ConceptBriefSerializer, concepts)

    def to_internal_value(self, data):
        if not isinstance(data, list) or len(data) > 500:
            self.fail("not_a_list")
        ids = []
        for item in data:
            item = item.get("id") if isinstance(item, dict) else item
            if isinstance(item, bool) or not isinstance(item, int) or not 0 < item < 2**63:
                self.fail("not_a_list")
            ids.append(item)
        concepts = list(Concept.objects.filter(pk__in=ids))
        missing = sorted(set(ids) - {concept.pk for concept in concepts})
        if missing:
            self.fail("missing", ids=", ".join(map(str, missing)))
        return concepts


class AppraisalSerializer(ModelCleanSerializer):
    clean_also = (*REPORTED_FIELDS, *(f"{name}_state" for name in REPORTED_FIELDS))
    design = BlankableChoiceField(StudyDesign.choices)
    risk_of_bias = BlankableChoiceField(RiskOfBias.choices)
    risk_of_bias_tool = BlankableChoiceField(RiskOfBiasTool.choices)
    certainty = BlankableChoiceField(Certainty.choices, help_text="GRADE certainty of evidence.")
    concepts = ConceptsField(required=False)

    class Meta:
        model = Appraisal
        fields = [
            "design",
            *REPORTED_FIELDS,
            "main_result",
            "practice_relevance",
            "risk_of_bias",
            "risk_of_bias_tool",
            "certainty",
            "notes",
            "concepts",
            "updated_at",
        ]
        read_only_fields = ["updated_at"]

    def get_fields(self):
        fields = super().get_fields()
        for name in REPORTED_FIELDS:
            fields[name] = ReportedValueSerializer(reported_field=name, required=False)
        return fields

    def prepare_instance(self, instance: Appraisal) -> None:
        if instance.study_id is None:
            instance.study = self.context["study"]

    def error_key(self, field: str):
        for name in REPORTED_FIELDS:
            if field == name:
                return (name, "value")
            if field == f"{name}_state":
                return (name, "state")
        return field


class EffectSizeSerializer(ModelCleanSerializer):
    certainty = BlankableChoiceField(Certainty.choices, help_text="GRADE certainty, this outcome.")

    class Meta:
        model = EffectSize
        fields = [
            "id",
            "study",
            "outcome",
            "measure",
            "value",
            "ci_lower",
            "ci_upper",
            "ci_level",
            "p_value",
            "n_intervention",
            "n_comparator",
            "timepoint",
            "certainty",
            "note",
            "order",
        ]


class LimitationSerializer(ModelCleanSerializer):
    class Meta:
        model = Limitation
        fields = ["id", "study", "category", "description", "raised_by", "order"]


class ResearchGapSerializer(ModelCleanSerializer):
    class Meta:
        model = ResearchGap
        fields = ["id", "study", "category", "description", "future_direction", "order"]


def _without_study(serializer_class):
    """The same item nested in its study's detail, where ``study`` goes without saying."""

    class Meta(serializer_class.Meta):
        fields = [name for name in serializer_class.Meta.fields if name != "study"]

    return type(f"Nested{serializer_class.__name__}", (serializer_class,), {"Meta": Meta})


NestedEffectSizeSerializer = _without_study(EffectSizeSerializer)
NestedLimitationSerializer = _without_study(LimitationSerializer)
NestedResearchGapSerializer = _without_study(ResearchGapSerializer)


class StudyBriefSerializer(serializers.ModelSerializer):
    """Which study an item belongs to (on limitation, gap and effect-size lists)."""

    journal = serializers.CharField(source="journal.title", default=None, allow_null=True)
    design = serializers.SerializerMethodField()

    class Meta:
        model = Study
        fields = ["id", "pmid", "doi", "title", "pub_year", "journal", "design"]

    @extend_schema_field(serializers.ChoiceField(choices=StudyDesign.choices, allow_null=True))
    def get_design(self, study: Study) -> str | None:
        appraisal = appraisal_of(study)
        return (appraisal.design or None) if appraisal else None


def appraisal_of(study: Study) -> Appraisal | None:
    """The study's appraisal or None (the reverse one-to-one raises when absent)."""
    return getattr(study, "appraisal", None)


class _WithStudy:
    """Curated items listed on their own carry a brief of their study."""

    def get_fields(self):
        fields = super().get_fields()
        fields["study_summary"] = StudyBriefSerializer(source="study", read_only=True)
        return fields


class EffectSizeListSerializer(_WithStudy, EffectSizeSerializer):
    pass


class LimitationListSerializer(_WithStudy, LimitationSerializer):
    pass


class ResearchGapListSerializer(_WithStudy, ResearchGapSerializer):
    pass


# --- studies ------------------------------------------------------------------------------


class StudyListSerializer(serializers.Serializer):
    """The lean list item (for the schema: the list itself is built from ``values()``)."""

    id = serializers.IntegerField()
    pmid = serializers.IntegerField(allow_null=True)
    doi = serializers.CharField(allow_null=True)
    pmcid = serializers.CharField(allow_null=True)
    title = serializers.CharField()
    pub_year = serializers.IntegerField(allow_null=True)
    journal = serializers.CharField(allow_null=True, help_text="Journal title.")
    design = serializers.ChoiceField(choices=StudyDesign.choices, allow_null=True)
    review_status = serializers.CharField()
    certainty = serializers.ChoiceField(choices=Certainty.choices, allow_null=True)


STUDY_LIST_FIELDS = tuple(StudyListSerializer._declared_fields)


class AbstractSectionSerializer(serializers.Serializer):
    label = serializers.CharField(allow_blank=True, required=False, default="")
    category = serializers.CharField(allow_blank=True, required=False, default="")
    text = serializers.CharField(allow_blank=True, required=False, default="")


class RelatedArticleSerializer(serializers.Serializer):
    relation = serializers.CharField(allow_blank=True, required=False, default="")
    ref_source = serializers.CharField(allow_blank=True, required=False, default="")
    pmid = serializers.CharField(allow_blank=True, required=False, default="")


class GrantSerializer(serializers.Serializer):
    agency = serializers.CharField(allow_blank=True, required=False, default="")
    grant_id = serializers.CharField(allow_blank=True, required=False, default="")
    acronym = serializers.CharField(
        allow_blank=True,
        required=False,
        default="",
        help_text="The agency's short code: PubMed's institute code, Scopus's acronym.",
    )
    country = serializers.CharField(allow_blank=True, required=False, default="")


# The schema's study detail. The API builds details with ``study_detail_item`` from
# plain rows; this serializer renders a Study instance (annotated with references_count
# and cited_by_count) the same way, and the tests hold the two to the same output.
class StudyDetailSerializer(serializers.ModelSerializer):
    """The whole study; parts can be left out with ``fields=`` (and then cost nothing)."""

    journal = serializers.SerializerMethodField(help_text="Journal title.")
    design = serializers.SerializerMethodField()
    certainty = serializers.SerializerMethodField(help_text="GRADE certainty (appraisal).")
    abstract_sections = AbstractSectionSerializer(many=True)
    journal_info = JournalSerializer(source="journal", read_only=True, allow_null=True)
    authors = AuthorOnStudySerializer(source="authorships", many=True, read_only=True)
    publication_types = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    mesh_terms = MeshTermSerializer(source="mesh_headings", many=True, read_only=True)
    keywords = serializers.ListField(child=serializers.CharField())
    related_articles = RelatedArticleSerializer(many=True)
    grants = GrantSerializer(many=True, help_text="Funders as the source lists them.")
    appraisal = serializers.SerializerMethodField(
        help_text="Null until the study is appraised (every field then counts as not_curated)."
    )
    effect_sizes = NestedEffectSizeSerializer(many=True, read_only=True)
    limitations = NestedLimitationSerializer(many=True, read_only=True)
    research_gaps = NestedResearchGapSerializer(many=True, read_only=True)
    references_count = serializers.IntegerField(
        read_only=True, help_text="Entries in this study's reference list."
    )
    cited_by_count = serializers.IntegerField(
        read_only=True, help_text="Citing works known to the database."
    )

    class Meta:
        model = Study
        fields = [
            *STUDY_LIST_FIELDS,
            "abstract",
            "abstract_sections",
            "language",
            "journal_info",
            "volume",
            "issue",
            "pages",
            "pub_date",
            "pub_date_precision",
            "pub_date_text",
            "authors",
            "publication_types",
            "mesh_terms",
            "keywords",
            "related_articles",
            "grants",
            "funding_statement",
            "conflict_of_interest",
            "is_retracted",
            "citation_count",
            "imported_from",
            "imported_at",
            "created_at",
            "updated_at",
            "appraisal",
            "effect_sizes",
            "limitations",
            "research_gaps",
            "references_count",
            "cited_by_count",
        ]
        read_only_fields = fields

    def __init__(self, *args, only: set[str] | frozenset[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if only is not None:
            for name in list(self.fields):
                if name not in only:
                    self.fields.pop(name)

    def get_journal(self, study: Study) -> str | None:
        return study.journal.title if study.journal_id else None

    @extend_schema_field(serializers.ChoiceField(choices=StudyDesign.choices, allow_null=True))
    def get_design(self, study: Study) -> str | None:
        appraisal = appraisal_of(study)
        return (appraisal.design or None) if appraisal else None

    @extend_schema_field(serializers.ChoiceField(choices=Certainty.choices, allow_null=True))
    def get_certainty(self, study: Study) -> str | None:
        appraisal = appraisal_of(study)
        return (appraisal.certainty or None) if appraisal else None

    @extend_schema_field(AppraisalSerializer(allow_null=True))
    def get_appraisal(self, study: Study) -> dict | None:
        appraisal = appraisal_of(study)
        return represent(AppraisalSerializer, appraisal) if appraisal else None


# --- the study detail from plain rows -----------------------------------------------------

_DATETIME = serializers.DateTimeField()
_DATE = serializers.DateField()


def _moment(value) -> str | None:
    return _DATETIME.to_representation(value) if value else None


def _text_or_none(value) -> str | None:
    return None if value is None else str(value)


def _objects(items, names: tuple[str, ...]) -> list[dict] | None:
    """A JSON list of objects as a nested serializer with these CharFields (default "")
    renders it: missing keys are "", other values strings, unknown keys dropped."""
    if items is None:
        return None
    return [
        {
            name: _text_or_none(item.get(name, "")) if isinstance(item, Mapping) else ""
            for name in names
        }
        for item in items
    ]


def _appraisal_item(row: dict) -> dict | None:
    if row["appraisal__study"] is None:
        return None
    item: dict[str, Any] = {"design": row["appraisal__design"] or None}
    for name in REPORTED_FIELDS:
        value = row[f"appraisal__{name}"]
        item[name] = {
            "state": row[f"appraisal__{name}_state"],
            "value": None if value in ("", None) else value,
        }
    item.update(
        main_result=row["appraisal__main_result"],
        practice_relevance=row["appraisal__practice_relevance"],
        risk_of_bias=row["appraisal__risk_of_bias"] or None,
        risk_of_bias_tool=row["appraisal__risk_of_bias_tool"] or None,
        certainty=row["appraisal__certainty"] or None,
        notes=row["appraisal__notes"],
        concepts=[
            {"id": c["concept_id"], "name": c["concept__name"], "kind": c["concept__kind"]}
            for c in row["appraisal_concepts"]
        ],
        updated_at=_moment(row["appraisal__updated_at"]),
    )
    return item


def _journal_item(row: dict) -> dict | None:
    if row["journal_id"] is None:
        return None
    return {
        "id": row["journal_id"],
        "title": row["journal__title"],
        "iso_abbreviation": row["journal__iso_abbreviation"],
        "issn": row["journal__issn"],
        "eissn": row["journal__eissn"],
        "nlm_id": row["journal__nlm_id"],
        "publisher": row["journal__publisher"],
    }


# Each field of the detail, in StudyDetailSerializer's order, from a row of
# selectors.study_detail_values with its parts attached (selectors.attach_study_parts).
# The part rows already have the serializers' keys in their order.
_STUDY_DETAIL_FIELDS: dict[str, Callable[[dict], Any]] = {
    "id": itemgetter("id"),
    "pmid": itemgetter("pmid"),
    "doi": itemgetter("doi"),
    "pmcid": itemgetter("pmcid"),
    "title": itemgetter("title"),
    "pub_year": itemgetter("pub_year"),
    "journal": lambda row: row["journal__title"] if row["journal_id"] is not None else None,
    "design": lambda row: row["appraisal__design"] or None,
    "review_status": itemgetter("review_status"),
    "certainty": lambda row: row["appraisal__certainty"] or None,
    "abstract": itemgetter("abstract"),
    "abstract_sections": lambda row: _objects(
        row["abstract_sections"], ("label", "category", "text")
    ),
    "language": itemgetter("language"),
    "journal_info": _journal_item,
    "volume": itemgetter("volume"),
    "issue": itemgetter("issue"),
    "pages": itemgetter("pages"),
    "pub_date": lambda row: _DATE.to_representation(row["pub_date"]) if row["pub_date"] else None,
    "pub_date_precision": itemgetter("pub_date_precision"),
    "pub_date_text": itemgetter("pub_date_text"),
    "authors": itemgetter("authors"),
    "publication_types": itemgetter("publication_types"),
    "mesh_terms": lambda row: [
        {
            "descriptor": m["descriptor_name"],
            "ui": m["descriptor_ui"],
            "is_major": m["is_major"],
            "qualifiers": m["qualifiers"],
        }
        for m in row["mesh_terms"]
    ],
    "keywords": lambda row: (
        None if row["keywords"] is None else [_text_or_none(k) for k in row["keywords"]]
    ),
    "related_articles": lambda row: _objects(
        row["related_articles"], ("relation", "ref_source", "pmid")
    ),
    "grants": lambda row: _objects(row["grants"], GRANT_KEYS),
    "funding_statement": itemgetter("funding_statement"),
    "conflict_of_interest": itemgetter("conflict_of_interest"),
    "is_retracted": itemgetter("is_retracted"),
    "citation_count": itemgetter("citation_count"),
    "imported_from": itemgetter("imported_from"),
    "imported_at": lambda row: _moment(row["imported_at"]),
    "created_at": lambda row: _moment(row["created_at"]),
    "updated_at": lambda row: _moment(row["updated_at"]),
    "appraisal": _appraisal_item,
    "effect_sizes": lambda row: [
        {**effect, "certainty": effect["certainty"] or None} for effect in row["effect_sizes"]
    ],
    "limitations": itemgetter("limitations"),
    "research_gaps": itemgetter("research_gaps"),
    "references_count": itemgetter("references_count"),
    "cited_by_count": itemgetter("cited_by_count"),
}


def study_detail_item(row: dict, only: Collection[str] | None = None) -> dict:
    """The study detail from plain rows: what StudyDetailSerializer gives for the same
    study, without building a model instance or running a field object per value (the
    serializer was most of a detail's Python time). ``only`` names the top-level
    fields to build; the row needs only what those read."""
    if only is None:
        return {name: build(row) for name, build in _STUDY_DETAIL_FIELDS.items()}
    return {name: build(row) for name, build in _STUDY_DETAIL_FIELDS.items() if name in only}


class PublicationTypesField(serializers.ListField):
    """Publication types by name; unknown names are added to the vocabulary."""

    child = serializers.CharField(max_length=255)

    def to_representation(self, manager):
        return [item.name for item in manager.all()]


class StudyWriteSerializer(ModelCleanSerializer):
    """What a curator edits on a study; the response is the study's detail."""

    pmid = serializers.IntegerField(
        allow_null=True, required=False, min_value=1, max_value=999_999_999
    )
    pub_year = serializers.IntegerField(
        allow_null=True, required=False, min_value=MIN_YEAR, max_value=MAX_YEAR
    )
    doi = serializers.CharField(allow_null=True, required=False, max_length=255)
    pmcid = serializers.CharField(allow_null=True, required=False, max_length=16)
    abstract_sections = AbstractSectionSerializer(many=True, required=False)
    keywords = serializers.ListField(child=serializers.CharField(), required=False)
    related_articles = RelatedArticleSerializer(many=True, required=False)
    grants = GrantSerializer(many=True, required=False)
    publication_types = PublicationTypesField(required=False)

    class Meta:
        model = Study
        fields = STUDY_EDITABLE_FIELDS

    def validate_doi(self, value):
        return value or None

    def validate_pmcid(self, value):
        return value or None

    def resolve_many(self, name: str, value):
        if name == "publication_types":
            names = list(dict.fromkeys(value))
            existing = {item.name: item for item in PublicationType.objects.filter(name__in=names)}
            return [existing.get(n) or PublicationType.objects.create(name=n) for n in names]
        return value

    def before_save(self, instance: Study, validated_data) -> None:
        instance.search_document = build_search_document(instance)


# --- the rest the admin edits -----------------------------------------------------------------


class AuthorshipSerializer(ModelCleanSerializer):
    affiliations = serializers.ListField(child=serializers.CharField(), required=False)

    class Meta:
        model = Authorship
        fields = [
            "id",
            "study",
            "author",
            "position",
            "last_name",
            "fore_name",
            "initials",
            "collective_name",
            "orcid",
            "affiliations",
        ]


class _DescriptorField(serializers.SlugRelatedField):
    """A MeSH descriptor by name; a name new to the database is added (MeSH grows
    every year and PubMed records carry names, not our ids)."""

    def to_internal_value(self, data):
        if not isinstance(data, str) or not data.strip() or len(data.strip()) > 255:
            self.fail("invalid")
        descriptor, _ = MeshDescriptor.objects.get_or_create(name=data.strip())
        return descriptor


class StudyMeshHeadingSerializer(ModelCleanSerializer):
    descriptor = _DescriptorField(
        slug_field="name",
        queryset=MeshDescriptor.objects.all(),
        help_text="Descriptor name; a name new to the database is added.",
    )
    qualifiers = serializers.ListField(child=serializers.DictField(), required=False)

    class Meta:
        model = StudyMeshHeading
        fields = ["id", "study", "descriptor", "is_major", "qualifiers"]

    def after_save(self, instance: StudyMeshHeading, validated_data) -> None:
        refresh_search_document(instance.study_id)


class WorkSerializer(ModelCleanSerializer):
    class Meta:
        model = Work
        fields = ("id", *WORK_EDITABLE_FIELDS)
        extra_kwargs = {
            "pmid": {"min_value": 1, "max_value": 999_999_999},
            "year": {"min_value": MIN_YEAR, "max_value": MAX_YEAR},
        }

    def validate_doi(self, value):
        return value or None

    def validate_pmcid(self, value):
        return value or None


class CitationSerializer(ModelCleanSerializer):
    class Meta:
        model = Citation
        fields = ["id", "citing", "cited", "position", "raw_text"]


@extend_schema_serializer(component_name="CitationEntry")
class CitationEntrySerializer(serializers.Serializer):
    """One entry of a reference or cited-by list: what the source printed, the work,
    and the study it is in this database (null when it is not)."""

    citation_id = serializers.IntegerField(source="id")
    position = serializers.IntegerField(allow_null=True)
    raw_text = serializers.CharField()
    work = serializers.SerializerMethodField()
    study = serializers.SerializerMethodField()

    def __init__(self, *args, side: str = "cited", **kwargs):
        super().__init__(*args, **kwargs)
        self.side = side

    @extend_schema_field(WorkSerializer)
    def get_work(self, citation: Citation) -> dict:
        return represent(WorkSerializer, getattr(citation, self.side))

    @extend_schema_field(StudyBriefSerializer(allow_null=True))
    def get_study(self, citation: Citation) -> dict | None:
        work = getattr(citation, self.side)
        return represent(StudyBriefSerializer, work.study) if work.study_id else None


class ImportRunSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.get_username", default=None, allow_null=True)
    messages = serializers.ListField(child=serializers.DictField())

    class Meta:
        model = ImportRun
        fields = [
            "id",
            "user",
            "source_name",
            "format",
            "status",
            "options",
            "started_at",
            "finished_at",
            *REPORT_COUNTS,
            "messages",
        ]
        read_only_fields = fields


class ImportRequestSerializer(serializers.Serializer):
    """The multipart form of ``POST /imports/`` (for the schema and the checks)."""

    file = serializers.FileField(help_text="The citation file (or send it as the raw body).")
    # The run's source name; CharField refuses NUL, which PostgreSQL cannot store.
    filename = serializers.CharField(
        required=False,
        trim_whitespace=False,
        help_text="Name of the upload (by default the file's own, or Content-Disposition's).",
    )
    format = serializers.CharField(required=False, default="auto")
    dry_run = serializers.BooleanField(required=False, default=False)
    on_duplicate = serializers.ChoiceField(choices=["update", "skip"], default="update")
    skip_invalid = serializers.BooleanField(required=False, default=False)


@extend_schema_field(OpenApiTypes.OBJECT)
class _AnyBucket(serializers.DictField):
    pass


class FacetResponseSerializer(serializers.Serializer):
    group_by = serializers.ListField(child=serializers.CharField())
    results = serializers.ListField(
        child=_AnyBucket(),
        help_text=(
            "One object per combination: the grouped values (null for none, plus "
            "`<name>_label` for journal and concept), and `count`."
        ),
    )
    truncated = serializers.BooleanField(help_text="More buckets exist than were returned.")
