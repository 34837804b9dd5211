"""Study rows back into StudyRecords: the exact inverse of what the import service stores.

Every export format reads these records, and EviDB JSON export followed by an import
into an empty database reproduces the data, so each field maps 1:1 onto the model field
the service fills (see evidence.services).

Rows are read with ``values()`` / ``values_list()``, not as model instances: an export
of 10,000 studies touches some 300,000 citation rows, and building a model instance
for each costs far more than the query.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import orjson
from django.db.models import (
    BooleanField,
    Case,
    Expression,
    F,
    QuerySet,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Cast

from evidence.importers.records import (
    AbstractSectionRecord,
    AppraisalRecord,
    AuthorRecord,
    ConceptRecord,
    EffectSizeRecord,
    GrantRecord,
    JournalRecord,
    LimitationRecord,
    MeshHeadingRecord,
    MeshQualifierRecord,
    PublicationDate,
    PublicationTypeRecord,
    RelatedArticleRecord,
    ReportedValue,
    ReportingState,
    ResearchGapRecord,
    SourceLocation,
    StudyRecord,
    WorkRecord,
)
from evidence.models import (
    Appraisal,
    Authorship,
    Citation,
    EffectSize,
    Limitation,
    ResearchGap,
    Study,
    StudyMeshHeading,
    Work,
)
from evidence.models.appraisal import REPORTED_FIELDS

# Parts of a record beyond the bibliographic core, each read only when asked for.
APPRAISAL = "appraisal"  # appraisal with its concepts
CURATION = "curation"  # effect sizes, limitations, research gaps
GRAPH = "graph"  # references and cited-by
# Details of the bibliographic record that only some formats print.
AUTHOR_DETAILS = "author_details"  # authors' affiliations and ORCID iDs
MESH_QUALIFIERS = "mesh_qualifiers"
# The labelled sections also of studies that have an abstract: the citation formats
# print the abstract and fall back on its sections only when it is empty (the sections
# of those studies are always read). The sections repeat the abstract: they were half
# of the text a RIS export read.
ABSTRACT_SECTIONS = "abstract_sections"
ALL_PARTS = frozenset(
    {APPRAISAL, CURATION, GRAPH, AUTHOR_DETAILS, MESH_QUALIFIERS, ABSTRACT_SECTIONS}
)

# Queries per chunk with every part, whatever the chunk's size (tests pin it):
#   1. studies with journal and appraisal (joined)
#   2. authorships   3. publication types   4. MeSH headings with descriptor
#   5. concepts (appraisal)
#   6. effect sizes   7. limitations   8. research gaps (curation)
#   9. the studies' graph nodes   10. references   11. cited-by (graph)
# The graph nodes are a query of their own: joined to the studies, PostgreSQL merges
# with the whole work index from its start, 60 ms a chunk deep into a large export.
QUERIES_PER_CHUNK = 11

_STUDY_FIELDS = (
    "id",
    "pmid",
    "doi",
    "pmcid",
    "title",
    "abstract",
    "language",
    "volume",
    "issue",
    "pages",
    "pub_date",
    "pub_date_precision",
    "pub_date_text",
    "pub_year",
    "citation_count",
    "funding_statement",
    "conflict_of_interest",
    "review_status",
    "journal_id",
    "journal__title",
    "journal__iso_abbreviation",
    "journal__issn",
    "journal__eissn",
    "journal__nlm_id",
    "journal__publisher",
)
# JSON columns come as text and are decoded with orjson: Django's json.loads per value
# was the largest single cost of a RIS export.
_STUDY_JSON_FIELDS = ("abstract_sections", "keywords", "related_articles", "grants")


def _json_text(name: str) -> Cast:
    return Cast(name, output_field=TextField())


class _AnyOf(Expression):
    """``column IN (ids)``, the ids passed as one array parameter on PostgreSQL.

    A chunk's 500 ids as 500 parameters cost more than running the query: Django
    prepares each one, and psycopg parses a statement that long again on every execute
    (it caches only short ones).
    """

    output_field = BooleanField()
    conditional = True

    def __init__(self, column: str | Expression, ids: list[int]) -> None:
        super().__init__()
        self.column = F(column) if isinstance(column, str) else column
        self.ids = ids

    def get_source_expressions(self) -> list:
        return [self.column]

    def set_source_expressions(self, expressions: list) -> None:
        (self.column,) = expressions

    def as_sql(self, compiler, connection) -> tuple[str, tuple]:
        column, params = compiler.compile(self.column)
        if connection.vendor == "postgresql":
            return f"{column} = ANY(%s)", (*params, list(self.ids))
        return f"{column} IN ({', '.join(['%s'] * len(self.ids))})", (*params, *self.ids)


def _json(text: str | None) -> Any:
    return orjson.loads(text) if text else None


_APPRAISAL_FIELDS = (
    "design",
    *(name for field in REPORTED_FIELDS for name in (f"{field}_state", field)),
    "main_result",
    "practice_relevance",
    "risk_of_bias",
    "risk_of_bias_tool",
    "certainty",
    "notes",
)
_WORK_FIELDS = (
    "authors",
    "title",
    "journal",
    "year",
    "volume",
    "issue",
    "pages",
    "pmid",
    "pmcid",
    "doi",
)
_EFFECT_FIELDS = (
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
)


class StudyRecordStream(Iterator[StudyRecord]):
    """The iterator ``iter_study_records`` returns.

    ``stream_export`` calls ``only_parts`` before the first record is read, so that a
    RIS or BibTeX export does not read the citation graph or the curation it never
    prints; iterated directly, the stream yields complete records.
    """

    def __init__(self, queryset: QuerySet[Study], *, chunk_size: int) -> None:
        if chunk_size < 1:
            raise ValueError("chunk_size must be at least 1")
        self._queryset = queryset
        self._chunk_size = chunk_size
        self._parts = ALL_PARTS
        self._records: Iterator[StudyRecord] | None = None

    def only_parts(self, parts: Iterable[str]) -> None:
        if self._records is not None:
            raise RuntimeError("only_parts() must come before the first record is read")
        self._parts = frozenset(parts) & ALL_PARTS

    def __iter__(self) -> StudyRecordStream:
        return self

    def __next__(self) -> StudyRecord:
        if self._records is None:
            self._records = _iter_records(self._queryset, self._chunk_size, self._parts)
        return next(self._records)


def iter_study_records(queryset: QuerySet[Study], *, chunk_size: int = 500) -> StudyRecordStream:
    """One StudyRecord per study of ``queryset``, read ``chunk_size`` studies at a time.

    Chunks are read by keyset pagination over id (``id > last id``), so each costs the
    same ``QUERIES_PER_CHUNK`` queries however deep the export goes, and only one chunk
    of rows is in memory at a time. Records come in id order; a sliced queryset (already
    limited to N rows in its own order) keeps its order instead, its ids read first.
    """
    return StudyRecordStream(queryset, chunk_size=chunk_size)


def _iter_records(
    queryset: QuerySet[Study], chunk_size: int, parts: frozenset[str]
) -> Iterator[StudyRecord]:
    fields = _STUDY_FIELDS
    if APPRAISAL in parts:
        fields += ("appraisal__study", *(f"appraisal__{name}" for name in _APPRAISAL_FIELDS))
    json_fields = {f"{name}_json": _json_text(name) for name in _STUDY_JSON_FIELDS}
    if ABSTRACT_SECTIONS not in parts:
        json_fields["abstract_sections_json"] = Case(
            When(abstract="", then=_json_text("abstract_sections")),
            default=Value(None),
            output_field=TextField(),
        )
    rows_query = Study.objects.values(*fields, **json_fields)

    if queryset.query.is_sliced:
        # A slice cannot be filtered further; its ids (one integer per row) are read once.
        ids = list(queryset.values_list("id", flat=True))
        for start in range(0, len(ids), chunk_size):
            chunk_ids = ids[start : start + chunk_size]
            by_id = {row["id"]: row for row in rows_query.filter(id__in=chunk_ids)}
            # A study deleted since its id was read is left out, not an error.
            rows = [by_id[study_id] for study_id in chunk_ids if study_id in by_id]
            yield from _chunk_records(rows, parts)
        return
    # Keyset over ids alone in a subquery, then the rows by primary key: with a filter (a
    # year range) the ids come from an index-only scan (1 ms a chunk on 100,000
    # studies), where reading whole rows in id order scanned ten for each one kept
    # (50 ms a chunk). The caller's prefetches (made for a list page) do not apply.
    id_query = queryset.prefetch_related(None).order_by("id").values("id")
    last_id = 0
    while True:
        next_ids = id_query.filter(id__gt=last_id)[:chunk_size]
        rows = list(rows_query.filter(id__in=next_ids).order_by("id"))
        yield from _chunk_records(rows, parts)
        if len(rows) < chunk_size:
            return
        last_id = rows[-1]["id"]


def _grouped(rows: Iterable[tuple]) -> dict[Any, list[tuple]]:
    """Rows whose first value is the owner's id, grouped by it (order kept)."""
    groups: dict[Any, list[tuple]] = {}
    for row in rows:
        groups.setdefault(row[0], []).append(row)
    return groups


