"""The Study change page: identifiers, inlines, references, cited-by, history, query bound."""

from __future__ import annotations

import pytest
from django.urls import reverse

from evidence.models import (
    Appraisal,
    Citation,
    Limitation,
    ReportingState,
    ReviewStatus,
    Study,
    Work,
)
from tests import factories
from tests.evidence.admin.helpers import add_inline_row, change_form_data, formset_prefix

pytestmark = pytest.mark.django_db


def change_url(study: Study) -> str:
    return reverse("admin:evidence_study_change", args=[study.pk])


def post_change(client, study: Study, **changes):
    """Submit the study's page as rendered, with ``changes`` to the main form."""
    data = change_form_data(client.get(change_url(study)))
    data.update(changes)
    data["_continue"] = "1"
    return client.post(change_url(study), data)


def field_errors(response, field: str) -> list[str]:
    return list(response.context["adminform"].form.errors.get(field, []))


# -- identifiers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "typed", "stored"),
    [
        ("doi", "https://doi.org/10.1000/ABC", "10.1000/abc"),
        ("doi", "doi: 10.1186/S12967-020-02592-4", "10.1186/s12967-020-02592-4"),
        ("pmid", "PMID: 0033081809", 33081809),
        ("pmid", "33081809", 33081809),
        ("pmcid", "4821226", "PMC4821226"),
        ("pmcid", "pmc 4821226", "PMC4821226"),
    ],
)
def test_identifiers_are_normalised_on_save(admin_client, field, typed, stored):
    study = factories.StudyFactory()
    response = post_change(admin_client, study, **{field: typed})
    assert response.status_code == 302, response.context["adminform"].form.errors
    study.refresh_from_db()
    assert getattr(study, field) == stored


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("doi", "not-a-doi", "not a DOI: 'not-a-doi'"),
        ("pmid", "abc", "not a PubMed ID: 'abc'"),
        ("pmid", "0", "not a PubMed ID: '0'"),
        ("pmcid", "PMCX1", "not a PubMed Central ID: 'PMCX1'"),
    ],
)
def test_invalid_identifier_message_is_on_its_field(admin_client, field, typed, message):
    study = factories.StudyFactory()
    response = post_change(admin_client, study, **{field: typed})
    assert response.status_code == 200
    assert field_errors(response, field) == [message]
    assert message.replace("'", "&#x27;") in response.text


def test_empty_identifiers_are_stored_as_null(admin_client):
    first = factories.StudyFactory()
    second = factories.StudyFactory()
    for study in (first, second):
        response = post_change(admin_client, study, pmid="", doi="", pmcid="")
        assert response.status_code == 302, response.context["adminform"].form.errors
    assert Study.objects.filter(pk__in=[first.pk, second.pk], doi=None, pmid=None).count() == 2
    assert not Study.objects.filter(doi="").exists()
    assert not Study.objects.filter(pmcid="").exists()


def test_duplicate_doi_in_another_spelling_is_refused(admin_client):
    factories.StudyFactory(doi="10.1000/abc")
    study = factories.StudyFactory()
    response = post_change(admin_client, study, doi="https://doi.org/10.1000/ABC")
    assert field_errors(response, "doi") == ["Study with this DOI already exists."]


def test_funding_and_interests_are_edited_on_the_study_page(admin_client):
    study = factories.StudyFactory()

    response = post_change(
        admin_client,
        study,
        grants='[{"agency": "Example  Pharma", "grant_id": "EP-1"}]',
        conflict_of_interest="Two authors are employees of Example Pharma.",
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    study.refresh_from_db()
    assert study.grants == [
        {"agency": "Example Pharma", "grant_id": "EP-1", "acronym": "", "country": ""}
    ]
    assert study.conflict_of_interest == "Two authors are employees of Example Pharma."
    assert "Funding and interests" in admin_client.get(change_url(study)).content.decode()


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ('{"agency": "NIH"}', "Expected a list of grants."),
        ('["NIH"]', "Grant 1: expected an object."),
        ('[{"agency": "NIH"}, {"funder": "NSF"}]', "Grant 2: unknown key 'funder'"),
        ('[{"agency": 5}]', "Grant 1: agency must be text."),
        ('[{"country": "UK"}]', "Grant 1: needs an agency or a number."),
    ],
)
def test_a_grant_that_cannot_be_one_is_refused_on_its_field(admin_client, typed, message):
    study = factories.StudyFactory()

    response = post_change(admin_client, study, grants=typed)

    assert response.status_code == 200
    assert any(message in error for error in field_errors(response, "grants"))
    study.refresh_from_db()
    assert study.grants == []


