"""iter_study_records: Study rows back into StudyRecords, chunk by chunk."""

from __future__ import annotations

import datetime

import pytest
from django.db.models import Prefetch

from evidence import models
from evidence.exporters import EXPORT_FORMATS, iter_study_records, stream_export
from evidence.exporters.study_records import QUERIES_PER_CHUNK
from evidence.importers.records import (
    ConceptRecord,
    EffectSizeRecord,
    GrantRecord,
    LimitationRecord,
    MeshQualifierRecord,
    PublicationDate,
    RelatedArticleRecord,
    ReportedValue,
    ReportingState,
    ResearchGapRecord,
    WorkRecord,
)
from tests import factories

pytestmark = pytest.mark.django_db


def make_full_study(**kwargs) -> models.Study:
    """A study with every related row iter_study_records reads, so every query runs."""
    study = factories.StudyFactory(
        pub_date=datetime.date(2020, 10, 1),
        pub_date_precision="month",
        pub_date_text="2020 Oct",
        keywords=["osteonecrosis", "stem cells"],
        abstract_sections=[{"label": "METHODS", "category": "METHODS", "text": "We searched."}],
        related_articles=[{"relation": "ErratumIn", "ref_source": "J X 2021;1:2", "pmid": 123}],
        grants=[{"agency": "Wellcome Trust", "grant_id": "089176", "country": "United Kingdom"}],
        funding_statement="Funded by the Wellcome Trust.",
        conflict_of_interest="None declared.",
        citation_count=7,
        **kwargs,
    )
    # Created out of order: the record lists them by position.
    factories.AuthorshipFactory(study=study, position=2, last_name="Second")
    factories.AuthorshipFactory(
        study=study, position=1, last_name="First", orcid="0000-0002-1825-0097"
    )
    study.publication_types.add(factories.PublicationTypeFactory())
    factories.StudyMeshHeadingFactory(
        study=study,
        descriptor=factories.MeshDescriptorFactory(name="Femur Head Necrosis", ui="D005271"),
        is_major=True,
        qualifiers=[{"name": "therapy", "ui": "Q000628", "is_major": True}],
    )
    appraisal = factories.AppraisalFactory(
        study=study,
        sample_size_state=models.ReportingState.REPORTED,
        sample_size=120,
        safety_state=models.ReportingState.NOT_REPORTED,
        population_state=models.ReportingState.REPORTED,
        population="Adults",
    )
    appraisal.concepts.add(factories.ConceptFactory(name="HIF-1 alpha/VEGF"))
    factories.EffectSizeFactory(study=study, order=1, outcome="Pain", n_intervention=40)
    factories.EffectSizeFactory(study=study, order=0, outcome="Collapse")
    factories.LimitationFactory(study=study)
    factories.ResearchGapFactory(study=study)
    work = factories.WorkFactory(study=study, pmid=study.pmid, doi=study.doi, title="")
    factories.CitationFactory(citing=work, position=2, raw_text="Second ref.")
    factories.CitationFactory(citing=work, position=1, raw_text="First ref.")
    factories.CitationFactory(
        cited=work, citing=factories.WorkFactory(raw_text="Node text"), raw_text="A citing paper"
    )
    return study


