"""q: full-text search with web-search syntax and relevance ordering."""

from __future__ import annotations

import pytest
from django.db import connection

from evidence import search
from evidence.models import Study
from tests.factories import StudyFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/studies/"
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="stemming is PostgreSQL's text search"
)


def study(text: str, **fields) -> Study:
    return StudyFactory(title=fields.pop("title", text), search_document=text, **fields)


def ids(api, query: str) -> list[int]:
    response = api.get(f"{LIST}?{query}")
    assert response.status_code == 200, response.json()
    return [item["id"] for item in response.json()["results"]]


def test_words_phrases_or_and_exclusion(api):
    hif = study("Hypoxia inducible factor and the femoral head blood supply")
    marrow = study("Bone marrow edema of the femoral head")
    hip = study("Total hip replacement outcomes")

    assert set(ids(api, "q=femoral")) == {hif.id, marrow.id}
    assert ids(api, 'q="bone marrow"') == [marrow.id]
    assert ids(api, 'q="marrow bone"') == []
    assert set(ids(api, "q=hypoxia or replacement")) == {hif.id, hip.id}
    assert ids(api, "q=femoral -marrow") == [hif.id]


def test_relevance_puts_title_matches_first(api):
    in_abstract = StudyFactory(
        title="Hip outcomes", search_document="Hip outcomes. Core decompression was compared."
    )
    in_title = StudyFactory(
        title="Core decompression for osteonecrosis",
        search_document="Core decompression for osteonecrosis. Core decompression works.",
    )

    assert ids(api, "q=core decompression") == [in_title.id, in_abstract.id]


def test_relevance_ranks_only_the_newest_candidates(api, monkeypatch):
    monkeypatch.setattr(search, "RANK_CANDIDATES", 2)
    weak_new = study("alpha trial", title="x", pub_year=2022)
    strong_new = study("alpha alpha alpha", pub_year=2021)
    strong_old = study("alpha alpha alpha alpha", pub_year=2010)

    # The two newest are ranked (the stronger first); the older match follows.
    assert ids(api, "q=alpha") == [strong_new.id, weak_new.id, strong_old.id]


def test_relevance_pages_with_the_cursor(api):
    matches = [study(f"alpha {'beta ' * n}", pub_year=2000 + n) for n in range(5)]
    study("gamma only")

    seen, url = [], f"{LIST}?q=alpha&page_size=2"
    while url:
        body = api.get(url).json()
        seen += [item["id"] for item in body["results"]]
        url = body["next"]

    assert sorted(seen) == sorted(m.id for m in matches)
    assert len(seen) == len(set(seen))


def test_q_with_another_ordering(api):
    old = study("alpha", pub_year=2001)
    new = study("alpha", pub_year=2020)

    assert ids(api, "q=alpha&ordering=year") == [old.id, new.id]


def test_q_combines_with_filters(api):
    target = study("alpha", pub_year=2020)
    study("alpha", pub_year=2001)

    assert ids(api, "q=alpha&year_min=2010") == [target.id]


def test_q_too_long_is_400(api):
    response = api.get(f"{LIST}?q={'a' * 501}")

    assert response.status_code == 400
    assert "q" in response.json()


@postgres_only
def test_postgres_stems_english(api):
    target = study("Mesenchymal stem cells were transplanted")

    assert ids(api, "q=cell transplantation") == [target.id]


def test_relevance_list_query_count(api, django_assert_num_queries):
    for n in range(5):
        study(f"alpha {n}")
    # 1. the newest matches   2. their ranks   3. journal and appraisal of the page
    with django_assert_num_queries(3):
        assert len(ids(api, "q=alpha&page_size=3")) == 3


@pytest.mark.parametrize("page_size", [1, 2, 3, 7])
def test_relevance_pages_cross_from_ranked_to_the_rest(api, monkeypatch, page_size):
    monkeypatch.setattr(search, "RANK_CANDIDATES", 3)
    matches = [study("alpha " + "alpha " * (n % 4), pub_year=2000 + n) for n in range(7)]
    study("beta")
    newest = sorted(matches, key=lambda m: -m.pub_year)
    ranked = sorted(newest[:3], key=lambda m: (-m.search_document.count("alpha"), -m.pub_year))
    expected = [m.id for m in ranked + newest[3:]]

    cursor_walk, url = [], f"{LIST}?q=alpha&page_size={page_size}"
    while url:
        body = api.get(url).json()
        cursor_walk += [item["id"] for item in body["results"]]
        url = body["next"]
    page_walk, page = [], 1
    while True:
        body = api.get(f"{LIST}?q=alpha&page_size={page_size}&page={page}").json()
        page_walk += [item["id"] for item in body["results"]]
        assert body["count"] == 7
        if not body["next"]:
            break
        page += 1

    assert cursor_walk == expected
    assert page_walk == expected


def test_relevance_previous_link(api):
    for n in range(5):
        study(f"alpha {n}", pub_year=2000 + n)
    first = api.get(f"{LIST}?q=alpha&page_size=2").json()
    second = api.get(first["next"]).json()

    assert api.get(second["previous"]).json()["results"] == first["results"]


@pytest.mark.parametrize("ordering", ["relevance,title", "-relevance"])
def test_relevance_goes_alone(api, ordering):
    study("alpha")

    response = api.get(f"{LIST}?q=alpha&ordering={ordering}")

    assert response.status_code == 400
    assert "ordering" in response.json()


def test_relevance_with_fields(api):
    target = study("alpha")

    body = api.get(f"{LIST}?q=alpha&fields=id,limitations,references_count").json()

    assert body["results"] == [{"id": target.id, "limitations": [], "references_count": 0}]


def test_refresh_search_document_after_an_edit():
    target = StudyFactory(
        title="New title", abstract="Abstract", keywords=["kw"], search_document="stale"
    )

    search.refresh_search_document(target.pk)

    target.refresh_from_db()
    assert target.search_document.split("\n") == ["New title", "Abstract", "kw"]
