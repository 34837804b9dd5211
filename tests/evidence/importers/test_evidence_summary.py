# Summaries are typeset prose: en dashes, minus signs and Greek letters are the real text.
from __future__ import annotations

import io

import pytest

from evidence.importers import evidence_summary
from evidence.importers.evidence_summary import NEEDS_CURATION_WARNING
from evidence.importers.records import (
    ConceptRecord,
    LimitationRecord,
    ParseError,
    ReportingState,
    StudyRecord,
)

SEED = "000_0dd471af31d152d3.txt"
APPRAISAL_FIELDS = (
    "population",
    "sample_size",
    "intervention",
    "comparator",
    "outcomes",
    "safety",
    "effect_measures",
)


def parse_text(text: str) -> StudyRecord:
    (record,) = evidence_summary.parse(io.BytesIO(text.encode("utf-8")), source_name="s.txt")
    assert isinstance(record, StudyRecord)
    return record


@pytest.fixture
def seed_record(seed_path) -> StudyRecord:
    path = seed_path(SEED)
    with path.open("rb") as stream:
        items = list(evidence_summary.parse(stream, source_name=str(path)))
    assert len(items) == 1
    assert isinstance(items[0], StudyRecord)
    return items[0]


def test_seed_is_an_unidentified_study_needing_curation(seed_record: StudyRecord) -> None:
    assert seed_record.title == ""
    assert (seed_record.pmid, seed_record.doi, seed_record.pmcid) == ("", "", "")
    assert seed_record.warnings == [NEEDS_CURATION_WARNING]
    assert (seed_record.location.record, seed_record.location.line) == (1, 1)


def test_seed_abstract_is_the_text_after_the_marker(seed_record: StudyRecord) -> None:
    assert seed_record.abstract.startswith("Steroid-induced osteonecrosis of the femoral head")
    assert seed_record.abstract.endswith("hip-preserving treatment strategies for SONFH.")
    assert "View Original Abstract" not in seed_record.abstract
    assert "↓" not in seed_record.abstract


def test_seed_design_and_reporting_states(seed_record: StudyRecord) -> None:
    appraisal = seed_record.appraisal
    assert appraisal is not None
    assert appraisal.design == "systematic_review"
    for name in APPRAISAL_FIELDS:
        value = getattr(appraisal, name)
        assert value.state == ReportingState.NOT_REPORTED, name
        assert value.value == ""
    # Never mentioned in the summary: left for a curator.
    assert (appraisal.risk_of_bias, appraisal.certainty) == ("", "")
    assert seed_record.effect_sizes == []


def test_seed_main_result_practice_relevance_and_notes(seed_record: StudyRecord) -> None:
    appraisal = seed_record.appraisal
    assert appraisal is not None
    assert appraisal.main_result == (
        "Its main result is the proposal of a four-axis pathological mechanism involving "
        "blood supply, lipid metabolism homeostasis, inflammation–immune regulation, and "
        "mechanical transduction to explain bone-muscle crosstalk in SONFH."
    )
    assert appraisal.practice_relevance == (
        "The practice relevance is restrained to guiding future research."
    )
    assert appraisal.notes.startswith("It is critical to recognize this publication")
    assert appraisal.notes.endswith("established through dedicated research.")


def test_seed_limitations(seed_record: StudyRecord) -> None:
    assert seed_record.limitations == [
        LimitationRecord(
            description=(
                "Insufficient systematic analysis of the interactive mechanisms between the "
                "proposed axes"
            ),
            category="evidence_synthesis",
            raised_by="authors",
        ),
        LimitationRecord(
            description=(
                "A lack of in-depth verification of bone-muscle crosstalk using "
                "multi-dimensional technologies"
            ),
            category="mechanistic_validation",
            raised_by="authors",
        ),
        LimitationRecord(
            description=(
                "Limited research on multi-target combined interventions aimed at the "
                "bone-muscle unit"
            ),
            category="intervention",
            raised_by="authors",
        ),
    ]


