"""Study rows back into StudyRecords: the exact inverse of what the import service stores.

Every export format reads these records, and EviDB JSON export followed by an import
into an empty database reproduces the data, so each field maps 1:1 onto the model field
the service fills (see evidence.services).
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import F, Prefetch, QuerySet

from evidence.importers.records import (
    AbstractSectionRecord,
    AppraisalRecord,
    AuthorRecord,
    ConceptRecord,
    EffectSizeRecord,
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
    Concept,
    EffectSize,
    Limitation,
    PublicationType,
    ResearchGap,
    Study,
    StudyMeshHeading,
    Work,
)
from evidence.models.appraisal import REPORTED_FIELDS

# Queries per chunk, whatever its size (tests pin it):
#   1. studies with journal, appraisal and work (joined)
#   2. authorships          3. publication types     4. MeSH headings + descriptor
#   5. appraisal concepts   6. effect sizes          7. limitations
#   8. research gaps        9. references (edges + cited work)
#  10. cited-by (edges + citing work)
QUERIES_PER_CHUNK = 10

# Only the search index reads these; they are the largest columns of a study.
_UNUSED_STUDY_FIELDS = ("search_document", "title_key")


def _chunk_queryset(queryset: QuerySet[Study]) -> QuerySet[Study]:
    return (
        queryset.select_related("journal", "appraisal", "work")
        .defer(*_UNUSED_STUDY_FIELDS)
        .prefetch_related(
            Prefetch("authorships", queryset=Authorship.objects.order_by("position")),
            Prefetch("publication_types", queryset=PublicationType.objects.order_by("name")),
            Prefetch(
                "mesh_headings",
                queryset=StudyMeshHeading.objects.select_related("descriptor").order_by(
                    "descriptor__name"
                ),
            ),
            Prefetch("appraisal__concepts", queryset=Concept.objects.order_by("kind", "name")),
            Prefetch("effect_sizes", queryset=EffectSize.objects.order_by("order", "id")),
            Prefetch("limitations", queryset=Limitation.objects.order_by("order", "id")),
            Prefetch("research_gaps", queryset=ResearchGap.objects.order_by("order", "id")),
            Prefetch(
                "work__outgoing",
                queryset=Citation.objects.select_related("cited").order_by("position", "id"),
            ),
            # Citing works by identifier, not by edge id: the order edges were created in
            # is not kept by a re-import, the identifiers are.
            Prefetch(
                "work__incoming",
                queryset=Citation.objects.select_related("citing").order_by(
                    F("citing__pmid").asc(nulls_last=True),
                    F("citing__doi").asc(nulls_last=True),
                    F("citing__pmcid").asc(nulls_last=True),
                    "raw_text",
                    "id",
                ),
            ),
        )
    )


def iter_study_records(
    queryset: QuerySet[Study], *, chunk_size: int = 500
) -> Iterator[StudyRecord]:
    """Yield one StudyRecord per study of ``queryset``, ``chunk_size`` studies at a time.

    Chunks are read by keyset pagination over id (``id > last id``), so each costs the
    same ``QUERIES_PER_CHUNK`` queries however deep the export goes, and only one chunk
    of rows is in memory at a time. Records come in id order; a sliced queryset (already
    limited to N rows in its own order) keeps its order instead, its ids read first.
    """
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    if queryset.query.is_sliced:
        yield from _iter_sliced(queryset, chunk_size=chunk_size)
        return
    # The caller's filters stay; its prefetches and only()/defer() (made for a list page,
    # say) would clash with the ones every record needs, so they are replaced.
    base = _chunk_queryset(queryset.order_by("id").prefetch_related(None).defer(None))
    last_id = 0
    while True:
        studies = list(base.filter(id__gt=last_id)[:chunk_size])
        for study in studies:
            yield study_to_record(study)
        if len(studies) < chunk_size:
            return
        last_id = studies[-1].id


def _iter_sliced(queryset: QuerySet[Study], *, chunk_size: int) -> Iterator[StudyRecord]:
    # A slice cannot be filtered further; its ids (one integer per row) are read once.
    ids = list(queryset.values_list("id", flat=True))
    base = _chunk_queryset(Study.objects.all())
    for start in range(0, len(ids), chunk_size):
        chunk_ids = ids[start : start + chunk_size]
        by_id = {study.id: study for study in base.filter(id__in=chunk_ids)}
        for study_id in chunk_ids:
            if study_id in by_id:
                yield study_to_record(by_id[study_id])


def study_to_record(study: Study) -> StudyRecord:
    """One prefetched study (see ``_chunk_queryset``) as the record the importer reads."""
    journal = study.journal
    work = _related_or_none(study, "work")
    return StudyRecord(
        location=SourceLocation(source="evidb", record=study.id),
        pmid=_text_id(study.pmid),
        doi=study.doi or "",
        pmcid=study.pmcid or "",
        title=study.title,
        abstract=study.abstract,
        abstract_sections=[
            AbstractSectionRecord(
                label=section.get("label", ""),
                category=section.get("category", ""),
                text=section.get("text", ""),
            )
            for section in study.abstract_sections or []
        ],
        language=study.language,
        journal=(
            JournalRecord(
                title=journal.title,
                iso_abbreviation=journal.iso_abbreviation,
                issn=journal.issn,
                eissn=journal.eissn,
                nlm_id=journal.nlm_id,
                publisher=journal.publisher,
            )
            if journal is not None
            else None
        ),
        volume=study.volume,
        issue=study.issue,
        pages=study.pages,
        pub_date=_publication_date(study),
        authors=[
            AuthorRecord(
                last_name=authorship.last_name,
                fore_name=authorship.fore_name,
                initials=authorship.initials,
                collective_name=authorship.collective_name,
                orcid=authorship.orcid,
                affiliations=list(authorship.affiliations or []),
            )
            for authorship in study.authorships.all()
        ],
        publication_types=[
            PublicationTypeRecord(name=ptype.name, ui=ptype.ui)
            for ptype in study.publication_types.all()
        ],
        mesh_headings=[
            MeshHeadingRecord(
                descriptor=heading.descriptor.name,
                ui=heading.descriptor.ui,
                is_major=heading.is_major,
                qualifiers=[
                    MeshQualifierRecord(
                        name=qualifier.get("name", ""),
                        ui=qualifier.get("ui", ""),
                        is_major=bool(qualifier.get("is_major", False)),
                    )
                    for qualifier in heading.qualifiers or []
                ],
            )
            for heading in study.mesh_headings.all()
        ],
        keywords=list(study.keywords or []),
        citation_count=study.citation_count,
        references=(
            [_work_record(edge.cited, raw_text=edge.raw_text) for edge in work.outgoing.all()]
            if work is not None
            else []
        ),
        cited_by=(
            [_work_record(edge.citing, raw_text=edge.raw_text) for edge in work.incoming.all()]
            if work is not None
            else []
        ),
        related_articles=[
            RelatedArticleRecord(
                relation=related.get("relation", ""),
                ref_source=related.get("ref_source", ""),
                pmid=_text_id(related.get("pmid")),
            )
            for related in study.related_articles or []
        ],
        appraisal=_appraisal_record(_related_or_none(study, "appraisal")),
        effect_sizes=[
            EffectSizeRecord(
                outcome=effect.outcome,
                measure=effect.measure,
                value=effect.value,
                ci_lower=effect.ci_lower,
                ci_upper=effect.ci_upper,
                ci_level=effect.ci_level,
                p_value=effect.p_value,
                n_intervention=effect.n_intervention,
                n_comparator=effect.n_comparator,
                timepoint=effect.timepoint,
                certainty=effect.certainty,
                note=effect.note,
            )
            for effect in study.effect_sizes.all()
        ],
        limitations=[
            LimitationRecord(
                description=limitation.description,
                category=limitation.category,
                raised_by=limitation.raised_by,
            )
            for limitation in study.limitations.all()
        ],
        research_gaps=[
            ResearchGapRecord(
                description=gap.description,
                category=gap.category,
                future_direction=gap.future_direction,
            )
            for gap in study.research_gaps.all()
        ],
        review_status=study.review_status,
    )


def _related_or_none(study: Study, name: str):
    """A reverse one-to-one (appraisal, work) that may be absent, without a query."""
    try:
        return getattr(study, name)
    except (Appraisal.DoesNotExist, Work.DoesNotExist):
        return None


def _text_id(value: int | str | None) -> str:
    return "" if value is None else str(value)


def _publication_date(study: Study) -> PublicationDate:
    """pub_date holds only as much of the date as pub_date_precision says was given."""
    precision = study.pub_date_precision
    date = study.pub_date
    year = study.pub_year if study.pub_year is not None else (date.year if date else None)
    month = date.month if date and precision in ("month", "day") else None
    day = date.day if date and precision == "day" else None
    return PublicationDate(year=year, month=month, day=day, text=study.pub_date_text)


def _work_record(work: Work, *, raw_text: str) -> WorkRecord:
    """A graph node as the record lists it; raw_text is the edge's, as the service
    stores each listed work's raw_text on its edge (both references and cited-by)."""
    return WorkRecord(
        raw_text=raw_text,
        authors=work.authors,
        title=work.title,
        journal=work.journal,
        year=work.year,
        volume=work.volume,
        issue=work.issue,
        pages=work.pages,
        pmid=_text_id(work.pmid),
        pmcid=work.pmcid or "",
        doi=work.doi or "",
    )


def _appraisal_record(appraisal: Appraisal | None) -> AppraisalRecord | None:
    if appraisal is None:
        return None
    reported: dict[str, ReportedValue] = {}
    for field in REPORTED_FIELDS:
        value = getattr(appraisal, field)
        reported[field] = ReportedValue(
            state=ReportingState(getattr(appraisal, f"{field}_state")),
            value="" if value is None else str(value),
        )
    return AppraisalRecord(
        design=appraisal.design,
        **reported,
        main_result=appraisal.main_result,
        practice_relevance=appraisal.practice_relevance,
        risk_of_bias=appraisal.risk_of_bias,
        risk_of_bias_tool=appraisal.risk_of_bias_tool,
        certainty=appraisal.certainty,
        notes=appraisal.notes,
        concepts=[
            ConceptRecord(name=concept.name, kind=concept.kind)
            for concept in appraisal.concepts.all()
        ],
    )
