# Variants of the evidence-summary style about other studies and designs: the same tool's
# prose, worded differently, with lists, other effect-size styles and damaged files.
from __future__ import annotations

import io

import pytest

from evidence.importers import evidence_summary
from evidence.importers.evidence_summary import NEEDS_CURATION_WARNING
from evidence.importers.records import (
    AppraisalRecord,
    LimitationRecord,
    ParseError,
    ReportingState,
    StudyRecord,
)
from evidence.services.values import validate

REPORTED = ReportingState.REPORTED
NOT_REPORTED = ReportingState.NOT_REPORTED
NOT_CURATED = ReportingState.NOT_CURATED
NOT_APPLICABLE = ReportingState.NOT_APPLICABLE


def parse_text(text: str, *, newline: str = "\n") -> StudyRecord:
    data = text.replace("\n", newline).encode("utf-8")
    (record,) = evidence_summary.parse(io.BytesIO(data), source_name="summary.txt")
    assert isinstance(record, StudyRecord)
    return record


def appraisal_of(text: str) -> AppraisalRecord:
    appraisal = parse_text(text).appraisal
    assert appraisal is not None
    return appraisal


def summary(*sentences: str, abstract: str = "Abstract text.") -> str:
    return " ".join(sentences) + f"\nView Original Abstract ↓\n{abstract}"


# --- a whole summary in another layout ------------------------------------------------

COHORT_WITH_LISTS = """\
A retrospective cohort study of 312 patients with osteonecrosis of the femoral head (ONFH) \
assessed core decompression with autologous bone marrow concentrate.


The authors did not specify the comparator. Safety outcomes were not reported. Its main \
result is that radiographic collapse at five years was less frequent after decompression \
(HR 0.58 [95% CI 0.41 to 0.82]; P = 0.002).

The authors acknowledge the following limitations:
1. the retrospective design;
2. the short follow-up, which was under two years for a third of hips;
3. the lack of a control group.

Future research should:
(a) compare decompression with and without cell therapy in randomized trials;
(b) standardise the preparation of bone marrow concentrate.
View Original Abstract ↓

BACKGROUND: Core decompression is the standard joint-preserving procedure.
METHODS: We reviewed 312 patients treated between 2008 and 2018.
RESULTS: Collapse occurred in 18% of hips.
CONCLUSIONS: Decompression delays collapse.
"""


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_numbered_limitations_become_one_limitation_each(newline: str) -> None:
    record = parse_text(COHORT_WITH_LISTS, newline=newline)
    assert record.limitations == [
        LimitationRecord("The retrospective design", "study_design", "authors"),
        LimitationRecord(
            "The short follow-up, which was under two years for a third of hips",
            "follow_up",
            "authors",
        ),
        LimitationRecord("The lack of a control group", "study_design", "authors"),
    ]


def test_lettered_future_directions_become_one_research_gap_each() -> None:
    record = parse_text(COHORT_WITH_LISTS)
    assert [gap.future_direction for gap in record.research_gaps] == [
        "Compare decompression with and without cell therapy in randomized trials",
        "Standardise the preparation of bone marrow concentrate",
    ]
    assert [gap.category for gap in record.research_gaps] == ["intervention", "methodology"]


def test_cohort_reporting_states_sample_and_population() -> None:
    appraisal = parse_text(COHORT_WITH_LISTS, newline="\r\n").appraisal
    assert appraisal is not None
    assert appraisal.design == "cohort"
    assert (appraisal.sample_size.state, appraisal.sample_size.value) == (REPORTED, "312")
    # The sentence's own verb ("assessed") ends the population.
    assert appraisal.population.value == "patients with osteonecrosis of the femoral head (ONFH)"
    assert appraisal.comparator.state == NOT_REPORTED
    # "Safety outcomes" speaks of safety only, not of the study's outcomes.
    assert appraisal.safety.state == NOT_REPORTED
    assert appraisal.outcomes.state == NOT_CURATED
    assert appraisal.main_result.startswith("Its main result is that radiographic collapse")