def _chunk_records(rows: list[dict[str, Any]], parts: frozenset[str]) -> Iterator[StudyRecord]:
    if not rows:
        return
    ids = [row["id"] for row in rows]
    author_details = AUTHOR_DETAILS in parts
    authors = _grouped(
        Authorship.objects.filter(_AnyOf("study_id", ids))
        .order_by("study_id", "position")
        .values_list(
            "study_id",
            "last_name",
            "fore_name",
            "initials",
            "collective_name",
            *(("orcid", _json_text("affiliations")) if author_details else ()),
        )
    )
    publication_types = _grouped(
        Study.publication_types.through.objects.filter(_AnyOf("study_id", ids))
        .order_by("study_id", "publicationtype__name")
        .values_list("study_id", "publicationtype__name", "publicationtype__ui")
    )
    qualifiers = MESH_QUALIFIERS in parts
    mesh = _grouped(
        StudyMeshHeading.objects.filter(_AnyOf("study_id", ids))
        .order_by("study_id", "descriptor__name")
        .values_list(
            "study_id",
            "descriptor__name",
            "descriptor__ui",
            "is_major",
            *((_json_text("qualifiers"),) if qualifiers else ()),
        )
    )
    concepts: dict[Any, list[tuple]] = {}
    if APPRAISAL in parts:
        appraised = [row["id"] for row in rows if row["appraisal__study"] is not None]
        if appraised:
            concepts = _grouped(
                Appraisal.concepts.through.objects.filter(_AnyOf("appraisal_id", appraised))
                .order_by("appraisal_id", "concept__kind", "concept__name")
                .values_list("appraisal_id", "concept__name", "concept__kind")
            )
    effects: dict[Any, list[tuple]] = {}
    limitations: dict[Any, list[tuple]] = {}
    gaps: dict[Any, list[tuple]] = {}
    if CURATION in parts:
        effects = _grouped(
            EffectSize.objects.filter(_AnyOf("study_id", ids))
            .order_by("study_id", "order", "id")
            .values_list("study_id", *_EFFECT_FIELDS)
        )
        limitations = _grouped(
            Limitation.objects.filter(_AnyOf("study_id", ids))
            .order_by("study_id", "order", "id")
            .values_list("study_id", "description", "category", "raised_by")
        )
        gaps = _grouped(
            ResearchGap.objects.filter(_AnyOf("study_id", ids))
            .order_by("study_id", "order", "id")
            .values_list("study_id", "description", "category", "future_direction")
        )
    references: dict[Any, list[tuple]] = {}
    cited_by: dict[Any, list[tuple]] = {}
    node_of: dict[Any, Any] = {}
    if GRAPH in parts:
        node_of = dict(Work.objects.filter(_AnyOf("study_id", ids)).values_list("study_id", "id"))
    work_ids = list(node_of.values())
    if work_ids:
        # The edge's raw_text: the service stores each listed work's text on its edge,
        # for references and cited-by alike.
        references = _grouped(
            Citation.objects.filter(_AnyOf("citing_id", work_ids))
            # Unnumbered references last on every database (SQLite sorts NULL first).
            .order_by("citing_id", F("position").asc(nulls_last=True), "id")
            .values_list("citing_id", "raw_text", *(f"cited__{name}" for name in _WORK_FIELDS))
        )
        # Citing works by identifier, not by edge id: a re-import does not keep the order
        # edges were created in, it keeps identifiers.
        cited_by = _grouped(
            Citation.objects.filter(_AnyOf("cited_id", work_ids))
            .order_by(
                "cited_id",
                F("citing__pmid").asc(nulls_last=True),
                F("citing__doi").asc(nulls_last=True),
                F("citing__pmcid").asc(nulls_last=True),
                "raw_text",
                "id",
            )
            .values_list("cited_id", "raw_text", *(f"citing__{name}" for name in _WORK_FIELDS))
        )
    for row in rows:
        study_id = row["id"]
        work_id = node_of.get(study_id)
        yield StudyRecord(
            location=SourceLocation(source="evidb", record=study_id),
            pmid=_text_id(row["pmid"]),
            doi=row["doi"] or "",
            pmcid=row["pmcid"] or "",
            title=row["title"],
            abstract=row["abstract"],
            abstract_sections=[
                AbstractSectionRecord(
                    label=section.get("label", ""),
                    category=section.get("category", ""),
                    text=section.get("text", ""),
                )
                for section in _json(row["abstract_sections_json"]) or []
            ],
            language=row["language"],
            journal=_journal_record(row),
            volume=row["volume"],
            issue=row["issue"],
            pages=row["pages"],
            pub_date=_publication_date(row),
            authors=[_author_record(author) for author in authors.get(study_id, ())],
            publication_types=[
                PublicationTypeRecord(name=name, ui=ui)
                for _, name, ui in publication_types.get(study_id, ())
            ],
            mesh_headings=[_mesh_heading_record(heading) for heading in mesh.get(study_id, ())],
            keywords=_json(row["keywords_json"]) or [],
            citation_count=row["citation_count"],
            references=[_work_record(edge) for edge in references.get(work_id, ())],
            cited_by=[_work_record(edge) for edge in cited_by.get(work_id, ())],
            related_articles=[
                RelatedArticleRecord(
                    relation=related.get("relation", ""),
                    ref_source=related.get("ref_source", ""),
                    pmid=_text_id(related.get("pmid")),
                )
                for related in _json(row["related_articles_json"]) or []
            ],
            grants=[
                GrantRecord(
                    agency=grant.get("agency", ""),
                    grant_id=grant.get("grant_id", ""),
                    acronym=grant.get("acronym", ""),
                    country=grant.get("country", ""),
                )
                for grant in _json(row["grants_json"]) or []
            ],
            funding_statement=row["funding_statement"],
            conflict_of_interest=row["conflict_of_interest"],
            appraisal=(
                _appraisal_record(row, concepts.get(study_id, ()))
                if APPRAISAL in parts and row["appraisal__study"] is not None
                else None
            ),
            effect_sizes=[
                EffectSizeRecord(**dict(zip(_EFFECT_FIELDS, values, strict=True)))
                for _, *values in effects.get(study_id, ())
            ],
            limitations=[
                LimitationRecord(description=description, category=category, raised_by=by)
                for _, description, category, by in limitations.get(study_id, ())
            ],
            research_gaps=[
                ResearchGapRecord(
                    description=description, category=category, future_direction=direction
                )
                for _, description, category, direction in gaps.get(study_id, ())
            ],
            review_status=row["review_status"],
        )


