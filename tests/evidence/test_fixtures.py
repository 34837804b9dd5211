"""fixtures/seed.json is what importing fixtures/seeds/* produces, and bootstrap loads it."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from evidence.management.commands.build_seed_fixtures import (
    FIXTURE_PATH,
    import_seeds,
    serialize_seed_rows,
)
from evidence.models import Appraisal, Citation, ReportingState, Study


@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_committed_fixture_equals_a_fresh_import_of_the_seed_documents():
    import_seeds()
    assert json.loads(serialize_seed_rows()) == json.loads(FIXTURE_PATH.read_text("utf-8"))


@pytest.mark.django_db
def test_seed_fixture_holds_the_article_and_the_evidence_summary():
    call_command("loaddata", "seed", verbosity=0)
    article = Study.objects.get(pmid=33081809)
    assert article.title == "Mesenchymal Stromal Cells for Osteonecrosis"
    assert article.journal.iso_abbreviation == "J Transl Med"
    assert article.citation_count == 11
    assert str(article.pub_date) == "2020-10-21"
    assert Citation.objects.filter(cited__study=article).count() == 5
    assert Citation.objects.filter(citing__study=article).count() == 5

    summary = Study.objects.get(pmid__isnull=True)
    assert summary.abstract.startswith("Steroid-induced osteonecrosis of the femoral head")
    appraisal = Appraisal.objects.get(study=summary)
    assert appraisal.design == "systematic_review"
    assert appraisal.safety_state == ReportingState.NOT_REPORTED
    assert appraisal.sample_size_state == ReportingState.NOT_REPORTED
    assert appraisal.main_result.startswith("Its main result is the proposal")
    assert summary.limitations.count() == 3
    assert summary.research_gaps.filter(future_direction__icontains="bone and muscle").exists()
    assert appraisal.concepts.filter(name="blood supply", kind="mechanism").exists()


@pytest.mark.django_db
def test_bootstrap_loads_seeds_once_and_creates_an_admin(capsys, monkeypatch):
    monkeypatch.setenv("EVIDB_ADMIN_PASSWORD", "a-test-password")
    call_command("bootstrap")
    out = capsys.readouterr().out
    assert "a-test-password" in out
    assert Study.objects.count() == 2
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.check_password("a-test-password")

    call_command("bootstrap")
    out = capsys.readouterr().out
    assert "already holds studies" in out and "exists already" in out
    assert Study.objects.count() == 2