def test_seed_research_gaps_pair_proposals_with_limitations(seed_record: StudyRecord) -> None:
    first, second = seed_record.research_gaps
    assert first.future_direction == (
        "Strengthen systematic investigation into the interactive mechanisms among the "
        "multiple pathological axes"
    )
    assert first.description == seed_record.limitations[0].description
    assert first.category == "mechanism"
    assert second.future_direction == (
        "Develop combined intervention strategies targeting both bone and muscle"
    )
    assert second.description == seed_record.limitations[2].description
    assert second.category == "intervention"


def test_seed_concepts(seed_record: StudyRecord) -> None:
    appraisal = seed_record.appraisal
    assert appraisal is not None
    concepts = appraisal.concepts
    assert concepts[0] == ConceptRecord(
        name="steroid-induced osteonecrosis of the femoral head (SONFH)", kind="condition"
    )
    mechanisms = [concept.name for concept in concepts if concept.kind == "mechanism"]
    assert mechanisms[:4] == [
        "blood supply",
        "lipid metabolism homeostasis",
        "inflammation–immune regulation",
        "mechanical transduction",
    ]
    for pathway in ("HIF-1α/VEGF", "NO/eNOS", "PI3K/Akt/mTOR", "NF-κB", "STAT3", "PPARγ", "PGC-1α"):
        assert pathway in mechanisms
    # The condition's abbreviation and parts of slash-joined pathways are not extra concepts.
    assert "SONFH" not in mechanisms
    assert "VEGF" not in mechanisms
    assert len({name.casefold() for name in mechanisms}) == len(mechanisms)


RCT_SUMMARY = """\
A randomized controlled trial evaluated once-weekly semaglutide versus placebo in adults with \
type 2 diabetes mellitus (T2DM) and obesity. The trial enrolled 120 patients aged 40 to 70 years \
with inadequately controlled T2DM across four centres. The intervention was semaglutide 1 mg \
once weekly for 26 weeks, compared with matching placebo. The primary outcome was the change in \
glycated haemoglobin from baseline to week 26. Its main result is a greater reduction in glycated \
haemoglobin with semaglutide than with placebo (mean difference −1.1 percentage points, 95% CI \
−1.4 to −0.8; p < 0.001). Gastrointestinal adverse events were more frequent with semaglutide, \
but no serious adverse events were attributed to treatment.
The authors acknowledge several limitations, including the short follow-up, the small sample \
size, and the open-label design. The practice relevance is that clinicians may consider \
semaglutide for patients not reaching glycaemic targets on metformin. This applies mainly to \
adults without cardiovascular disease. The authors suggest that future trials should extend \
follow-up beyond one year and enrol more diverse populations.
View Original Abstract ↓
Background: Semaglutide is a GLP-1 receptor agonist. Its effects are mediated through \
GLP-1R/cAMP signalling and AMPK activation in target tissues.

Methods: We randomly assigned 120 adults to semaglutide or placebo.
"""


def test_rct_summary_reports_what_the_trial_reported() -> None:
    record = parse_text(RCT_SUMMARY)
    appraisal = record.appraisal
    assert appraisal is not None
    assert appraisal.design == "rct"
    for name in APPRAISAL_FIELDS:
        assert getattr(appraisal, name).state == ReportingState.REPORTED, name
    assert appraisal.sample_size.value == "120"
    assert appraisal.population.value.startswith("patients aged 40 to 70 years with")
    assert appraisal.intervention.value == "semaglutide 1 mg once weekly for 26 weeks"
    assert appraisal.comparator.value == "matching placebo"
    assert appraisal.outcomes.value == (
        "the change in glycated haemoglobin from baseline to week 26"
    )
    assert appraisal.safety.value.startswith("Gastrointestinal adverse events")
    assert "95% CI" in appraisal.effect_measures.value
    assert appraisal.main_result.startswith("Its main result is a greater reduction")
    # The unlabelled sentence after the practice relevance continues it.
    assert appraisal.practice_relevance.endswith("adults without cardiovascular disease.")
    assert record.abstract.startswith("Background: Semaglutide")
    assert "\n\nMethods:" in record.abstract


def test_rct_summary_effect_size() -> None:
    (effect,) = parse_text(RCT_SUMMARY).effect_sizes
    assert effect.measure == "MD"
    assert (effect.value, effect.ci_lower, effect.ci_upper) == (-1.1, -1.4, -0.8)
    assert effect.ci_level == pytest.approx(95)
    assert effect.p_value is None  # "p < 0.001" is a bound, kept in the note
    assert "p < 0.001" in effect.note