def _author_record(row: tuple) -> AuthorRecord:
    """(study id, last name, fore name, initials, collective name[, ORCID,
    affiliations as JSON text]) as an AuthorRecord."""
    if len(row) == 5:
        return AuthorRecord(
            last_name=row[1], fore_name=row[2], initials=row[3], collective_name=row[4]
        )
    _, last_name, fore_name, initials, collective_name, orcid, affiliations = row
    return AuthorRecord(
        last_name=last_name,
        fore_name=fore_name,
        initials=initials,
        collective_name=collective_name,
        orcid=orcid,
        affiliations=_json(affiliations) or [],
    )


def _mesh_heading_record(row: tuple) -> MeshHeadingRecord:
    """(study id, descriptor, UI, major[, qualifiers as JSON text]) as a record."""
    if len(row) == 4:
        return MeshHeadingRecord(descriptor=row[1], ui=row[2], is_major=row[3])
    _, name, ui, is_major, qualifiers = row
    return MeshHeadingRecord(
        descriptor=name,
        ui=ui,
        is_major=is_major,
        qualifiers=[
            MeshQualifierRecord(
                name=qualifier.get("name", ""),
                ui=qualifier.get("ui", ""),
                is_major=bool(qualifier.get("is_major", False)),
            )
            for qualifier in _json(qualifiers) or []
        ],
    )


