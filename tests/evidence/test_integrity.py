"""The link tables' references, checked per statement by triggers instead of foreign
keys (evidence.models.integrity), hold on SQLite and PostgreSQL alike."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction

from evidence.models import Authorship, Citation, StudyMeshHeading, Work, integrity
from tests.factories import (
    AuthorshipFactory,
    CitationFactory,
    StudyMeshHeadingFactory,
    WorkFactory,
)

pytestmark = pytest.mark.django_db

MISSING = 987_654_321


def fails(sql: str, params: list) -> bool:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    except IntegrityError:
        return True
    return False


def test_every_unconstrained_foreign_key_is_checked():
    unconstrained = {
        integrity.Reference(model._meta.db_table, field.column, field.related_model._meta.db_table)
        for model in apps.get_app_config("evidence").get_models()
        # django-simple-history's audit rows must outlive what they point at.
        if not hasattr(model, "history_id")
        for field in model._meta.concrete_fields
        if field.is_relation and not field.db_constraint
    }
    assert unconstrained == set(integrity.REFERENCES)


@pytest.mark.parametrize("side", ["citing", "cited"])
def test_a_citation_to_a_missing_work_is_refused(side):
    work = WorkFactory()
    other = {"citing": "cited", "cited": "citing"}[side]
    with pytest.raises(IntegrityError), transaction.atomic():
        Citation.objects.create(**{f"{side}_id": MISSING, f"{other}_id": work.pk})
    with pytest.raises(IntegrityError), transaction.atomic():
        Citation.objects.bulk_create(
            [
                Citation(citing=work, cited=WorkFactory()),
                Citation(**{f"{side}_id": MISSING, f"{other}_id": work.pk}),
            ]
        )
    assert Citation.objects.count() == 0


def test_moving_a_link_to_a_missing_row_is_refused():
    citation = CitationFactory()
    authorship = AuthorshipFactory()
    heading = StudyMeshHeadingFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Citation.objects.filter(pk=citation.pk).update(cited_id=MISSING)
    with pytest.raises(IntegrityError), transaction.atomic():
        Authorship.objects.filter(pk=authorship.pk).update(author_id=MISSING)
    with pytest.raises(IntegrityError), transaction.atomic():
        StudyMeshHeading.objects.filter(pk=heading.pk).update(study_id=MISSING)
    citation.refresh_from_db()
    assert citation.cited_id != MISSING


def test_changing_a_referenced_id_is_refused():
    citation = CitationFactory()
    assert fails("UPDATE evidence_work SET id = %s WHERE id = %s", [MISSING, citation.citing_id])
    assert Work.objects.filter(pk=citation.citing_id).exists()


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite leaves deletes to the ORM's cascades (see evidence.models.integrity)",
)
def test_deleting_a_referenced_row_behind_the_orms_back_is_refused():
    citation = CitationFactory()
    authorship = AuthorshipFactory()
    heading = StudyMeshHeadingFactory()
    assert fails("DELETE FROM evidence_work WHERE id = %s", [citation.cited_id])
    assert fails("DELETE FROM evidence_study WHERE id = %s", [authorship.study_id])
    assert fails("DELETE FROM evidence_author WHERE id = %s", [authorship.author_id])
    assert fails("DELETE FROM evidence_meshdescriptor WHERE id = %s", [heading.descriptor_id])
    assert Work.objects.filter(pk=citation.cited_id).exists()


def test_the_orm_cascade_still_deletes_links_first():
    citation = CitationFactory()
    heading = StudyMeshHeadingFactory()
    citation.cited.delete()
    heading.study.delete()
    assert not Citation.objects.exists()
    assert not StudyMeshHeading.objects.exists()
    # An unreferenced row goes without complaint, also behind the ORM's back.
    lonely = WorkFactory()
    assert not fails("DELETE FROM evidence_work WHERE id = %s", [lonely.pk])


def test_work_identifiers_are_unique_only_where_present():
    WorkFactory(pmid=None, doi=None, pmcid=None)
    WorkFactory(pmid=None, doi=None, pmcid=None)
    WorkFactory(pmid=123, doi="10.1/x", pmcid="PMC1")
    for duplicate in ({"pmid": 123}, {"doi": "10.1/x"}, {"pmcid": "PMC1"}):
        with pytest.raises(IntegrityError), transaction.atomic():
            WorkFactory(**{"pmid": None, "doi": None, "pmcid": None, **duplicate})
    assert Work.objects.count() == 3


def test_ensure_is_idempotent_and_remove_lifts_the_checks():
    work = WorkFactory()
    integrity.ensure(connection)
    integrity.ensure(connection)
    integrity.remove(connection)
    try:
        assert not fails(
            "INSERT INTO evidence_citation (citing_id, cited_id, raw_text) VALUES (%s, %s, '')",
            [work.pk, MISSING],
        )
    finally:
        Citation.objects.filter(cited_id=MISSING).delete()
        integrity.ensure(connection)
    assert fails(
        "INSERT INTO evidence_citation (citing_id, cited_id, raw_text) VALUES (%s, %s, '')",
        [work.pk, MISSING],
    )