def test_structured_original_abstract_keeps_its_sections() -> None:
    record = parse_text(COHORT_WITH_LISTS, newline="\r\n")
    assert record.abstract.startswith("BACKGROUND: Core decompression")
    assert [(s.label, s.category) for s in record.abstract_sections] == [
        ("BACKGROUND", "BACKGROUND"),
        ("METHODS", "METHODS"),
        ("RESULTS", "RESULTS"),
        ("CONCLUSIONS", "CONCLUSIONS"),
    ]
    assert record.abstract_sections[2].text == "Collapse occurred in 18% of hips."
    assert record.warnings == [NEEDS_CURATION_WARNING]


def test_bulleted_limitations_under_a_bare_heading() -> None:
    record = parse_text(
        "A case report describes bilateral osteonecrosis in a 34-year-old woman after "
        "dexamethasone for COVID-19. Its main result is the onset of hip pain within three "
        "months of steroid exposure.\n"
        "Limitations\n"
        "• single patient\n"
        "• no histological confirmation, and\n"
        "• limited follow-up\n"
        "Further studies are needed to establish the incidence of this complication.\n"
        "View Original Abstract ↓\nWe report a case."
    )
    assert [(item.description, item.category) for item in record.limitations] == [
        ("Single patient", "sample_size"),
        ("No histological confirmation", "other"),
        ("Limited follow-up", "follow_up"),
    ]
    assert [gap.future_direction for gap in record.research_gaps] == [
        "Establish the incidence of this complication"
    ]
    appraisal = record.appraisal
    assert appraisal is not None
    # "this complication" in a future-research sentence is no safety finding of the study.
    assert appraisal.safety.state == NOT_CURATED
    assert appraisal.design == "case_series"
    # "a 34-year-old woman" is one case, but no count is written: not guessed.
    assert appraisal.sample_size.state == NOT_CURATED


def test_semicolon_separated_limitations_keep_their_commas() -> None:
    record = parse_text(
        summary(
            "A cross-sectional survey of nurses assessed burnout.",
            "The authors note several limitations: recall bias; a single, small centre; "
            "and incomplete follow-up.",
        )
    )
    assert [item.description for item in record.limitations] == [
        "Recall bias",
        "A single, small centre",
        "Incomplete follow-up",
    ]


def test_inline_enumerated_limitations_lose_their_numbers() -> None:
    record = parse_text(
        summary(
            "A randomized trial tested a splint.",
            "Limitations include (1) the small sample, (2) the short follow-up, and (3) the "
            "open-label design.",
        )
    )
    assert [item.description for item in record.limitations] == [
        "The small sample",
        "The short follow-up",
        "The open-label design",
    ]


# --- reporting statements worded differently -------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "field"),
    [
        ("The authors did not specify the sample size.", "sample_size"),
        ("No comparator was described.", "comparator"),
        ("The population was not reported.", "population"),
        ("There was no information on safety.", "safety"),
        ("Adverse events were not assessed.", "safety"),
        ("The sample size was unspecified.", "sample_size"),
        ("Safety was not discussed.", "safety"),
        ("The primary outcomes were not stated.", "outcomes"),
    ],
)
def test_not_reported_in_other_words(sentence: str, field: str) -> None:
    appraisal = appraisal_of(summary("A prospective cohort study examined statins.", sentence))
    assert getattr(appraisal, field).state == NOT_REPORTED
    assert getattr(appraisal, field).value == ""


def test_a_field_that_only_qualifies_another_is_not_marked() -> None:
    appraisal = appraisal_of(
        summary(
            "A prospective cohort study examined statins and dementia.",
            "Effect sizes for the primary outcome were not reported.",
            "The number of participants was not stated.",
        )
    )
    assert appraisal.effect_measures.state == NOT_REPORTED
    assert appraisal.sample_size.state == NOT_REPORTED
    # The outcome says which effect sizes; the participants say what was counted.
    assert appraisal.outcomes.state == NOT_CURATED
    assert appraisal.population.state == NOT_CURATED


