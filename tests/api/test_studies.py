"""Studies: lean list, rich detail, lookups, pagination, ordering, sparse fieldsets, ETag."""

from __future__ import annotations

import datetime

import pytest

from api.renderers import ORJSONRenderer
from api.serializers import StudyDetailSerializer, represent
from evidence import selectors
from evidence.models import Citation, ReportingState, Study, StudyDesign
from tests.api.factories import full_study
from tests.factories import (
    AppraisalFactory,
    EffectSizeFactory,
    JournalFactory,
    StudyFactory,
)

pytestmark = pytest.mark.django_db

LIST = "/api/v1/studies/"


def ids(response) -> list[int]:
    return [item["id"] for item in response.json()["results"]]


def test_list_item_is_lean_with_journal_title_design_and_certainty(api):
    study = StudyFactory(
        pmid=33081809,
        doi="10.1186/s12967-020-02592-4",
        pmcid="PMC7574435",
        journal=JournalFactory(title="Journal of Translational Medicine"),
        pub_year=2020,
    )
    AppraisalFactory(study=study, design=StudyDesign.SYSTEMATIC_REVIEW, certainty="low")

    response = api.get(LIST)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json()["results"] == [
        {
            "id": study.id,
            "pmid": 33081809,
            "doi": "10.1186/s12967-020-02592-4",
            "pmcid": "PMC7574435",
            "title": study.title,
            "pub_year": 2020,
            "journal": "Journal of Translational Medicine",
            "design": "systematic_review",
            "review_status": "draft",
            "certainty": "low",
        }
    ]


def test_list_item_without_appraisal_or_journal_has_nulls(api):
    StudyFactory(journal=None)

    item = api.get(LIST).json()["results"][0]

    assert (item["journal"], item["design"], item["certainty"]) == (None, None, None)


def test_detail_has_everything(api):
    study = full_study(
        references=3,
        citing=2,
        abstract_sections=[{"label": "BACKGROUND", "category": "BACKGROUND", "text": "Why."}],
    )
    appraisal = study.appraisal
    appraisal.safety_state = ReportingState.NOT_REPORTED
    appraisal.sample_size_state = ReportingState.REPORTED
    appraisal.sample_size = 120
    appraisal.save()

    response = api.get(f"{LIST}{study.id}/")

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == study.id
    assert body["abstract_sections"] == [
        {"label": "BACKGROUND", "category": "BACKGROUND", "text": "Why."}
    ]
    assert [a["position"] for a in body["authors"]] == [1, 2, 3]
    assert set(body["authors"][0]) == {
        "author_id",
        "position",
        "last_name",
        "fore_name",
        "initials",
        "collective_name",
        "orcid",
        "affiliations",
    }
    assert body["authors"][0]["affiliations"] == ["Department of Orthopaedics, Example University"]
    assert body["publication_types"] == ["Journal Article"]
    assert [m["descriptor"] for m in body["mesh_terms"]] == ["Femur Head Necrosis", "Humans"]
    assert body["mesh_terms"][0]["is_major"] is True
    assert body["appraisal"]["design"] == "rct"
    assert body["appraisal"]["safety"] == {"state": "not_reported", "value": None}
    assert body["appraisal"]["sample_size"] == {"state": "reported", "value": 120}
    assert body["appraisal"]["population"] == {"state": "not_curated", "value": None}
    assert body["appraisal"]["concepts"][0]["name"] == "HIF-1α/VEGF"
    assert body["effect_sizes"][0]["measure"] == "RR"
    assert body["effect_sizes"][0]["ci_upper"] == 0.9
    assert body["limitations"][0]["category"] == "sample_size"
    assert body["research_gaps"][0]["future_direction"].startswith("Study the axes")
    assert (body["references_count"], body["cited_by_count"]) == (3, 2)
    assert body["journal_info"]["title"] == study.journal.title


def test_detail_of_unappraised_study_has_null_appraisal(api):
    study = StudyFactory()

    body = api.get(f"{LIST}{study.id}/").json()

    assert body["appraisal"] is None
    assert (body["design"], body["references_count"], body["cited_by_count"]) == (None, 0, 0)