def test_add_page_creates_a_study_with_normalised_identifiers(admin_client):
    url = reverse("admin:evidence_study_add")
    data = change_form_data(admin_client.get(url))
    data.update(
        title="A new study",
        pmid="PMID: 123",
        doi="https://doi.org/10.5555/NEW",
        pmcid="",
        review_status=ReviewStatus.DRAFT,
    )
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    study = Study.objects.get(title="A new study")
    assert (study.pmid, study.doi, study.pmcid) == (123, "10.5555/new", None)
    assert not Appraisal.objects.filter(study=study).exists()  # untouched inline: no row


# -- appraisal and other inlines ------------------------------------------------------------


def test_appraisal_reported_state_needs_a_value(admin_client):
    study = factories.StudyFactory()
    data = change_form_data(admin_client.get(change_url(study)))
    prefix = formset_prefix(admin_client.get(change_url(study)), "appraisal")
    data[f"{prefix}-0-design"] = "rct"
    data[f"{prefix}-0-population_state"] = ReportingState.REPORTED
    data[f"{prefix}-0-population"] = ""
    response = admin_client.post(change_url(study), data)
    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][0].formset.forms[0].errors
    assert errors["population"] == ["Give the value, or choose another reporting state."]
    assert not Appraisal.objects.filter(study=study).exists()


def test_appraisal_and_limitation_saved_from_the_study_page_with_history(admin_client, admin_user):
    study = factories.StudyFactory()
    page = admin_client.get(change_url(study))
    data = change_form_data(page)
    appraisal = formset_prefix(page, "appraisal")
    data[f"{appraisal}-0-design"] = "cohort"
    data[f"{appraisal}-0-sample_size_state"] = ReportingState.REPORTED
    data[f"{appraisal}-0-sample_size"] = "120"
    data[f"{appraisal}-0-comparator_state"] = ReportingState.NOT_APPLICABLE
    add_inline_row(
        data,
        formset_prefix(page, "limitation"),
        {"order": "1", "category": "sample_size", "description": "Small", "raised_by": "authors"},
    )
    data["_continue"] = "1"
    response = admin_client.post(change_url(study), data)
    assert response.status_code == 302, response.context and [
        formset.formset.errors for formset in response.context["inline_admin_formsets"]
    ]
    saved = Appraisal.objects.get(study=study)
    assert (saved.design, saved.sample_size, saved.comparator_state) == (
        "cohort",
        120,
        ReportingState.NOT_APPLICABLE,
    )
    assert saved.history.get().history_user == admin_user
    assert Limitation.objects.get(study=study).history.get().history_user == admin_user
    # The page lists the change and who made it.
    page = admin_client.get(change_url(study))
    recent = page.context["recent_changes"]
    assert {(row["what"], row["user"]) for row in recent} >= {
        ("Appraisal", admin_user),
        ("Limitation", admin_user),
    }


def test_study_history_shows_who_changed_what(admin_client, admin_user):
    study = factories.StudyFactory(title="Old title")
    response = post_change(admin_client, study, title="New title")
    assert response.status_code == 302
    history = admin_client.get(reverse("admin:evidence_study_history", args=[study.pk]))
    assert history.status_code == 200
    assert admin_user.username in history.text
    latest = study.history.latest()
    assert (latest.title, latest.history_user) == ("New title", admin_user)
    assert "Old title" in history.text  # the diff column shows the old value


