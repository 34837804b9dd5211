"""Controlled vocabularies. Values are stable API/JSON strings; labels are for people."""

from __future__ import annotations

from django.db import models


class ReviewStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    REVIEWED = "reviewed", "Reviewed"
    EXCLUDED = "excluded", "Excluded"


class DatePrecision(models.TextChoices):
    YEAR = "year", "Year"
    MONTH = "month", "Month"
    DAY = "day", "Day"


class StudyDesign(models.TextChoices):
    SYSTEMATIC_REVIEW = "systematic_review", "Systematic review"
    META_ANALYSIS = "meta_analysis", "Meta-analysis"
    NARRATIVE_REVIEW = "narrative_review", "Narrative review"
    RCT = "rct", "Randomised controlled trial"
    NON_RANDOMISED_TRIAL = "non_randomised_trial", "Non-randomised trial"
    COHORT = "cohort", "Cohort study"
    CASE_CONTROL = "case_control", "Case-control study"
    CROSS_SECTIONAL = "cross_sectional", "Cross-sectional study"
    CASE_SERIES = "case_series", "Case series / case report"
    ANIMAL = "animal", "Animal study"
    IN_VITRO = "in_vitro", "In-vitro study"
    GUIDELINE = "guideline", "Guideline"
    PROTOCOL = "protocol", "Protocol"
    OTHER = "other", "Other"


class ReportingState(models.TextChoices):
    """*Not reported* (the study is silent) differs from *not yet curated* (nobody looked)."""

    NOT_CURATED = "not_curated", "Not yet curated"
    REPORTED = "reported", "Reported"
    NOT_REPORTED = "not_reported", "Not reported"
    NOT_APPLICABLE = "not_applicable", "Not applicable"


class RiskOfBias(models.TextChoices):
    LOW = "low", "Low"
    SOME_CONCERNS = "some_concerns", "Some concerns"
    HIGH = "high", "High"


class RiskOfBiasTool(models.TextChoices):
    ROB2 = "rob2", "RoB 2"
    ROBINS_I = "robins_i", "ROBINS-I"
    ROBINS_E = "robins_e", "ROBINS-E"
    QUADAS2 = "quadas2", "QUADAS-2"
    AMSTAR2 = "amstar2", "AMSTAR 2"
    ROBIS = "robis", "ROBIS"
    NEWCASTLE_OTTAWA = "newcastle_ottawa", "Newcastle-Ottawa Scale"
    SYRCLE = "syrcle", "SYRCLE (animal studies)"
    OTHER = "other", "Other"


class Certainty(models.TextChoices):
    """GRADE certainty of evidence."""

    HIGH = "high", "High"
    MODERATE = "moderate", "Moderate"
    LOW = "low", "Low"
    VERY_LOW = "very_low", "Very low"


class EffectMeasure(models.TextChoices):
    ODDS_RATIO = "OR", "Odds ratio"
    RISK_RATIO = "RR", "Risk ratio"
    HAZARD_RATIO = "HR", "Hazard ratio"
    MEAN_DIFFERENCE = "MD", "Mean difference"
    STANDARDISED_MEAN_DIFFERENCE = "SMD", "Standardised mean difference"
    RISK_DIFFERENCE = "RD", "Risk difference"
    OTHER = "other", "Other"


class LimitationCategory(models.TextChoices):
    STUDY_DESIGN = "study_design", "Study design"
    SAMPLE_SIZE = "sample_size", "Sample size"
    BIAS_CONFOUNDING = "bias_confounding", "Bias / confounding"
    HETEROGENEITY = "heterogeneity", "Heterogeneity"
    FOLLOW_UP = "follow_up", "Follow-up"
    GENERALISABILITY = "generalisability", "Generalisability"
    MECHANISTIC_VALIDATION = "mechanistic_validation", "Mechanistic validation"
    EVIDENCE_SYNTHESIS = "evidence_synthesis", "Evidence synthesis"
    INTERVENTION = "intervention", "Intervention"
    OTHER = "other", "Other"


class RaisedBy(models.TextChoices):
    AUTHORS = "authors", "Study authors"
    REVIEWER = "reviewer", "Reviewer"


class ResearchGapCategory(models.TextChoices):
    MECHANISM = "mechanism", "Mechanism"
    INTERVENTION = "intervention", "Intervention"
    POPULATION = "population", "Population"
    OUTCOME_MEASUREMENT = "outcome_measurement", "Outcome measurement"
    METHODOLOGY = "methodology", "Methodology"
    LONG_TERM_FOLLOW_UP = "long_term_follow_up", "Long-term follow-up"
    EVIDENCE_SYNTHESIS = "evidence_synthesis", "Evidence synthesis"
    OTHER = "other", "Other"


class ConceptKind(models.TextChoices):
    TOPIC = "topic", "Topic"
    CONDITION = "condition", "Condition"
    MECHANISM = "mechanism", "Mechanism"


class ImportStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    DRY_RUN = "dry_run", "Dry run"