def test_not_applicable_is_its_own_state() -> None:
    appraisal = appraisal_of(
        summary(
            "A case report describes avascular necrosis after a short steroid course.",
            "The report did not describe a comparator, and effect sizes are not applicable.",
        )
    )
    assert appraisal.comparator.state == NOT_REPORTED
    assert appraisal.effect_measures.state == NOT_APPLICABLE


@pytest.mark.parametrize(
    "sentence",
    [
        "No adverse events were reported.",
        "No serious complications were recorded during follow-up.",
    ],
)
def test_no_adverse_events_reported_is_ambiguous_and_stays_not_curated(sentence: str) -> None:
    # The study may have reported none, or not have reported on them: not guessed.
    appraisal = appraisal_of(summary("A randomized trial enrolled 80 adults with gout.", sentence))
    assert appraisal.safety.state == NOT_CURATED


def test_adverse_events_that_occurred_are_reported() -> None:
    appraisal = appraisal_of(
        summary(
            "A randomized trial enrolled 80 adults with gout.",
            "No serious adverse events occurred.",
        )
    )
    assert appraisal.safety.state == REPORTED
    assert appraisal.safety.value == "No serious adverse events occurred."


def test_outcome_words_inside_results_are_not_safety_reports() -> None:
    appraisal = appraisal_of(
        summary(
            "A retrospective cohort study reviewed outcomes after hip arthroplasty.",
            "Complications occurred in 12 patients, and 3 of 40 patients required revision.",
            "Its main result is that frailty predicted complications.",
        )
    )
    assert appraisal.safety.state == NOT_CURATED
    # Counts of events are not the study's sample.
    assert appraisal.sample_size.state == NOT_CURATED


def test_future_and_limitation_sentences_report_nothing_about_the_study() -> None:
    appraisal = appraisal_of(
        summary(
            "A cohort study followed 500 adults with osteoarthritis.",
            "Future trials should report adverse events systematically.",
            "Limitations include the lack of a comparator arm with 40 patients.",
        )
    )
    assert appraisal.safety.state == NOT_CURATED
    assert appraisal.comparator.state == NOT_CURATED
    assert appraisal.sample_size.value == "500"


# --- sample sizes ------------------------------------------------------------------------


SAMPLE_SIZES = [
    ("A multicentre randomized trial enrolled 1,234 participants with heart failure.", "1234"),
    ("A randomised trial tested physiotherapy in knee osteoarthritis (n = 56).", "56"),
    ("A prospective cohort study assessed frailty. A total of 1,234 participants were included.",
     "1234"),
    ("A cross-sectional study assessed vitamin D. 1,200 participants were surveyed.", "1200"),
    ("A cross-sectional study assessed vitamin D. The sample size was 845.", "845"),
    ("A phase 3 trial randomly assigned 450 patients with psoriasis to bimekizumab or placebo.",
     "450"),
    ("A meta-analysis of 18 trials with 4,512 participants examined statins.", "4512"),
]  # fmt: skip


@pytest.mark.parametrize(("prose", "size"), SAMPLE_SIZES)
def test_sample_size_written_in_several_ways(prose: str, size: str) -> None:
    appraisal = appraisal_of(summary(prose))
    assert appraisal.sample_size.state == REPORTED
    assert appraisal.sample_size.value == size


def test_arm_sizes_are_not_the_total() -> None:
    appraisal = appraisal_of(
        summary(
            "A randomized trial compared surgery (n = 30) with physiotherapy (n = 26) in "
            "adults with meniscal tears."
        )
    )
    assert appraisal.sample_size.state == NOT_CURATED


def test_a_subgroup_size_is_not_the_total() -> None:
    appraisal = appraisal_of(
        summary(
            "A prospective cohort study assessed frailty and surgical outcomes.",
            "In the subgroup with diabetes (n = 40), risk was higher.",
        )
    )
    assert appraisal.sample_size.state == NOT_CURATED