def serialized_detail(study_id: int) -> bytes:
    """The detail as StudyDetailSerializer renders the Study instance, read with the ORM."""
    study = (
        Study.objects.select_related("journal", "appraisal")
        .prefetch_related(
            "authorships",
            "publication_types",
            "mesh_headings__descriptor",
            "appraisal__concepts",
            "effect_sizes",
            "limitations",
            "research_gaps",
        )
        .get(pk=study_id)
    )
    study.references_count = Citation.objects.filter(citing__study=study).count()
    study.cited_by_count = Citation.objects.filter(cited__study=study).count()
    return ORJSONRenderer().render(represent(StudyDetailSerializer, study))


def odd_study() -> Study:
    """A study whose values exercise every formatting rule of the detail."""
    study = full_study(
        references=2,
        citing=3,
        abstract_sections=[
            {"label": "METHODS", "category": "METHODS", "text": "How."},
            {"text": "No label.", "extra": "dropped"},
            {"label": None, "text": 7},
            "not an object",
        ],
        keywords=["necrosis", 2020, None],
        related_articles=[{"relation": "CommentIn", "pmid": 123}, {"ref_source": "x"}],
        grants=[{"agency": "NCI NIH HHS", "grant_id": 123, "bogus": 1}, {"country": "UK"}],
        funding_statement="Funded by X.",
        conflict_of_interest="None.",
        pub_date=datetime.date(2020, 3, 1),
        pub_date_precision="month",
        imported_at=datetime.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=datetime.UTC),
        is_retracted=True,
        citation_count=0,
    )
    appraisal = study.appraisal
    appraisal.sample_size_state = ReportingState.REPORTED
    appraisal.sample_size = 0
    appraisal.safety_state = ReportingState.REPORTED
    appraisal.safety = "No adverse events."
    appraisal.risk_of_bias = "low"
    appraisal.risk_of_bias_tool = "rob2"
    appraisal.certainty = "moderate"
    appraisal.save()
    EffectSizeFactory(study=study, certainty="low", order=1, n_intervention=40, p_value=0.03)
    return study


@pytest.mark.parametrize(
    "make",
    [
        odd_study,
        lambda: full_study(),
        lambda: StudyFactory(journal=None, pub_date=None, pub_year=None),
        lambda: AppraisalFactory(design="", study=StudyFactory()).study,
    ],
    ids=["odd values", "full", "bare", "blank appraisal"],
)
def test_detail_is_what_the_serializer_gives_byte_for_byte(api, make):
    study = make()

    response = api.get(f"{LIST}{study.id}/")

    assert response.content == serialized_detail(study.id)


def test_detail_shows_funding_and_declared_interests(api):
    study = StudyFactory(
        grants=[{"agency": "Wellcome Trust", "grant_id": "089176", "country": "United Kingdom"}],
        conflict_of_interest="None declared.",
    )

    body = api.get(f"{LIST}{study.id}/").json()

    assert body["grants"] == [
        {
            "agency": "Wellcome Trust",
            "grant_id": "089176",
            "acronym": "",
            "country": "United Kingdom",
        }
    ]
    assert (body["funding_statement"], body["conflict_of_interest"]) == ("", "None declared.")


def test_list_with_every_detail_field_gives_the_details(api):
    studies = [odd_study(), full_study(), StudyFactory(journal=None)]
    fields = ",".join(api.get(f"{LIST}{studies[0].id}/").json())

    items = api.get(f"{LIST}?ordering=id&fields={fields}").json()["results"]

    assert items == [api.get(f"{LIST}{study.id}/").json() for study in studies]


@pytest.mark.parametrize(
    "lookup", ["pmid:33081809", "PMID:0033081809", "pmcid:PMC7574435", "pmcid:7574435"]
)
def test_detail_by_identifier_in_the_id_slot(api, lookup):
    study = StudyFactory(pmid=33081809, pmcid="PMC7574435")
    StudyFactory()

    response = api.get(f"{LIST}{lookup}/")

    assert response.status_code == 200
    assert response.json()["id"] == study.id


@pytest.mark.parametrize(
    "lookup", ["pmid:abc", "pmcid:xyz", "doi:10.1000", "abc", "99999999999999999999999"]
)
def test_malformed_lookup_is_400_naming_id(api, lookup):
    StudyFactory()

    response = api.get(f"{LIST}{lookup}/")

    assert response.status_code == 400
    assert "id" in response.json()