def test_authorship_inline_is_ordered_by_position(admin_client):
    study = factories.StudyFactory()
    third = factories.AuthorshipFactory(study=study, position=3)
    first = factories.AuthorshipFactory(study=study, position=1)
    page = admin_client.get(change_url(study))
    formset = next(
        inline.formset
        for inline in page.context["inline_admin_formsets"]
        if inline.formset.model._meta.model_name == "authorship"
    )
    assert [form.instance.pk for form in formset.initial_forms] == [first.pk, third.pk]
    # Each author is shown by name without a query per row (see the query-count test).
    assert str(first.author) in page.text


def test_authorship_orcid_is_normalised_and_checked(admin_client):
    study = factories.StudyFactory()
    factories.AuthorshipFactory(study=study, position=1)
    page = admin_client.get(change_url(study))
    prefix = formset_prefix(page, "authorship")
    data = change_form_data(page)
    data[f"{prefix}-0-orcid"] = "https://orcid.org/0000-0002-1825-009x"
    data["_continue"] = "1"
    assert admin_client.post(change_url(study), data).status_code == 302
    assert study.authorships.get().orcid == "0000-0002-1825-009X"
    data[f"{prefix}-0-orcid"] = "12345"
    response = admin_client.post(change_url(study), data)
    assert response.status_code == 200
    assert "not an ORCID iD: &#x27;12345&#x27;" in response.text


# -- references and cited-by -------------------------------------------------------------------


def post_reference(client, study: Study, **row):
    page = client.get(change_url(study))
    data = change_form_data(page)
    add_inline_row(data, "references", {"position": "", "raw_text": "", **row})
    data["_continue"] = "1"
    return client.post(change_url(study), data)


def reference_errors(response) -> list[str]:
    formset = next(
        inline.formset
        for inline in response.context["inline_admin_formsets"]
        if inline.formset.prefix == "references"
    )
    return [str(error) for form in formset.forms for error in form.non_field_errors()] + [
        f"{name}: {error}"
        for form in formset.forms
        for name, errors in form.errors.items()
        if name != "__all__"
        for error in errors
    ]


def test_add_reference_by_pmid_of_a_study_in_the_database(admin_client):
    study = factories.StudyFactory()
    cited = factories.StudyFactory(pmid=111)
    response = post_reference(admin_client, study, identifier="PMID: 111", position="1")
    assert response.status_code == 302, reference_errors(response)
    citation = Citation.objects.get()
    # Both nodes were created on demand and linked to their studies.
    assert citation.citing.study == study
    assert citation.cited.study == cited
    assert citation.position == 1


def test_add_reference_by_doi_of_an_unknown_work_creates_the_node(admin_client):
    study = factories.StudyFactory()
    response = post_reference(
        admin_client,
        study,
        identifier="https://doi.org/10.9999/XYZ",
        raw_text="Doe J. Something. 2001.",
    )
    assert response.status_code == 302, reference_errors(response)
    citation = Citation.objects.get()
    cited = citation.cited
    assert (cited.doi, cited.study, cited.raw_text) == (
        "10.9999/xyz",
        None,
        "Doe J. Something. 2001.",
    )
    assert citation.position == 1  # blank position: appended


def test_reference_without_position_goes_last(admin_client):
    study = factories.StudyFactory()
    node = factories.WorkFactory(study=study, pmid=study.pmid)
    factories.CitationFactory(citing=node, position=4)
    response = post_reference(admin_client, study, identifier="PMC123")
    assert response.status_code == 302, reference_errors(response)
    assert Citation.objects.get(cited__pmcid="PMC123").position == 5


