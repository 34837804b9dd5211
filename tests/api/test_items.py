"""Limitations, research gaps and effect sizes as lists of their own."""

from __future__ import annotations

import pytest

from evidence.models import ConceptKind, ResearchGapCategory, StudyDesign
from tests.api.factories import full_study
from tests.factories import (
    AppraisalFactory,
    ConceptFactory,
    EffectSizeFactory,
    LimitationFactory,
    ResearchGapFactory,
    StudyFactory,
)

pytestmark = pytest.mark.django_db


def ids(api, path: str) -> list[int]:
    response = api.get(path)
    assert response.status_code == 200, response.json()
    return [item["id"] for item in response.json()["results"]]


def test_gaps_about_mechanisms_in_reviews_since_2020_is_one_request(api):
    review = StudyFactory(pub_year=2021)
    AppraisalFactory(study=review, design=StudyDesign.SYSTEMATIC_REVIEW)
    wanted = ResearchGapFactory(study=review, category=ResearchGapCategory.MECHANISM)
    ResearchGapFactory(study=review, category=ResearchGapCategory.POPULATION)
    old_review = StudyFactory(pub_year=2018)
    AppraisalFactory(study=old_review, design=StudyDesign.META_ANALYSIS)
    ResearchGapFactory(study=old_review, category=ResearchGapCategory.MECHANISM)
    trial = StudyFactory(pub_year=2022)
    AppraisalFactory(study=trial, design=StudyDesign.RCT)
    ResearchGapFactory(study=trial, category=ResearchGapCategory.MECHANISM)

    response = api.get(
        "/api/v1/research-gaps/?category=mechanism"
        "&design=systematic_review,meta_analysis,narrative_review&year_min=2020"
    )

    results = response.json()["results"]
    assert [gap["id"] for gap in results] == [wanted.id]
    assert results[0]["study_summary"] == {
        "id": review.id,
        "pmid": review.pmid,
        "doi": review.doi,
        "title": review.title,
        "pub_year": 2021,
        "journal": review.journal.title,
        "design": "systematic_review",
    }


def test_gap_filters(api):
    concept = ConceptFactory(name="Blood supply", kind=ConceptKind.MECHANISM)
    study = StudyFactory(
        pub_year=2020, review_status="reviewed", search_document="osteonecrosis of the femoral head"
    )
    AppraisalFactory(study=study).concepts.add(concept)
    gap = ResearchGapFactory(
        study=study,
        description="Vascular mechanisms are unclear.",
        future_direction="Perfusion imaging.",
    )
    other = ResearchGapFactory(
        study=StudyFactory(pub_year=2010, search_document="hip"),
        category=ResearchGapCategory.POPULATION,
        description="Children.",
    )
    base = "/api/v1/research-gaps/?"

    for matching, non_matching in [
        (f"study={study.id}", f"study={other.study_id}"),
        ("category=mechanism", "category=population"),
        (f"concept={concept.id}", "concept=pain"),
        ("concept_kind=mechanism", "concept_kind=topic"),
        ("year=2020", "year=2010"),
        ("year_max=2020&year_min=2015", "year_max=2015"),
        ("review_status=reviewed", "review_status=draft"),
        ("q=perfusion", "q=children"),
        ("study_q=femoral", "study_q=hip"),
    ]:
        assert ids(api, base + matching) == [gap.id], matching
        assert gap.id not in ids(api, base + non_matching), non_matching


def test_limitation_filters(api):
    limitation = LimitationFactory(
        category="heterogeneity", raised_by="reviewer", description="Mixed populations."
    )
    other = LimitationFactory(category="follow_up", raised_by="authors")
    base = "/api/v1/limitations/?"

    for matching, non_matching in [
        ("category=heterogeneity", "category=follow_up"),
        ("raised_by=reviewer", "raised_by=authors"),
        ("q=mixed", "q=single centre"),
        (f"study={limitation.study_id}", f"study={other.study_id}"),
    ]:
        assert ids(api, base + matching) == [limitation.id], matching
        assert limitation.id not in ids(api, base + non_matching), non_matching


def test_effect_size_filters(api):
    effect = EffectSizeFactory(measure="OR", certainty="moderate", outcome="Pain at 12 months")
    other = EffectSizeFactory(measure="MD", outcome="Harris hip score")
    base = "/api/v1/effect-sizes/?"

    for matching, non_matching in [
        ("measure=OR,RR", "measure=MD"),
        ("outcome_certainty=moderate", "outcome_certainty=low"),
        ("q=pain", "q=harris"),
        (f"study={effect.study_id}", f"study={other.study_id}"),
    ]:
        assert ids(api, base + matching) == [effect.id], matching
        assert effect.id not in ids(api, base + non_matching), non_matching


def test_bad_item_filter_values_are_400(api):
    for path, param in [
        ("/api/v1/research-gaps/?category=vibes", "category"),
        ("/api/v1/limitations/?raised_by=cat", "raised_by"),
        ("/api/v1/effect-sizes/?measure=XX", "measure"),
        ("/api/v1/limitations/?study=abc", "study"),
    ]:
        response = api.get(path)
        assert response.status_code == 400
        assert list(response.json()) == [param]


def test_items_default_to_newest_study_first(api):
    old = LimitationFactory(study=StudyFactory(pub_year=2001))
    new = LimitationFactory(study=StudyFactory(pub_year=2021))

    assert ids(api, "/api/v1/limitations/") == [new.id, old.id]
    assert ids(api, "/api/v1/limitations/?ordering=year") == [old.id, new.id]


def test_item_detail_has_an_etag_and_fields(api):
    gap = ResearchGapFactory()

    response = api.get(f"/api/v1/research-gaps/{gap.id}/?fields=id,study_summary.pmid")

    assert response.json() == {"id": gap.id, "study_summary": {"pmid": gap.study.pmid}}
    assert response["ETag"]


@pytest.mark.parametrize("n", [3, 30])
@pytest.mark.parametrize(
    "path", ["/api/v1/limitations/", "/api/v1/research-gaps/", "/api/v1/effect-sizes/"]
)
def test_item_lists_are_one_query(api, django_assert_num_queries, n, path):
    for _ in range(n):
        full_study()
    # 1. items with their study, its journal and appraisal
    with django_assert_num_queries(1):
        response = api.get(path + "?page_size=200")
    assert len(response.json()["results"]) == n