def test_every_field_maps_back():
    study = make_full_study()
    [record] = list(iter_study_records(models.Study.objects.all()))

    assert record.pmid == str(study.pmid)
    assert record.doi == study.doi
    assert record.title == study.title
    assert record.journal.title == study.journal.title
    assert record.journal.issn == study.journal.issn
    assert record.pub_date == PublicationDate(year=2020, month=10, day=None, text="2020 Oct")
    assert record.keywords == ["osteonecrosis", "stem cells"]
    assert record.abstract_sections[0].label == "METHODS"
    assert record.related_articles == [RelatedArticleRecord("ErratumIn", "J X 2021;1:2", "123")]
    # A stored grant without a key (curated by hand) reads as empty, not as missing.
    assert record.grants == [GrantRecord("Wellcome Trust", "089176", "", "United Kingdom")]
    assert record.funding_statement == "Funded by the Wellcome Trust."
    assert record.conflict_of_interest == "None declared."
    assert record.citation_count == 7
    assert record.review_status == "draft"
    assert [author.last_name for author in record.authors] == ["First", "Second"]
    assert record.authors[0].orcid == "0000-0002-1825-0097"
    assert record.authors[0].affiliations == ["Department of Orthopaedics, Example University"]
    assert [ptype.name for ptype in record.publication_types] == ["Journal Article"]
    [heading] = record.mesh_headings
    assert (heading.descriptor, heading.ui, heading.is_major) == (
        "Femur Head Necrosis",
        "D005271",
        True,
    )
    assert heading.qualifiers == [MeshQualifierRecord("therapy", "Q000628", True)]

    appraisal = record.appraisal
    assert appraisal.design == "rct"
    assert appraisal.sample_size == ReportedValue(ReportingState.REPORTED, "120")
    assert appraisal.population == ReportedValue(ReportingState.REPORTED, "Adults")
    assert appraisal.safety == ReportedValue(ReportingState.NOT_REPORTED, "")
    assert appraisal.outcomes == ReportedValue(ReportingState.NOT_CURATED, "")
    assert appraisal.concepts == [ConceptRecord("HIF-1 alpha/VEGF", "mechanism")]
    assert [effect.outcome for effect in record.effect_sizes] == ["Collapse", "Pain"]
    assert record.effect_sizes[1] == EffectSizeRecord(
        outcome="Pain",
        measure="RR",
        value=0.6,
        ci_lower=0.4,
        ci_upper=0.9,
        ci_level=95,
        n_intervention=40,
    )
    assert record.limitations == [
        LimitationRecord("Small sample from a single centre.", "sample_size", "authors")
    ]
    assert record.research_gaps == [
        ResearchGapRecord(
            "Interaction between pathological axes is unexplored.",
            "mechanism",
            "Study the axes jointly in multi-omics designs.",
        )
    ]
    # References in reference-list order, each with the text of this study's edge.
    assert [ref.raw_text for ref in record.references] == ["First ref.", "Second ref."]
    first_cited = models.Citation.objects.get(raw_text="First ref.").cited
    assert record.references[0] == WorkRecord(
        raw_text="First ref.", title=first_cited.title, year=2015, pmid=str(first_cited.pmid)
    )
    assert [work.raw_text for work in record.cited_by] == ["A citing paper"]


def test_study_without_relations_gives_empty_record_parts():
    factories.StudyFactory(journal=None, pub_year=None, pub_date_precision="")
    [record] = list(iter_study_records(models.Study.objects.all()))
    assert record.journal is None
    assert record.appraisal is None
    assert record.references == record.cited_by == record.authors == []
    assert record.pub_date == PublicationDate()


def test_year_only_date():
    factories.StudyFactory(pub_date=datetime.date(2019, 1, 1), pub_year=2019)
    [record] = list(iter_study_records(models.Study.objects.all()))
    assert record.pub_date == PublicationDate(year=2019)


def test_filters_are_kept_and_records_come_in_id_order():
    studies = [
        factories.StudyFactory(review_status="reviewed"),
        factories.StudyFactory(review_status="draft"),
        factories.StudyFactory(review_status="reviewed", pub_year=1999),
    ]
    queryset = models.Study.objects.filter(review_status="reviewed").order_by("pub_year")
    pmids = [record.pmid for record in iter_study_records(queryset, chunk_size=1)]
    assert pmids == [str(studies[0].pmid), str(studies[2].pmid)]


def test_sliced_queryset_keeps_its_order():
    older = factories.StudyFactory(pub_year=2001)
    newer = factories.StudyFactory(pub_year=2022)
    factories.StudyFactory(pub_year=1990)
    queryset = models.Study.objects.order_by("-pub_year")[:2]
    pmids = [record.pmid for record in iter_study_records(queryset, chunk_size=1)]
    assert pmids == [str(newer.pmid), str(older.pmid)]


