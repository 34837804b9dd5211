"""Every study filter: one request that matches the target study, one that does not."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from evidence.models import (
    ConceptKind,
    LimitationCategory,
    ReportingState,
    ResearchGapCategory,
    Study,
    StudyDesign,
)
from tests.factories import (
    AppraisalFactory,
    AuthorFactory,
    AuthorshipFactory,
    CitationFactory,
    ConceptFactory,
    EffectSizeFactory,
    JournalFactory,
    LimitationFactory,
    MeshDescriptorFactory,
    PublicationTypeFactory,
    ResearchGapFactory,
    StudyFactory,
    StudyMeshHeadingFactory,
    WorkFactory,
)

pytestmark = pytest.mark.django_db

LIST = "/api/v1/studies/"


def ids(api, query: str) -> list[int]:
    response = api.get(f"{LIST}?{query}")
    assert response.status_code == 200, response.json()
    return [item["id"] for item in response.json()["results"]]


def check(api, target: Study, matching: str, non_matching: str) -> None:
    """``matching`` returns the target (and only it); ``non_matching`` does not."""
    assert ids(api, matching) == [target.id]
    assert target.id not in ids(api, non_matching)


@pytest.fixture
def decoy(db):
    """A second study that no matching request below should return."""
    return StudyFactory(
        pmid=11111111,
        doi="10.9999/decoy",
        pmcid=None,
        pub_year=1999,
        abstract="",
        journal=JournalFactory(title="Decoy Letters", issn="9999-9999"),
    )


def test_identifier_lists(api, decoy):
    target = StudyFactory(pmid=33081809, doi="10.1186/s12967-020-02592-4", pmcid="PMC7574435")
    other = StudyFactory(pmid=2, doi="10.1000/two,with-comma")

    check(api, target, "pmid=33081809", "pmid=1,3")
    assert sorted(ids(api, "pmid=33081809,PMID:2")) == sorted([target.id, other.id])
    check(api, target, "doi=https://doi.org/10.1186/S12967-020-02592-4", "doi=10.1186/other")
    # A comma inside a DOI is kept; one before "10." separates two DOIs.
    assert sorted(ids(api, "doi=10.1000/two,with-comma,10.1186/s12967-020-02592-4")) == sorted(
        [target.id, other.id]
    )
    check(api, target, "pmcid=7574435", "pmcid=PMC1")
    check(api, target, f"id={target.id}", f"id={decoy.id}")


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("pmid=12x", "pmid"),
        ("pmid=0", "pmid"),
        ("doi=notadoi", "doi"),
        ("pmcid=PMCX", "pmcid"),
        ("id=-1", "id"),
        ("id=99999999999999999999999", "id"),
        ("year=abc", "year"),
        ("year_min=99999", "year_min"),
        ("design=telepathy", "design"),
        ("safety=maybe", "safety"),
        ("has_doi=perhaps", "has_doi"),
        ("cites=pmid:x", "cites"),
        ("cited_by=banana", "cited_by"),
        ("journal_issn=12", "journal_issn"),
        ("orcid=123", "orcid"),
        ("updated_after=yesterday", "updated_after"),
        ("desing=rct", "desing"),
    ],
)
def test_bad_filter_values_are_400_naming_the_parameter(api, query, param):
    response = api.get(f"{LIST}?{query}")

    assert response.status_code == 400
    assert list(response.json()) == [param]


def test_too_many_values_is_400(api):
    response = api.get(f"{LIST}?pmid=" + ",".join(str(n) for n in range(1, 600)))

    assert response.status_code == 400
    assert "At most 500" in response.json()["pmid"][0]


def test_requests_with_the_same_filters_do_not_share_values_or_errors(api, decoy):
    # One form class serves every request naming the same filters; each request
    # validates its own values.
    target = StudyFactory(pub_year=2021)
    AppraisalFactory(study=target, design=StudyDesign.COHORT)

    assert ids(api, "design=cohort&year_min=2020") == [target.id]
    bad = api.get(f"{LIST}?design=nope&year_min=2020")
    assert (bad.status_code, list(bad.json())) == (400, ["design"])
    assert ids(api, "design=rct&year_min=2020") == []
    assert ids(api, "design=cohort&year_min=2020") == [target.id]


def test_year_range(api, decoy):
    target = StudyFactory(pub_year=2021)

    check(api, target, "year_min=2020", "year_min=2022")
    check(api, target, "year_min=2000&year_max=2021", "year_max=2020")
    check(api, target, "year=2021", "year=2020")


def test_journal(api, decoy):
    journal = JournalFactory(
        title="Journal of Translational Medicine", iso_abbreviation="J Transl Med", issn="1479-5876"
    )
    target = StudyFactory(journal=journal)

    check(api, target, f"journal={journal.id}", f"journal={decoy.journal_id}")
    check(api, target, "journal_issn=1479-5876", "journal_issn=0028-4793")
    check(api, target, "journal_title=transl med", "journal_title=lancet")


def test_author(api, decoy):
    target = StudyFactory()
    author = AuthorFactory(last_name="Smith", initials="JA", orcid="0000-0002-1825-0097")
    AuthorshipFactory(study=target, author=author, position=1, orcid="0000-0002-1825-0097")
    AuthorshipFactory(
        study=decoy, author=AuthorFactory(last_name="Smithers", initials="J"), position=1
    )

    check(api, target, f"author={author.id}", f"author={author.id + 1000}")
    check(api, target, "author_name=smith", "author_name=jones")
    check(api, target, "author_name=Smith J", "author_name=Smith B")
    check(api, target, "orcid=https://orcid.org/0000-0002-1825-0097", "orcid=0000-0001-5109-3700")


def test_mesh_and_publication_type(api, decoy):
    target = StudyFactory()
    StudyMeshHeadingFactory(
        study=target, descriptor=MeshDescriptorFactory(name="Femur Head Necrosis", ui="D005271")
    )
    StudyMeshHeadingFactory(
        study=decoy, descriptor=MeshDescriptorFactory(name="Humans", ui="D006801"), is_major=True
    )
    target.publication_types.add(PublicationTypeFactory(name="Systematic Review"))

    check(api, target, "mesh=femur head necrosis", "mesh=Humans")
    check(api, target, "mesh=D005271", "mesh=D000001")
    assert ids(api, "mesh=Humans&mesh_major=true") == [decoy.id]
    assert ids(api, "mesh=Femur Head Necrosis&mesh_major=true") == []
    check(api, target, "publication_type=systematic review", "publication_type=Editorial")


def test_appraisal_fields(api, decoy):
    target = StudyFactory()
    AppraisalFactory(
        study=target,
        design=StudyDesign.META_ANALYSIS,
        risk_of_bias="high",
        risk_of_bias_tool="amstar2",
        certainty="very_low",
    )
    AppraisalFactory(study=decoy, design=StudyDesign.RCT)

    check(api, target, "design=meta_analysis,cohort", "design=rct")
    check(api, target, "risk_of_bias=high", "risk_of_bias=low,some_concerns")
    check(api, target, "certainty=very_low", "certainty=high")


def test_review_status(api, decoy):
    target = StudyFactory(review_status="reviewed")

    check(api, target, "review_status=reviewed,excluded", "review_status=draft")


def test_reporting_state_and_not_curated_without_appraisal(api, decoy):
    target = StudyFactory()
    AppraisalFactory(study=target, safety_state=ReportingState.NOT_REPORTED)
    unappraised = StudyFactory()

    check(api, target, "safety=not_reported", "safety=reported")
    # No appraisal row: every field counts as not yet curated.
    assert set(ids(api, "safety=not_curated")) == {unappraised.id, decoy.id}
    assert set(ids(api, "population=not_curated")) == {unappraised.id, decoy.id, target.id}


def test_concept(api, decoy):
    concept = ConceptFactory(name="Blood supply", kind=ConceptKind.MECHANISM)
    target = StudyFactory()
    AppraisalFactory(study=target).concepts.add(concept)
    AppraisalFactory(study=decoy).concepts.add(ConceptFactory(name="Pain", kind=ConceptKind.TOPIC))

    check(api, target, f"concept={concept.id}", f"concept={concept.id + 1000}")
    check(api, target, "concept=blood supply", "concept=bone marrow")
    check(api, target, "concept_kind=mechanism", "concept_kind=condition")


def test_limitation_and_gap_categories(api, decoy):
    target = StudyFactory()
    LimitationFactory(study=target, category=LimitationCategory.HETEROGENEITY)
    ResearchGapFactory(study=target, category=ResearchGapCategory.MECHANISM)
    LimitationFactory(study=target, category=LimitationCategory.HETEROGENEITY)  # listed once

    check(api, target, "limitation_category=heterogeneity", "limitation_category=follow_up")
    check(api, target, "gap_category=mechanism,population", "gap_category=methodology")


def test_presence_flags(api, decoy):
    target = StudyFactory(pmcid="PMC1", abstract="Some abstract.")
    EffectSizeFactory(study=target)
    AppraisalFactory(study=target)

    check(api, target, "has_effect_sizes=true", "has_effect_sizes=false")
    check(api, target, "has_appraisal=true", "has_appraisal=false")
    check(api, target, "has_pmcid=true", "has_pmcid=false")
    check(api, target, "has_abstract=1", "has_abstract=0")
    no_doi = StudyFactory(doi=None)
    assert ids(api, "has_doi=false") == [no_doi.id]
    assert no_doi.id not in ids(api, "has_doi=true")
    no_pmid = StudyFactory(pmid=None)
    assert ids(api, "has_pmid=false") == [no_pmid.id]


def test_is_retracted(api, decoy):
    target = StudyFactory(is_retracted=True)

    check(api, target, "is_retracted=true", "is_retracted=false")


def test_cites_and_cited_by(api, decoy):
    target = StudyFactory(pmid=33081809)
    cited_study = StudyFactory(pmid=22222222)
    target_node = WorkFactory(study=target, pmid=33081809)
    cited_node = WorkFactory(study=cited_study, pmid=22222222)
    outside = WorkFactory(pmid=44444444)  # a cited work that is not a study here
    CitationFactory(citing=target_node, cited=cited_node)
    CitationFactory(citing=target_node, cited=outside)

    check(api, target, f"cites={cited_study.id}", f"cites={decoy.id}")
    check(api, target, "cites=pmid:44444444", "cites=pmid:55555555")
    check(api, cited_study, "cited_by=pmid:33081809", f"cited_by={cited_study.id}")


def test_updated_after(api, decoy):
    Study.objects.filter(pk=decoy.pk).update(updated_at=timezone.now() - datetime.timedelta(days=3))
    target = StudyFactory()
    yesterday = (timezone.now() - datetime.timedelta(days=1)).isoformat()
    tomorrow = (timezone.now() + datetime.timedelta(days=1)).isoformat()

    check(
        api,
        target,
        f"updated_after={yesterday.replace('+', '%2B')}",
        f"updated_after={tomorrow.replace('+', '%2B')}",
    )


def test_filters_combine(api, decoy):
    """'Reviews since 2020 with a gap about mechanisms' is one request."""
    target = StudyFactory(pub_year=2021)
    AppraisalFactory(study=target, design=StudyDesign.SYSTEMATIC_REVIEW)
    ResearchGapFactory(study=target, category=ResearchGapCategory.MECHANISM)
    old = StudyFactory(pub_year=2015)
    AppraisalFactory(study=old, design=StudyDesign.SYSTEMATIC_REVIEW)
    ResearchGapFactory(study=old, category=ResearchGapCategory.MECHANISM)

    query = "design=systematic_review,meta_analysis&year_min=2020&gap_category=mechanism"
    assert ids(api, query) == [target.id]


def test_a_percent_sign_in_a_bad_value_is_still_a_400(api):
    response = api.get(f"{LIST}?pmid=12%25x&journal_issn=50%25")

    assert response.status_code == 400
    assert "12%x" in response.json()["pmid"][0]