def _text_id(value: int | str | None) -> str:
    return "" if value is None else str(value)


def _journal_record(row: dict[str, Any]) -> JournalRecord | None:
    if row["journal_id"] is None:
        return None
    return JournalRecord(
        title=row["journal__title"],
        iso_abbreviation=row["journal__iso_abbreviation"],
        issn=row["journal__issn"],
        eissn=row["journal__eissn"],
        nlm_id=row["journal__nlm_id"],
        publisher=row["journal__publisher"],
    )


def _publication_date(row: dict[str, Any]) -> PublicationDate:
    """pub_date holds only as much of the date as pub_date_precision says was given."""
    precision = row["pub_date_precision"]
    date = row["pub_date"]
    year = row["pub_year"] if row["pub_year"] is not None else (date.year if date else None)
    month = date.month if date and precision in ("month", "day") else None
    day = date.day if date and precision == "day" else None
    return PublicationDate(year=year, month=month, day=day, text=row["pub_date_text"])


def _work_record(edge: tuple) -> WorkRecord:
    """(owner id, edge raw_text, *_WORK_FIELDS of the other work) as a WorkRecord."""
    _, raw_text, authors, title, journal, year, volume, issue, pages, pmid, pmcid, doi = edge
    return WorkRecord(
        raw_text=raw_text,
        authors=authors,
        title=title,
        journal=journal,
        year=year,
        volume=volume,
        issue=issue,
        pages=pages,
        pmid=_text_id(pmid),
        pmcid=pmcid or "",
        doi=doi or "",
    )


def _appraisal_record(row: dict[str, Any], concepts: Iterable[tuple]) -> AppraisalRecord:
    def value(name: str) -> Any:
        return row[f"appraisal__{name}"]

    reported = {
        field: ReportedValue(
            state=ReportingState(value(f"{field}_state")),
            value="" if value(field) is None else str(value(field)),
        )
        for field in REPORTED_FIELDS
    }
    return AppraisalRecord(
        design=value("design"),
        **reported,
        main_result=value("main_result"),
        practice_relevance=value("practice_relevance"),
        risk_of_bias=value("risk_of_bias"),
        risk_of_bias_tool=value("risk_of_bias_tool"),
        certainty=value("certainty"),
        notes=value("notes"),
        concepts=[ConceptRecord(name=name, kind=kind) for _, name, kind in concepts],
    )