def test_unknown_study_is_404(api):
    response = api.get(f"{LIST}pmid:1234/")

    assert response.status_code == 404
    assert "pmid:1234" in response.json()["detail"]


# --- pagination --------------------------------------------------------------------------


def test_cursor_walks_every_study_once_in_default_order(api):
    studies = [StudyFactory(pub_year=year) for year in (2019, 2021, 2020, 2021, None, 2018, 2020)]
    expected = [
        s.id
        for s in sorted(studies, key=lambda s: (s.pub_year is not None, -(s.pub_year or 0), -s.id))
    ]

    seen, url = [], f"{LIST}?page_size=2"
    while url:
        body = api.get(url).json()
        assert body["count"] is None
        seen += [item["id"] for item in body["results"]]
        url = body["next"]

    assert seen == expected  # no year first, then newest first, ties by id descending


def test_cursor_previous_link_returns_the_previous_page(api):
    for year in range(2010, 2017):
        StudyFactory(pub_year=year)
    first = api.get(f"{LIST}?page_size=3").json()
    second = api.get(first["next"]).json()

    back = api.get(second["previous"]).json()

    assert [i["id"] for i in back["results"]] == [i["id"] for i in first["results"]]
    assert back["previous"] is None


def test_page_numbers_with_count(api):
    for _ in range(5):
        StudyFactory()

    body = api.get(f"{LIST}?page=2&page_size=2").json()

    assert body["count"] == 5
    assert len(body["results"]) == 2
    assert "page=3" in body["next"] and "page=1" in body["previous"]


def test_page_size_above_200_is_400(api):
    response = api.get(f"{LIST}?page_size=201")

    assert response.status_code == 400
    assert "page_size" in response.json()


@pytest.mark.parametrize("cursor", ["garbage", "eyJvIjoiLXllYXIifQ", "e30"])
def test_bad_cursor_is_400(api, cursor):
    StudyFactory()

    response = api.get(f"{LIST}?cursor={cursor}")

    assert response.status_code == 400
    assert "cursor" in response.json()


def test_cursor_from_another_ordering_is_400(api):
    StudyFactory()
    StudyFactory()
    next_link = api.get(f"{LIST}?page_size=1").json()["next"]

    response = api.get(next_link + "&ordering=title")

    assert response.status_code == 400
    assert "ordering" in response.json()["cursor"][0]


# --- ordering ----------------------------------------------------------------------------


def test_ordering_by_title_and_citation_count(api):
    a = StudyFactory(title="Beta", citation_count=5)
    b = StudyFactory(title="Alpha", citation_count=None)
    c = StudyFactory(title="Gamma", citation_count=12)

    assert ids(api.get(f"{LIST}?ordering=title")) == [b.id, a.id, c.id]
    # Unknown citation counts come last whichever the direction.
    assert ids(api.get(f"{LIST}?ordering=-citation_count")) == [c.id, a.id, b.id]
    assert ids(api.get(f"{LIST}?ordering=citation_count")) == [a.id, c.id, b.id]


def test_ordering_by_several_fields_walks_with_cursor(api):
    studies = [StudyFactory(pub_year=2020, title=t) for t in ("c", "a", "b")]
    studies.append(StudyFactory(pub_year=2019, title="a"))

    first = api.get(f"{LIST}?ordering=-year,title&page_size=2").json()
    second = api.get(first["next"]).json()

    titles = [(i["pub_year"], i["title"]) for i in first["results"] + second["results"]]
    assert titles == [(2020, "a"), (2020, "b"), (2020, "c"), (2019, "a")]


def test_unknown_ordering_is_400_listing_the_choices(api):
    response = api.get(f"{LIST}?ordering=abstract")

    assert response.status_code == 400
    assert "citation_count" in response.json()["ordering"][0]


def test_relevance_without_q_is_400(api):
    response = api.get(f"{LIST}?ordering=relevance")

    assert response.status_code == 400
    assert "q" in response.json()["ordering"][0]


# --- sparse fieldsets --------------------------------------------------------------------


def test_fields_on_the_list_with_nested_paths(api):
    study = full_study()

    body = api.get(f"{LIST}?fields=id,title,appraisal.design,authors.last_name").json()

    item = body["results"][0]
    assert set(item) == {"id", "title", "appraisal", "authors"}
    assert item["appraisal"] == {"design": "rct"}
    assert [a["last_name"] for a in item["authors"]] == [
        a.last_name for a in study.authorships.order_by("position")
    ]


