"""Appraisal and its parts on their own pages (they are usually edited on the Study page)."""

from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from evidence.admin.base import BigTableAdmin, PreloadedAutocompleteMixin
from evidence.admin.study import AppraisalInline
from evidence.forms import AppraisalForm, PreloadedLabelsForm
from evidence.models import Appraisal, Concept, EffectSize, Limitation, ResearchGap


@admin.register(Concept)
class ConceptAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "description"]
    list_filter = ["kind"]
    search_fields = ["name", "description"]


class AppraisalAdminForm(AppraisalForm, PreloadedLabelsForm):
    pass


@admin.register(Appraisal)
class AppraisalAdmin(PreloadedAutocompleteMixin, SimpleHistoryAdmin, BigTableAdmin):
    form = AppraisalAdminForm
    list_display = ["study", "design", "risk_of_bias", "certainty", "updated_at"]
    list_select_related = ["study"]
    list_filter = ["design", "risk_of_bias", "certainty"]
    autocomplete_fields = ["study", "concepts"]
    fieldsets = [(None, {"fields": ["study"]}), *AppraisalInline.fieldsets]
    ordering = ["-updated_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("study")


class StudyPartAdmin(PreloadedAutocompleteMixin, SimpleHistoryAdmin, BigTableAdmin):
    """Effect sizes, limitations and research gaps listed across studies."""

    list_select_related = ["study"]
    autocomplete_fields = ["study"]
    ordering = ["-id"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("study")


class EffectSizeForm(PreloadedLabelsForm):
    class Meta:
        model = EffectSize
        fields = [
            "study",
            "outcome",
            "timepoint",
            "measure",
            "value",
            "ci_lower",
            "ci_upper",
            "ci_level",
            "p_value",
            "n_intervention",
            "n_comparator",
            "certainty",
            "note",
            "order",
        ]


@admin.register(EffectSize)
class EffectSizeAdmin(StudyPartAdmin):
    form = EffectSizeForm
    list_display = ["study", "outcome", "measure", "value", "ci_lower", "ci_upper", "certainty"]
    list_filter = ["measure", "certainty"]
    search_fields = ["outcome"]


class LimitationForm(PreloadedLabelsForm):
    class Meta:
        model = Limitation
        fields = ["study", "order", "category", "description", "raised_by"]


@admin.register(Limitation)
class LimitationAdmin(StudyPartAdmin):
    form = LimitationForm
    list_display = ["study", "category", "short_description", "raised_by"]
    list_filter = ["category", "raised_by"]
    search_fields = ["description"]

    @admin.display(description="description")
    def short_description(self, obj: Limitation) -> str:
        return str(obj)


class ResearchGapForm(PreloadedLabelsForm):
    class Meta:
        model = ResearchGap
        fields = ["study", "order", "category", "description", "future_direction"]


@admin.register(ResearchGap)
class ResearchGapAdmin(StudyPartAdmin):
    form = ResearchGapForm
    list_display = ["study", "category", "short_description"]
    list_filter = ["category"]
    search_fields = ["description", "future_direction"]

    @admin.display(description="description")
    def short_description(self, obj: ResearchGap) -> str:
        return str(obj)