def test_rct_summary_limitations_gaps_and_concepts() -> None:
    record = parse_text(RCT_SUMMARY)
    assert [(item.description, item.category) for item in record.limitations] == [
        ("The short follow-up", "follow_up"),
        ("The small sample size", "sample_size"),
        ("The open-label design", "bias_confounding"),
    ]
    assert [
        (gap.future_direction, gap.description, gap.category) for gap in record.research_gaps
    ] == [
        ("Extend follow-up beyond one year", "The short follow-up", "long_term_follow_up"),
        ("Enrol more diverse populations", "Enrol more diverse populations", "population"),
    ]
    appraisal = record.appraisal
    assert appraisal is not None
    assert ConceptRecord("type 2 diabetes mellitus (T2DM)", "condition") in appraisal.concepts
    names = {concept.name for concept in appraisal.concepts}
    assert {"GLP-1R/cAMP", "AMPK"} <= names
    assert "T2DM" not in names


def test_unmentioned_fields_stay_not_curated() -> None:
    record = parse_text(
        "A retrospective cohort study followed 2,450 adults with hip fractures in Denmark. "
        "Its main finding is that early surgery was associated with lower mortality. "
        "Limitations include residual confounding and missing frailty data.\n"
        "View Original Abstract ↓\nWe studied hip fractures."
    )
    appraisal = record.appraisal
    assert appraisal is not None
    assert appraisal.design == "cohort"
    assert appraisal.sample_size.state == ReportingState.REPORTED
    assert appraisal.sample_size.value == "2450"
    assert appraisal.population.value == "adults with hip fractures in Denmark"
    for name in ("intervention", "comparator", "outcomes", "safety", "effect_measures"):
        assert getattr(appraisal, name).state == ReportingState.NOT_CURATED, name
    assert appraisal.main_result.startswith("Its main finding is that early surgery")
    # No mention of the authors: the reviewer raised these.
    assert [(item.description, item.category, item.raised_by) for item in record.limitations] == [
        ("Residual confounding", "bias_confounding", "reviewer"),
        ("Missing frailty data", "other", "reviewer"),
    ]
    assert record.research_gaps == []


@pytest.mark.parametrize(
    ("opening", "design"),
    [
        ("A systematic review and meta-analysis pooled 14 trials.", "meta_analysis"),
        ("A meta-analysis of cohort studies estimated the risk.", "meta_analysis"),
        ("A narrative review of randomized trials discussed dosing.", "narrative_review"),
        ("A double-blind, randomised, placebo-controlled trial tested X.", "rct"),
        ("A non-randomized controlled trial compared two clinics.", "non_randomised_trial"),
        ("A case-control study compared exposures.", "case_control"),
        ("A cross-sectional survey of nurses asked about burnout.", "cross_sectional"),
        ("A case report describes a rare complication.", "case_series"),
        ("An animal study in a rat model tested a graft.", "animal"),
        ("An in vitro study exposed osteoblasts to steroids.", "in_vitro"),
        ("A clinical practice guideline from the society.", "guideline"),
        ("A study protocol for a randomized controlled trial.", "protocol"),
        ("An editorial commented on trends.", "other"),
    ],
)
def test_design_from_the_opening_sentence(opening: str, design: str) -> None:
    record = parse_text(f"{opening} The authors discuss it.\nView Original Abstract ↓\nText.")
    assert record.appraisal is not None
    assert record.appraisal.design == design


def test_missing_marker_leaves_abstract_empty_with_a_warning() -> None:
    record = parse_text("A systematic review found little. Its main result is nothing.")
    assert record.abstract == ""
    assert any("View Original Abstract" in warning for warning in record.warnings)
    assert record.warnings[-1] == NEEDS_CURATION_WARNING
    assert record.appraisal is not None
    assert record.appraisal.main_result == "Its main result is nothing."


def test_empty_file_raises_parse_error() -> None:
    with pytest.raises(ParseError, match="empty file") as info:
        list(evidence_summary.parse(io.BytesIO(b"\n \n"), source_name="empty.txt"))
    assert info.value.location.source == "empty.txt"