def test_randomly_assigned_trial_gives_design_arms_and_population() -> None:
    appraisal = appraisal_of(
        summary(
            "A phase 3 trial randomly assigned 450 patients with plaque psoriasis to "
            "bimekizumab or placebo."
        )
    )
    assert appraisal.design == "rct"
    assert appraisal.population.value == "patients with plaque psoriasis"
    assert appraisal.intervention.value == "bimekizumab"
    assert appraisal.comparator.value == "placebo"


def test_protocol_outcome_in_the_future_tense() -> None:
    appraisal = appraisal_of(
        summary(
            "This study protocol describes a planned randomised controlled trial of core "
            "decompression in adults with early ONFH.",
            "The primary outcome will be radiographic collapse at two years.",
            "As a protocol, no results are available; effect sizes and safety data were "
            "therefore not reported.",
        )
    )
    assert appraisal.design == "protocol"
    assert appraisal.outcomes.value == "radiographic collapse at two years"
    assert appraisal.effect_measures.state == NOT_REPORTED
    assert appraisal.safety.state == NOT_REPORTED


# --- effect sizes ------------------------------------------------------------------------


EFFECT_SIZES = [
    ("(hazard ratio 0.74, 95% CI: 0.65–0.85, p < 0.001)", ("HR", 0.74, 0.65, 0.85, None)),
    ("(HR 0.83 [95% CI 0.71 to 0.97]; P = 0.02)", ("HR", 0.83, 0.71, 0.97, 0.02)),
    ("(RR = 0.66, 95% CI 0.55-0.78)", ("RR", 0.66, 0.55, 0.78, None)),
    ("an odds ratio of 1.45 (95% confidence interval 1.20 to 1.75, p=0.003)",
     ("OR", 1.45, 1.2, 1.75, 0.003)),
    ("a mean difference of 3.2 µg/L (95% CI [1.1, 5.3])", ("MD", 3.2, 1.1, 5.3, None)),
    ("the mean difference was 2.3 mmHg (95% CI, 1.1 to 3.5)", ("MD", 2.3, 1.1, 3.5, None)),
    ("a standardised mean difference of −0.42 (95% CI −0.61 to −0.23)",
     ("SMD", -0.42, -0.61, -0.23, None)),
    ("(hazard ratio (HR) 0.71, 95% CI 0.60 to 0.84; P = .04)", ("HR", 0.71, 0.6, 0.84, 0.04)),
    ("(aOR 0.55, 95% CI 0.40–0.76)", ("OR", 0.55, 0.4, 0.76, None)),
    ("(OR 0.62; 95% confidence interval 0.5 to 0.9)", ("OR", 0.62, 0.5, 0.9, None)),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), EFFECT_SIZES)
def test_effect_sizes_in_several_styles(
    text: str, expected: tuple[str, float, float, float, float | None]
) -> None:
    record = parse_text(
        summary("A meta-analysis of cohort studies assessed coffee.", f"Risk was lower {text}.")
    )
    (effect,) = record.effect_sizes
    assert (effect.measure, effect.value, effect.ci_lower, effect.ci_upper, effect.p_value) == (
        expected
    )
    assert effect.ci_level == pytest.approx(95)
    # The note is the estimate as written, its brackets paired.
    assert effect.note.count("(") == effect.note.count(")")
    assert effect.note.count("[") == effect.note.count("]")
    appraisal = record.appraisal
    assert appraisal is not None
    assert appraisal.effect_measures.state == REPORTED


def test_several_effect_sizes_in_one_summary_keep_their_order() -> None:
    record = parse_text(
        summary(
            "A randomized trial enrolled 1,234 participants with chronic heart failure.",
            "Its main result is fewer hospitalisations (HR 0.74, 95% CI 0.65–0.85).",
            "Mortality was also lower (RR 0.83, 95% CI 0.71 to 0.97; P = 0.02), and the "
            "mean difference in the symptom score was 4.1 points (95% CI 2.0 to 6.2).",
        )
    )
    assert [(e.measure, e.value) for e in record.effect_sizes] == [("HR", 0.74), ("RR", 0.83)]
    assert record.effect_sizes[1].p_value == 0.02