def test_callers_prefetches_and_deferrals_do_not_clash():
    make_full_study()
    queryset = (
        models.Study.objects.only("id", "title")
        .prefetch_related(Prefetch("authorships", queryset=models.Authorship.objects.none()))
        .filter(pub_year=2020)
    )
    [record] = list(iter_study_records(queryset))
    assert [author.last_name for author in record.authors] == ["First", "Second"]
    assert record.journal is not None


def test_chunk_size_must_be_positive():
    with pytest.raises(ValueError, match="chunk_size"):
        list(iter_study_records(models.Study.objects.all(), chunk_size=0))


@pytest.mark.parametrize("count", [3, 30])
def test_one_chunk_costs_a_fixed_number_of_queries(count, django_assert_num_queries):
    for _ in range(count):
        make_full_study()
    # The chunk's studies (journal and appraisal joined), then one each:
    # authorships, publication types, MeSH headings, concepts, effect sizes,
    # limitations, research gaps, graph nodes, references, cited-by. None per study.
    with django_assert_num_queries(QUERIES_PER_CHUNK):
        records = list(iter_study_records(models.Study.objects.all(), chunk_size=50))
    assert len(records) == count


def test_queries_grow_with_chunks_not_with_studies(django_assert_num_queries):
    for _ in range(30):
        make_full_study()
    # Three full chunks, then one query that finds nothing more.
    with django_assert_num_queries(3 * QUERIES_PER_CHUNK + 1):
        records = list(iter_study_records(models.Study.objects.all(), chunk_size=10))
    assert len({record.pmid for record in records}) == 30


@pytest.mark.parametrize(
    ("format_name", "queries"),
    [
        # studies, authorships, publication types, MeSH headings
        ("ris", 4),
        ("bibtex", 4),
        ("nbib", 4),
        ("csl-json", 4),
        # ... and appraisal concepts
        ("csv", 5),
        ("evidb-json", QUERIES_PER_CHUNK),
    ],
)
def test_an_export_reads_only_what_its_format_prints(
    format_name, queries, django_assert_num_queries
):
    for _ in range(3):
        make_full_study()
    with django_assert_num_queries(queries):
        text = "".join(stream_export(format_name, iter_study_records(models.Study.objects.all())))
    assert text


def test_without_the_detail_parts_records_leave_out_what_citation_formats_skip():
    make_full_study()
    make_full_study(abstract="")
    stream = iter_study_records(models.Study.objects.order_by("id"))
    stream.only_parts([])

    with_abstract, without_abstract = list(stream)

    assert [author.orcid for author in with_abstract.authors] == ["", ""]
    assert all(author.affiliations == [] for author in with_abstract.authors)
    assert with_abstract.mesh_headings[0].qualifiers == []
    assert with_abstract.mesh_headings[0].descriptor == "Femur Head Necrosis"
    # Sections are read where they stand in for a missing abstract.
    assert with_abstract.abstract_sections == []
    assert [section.text for section in without_abstract.abstract_sections] == ["We searched."]


@pytest.mark.parametrize("format_name", list(EXPORT_FORMATS))
def test_a_format_reading_only_its_parts_prints_what_whole_records_print(format_name):
    """Guards the parts each format reads: a writer printing a detail it does not read
    would differ here."""
    for abstract in ("An abstract.", ""):
        study = make_full_study(abstract=abstract)
        factories.AuthorshipFactory(
            study=study, position=3, affiliations=["Dept A, Univ B", "Hospital C"]
        )
    queryset = models.Study.objects.order_by("id")
    whole = list(iter_study_records(queryset))

    streamed = "".join(stream_export(format_name, iter_study_records(queryset)))

    assert streamed == "".join(EXPORT_FORMATS[format_name].write(whole))


def test_parts_cannot_change_once_reading_began():
    make_full_study()
    stream = iter_study_records(models.Study.objects.all())
    next(stream)
    with pytest.raises(RuntimeError):
        stream.only_parts([])
