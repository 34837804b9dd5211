"""The Study changelist: search, every list filter, bulk status actions, query counts."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.db import connection
from django.urls import reverse

from evidence.admin import base as admin_base
from evidence.admin.base import EstimatedCountPaginator
from evidence.models import (
    Certainty,
    ReportingState,
    ReviewStatus,
    RiskOfBias,
    RiskOfBiasTool,
    Study,
    StudyDesign,
)
from tests import factories

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:evidence_study_changelist"


def listed(client, **params) -> set[int]:
    response = client.get(reverse(CHANGELIST), params)
    assert response.status_code == 200, response
    return {study.pk for study in response.context["cl"].result_list}


# -- search --------------------------------------------------------------------------


@pytest.fixture
def two_studies():
    hit = factories.StudyFactory(
        pmid=33081809,
        doi="10.1186/s12967-020-02592-4",
        pmcid="PMC7574386",
        title="Mesenchymal stromal cells in femoral head necrosis",
        abstract="Core decompression combined with cell therapy.",
    )
    other = factories.StudyFactory(
        pmid=33081800,
        doi="10.1186/s12967-020-02500-0",
        pmcid="PMC1111111",
        title="Statins and bone density",
        abstract="A cohort of older adults.",
    )
    return hit, other


@pytest.mark.parametrize(
    "term",
    [
        "stromal",  # title word
        "decompression",  # abstract word
        "33081809",  # PMID
        "PMID: 33081809",
        "10.1186/S12967-020-02592-4",  # DOI, any case
        "https://doi.org/10.1186/s12967-020-02592-4",
        "10.1186/s12967-020-0259",  # start of a DOI
        "PMC7574386",
        "pmc 7574386",
    ],
)
def test_search_finds_the_study_and_not_the_other(admin_client, two_studies, term):
    hit, _ = two_studies
    assert listed(admin_client, q=term) == {hit.pk}


def test_search_by_pmid_is_exact_not_a_text_match(admin_client, two_studies):
    hit, other = two_studies
    other.title = "Follow-up of cohort 33081809"
    other.save()
    assert listed(admin_client, q="33081809") == {hit.pk}


def test_search_by_doi_prefix_lists_every_match(admin_client, two_studies):
    hit, other = two_studies
    assert listed(admin_client, q="10.1186/s12967-020-02") == {hit.pk, other.pk}


def test_search_by_author_last_name_without_duplicates(admin_client, two_studies):
    hit, other = two_studies
    # Two authors with the same last name on one study must not list it twice.
    factories.AuthorshipFactory(study=hit, author=factories.AuthorFactory(last_name="Zhang"))
    factories.AuthorshipFactory(
        study=hit, author=factories.AuthorFactory(last_name="Zhang", initials="Y")
    )
    factories.AuthorshipFactory(study=other, author=factories.AuthorFactory(last_name="Li"))
    response = admin_client.get(reverse(CHANGELIST), {"q": "zhang"})
    assert [study.pk for study in response.context["cl"].result_list] == [hit.pk]
    assert listed(admin_client, q="Li") == {other.pk}


def test_search_by_a_very_common_last_name_uses_a_subquery(admin_client, monkeypatch):
    from evidence.admin import study as study_admin

    monkeypatch.setattr(study_admin, "AUTHOR_STUDIES_INLINE", 1)
    wang = factories.AuthorFactory(last_name="Wang")
    first, second = factories.StudyFactory(), factories.StudyFactory()
    factories.StudyFactory()
    wang_b = factories.AuthorFactory(last_name="Wang", initials="B")
    for study in (first, second):
        factories.AuthorshipFactory(study=study, author=wang)
        factories.AuthorshipFactory(study=study, author=wang_b)
    response = admin_client.get(reverse(CHANGELIST), {"q": "wang"})
    assert sorted(study.pk for study in response.context["cl"].result_list) == sorted(
        [first.pk, second.pk]
    )


def test_search_words_must_all_match(admin_client, two_studies):
    hit, _ = two_studies
    assert listed(admin_client, q="stromal necrosis") == {hit.pk}
    assert listed(admin_client, q="stromal statins") == set()


# -- filters: one matching and one non-matching case each ------------------------------


@pytest.fixture
def appraised():
    """An appraised RCT of 2015 and a study without appraisal from 1998."""
    rct = factories.StudyFactory(pub_year=2015, review_status=ReviewStatus.REVIEWED)
    factories.AppraisalFactory(
        study=rct,
        design=StudyDesign.RCT,
        risk_of_bias=RiskOfBias.LOW,
        risk_of_bias_tool=RiskOfBiasTool.ROB2,
        certainty=Certainty.MODERATE,
        population_state=ReportingState.REPORTED,
        population="Adults with osteonecrosis",
        sample_size_state=ReportingState.NOT_REPORTED,
    )
    bare = factories.StudyFactory(pub_year=1998)
    return rct, bare


@pytest.mark.parametrize(
    ("params", "expect"),
    [
        ({"review_status__exact": "reviewed"}, "rct"),
        ({"review_status__exact": "draft"}, "bare"),
        ({"design": "rct"}, "rct"),
        ({"design": "none"}, "bare"),
        ({"year": "2010s"}, "rct"),
        ({"year": "2015"}, "rct"),
        ({"year": "1990s"}, "bare"),
        ({"risk_of_bias": "low"}, "rct"),
        ({"risk_of_bias": "none"}, "bare"),
        ({"certainty": "moderate"}, "rct"),
        ({"certainty": "none"}, "bare"),
        ({"reporting": "population:reported"}, "rct"),
        ({"reporting": "sample_size:not_reported"}, "rct"),
        # No appraisal counts as "not yet curated"; so does an appraisal's default.
        ({"reporting": "population:not_curated"}, "bare"),
        ({"reporting": "intervention:not_curated"}, "both"),
    ],
)
def test_filter_matches(admin_client, appraised, params, expect):
    rct, bare = appraised
    expected = {"rct": {rct.pk}, "bare": {bare.pk}, "both": {rct.pk, bare.pk}}[expect]
    assert listed(admin_client, **params) == expected


@pytest.mark.parametrize(
    "params",
    [
        {"review_status__exact": "excluded"},
        {"design": "cohort"},
        {"year": "2020s"},
        {"year": "2016"},
        {"year": "unknown"},
        {"risk_of_bias": "high"},
        {"certainty": "very_low"},
        {"reporting": "population:not_applicable"},
        {"reporting": "comparator:reported"},
    ],
)
def test_filter_excludes(admin_client, appraised, params):
    assert listed(admin_client, **params) == set()


def test_year_filter_unknown_and_before(admin_client):
    undated = factories.StudyFactory(pub_year=None)
    old = factories.StudyFactory(pub_year=1930)
    assert listed(admin_client, year="unknown") == {undated.pk}
    assert listed(admin_client, year="before") == {old.pk}


def test_year_filter_opens_the_selected_decade(admin_client, appraised):
    response = admin_client.get(reverse(CHANGELIST), {"year": "2010s"})
    year_filter = next(
        spec
        for spec in response.context["cl"].filter_specs
        if getattr(spec, "parameter_name", None) == "year"
    )
    values = [value for value, _ in year_filter.lookup_choices]
    assert "2015" in values
    assert "1995" not in values


@pytest.mark.parametrize("value", ["rct:bogus", "nonsense"])
def test_bad_filter_values_are_refused(admin_client, value):
    response = admin_client.get(reverse(CHANGELIST), {"reporting": value})
    assert response.status_code == 302
    assert response.url.endswith("?e=1")


def test_journal_filter_by_id_issn_and_title(admin_client):
    lancet = factories.JournalFactory(
        title="The Lancet", iso_abbreviation="Lancet", issn="0140-6736"
    )
    bmj = factories.JournalFactory(title="BMJ", iso_abbreviation="BMJ", issn="0959-8138")
    in_lancet = factories.StudyFactory(journal=lancet)
    in_bmj = factories.StudyFactory(journal=bmj)
    assert listed(admin_client, journal=str(lancet.pk)) == {in_lancet.pk}
    assert listed(admin_client, journal="01406736") == {in_lancet.pk}
    assert listed(admin_client, journal="0959-8138") == {in_bmj.pk}
    assert listed(admin_client, journal="lanc") == {in_lancet.pk}
    assert listed(admin_client, journal="bmj") == {in_bmj.pk}
    assert listed(admin_client, journal="Nature") == set()


def test_journal_filter_does_not_list_journals(admin_client, django_assert_max_num_queries):
    """The sidebar must not load the journal table (thousands of rows at scale)."""
    for _ in range(30):
        factories.StudyFactory()
    response = admin_client.get(reverse(CHANGELIST))
    journal_filter = next(
        spec
        for spec in response.context["cl"].filter_specs
        if getattr(spec, "parameter_name", None) == "journal"
    )
    assert list(journal_filter.lookup_choices) == []
    assert 'name="journal"' in response.text  # the text box


def test_journal_column_links_to_the_journal_filter(admin_client):
    study = factories.StudyFactory()
    response = admin_client.get(reverse(CHANGELIST))
    assert f'href="?journal={study.journal_id}"' in response.text


def test_publication_type_filter(admin_client):
    review = factories.PublicationTypeFactory(name="Review", ui="D016454")
    article = factories.PublicationTypeFactory(name="Journal Article")
    a_review = factories.StudyFactory()
    a_review.publication_types.set([review, article])
    an_article = factories.StudyFactory()
    an_article.publication_types.set([article])
    assert listed(admin_client, publication_type=str(review.pk)) == {a_review.pk}
    assert listed(admin_client, publication_type=str(article.pk)) == {a_review.pk, an_article.pk}


def test_filters_and_search_combine(admin_client, appraised):
    rct, bare = appraised
    assert listed(admin_client, design="rct", q=str(rct.pmid)) == {rct.pk}
    assert listed(admin_client, design="rct", q=str(bare.pmid)) == set()


# -- bulk review-status actions ---------------------------------------------------------


def test_bulk_status_action_changes_status_and_writes_history(admin_client, admin_user):
    chosen = [factories.StudyFactory() for _ in range(3)]
    untouched = factories.StudyFactory()
    response = admin_client.post(
        reverse(CHANGELIST),
        {"action": "mark_reviewed", "_selected_action": [study.pk for study in chosen]},
        follow=True,
    )
    assert response.status_code == 200
    assert "3 studies set to &#x27;Reviewed&#x27;" in response.text
    for study in chosen:
        study.refresh_from_db()
        assert study.review_status == ReviewStatus.REVIEWED
        latest = study.history.latest()
        assert latest.history_type == "~"
        assert latest.history_user == admin_user
        assert latest.review_status == ReviewStatus.REVIEWED
        assert "bulk action" in latest.history_change_reason
        assert latest.prev_record.review_status == ReviewStatus.DRAFT
    untouched.refresh_from_db()
    assert untouched.review_status == ReviewStatus.DRAFT
    assert untouched.history.count() == 1
    entries = LogEntry.objects.filter(action_flag=CHANGE, user=admin_user)
    assert {int(entry.object_id) for entry in entries} == {study.pk for study in chosen}


def test_bulk_status_action_skips_studies_already_in_that_status(admin_client):
    study = factories.StudyFactory(review_status=ReviewStatus.EXCLUDED)
    response = admin_client.post(
        reverse(CHANGELIST),
        {"action": "mark_excluded", "_selected_action": [study.pk]},
        follow=True,
    )
    assert "already" in response.text
    assert study.history.count() == 1


@pytest.mark.parametrize(
    ("action", "status"),
    [
        ("mark_draft", ReviewStatus.DRAFT),
        ("mark_in_review", ReviewStatus.IN_REVIEW),
        ("mark_reviewed", ReviewStatus.REVIEWED),
        ("mark_excluded", ReviewStatus.EXCLUDED),
    ],
)
def test_every_status_has_an_action(admin_client, action, status):
    study = factories.StudyFactory(
        review_status=ReviewStatus.IN_REVIEW if status == ReviewStatus.DRAFT else ReviewStatus.DRAFT
    )
    admin_client.post(reverse(CHANGELIST), {"action": action, "_selected_action": [study.pk]})
    study.refresh_from_db()
    assert study.review_status == status


def test_bulk_action_needs_change_permission(staff_client):
    client = staff_client("view_study")
    study = factories.StudyFactory()
    response = client.get(reverse(CHANGELIST))
    assert "mark_reviewed" not in response.text
    client.post(reverse(CHANGELIST), {"action": "mark_reviewed", "_selected_action": [study.pk]})
    study.refresh_from_db()
    assert study.review_status == ReviewStatus.DRAFT


# -- query counts ------------------------------------------------------------------------


def _studies(count: int) -> int:
    journal = factories.JournalFactory()
    for index in range(count):
        study = factories.StudyFactory(journal=journal if index % 2 else factories.JournalFactory())
        factories.AuthorshipFactory.create_batch(3, study=study)
        if index % 3:
            factories.AppraisalFactory(study=study, certainty=Certainty.LOW)
    return journal.pk


# 1 session, 2 user, 3 publication types for their filter, 4 the count (or, unfiltered on
# PostgreSQL, the reltuples estimate in the same statement), 5 the page of studies
# with journal and appraisal joined.
CHANGELIST_QUERIES = 5


@pytest.mark.parametrize("count", [5, 40])
def test_changelist_query_count_does_not_grow(admin_client, django_assert_num_queries, count):
    _studies(count)
    with django_assert_num_queries(CHANGELIST_QUERIES):
        response = admin_client.get(reverse(CHANGELIST))
    assert len(response.context["cl"].result_list) == min(count, 50)


@pytest.mark.parametrize("count", [5, 40])
def test_filtered_changelist_query_count_does_not_grow(
    admin_client, django_assert_num_queries, count
):
    journal = _studies(count)
    params = {
        "certainty": "low",
        "journal": str(journal),
        "reporting": "population:not_curated",
        "q": "osteonecrosis",
    }
    # Two more: the journal's label under the filter's text box, and the studies of
    # authors whose last name is the search word.
    with django_assert_num_queries(CHANGELIST_QUERIES + 2):
        response = admin_client.get(reverse(CHANGELIST), params)
    rows = response.context["cl"].result_list
    assert len(rows) == {5: 1, 40: 13}[count]
    assert {study.journal_id for study in rows} == {journal}


# -- counting ------------------------------------------------------------------------------


def test_paginator_counts_exactly_when_filtered():
    factories.StudyFactory.create_batch(3)
    paginator = EstimatedCountPaginator(Study.objects.filter(pub_year=2020), 2)
    assert paginator.count == 3


@pytest.mark.skipif(connection.vendor != "postgresql", reason="reltuples is PostgreSQL's")
def test_paginator_uses_the_planner_estimate_for_a_whole_table(monkeypatch):
    factories.StudyFactory.create_batch(3)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE evidence_study")
    factories.StudyFactory.create_batch(2)  # not yet in the statistics
    monkeypatch.setattr(admin_base, "EXACT_COUNT_BELOW", 1)
    assert EstimatedCountPaginator(Study.objects.all(), 2).count == 3
    assert EstimatedCountPaginator(Study.objects.filter(pub_year=2020), 2).count == 5
    # Small tables are counted exactly even with statistics.
    monkeypatch.setattr(admin_base, "EXACT_COUNT_BELOW", 1000)
    assert EstimatedCountPaginator(Study.objects.all(), 2).count == 5


def test_changelist_shows_no_full_result_count_and_no_facet_counts(admin_client):
    factories.StudyFactory.create_batch(2)
    response = admin_client.get(reverse(CHANGELIST), {"q": "osteonecrosis", "_facets": "1"})
    assert response.context["cl"].full_result_count is None
    assert response.context["cl"].add_facets is False
    assert "Show counts" not in response.text


def test_autocomplete_pages_without_counting(admin_client, django_assert_num_queries):
    factories.StudyFactory.create_batch(25)
    url = reverse("admin:autocomplete")
    params = {"app_label": "evidence", "model_name": "work", "field_name": "study", "term": "osteo"}
    # session, user, studies by an author of that name, one page of 21 rows (20 shown
    # + 1 to know there is more): no COUNT.
    with django_assert_num_queries(4) as captured:
        response = admin_client.get(url, params)
    assert not any("COUNT(" in query["sql"].upper() for query in captured.captured_queries)
    body = response.json()
    assert len(body["results"]) == 20
    assert body["pagination"]["more"] is True
    second = admin_client.get(url, {**params, "page": 2}).json()
    assert len(second["results"]) == 5
    assert second["pagination"]["more"] is False