def test_interval_without_its_level_is_not_read_as_a_ci() -> None:
    # "(0.70 to 0.92)" may be a range or an IQR: the estimate is kept, the interval is not.
    (effect,) = parse_text(
        summary("A cohort study examined X.", "Risk was lower (RR 0.80 (0.70 to 0.92)).")
    ).effect_sizes
    assert (effect.measure, effect.value) == ("RR", 0.8)
    assert (effect.ci_lower, effect.ci_upper, effect.ci_level) == (None, None, None)


# --- topics worded differently ---------------------------------------------------------


def test_main_result_practice_and_future_in_other_words() -> None:
    record = parse_text(
        summary(
            "A randomized trial compared two analgesics after knee surgery.",
            "The study’s main finding was less opioid use with ibuprofen.",
            "The relevance for practice is that ibuprofen may be preferred.",
            "More research is needed on long-term safety.",
            "Randomized trials are needed to confirm these findings in older adults.",
        )
    )
    appraisal = record.appraisal
    assert appraisal is not None
    assert appraisal.main_result == "The study’s main finding was less opioid use with ibuprofen."
    assert appraisal.practice_relevance == (
        "The relevance for practice is that ibuprofen may be preferred."
    )
    assert [gap.future_direction for gap in record.research_gaps] == [
        "Research on long-term safety",
        "Confirm these findings in older adults",
    ]


def test_the_study_found_that_is_the_main_result() -> None:
    appraisal = appraisal_of(
        summary(
            "A randomized trial compared two analgesics.",
            "The study found that ibuprofen reduced opioid use.",
        )
    )
    assert appraisal.main_result == "The study found that ibuprofen reduced opioid use."


def test_a_call_for_research_without_a_direction_is_a_note() -> None:
    record = parse_text(
        summary(
            "A case report describes osteonecrosis after steroid therapy.",
            "The practice relevance is that clinicians should ask about steroid exposure.",
            "Further research is warranted.",
        )
    )
    appraisal = record.appraisal
    assert appraisal is not None
    assert appraisal.practice_relevance == (
        "The practice relevance is that clinicians should ask about steroid exposure."
    )
    assert appraisal.notes == "Further research is warranted."
    assert record.research_gaps == []


@pytest.mark.parametrize(
    "sentence",
    [
        "No limitations were reported.",
        "Limitations were not discussed by the authors.",
        "The authors did not acknowledge any limitations.",
    ],
)
def test_no_limitations_stated_gives_no_limitation(sentence: str) -> None:
    record = parse_text(summary("A cohort study examined statins.", sentence))
    assert record.limitations == []
    assert record.appraisal is not None
    assert record.appraisal.notes == sentence


def test_sections_in_another_order() -> None:
    record = parse_text(
        summary(
            "A meta-analysis of randomized trials evaluated aspirin for primary prevention.",
            "The authors suggest that future trials should target high-risk groups.",
            "Limitations include heterogeneity between trials.",
            "Its main result is a small reduction in cardiovascular events.",
            "Safety data were not reported.",
        )
    )
    appraisal = record.appraisal
    assert appraisal is not None
    assert appraisal.main_result == "Its main result is a small reduction in cardiovascular events."
    assert appraisal.safety.state == NOT_REPORTED
    assert [item.description for item in record.limitations] == ["Heterogeneity between trials"]
    assert [gap.future_direction for gap in record.research_gaps] == ["Target high-risk groups"]


def test_non_ascii_prose() -> None:
    record = parse_text(
        summary(
            "A cohort study followed 5,000 adults aged ≥65 years with hypertension.",
            "Its main result is that serum 25(OH)D ≥30 µg/L was associated with lower risk "
            "(HR 0.81; 95% CI 0.70–0.93).",
        )
    )
    appraisal = record.appraisal
    assert appraisal is not None
    assert appraisal.population.value == "adults aged ≥65 years with hypertension"
    (effect,) = record.effect_sizes
    assert (effect.ci_lower, effect.ci_upper) == (0.7, 0.93)


# --- marker and file shape -------------------------------------------------------------


def test_no_marker_but_a_structured_abstract_is_still_the_abstract() -> None:
    record = parse_text(
        "A study protocol describes a planned randomized trial of vitamin D in older adults.\n"
        "BACKGROUND: Vitamin D deficiency is common.\n"
        "METHODS: We will randomize 400 adults.\n"
        "CONCLUSIONS: The trial will inform practice.\n"
    )
    assert record.abstract.startswith("BACKGROUND: Vitamin D deficiency is common.")
    assert [s.category for s in record.abstract_sections] == [
        "BACKGROUND",
        "METHODS",
        "CONCLUSIONS",
    ]
    assert record.warnings[0] == (
        "no 'View Original Abstract' marker: abstract taken from the structured abstract at line 2"
    )
    appraisal = record.appraisal
    assert appraisal is not None
    assert appraisal.design == "protocol"
    assert appraisal.notes == ""  # the abstract did not leak into the appraisal


def test_no_marker_and_an_unlabelled_paragraph_is_not_guessed_to_be_the_abstract() -> None:
    record = parse_text(
        "A cohort study examined statins. Its main result is lower risk.\n\n"
        "Statins were associated with lower risk in this cohort.\n"
    )
    assert record.abstract == ""
    assert record.warnings[0] == "no 'View Original Abstract' marker: abstract left empty"


@pytest.mark.parametrize("marker", ["View Original Abstract:", "View original abstract ?"])
def test_marker_variants_do_not_leak_into_the_abstract(marker: str) -> None:
    record = parse_text(f"A cohort study examined statins.\n{marker}\nStatins work.")
    assert record.abstract == "Statins work."


def test_two_summaries_in_one_file_is_a_clear_error() -> None:
    text = (
        "A cohort study examined X.\nView Original Abstract ↓\nAbstract one.\n"
        "A randomized trial tested Y.\nView Original Abstract ↓\nAbstract two.\n"
    )
    with pytest.raises(ParseError, match=r"2 'View Original Abstract' markers \(lines 2, 5\)"):
        parse_text(text)


def test_file_truncated_after_the_marker_says_so() -> None:
    record = parse_text("A cohort study examined statins.\nView Original Abstract ↓\n\n")
    assert record.abstract == ""
    assert record.warnings[0].startswith("nothing after the 'View Original Abstract' marker")


@pytest.mark.parametrize(
    ("appraisal_text", "result_text", "outcomes"),
    [
        # The words before an estimate name what it measures...
        (
            "A meta-analysis of cohort studies assessed coffee.",
            "Coffee lowered mortality (RR 0.80, 95% CI 0.70-0.90) and hospitalisation "
            "(RR 0.70, 95% CI 0.60-0.80).",
            ["Coffee lowered mortality", "hospitalisation"],
        ),
        # ...and an estimate that opens its sentence is about the stated outcome.
        (
            "A randomised trial. The primary outcome was pain at 6 weeks.",
            "HR 0.80 (95% CI 0.70-0.90) favoured drug A.",
            ["pain at 6 weeks"],
        ),
        (
            "A randomised trial of drug A.",
            "HR 0.80 (95% CI 0.70-0.90) favoured drug A.",
            ["outcome not named"],
        ),
    ],
)
def test_every_effect_size_names_an_outcome(appraisal_text, result_text, outcomes) -> None:
    # An effect size needs an outcome to be stored: without one, every summary with an
    # estimate failed to import ("effect_sizes[0].outcome: required").
    record = parse_text(summary(appraisal_text, result_text))

    assert [effect.outcome for effect in record.effect_sizes] == outcomes
    assert validate(record) == []
