"""Journals, authors, concepts, and the other things a curator edits."""

from __future__ import annotations

import pytest

from tests.api.factories import full_study
from tests.factories import (
    AuthorFactory,
    AuthorshipFactory,
    CitationFactory,
    ConceptFactory,
    JournalFactory,
    StudyMeshHeadingFactory,
    WorkFactory,
)

pytestmark = pytest.mark.django_db


def ids(api, path: str) -> list[int]:
    response = api.get(path)
    assert response.status_code == 200, response.json()
    return [item["id"] for item in response.json()["results"]]


def check(api, path: str, target, matching: str, non_matching: str) -> None:
    assert ids(api, f"{path}?{matching}") == [target.id], matching
    assert target.id not in ids(api, f"{path}?{non_matching}"), non_matching


def test_journals(api):
    journal = JournalFactory(
        title="Bone Research", iso_abbreviation="Bone Res", issn="2095-4700", eissn="2095-6231"
    )
    other = JournalFactory(title="The Lancet", issn="0140-6736")

    assert ids(api, "/api/v1/journals/") == [journal.id, other.id]  # by title
    check(api, "/api/v1/journals/", journal, "q=bone res", "q=lancet")
    check(api, "/api/v1/journals/", journal, "issn=20956231", "issn=0140-6736")
    check(api, "/api/v1/journals/", journal, f"id={journal.id}", f"id={other.id}")
    detail = api.get(f"/api/v1/journals/{journal.id}/").json()
    assert detail == {
        "id": journal.id,
        "title": "Bone Research",
        "iso_abbreviation": "Bone Res",
        "issn": "2095-4700",
        "eissn": "2095-6231",
        "nlm_id": "",
        "publisher": "",
    }


def test_authors(api):
    author = AuthorFactory(
        last_name="Smith", initials="JA", fore_name="Jane", orcid="0000-0002-1825-0097"
    )
    other = AuthorFactory(last_name="Jones", initials="B")

    check(api, "/api/v1/authors/", author, "name=Smith J", "name=Smith B")
    check(api, "/api/v1/authors/", author, "q=jan", "q=jon")
    check(api, "/api/v1/authors/", author, "orcid=0000-0002-1825-0097", "orcid=0000-0001-5109-3700")
    assert ids(api, "/api/v1/authors/") == [other.id, author.id]  # by last name


def test_concepts(api):
    concept = ConceptFactory(name="Blood supply", kind="mechanism", description="Perfusion.")
    other = ConceptFactory(name="Pain", kind="topic")

    check(api, "/api/v1/concepts/", concept, "kind=mechanism", "kind=topic,condition")
    check(api, "/api/v1/concepts/", concept, "q=perfusion", "q=pain")
    assert ids(api, "/api/v1/concepts/") == [concept.id, other.id]


def test_authorships_mesh_headings_works_citations(api):
    study = full_study(references=2)
    authorship = study.authorships.order_by("position").first()
    heading = study.mesh_headings.get(descriptor__name="Humans")
    extra = AuthorshipFactory(position=1)
    StudyMeshHeadingFactory()

    check(
        api,
        "/api/v1/authorships/",
        authorship,
        f"study={study.id}&author={authorship.author_id}",
        f"study={extra.study_id}",
    )
    check(
        api,
        "/api/v1/mesh-headings/",
        heading,
        f"study={study.id}&descriptor=humans",
        "descriptor=femur head necrosis&is_major=false",
    )
    node = study.work
    check(api, "/api/v1/works/", node, f"study={study.id}", "in_database=false")
    outside = WorkFactory(pmid=777)
    check(api, "/api/v1/works/", outside, "pmid=777", "in_database=true")
    edge = CitationFactory(citing=node, cited=outside)
    check(
        api,
        "/api/v1/citations/",
        edge,
        f"citing_study={study.id}&cited={outside.id}",
        f"cited_study={study.id}",
    )


@pytest.mark.parametrize("n", [3, 30])
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/journals/",
        "/api/v1/authors/",
        "/api/v1/concepts/",
        "/api/v1/authorships/",
        "/api/v1/mesh-headings/",
        "/api/v1/works/",
        "/api/v1/citations/",
    ],
)
def test_reference_lists_are_one_query(api, django_assert_num_queries, n, path):
    for _ in range(n):
        full_study(references=1)
        ConceptFactory()  # full_study reuses one concept
    with django_assert_num_queries(1):
        response = api.get(path + "?page_size=200")
    assert len(response.json()["results"]) >= n