def test_add_reference_by_choosing_a_work_reuses_the_study_node(admin_client):
    study = factories.StudyFactory()
    # The study was cited before it was imported: its node exists, unlinked.
    node = factories.WorkFactory(pmid=study.pmid)
    work = factories.WorkFactory()
    response = post_reference(admin_client, study, work=str(work.pk))
    assert response.status_code == 302, reference_errors(response)
    citation = Citation.objects.get()
    assert (citation.citing_id, citation.cited_id) == (node.pk, work.pk)
    node.refresh_from_db()
    assert node.study == study
    assert Work.objects.count() == 2  # no duplicate node


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"identifier": "banana"}, "identifier: Enter a PMID (digits), a DOI"),
        ({"identifier": "10.1/"}, "identifier: not a DOI: '10.1/'"),
        ({"position": "4"}, "Choose the cited work or enter its PMID, DOI or PMCID."),
        ({"identifier": "self"}, "A study cannot cite itself."),
        ({"identifier": "already"}, "This study already cites that work."),
        ({"identifier": "both"}, "Choose a work or enter an identifier, not both."),
    ],
)
def test_bad_reference_rows_are_explained(admin_client, row, message):
    study = factories.StudyFactory(pmid=500)
    existing = factories.CitationFactory(citing=factories.WorkFactory(study=study, pmid=500))
    if row.get("identifier") == "self":
        row = {"identifier": "500"}
    elif row.get("identifier") == "already":
        row = {"identifier": str(existing.cited.pmid)}
    elif row.get("identifier") == "both":
        row = {"identifier": "123", "work": str(existing.cited_id)}
    response = post_reference(admin_client, study, **row)
    assert response.status_code == 200
    assert any(error.startswith(message) for error in reference_errors(response)), reference_errors(
        response
    )
    assert Citation.objects.count() == 1


def test_remove_reference(admin_client):
    study = factories.StudyFactory()
    citation = factories.CitationFactory(citing=factories.WorkFactory(study=study, pmid=study.pmid))
    kept = factories.CitationFactory(citing=citation.citing)
    page = admin_client.get(change_url(study))
    data = change_form_data(page)
    index = next(
        i
        for i in range(int(data["references-INITIAL_FORMS"]))
        if data[f"references-{i}-id"] == str(citation.pk)
    )
    data[f"references-{index}-DELETE"] = "on"
    data["_continue"] = "1"
    assert admin_client.post(change_url(study), data).status_code == 302
    assert list(Citation.objects.all()) == [kept]
    assert Work.objects.filter(pk=citation.cited_id).exists()  # the node stays


def test_editing_a_reference_keeps_its_target(admin_client):
    study = factories.StudyFactory()
    citation = factories.CitationFactory(
        citing=factories.WorkFactory(study=study, pmid=study.pmid), position=2
    )
    page = admin_client.get(change_url(study))
    data = change_form_data(page)
    data["references-0-position"] = "7"
    data["references-0-work"] = str(factories.WorkFactory().pk)  # disabled: ignored
    data["_continue"] = "1"
    assert admin_client.post(change_url(study), data).status_code == 302
    citation.refresh_from_db()
    assert citation.position == 7
    assert citation.cited_id == Citation.objects.get().cited_id


def test_references_and_cited_by_link_to_resolved_studies(admin_client):
    study = factories.StudyFactory()
    node = factories.WorkFactory(study=study, pmid=study.pmid)
    cited_study = factories.StudyFactory(title="A cited study in EviDB")
    factories.CitationFactory(citing=node, cited=factories.WorkFactory(study=cited_study))
    citing_study = factories.StudyFactory(title="A citing study in EviDB")
    factories.CitationFactory(citing=factories.WorkFactory(study=citing_study), cited=node)
    factories.CitationFactory(citing=factories.WorkFactory(title="Unimported citer"), cited=node)
    page = admin_client.get(change_url(study))
    assert page.status_code == 200
    text = page.text
    assert reverse("admin:evidence_study_change", args=[cited_study.pk]) in text
    assert "A cited study in EviDB" in text
    assert [row["label"] for row in page.context["cited_by"]] == [
        str(citing_study),
        "Unimported citer",
    ]
    assert reverse("admin:evidence_study_change", args=[citing_study.pk]) in text
    assert "not imported" in text


