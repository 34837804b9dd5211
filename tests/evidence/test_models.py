"""What the database itself guarantees, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction

from evidence import identifiers
from evidence.models import Appraisal, Citation, ReportingState, Study
from tests.factories import (
    AppraisalFactory,
    CitationFactory,
    EffectSizeFactory,
    StudyFactory,
    WorkFactory,
)


def violates(factory, **kwargs) -> bool:
    try:
        with transaction.atomic():
            factory(**kwargs)
    except IntegrityError:
        return True
    return False


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://doi.org/10.1186/S12967-020-02592-4", "10.1186/s12967-020-02592-4"),
        ("doi: 10.1000/ABC.", "10.1000/abc"),
        ("10.1000/xyz [doi]", "10.1000/xyz"),
        ("", ""),
    ],
)
def test_doi_normalisation(raw, expected):
    assert identifiers.normalize_doi(raw) == expected


# The last: a link glued to a DOI, wider than the DOI columns (found by fuzzing RIS).
@pytest.mark.parametrize("raw", ["not-a-doi", "11.1000/x", "10.12/x", "10.1016/" + "x" * 250])
def test_bad_doi_is_refused(raw):
    with pytest.raises(identifiers.InvalidIdentifier, match="not a DOI"):
        identifiers.normalize_doi(raw)


def test_pmid_and_pmcid_normalisation():
    assert identifiers.normalize_pmid("PMID: 0033081809") == "33081809"
    assert identifiers.normalize_pmcid("pmc 4821226") == "PMC4821226"
    assert identifiers.normalize_pmcid("4821226") == "PMC4821226"
    with pytest.raises(identifiers.InvalidIdentifier):
        identifiers.normalize_pmid("12a")
    with pytest.raises(identifiers.InvalidIdentifier):
        identifiers.normalize_pmcid("PMCX1")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("33081809", "33081809"), (" 7 ", "7"), ("007", "7"), ("999999999", "999999999")],
)
def test_plain_pmids_are_kept(raw, expected):
    assert identifiers.normalize_pmid(raw) == expected


@pytest.mark.parametrize("raw", ["0", "000", "1234567890", "-5", "1e5"])
def test_numbers_that_are_not_pmids_are_refused(raw):
    with pytest.raises(identifiers.InvalidIdentifier):
        identifiers.normalize_pmid(raw)


def test_title_key_ignores_case_punctuation_and_accents_but_keeps_scripts():
    key = identifiers.normalize_title
    assert key("Mesenchymal Stromal Cells for Osteonécrosis.") == key(
        "mesenchymal stromal cells for osteonecrosis"
    )
    assert key("Состояние эндометрия") == "состояние эндометрия"


@pytest.mark.django_db
class TestStudyConstraints:
    def test_identifiers_unique_when_present_and_nullable_many_times(self):
        StudyFactory(pmid=None, doi=None)
        StudyFactory(pmid=None, doi=None)
        StudyFactory(pmid=1, doi="10.1/a")
        assert violates(StudyFactory, pmid=1, doi="10.1/b")
        assert violates(StudyFactory, pmid=2, doi="10.1/a")

    def test_doi_must_be_canonical_in_the_database(self):
        assert violates(StudyFactory, doi="10.1000/UPPER")
        assert violates(StudyFactory, doi="https://doi.org/10.1000/x")

    def test_pmcid_must_carry_its_prefix(self):
        assert violates(StudyFactory, pmcid="4821226")
        assert not violates(StudyFactory, pmcid="PMC4821226")

    def test_impossible_year_is_refused(self):
        assert violates(StudyFactory, pub_year=3024)
        assert violates(StudyFactory, pub_year=12)
        assert not violates(StudyFactory, pub_year=1998)

    def test_clean_normalises_identifiers_and_turns_blank_into_null(self):
        study = Study(title="x", pmid=None, doi="HTTPS://DOI.ORG/10.1000/ABC", pmcid="")
        study.clean()
        assert (study.doi, study.pmcid) == ("10.1000/abc", None)

    def test_clean_names_the_bad_field(self):
        study = Study(title="x", doi="nonsense")
        with pytest.raises(ValidationError) as excinfo:
            study.clean()
        assert "doi" in excinfo.value.message_dict


@pytest.mark.django_db
class TestAppraisalReportingStates:
    def test_reported_needs_a_value_and_other_states_refuse_one(self):
        assert violates(AppraisalFactory, population_state=ReportingState.REPORTED, population="")
        assert violates(
            AppraisalFactory, population_state=ReportingState.NOT_REPORTED, population="Adults"
        )
        assert not violates(
            AppraisalFactory, population_state=ReportingState.REPORTED, population="Adults"
        )

    def test_not_reported_differs_from_not_curated(self):
        silent = AppraisalFactory(safety_state=ReportingState.NOT_REPORTED)
        untouched = AppraisalFactory()
        assert untouched.safety_state == ReportingState.NOT_CURATED
        assert Appraisal.objects.filter(safety_state="not_reported").get() == silent

    def test_negative_sample_size_is_refused(self):
        assert violates(AppraisalFactory, sample_size_state="reported", sample_size=-5)
        assert not violates(AppraisalFactory, sample_size_state="reported", sample_size=0)

    def test_sample_size_reported_without_number_is_refused(self):
        assert violates(AppraisalFactory, sample_size_state="reported", sample_size=None)

    def test_risk_of_bias_names_its_tool(self):
        assert violates(AppraisalFactory, risk_of_bias="high")
        assert not violates(AppraisalFactory, risk_of_bias="high", risk_of_bias_tool="rob2")

    def test_clean_reports_each_field(self):
        appraisal = Appraisal(
            study=StudyFactory(),
            safety_state="reported",
            safety="",
            outcomes_state="not_reported",
            outcomes="Pain",
        )
        with pytest.raises(ValidationError) as excinfo:
            appraisal.clean()
        assert set(excinfo.value.message_dict) == {"safety", "outcomes_state"}


@pytest.mark.django_db
class TestEffectSizeConstraints:
    def test_ci_lower_above_upper_is_refused(self):
        assert violates(EffectSizeFactory, ci_lower=2.0, ci_upper=1.0)
        assert not violates(EffectSizeFactory, ci_lower=1.0, ci_upper=1.0)

    def test_p_value_outside_unit_interval_is_refused(self):
        assert violates(EffectSizeFactory, p_value=1.5)
        assert violates(EffectSizeFactory, p_value=-0.01)

    def test_negative_group_size_is_refused(self):
        assert violates(EffectSizeFactory, n_intervention=-1)


@pytest.mark.django_db
class TestCitationGraphConstraints:
    def test_a_work_appears_once_per_identifier(self):
        WorkFactory(pmid=42)
        assert violates(WorkFactory, pmid=42)

    def test_an_edge_appears_once(self):
        edge = CitationFactory()
        assert violates(CitationFactory, citing=edge.citing, cited=edge.cited)

    def test_a_work_cannot_cite_itself(self):
        work = WorkFactory()
        assert violates(CitationFactory, citing=work, cited=work)

    def test_deleting_a_study_keeps_its_node_and_edges(self):
        study = StudyFactory(pmid=42)
        node = WorkFactory(pmid=42, study=study)
        CitationFactory(citing=node)
        study.delete()
        node.refresh_from_db()
        assert node.study is None
        assert Citation.objects.filter(citing=node).count() == 1


@pytest.mark.django_db
def test_models_and_migrations_agree():
    out = io.StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


@pytest.mark.django_db
def test_production_settings_pass_the_deploy_check(monkeypatch):
    import subprocess
    import sys

    env = {
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "x" * 60 + "-a-long-random-production-secret-key",
        "DJANGO_ALLOWED_HOSTS": "evidb.example.org",
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_settings_refuse_to_start_without_a_secret_key():
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        env={"DJANGO_DEBUG": "0", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr
