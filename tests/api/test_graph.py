"""The citation graph: references and cited-by of a study, resolved or not."""

from __future__ import annotations

import pytest

from tests.api.factories import full_study
from tests.factories import AppraisalFactory, CitationFactory, StudyFactory, WorkFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def graph(db):
    """A study citing one study in the database and one outside work; cited by one of
    each."""
    study = StudyFactory(pmid=33081809)
    node = WorkFactory(study=study, pmid=33081809)
    cited_study = StudyFactory(pmid=11111111, title="A cited study", pub_year=2012)
    AppraisalFactory(study=cited_study, design="cohort")
    cited_node = WorkFactory(study=cited_study, pmid=11111111)
    outside = WorkFactory(pmid=None, doi="10.1000/outside", title="Outside work", year=2001)
    CitationFactory(citing=node, cited=outside, position=2, raw_text="2. Outside work. 2001.")
    CitationFactory(citing=node, cited=cited_node, position=1, raw_text="1. A cited study.")
    citing_study = StudyFactory(pmid=22222222)
    citing_node = WorkFactory(study=citing_study, pmid=22222222)
    CitationFactory(citing=citing_node, cited=node, position=7)
    CitationFactory(citing=WorkFactory(pmid=33333333, title="Citing preprint"), cited=node)
    return {"study": study, "cited_study": cited_study, "citing_study": citing_study}


def test_references_in_list_order_resolved_and_not(api, graph):
    response = api.get(f"/api/v1/studies/{graph['study'].id}/references/")

    assert response.status_code == 200
    results = response.json()["results"]
    assert [entry["position"] for entry in results] == [1, 2]
    resolved, unresolved = results
    assert resolved["raw_text"] == "1. A cited study."
    assert resolved["work"]["pmid"] == 11111111
    assert resolved["study"] == {
        "id": graph["cited_study"].id,
        "pmid": 11111111,
        "doi": graph["cited_study"].doi,
        "title": "A cited study",
        "pub_year": 2012,
        "journal": graph["cited_study"].journal.title,
        "design": "cohort",
    }
    assert unresolved["study"] is None
    assert unresolved["work"]["doi"] == "10.1000/outside"
    assert unresolved["work"]["title"] == "Outside work"


def test_cited_by_lists_citing_works(api, graph):
    results = api.get("/api/v1/studies/pmid:33081809/cited-by/").json()["results"]

    assert [(e["work"]["pmid"], e["study"] and e["study"]["id"]) for e in results] == [
        (22222222, graph["citing_study"].id),
        (33333333, None),
    ]


def test_graph_of_a_study_without_a_node_is_empty(api):
    study = StudyFactory()

    assert api.get(f"/api/v1/studies/{study.id}/references/").json()["results"] == []
    assert api.get(f"/api/v1/studies/{study.id}/cited-by/").json()["results"] == []


def test_graph_of_a_missing_study_is_404_and_a_bad_id_400(api):
    assert api.get("/api/v1/studies/999999/references/").status_code == 404
    response = api.get("/api/v1/studies/pmid:zero/cited-by/")
    assert response.status_code == 400
    assert "id" in response.json()


def test_references_page_with_the_cursor(api):
    study = full_study(references=5)
    url = f"/api/v1/studies/{study.id}/references/?page_size=2"
    positions = []
    while url:
        body = api.get(url).json()
        positions += [entry["position"] for entry in body["results"]]
        url = body["next"]

    assert positions == [1, 2, 3, 4, 5]


def test_references_reject_list_parameters(api):
    study = StudyFactory()

    response = api.get(f"/api/v1/studies/{study.id}/references/?design=rct")

    assert response.status_code == 400
    assert "design" in response.json()


@pytest.mark.parametrize("n", [3, 30])
def test_references_query_count(api, django_assert_num_queries, n):
    study = full_study(references=n)
    for position in range(1, n + 1, 3):  # some references are studies with appraisals
        cited = full_study(references=0, citing=0)
        CitationFactory(citing=study.work, cited=cited.work, position=100 + position)
    # 1. the study's id   2. edges + cited work + its study, journal and appraisal
    with django_assert_num_queries(2):
        response = api.get(f"/api/v1/studies/{study.id}/references/?page_size=200")
    assert len(response.json()["results"]) == n + len(range(1, n + 1, 3))
