"""group_by: counts over the filtered set, by one or two fields."""

from __future__ import annotations

import pytest

from evidence.models import ResearchGapCategory, StudyDesign
from tests.api.factories import full_study
from tests.factories import (
    AppraisalFactory,
    ConceptFactory,
    JournalFactory,
    ResearchGapFactory,
    StudyFactory,
)

pytestmark = pytest.mark.django_db


def facets(api, query: str) -> dict:
    response = api.get(f"/api/v1/studies/?{query}")
    assert response.status_code == 200, response.json()
    return response.json()


def test_group_by_design_and_year_over_the_filtered_set(api):
    for design, year in [("rct", 2020), ("rct", 2020), ("rct", 2021), ("cohort", 2020)]:
        AppraisalFactory(study=StudyFactory(pub_year=year), design=design)
    StudyFactory(pub_year=2020)  # not appraised: design null
    AppraisalFactory(study=StudyFactory(pub_year=2005), design="rct")  # filtered out

    body = facets(api, "group_by=design,pub_year&year_min=2010")

    assert body["group_by"] == ["design", "pub_year"]
    assert body["truncated"] is False
    assert sorted(body["results"], key=lambda b: (str(b["design"]), b["pub_year"])) == [
        {"design": None, "pub_year": 2020, "count": 1},
        {"design": "cohort", "pub_year": 2020, "count": 1},
        {"design": "rct", "pub_year": 2020, "count": 2},
        {"design": "rct", "pub_year": 2021, "count": 1},
    ]
    assert body["results"][0] == {"design": "rct", "pub_year": 2020, "count": 2}  # largest first


def test_blank_and_missing_design_are_one_bucket(api):
    AppraisalFactory(study=StudyFactory(), design="")
    StudyFactory()

    assert facets(api, "group_by=design")["results"] == [{"design": None, "count": 2}]


def test_gap_category_by_concept_counts_each_study_once_per_bucket(api):
    mechanism = ConceptFactory(name="Blood supply")
    for _ in range(2):
        study = StudyFactory()
        AppraisalFactory(study=study).concepts.add(mechanism)
        ResearchGapFactory(study=study, category=ResearchGapCategory.MECHANISM)
        ResearchGapFactory(study=study, category=ResearchGapCategory.MECHANISM)

    body = facets(api, "group_by=gap_category,concept")

    assert body["results"] == [
        {
            "gap_category": "mechanism",
            "concept": mechanism.id,
            "concept_label": "Blood supply",
            "count": 2,
        }
    ]


def test_journal_facet_has_a_label(api):
    journal = JournalFactory(title="Bone Research")
    StudyFactory(journal=journal)
    StudyFactory(journal=journal)

    assert facets(api, "group_by=journal")["results"] == [
        {"journal": journal.id, "journal_label": "Bone Research", "count": 2}
    ]


def test_facets_respect_full_text_search(api):
    StudyFactory(search_document="alpha", review_status="reviewed")
    StudyFactory(search_document="beta", review_status="draft")

    assert facets(api, "group_by=review_status&q=alpha")["results"] == [
        {"review_status": "reviewed", "count": 1}
    ]


@pytest.mark.parametrize(
    "group_by", ["nope", "design,nope", "design,pub_year,journal", "design,design", ""]
)
def test_bad_group_by_is_400(api, group_by):
    response = api.get(f"/api/v1/studies/?group_by={group_by}")

    assert response.status_code == 400
    assert "group_by" in response.json()


def test_every_study_facet_works(api):
    full_study()
    for name in [
        "design",
        "pub_year",
        "review_status",
        "certainty",
        "risk_of_bias",
        "journal",
        "concept",
        "gap_category",
        "limitation_category",
        "publication_type",
        "mesh",
    ]:
        results = facets(api, f"group_by={name}")["results"]
        assert sum(bucket["count"] for bucket in results) >= 1, name
    mesh = facets(api, "group_by=mesh")["results"]
    assert {b["mesh"] for b in mesh} == {"Femur Head Necrosis", "Humans"}


def test_research_gap_list_groups_gaps(api):
    study = StudyFactory(pub_year=2021)
    AppraisalFactory(study=study, design=StudyDesign.SYSTEMATIC_REVIEW)
    ResearchGapFactory(study=study, category=ResearchGapCategory.MECHANISM)
    ResearchGapFactory(study=study, category=ResearchGapCategory.MECHANISM)
    ResearchGapFactory(study=study, category=ResearchGapCategory.POPULATION)

    body = api.get("/api/v1/research-gaps/?group_by=category,design").json()

    assert body["results"] == [
        {"category": "mechanism", "design": "systematic_review", "count": 2},
        {"category": "population", "design": "systematic_review", "count": 1},
    ]


@pytest.mark.parametrize("n", [3, 30])
def test_facets_are_one_query(api, django_assert_num_queries, n):
    for _ in range(n):
        full_study()
    with django_assert_num_queries(1):
        body = facets(api, "group_by=design,mesh")
    assert sum(b["count"] for b in body["results"]) == 2 * n