def test_fields_of_the_lean_list_only(api):
    StudyFactory(pmid=123)

    item = api.get(f"{LIST}?fields=pmid,journal").json()["results"][0]

    assert set(item) == {"pmid", "journal"}
    assert item["pmid"] == 123


def test_fields_on_the_detail(api):
    study = full_study()

    body = api.get(f"{LIST}{study.id}/?fields=id,appraisal.safety.state,limitations").json()

    assert body == {
        "id": study.id,
        "appraisal": {"safety": {"state": "not_curated"}},
        "limitations": [
            {
                "id": study.limitations.get().id,
                "category": "sample_size",
                "description": "Small sample from a single centre.",
                "raised_by": "authors",
                "order": 0,
            }
        ],
    }


@pytest.mark.parametrize("fields", ["id,nope", "appraisal.nope", "title.length", ","])
def test_unknown_fields_are_400(api, fields):
    StudyFactory()

    response = api.get(f"{LIST}?fields={fields}")

    assert response.status_code == 400
    assert "fields" in response.json()


# --- ETag ---------------------------------------------------------------------------------


def test_detail_etag_changes_with_the_study_and_answers_if_none_match(api):
    study = StudyFactory()
    url = f"{LIST}{study.id}/"
    etag = api.get(url)["ETag"]

    assert api.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    study.title = "Changed"
    study.save()
    changed = api.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag


def test_etag_changes_when_a_nested_part_changes(api):
    study = full_study()
    url = f"{LIST}{study.id}/"
    etag = api.get(url)["ETag"]

    limitation = study.limitations.get()
    limitation.description = "Edited"
    limitation.save()

    assert api.get(url)["ETag"] != etag


# --- query counts --------------------------------------------------------------------------


def part_queries(parts: int) -> int:
    return 1 if selectors.parts_in_one_round_trip() else parts


def _world(n: int) -> None:
    for i in range(n):
        full_study(pub_year=2000 + i % 20)


@pytest.mark.parametrize("n", [3, 30])
def test_lean_list_is_one_query_whatever_the_page(api, django_assert_num_queries, n):
    _world(n)
    # 1. the page: studies with journal title and appraisal design/certainty joined
    with django_assert_num_queries(1):
        response = api.get(f"{LIST}?page_size=50&design=rct")
    assert len(response.json()["results"]) == n


@pytest.mark.parametrize("n", [3, 30])
def test_page_number_list_is_two_queries(api, django_assert_num_queries, n):
    _world(n)
    # 1. the page   2. the capped count
    with django_assert_num_queries(2):
        response = api.get(f"{LIST}?page=1&page_size=2")
    assert response.json()["count"] == n


@pytest.mark.parametrize("n", [3, 30])
def test_rich_list_costs_one_query_per_part(api, django_assert_num_queries, n):
    _world(n)
    # 1. studies + journal + appraisal; then the parts: authorships, MeSH headings,
    # appraisal concepts, reference counts (one query each, or together on PostgreSQL)
    with django_assert_num_queries(1 + part_queries(4)):
        response = api.get(
            f"{LIST}?page_size=50&fields=id,authors,mesh_terms,appraisal,references_count"
        )
    assert len(response.json()["results"]) == n
    assert all(item["references_count"] == 3 for item in response.json()["results"])


def test_detail_query_count(api, django_assert_num_queries):
    study = full_study()
    # 1. study + journal + appraisal; then the parts: authorships, publication types,
    # MeSH headings, concepts, effect sizes, limitations, research gaps, reference
    # count, cited-by count (one query each, or all ten together on PostgreSQL)
    with django_assert_num_queries(part_queries(10)):
        assert api.get(f"{LIST}{study.id}/").status_code == 200


def test_detail_by_pmid_query_count(api, django_assert_num_queries):
    study = full_study(pmid=33081809)
    # 1. study + journal + appraisal, found by PMID; then the nine parts by its id (one
    # query each, or together on PostgreSQL)
    with django_assert_num_queries(1 + part_queries(9)):
        assert api.get(f"{LIST}pmid:33081809/").json()["id"] == study.id
