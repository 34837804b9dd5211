"""Appraisal of a study: design, PICO with reporting states, effects, limits and gaps."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from evidence.models.bibliographic import Study
from evidence.models.choices import (
    Certainty,
    ConceptKind,
    EffectMeasure,
    LimitationCategory,
    RaisedBy,
    ReportingState,
    ResearchGapCategory,
    RiskOfBias,
    RiskOfBiasTool,
    StudyDesign,
)

# Appraisal fields that carry a reporting state; "sample_size" holds a number.
REPORTED_TEXT_FIELDS = (
    "population",
    "intervention",
    "comparator",
    "outcomes",
    "safety",
    "effect_measures",
)
REPORTED_FIELDS = (
    "population",
    "sample_size",
    "intervention",
    "comparator",
    "outcomes",
    "safety",
    "effect_measures",
)


def _state_field(label: str) -> models.CharField:
    return models.CharField(
        f"{label}: reporting state",
        max_length=16,
        choices=ReportingState.choices,
        default=ReportingState.NOT_CURATED,
    )


def _state_matches_value(field: str) -> models.CheckConstraint:
    """A value is present exactly when the state says *reported*."""
    reported = Q(**{f"{field}_state": ReportingState.REPORTED})
    has_value = Q(sample_size__isnull=False) if field == "sample_size" else ~Q(**{field: ""})
    return models.CheckConstraint(
        condition=(reported & has_value) | (~reported & ~has_value),
        name=f"appraisal_{field}_state_matches_value",
        violation_error_message=(
            f"{field.replace('_', ' ').capitalize()}: give a value when reported, "
            "and none otherwise."
        ),
    )


class Concept(models.Model):
    """A reusable topic, condition or mechanism (a pathway such as HIF-1α/VEGF, an axis
    such as "blood supply") that appraisals are tagged with."""

    name = models.CharField(max_length=255)
    kind = models.CharField(max_length=16, choices=ConceptKind.choices, default=ConceptKind.TOPIC)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "name"], name="concept_unique_kind_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display().lower()})"


class Appraisal(models.Model):
    study = models.OneToOneField(
        Study, on_delete=models.CASCADE, primary_key=True, related_name="appraisal"
    )
    design = models.CharField(max_length=24, choices=StudyDesign.choices, blank=True)

    population_state = _state_field("Population")
    population = models.TextField(blank=True)
    sample_size_state = _state_field("Sample size")
    sample_size = models.PositiveIntegerField(null=True, blank=True)
    intervention_state = _state_field("Intervention")
    intervention = models.TextField(blank=True)
    comparator_state = _state_field("Comparator")
    comparator = models.TextField(blank=True)
    outcomes_state = _state_field("Outcomes")
    outcomes = models.TextField(blank=True)
    safety_state = _state_field("Safety and tolerability")
    safety = models.TextField("safety and tolerability", blank=True)
    effect_measures_state = _state_field("Effect measures")
    effect_measures = models.TextField(
        blank=True, help_text="Summary of the effect measures; the numbers go in effect sizes."
    )

    main_result = models.TextField(blank=True)
    practice_relevance = models.TextField(blank=True)
    risk_of_bias = models.CharField(max_length=16, choices=RiskOfBias.choices, blank=True)
    risk_of_bias_tool = models.CharField(max_length=24, choices=RiskOfBiasTool.choices, blank=True)
    certainty = models.CharField(
        "certainty of evidence (GRADE)", max_length=16, choices=Certainty.choices, blank=True
    )
    notes = models.TextField(blank=True)
    concepts = models.ManyToManyField(Concept, blank=True, related_name="appraisals")
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        indexes = [
            # design and certainty filters and facets.
            models.Index(fields=["design"], name="appraisal_design_idx"),
            models.Index(fields=["certainty"], name="appraisal_certainty_idx"),
        ]
        constraints = [
            *(_state_matches_value(field) for field in REPORTED_FIELDS),
            models.CheckConstraint(
                condition=Q(risk_of_bias="") | ~Q(risk_of_bias_tool=""),
                name="appraisal_risk_of_bias_names_tool",
                violation_error_message="Name the tool used to judge the risk of bias.",
            ),
        ]

    def __str__(self) -> str:
        return f"Appraisal of {self.study}"

    def clean(self) -> None:
        # The admin and API show one message per field instead of a constraint name.
        errors: dict[str, str] = {}
        for field in REPORTED_FIELDS:
            state = getattr(self, f"{field}_state")
            value = getattr(self, field)
            has_value = value is not None if field == "sample_size" else bool(value)
            if state == ReportingState.REPORTED and not has_value:
                errors[field] = "Give the value, or choose another reporting state."
            elif state != ReportingState.REPORTED and has_value:
                errors[f"{field}_state"] = "A value is given: set the state to 'Reported'."
        if self.risk_of_bias and not self.risk_of_bias_tool:
            errors["risk_of_bias_tool"] = "Name the tool used to judge the risk of bias."
        if errors:
            raise ValidationError(errors)


class EffectSize(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="effect_sizes")
    outcome = models.CharField(max_length=500)
    measure = models.CharField(max_length=8, choices=EffectMeasure.choices)
    value = models.FloatField(null=True, blank=True)
    ci_lower = models.FloatField("CI lower bound", null=True, blank=True)
    ci_upper = models.FloatField("CI upper bound", null=True, blank=True)
    ci_level = models.FloatField("CI level (%)", null=True, blank=True, default=95)
    p_value = models.FloatField(null=True, blank=True)
    n_intervention = models.PositiveIntegerField("n (intervention)", null=True, blank=True)
    n_comparator = models.PositiveIntegerField("n (comparator)", null=True, blank=True)
    timepoint = models.CharField(max_length=255, blank=True)
    certainty = models.CharField(
        "certainty (GRADE)", max_length=16, choices=Certainty.choices, blank=True
    )
    note = models.TextField(blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    history = HistoricalRecords()

    class Meta:
        ordering = ["study", "order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ci_lower__isnull=True)
                | Q(ci_upper__isnull=True)
                | Q(ci_lower__lte=models.F("ci_upper")),
                name="effect_size_ci_ordered",
                violation_error_message="The CI lower bound exceeds the upper bound.",
            ),
            models.CheckConstraint(
                condition=Q(p_value__isnull=True) | Q(p_value__gte=0, p_value__lte=1),
                name="effect_size_p_value_range",
                violation_error_message="A p-value lies between 0 and 1.",
            ),
            models.CheckConstraint(
                condition=Q(ci_level__isnull=True) | Q(ci_level__gt=0, ci_level__lt=100),
                name="effect_size_ci_level_range",
                violation_error_message="A CI level is a percentage between 0 and 100.",
            ),
        ]

    def __str__(self) -> str:
        value = "" if self.value is None else f" {self.value:g}"
        return f"{self.outcome}: {self.measure}{value}"


class Limitation(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="limitations")
    category = models.CharField(
        max_length=24, choices=LimitationCategory.choices, default=LimitationCategory.OTHER
    )
    description = models.TextField()
    raised_by = models.CharField(max_length=8, choices=RaisedBy.choices, default=RaisedBy.AUTHORS)
    order = models.PositiveSmallIntegerField(default=0)

    history = HistoricalRecords()

    class Meta:
        ordering = ["study", "order", "id"]
        indexes = [
            # Limitation list filtered by category.
            models.Index(fields=["category", "study"], name="limitation_category_idx"),
        ]

    def __str__(self) -> str:
        return self.description[:80]


class ResearchGap(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="research_gaps")
    category = models.CharField(
        max_length=24, choices=ResearchGapCategory.choices, default=ResearchGapCategory.OTHER
    )
    description = models.TextField()
    future_direction = models.TextField(blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    history = HistoricalRecords()

    class Meta:
        ordering = ["study", "order", "id"]
        indexes = [
            # Research-gap list filtered by category (gap maps).
            models.Index(fields=["category", "study"], name="research_gap_category_idx"),
        ]

    def __str__(self) -> str:
        return self.description[:80]