def test_cited_by_is_capped_with_a_link_to_all(admin_client, monkeypatch):
    from evidence.admin import graph

    monkeypatch.setattr(graph, "CITED_BY_LIMIT", 2)
    study = factories.StudyFactory()
    node = factories.WorkFactory(study=study, pmid=study.pmid)
    for _ in range(3):
        factories.CitationFactory(cited=node)
    page = admin_client.get(change_url(study))
    assert len(page.context["cited_by"]) == 2
    assert page.context["cited_by_more"] == 1
    assert f"?cited__id__exact={node.pk}" in page.text
    listing = admin_client.get(
        reverse("admin:evidence_citation_changelist"), {"cited__id__exact": node.pk}
    )
    assert len(listing.context["cl"].result_list) == 3


# -- query bound -----------------------------------------------------------------------------


def _rich_study(size: int) -> Study:
    study = factories.StudyFactory()
    study.publication_types.set([factories.PublicationTypeFactory()])
    appraisal = factories.AppraisalFactory(study=study)
    appraisal.concepts.set([factories.ConceptFactory()])
    node = factories.WorkFactory(study=study, pmid=study.pmid)
    for position in range(1, size + 1):
        factories.AuthorshipFactory(study=study, position=position)
        factories.StudyMeshHeadingFactory(study=study)
        factories.EffectSizeFactory(study=study)
        factories.LimitationFactory(study=study)
        factories.ResearchGapFactory(study=study)
        factories.CitationFactory(
            citing=node, cited=factories.WorkFactory(study=factories.StudyFactory())
        )
        factories.CitationFactory(
            citing=factories.WorkFactory(study=factories.StudyFactory()), cited=node
        )
    return study


# session, user, the study; form: journal label, publication types (initial, labels);
# inlines: appraisal, its concepts (initial, labels), authorships+authors,
# MeSH+descriptors, effect sizes, limitations, research gaps, references+cited works;
# cited-by: the study's node, the citing works; recent changes: 5 history tables.
CHANGE_PAGE_QUERIES = 22


@pytest.mark.parametrize("size", [1, 12])
def test_change_page_query_count_does_not_grow(admin_client, django_assert_num_queries, size):
    study = _rich_study(size)
    with django_assert_num_queries(CHANGE_PAGE_QUERIES):
        response = admin_client.get(change_url(study))
    assert response.status_code == 200
    assert len(response.context["cited_by"]) == size


def test_edits_reach_the_full_text_search_document(admin_client):
    study = factories.StudyFactory(title="Old words", search_document="old words")
    descriptor = factories.MeshDescriptorFactory(name="Femur Head Necrosis")
    page = admin_client.get(change_url(study))
    data = change_form_data(page)
    data["title"] = "Hyperbaric oxygen"
    add_inline_row(data, formset_prefix(page, "studymeshheading"), {"descriptor": descriptor.pk})
    data["_continue"] = "1"
    assert admin_client.post(change_url(study), data).status_code == 302
    study.refresh_from_db()
    assert "Hyperbaric oxygen" in study.search_document
    assert "Femur Head Necrosis" in study.search_document
    assert "Old words" not in study.search_document


def test_mesh_heading_admin_refreshes_the_search_document(admin_client):
    heading = factories.StudyMeshHeadingFactory(
        study=factories.StudyFactory(title="Cells", search_document="Cells Osteonecrosis"),
        descriptor=factories.MeshDescriptorFactory(name="Osteonecrosis"),
    )
    response = admin_client.post(
        reverse("admin:evidence_studymeshheading_delete", args=[heading.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    heading.study.refresh_from_db()
    assert "Cells" in heading.study.search_document
    assert "Osteonecrosis" not in heading.study.search_document
